import itertools

import numpy as np
import pytest
import scipy.signal

import layers as L
import symbolic as S
from layers.conv import conv_output_size

EPS32 = float(np.finfo(np.float32).eps)


def _conv_reference(x, w, b, *, stride, dilation, padding, groups):
    """Cross-correlation in float64 by explicit loops, and the sum of |x| |w| (+ |b|) behind
    each output (for the rounding bound): x (N, C, *S), w (O, C // groups, *K), padding a
    (low, high) pair per spatial axis."""
    x, w = x.astype(np.float64), w.astype(np.float64)
    n_sp = x.ndim - 2
    x = np.pad(x, ((0, 0), (0, 0)) + tuple(padding))
    kernel = w.shape[2:]
    out_sp = tuple((x.shape[2 + a] - dilation[a] * (kernel[a] - 1) - 1) // stride[a] + 1
                   for a in range(n_sp))
    n_out, c_in = w.shape[0], w.shape[1]
    per_group = n_out // groups
    y = np.zeros((x.shape[0], n_out) + out_sp)
    mag = np.zeros_like(y)
    for o in range(n_out):
        g = o // per_group
        xs = x[:, g * c_in:(g + 1) * c_in]
        for pos in itertools.product(*(range(n) for n in out_sp)):
            for k in itertools.product(*(range(n) for n in kernel)):
                idx = tuple(p * st + kk * d for p, st, kk, d in zip(pos, stride, k, dilation))
                v = xs[(slice(None), slice(None)) + idx]  # (N, c_in)
                y[(slice(None), o) + pos] += v @ w[(o, slice(None)) + k]
                mag[(slice(None), o) + pos] += np.abs(v) @ np.abs(w[(o, slice(None)) + k])
        if b is not None:
            y[:, o] += b[o]
            mag[:, o] += abs(b[o])
    return y, mag


def _conv_transpose_reference(x, w, b, *, stride, dilation):
    """Transposed convolution ("valid") in float64 by explicit loops: every input sample adds
    its kernel, scaled, to the output at ``i * stride + k * dilation``; x (N, C_in, *S), w
    (C_in, C_out, *K). Also the sum of |x| |w| (+ |b|) behind each output."""
    x, w = x.astype(np.float64), w.astype(np.float64)
    n_sp = x.ndim - 2
    kernel = w.shape[2:]
    out_sp = tuple((x.shape[2 + a] - 1) * stride[a] + dilation[a] * (kernel[a] - 1) + 1
                   for a in range(n_sp))
    y = np.zeros((x.shape[0], w.shape[1]) + out_sp)
    mag = np.zeros_like(y)
    for pos in itertools.product(*(range(n) for n in x.shape[2:])):
        v = x[(slice(None), slice(None)) + pos]  # (N, C_in)
        for k in itertools.product(*(range(n) for n in kernel)):
            idx = tuple(p * st + kk * d for p, st, kk, d in zip(pos, stride, k, dilation))
            wk = w[(slice(None), slice(None)) + k]  # (C_in, C_out)
            y[(slice(None), slice(None)) + idx] += v @ wk
            mag[(slice(None), slice(None)) + idx] += np.abs(v) @ np.abs(wk)
    if b is not None:
        y += b.reshape((-1,) + (1,) * n_sp)
        mag += np.abs(b).reshape((-1,) + (1,) * n_sp)
    return y, mag


def _assert_within_float32_rounding(got, ref, mag, n_terms):
    """|got - ref| <= (n_terms + 1) eps32 sum |x| |w|: the worst-case error of a float32 sum
    of n_terms products in any order (Higham, Accuracy and Stability, 3.1), one more rounding
    for the bias, against an exact (float64) reference."""
    got = np.asarray(got, np.float64)
    assert got.shape == ref.shape
    bound = (n_terms + 1) * EPS32 * mag
    err = np.abs(got - ref)
    assert np.all(err <= bound), (err.max(), bound[err > bound].min())
    assert np.abs(ref).max() > 100 * bound.max()  # the bound is far below the values


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


