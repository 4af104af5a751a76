"""Tests for layers.analysis._refine: layer-by-layer refinement of the domain."""

import numpy as np

from layers.analysis import _polygon as poly
from layers.analysis import _refine
from layers.analysis.spec import as_spline_net, max_pool

SQUARE = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
BASE = np.concatenate([np.eye(2), np.zeros((1, 2))])[None]  # slice -> input, (1, 3, 2)


def test_domain_halved_along_a_first_layer_line(rng):
    W, b = rng.normal(size=(2, 5)), 0.2 * rng.normal(size=5)
    net = as_spline_net([(W, b, "relu"), (np.ones((5, 1)), np.zeros(1))])
    verts, nv = _refine._halve_domain(SQUARE[None], np.array([4]), BASE, net.layers, 1e-12)
    assert len(verts) == 2
    np.testing.assert_allclose(poly.areas(verts).sum(), 4.0)
    # the cut is the zero line of one unit: its pre-activation has one sign per half
    pre = np.einsum("pvi,in->pvn", verts, W) + b
    valid = (np.arange(verts.shape[1])[None, :] < nv[:, None])[..., None]
    one_side = np.all((pre >= -1e-12) | ~valid, axis=1) | np.all((pre <= 1e-12) | ~valid, axis=1)
    assert np.any(np.all(one_side, axis=0))
    # a max-pooling first layer is not halved (its cells are not cut by single lines)
    pool = as_spline_net([(W[:, :4], b[:4], max_pool([[0, 1], [2, 3]]))])
    assert _refine._halve_domain(SQUARE[None], np.array([4]), BASE, pool.layers, 1e-12) is None


def test_refine_same_result_for_any_number_of_threads(rng):
    params = [(rng.normal(size=(2, 10)), 0.3 * rng.normal(size=10), "abs"),
              (rng.normal(size=(10, 10)) / 3, 0.3 * rng.normal(size=10), "relu"),
              (rng.normal(size=(10, 2)), np.zeros(2), "identity")]
    net = as_spline_net(params)
    one = _refine.refine(SQUARE[None], np.array([4]), BASE, net.layers, 1e-12, 1)
    two = _refine.refine(SQUARE[None], np.array([4]), BASE, net.layers, 1e-12, 2)
    for a, b in zip(one[:3], two[:3]):
        np.testing.assert_array_equal(a, b)
    assert len(one[3]) == 2  # one code block per coded layer
    np.testing.assert_allclose(poly.areas(one[0]).sum(), 4.0)


def test_split_max_cells_hold_their_maximum(rng):
    G, c = rng.normal(size=(1, 2, 3)), rng.normal(size=(1, 3))
    verts, nv, parent = _refine.split_max(SQUARE[None], np.array([4]), G, c, np.array([[0, 1, 2]]),
                                          1e-12)
    np.testing.assert_allclose(poly.areas(verts).sum(), 4.0)
    cen = poly.centroids(verts, nv)
    winner = np.argmax(cen @ G[0] + c[0], axis=1)
    for p in range(len(verts)):  # every vertex of a cell attains the cell's maximum
        vals = verts[p, : nv[p]] @ G[0] + c[0]
        assert np.all(vals[:, winner[p]] >= vals.max(axis=1) - 1e-9)
    assert np.all(parent == 0) and len(np.unique(winner)) == len(verts)
