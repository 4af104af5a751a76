"""Tests for layers.analysis.power_diagram: layer partitions as power diagrams."""

import itertools

import numpy as np
import pytest

from layers.analysis.affine import vq_codes
from layers.analysis.power_diagram import check_power_diagram, power_diagram
from layers.analysis.spec import as_spline_net, max_pool_1d
from layers.errors import LayersError


def _net(rng):
    return as_spline_net(
        [
            (rng.normal(size=(3, 5)), rng.normal(size=5), "relu"),
            (rng.normal(size=(5, 6)), rng.normal(size=6), max_pool_1d(6, size=3)),
            (rng.normal(size=(2, 4)), rng.normal(size=4), ("leaky_relu", 0.2)),
            (rng.normal(size=(4, 3)), rng.normal(size=3), "abs"),
            (rng.normal(size=(3, 2)), rng.normal(size=2)),
        ]
    )


def test_assignment_equals_codes_every_layer(rng):
    net = _net(rng)
    x = rng.normal(size=(40, 3))
    agree = check_power_diagram(net, x)
    assert agree.shape == (40, 5) and agree.all()


def test_first_layer_centroids_and_radii_by_hand(rng):
    W, b = rng.normal(size=(3, 4)), rng.normal(size=4)
    net = as_spline_net([(W, b, "relu"), (np.ones((4, 1)), np.zeros(1))])
    pd = power_diagram(net, layer=0)
    codes = np.array(list(itertools.product([0, 1], repeat=4)))
    mu = codes @ W.T  # active units contribute their weight vectors
    rad = np.sum(mu**2, axis=1) + 2 * codes @ b
    np.testing.assert_allclose(np.asarray(pd.centroid(codes)), mu, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(pd.radius(codes)), rad, rtol=1e-5, atol=1e-5)
    # independent argmin of the power distance over all 16 cells
    x = rng.normal(size=(50, 3))
    pw = np.sum((x[:, None] - mu[None]) ** 2, axis=-1) - rad[None]
    ref = codes[np.argmin(pw, axis=1)]
    np.testing.assert_array_equal(np.asarray(pd.assign(x)), ref)
    np.testing.assert_array_equal(np.asarray(pd.assign_bruteforce(x)), ref)
    np.testing.assert_array_equal(np.asarray(vq_codes(net, x)[0]), ref)


def test_deeper_layer_is_pulled_back(rng):
    net = _net(rng)
    x = rng.normal(size=(6, 3))
    pd = power_diagram(net, layer=3, x=x)
    assert pd.slopes.shape == (6, 3, 2, 3) and pd.n_pieces == 2 and pd.n_units == 3
    codes, mu, rad = pd.cells()
    assert codes.shape == (8, 3) and mu.shape == (6, 8, 3) and rad.shape == (6, 8)
    np.testing.assert_array_equal(np.asarray(pd.assign(x)), np.asarray(vq_codes(net, x)[3]))


def test_errors(rng):
    net = _net(rng)
    with pytest.raises(LayersError, match=r"layer: expected an integer in \[0, 5\), got 7"):
        power_diagram(net, layer=7)
    with pytest.raises(LayersError, match="x: layer 2 is pulled back"):
        power_diagram(net, layer=2)
    with pytest.raises(LayersError, match="identity layer has no partition"):
        power_diagram(net, layer=4, x=np.zeros(3))
    with pytest.raises(LayersError, match=r"2\*\*5 = 32 cells, more than max_cells=10"):
        power_diagram(net, layer=0).cells(max_cells=10)
    with pytest.raises(LayersError, match=r"codes: expected last axis 5"):
        power_diagram(net, layer=0).centroid(np.zeros(3, int))