def test_conv2d_grouped_and_dilated_matches_loops(rng):
    # 4 -> 6 channels in 2 groups (each filter sees 2 channels), dilation (2, 1), stride
    # (1, 2), padding (1, 0) / (2, 1): every option at once, against float64 loops
    shape = (None, 4, 9, 10)
    layer = L.Conv2D(shape, 6, (3, 2), groups=2, dilation=(2, 1), stride=(1, 2),
                     padding=((1, 0), (2, 1)), b=rng.normal(size=6))
    x = S.placeholder(shape)
    value = rng.normal(size=(2,) + shape[1:]).astype("float32")
    got = S.function([x], layer(x))(value)
    W, b = np.asarray(layer.W.value), np.asarray(layer.b.value)
    assert W.shape == (6, 2, 3, 2)
    ref, mag = _conv_reference(value, W, b, stride=(1, 2), dilation=(2, 1),
                               padding=((1, 0), (2, 1)), groups=2)
    assert layer.output_shape[1:] == ref.shape[1:] == (6, 6, 6)
    _assert_within_float32_rounding(got, ref, mag, n_terms=2 * 3 * 2)
    # a filter of group 0 does not see the channels of group 1
    other = value.copy()
    other[:, 2:] = 0
    out = np.asarray(S.function([x], layer(x))(other))
    np.testing.assert_array_equal(out[:, 3:], np.broadcast_to(
        b[3:, None, None].astype(np.float32), out[:, 3:].shape))


def test_conv_transpose_1d_matches_loops(rng):
    shape = (None, 3, 7)
    layer = L.ConvTranspose(shape, 2, 4, stride=3, dilation=2, b=rng.normal(size=2))
    x = S.placeholder(shape)
    value = rng.normal(size=(2,) + shape[1:]).astype("float32")
    got = S.function([x], layer(x))(value)
    W, b = np.asarray(layer.W.value), np.asarray(layer.b.value)
    assert W.shape == (3, 2, 4)
    ref, mag = _conv_transpose_reference(value, W, b, stride=(3,), dilation=(2,))
    assert layer.output_shape[1:] == ref.shape[1:] == (2, (7 - 1) * 3 + 2 * 3 + 1)
    # each output sums at most channels x taps-landing-there products: 3 x 4 is a bound
    _assert_within_float32_rounding(got, ref, mag, n_terms=3 * 4)


def test_conv_rank_3_matches_loops(rng):
    shape = (None, 2, 5, 6, 4)
    layer = L.Conv(shape, 3, (2, 3, 2), stride=(2, 1, 1), dilation=(1, 1, 2),
                   padding="same", b=rng.normal(size=3))
    x = S.placeholder(shape)
    value = rng.normal(size=(2,) + shape[1:]).astype("float32")
    got = S.function([x], layer(x))(value)
    W, b = np.asarray(layer.W.value), np.asarray(layer.b.value)
    assert W.shape == (3, 2, 2, 3, 2)
    # "same" as in JAX (and TensorFlow): out = ceil(n / stride), the padding total
    # max((out - 1) * stride + span - n, 0) split with the extra sample at the high end
    pads = []
    for n, k, st, d in zip(shape[2:], (2, 3, 2), (2, 1, 1), (1, 1, 2)):
        total = max((-(-n // st) - 1) * st + d * (k - 1) + 1 - n, 0)
        pads.append((total // 2, total - total // 2))
    ref, mag = _conv_reference(value, W, b, stride=(2, 1, 1), dilation=(1, 1, 2),
                               padding=tuple(pads), groups=1)
    assert layer.output_shape[1:] == ref.shape[1:] == (3, 3, 6, 4)
    _assert_within_float32_rounding(got, ref, mag, n_terms=2 * 2 * 3 * 2)
