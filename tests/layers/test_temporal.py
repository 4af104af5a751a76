"""layers.temporal: frame stacking (TemporalContext, frame_context) against a NumPy loop."""

import jax
import numpy as np
import pytest

import layers as L
import symbolic as S
from layers.temporal import context_indices


def _reference(x, offsets):
    """(B, C, T) -> (B, T, K * C) by explicit loops: frame t, offset k, channel c."""
    b, c, t = x.shape
    out = np.zeros((b, t, len(offsets) * c), x.dtype)
    for i in range(t):
        for k, o in enumerate(offsets):
            j = min(max(i + o, 0), t - 1)  # edge frames repeated
            out[:, i, k * c:(k + 1) * c] = x[:, :, j]
    return out


@pytest.mark.parametrize("offsets", [(0,), (-4, -2, 0, 2, 4), (3, -1), (-7, 7)])
def test_frame_context_matches_loops(offsets, rng):
    x = rng.normal(size=(3, 4, 6)).astype("float32")
    want = _reference(x, offsets)
    np.testing.assert_array_equal(np.asarray(L.frame_context(x, offsets)), want)
    jitted = jax.jit(L.frame_context, static_argnums=1)
    np.testing.assert_array_equal(np.asarray(jitted(x, offsets)), want)
    # leading batch axes are arbitrary, time last
    np.testing.assert_array_equal(np.asarray(L.frame_context(x[0], offsets)), want[0])


def test_context_indices_clip_at_the_edges():
    np.testing.assert_array_equal(context_indices(3, (-2, 0, 5)),
                                  [[0, 0, 2], [0, 1, 2], [0, 2, 2]])


@pytest.mark.parametrize("offsets", [(), (0, 0), (0.5,), [[0, 1]], "ab", (np.nan,)])
def test_bad_offsets_raise(offsets):
    with pytest.raises(L.LayersError, match="offsets must be distinct whole frame offsets"):
        L.TemporalContext((None, 3, 5), offsets)


def test_whole_float_offsets_accepted():
    # a model file stores offsets as float32 whole numbers
    layer = L.TemporalContext((None, 2, 5), np.array([-2.0, 0.0, 2.0], "float32"))
    assert layer.offsets == (-2, 0, 2)


@pytest.mark.parametrize("shape", [(None, 3), (None, None, 5), (None, 2, 3, 4)])
def test_input_must_be_batch_channels_time(shape):
    with pytest.raises(L.LayersError, match=r"input must be \(batch, channels, time\)"):
        L.TemporalContext(shape, (0, 1))


def test_layer_contract(rng):
    """Declared shape, dtype, one compilation per shape, jit of the pure function, any length
    of sequence."""
    layer = L.TemporalContext((None, 4, None), (-2, 0, 2))
    assert layer.output_shape == (None, None, 12)
    assert layer.get_params() == []
    x = S.placeholder((None, 4, None))
    y = layer(x)
    f = S.function([x], y)
    for batch, t in ((3, 5), (2, 9)):
        value = rng.normal(size=(batch, 4, t)).astype("float32")
        out = f(value)
        assert out.shape == (batch, t, 12) and out.dtype == np.dtype("float32")
        np.testing.assert_array_equal(np.asarray(out), _reference(value, (-2, 0, 2)))
        f(value)
    assert f.n_compilations == 2
    pure = S.to_jax(y, [x])
    got, _ = jax.jit(pure)(pure.state(), value)
    np.testing.assert_array_equal(np.asarray(got), _reference(value, (-2, 0, 2)))


def test_feeds_a_frame_wise_maxout(rng):
    """TemporalContext then MaxOut scores every frame with the same weights: a dilated
    temporal convolution followed by the max over pieces."""
    offsets = (-2, 0, 2)
    W = rng.normal(size=(3 * 4, 5, 3)).astype("float32")
    b = rng.normal(size=(5, 3)).astype("float32")
    ctx = L.TemporalContext((None, 4, 7), offsets)
    out = L.MaxOut(ctx, 5, n_pieces=3, W=W, b=b)
    x = S.placeholder((None, 4, 7))
    f = S.function([x], L.get_output(out, x))
    value = rng.normal(size=(2, 4, 7)).astype("float32")
    stacked = _reference(value, offsets).astype(np.float64)
    want = (np.einsum("bti,ihr->bthr", stacked, W) + b).max(axis=-1)
    got = np.asarray(f(value))
    # float32 sums of 12 products: bound by n * eps * sum |terms|
    terms = np.einsum("bti,ihr->bthr", np.abs(stacked), np.abs(W)) + np.abs(b)
    bound = 13 * np.finfo(np.float32).eps * terms.max(axis=-1)
    assert np.all(np.abs(got - want) <= bound)
