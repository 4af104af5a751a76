import jax
import jax.numpy as jnp
import numpy as np
import pytest

import symbolic as S


def _mlp_loss(w1, b1, w2, x, y):
    h = jnp.tanh(x @ w1 + b1)
    return jnp.mean((h @ w2 - y) ** 2)


def test_grad_matches_jax_grad(rng):
    w1v, b1v, w2v = (rng.normal(size=s).astype("float32") for s in [(3, 5), (5,), (5, 2)])
    xv, yv = rng.normal(size=(8, 3)).astype("float32"), rng.normal(size=(8, 2)).astype("float32")
    x, y = S.placeholder((None, 3)), S.placeholder((None, 2))
    w1, b1, w2 = S.Variable(w1v), S.Variable(b1v), S.Variable(w2v)
    loss = ((S.tanh(x @ w1 + b1) @ w2 - y) ** 2).mean()
    grads = S.grad(loss, [w1, b1, w2])
    assert [g.shape for g in grads] == [(3, 5), (5,), (5, 2)]
    got = S.function([x, y], grads)(xv, yv)
    ref = jax.grad(_mlp_loss, argnums=(0, 1, 2))(w1v, b1v, w2v, xv, yv)
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-6)


def test_grad_single_returns_single_and_wrt_intermediate():
    x = S.placeholder(())
    h = x * 3.0
    y = h**2
    gh = S.grad(y, h)
    assert isinstance(gh, S.Tensor)
    assert float(S.function([x], gh)(2.0)) == pytest.approx(12.0)  # dy/dh = 2h = 12


def test_grad_of_grad_and_hessian():
    x = S.placeholder(())
    y = S.sin(x) * x
    g = S.grad(y, x)
    gg = S.grad(g, x)
    f = S.function([x], [g, gg])
    v = 0.7
    got_g, got_gg = f(v)
    np.testing.assert_allclose(got_g, np.cos(v) * v + np.sin(v), rtol=1e-6)
    np.testing.assert_allclose(got_gg, -np.sin(v) * v + 2 * np.cos(v), rtol=1e-5)
    w = S.placeholder((3,))
    quad = (w * w * S.constant(np.array([1.0, 2.0, 3.0], "float32"))).sum()
    np.testing.assert_allclose(
        S.hessian(quad, w).eval({w: np.ones(3, "float32")}), np.diag([2.0, 4.0, 6.0]), atol=1e-6
    )


def test_jacobian_both_modes(rng):
    a = rng.normal(size=(4, 3)).astype("float32")
    x = S.placeholder((3,))
    y = S.tanh(S.constant(a) @ x)
    v = rng.normal(size=3).astype("float32")
    ref = jax.jacrev(lambda z: jnp.tanh(a @ z))(v)
    for mode in ("reverse", "forward"):
        jac = S.jacobian(y, x, mode=mode)
        assert jac.shape == (4, 3)
        np.testing.assert_allclose(jac.eval({x: v}), ref, rtol=1e-5, atol=1e-6)


def test_jvp_vjp(rng):
    a = rng.normal(size=(4, 3)).astype("float32")
    x = S.placeholder((3,))
    t = S.placeholder((3,))
    c = S.placeholder((4,))
    y = S.sin(S.constant(a) @ x)
    xv, tv, cv = (rng.normal(size=n).astype("float32") for n in (3, 3, 4))
    f = S.function([x, t, c], [S.jvp(y, x, t), S.vjp(y, x, c)])
    got_jvp, got_vjp = f(xv, tv, cv)
    jac = np.cos(a @ xv)[:, None] * a
    np.testing.assert_allclose(got_jvp, jac @ tv, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_vjp, cv @ jac, rtol=1e-5, atol=1e-6)


def test_stop_gradient():
    x = S.placeholder(())
    y = x * S.stop_gradient(x)
    assert float(S.function([x], S.grad(y, x))(3.0)) == pytest.approx(3.0)


def test_grad_errors():
    x = S.placeholder((None, 2), name="x")
    w = S.Variable(np.ones(2, "float32"), name="w")
    z = S.Variable(np.ones(2, "float32"), name="unused")
    with pytest.raises(
        S.SymbolicError, match=r"cost 'matmul' must be a scalar; got shape \(None,\)"
    ):
        S.grad(x @ w, w)
    with pytest.raises(S.SymbolicError, match=r"does not depend on \['unused'\]"):
        S.grad((x @ w).sum(), [w, z])
    gz = S.grad((x @ w).sum(), [w, z], disconnected_inputs="ignore")[1]
    np.testing.assert_array_equal(S.function([x], gz)(np.ones((1, 2), "float32")), 0)
    i = S.placeholder((), "int32", name="i")
    with pytest.raises(S.SymbolicError, match="'i' of dtype int32"):
        S.grad((x @ w).sum(), i)


def test_grad_wrt_chained_intermediates_includes_all_paths():
    """Theano semantics: d cost / d h1 counts the path through h2 even when h2 is also in wrt."""
    x = S.placeholder(())
    h1 = x * 2.0
    h2 = S.sin(h1)
    cost = h2 * h1
    g1, g2 = S.grad(cost, [h1, h2])
    g2_alone, g1_alone = S.grad(cost, [h2, h1])
    v = 0.3
    out = [float(a) for a in S.function([x], [g1, g2, g1_alone, g2_alone])(v)]
    h = 2 * v
    np.testing.assert_allclose(out[0], np.cos(h) * h + np.sin(h), rtol=1e-6)
    np.testing.assert_allclose(out[1], h, rtol=1e-6)
    np.testing.assert_allclose(out[2:], out[:2], rtol=1e-6)


def test_grad_with_unknown_sizes_related_by_a_reshape(rng):
    """Gradients take their tensors' shapes: a graph whose unknown sizes are related (a
    batch ``b`` and ``3 b`` after a reshape, mixed again downstream) differentiates, where
    inferring the gradient's shape with independent stand-in sizes would fail; values equal
    jax.grad's."""
    x = S.placeholder((None, 3, 4), name="x")
    m = S.placeholder((None, 3), name="m")
    w = S.Variable(rng.normal(size=(4, 2)).astype("float32"), name="w")
    h = S.tanh(x.reshape((-1, 4)) @ w)  # (3 b, 2)
    both = S.concatenate([h.reshape((-1, 6)), S.repeat(m, 2, axis=1)], axis=1)  # (b, 12)
    cost = (both ** 2).sum()
    g = S.grad(cost, [w, m])  # x, reshaped, enters as a constant
    assert [t.shape for t in g] == [(4, 2), (None, 3)]
    assert [t.dtype for t in g] == [np.float32, np.float32]
    xv = rng.normal(size=(5, 3, 4)).astype("float32")
    mv = rng.normal(size=(5, 3)).astype("float32")
    got = S.function([x, m], g)(xv, mv)

    def ref(wv, mv):
        hv = jnp.tanh(xv.reshape(-1, 4) @ wv)
        return (jnp.concatenate([hv.reshape(-1, 6), jnp.repeat(mv, 2, axis=1)], 1) ** 2).sum()

    want = jax.jit(jax.grad(ref, argnums=(0, 1)))(w.value, mv)
    for a, b in zip(got, want):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
