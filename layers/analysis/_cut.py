"""Cutting regions by a layer's unit lines (private kernels of :mod:`partition`).

A layer's pre-activation over region ``r`` (in slice coordinates ``u``) is
``u @ S[r, :2] + S[r, 2]`` with ``S`` of shape ``(R, 3, n)``. Cutting works on all regions of
the layer at once: the (region, unit) pairs whose zero line crosses the region are found with a
bounding-box bound and then checked exactly at the vertices; round ``t`` cuts every piece of
every region by that region's ``t``-th crossing line (batched, :func:`cut_xy`), so the number
of NumPy passes is the largest number of lines crossing one region, not the layer width.

A piece's code differs from its parent's reference code only on the units crossing the parent,
so only those (piece, unit) pairs are evaluated when they are few.
"""

from __future__ import annotations

import numpy as np


def _successor(a):
    """``a[:, i + 1]`` cyclically; with padding that repeats vertex 0 this is the successor of
    every valid vertex."""
    return np.concatenate([a[:, 1:], a[:, :1]], axis=1)


def crossing_pairs(verts, nv, cen, S, eps):
    """Exact (region, unit) pairs whose line crosses the region, and reference signs.

    Parameters
    ----------
    verts : np.ndarray [shape=(R, V, 2)]
    nv : np.ndarray [shape=(R,)]
    cen : np.ndarray [shape=(R, 2)]
        An interior point of each region (vertex mean).
    S : np.ndarray [shape=(R, 3, n)]
    eps : float
        Distance within which a vertex counts as lying on a line.

    Returns
    -------
    rows, cols : np.ndarray [shape=(Q,)]
        Crossing pairs, sorted by region.
    coef : np.ndarray [shape=(Q, 4)]
        ``(g0, g1, c, tol)`` of each pair's line ``g0 u0 + g1 u1 + c = 0``.
    ref : np.ndarray [shape=(R, n), dtype=bool]
        ``pre > 0`` inside each region for the units that do not cross it (for the crossing
        ones: the sign at ``cen``; pieces re-evaluate those).
    """
    lo, hi = verts[:, 0].copy(), verts[:, 0].copy()
    for j in range(1, verts.shape[1]):
        np.minimum(lo, verts[:, j], out=lo)
        np.maximum(hi, verts[:, j], out=hi)
    mid, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
    g0, g1, c = S[:, 0], S[:, 1], S[:, 2]
    z = g0 * mid[:, :1]
    z += g1 * mid[:, 1:]
    z += c
    reach = np.abs(g0)
    reach *= half[:, :1]
    reach += np.abs(g1) * half[:, 1:]
    ref = z > 0
    np.abs(z, out=z)
    rows, cols = np.nonzero(z < reach)
    coef = np.empty((len(rows), 4))
    if not len(rows):
        return rows, cols, coef, ref
    # the box centre may lie outside the polygon: candidates get their sign at ``cen``
    coef[:, :3] = S[rows, :, cols]
    ref[rows, cols] = np.einsum("qi,qi->q", cen[rows], coef[:, :2]) + coef[:, 2] > 0
    coef[:, 3] = eps * np.hypot(coef[:, 0], coef[:, 1])
    pv = verts[rows]
    s = pv[:, :, 0] * coef[:, :1] + pv[:, :, 1] * coef[:, 1:2] + coef[:, 2:3]
    cross = np.any(s > coef[:, 3:], axis=1) & np.any(s < -coef[:, 3:], axis=1)
    return rows[cross], cols[cross], coef[cross], ref


