"""Tests for layers.analysis.geometry: distances, rank-one slope changes, angles, curvature."""

import numpy as np
import pytest

from layers.analysis.affine import affine_map, preactivation_maps, vq_codes, vq_distance
from layers.analysis.geometry import (
    adjacent_angles,
    boundary_distances,
    boundary_turning_angles,
    decision_boundary_bend,
    region_radius,
    slope_change,
    template_angles,
)
from layers.analysis.partition import partition_2d
from layers.analysis.spec import as_spline_net, max_pool_1d
from layers.errors import LayersError


def _net(rng, d=3):
    return as_spline_net(
        [
            (rng.normal(size=(d, 6)), rng.normal(size=6), "relu"),
            (rng.normal(size=(6, 6)), rng.normal(size=6), ("leaky_relu", 0.1)),
            (rng.normal(size=(6, 3)), rng.normal(size=3)),
        ]
    )


def test_first_layer_distances_match_numpy(rng):
    net = _net(rng)
    x = rng.normal(size=(10, 3))
    W, b = np.asarray(net.layers[0].W), np.asarray(net.layers[0].b)
    ref = np.min(np.abs(x @ W + b) / np.linalg.norm(W, axis=0), axis=1)
    d = np.asarray(boundary_distances(net, x))
    np.testing.assert_allclose(d[:, 0], ref, rtol=1e-4)
    assert np.all(np.isinf(d[:, 2]))
    ref_inf = np.min(np.abs(x @ W + b) / np.abs(W).sum(axis=0), axis=1)
    np.testing.assert_allclose(np.asarray(boundary_distances(net, x, norm="inf"))[:, 0], ref_inf,
                               rtol=1e-4)


def test_region_radius_is_tight(rng):
    net = _net(rng)
    x = rng.normal(size=(8, 3))
    r = np.asarray(region_radius(net, x))
    dirs = rng.normal(size=(8, 50, 3))
    dirs /= np.linalg.norm(dirs, axis=-1, keepdims=True)
    inner = x[:, None] + 0.98 * r[:, None, None] * dirs
    assert np.all(np.asarray(vq_distance(net, x[:, None], inner)) == 0)
    # stepping just past the nearest hyperplane leaves the region
    for i in range(8):
        dists = []
        for (G, c) in preactivation_maps(net, x[i]):
            G, c = np.asarray(G), np.asarray(c)
            dists.append((np.abs(x[i] @ G + c) / np.linalg.norm(G, axis=0), G, c))
        layer = int(np.argmin([dd.min() for dd, _, _ in dists[:2]]))
        dd, G, c = dists[layer]
        k = int(np.argmin(dd))
        n = G[:, k] / np.linalg.norm(G[:, k])
        step = -np.sign(x[i] @ G[:, k] + c[k]) * n
        outside = x[i] + 1.02 * r[i] * step
        assert int(vq_distance(net, x[i], outside)) >= 1


def test_rank_one_slope_change_across_a_facet(rng):
    net = _net(rng)
    checked = 0
    for x in rng.normal(size=(10, 3)):
        G, c = (np.asarray(a) for a in preactivation_maps(net, x)[0])
        dist = np.abs(x @ G + c) / np.linalg.norm(G, axis=0)
        k = int(np.argmin(dist))
        n = G[:, k] / np.linalg.norm(G[:, k])
        across = x - np.sign(x @ G[:, k] + c[k]) * (dist[k] + 1e-4) * n
        codes_x = np.concatenate([np.asarray(a) for a in vq_codes(net, x)])
        codes_y = np.concatenate([np.asarray(a) for a in vq_codes(net, across)])
        if np.sum(codes_x != codes_y) != 1:
            continue  # the nearest first-layer hyperplane is not a facet of this region
        A, _ = affine_map(net, x)
        A2, _ = affine_map(net, across)
        u, v = slope_change(net, x, layer=0, unit=k)
        np.testing.assert_allclose(np.asarray(A) + np.outer(u, v), np.asarray(A2), atol=1e-4)
        ang = np.asarray(adjacent_angles(net, x, layer=0, unit=k))
        np.testing.assert_allclose(ang, np.asarray(template_angles(A, A2)), atol=1e-3)
        n1 = np.asarray(A)[0] - np.asarray(A)[1]
        n2 = np.asarray(A2)[0] - np.asarray(A2)[1]
        ref = np.arccos(np.clip(n1 @ n2 / np.linalg.norm(n1) / np.linalg.norm(n2), -1, 1))
        bend = float(decision_boundary_bend(net, x, layer=0, unit=k, classes=(0, 1)))
        np.testing.assert_allclose(bend, ref, atol=1e-3)
        checked += 1
    assert checked >= 3


def test_max_pool_distances(rng):
    net = as_spline_net(
        [(rng.normal(size=(2, 4)), rng.normal(size=4), max_pool_1d(4, size=2)),
         (rng.normal(size=(2, 2)), np.zeros(2))]
    )
    x = rng.normal(size=(5, 2))
    W, b = np.asarray(net.layers[0].W), np.asarray(net.layers[0].b)
    gaps = []
    for a, c in [(0, 1), (2, 3)]:
        g = W[:, a] - W[:, c]
        gaps.append(np.abs(x @ g + b[a] - b[c]) / np.linalg.norm(g))
    np.testing.assert_allclose(np.asarray(boundary_distances(net, x))[:, 0],
                               np.minimum(*gaps), rtol=1e-4)


def test_turning_angles_of_exact_boundary():
    net = as_spline_net([(np.eye(2), np.zeros(2), "relu"), (np.ones((2, 1)), np.array([-0.5]))])
    part = partition_2d(net, domain=[[-1, -1], [1, -1], [1, 1], [-1, 1]])
    pts, ang = boundary_turning_angles(part)
    order = np.argsort(pts[:, 0])
    np.testing.assert_allclose(pts[order], [[0.0, 0.5], [0.5, 0.0]], atol=1e-12)
    np.testing.assert_allclose(np.degrees(ang), [45.0, 45.0])
    linear = as_spline_net([(np.array([[1.0], [1.0]]), np.array([0.1]))])
    part = partition_2d(linear, domain=[[-1, -1], [1, -1], [1, 1], [-1, 1]])
    assert len(boundary_turning_angles(part)[1]) == 0


def test_errors(rng):
    net = _net(rng)
    with pytest.raises(LayersError, match="norm: expected 1, 2 or 'inf', got 3"):
        boundary_distances(net, np.zeros(3), norm=3)
    with pytest.raises(LayersError, match="layer 2 is 'identity'"):
        slope_change(net, np.zeros(3), layer=2, unit=0)
    with pytest.raises(LayersError, match=r"unit: expected an integer in \[0, 6\), got 9"):
        slope_change(net, np.zeros(3), layer=0, unit=9)
    with pytest.raises(LayersError, match=r"classes: expected indices in \[0, 3\)"):
        decision_boundary_bend(net, np.zeros(3), layer=0, unit=0, classes=(0, 5))
