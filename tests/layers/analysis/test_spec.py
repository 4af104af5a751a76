"""Tests for layers.analysis.spec: building and validating piecewise-affine descriptions."""

import subprocess
import sys

import numpy as np
import pytest

from layers.analysis.spec import (
    Activation,
    SplineLayer,
    SplineNet,
    activation,
    as_spline_net,
    max_pool,
    max_pool_1d,
)
from layers.errors import LayersError


def _np_forward(params, x, hidden="relu"):
    h = x
    for i, (W, b) in enumerate(params):
        h = h @ W + b
        if i < len(params) - 1:
            h = np.maximum(h, 0) if hidden == "relu" else np.abs(h)
    return h


def test_pairs_get_hidden_and_output_activations(rng):
    params = [(rng.normal(size=(3, 5)), rng.normal(size=5)), (rng.normal(size=(5, 2)), np.zeros(2))]
    net = as_spline_net(params)
    assert isinstance(net, SplineNet)
    assert net.in_dim == 3 and net.out_dim == 2
    assert net.pre_dims == (5, 2) and net.code_dims == (5, 0)
    assert [layer.activation.kind for layer in net.layers] == ["relu", "identity"]
    x = rng.normal(size=(4, 3))
    np.testing.assert_allclose(np.asarray(net(x)), _np_forward(params, x), rtol=1e-5, atol=1e-5)


def test_activation_choices(rng):
    params = [(rng.normal(size=(2, 4)), rng.normal(size=4)), (rng.normal(size=(4, 1)), np.zeros(1))]
    net = as_spline_net(params, activation_fn="abs")
    x = rng.normal(size=(6, 2))
    np.testing.assert_allclose(
        np.asarray(net(x)), _np_forward(params, x, "abs"), rtol=1e-5, atol=1e-5
    )
    assert activation(("leaky_relu", 0.2)).negative_slope() == 0.2
    assert activation(None).kind == "identity"
    assert activation("rectify").kind == "relu"
    assert activation("linear").n_pieces == 1


def test_max_pool_layers_and_identity_weights(rng):
    W = rng.normal(size=(3, 6))
    net = as_spline_net([(W, None, "relu"), (None, None, max_pool_1d(6, size=3))], in_dim=3)
    assert net.out_dims == (6, 2) and net.code_dims == (6, 2)
    x = rng.normal(size=(5, 3))
    ref = np.maximum(x @ W, 0).reshape(5, 2, 3).max(axis=2)
    np.testing.assert_allclose(np.asarray(net(x)), ref, rtol=1e-5, atol=1e-6)
    assert max_pool([[0, 2], [1, 3]]).n_out(4) == 2


def test_adapter_protocol(rng):
    class Adapted:
        def to_spline_net(self):
            return [(np.eye(2), np.zeros(2))]

    net = as_spline_net(Adapted())
    assert net.in_dim == 2 and len(net.layers) == 1
    layer = SplineLayer(np.eye(2), None, Activation("relu"))
    assert as_spline_net([layer]).layers[0] is layer
    assert as_spline_net(net) is net


@pytest.mark.parametrize(
    "bad, match",
    [
        ([], "non-empty list"),
        ([(np.ones(3), np.zeros(3))], r"2-D array \(in, out\), got shape \(3,\)"),
        ([(np.ones((2, 3)), np.zeros(3)), (np.ones((4, 1)), np.zeros(1))], "input has 3 units"),
        ([(np.ones((2, 3)), np.zeros(2))], r"bias b must have shape \(3,\)"),
        ([np.ones((2, 3))], "must be a \\(W, b\\) pair"),
        ([(None, None, "relu")], "in_dim must be given"),
        ([(np.ones((2, 2)), np.zeros(2), max_pool([[0, 5]]))], "out of range for 2 units"),
    ],
)
def test_invalid_descriptions(bad, match):
    with pytest.raises(LayersError, match=match):
        as_spline_net(bad)


def test_invalid_activations():
    with pytest.raises(LayersError, match="unknown nonlinearity 'tanh'"):
        activation("tanh")
    with pytest.raises(LayersError, match=r"slope must be in \[0, 1\).*got 1.5"):
        activation(("leaky_relu", 1.5))
    with pytest.raises(LayersError, match="non-empty 2-D integer array"):
        max_pool([0, 1])
    with pytest.raises(LayersError, match="size must divide n_units.*n_units=5, size=2"):
        max_pool_1d(5, size=2)
    with pytest.raises(LayersError, match="got a callable"):
        as_spline_net(lambda x: x)


def test_import_is_light():
    # neither matplotlib (imported only inside plotting functions) nor symbolic (the parent
    # ``layers`` package loads its names lazily) is imported by ``import layers.analysis``
    code = (
        "import sys, layers.analysis; "
        "print('matplotlib' in sys.modules, 'symbolic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
