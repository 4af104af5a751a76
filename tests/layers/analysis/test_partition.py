"""Tests for layers.analysis.partition: exact 2-D partitions of piecewise-affine networks."""

import itertools

import numpy as np
import pytest

from layers.analysis.affine import affine_map, forward, vq_codes
from layers.analysis.partition import partition_2d, plane_from_anchors
from layers.analysis.spec import as_spline_net, max_pool_1d
from layers.errors import LayersError

SQUARE = [[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]]


def _mlp(rng, widths, kinds=None):
    params = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        W, bias = rng.normal(size=(a, b)) * np.sqrt(2 / a), 0.3 * rng.normal(size=b)
        last = i == len(widths) - 2
        params.append((W, bias, "identity" if last else (kinds or ["relu"])[i % len(kinds or [1])]))
    return as_spline_net(params)


def _inside(part, u):
    """Independent point location: a point is in a convex CCW polygon iff left of all edges."""
    v, n = part.vertices, part.n_vertices
    out = np.full(len(u), -1)
    for p in range(part.n_regions):
        poly = v[p, : n[p]]
        e = np.roll(poly, -1, axis=0) - poly
        rel = u[:, None, :] - poly[None]
        cross = e[None, :, 0] * rel[..., 1] - e[None, :, 1] * rel[..., 0]
        hit = np.all(cross > 1e-9, axis=1)
        assert not np.any(hit & (out >= 0)), "regions overlap"
        out[hit] = p
    return out


