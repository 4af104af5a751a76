import numpy as np
import pytest
import scipy.signal

import layers as L
import symbolic as S
from layers.conv import conv_output_size


def test_conv1d_matches_scipy(rng):
    layer = L.Conv1D((None, 2, 20), 3, 5, b=rng.normal(size=3))
    x = S.placeholder((None, 2, 20))
    value = rng.normal(size=(2, 2, 20)).astype("float32")
    got = np.asarray(S.function([x], layer(x))(value))
    W, b = layer.W.value, layer.b.value
    ref = np.stack([
        np.stack([sum(scipy.signal.correlate(value[n, c], W[o, c], mode="valid") for c in range(2))
                  + b[o] for o in range(3)]) for n in range(2)])
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5)


def test_conv2d_same_stride_matches_scipy(rng):
    layer = L.Conv2D((None, 1, 9, 9), 2, 3, stride=2, padding="same", b=None)
    x = S.placeholder((None, 1, 9, 9))
    value = rng.normal(size=(1, 1, 9, 9)).astype("float32")
    got = np.asarray(S.function([x], layer(x))(value))
    full = np.stack([scipy.signal.correlate2d(value[0, 0], layer.W.value[o, 0], mode="same")
                     for o in range(2)])
    np.testing.assert_allclose(got[0], full[:, ::2, ::2], rtol=1e-4, atol=1e-5)
    assert layer.output_shape == (None, 2, 5, 5)


def test_conv_transpose_is_adjoint_of_conv(rng):
    # <conv(x), y> == <x, conv_transpose(y)> with the same filters and no bias
    fwd = L.Conv2D((None, 2, 8, 8), 3, 3, stride=2, b=None)
    back = L.ConvTranspose(fwd.output_shape, 2, 3, stride=2, W=fwd.W.value, b=None)
    assert back.output_shape[2:] == (7, 7)  # (3 - 1) * 2 + 3
    x = S.placeholder((None, 2, 7, 7))
    y = S.placeholder((None, 3, 3, 3))
    xv = rng.normal(size=(1, 2, 7, 7)).astype("float32")
    yv = rng.normal(size=(1, 3, 3, 3)).astype("float32")
    fwd7 = L.Conv2D((None, 2, 7, 7), 3, 3, stride=2, b=None, W=fwd.W.value)
    a = float((S.function([x], fwd7(x))(xv) * yv).sum())
    b = float((S.function([y], back(y))(yv) * xv).sum())
    np.testing.assert_allclose(a, b, rtol=1e-4)


def test_output_size_formula():
    assert conv_output_size(10, 3, 1, 1, "VALID") == 8
    assert conv_output_size(10, 3, 2, 2, "VALID") == 3
    assert conv_output_size(10, 3, 3, 1, "SAME") == 4
    assert conv_output_size(10, 3, 1, 1, (2, 1)) == 11
    assert conv_output_size(None, 3, 1, 1, "SAME") is None


def test_conv_errors():
    with pytest.raises(L.LayersError, match=r"Conv2D: input must be \(batch, channels, 2 spatial"):
        L.Conv2D((None, 3, 8), 2, 3)
    with pytest.raises(L.LayersError, match="number of input channels must be known"):
        L.Conv1D((None, None, 8), 2, 3)
    with pytest.raises(L.LayersError, match="groups must be a positive int dividing the 3 input"):
        L.Conv1D((None, 3, 8), 4, 3, groups=2)
    with pytest.raises(L.LayersError, match=r"kernel_size must be a positive int or 2 positive"):
        L.Conv2D((None, 1, 8, 8), 2, (3, 0))
    with pytest.raises(L.LayersError, match="padding must be 'same', 'valid', an int or pairs"):
        L.Conv1D((None, 1, 8), 2, 3, padding="full")
    with pytest.raises(L.LayersError, match="ConvTranspose: padding must be 'valid' or 'same'"):
        L.ConvTranspose((None, 1, 8), 2, 3, padding=1)
