"""layers.Standardize: fixed per-channel standardisation against NumPy."""

import jax
import numpy as np
import pytest

import layers as L
import symbolic as S


@pytest.mark.parametrize("shape,axis", [((None, 3, 5), 1), ((None, 4, 3), -1), ((None, 3), 1)])
def test_matches_numpy_and_is_fixed(shape, axis, rng):
    c = shape[axis]
    mean = rng.normal(size=c).astype("float32")
    std = rng.uniform(0.5, 2.0, size=c).astype("float32")
    layer = L.Standardize(shape, mean, std, axis=axis)
    x = S.placeholder(shape)
    y = layer(x)
    f = S.function([x], y)
    value = rng.normal(size=(2,) + shape[1:]).astype("float32")
    bshape = [1] * len(shape)
    bshape[axis] = c
    m, s = mean.reshape(bshape).astype(np.float64), std.reshape(bshape).astype(np.float64)
    want = (value - m) / s
    # float32: the difference and the quotient (XLA may multiply by a rounded reciprocal)
    # are each within a few eps of the magnitudes involved
    bound = 3 * np.finfo(np.float32).eps * (np.abs(value) + np.abs(m)) / s
    assert np.all(np.abs(np.asarray(f(value)) - want) <= bound)
    pure = S.to_jax(y, [x])
    assert np.all(np.abs(np.asarray(jax.jit(pure)(pure.state(), value)[0]) - want) <= bound)
    assert layer.output_shape == shape
    assert L.get_params(layer, trainable=True) == []
    assert L.get_params(layer, regularizable=True) == []
    assert L.count_params(layer) == 2 * c


def test_learnable_statistics_are_trainable():
    layer = L.Standardize((None, 2), [0.0, 1.0], [1.0, 2.0], learnable=True)
    assert len(L.get_params(layer, trainable=True)) == 2


@pytest.mark.parametrize("kwargs,match", [
    ({"mean": [0.0], "std": [1.0, 1.0]}, r"mean must have shape \(2,\)"),
    ({"mean": [0.0, 0.0], "std": [1.0]}, r"std must have shape \(2,\)"),
    ({"mean": [0.0, 0.0], "std": [1.0, 0.0]}, "std must be positive and finite"),
    ({"mean": [0.0, 0.0], "std": [1.0, np.inf]}, "std must be positive and finite"),
    ({"mean": [0.0, 0.0], "std": [1.0, 1.0], "axis": 3}, "axis must be an int in"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(L.LayersError, match=match):
        L.Standardize((None, 2, 4), **kwargs)


def test_channel_axis_must_be_known():
    with pytest.raises(L.LayersError, match="must have a known size"):
        L.Standardize((None, None, 4), [0.0], [1.0])
