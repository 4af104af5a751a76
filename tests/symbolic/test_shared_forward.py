"""Derivatives share the forward pass they differentiate (symbolic.plan).

A compiled step that holds gradients must compile to the program hand-written JAX gives: the
differentiated graph evaluated once, one linearization per differentiated region. The op
counts of the compiled HLO are compared with those of the same step written with
``jax.value_and_grad`` / ``jax.vjp``.
"""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import layers as L
import symbolic as S
from layers import ssl
from symbolic.plan import Plan


def _hlo_count(jitted, *args, op="convolution"):
    text = jitted.lower(*args).compile().as_text()
    return len(re.findall(rf"= \S+ {op}\(", text))


def _step_count(fn, op="convolution"):
    """Count ``op`` in the compiled program of a symbolic function's step."""
    mutable, constant = fn.state()
    return lambda *inputs: _hlo_count(jax.jit(fn._program.pure), mutable, constant, inputs,
                                      op=op)


def _equations(jaxpr, name):
    """Equations of primitive ``name`` in a jaxpr, nested ones included."""
    n = 0
    for eqn in jaxpr.eqns:
        n += eqn.primitive.name == name
        for value in eqn.params.values():
            for sub in value if isinstance(value, (list, tuple)) else (value,):
                inner = getattr(sub, "jaxpr", sub)
                if hasattr(inner, "eqns"):
                    n += _equations(inner, name)
    return n


def _traced_count(fn, *inputs, name):
    mutable, constant = fn.state()
    return _equations(jax.make_jaxpr(fn._program.pure)(mutable, constant, inputs).jaxpr, name)


# -- a small CNN with a multiscale reconstruction term, both ways ----------------------------
STRIDES = (2, 1)


def _conv(h, w, stride):
    return jax.lax.conv_general_dilated(h, w, (stride, stride), "SAME" if stride == 2 else
                                        "VALID", dimension_numbers=("NCHW", "OIHW", "NCHW"))


def _rec_error(h, r):
    axes = tuple(range(1, h.ndim))
    err = jnp.sum((h - r) ** 2, axes) / (jnp.sum(jax.lax.stop_gradient(h) ** 2, axes) + 1e-6)
    return jnp.mean(err)


def _hand_loss(params, x, y):
    """Cross-entropy + multiscale inversion reconstruction, hand-written: one ``jax.vjp``
    of the logits with respect to zero probes added to the inputs of the weighted layers.
    Batch norm (batch statistics) after the first convolution."""

    def logits_from(probes):
        h = x + probes[0]
        inputs = [h]
        for i, s in enumerate(STRIDES):
            h = _conv(h, params[f"conv{i}"], s)
            if i == 0:
                mean, var = jnp.mean(h, (0, 2, 3)), jnp.var(h, (0, 2, 3))
                h = (h - mean[:, None, None]) / jnp.sqrt(var[:, None, None] + 1e-5)
                h = h * params["gamma"][:, None, None] + params["beta"][:, None, None]
            h = jax.nn.relu(h)
            if i == 0:
                h = h + probes[1]
                inputs.append(h)
        h = jnp.mean(h, (2, 3)) + probes[2]
        inputs.append(h)
        return h @ params["dense"] + params["bias"], inputs

    shapes = [x.shape, (x.shape[0], 3, 4, 4), (x.shape[0], 4)]
    logits, pullback, inputs = jax.vjp(logits_from, [jnp.zeros(s) for s in shapes],
                                       has_aux=True)
    (recs,) = pullback(jax.lax.stop_gradient(jax.nn.softmax(logits)))
    ce = -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], 1))
    rec = sum(_rec_error(h, r) for h, r in zip(inputs, recs)) / 3
    return ce + rec, logits


def _layers_net():
    conv0 = L.Conv2D((None, 1, 8, 8), 3, 3, stride=2, padding="same", b=None, seed=0)
    norm = L.BatchNorm(conv0)
    relu0 = L.MaxAffine(norm, init="relu", learnable=False)
    conv1 = L.Conv2D(relu0, 4, 3, padding="valid", b=None, seed=1)
    relu1 = L.MaxAffine(conv1, init="relu", learnable=False)
    pool = L.GlobalPool(relu1, mode="mean")
    dense = L.Dense(pool, 5, seed=2)
    norm.gamma.value = np.array([1.0, 1.5, 0.5], "float32")  # off their initial values
    norm.beta.value = np.array([0.1, -0.2, 0.3], "float32")
    net = L.Sequential([conv0, norm, relu0, conv1, relu1, pool, dense])
    params = [conv0.W, norm.gamma, norm.beta, conv1.W, dense.W, dense.b]
    names = ["conv0", "gamma", "beta", "conv1", "dense", "bias"]
    return net, params, names


@pytest.fixture
def batch(rng):
    x = rng.uniform(size=(6, 1, 8, 8)).astype("float32")
    y = rng.integers(0, 5, size=6).astype("int32")
    return x, y


