"""Batched convex-polygon kernels in NumPy (private).

Polygons are stored padded: ``verts (P, V, 2)`` with ``nv (P,)`` valid vertices in
counter-clockwise order; the slots past ``nv`` repeat the *first* vertex. The padded sequence is
then the same polygon with zero-length edges, so the shoelace formula, minima, maxima and the
cyclic successor ``roll(-1)`` all work on the padded array directly.
"""

from __future__ import annotations

import numpy as np


def areas(verts: np.ndarray) -> np.ndarray:
    """Areas of padded counter-clockwise polygons ``(P, V, 2)`` (shoelace formula)."""
    x, y = verts[..., 0], verts[..., 1]
    xn, yn = np.roll(x, -1, axis=-1), np.roll(y, -1, axis=-1)
    return 0.5 * np.sum(x * yn - xn * y, axis=-1)


def centroids(verts: np.ndarray, nv: np.ndarray) -> np.ndarray:
    """Vertex means (an interior point of each non-degenerate convex polygon), ``(P, 2)``."""
    mask = np.arange(verts.shape[1])[None, :] < nv[:, None]
    return np.einsum("pvi,pv->pi", verts, mask) / nv[:, None]


def signs(s: np.ndarray, tol) -> np.ndarray:
    """Sign of ``s`` with a dead zone ``|s| <= tol`` mapped to 0 (``tol`` broadcasts)."""
    return (s > tol).astype(np.int8) - (s < -tol).astype(np.int8)


def _compact(cand: np.ndarray, keep: np.ndarray):
    """Keep the flagged candidate points of every row, in order; pad with the first kept."""
    A, C = keep.shape
    counts = keep.sum(axis=1)
    vout = max(int(counts.max()), 1)
    rows, cols = np.nonzero(keep)
    pos = np.cumsum(keep, axis=1)[rows, cols] - 1
    src = np.zeros((A, vout), np.int64)
    src[rows, pos] = cols
    slot = np.arange(vout)[None, :]
    src = np.where(slot < counts[:, None], src, src[:, :1]) + (np.arange(A) * C)[:, None]
    flat = np.ascontiguousarray(cand).view(np.complex128).reshape(-1)  # one point per item
    return np.take(flat, src).view(np.float64).reshape(A, vout, 2), counts


def _edges(verts, s, sg):
    """Successor values and the crossing points of every edge ``i -> i+1``."""
    s_n = np.roll(s, -1, axis=1)
    sg_n = np.roll(sg, -1, axis=1)
    cross = sg * sg_n < 0
    t = np.where(cross, s / np.where(cross, s - s_n, 1.0), 0.0)
    p = verts + t[..., None] * (np.roll(verts, -1, axis=1) - verts)
    return cross, p


def split(verts: np.ndarray, nv: np.ndarray, s: np.ndarray, sg: np.ndarray):
    """Cut convex polygons by the zero line of a linear function sampled at their vertices.

    Parameters
    ----------
    verts : np.ndarray [shape=(A, V, 2)]
    nv : np.ndarray [shape=(A,)]
    s : np.ndarray [shape=(A, V)]
        Values of the linear function at the vertices.
    sg : np.ndarray [shape=(A, V), dtype=int8]
        Their signs with the tolerance dead zone (see :func:`signs`); every polygon must have
        both a positive and a negative vertex.

    Returns
    -------
    pos, npos, neg, nneg
        The parts where the function is ``>= 0`` and ``<= 0``, padded, with vertex counts.
    """
    A, V, _ = verts.shape
    valid = np.arange(V)[None, :] < nv[:, None]
    cross, p = _edges(verts, s, sg)
    cand = np.stack([verts, p], axis=2).reshape(A, 2 * V, 2)
    keep_pos = np.stack([valid & (sg >= 0), cross], axis=2).reshape(A, 2 * V)
    keep_neg = np.stack([valid & (sg <= 0), cross], axis=2).reshape(A, 2 * V)
    pos, npos = _compact(cand, keep_pos)
    neg, nneg = _compact(cand, keep_neg)
    return pos, npos, neg, nneg


def clip(verts: np.ndarray, nv: np.ndarray, s: np.ndarray, sg: np.ndarray, *, strict: bool):
    """Keep the part of each polygon where a linear function is ``>= 0`` (``> 0`` if strict).

    Returns
    -------
    out, nout, alive
        Clipped polygons (padded), vertex counts, and a mask of the non-empty ones. A polygon
        lying on the line within tolerance is kept whole if not ``strict`` and dropped if
        ``strict`` (a tie-breaking rule that keeps the cells of a max-affine unit disjoint).
    """
    has_pos = np.any(sg > 0, axis=1)
    has_neg = np.any(sg < 0, axis=1)
    cut = has_pos & has_neg
    alive = has_pos if strict else (~has_neg | has_pos)
    out, nout = verts, nv.copy()
    if cut.any():
        idx = np.nonzero(cut)[0]
        pos, npos, _, _ = split(verts[idx], nv[idx], s[idx], sg[idx])
        V = max(out.shape[1], pos.shape[1])
        out = widen(out, V).copy()
        out[idx] = widen(pos, V)
        nout[idx] = npos
    return out, nout, alive


def widen(verts: np.ndarray, V: int) -> np.ndarray:
    """Pad ``(P, V0, 2)`` to ``(P, V, 2)`` by repeating the first vertex."""
    if verts.shape[1] >= V:
        return verts
    extra = np.repeat(verts[:, :1, :], V - verts.shape[1], axis=1)
    return np.concatenate([verts, extra], axis=1)


def segment_in_polygon(verts, nv, s, sg):
    """Segment where a linear function vanishes inside each polygon (both signs present).

    Returns
    -------
    seg : np.ndarray [shape=(A, 2, 2)]
        The two crossing points (edges where the sign changes, or on-line vertices).
    ok : np.ndarray [shape=(A,), dtype=bool]
        Where a proper segment exists.
    """
    A, V, _ = verts.shape
    valid = np.arange(V)[None, :] < nv[:, None]
    cross, p = _edges(verts, s, sg)
    on = valid & (sg == 0)
    cand = np.stack([verts, p], axis=2).reshape(A, 2 * V, 2)
    keep = np.stack([on, cross], axis=2).reshape(A, 2 * V)
    counts = keep.sum(axis=1)
    first = np.argmax(keep, axis=1)
    last = 2 * V - 1 - np.argmax(keep[:, ::-1], axis=1)
    rows = np.arange(A)
    seg = np.stack([cand[rows, first], cand[rows, last]], axis=1)
    return seg, counts >= 2
