"""Tests for layers.analysis._cut: batched cutting kernels of the exact partition."""

import numpy as np
import pytest
from scipy.spatial import ConvexHull

from layers.analysis import _cut
from layers.analysis import _polygon as poly


def _random_convex(rng, n_poly):
    polys = []
    for _ in range(n_poly):
        pts = rng.normal(size=(rng.integers(3, 12), 2))
        polys.append(pts[ConvexHull(pts).vertices])
    V = max(len(p) for p in polys)
    verts = np.stack([np.concatenate([p, np.repeat(p[:1], V - len(p), 0)]) for p in polys])
    return verts, np.array([len(p) for p in polys])


def _same_polygon(a, b):
    """Equal up to the cyclic starting vertex."""
    return len(a) == len(b) and any(
        np.allclose(np.roll(a, i, axis=0), b, atol=1e-13) for i in range(len(a))
    )


def test_cut_z_matches_mask_compaction(rng):
    verts, nv = _random_convex(rng, 400)
    g = rng.normal(size=(400, 2))
    c = 0.3 * rng.normal(size=400)
    through = rng.random(400) < 0.3  # lines through a vertex exercise the on-line cases
    c[through] = -np.einsum("pi,pi->p", verts[through, 0], g[through])
    s = np.einsum("pvi,pi->pv", verts, g) + c[:, None]
    sg = poly.signs(s, 1e-12)
    ok = np.any(sg > 0, axis=1) & np.any(sg < 0, axis=1)
    assert ok.sum() > 200 and (ok & through).sum() > 30
    ref_pos, ref_npos, ref_neg, ref_nneg = poly.split(verts[ok], nv[ok], s[ok], sg[ok])
    A = int(ok.sum())
    z = verts[ok, :, 0] + 1j * verts[ok, :, 1]
    parts, counts = _cut.cut_z(z, nv[ok], s[ok], sg[ok] > 0, sg[ok] < 0)
    npos, nneg = counts[:A], counts[A:]
    np.testing.assert_array_equal(npos, ref_npos)
    np.testing.assert_array_equal(nneg, ref_nneg)
    pos = np.stack([parts[:A].real, parts[:A].imag], -1)
    neg = np.stack([parts[A:].real, parts[A:].imag], -1)
    for got, n, ref in ((pos, npos, ref_pos), (neg, nneg, ref_neg)):
        for a, k, b in zip(got, n, ref):
            assert _same_polygon(a[:k], b[:k])
            assert np.all(a[k:] == a[0])  # padding repeats vertex 0
        np.testing.assert_allclose(poly.areas(got), poly.areas(ref), atol=1e-12)


def test_crossing_pairs_are_exact_and_split_covers(rng):
    verts, nv = _random_convex(rng, 50)
    S = rng.normal(size=(50, 3, 7))
    cen = poly.centroids(verts, nv)
    rows, cols, coef, ref = _cut.crossing_pairs(verts, nv, cen, S, 1e-12)
    vals = np.einsum("rvi,rin->rvn", verts, S[:, :2]) + S[:, None, 2]
    valid = (np.arange(verts.shape[1])[None, :] < nv[:, None])[..., None]
    crosses = np.any((vals > 1e-9) & valid, 1) & np.any((vals < -1e-9) & valid, 1)
    got = np.zeros_like(crosses)
    got[rows, cols] = True
    np.testing.assert_array_equal(got, crosses)
    assert np.all(np.diff(rows) >= 0)
    # reference signs are right wherever the unit does not cross the region
    pre = np.einsum("ri,rin->rn", cen, S[:, :2]) + S[:, 2]
    np.testing.assert_array_equal(ref[~crosses], (pre > 0)[~crosses])
    out, n_out, parent = _cut.split_by_lines(verts, nv, rows, coef)
    assert len(out) >= len(nv) + crosses.sum()  # at least one new piece per crossing line
    # no piece is crossed by any line of its parent any more
    vals = np.einsum("pvi,pin->pvn", out, S[parent, :2]) + S[parent, None, 2]
    valid = (np.arange(out.shape[1])[None, :] < n_out[:, None])[..., None]
    still = np.any((vals > 1e-9) & valid, 1) & np.any((vals < -1e-9) & valid, 1)
    assert not still.any()
    np.testing.assert_allclose(
        np.bincount(parent, weights=poly.areas(out), minlength=50), poly.areas(verts)
    )


@pytest.mark.parametrize("block", [1, 5, 32])
def test_apply_weights_equals_matmul(rng, block):
    S, W = rng.normal(size=(37, 3, 6)), rng.normal(size=(6, 4))
    np.testing.assert_allclose(_cut.apply_weights(S, W, block=block), S @ W, rtol=1e-13)
