"""Every optimizer against optax applied directly in plain JAX: identical trajectories."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import layers as L
import symbolic as S
from layers.optimizers import REGISTRY

A = np.array([[3.0, 1.0], [1.0, 2.0]], "float32")


def _loss(w, v):
    return 0.5 * w @ A @ w + jnp.sum(jnp.sin(v)) + jnp.sum(w) * jnp.sum(v ** 2)


def _reference(tx, w0, v0, n):
    params = [jnp.asarray(w0), jnp.asarray(v0)]
    state = tx.init(params)

    @jax.jit
    def step(params, state):
        grads = jax.grad(lambda p: _loss(*p))(params)
        upd, state = tx.update(grads, state, params)
        return optax.apply_updates(params, upd), state

    out = []
    for _ in range(n):
        params, state = step(params, state)
        out.append([np.asarray(p) for p in params])
    return out


def _symbolic(make_updates, w0, v0, n):
    w = S.Variable(w0, name="w")
    v = S.Variable(v0, name="v")
    loss = S.wrap(_loss)(w, v)
    f = S.function([], loss, updates=make_updates(loss, [w, v]))
    out = []
    for _ in range(n):
        f()
        out.append([w.value, v.value])
    assert f.n_compilations == 1
    return out


CASES = [(name, None) for name in sorted(REGISTRY)] + [
    (name, clip) for name in ("sgd", "adam") for clip in ("norm", "value")]


@pytest.mark.parametrize(("name", "clip"), CASES)
def test_trajectory_equals_optax(name, clip, rng):
    ours, factory, hyper = REGISTRY[name]
    w0 = rng.normal(size=2).astype("float32")
    v0 = rng.normal(size=(3,)).astype("float32")
    kwargs = {"clip_norm": 0.5} if clip == "norm" else {"clip_value": 0.3} if clip else {}
    chain = [optax.clip_by_global_norm(0.5)] if clip == "norm" else (
        [optax.clip(0.3)] if clip else [])
    tx = optax.chain(*chain, factory(0.05, **hyper))
    ref = _reference(tx, w0, v0, 12)
    got = _symbolic(lambda loss, ps: ours(loss, ps, learning_rate=0.05, **kwargs, **hyper),
                    w0, v0, 12)
    for (rw, rv), (gw, gv) in zip(ref, got):
        np.testing.assert_allclose(gw, rw, rtol=2e-6, atol=1e-7)
        np.testing.assert_allclose(gv, rv, rtol=2e-6, atol=1e-7)


def test_scheduled_learning_rate_equals_optax_schedule(rng):
    w0 = rng.normal(size=2).astype("float32")
    v0 = rng.normal(size=(3,)).astype("float32")
    sched = optax.cosine_decay_schedule(0.1, 10)
    ref = _reference(optax.adam(sched), w0, v0, 10)
    t = L.schedules.step()

    def make(loss, ps):
        ups = L.adam(loss, ps, learning_rate=L.schedules.cosine(t, init=0.1, decay_steps=10))
        ups[t] = t + 1
        return ups

    got = _symbolic(make, w0, v0, 10)
    for (rw, rv), (gw, gv) in zip(ref, got):
        np.testing.assert_allclose(gw, rw, rtol=2e-6, atol=1e-7)
        np.testing.assert_allclose(gv, rv, rtol=2e-6, atol=1e-7)


def test_state_variables_and_gradients_input(rng):
    w = S.Variable(np.ones(3, "float32"), name="w")
    g = S.placeholder((3,))
    opt = L.Optimizer(optax.adam, learning_rate=0.1, name="opt")
    ups = opt.updates([g], [w])
    assert all("optimizer_state" in s.tags and not s.trainable for s in opt.state)
    assert set(ups) == {w, *opt.state}
    f = S.function([g], [], updates=ups)
    f(np.ones(3, "float32"))
    np.testing.assert_allclose(w.value, 0.9 * np.ones(3), rtol=1e-5)  # Adam's first step = lr
    opt.reset()
    assert all(np.all(s.value == s._initial) for s in opt.state)


def test_ema_matches_formula(rng):
    w = S.Variable(np.zeros(2, "float32"), name="w")
    shadows, ups = L.ema([w], decay=0.9)
    ups[w] = w + 1.0
    f = S.function([], [], updates=ups)
    ref = np.zeros(2)
    for k in range(5):
        f()
        ref = 0.9 * ref + 0.1 * k  # the shadow sees the pre-update value
    np.testing.assert_allclose(shadows[0].value, ref, rtol=1e-6)
    x = S.placeholder(())
    g = S.function([x], w * x, givens={w: shadows[0]})
    np.testing.assert_allclose(np.asarray(g(2.0)), 2 * ref, rtol=1e-6)


def test_optimizer_errors():
    w = S.Variable(np.ones(2, "float32"), name="w")
    i = S.Variable(np.ones(2, "int32"), name="i")
    with pytest.raises(L.LayersError, match="adam: params is empty"):
        L.adam((w ** 2).sum(), [], learning_rate=0.1)
    with pytest.raises(L.LayersError, match="adam: params\\[0\\] 'i' has dtype int32"):
        L.adam((w ** 2).sum(), [i], learning_rate=0.1)
    with pytest.raises(L.LayersError, match="sgd: loss must be a scalar; got shape \\(2,\\)"):
        L.sgd(w ** 2, [w], learning_rate=0.1)
    with pytest.raises(L.LayersError, match="sgd: learning_rate must be a non-negative number"):
        L.sgd((w ** 2).sum(), [w], learning_rate=-1)
    with pytest.raises(L.LayersError, match="sgd: clip_norm must be positive or None; got 0"):
        L.sgd((w ** 2).sum(), [w], learning_rate=0.1, clip_norm=0)
    with pytest.raises(L.LayersError, match="sgd: got 2 gradients for 1 params"):
        L.sgd([w, w], [w], learning_rate=0.1)
    with pytest.raises(L.LayersError, match=r"ema: decay must lie in \[0, 1\); got 1"):
        L.ema([w], decay=1)
