import numpy as np
import pytest

import symbolic as S


def test_scan_cumulative_sum_with_non_sequence(rng):
    v = rng.normal(size=(6, 3)).astype("float32")
    x = S.placeholder((None, 3))
    scale = S.placeholder(())
    out = S.scan(
        lambda xt, acc, s: acc + s * xt,
        sequences=x,
        outputs_info=S.zeros(3, "float32"),
        non_sequences=scale,
    )
    assert out.shape == (None, 3)
    np.testing.assert_allclose(
        S.function([x, scale], out)(v, 2.0), np.cumsum(2 * v, axis=0), rtol=1e-5
    )


def test_scan_multiple_outputs_and_reverse():
    x = S.placeholder((None,))
    outs = S.scan(
        lambda xt, acc: [acc + xt, xt * 2],
        sequences=x,
        outputs_info=[S.constant(0.0), None],
        reverse=True,
    )
    v = np.array([1.0, 2.0, 3.0], "float32")
    acc, doubled = S.function([x], outs)(v)
    np.testing.assert_allclose(acc, [6.0, 5.0, 3.0])
    np.testing.assert_allclose(doubled, [2.0, 4.0, 6.0])


def test_scan_uses_outer_tensors_and_is_differentiable(rng):
    """An RNN: h_t = tanh(W h_{t-1} + x_t); gradient w.r.t. W against finite differences."""
    wv = (0.5 * rng.normal(size=(3, 3))).astype("float64").astype("float32")
    xv = rng.normal(size=(5, 3)).astype("float32")
    x = S.placeholder((None, 3))
    w = S.Variable(wv)
    hs = S.scan(lambda xt, h: S.tanh(h @ w + xt), sequences=x, outputs_info=S.zeros(3, "float32"))
    loss = (hs[-1] ** 2).sum()
    g = S.function([x], S.grad(loss, w))(xv)

    def numpy_loss(wm):
        h = np.zeros(3)
        for t in range(5):
            h = np.tanh(h @ wm + xv[t])
        return (h**2).sum()

    eps = 1e-4
    fd = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            d = np.zeros((3, 3))
            d[i, j] = eps
            fd[i, j] = (numpy_loss(wv + d) - numpy_loss(wv - d)) / (2 * eps)
    np.testing.assert_allclose(g, fd, rtol=2e-3, atol=2e-4)


def test_scan_n_steps_without_sequences():
    out = S.scan(lambda a: a * 2.0, outputs_info=S.constant(1.0), n_steps=4)
    np.testing.assert_allclose(S.function([], out)(), [2, 4, 8, 16])


def test_scan_errors():
    x = S.placeholder((None,))
    with pytest.raises(S.SymbolicError, match="recurrent output 0 has shape"):
        S.scan(lambda xt, a: S.stack([a, a]), sequences=x, outputs_info=S.constant(0.0))
    with pytest.raises(S.SymbolicError, match="give sequences or n_steps"):
        S.scan(lambda: S.constant(1.0))
    with pytest.raises(S.SymbolicError, match="fn returned 1 outputs but outputs_info has 2"):
        S.scan(lambda xt, a: a + xt, sequences=x, outputs_info=[S.constant(0.0), None])


def test_map_matches_loop(rng):
    v = rng.normal(size=(4, 5)).astype("float32")
    x = S.placeholder((None, 5))
    w = S.placeholder((5,))
    out = S.map(lambda row, ww: (row * ww).sum(), x, non_sequences=w)
    wv = rng.normal(size=5).astype("float32")
    np.testing.assert_allclose(S.function([x, w], out)(v, wv), v @ wv, rtol=1e-5)


def test_cond_branches_and_outer_tensors():
    p = S.placeholder((), "bool")
    x = S.placeholder((2,))
    outer = x * 10
    out = S.cond(p, lambda a: a + 1.0, lambda a: outer - a, x)
    f = S.function([p, x], out)
    v = np.array([1.0, 2.0], "float32")
    np.testing.assert_allclose(f(True, v), v + 1)
    np.testing.assert_allclose(f(False, v), 9 * v)
    with pytest.raises(S.SymbolicError, match="output 0 differs between branches"):
        S.cond(p, lambda a: a, lambda a: a.sum(), x)


def test_while_loop():
    n = S.placeholder((), "int32")
    i, total = S.while_loop(
        lambda i, t: i < n, lambda i, t: [i + 1, t + i], [S.constant(0), S.constant(0)]
    )
    got_i, got_t = S.function([n], [i, total])(5)
    assert int(got_i) == 5 and int(got_t) == 10
