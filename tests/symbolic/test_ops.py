"""The NumPy-like namespace and the nn / linalg / fft namespaces against NumPy and SciPy."""

import numpy as np
import pytest
import scipy.special

import symbolic as S


def test_every_listed_name_is_exposed():
    for name in S.ops.NAMES:
        assert callable(getattr(S, name)), name
    for module in (S.nn, S.linalg, S.fft):
        for name in module.NAMES:
            assert callable(getattr(module, name)), (module.__name__, name)


@pytest.mark.parametrize(
    "name,ref",
    [
        ("exp", np.exp),
        ("log1p", np.log1p),
        ("tanh", np.tanh),
        ("sqrt", np.sqrt),
        ("cumsum", np.cumsum),
        ("sort", np.sort),
        ("square", np.square),
    ],
)
def test_unary_against_numpy(name, ref, rng):
    v = rng.uniform(0.1, 2, size=(7,)).astype("float32")
    x = S.placeholder((None,))
    np.testing.assert_allclose(S.function([x], getattr(S, name)(x))(v), ref(v), rtol=2e-6)


def test_structural_ops(rng):
    a = rng.normal(size=(2, 3)).astype("float32")
    b = rng.normal(size=(2, 3)).astype("float32")
    x, y = S.placeholder((None, 3)), S.placeholder((None, 3))
    outs = [
        S.concatenate([x, y], axis=1),
        S.stack([x, y]),
        S.maximum(x, y),
        S.where(x > 0, x, y),
        S.einsum("ij,kj->ik", x, y),
        S.transpose(x),
        S.pad(x, ((1, 0), (0, 2))),
    ]
    refs = [
        np.concatenate([a, b], 1),
        np.stack([a, b]),
        np.maximum(a, b),
        np.where(a > 0, a, b),
        a @ b.T,
        a.T,
        np.pad(a, ((1, 0), (0, 2))),
    ]
    got = S.function([x, y], outs)(a, b)
    for g, r in zip(got, refs):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-6)


def test_nn_namespace(rng):
    v = rng.normal(size=(4, 5)).astype("float32")
    x = S.placeholder((None, 5))
    outs = [
        S.nn.relu(x),
        S.nn.softplus(x),
        S.nn.sigmoid(x),
        S.nn.log_softmax(x, axis=1),
        S.nn.softmax(x, axis=-1),
        S.nn.leaky_relu(x, 0.1),
    ]
    refs = [
        np.maximum(v, 0),
        np.logaddexp(0, v),
        scipy.special.expit(v),
        scipy.special.log_softmax(v, axis=1),
        scipy.special.softmax(v, axis=-1),
        np.where(v > 0, v, 0.1 * v),
    ]
    for g, r in zip(S.function([x], outs)(v), refs):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-6)
    one_hot = S.nn.one_hot(S.placeholder((None,), "int32", name="i"), 4)
    assert one_hot.shape == (None, 4)


def test_linalg_namespace(rng):
    m = rng.normal(size=(4, 4)).astype("float32")
    spd = m @ m.T + 4 * np.eye(4, dtype="float32")
    rhs = rng.normal(size=(4,)).astype("float32")
    a, b = S.placeholder((4, 4)), S.placeholder((4,))
    sol, inv, logdet, chol = S.function(
        [a, b],
        [S.linalg.solve(a, b), S.linalg.inv(a), S.linalg.slogdet(a)[1], S.linalg.cholesky(a)],
    )(spd, rhs)
    np.testing.assert_allclose(sol, np.linalg.solve(spd, rhs), rtol=1e-4)
    np.testing.assert_allclose(inv, np.linalg.inv(spd), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(logdet, np.linalg.slogdet(spd)[1], rtol=1e-5)
    np.testing.assert_allclose(chol, np.linalg.cholesky(spd), rtol=1e-4, atol=1e-5)
    u, s, vt = S.linalg.svd(a)
    assert u.shape == (4, 4) and s.shape == (4,)


def test_fft_namespace(rng):
    v = rng.normal(size=(3, 16)).astype("float32")
    x = S.placeholder((None, 16))
    spec = S.fft.rfft(x, axis=-1)
    assert spec.shape == (None, 9) and spec.dtype == np.complex64
    back = S.fft.irfft(spec, n=16, axis=-1)
    got_spec, got_back = S.function([x], [spec, back])(v)
    np.testing.assert_allclose(got_spec, np.fft.rfft(v, axis=-1), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got_back, v, atol=1e-5)