def cut_xy(x, y, nv, s, pos, neg):
    """Cut convex polygons in two along the zero line of a linear function.

    The part where ``s >= 0`` is the cyclic run of vertices that are not negative, preceded and
    followed by the crossing points of the edges entering and leaving that run (only where the
    edge goes from a strictly negative to a strictly positive vertex); likewise for ``s <= 0``.

    Parameters
    ----------
    x, y : np.ndarray [shape=(A, V)]
        Vertex coordinates, counter-clockwise, padded by repeating vertex 0.
    nv : np.ndarray [shape=(A,)]
    s : np.ndarray [shape=(A, V)]
        Values of the linear function at the vertices.
    pos, neg : np.ndarray [shape=(A, V), dtype=bool]
        ``s > tol`` and ``s < -tol``; every polygon has a positive and a negative vertex.

    Returns
    -------
    (px, py, npos), (qx, qy, nneg)
        The parts where ``s >= 0`` and ``s <= 0``, padded by repeating their vertex 0.
    """
    A, V = x.shape
    valid = np.arange(V)[None, :] < nv[:, None]
    pos_n, neg_n = _successor(pos), _successor(neg)
    # last vertex before each run, and last vertex of each run
    before_p = np.argmax(valid & neg & ~neg_n, axis=1)
    end_p = np.argmax(valid & ~neg & neg_n, axis=1)
    before_n = np.argmax(valid & pos & ~pos_n, axis=1)
    end_n = np.argmax(valid & ~pos & pos_n, axis=1)
    rows = np.arange(A)

    def after(i):
        return np.where(i + 1 < nv, i + 1, 0)

    def crossing(i):
        j = after(i)
        si, sj = s[rows, i], s[rows, j]
        den = si - sj
        t = si / np.where(den != 0, den, 1.0)
        xi, yi = x[rows, i], y[rows, i]
        return xi + t * (x[rows, j] - xi), yi + t * (y[rows, j] - yi)

    # an edge is cut where it joins two strictly signed vertices: then the run starts (ends)
    # at a strict vertex
    p_in = pos[rows, after(before_p)]
    p_out = pos[rows, end_p]
    n_in = neg[rows, after(before_n)]
    n_out = neg[rows, end_n]
    xa, ya = crossing(np.where(p_in, before_p, 0))
    xb, yb = crossing(np.where(p_out, end_p, 0))
    first = _run(x, y, nv, before_p, end_p, p_in, p_out, (xa, ya), (xb, yb))
    second = _run(x, y, nv, before_n, end_n, n_in, n_out, (xb, yb), (xa, ya))
    return first, second


def _run(x, y, nv, before, end, enter, leave, p_in, p_out):
    """``[p_in] + vertices before+1 .. end (cyclic) + [p_out]`` of each polygon, padded."""
    m = end - before
    m += np.where(m < 0, nv, 0)
    e_in = enter.astype(np.int64)
    count = m + e_in + leave
    V = int(count.max())
    j = np.arange(V)[None, :]
    src = (before + 1 - e_in)[:, None] + j
    src -= np.where(src >= nv[:, None], nv[:, None], 0)
    np.minimum(src, x.shape[1] - 1, out=src)  # slots past the count: any index, padded below
    rows = np.arange(len(nv))[:, None]
    ox, oy = x[rows, src], y[rows, src]
    ox[enter, 0], oy[enter, 0] = p_in[0][enter], p_in[1][enter]
    k = np.flatnonzero(leave)
    last = (e_in + m)[k]
    ox[k, last], oy[k, last] = p_out[0][k], p_out[1][k]
    pad = j >= count[:, None]
    ox = np.where(pad, ox[:, :1], ox)
    oy = np.where(pad, oy[:, :1], oy)
    return ox, oy, count


def _widen(a, V):
    if a.shape[1] >= V:
        return a
    return np.concatenate([a, np.repeat(a[:, :1], V - a.shape[1], axis=1)], axis=1)