def test_ssl_training_step_matches_the_hand_written_step(batch):
    # same loss, same gradients, and the compiled step holds the hand-written step's
    # convolutions: the network and its reconstruction pass are evaluated once, not again
    # by the gradient nodes (which made 16 convolutions here against 11)
    x_value, y_value = batch
    net, params, names = _layers_net()
    x = S.placeholder((6, 1, 8, 8), name="x")
    y = S.placeholder((6,), "int32", name="y")
    logits, inputs, probes = ssl.probed_forward(net, x, scales=[0, 3, 6])
    recs = ssl.reconstructions(logits, probes)
    rec = sum(ssl.reconstruction_error(h, r) for h, r in zip(inputs, recs)) / 3
    total = L.softmax_cross_entropy(logits, y) + rec
    step = S.function([x, y], [total, *S.grad(total, params)])

    hand = {k: p.value for k, p in zip(names, params)}

    def hand_step(p, xv, yv):
        (loss, _), g = jax.value_and_grad(_hand_loss, has_aux=True)(p, xv, yv)
        return loss, [g[k] for k in names]

    ref_loss, ref_grads = jax.jit(hand_step)(hand, x_value, y_value)
    got = step(x_value, y_value)
    np.testing.assert_allclose(float(got[0]), float(ref_loss), rtol=1e-5)
    for g, r in zip(got[1:], ref_grads):
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-6)
    n_hand = _hlo_count(jax.jit(hand_step), hand, x_value, y_value)
    assert n_hand >= 8  # forward, reconstruction pass, and the backward of both
    assert _step_count(step)(x_value, y_value) == n_hand
    # and so does the traced program (before XLA's simplifications)
    hand_jaxpr = jax.make_jaxpr(hand_step)(hand, x_value, y_value).jaxpr
    assert _traced_count(step, x_value, y_value, name="conv_general_dilated") == \
        _equations(hand_jaxpr, "conv_general_dilated")


def _mlp_graph():
    x = S.placeholder((None, 4), name="x")
    w1 = S.Variable(np.linspace(-1, 1, 12, dtype="float32").reshape(4, 3), name="w1")
    w2 = S.Variable(np.linspace(1, -1, 6, dtype="float32").reshape(3, 2), name="w2")
    loss = (S.tanh(S.tanh(x @ w1) @ w2) ** 2).mean()
    return x, w1, w2, loss


def test_loss_and_gradients_compile_to_value_and_grad(rng):
    x, w1, w2, loss = _mlp_graph()
    xv = rng.normal(size=(5, 4)).astype("float32")
    g1, g2 = S.grad(loss, [w1, w2])
    both = S.function([x], [loss, g1, g2])
    # two gradient nodes of one cost: one forward, one backward pass
    split = S.function([x], [loss, S.grad(loss, w1), S.grad(loss, w2)])

    def hand(w, xv):
        return jax.value_and_grad(lambda w: jnp.mean(jnp.tanh(jnp.tanh(xv @ w[0]) @ w[1]) ** 2)
                                  )(w)

    w = (w1.value, w2.value)
    n_hand = _hlo_count(jax.jit(hand), w, xv, op="tanh")
    assert n_hand == 2
    assert _step_count(both, op="tanh")(xv) == n_hand
    assert _step_count(split, op="tanh")(xv) == n_hand
    # traced: the two tanh of the forward pass, once (the backward reuses their values)
    assert _traced_count(both, xv, name="tanh") == _traced_count(split, xv, name="tanh") == 2
    ref_loss, ref_grads = hand(w, xv)
    for got in (both(xv), split(xv)):
        np.testing.assert_allclose(float(got[0]), float(ref_loss), rtol=1e-6)
        for g, r in zip(got[1:], ref_grads):
            np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-7)


def test_grad_of_grad_shares_the_first_order_pass():
    x = S.placeholder(())
    y = S.sin(x) * S.exp(x)
    g = S.grad(y, x)
    gg = S.grad(g, x)
    f = S.function([x], [y, g, gg])
    v = 0.4
    got = [float(a) for a in f(v)]
    ref = [np.sin(v) * np.exp(v), (np.cos(v) + np.sin(v)) * np.exp(v), 2 * np.cos(v) * np.exp(v)]
    np.testing.assert_allclose(got, ref, rtol=1e-5)
    # the hand-written program: value_and_grad of value_and_grad

    def first(v):
        value, grad = jax.value_and_grad(lambda v: jnp.sin(v) * jnp.exp(v))(v)
        return grad, value

    def hand(v):
        (grad, value), second = jax.value_and_grad(first, has_aux=True)(v)
        return value, grad, second

    for op in ("sine", "cosine", "exponential"):
        n_hand = _hlo_count(jax.jit(hand), np.float32(v), op=op)
        assert _step_count(f, op=op)(np.float32(v)) == n_hand, op
    hand_jaxpr = jax.make_jaxpr(hand)(np.float32(v)).jaxpr
    for name in ("sin", "exp"):
        assert _traced_count(f, np.float32(v), name=name) == _equations(hand_jaxpr, name)


