import numpy as np
import pytest

import layers as L
import symbolic as S


def test_reshape_and_flatten(rng):
    value = rng.normal(size=(2, 3, 4)).astype("float32")
    x = S.placeholder((None, 3, 4))
    r = L.Reshape(x.shape, (4, -1))
    assert r.output_shape == (None, 4, 3)
    np.testing.assert_array_equal(np.asarray(S.function([x], r(x))(value)), value.reshape(2, 4, 3))
    f = L.Flatten(x.shape)
    np.testing.assert_array_equal(np.asarray(S.function([x], f(x))(value)), value.reshape(2, 12))


def test_reshape_errors():
    with pytest.raises(L.LayersError,
                       match=r"shape \(3, 4\) \(12 values\) into \(5,\)"):
        L.Reshape((None, 3, 4), (5,))
    with pytest.raises(L.LayersError, match="shape may hold one -1"):
        L.Reshape((None, 3, 4), (-1, -1))
    with pytest.raises(L.LayersError, match="the example shape must be known"):
        L.Flatten((None, None))
