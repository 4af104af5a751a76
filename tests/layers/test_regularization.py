import numpy as np
import pytest

import layers as L
import symbolic as S


def test_l1_l2(rng):
    a, b = rng.normal(size=(3, 2)), rng.normal(size=4)
    va, vb = S.Variable(a), S.Variable(b)
    np.testing.assert_allclose(float(L.l2([va, vb]).eval()), (a ** 2).sum() + (b ** 2).sum(),
                               rtol=1e-5)
    np.testing.assert_allclose(float(L.l1([va, vb]).eval()), np.abs(a).sum() + np.abs(b).sum(),
                               rtol=1e-5)


def test_orthogonality_penalty(rng):
    q, _ = np.linalg.qr(rng.normal(size=(6, 4)))
    assert float(L.orthogonality(q.astype("float32"))) < 1e-10  # orthonormal columns (Dense)
    w = rng.normal(size=(5, 2, 3)).astype("float32")  # conv filters along axis 0
    f = w.reshape(5, -1)
    gram = f @ f.T
    ref = (gram ** 2).sum() - (np.diag(gram) ** 2).sum()
    np.testing.assert_allclose(float(L.orthogonality(w)), ref, rtol=1e-4)
    fn = f / np.linalg.norm(f, axis=1, keepdims=True)
    gn = fn @ fn.T
    np.testing.assert_allclose(float(L.orthogonality(w, normalize=True)),
                               (gn ** 2).sum() - 5, rtol=1e-4)
    # driving it down with gradient descent orthogonalises a dense layer's templates
    dense = L.Dense((None, 6), 3)
    pen = L.orthogonality(dense.W, normalize=True)
    step = S.function([], pen, updates=L.sgd(pen, [dense.W], learning_rate=0.1))
    first = float(step())
    for _ in range(100):
        last = float(step())
    assert last < 1e-3 * first


def test_regularization_errors():
    with pytest.raises(L.LayersError, match="l2: params is empty"):
        L.l2([])
    with pytest.raises(L.LayersError,
                       match=r"orthogonality: weights need 2\+ dims; got shape \(3,\)"):
        L.orthogonality(np.zeros(3, "float32"))