def test_mixed_forward_and_reverse_members_and_jacobians(rng):
    a = rng.normal(size=(4, 3)).astype("float32")
    x = S.placeholder((3,))
    t = S.placeholder((3,))
    c = S.placeholder((4,))
    y = S.sin(S.constant(a) @ x)
    jr = S.jacobian(y, x)
    jf = S.jacobian(y, x, mode="forward")
    energy = (y ** 2).sum()
    f = S.function([x, t, c], [y, S.jvp(y, x, t), S.vjp(y, x, c), jr, jf,
                               S.hessian(energy, x),
                               S.jacobian(S.grad(energy, x), x, mode="forward")])
    xv, tv, cv = (rng.normal(size=n).astype("float32") for n in (3, 3, 4))
    yv, jvp_v, vjp_v, jr_v, jf_v, hess, hess_fwd = f(xv, tv, cv)
    jac = np.cos(a @ xv)[:, None] * a
    np.testing.assert_allclose(yv, np.sin(a @ xv), rtol=1e-5)
    np.testing.assert_allclose(jvp_v, jac @ tv, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(vjp_v, cv @ jac, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(jr_v, jac, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(jf_v, jac, rtol=1e-5, atol=1e-6)
    ref = jax.hessian(lambda z: jnp.sum(jnp.sin(a @ z) ** 2))(xv)
    np.testing.assert_allclose(hess, ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(hess_fwd, ref, rtol=1e-4, atol=1e-5)
    plan = f._program.plan
    assert plan.shared  # one group for all of them, not a fallback


def test_vjp_wrt_chained_tensors_keeps_cut_semantics():
    # b is computed from a: vjp treats both as inputs (the path a -> b is cut), while grad
    # counts every path. b's value depends on a's, so it cannot be an input of a
    # linearization with respect to a: the vjp is evaluated on its own, still correctly.
    x = S.placeholder(())
    a = S.sin(x)
    b = a * 3.0
    y = a * b
    ga, gb = S.vjp(y, [a, b], S.constant(1.0))
    full = S.grad(y, a)
    v = 0.3
    got = [float(z) for z in S.function([x], [ga, gb, full, y])(v)]
    av = np.sin(v)
    np.testing.assert_allclose(got, [3 * av, av, 6 * av, 3 * av * av], rtol=1e-6)


def test_conflicting_derivatives_are_not_merged():
    # grad wrt h1 goes through h2; vjp wrt h2 cuts there: two linearizations
    x = S.placeholder(())
    h1 = x * 2.0
    h2 = S.sin(h1)
    cost = h2 * h1
    g1 = S.grad(cost, h1)
    g2 = S.vjp(cost, h2, S.constant(1.0))
    v = 0.3
    got = [float(z) for z in S.function([x], [g1, g2])(v)]
    h = 2 * v
    np.testing.assert_allclose(got, [np.cos(h) * h + np.sin(h), h], rtol=1e-6)


def test_clone_takes_the_derivative_of_the_copy():
    x = S.placeholder((), name="x")
    h = x * 2.0
    y = h ** 3
    g = S.grad(y, x)
    z = S.placeholder((), name="z")
    # replace an inner tensor of the differentiated graph: the gradient follows the copy
    g2 = S.clone(g, replace={h: x * z})
    assert g2.inputs[0].derivative is not None
    got = float(S.function([x, z], g2)(1.5, 3.0))
    np.testing.assert_allclose(got, 3 * (1.5 * 3.0) ** 2 * 3.0, rtol=1e-6)
    assert float(S.function([x], g)(1.5)) == pytest.approx(3 * 9.0 * 2.0)


def test_gradients_inside_control_flow(rng):
    # per-example gradients with S.map: each body's gradient shares the body's forward
    w = S.Variable(rng.normal(size=3).astype("float32"), name="w")
    xs = S.placeholder((None, 3), name="xs")

    def body(xi):
        loss = S.tanh(xi @ w) ** 2
        return [loss, S.grad(loss, w)]

    losses, grads = S.map(body, xs)
    xv = rng.normal(size=(4, 3)).astype("float32")
    got_l, got_g = S.function([xs], [losses, grads])(xv)
    wv = w.value
    ref = jax.vmap(jax.value_and_grad(lambda wv, xi: jnp.tanh(xi @ wv) ** 2), (None, 0))(wv, xv)
    np.testing.assert_allclose(got_l, ref[0], rtol=1e-5)
    np.testing.assert_allclose(got_g, ref[1], rtol=1e-5, atol=1e-7)


def test_random_values_inside_the_region_are_drawn_once():
    w = S.Variable(1.5, name="w")
    noise = S.random.normal(like=w * 1.0, seed=3)  # the key's sample depends on w's region
    y = w * noise
    f = S.function([], [noise, y, S.grad(y, w)])
    n, yv, g = (float(v) for v in f())
    assert yv == pytest.approx(1.5 * n) and g == pytest.approx(n)


def test_plan_of_a_graph_without_derivatives_is_the_node_order():
    x = S.placeholder((2,))
    y = S.exp(x) + 1.0
    plan = Plan([y.inputs[0], y])
    assert [step[1] for step in plan.steps] == [y.inputs[0], y]
