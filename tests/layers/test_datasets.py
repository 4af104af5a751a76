import jax
import numpy as np
import pytest

import layers as L
from layers.datasets import (
    BatchIterator,
    epoch_batches,
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


def _key_data(key):
    return np.asarray(jax.random.key_data(key))


def test_epoch_batches_pinned_draw():
    # A seeded training run reproduces its weights only while this draw stays as it is.
    batches = list(epoch_batches(7, batch_size=3, n_copies=3, seed=0, epoch=1,
                                 weights=np.arange(7) / 2))
    assert [b[0].tolist() for b in batches] == [[1, 3, 6], [0, 4, 2], [5, 0, 0]]
    assert [b[1].tolist() for b in batches] == [[2, 0, 0], [0, 0, 2], [0, 0, 0]]
    assert [b[2].tolist() for b in batches] == [[0.5, 1.5, 3.0], [0.0, 2.0, 1.0],
                                                [2.5, 0.0, 0.0]]
    for start, (_, _, _, key) in zip((0, 3, 6), batches):
        expected = jax.random.fold_in(jax.random.PRNGKey(0), 1 * 1_000_003 + start)
        np.testing.assert_array_equal(_key_data(key), _key_data(expected))


@pytest.mark.parametrize("n, batch_size", [(1, 1), (10, 3), (12, 4), (5, 8)])
def test_epoch_batches_visit_every_example_once_and_pad_with_weight_zero(n, batch_size):
    weights = np.linspace(0.5, 2.0, n)
    batches = list(epoch_batches(n, batch_size=batch_size, n_copies=4, seed=2, epoch=3,
                                 weights=weights))
    assert len(batches) == -(-n // batch_size)
    for idx, copy, w, _ in batches:
        assert idx.shape == copy.shape == w.shape == (batch_size,)
        assert idx.dtype.kind == copy.dtype.kind == "i" and w.dtype == np.float32
        assert np.all((copy >= 0) & (copy < 4))
    idx = np.concatenate([b[0] for b in batches])
    w = np.concatenate([b[2] for b in batches])
    real = np.arange(idx.size) < n                        # padding rows sit at the very end
    assert sorted(idx[real].tolist()) == list(range(n))
    np.testing.assert_array_equal(w[real], weights[idx[real]].astype(np.float32))
    assert np.all(idx[~real] == 0) and np.all(w[~real] == 0)
    unweighted = list(epoch_batches(n, batch_size=batch_size, n_copies=4, seed=2, epoch=3))
    assert np.array_equal(np.concatenate([b[2] for b in unweighted]), real.astype(np.float32))


def test_epoch_batches_depend_on_seed_and_epoch_alone():
    def draw(seed, epoch):
        return [(i.tolist(), c.tolist(), _key_data(k).tolist())
                for i, c, _, k in epoch_batches(20, batch_size=6, n_copies=3, seed=seed,
                                                epoch=epoch)]
    first = draw(1, 4)
    draw(1, 0)                                           # other epochs in between change nothing
    assert draw(1, 4) == first
    assert draw(1, 5) != first and draw(2, 4) != first
    keys = [k for e in range(3) for *_, k in draw(1, e)]
    assert len({tuple(k) for k in keys}) == len(keys)    # one key per step
    one_copy = list(epoch_batches(20, batch_size=6, seed=1, epoch=4))
    assert all(np.all(c == 0) for _, c, _, _ in one_copy)
    assert [b[0].tolist() for b in one_copy] == [b[0] for b in first]  # same order


def test_epoch_batches_errors():
    assert list(epoch_batches(0, batch_size=2)) == []
    with pytest.raises(L.LayersError, match="batch_size must be a positive int; got 0"):
        epoch_batches(4, batch_size=0)                   # raised at the call, not the first batch
    with pytest.raises(L.LayersError, match="epoch_batches: n_copies must be a positive int"):
        epoch_batches(4, batch_size=2, n_copies=0)
    with pytest.raises(L.LayersError, match="epoch_batches: seed must be an int >= 0; got -1"):
        epoch_batches(4, batch_size=2, seed=-1)
    with pytest.raises(L.LayersError, match=r"weights must have shape \(4,\), one per example; "
                                            r"got shape \(3,\)"):
        epoch_batches(4, batch_size=2, weights=np.ones(3))
