import numpy as np
import optax
import pytest

import layers as L
import symbolic as S


def test_softmax_cross_entropy_vs_optax(rng):
    logits = rng.normal(size=(6, 4)).astype("float32")
    labels = rng.integers(0, 4, 6).astype("int32")
    ref = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
    np.testing.assert_allclose(np.asarray(L.softmax_cross_entropy(logits, labels,
                                                                  reduction="none")), ref,
                               rtol=1e-5)
    onehot = np.eye(4, dtype="float32")[labels]
    np.testing.assert_allclose(float(L.softmax_cross_entropy(logits, onehot)), ref.mean(),
                               rtol=1e-5)
    z = S.placeholder((None, 4))
    y = S.placeholder((None,), "int32")
    f = S.function([z, y], L.softmax_cross_entropy(z, y, reduction="sum"))
    np.testing.assert_allclose(float(f(logits, labels)), ref.sum(), rtol=1e-5)


def test_sigmoid_cross_entropy_vs_optax(rng):
    logits = rng.normal(0, 10, size=(20,)).astype("float32")
    labels = rng.uniform(size=20).astype("float32")
    np.testing.assert_allclose(
        np.asarray(L.sigmoid_cross_entropy(logits, labels, reduction="none")),
        optax.sigmoid_binary_cross_entropy(logits, labels), rtol=1e-5, atol=1e-6)


def test_hinge_squared_huber(rng):
    scores = np.array([[2.0, 1.5, -1.0], [0.0, 3.0, 0.5]], "float32")
    labels = np.array([0, 2])
    np.testing.assert_allclose(np.asarray(L.hinge(scores, labels, reduction="none")),
                               [0.5, 3.5])
    p = rng.normal(size=(5, 3)).astype("float32")
    t = rng.normal(size=(5, 3)).astype("float32")
    np.testing.assert_allclose(float(L.squared_error(p, t, reduction="sum")),
                               ((p - t) ** 2).sum(), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(L.huber(p, t, delta=0.5, reduction="none")),
                               np.asarray(optax.huber_loss(p, t, delta=0.5)).sum(-1), rtol=1e-5)


def test_entropy(rng):
    logits = rng.normal(size=(3, 5)).astype("float32")
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    np.testing.assert_allclose(np.asarray(L.entropy(logits, reduction="none")),
                               -(p * np.log(p)).sum(1), rtol=1e-5)
    assert abs(float(L.entropy(np.zeros((1, 8), "float32"))) - np.log(8)) < 1e-5


def test_loss_errors():
    with pytest.raises(L.LayersError,
                       match=r"reduction must be one of \('mean', 'sum', 'none'\); got 'avg'"):
        L.softmax_cross_entropy(np.zeros((1, 2)), np.zeros(1, int), reduction="avg")
    with pytest.raises(L.LayersError, match="huber: delta must be positive; got 0"):
        L.huber(np.zeros(2), np.zeros(2), delta=0)


def test_weighted_sigmoid_cross_entropy_vs_float64(rng):
    """Weights: a weighted mean for "mean", weighted terms otherwise; all-zero weights give
    0 (not NaN) with a finite gradient. Tolerance: each term's float32 rounding is a few eps
    of its magnitude plus that of the logit, summed with the weights."""
    eps = np.finfo(np.float32).eps
    z = rng.normal(0, 4, size=(9,)).astype("float32")
    y = (rng.uniform(size=9) < 0.5).astype("float32")
    w = rng.uniform(0, 3, size=9).astype("float32")
    z64 = z.astype(np.float64)
    terms = np.logaddexp(0.0, z64) - z64 * y
    bound = 8 * eps * (np.abs(terms) + np.abs(z64) + 1)
    want = (w * terms).sum() / w.sum()
    got = float(L.sigmoid_cross_entropy(z, y, weights=w))
    assert abs(got - want) <= (w * bound).sum() / w.sum() + 4 * 9 * eps * abs(want)
    none = np.asarray(L.sigmoid_cross_entropy(z, y, weights=w, reduction="none"))
    assert np.all(np.abs(none - w * terms) <= w * bound)
    zs, ys, ws = S.placeholder((None,)), S.placeholder((None,)), S.placeholder((None,))
    loss = L.sigmoid_cross_entropy(zs, ys, weights=ws)
    f = S.function([zs, ys, ws], [loss, S.grad(loss, [zs])[0]])
    value, grad = f(z, y, np.zeros_like(w))
    assert float(value) == 0.0 and np.all(np.asarray(grad) == 0)
    value, grad = f(z, y, w)
    np.testing.assert_allclose(float(value), got, rtol=4 * eps)
    sig = 1 / (1 + np.exp(-z64))
    np.testing.assert_allclose(np.asarray(grad), w * (sig - y) / w.sum(), rtol=1e-5,
                               atol=1e-7)
