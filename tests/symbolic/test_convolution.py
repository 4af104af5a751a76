import jax
import numpy as np
import pytest
import scipy.signal

import symbolic as S


def test_conv1d_matches_scipy(rng):
    xv = rng.normal(size=(2, 3, 20)).astype("float32")
    wv = rng.normal(size=(4, 3, 5)).astype("float32")
    x, w = S.placeholder((None, 3, None)), S.placeholder((4, 3, 5))
    y = S.conv(x, w)
    assert y.shape == (None, 4, None)
    got = S.function([x, w], y)(xv, wv)
    ref = np.stack(
        [
            np.stack(
                [
                    sum(scipy.signal.correlate(xv[n, c], wv[o, c], mode="valid") for c in range(3))
                    for o in range(4)
                ]
            )
            for n in range(2)
        ]
    )
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)
    flipped = S.function([x, w], S.conv(x, w, flip=True))(xv, wv)
    ref_conv = sum(scipy.signal.convolve(xv[0, c], wv[1, c], mode="valid") for c in range(3))
    np.testing.assert_allclose(flipped[0, 1], ref_conv, rtol=1e-4, atol=1e-4)


def test_conv2d_stride_padding_groups(rng):
    xv = rng.normal(size=(1, 4, 9, 9)).astype("float32")
    wv = rng.normal(size=(6, 2, 3, 3)).astype("float32")
    x, w = S.placeholder((1, 4, 9, 9)), S.placeholder((6, 2, 3, 3))
    y = S.conv(x, w, stride=2, padding="SAME", groups=2)
    assert y.shape == (1, 6, 5, 5)
    got = S.function([x, w], y)(xv, wv)
    ref = jax.lax.conv_general_dilated(xv, wv, (2, 2), "SAME", feature_group_count=2)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


def test_conv_transpose_is_the_adjoint(rng):
    x = S.placeholder((2, 3, 11, 11))
    w = S.placeholder((5, 3, 3, 3))
    y = S.placeholder((2, 5, 5, 5))
    fwd = S.conv(x, w, stride=2)
    back = S.conv_transpose(y, w, stride=2)
    assert fwd.shape == (2, 5, 5, 5) and back.shape == (2, 3, 11, 11)
    xv = rng.normal(size=(2, 3, 11, 11)).astype("float32")
    wv = rng.normal(size=(5, 3, 3, 3)).astype("float32")
    yv = rng.normal(size=(2, 5, 5, 5)).astype("float32")
    f, b = S.function([x, w, y], [fwd, back])(xv, wv, yv)
    # <conv(x), y> == <x, conv_transpose(y)>
    np.testing.assert_allclose(np.vdot(f, yv), np.vdot(xv, b), rtol=1e-4)


def test_pooling(rng):
    xv = rng.normal(size=(2, 3, 8, 8)).astype("float32")
    x = S.placeholder((None, 3, 8, 8))
    mp, ap = S.function([x], [S.max_pool(x, 2), S.avg_pool(x, (2, 2))])(xv)
    blocks = xv.reshape(2, 3, 4, 2, 4, 2)
    np.testing.assert_allclose(mp, blocks.max(axis=(3, 5)))
    np.testing.assert_allclose(ap, blocks.mean(axis=(3, 5)), rtol=1e-6)


def test_conv_errors():
    x = S.placeholder((2, 3, 8), name="x")
    with pytest.raises(S.SymbolicError, match="'x' has 3 channels but filters 'w' expect 2"):
        S.conv(x, S.placeholder((4, 2, 3), name="w"))
    with pytest.raises(S.SymbolicError, match="stride must be a positive int"):
        S.conv(x, S.placeholder((4, 3, 3)), stride=0)
    with pytest.raises(S.SymbolicError, match="must have shape \\(batch, channels"):
        S.conv(S.placeholder((3, 8)), S.placeholder((4, 3, 3)))
