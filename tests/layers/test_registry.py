"""Generic checks over a registry of every layer: declared shape equals actual shape, dtype
kept, compiled once (no recompilation on a second call), deterministic mode deterministic,
and the compiled result equals the pure-JAX evaluation of the same graph under jax.jit."""

import jax
import numpy as np
import pytest

import layers as L
import symbolic as S

# name -> (factory(input_shape) -> layer, input shape with None batch, concrete batch, dtype)
REGISTRY = {
    "Dense": (lambda s: L.Dense(s, 5), (None, 7), "float32"),
    "Dense3d": (lambda s: L.Dense(s, 5, b=None), (None, 3, 7), "float32"),
    "Conv1D": (lambda s: L.Conv1D(s, 4, 3, stride=2, padding="same"), (None, 2, 17), "float32"),
    "Conv2D": (lambda s: L.Conv2D(s, 4, (3, 2), dilation=(1, 2)), (None, 3, 9, 8), "float32"),
    "Conv2DGroups": (lambda s: L.Conv2D(s, 4, 3, groups=2, padding=1), (None, 4, 6, 6),
                     "float32"),
    "ConvTranspose1D": (lambda s: L.ConvTranspose(s, 3, 4, stride=2), (None, 2, 9), "float32"),
    "ConvTranspose2D": (lambda s: L.ConvTranspose(s, 3, 3, stride=2, padding="same"),
                        (None, 2, 5, 6), "float32"),
    "MaxPool": (lambda s: L.MaxPool(s, 2), (None, 3, 9, 8), "float32"),
    "MaxPoolStride": (lambda s: L.MaxPool(s, 3, stride=1, padding="same"), (None, 2, 10),
                      "float32"),
    "AvgPool": (lambda s: L.AvgPool(s, (2, 3)), (None, 3, 8, 9), "float32"),
    "GlobalPoolMean": (lambda s: L.GlobalPool(s), (None, 3, 5, 4), "float32"),
    "GlobalPoolMax": (lambda s: L.GlobalPool(s, mode="max"), (None, 3, 6), "float32"),
    "BatchNorm": (lambda s: L.BatchNorm(s), (None, 3, 5, 4), "float32"),
    "BatchNorm2d": (lambda s: L.BatchNorm(s), (None, 6), "float32"),
    "LayerNorm": (lambda s: L.LayerNorm(s, n_axes=2), (None, 3, 4), "float32"),
    "Dropout": (lambda s: L.Dropout(s, p=0.3), (None, 6), "float32"),
    "GaussianNoise": (lambda s: L.GaussianNoise(s, std=0.5), (None, 6), "float32"),
    "Reshape": (lambda s: L.Reshape(s, (2, -1)), (None, 3, 4), "float32"),
    "Flatten": (lambda s: L.Flatten(s), (None, 3, 4, 2), "float32"),
    "Embedding": (lambda s: L.Embedding(s, 11, 4), (None, 5), "int32"),
    "RNN": (lambda s: L.RNN(s, 4), (None, 6, 3), "float32"),
    "GRU": (lambda s: L.GRU(s, 4, only_return_final=True), (None, 6, 3), "float32"),
    "LSTM": (lambda s: L.LSTM(s, 4, reverse=True), (None, 6, 3), "float32"),
    "MaxAffine": (lambda s: L.MaxAffine(s, n_pieces=3, init="random"), (None, 3, 5), "float32"),
    "BetaVQ": (lambda s: L.BetaVQ(s, beta=0.3), (None, 4, 5), "float32"),
    "SoftVQ": (lambda s: L.SoftVQ(s, kind="abs"), (None, 4), "float32"),
    "MaxOut": (lambda s: L.MaxOut(s, 3, n_pieces=4), (None, 6), "float32"),
    "Sequential": (lambda s: _seq(s), (None, 1, 8, 8), "float32"),
    "Residual": (lambda s: L.Residual(L.Dense(s, 6), L.Dense(s, 6)), (None, 4), "float32"),
    "ResidualIdentity": (lambda s: L.Residual(L.Sequential([_d := L.Dense(s, 4), L.BetaVQ(_d)])),
                         (None, 4), "float32"),
    "InputLayer": (lambda s: L.InputLayer(s), (None, 4), "float32"),
    "SplineClassifierConv1D": (lambda s: L.spline_classifier(s, 3, kind="conv1d", hidden=(4, 5)),
                               (None, 6, 9), "float32"),
    "SplineClassifierDense": (lambda s: L.spline_classifier(s, 2, hidden=(5,),
                                                            nonlinearity="relu"),
                              (None, 2, 4), "float32"),
}


