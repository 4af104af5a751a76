import numpy as np
import pytest

import layers as L
from layers.datasets import (
    BatchIterator,
    load_digits,
    load_mnist_5k,
    mnist_5k_protocol,
    stratified_split,
)


def test_digits():
    x, y = load_digits()
    assert x.shape == (1797, 1, 8, 8) and x.dtype == np.float32 and y.dtype == np.int32
    assert 0.0 <= x.min() and x.max() <= 1.0 and set(np.unique(y)) == set(range(10))


def test_mnist_5k_protocol():
    x, y = load_mnist_5k()
    assert x.shape == (5000, 1, 28, 28) and np.bincount(y).tolist() == [500] * 10
    assert x.min() == 0.0 and x.max() == 1.0 and x.dtype == np.float32
    d = mnist_5k_protocol(labels_per_class=5, seed=3, data=(x, y))
    assert np.bincount(d["y_labelled"]).tolist() == [5] * 10
    assert np.bincount(d["y_test"]).tolist() == [100] * 10
    assert len(d["y_unlabelled"]) == 4000 - 50
    # test images are the last 100 of each class; labelled come from the first 400
    for c in (0, 7):
        idx = np.flatnonzero(y == c)
        np.testing.assert_array_equal(d["x_test"][d["y_test"] == c], x[idx[400:]])
        pool = x[idx[:400]].reshape(400, -1)
        for img in d["x_labelled"][d["y_labelled"] == c]:
            assert np.any(np.all(pool == img.reshape(1, -1), axis=1))
    again = mnist_5k_protocol(labels_per_class=5, seed=3, data=(x, y))
    np.testing.assert_array_equal(again["x_labelled"], d["x_labelled"])
    other = mnist_5k_protocol(labels_per_class=5, seed=4, data=(x, y))
    assert not np.array_equal(other["x_labelled"], d["x_labelled"])
    with pytest.raises(L.LayersError, match="labels_per_class must be <= pool_per_class=400"):
        mnist_5k_protocol(labels_per_class=401, data=(x, y))


def test_stratified_split():
    labels = np.repeat(np.arange(3), [4, 5, 6])
    chosen, rest = stratified_split(labels, n_per_class=2, seed=1)
    assert np.bincount(labels[chosen]).tolist() == [2, 2, 2]
    assert sorted(np.concatenate([chosen, rest]).tolist()) == list(range(15))
    with pytest.raises(L.LayersError, match="class 0 has 4 examples, fewer than n_per_class=5"):
        stratified_split(labels, n_per_class=5)


def test_batch_iterator():
    a, b = np.arange(10), np.arange(10) * 2
    it = BatchIterator(a, b, batch_size=3, seed=0)
    batches = list(it.epoch())
    assert len(batches) == len(it) == 3
    for xa, xb in batches:
        np.testing.assert_array_equal(xb, 2 * xa)
    seen = np.concatenate([x for x, _ in batches])
    assert len(set(seen.tolist())) == 9
    again = list(BatchIterator(a, b, batch_size=3, seed=0).epoch())
    np.testing.assert_array_equal(again[0][0], batches[0][0])
    full = list(BatchIterator(a, batch_size=4, shuffle=False, drop_last=False).epoch())
    assert [len(x[0]) for x in full] == [4, 4, 2] and full[0][0].tolist() == [0, 1, 2, 3]
    gen = BatchIterator(a, batch_size=5).forever()
    assert len([next(gen) for _ in range(5)]) == 5
    with pytest.raises(L.LayersError, match=r"arrays have different lengths \[3, 10\]"):
        BatchIterator(a, a[:3], batch_size=2)
    with pytest.raises(L.LayersError, match="batch_size=20 exceeds the 10 examples"):
        BatchIterator(a, batch_size=20)
