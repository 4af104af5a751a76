import numpy as np
import pytest

import layers as L
import symbolic as S


def test_max_and_avg_pool_match_numpy(rng):
    value = rng.normal(size=(2, 3, 6, 4)).astype("float32")
    x = S.placeholder((None, 3, 6, 4))
    mx = np.asarray(S.function([x], L.MaxPool(x.shape, 2)(x))(value))
    av = np.asarray(S.function([x], L.AvgPool(x.shape, (3, 2))(x))(value))
    np.testing.assert_allclose(mx, value.reshape(2, 3, 3, 2, 2, 2).max((3, 5)))
    np.testing.assert_allclose(av, value.reshape(2, 3, 2, 3, 2, 2).mean((3, 5)), rtol=1e-6)


def test_max_pool_is_a_maso(rng):
    # max-pooling = max over the R = window selection maps (affine pieces) of each window
    value = rng.normal(size=(1, 1, 8)).astype("float32")
    x = S.placeholder((None, 1, 8))
    got = np.asarray(S.function([x], L.MaxPool(x.shape, 4)(x))(value))[0, 0]
    selections = [np.eye(8)[r::4] for r in range(4)]  # piece r picks entry r of every window
    pieces = np.stack([sel @ value[0, 0] for sel in selections])
    np.testing.assert_allclose(got, pieces.max(0))


def test_global_pool(rng):
    value = rng.normal(size=(2, 3, 5)).astype("float32")
    x = S.placeholder((None, 3, 5))
    np.testing.assert_allclose(
        np.asarray(S.function([x], L.GlobalPool(x.shape, mode="max")(x))(value)), value.max(2))
    with pytest.raises(L.LayersError, match="GlobalPool: mode must be 'mean' or 'max'; got 'sum'"):
        L.GlobalPool((None, 3, 5), mode="sum")
    with pytest.raises(L.LayersError,
                       match=r"MaxPool: input must be \(batch, channels, \*spatial\)"):
        L.MaxPool((None, 3), 2)
