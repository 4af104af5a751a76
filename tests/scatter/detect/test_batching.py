"""Tests of scatter.detect.batching: zero-padded rows and fixed-size batches."""

import numpy as np

from scatter.detect.batching import in_batches, pad_rows


def test_pad_rows_keeps_dtype_and_values(rng):
    x = rng.normal(size=(3, 2, 4)).astype(np.float16)
    y = pad_rows(x, 5)
    assert y.shape == (5, 2, 4) and y.dtype == np.float16
    np.testing.assert_array_equal(y[:3], x)
    assert not y[3:].any()
    assert pad_rows(x, 3) is x


def test_in_batches_calls_one_shape_and_drops_padding(rng):
    x = rng.normal(size=(7, 3)).astype(np.float32)
    shapes = []

    def fn(batch):
        shapes.append(batch.shape)
        return batch.sum(axis=1)

    np.testing.assert_array_equal(in_batches(x, 3, fn), x.sum(axis=1))
    assert shapes == [(3, 3)] * 3
    assert in_batches(x[:0], 3, fn) is None