def _check(part, net, u):
    assert np.isclose(part.areas.sum(), part.statistics()["domain_area"], rtol=1e-9)
    assert np.all(part.areas > 0)
    assert len(np.unique(part.codes, axis=0)) == part.n_regions
    idx = _inside(part, u)
    ok = idx >= 0
    assert ok.mean() > 0.95  # the rest lie within 1e-9 of an edge
    x = part.to_input(u[ok])
    codes = np.asarray(vq_codes(net, x, concat=True))
    np.testing.assert_array_equal(codes, part.codes[idx[ok]])
    y = np.asarray(forward(net, x)[0])
    pred = np.einsum("pod,pd->po", part.A[idx[ok]], u[ok]) + part.b[idx[ok]]
    np.testing.assert_allclose(pred, y, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(part.locate(u[ok]), idx[ok])


def test_relu_mlp_square(rng):
    net = _mlp(rng, [2, 8, 8, 3])
    part = partition_2d(net, domain=SQUARE)
    _check(part, net, rng.uniform(-1, 1, size=(400, 2)))
    # every code seen on a dense grid is one of the regions
    g = np.stack(np.meshgrid(np.linspace(-1, 1, 60), np.linspace(-1, 1, 60)), -1).reshape(-1, 2)
    grid_codes = {r.tobytes() for r in np.asarray(vq_codes(net, g, concat=True)).astype(np.int16)}
    assert grid_codes <= {r.tobytes() for r in part.codes}


def test_one_layer_count_matches_line_arrangement(rng):
    # lines in general position crossing a convex domain: regions = 1 + lines + crossings inside
    W, b = rng.normal(size=(2, 6)), 0.2 * rng.normal(size=6)
    net = as_spline_net([(W, b, "relu"), (np.ones((6, 1)), np.zeros(1))])
    part = partition_2d(net, domain=SQUARE)
    lines = [(W[:, k], b[k]) for k in range(6)]
    crossings = 0
    for (w1, b1), (w2, b2) in itertools.combinations(lines, 2):
        p = np.linalg.solve(np.stack([w1, w2]), -np.array([b1, b2]))
        crossings += bool(np.all(np.abs(p) < 1))
    corners = np.array(SQUARE)
    inside = sum(np.ptp(np.sign(corners @ w + c)) > 0 for w, c in lines)
    assert part.n_regions == 1 + inside + crossings


@pytest.mark.parametrize("kinds", [[("leaky_relu", 0.1)], ["abs"], ["relu", "abs"]])
def test_other_nonlinearities(rng, kinds):
    net = _mlp(rng, [2, 6, 6, 2], kinds)
    hexagon = [[np.cos(t), np.sin(t)] for t in np.linspace(0, 2 * np.pi, 7)[:-1]]
    part = partition_2d(net, domain=hexagon)
    r = np.sqrt(rng.uniform(0, 0.75, 300))[:, None]
    t = rng.uniform(0, 2 * np.pi, 300)
    _check(part, net, r * np.stack([np.cos(t), np.sin(t)], 1))


def test_max_pool(rng):
    params = [
        (rng.normal(size=(2, 6)), 0.3 * rng.normal(size=6), max_pool_1d(6, size=3)),
        (rng.normal(size=(2, 4)), 0.3 * rng.normal(size=4), "relu"),
        (rng.normal(size=(4, 2)), np.zeros(2)),
    ]
    net = as_spline_net(params)
    part = partition_2d(net, domain=SQUARE)
    _check(part, net, rng.uniform(-1, 1, size=(300, 2)))


def test_plane_through_anchors(rng):
    net = _mlp(rng, [5, 8, 8, 3])
    anchors = rng.normal(size=(3, 5))
    origin, basis, tri = plane_from_anchors(anchors)
    np.testing.assert_allclose(basis @ basis.T, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(origin + tri @ basis, anchors, atol=1e-12)
    part = partition_2d(net, anchors=anchors)
    w = rng.dirichlet(np.ones(3), size=300)
    _check(part, net, w @ part.domain)
    # input-space affine maps agree with the slice maps
    A_in, _ = part.input_affine_map(np.arange(5))
    np.testing.assert_allclose(A_in @ basis.T, part.A[:5], rtol=1e-4, atol=1e-4)
    A_ref, _ = affine_map(net, part.to_input(part.interior_points[:5]))
    np.testing.assert_allclose(A_in, np.asarray(A_ref))


def test_decision_boundary_is_exact(rng):
    net = _mlp(rng, [2, 8, 8, 3])
    part = partition_2d(net, domain=SQUARE)
    assert len(part.boundary) > 0
    t = rng.uniform(0, 1, size=(len(part.boundary), 1))
    pts = part.boundary[:, 0] + t * (part.boundary[:, 1] - part.boundary[:, 0])
    y = np.asarray(forward(net, pts)[0])
    top2 = np.sort(y, axis=1)[:, -2:]
    np.testing.assert_allclose(top2[:, 0], top2[:, 1], atol=1e-4)
    i, j = part.boundary_classes.T
    rows = np.arange(len(y))
    np.testing.assert_allclose(y[rows, i], y[rows, j], atol=1e-4)
    stats = part.statistics()
    assert stats["n_boundary_segments"] == len(part.boundary) and stats["boundary_length"] > 0


def test_class_cells_are_pure(rng):
    net = _mlp(rng, [2, 8, 8, 3])
    part = partition_2d(net, domain=SQUARE)
    cells, cls, region = part.class_cells()
    areas = np.array([0.5 * np.sum(p[:, 0] * np.roll(p[:, 1], -1) - np.roll(p[:, 0], -1) * p[:, 1])
                      for p in cells])
    np.testing.assert_allclose(areas.sum(), 4.0)
    for p, k in zip(cells[:200], cls[:200]):
        w = rng.dirichlet(np.ones(len(p)), size=5)
        y = np.asarray(forward(net, w @ p)[0])
        assert np.all(np.argmax(y, axis=1) == k)
    assert len(cells) >= part.n_regions + len(np.unique(part.boundary_region))


def test_single_output_threshold(rng):
    net = as_spline_net([(np.eye(2), np.zeros(2), "relu"), (np.ones((2, 1)), np.array([-0.5]))])
    part = partition_2d(net, domain=SQUARE)
    assert part.n_regions == 4
    # boundary: relu(x) + relu(y) = 0.5 -> three segments (two axis-parallel, one diagonal)
    assert len(part.boundary) == 3
    np.testing.assert_allclose(part.statistics()["boundary_length"], 2.0 + np.sqrt(0.5))
    part = partition_2d(net, domain=SQUARE, threshold=10.0)
    assert len(part.boundary) == 0


def test_errors(rng):
    net = _mlp(rng, [2, 4, 2])
    with pytest.raises(LayersError, match="domain: the polygon .* is not convex"):
        partition_2d(net, domain=[[0, 0], [2, 0], [0.5, 0.5], [0, 2]])
    with pytest.raises(LayersError, match=r"domain: expected the vertices .* got shape \(2, 2\)"):
        partition_2d(net, domain=[[0, 0], [1, 1]])
    with pytest.raises(LayersError, match="domain: required"):
        partition_2d(net)
    with pytest.raises(LayersError, match="collinear"):
        partition_2d(net, anchors=[[0, 0], [1, 1], [2, 2]])
    net5 = _mlp(rng, [5, 4, 2])
    with pytest.raises(LayersError, match="takes 5 inputs, so three anchor points"):
        partition_2d(net5, domain=SQUARE)
    with pytest.raises(LayersError, match="points have dimension 2 but the network takes 5"):
        partition_2d(net5, anchors=[[0, 0], [1, 0], [0, 1]])
    with pytest.raises(LayersError, match="tol: expected a small non-negative number, got 0.5"):
        partition_2d(net, domain=SQUARE, tol=0.5)


def test_threads_give_the_identical_partition(rng):
    net = _mlp(rng, [2, 16, 16, 16, 3], kinds=["relu", "abs", ("leaky_relu", 0.1)])
    one = partition_2d(net, domain=SQUARE, workers=1)
    two = partition_2d(net, domain=SQUARE, workers=2)
    assert one.n_regions > 100
    for name in ("vertices", "n_vertices", "codes", "A", "b", "boundary", "boundary_region"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name))
    _check(two, net, rng.uniform(-1, 1, size=(300, 2)))
    with pytest.raises(LayersError, match="workers: expected a positive integer .* got 0"):
        partition_2d(net, domain=SQUARE, workers=0)


def test_lazy_fields_match_eager_computation(rng):
    net = _mlp(rng, [2, 12, 12, 2])
    part = partition_2d(net, domain=SQUARE)
    assert "codes" not in vars(part) and "_boundary" not in vars(part)  # nothing computed yet
    cen = part.interior_points
    np.testing.assert_array_equal(
        part.codes, np.asarray(vq_codes(net, part.to_input(cen), concat=True)).astype(np.int16)
    )
    assert part.codes is part.codes  # computed once
    assert len(partition_2d(net, domain=SQUARE, decision_boundary=False).boundary) == 0
