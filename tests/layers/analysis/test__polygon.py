"""Tests for layers.analysis._polygon: batched convex-polygon kernels."""

import numpy as np

from layers.analysis import _polygon as poly


def _square():
    return np.array([[[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]]])


def test_split_square_by_diagonal_and_vertical():
    v, nv = _square(), np.array([4])
    s = v[..., 0] - 0.5  # x = 0.5
    sg = poly.signs(s, 1e-12)
    pos, npos, neg, nneg = poly.split(v, nv, s, sg)
    assert npos.tolist() == [4] and nneg.tolist() == [4]
    np.testing.assert_allclose(poly.areas(pos), [1.0])
    np.testing.assert_allclose(poly.areas(neg), [3.0])
    s = v[..., 0] + v[..., 1]  # through two vertices: triangles
    sg = poly.signs(s, 1e-12)
    pos, npos, neg, nneg = poly.split(v, nv, s, sg)
    assert npos.tolist() == [3] and nneg.tolist() == [3]
    np.testing.assert_allclose(poly.areas(pos), [2.0])


def test_padding_is_harmless_and_clip():
    v = poly.widen(_square(), 7)
    nv = np.array([4])
    np.testing.assert_allclose(poly.areas(v), [4.0])
    np.testing.assert_allclose(poly.centroids(v, nv), [[0.0, 0.0]])
    s = v[..., 1] - 0.0
    out, nout, alive = poly.clip(v, nv, s, poly.signs(s, 1e-12), strict=False)
    assert alive.tolist() == [True] and nout.tolist() == [4]
    np.testing.assert_allclose(poly.areas(out), [2.0])
    s = v[..., 1] - 5.0  # whole square below the line
    _, _, alive = poly.clip(v, nv, s, poly.signs(s, 1e-12), strict=True)
    assert alive.tolist() == [False]


def test_segment_in_polygon():
    v, nv = _square(), np.array([4])
    s = v[..., 0] - v[..., 1] * 0.5
    seg, ok = poly.segment_in_polygon(v, nv, s, poly.signs(s, 1e-12))
    assert ok.tolist() == [True]
    ends = seg[0][np.argsort(seg[0][:, 1])]
    np.testing.assert_allclose(ends, [[-0.5, -1.0], [0.5, 1.0]])