def _seq(s):
    c = L.Conv2D(s, 4, 3, padding="same")
    bn = L.BatchNorm(c)
    a = L.BetaVQ(bn)
    p = L.MaxPool(a, 2)
    f = L.Flatten(p)
    d = L.Dropout(f)
    return L.Sequential([c, bn, a, p, f, d, L.Dense(d, 3)])


def _input(shape, dtype, batch, rng):
    concrete = tuple(batch if d is None else d for d in shape)
    if dtype == "int32":
        return rng.integers(0, 11, concrete).astype("int32")
    return rng.normal(size=concrete).astype(dtype)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_layer_contract(name, rng):
    factory, shape, dtype = REGISTRY[name]
    layer = factory(shape)
    assert layer.input_shape == shape
    x = S.placeholder(shape, dtype)
    y = layer(x)
    y_det = layer(x, deterministic=True)
    # the graph's static shape agrees with the declared one
    assert len(y.shape) == len(layer.output_shape)
    assert all(a is None or b is None or a == b for a, b in zip(y.shape, layer.output_shape))
    f = S.function([x], y, updates=L.get_updates(layer))
    f_det = S.function([x], y_det)
    for batch in (3, 5):
        value = _input(shape, dtype, batch, rng)
        out = f(value)
        declared = tuple(batch if d is None else d for d in layer.output_shape)
        assert out.shape == declared and out.dtype == np.dtype("float32")
        assert np.all(np.isfinite(np.asarray(out)))
        f(value)  # same shapes again: no new trace
    assert f.n_compilations == 2  # one per batch size, none on repeated calls
    out_det = f_det(value)
    assert out_det.shape == declared and out_det.dtype == np.dtype("float32")
    np.testing.assert_array_equal(np.asarray(out_det), np.asarray(f_det(value)))
    assert f_det.n_compilations == 1
    # the same graph as a pure JAX function under jax.jit gives the same deterministic output
    pure = S.to_jax(y_det, [x])
    got, _ = jax.jit(pure)(pure.state(), value)
    np.testing.assert_allclose(np.asarray(got), np.asarray(f_det(value)), rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_params_tagged_and_counted(name):
    factory, shape, _ = REGISTRY[name]
    layer = factory(shape)
    params = layer.get_params()
    for p in params:
        assert p.name.split("/")[0] in {sub.name for sub in L.get_all_layers(layer)}
        if "trainable" in p.tags:
            assert p.trainable
    regular = L.get_params(layer, regularizable=True)
    assert all("regularizable" in p.tags for p in regular)
    total, trainable = PARAM_COUNTS[name]
    assert L.count_params(layer) == total
    assert L.count_params(layer, trainable=True) == trainable


# name -> (all parameters, trainable ones), counted by hand from each layer's definition.
# BatchNorm holds 4 vectors per channel (beta, gamma trainable; mean, var batch statistics);
# the recurrent layers hold (W: in x units, U: units x units, b: units) per gate (RNN 1,
# GRU 3, LSTM 4); SoftVQ's beta is fixed at 1/2 (a parameter, not trainable); the ReLU
# MaxAffine of a spline classifier has fixed slopes and offsets (units x 2 pieces each).
PARAM_COUNTS = {
    "AvgPool": (0, 0),
    "BatchNorm": (4 * 3, 2 * 3),
    "BatchNorm2d": (4 * 6, 2 * 6),
    "BetaVQ": (4, 4),  # one beta per channel
    "Conv1D": (4 * 2 * 3 + 4, 4 * 2 * 3 + 4),  # 2 -> 4 channels, kernel 3, bias
    "Conv2D": (4 * 3 * 3 * 2 + 4, 4 * 3 * 3 * 2 + 4),  # 3 -> 4, kernel 3x2
    "Conv2DGroups": (4 * 2 * 3 * 3 + 4, 4 * 2 * 3 * 3 + 4),  # 4 -> 4 in 2 groups: 2 per filter
    "ConvTranspose1D": (2 * 3 * 4 + 3, 2 * 3 * 4 + 3),  # 2 -> 3 channels, kernel 4
    "ConvTranspose2D": (2 * 3 * 3 * 3 + 3, 2 * 3 * 3 * 3 + 3),
    "Dense": (7 * 5 + 5, 7 * 5 + 5),  # 40
    "Dense3d": (7 * 5, 7 * 5),  # last axis only, no bias
    "Dropout": (0, 0),
    "Embedding": (11 * 4, 11 * 4),
    "Flatten": (0, 0),
    "GRU": (3 * (3 * 4 + 4 * 4 + 4), 3 * (3 * 4 + 4 * 4 + 4)),  # 96
    "GaussianNoise": (0, 0),
    "GlobalPoolMax": (0, 0),
    "GlobalPoolMean": (0, 0),
    "InputLayer": (0, 0),
    "LSTM": (4 * (3 * 4 + 4 * 4 + 4), 4 * (3 * 4 + 4 * 4 + 4)),  # 128
    "LayerNorm": (2 * 3 * 4, 2 * 3 * 4),  # gamma, beta over the last 2 axes
    "MaxAffine": (2 * 3 * 3, 2 * 3 * 3),  # slopes, offsets: 3 channels x 3 pieces
    "MaxOut": (6 * 3 * 4 + 3 * 4, 6 * 3 * 4 + 3 * 4),  # 84: 6 inputs, 3 units x 4 pieces
    "MaxPool": (0, 0),
    "MaxPoolStride": (0, 0),
    "RNN": (3 * 4 + 4 * 4 + 4, 3 * 4 + 4 * 4 + 4),  # 32
    "Reshape": (0, 0),
    "Residual": (2 * (4 * 6 + 6), 2 * (4 * 6 + 6)),  # two Dense 4 -> 6
    "ResidualIdentity": (4 * 4 + 4 + 4, 4 * 4 + 4 + 4),  # Dense 4 -> 4, BetaVQ of 4
    # conv 1 -> 4 (3x3, bias) 40, BatchNorm(4) 16 (8 trainable), BetaVQ 4, pool 8x8 -> 4x4,
    # Dense 4*4*4 = 64 -> 3 with bias 195: 255 (247 trainable)
    "Sequential": (40 + 16 + 4 + 64 * 3 + 3, 40 + 8 + 4 + 64 * 3 + 3),
    "SoftVQ": (1, 0),
    # conv 6 -> 4 (kernel 3, no bias: BatchNorm follows) 72, BatchNorm(4) 16, BetaVQ 4,
    # conv 4 -> 5 60, BatchNorm(5) 20, BetaVQ 5, Dense 5 -> 3 with bias 18: 195
    "SplineClassifierConv1D": (72 + 16 + 4 + 60 + 20 + 5 + 18, 72 + 8 + 4 + 60 + 10 + 5 + 18),
    # Dense 8 -> 5 (no bias) 40, BatchNorm(5) 20, fixed ReLU MaxAffine 5 x 2 x 2 = 20,
    # Dense 5 -> 2 with bias 12: 92
    "SplineClassifierDense": (40 + 20 + 20 + 12, 40 + 10 + 12),
}


def test_every_registered_layer_has_a_hand_count():
    assert set(PARAM_COUNTS) == set(REGISTRY)


def test_count_params_of_larger_layers():
    assert L.count_params(L.Dense((None, 64), 128)) == 64 * 128 + 128 == 8320
    assert L.count_params(L.Dense((None, 64), 128, b=None)) == 8192
    conv = L.Conv2D((None, 16, 32, 32), 32, 3)
    assert L.count_params(conv) == 32 * 16 * 3 * 3 + 32 == 4640
    assert L.count_params(conv, regularizable=True) == 4608  # the bias is not regularized
    # a list of layers counts each parameter once
    d1 = L.Dense((None, 10), 20)
    d2 = L.Dense(d1, 5)
    assert L.count_params([d1, d2]) == L.count_params(d2) == (10 * 20 + 20) + (20 * 5 + 5)


@pytest.mark.parametrize("name", ["Dropout", "GaussianNoise"])
def test_random_layers_random_only_when_training(name, rng):
    factory, shape, dtype = REGISTRY[name]
    layer = factory(shape)
    x = S.placeholder(shape, dtype)
    f = S.function([x], layer(x))
    value = _input(shape, dtype, 50, rng)
    a, b = np.asarray(f(value)), np.asarray(f(value))
    assert not np.array_equal(a, b)  # the key advances between calls
    g = S.function([x], layer(x, deterministic=True))
    np.testing.assert_array_equal(np.asarray(g(value)), value)