def split_by_lines(verts, nv, rows, coef):
    """Cut every region by all its crossing lines.

    Parameters
    ----------
    verts : np.ndarray [shape=(R, V, 2)]
    nv : np.ndarray [shape=(R,)]
    rows, coef
        From :func:`crossing_pairs`.

    Returns
    -------
    verts, nv, parent
        The pieces: regions that no line crosses first, in order, then the pieces of the cut
        regions; ``parent`` indexes the input regions.
    """
    R = len(verts)
    counts = np.bincount(rows, minlength=R)
    starts = np.cumsum(counts) - counts
    whole = np.flatnonzero(counts == 0)
    done = [(verts[whole, :, 0], verts[whole, :, 1], nv[whole], whole)]
    act = np.flatnonzero(counts)
    ax, ay, an, ap = verts[act, :, 0], verts[act, :, 1], nv[act], act
    t = 0
    while len(ap):
        g = coef[starts[ap] + t]
        s = ax * g[:, :1]
        s += ay * g[:, 1:2]
        s += g[:, 2:3]
        pos = s > g[:, 3:]
        neg = s < -g[:, 3:]
        cut = np.any(pos, axis=1) & np.any(neg, axis=1)
        if cut.any():
            keep = ~cut
            (px, py, npos), (qx, qy, nneg) = cut_xy(
                ax[cut], ay[cut], an[cut], s[cut], pos[cut], neg[cut]
            )
            V = max(ax.shape[1], px.shape[1], qx.shape[1])
            pc = ap[cut]
            ax = np.concatenate([_widen(ax[keep], V), _widen(px, V), _widen(qx, V)])
            ay = np.concatenate([_widen(ay[keep], V), _widen(py, V), _widen(qy, V)])
            an = np.concatenate([an[keep], npos, nneg])
            ap = np.concatenate([ap[keep], pc, pc])
        t += 1
        fin = counts[ap] <= t
        if fin.any():
            done.append((ax[fin], ay[fin], an[fin], ap[fin]))
            live = ~fin
            ax, ay, an, ap = ax[live], ay[live], an[live], ap[live]
    V = max(d[0].shape[1] for d in done)
    out = np.empty((sum(len(d[2]) for d in done), V, 2))
    i = 0
    for dx, dy, dn, _ in done:
        out[i : i + len(dn), :, 0] = _widen(dx, V)
        out[i : i + len(dn), :, 1] = _widen(dy, V)
        i += len(dn)
    return out, np.concatenate([d[2] for d in done]), np.concatenate([d[3] for d in done])


def child_codes(cen, parent, S_child, rows, cols, ref):
    """Codes ``pre > 0`` of every piece, ``(R_new, n)`` bool.

    A piece inherits its parent's reference signs except on the units crossing the parent,
    which are evaluated at the piece's interior point ``cen`` (all units at once when most of
    them cross).
    """
    R, n = ref.shape
    counts = np.bincount(rows, minlength=R)
    n_child = counts[parent]
    total = int(n_child.sum())
    if total > len(parent) * n // 4:
        return np.einsum("pi,pin->pn", cen, S_child[:, :2]) + S_child[:, 2] > 0
    code = ref[parent]
    if total == 0:
        return code
    starts = np.cumsum(counts) - counts
    child = np.repeat(np.arange(len(parent)), n_child)
    offset = np.arange(total) - np.repeat(np.cumsum(n_child) - n_child, n_child)
    unit = cols[starts[parent[child]] + offset]
    gv = S_child[child, :, unit]
    code[child, unit] = np.einsum("qi,qi->q", cen[child], gv[:, :2]) + gv[:, 2] > 0
    return code


def apply_weights(S, W, *, block: int = 32):
    """``S @ W`` over the last axis of ``S (R, 3, n)``, as a stack of small products.

    Each product has ``block`` rows, small enough that a threaded BLAS runs it on the calling
    thread: a big product wakes the BLAS worker threads, which then compete for the cores
    with the rest of the computation (and with the partition's own worker threads).
    """
    R, three, n = S.shape
    flat = S.reshape(R * three, n)
    M = R * three
    full = M - M % block
    out = np.empty((M, W.shape[1]))
    if full:
        out[:full].reshape(-1, block, W.shape[1])[...] = flat[:full].reshape(-1, block, n) @ W
    if full < M:
        out[full:] = flat[full:] @ W
    return out.reshape(R, three, -1)
