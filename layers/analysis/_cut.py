"""Cutting regions by a layer's unit lines (private kernels of :mod:`partition`).

A layer's pre-activation over region ``r`` (in slice coordinates ``u``) is
``u @ S[r, :2] + S[r, 2]`` with ``S`` of shape ``(R, 3, n)``. Cutting works on all regions of
the layer at once: the (region, unit) pairs whose zero line crosses the region are found with a
bounding-box bound and then checked exactly at the vertices; round ``t`` cuts every piece of
every region by that region's ``t``-th crossing line (batched, :func:`cut_z`), so the number
of NumPy passes is the largest number of lines crossing one region, not the layer width.

A piece's code differs from its parent's reference code only on the units crossing the parent,
so only those (piece, unit) pairs are evaluated when they are few.
"""

from __future__ import annotations

import numpy as np


def _gather_units(S, rows, cols):
    """``S[rows, :, cols]`` ``(Q, 3)`` through flat indices (faster than mixed indexing)."""
    n = S.shape[2]
    idx = (rows * (3 * n) + cols)[:, None] + np.arange(0, 3 * n, n)[None, :]
    return np.take(S.reshape(-1), idx)


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
    R, _, n = S.shape
    # z at the box centre and its largest change over the box, as stacks of tiny products
    w = np.concatenate([mid, np.ones((R, 1))], axis=1)[:, None, :]
    z = np.matmul(w, S)[:, 0]
    reach = np.matmul(half[:, None, :], np.abs(S[:, :2]))[:, 0]
    ref = z > 0
    np.abs(z, out=z)
    flat = np.flatnonzero(z < reach)
    rows, cols = np.divmod(flat, n)
    coef = np.empty((len(rows), 4))
    if not len(rows):
        return rows, cols, coef, ref
    # the box centre may lie outside the polygon: candidates get their sign at ``cen``
    coef[:, :3] = _gather_units(S, rows, cols)
    ref[rows, cols] = np.einsum("qi,qi->q", cen[rows], coef[:, :2]) + coef[:, 2] > 0
    coef[:, 3] = eps * np.hypot(coef[:, 0], coef[:, 1])
    pv = verts[rows]
    s = pv[:, :, 0] * coef[:, :1] + pv[:, :, 1] * coef[:, 1:2] + coef[:, 2:3]
    cross = np.any(s > coef[:, 3:], axis=1) & np.any(s < -coef[:, 3:], axis=1)
    return rows[cross], cols[cross], coef[cross], ref


def _as_complex(verts):
    """``(R, V, 2)`` float64 -> ``(R, V)`` complex128 view ``x + iy`` (no copy if contiguous)."""
    return np.ascontiguousarray(verts, dtype=np.float64).view(np.complex128)[..., 0]


def cut_z(z, nv, s, pos, neg):
    """Cut convex polygons in two along the zero line of a linear function.

    The part where ``s >= 0`` is the cyclic run of vertices that are not strictly negative,
    preceded and followed by the crossing points of the edges entering and leaving the run
    (where such an edge joins two strictly signed vertices); likewise for ``s <= 0``. Both
    parts are built in one batch.

    Parameters
    ----------
    z : np.ndarray [shape=(A, V), dtype=complex128]
        Vertices ``x + iy``, counter-clockwise, padded by repeating vertex 0.
    nv : np.ndarray [shape=(A,)]
    s : np.ndarray [shape=(A, V)]
        Values of the linear function at the vertices.
    pos, neg : np.ndarray [shape=(A, V), dtype=bool]
        ``s > tol`` and ``s < -tol``; every polygon has a positive and a negative vertex.

    Returns
    -------
    parts : np.ndarray [shape=(2 A, V'), dtype=complex128]
        The ``s >= 0`` parts of the ``A`` polygons, then their ``s <= 0`` parts, padded by
        repeating their vertex 0.
    counts : np.ndarray [shape=(2 A,)]
    """
    A, V = z.shape
    valid = np.arange(V)[None, :] < nv[:, None]
    out = np.stack([neg, pos])  # the vertices each part leaves out
    out_next = np.concatenate([out[:, :, 1:], out[:, :, :1]], axis=2)  # cyclic successor
    before = np.argmax(valid & out & ~out_next, axis=2).ravel()  # last vertex before the run
    end = np.argmax(valid & ~out & out_next, axis=2).ravel()  # last vertex of the run
    nv2 = np.concatenate([nv, nv])
    rows = np.arange(2 * A)
    first = before + 1
    first -= np.where(first >= nv2, nv2, 0)
    strict = np.concatenate([pos, neg])  # strictly inside each part
    enter, leave = strict[rows, first], strict[rows, end]
    # the two crossing points: on the edges after before[:A] (entering the s >= 0 part) and
    # after end[:A] (leaving it); the s <= 0 part enters and leaves through the same two
    src_rows = rows % A
    i = np.concatenate([before[:A], end[:A]])
    j = i + 1
    j -= np.where(j >= nv2, nv2, 0)
    si, sj = s[src_rows, i], s[src_rows, j]
    den = si - sj
    t = si / np.where(den != 0, den, 1.0)
    zi = z[src_rows, i]
    point = zi + t * (z[src_rows, j] - zi)
    p_in = point  # the s <= 0 part enters where the s >= 0 part leaves, and vice versa
    p_out = np.concatenate([point[A:], point[:A]])
    m = end - before
    m += np.where(m < 0, nv2, 0)
    e_in = enter.astype(np.int64)
    count = m + e_in + leave
    slot = np.arange(int(count.max()))[None, :]
    src = (first - e_in)[:, None] + slot
    src -= np.where(src >= nv2[:, None], nv2[:, None], 0)
    np.minimum(src, V - 1, out=src)  # slots past the count: any index, padded below
    parts = z[src_rows[:, None], src]
    parts[enter, 0] = p_in[enter]
    k = np.flatnonzero(leave)
    parts[k, (e_in + m)[k]] = p_out[k]
    return np.where(slot < count[:, None], parts, parts[:, :1]), count


def _widen(a, V):
    """Pad ``(P, V0)`` to ``(P, V)`` columns by repeating column 0."""
    if a.shape[1] >= V:
        return a
    return np.concatenate([a, np.repeat(a[:, :1], V - a.shape[1], axis=1)], axis=1)


def split_by_lines(verts, nv, rows, coef, *, rounds: int = 8):
    """Cut every region by all its crossing lines.

    Parameters
    ----------
    verts : np.ndarray [shape=(R, V, 2)]
    nv : np.ndarray [shape=(R,)]
    rows, coef
        From :func:`crossing_pairs`.
    rounds : int
        After this many rounds, the pieces of regions that still have lines to go are
        checked against those lines (most no longer cross a given small piece) and cut
        recursively, so a region crossed by many lines costs about its number of pieces
        times the lines that really cross each, not pieces times all its lines.

    Returns
    -------
    verts, nv, parent
        The pieces: regions that no line crosses first, in order, then the pieces of the cut
        regions; ``parent`` indexes the input regions.
    """
    z, n_out, parent = _split_z(_as_complex(verts), nv, rows, coef, rounds)
    V = z.shape[1]
    return np.ascontiguousarray(z).view(np.float64).reshape(len(z), V, 2), n_out, parent


def _split_z(z, nv, rows, coef, rounds):
    R = len(z)
    counts = np.bincount(rows, minlength=R)
    starts = np.cumsum(counts) - counts
    whole = np.flatnonzero(counts == 0)
    done = [(z[whole], nv[whole], whole)]
    act = np.flatnonzero(counts)
    az, an, ap = z[act], nv[act], act
    t = 0
    while len(ap) and t < rounds:
        g = coef[starts[ap] + t]
        s = az.real * g[:, :1]
        s += az.imag * g[:, 1:2]
        s += g[:, 2:3]
        pos = s > g[:, 3:]
        neg = s < -g[:, 3:]
        cut = np.any(pos, axis=1) & np.any(neg, axis=1)
        if cut.any():
            keep = ~cut
            parts, n_parts = cut_z(az[cut], an[cut], s[cut], pos[cut], neg[cut])
            V = max(az.shape[1], parts.shape[1])
            pc = ap[cut]
            az = np.concatenate([_widen(az[keep], V), _widen(parts, V)])
            an = np.concatenate([an[keep], n_parts])
            ap = np.concatenate([ap[keep], pc, pc])
        t += 1
        fin = counts[ap] <= t
        if fin.any():
            done.append((az[fin], an[fin], ap[fin]))
            live = ~fin
            az, an, ap = az[live], an[live], ap[live]
    if len(ap):
        # remaining lines of every live piece, kept only where they cross that piece
        left = counts[ap] - t
        piece = np.repeat(np.arange(len(ap)), left)
        offset = np.arange(len(piece)) - np.repeat(np.cumsum(left) - left, left)
        g = coef[starts[ap][piece] + t + offset]
        pz = az[piece]
        s = pz.real * g[:, :1] + pz.imag * g[:, 1:2] + g[:, 2:3]
        cross = np.any(s > g[:, 3:], axis=1) & np.any(s < -g[:, 3:], axis=1)
        sz, sn, sp = _split_z(az, an, piece[cross], g[cross], rounds)
        done.append((sz, sn, ap[sp]))
    V = max(d[0].shape[1] for d in done)
    out = np.concatenate([_widen(d[0], V) for d in done])
    return out, np.concatenate([d[1] for d in done]), np.concatenate([d[2] for d in done])


def child_codes(cen, parent, S, rows, cols, ref):
    """Codes ``pre > 0`` of every piece, ``(R_new, n)`` bool.

    A piece inherits its parent's reference signs except on the units crossing the parent,
    which are evaluated at the piece's interior point ``cen`` (all units at once when most of
    them cross). ``S`` holds the parents' maps.
    """
    R, n = ref.shape
    counts = np.bincount(rows, minlength=R)
    n_child = counts[parent]
    total = int(n_child.sum())
    if total > len(parent) * n // 4:
        Sp = np.take(S, parent, axis=0)
        return np.einsum("pi,pin->pn", cen, Sp[:, :2]) + Sp[:, 2] > 0
    code = ref[parent]
    if total == 0:
        return code
    starts = np.cumsum(counts) - counts
    child = np.repeat(np.arange(len(parent)), n_child)
    offset = np.arange(total) - np.repeat(np.cumsum(n_child) - n_child, n_child)
    unit = cols[starts[parent[child]] + offset]
    gv = _gather_units(S, parent[child], unit)
    code[child, unit] = np.einsum("qi,qi->q", cen[child], gv[:, :2]) + gv[:, 2] > 0
    return code


def through_affine_tail(S, parent, code, ref, slope, W, b):
    """Children's maps through their activation and an affine tail ``h @ W + b``.

    Used when the tail is narrow (the network's output layer): the tail is applied to every
    *parent* with its reference code, then each child gets one rank-one correction
    ``delta * S[p, :, k] (x) W[k]`` per unit whose sign differs from the reference, instead
    of materialising every child's full-width map.

    Parameters
    ----------
    S : np.ndarray [shape=(R, 3, n)]
        Parents' pre-activation maps.
    parent : np.ndarray [shape=(R_new,)]
    code, ref : np.ndarray [shape=(R_new, n) and (R, n), dtype=bool]
    slope : float
        Slope where the code is 0 (1 where it is 1).
    W : np.ndarray [shape=(n, m)]
    b : np.ndarray [shape=(m,)]

    Returns
    -------
    np.ndarray [shape=(R_new, 3, m)]
    """
    ref_slope = np.where(ref, 1.0, slope)
    Q = apply_weights(S * ref_slope[:, None, :], W)
    Q[:, 2] += b
    out = np.take(Q, parent, axis=0)
    child, unit = np.nonzero(code != ref[parent])
    if len(child):
        delta = np.where(code[child, unit], 1.0 - slope, slope - 1.0)
        col = _gather_units(S, parent[child], unit) * delta[:, None]
        np.add.at(out, child, col[:, :, None] * W[unit][:, None, :])
    return out


def children_maps(S, parent, code, slope, W=None, *, chunk: int = 1024):
    """Children's post-activation maps ``S[parent] * slope(code)``, times ``W`` if given.

    Done ``chunk`` children at a time, so that the gathered maps are still in cache when
    they are masked and multiplied (about 30% less time than three full passes).

    Parameters
    ----------
    S : np.ndarray [shape=(R, 3, n)]
        Parents' pre-activation maps.
    parent : np.ndarray [shape=(R_new,)]
    code : np.ndarray [shape=(R_new, n), dtype=bool]
    slope : float
        Slope where the code is 0 (1 where it is 1).
    W : np.ndarray [shape=(n, m)], optional

    Returns
    -------
    np.ndarray [shape=(R_new, 3, m or n)]
    """
    n = S.shape[2]
    out = np.empty((len(parent), 3, n if W is None else W.shape[1]))
    for a in range(0, len(parent), chunk):
        T = np.take(S, parent[a : a + chunk], axis=0)
        c = code[a : a + chunk, None, :]
        if slope == 0.0:
            np.multiply(T, c, out=T)
        else:
            T *= np.where(c, 1.0, slope)
        out[a : a + chunk] = T if W is None else apply_weights(T, W)
    return out


def apply_weights(S, W, *, block: int | None = None):
    """``S @ W`` over the last axis of ``S (R, 3, n)``, as a stack of small products.

    Each product has ``block`` rows, few enough that a threaded BLAS runs it on the calling
    thread (OpenBLAS does so below ``rows * n * m = 2**18``): one big product wakes the BLAS
    worker threads, which then spin and compete for the cores with the rest of the
    computation (and with the partition's own worker threads).
    """
    R, three, n = S.shape
    m = W.shape[1]
    if block is None:
        block = int(np.clip((1 << 18) // max(n * m, 1), 8, 64))
    flat = S.reshape(R * three, n)
    M = R * three
    full = M - M % block
    out = np.empty((M, m))
    if full:
        out[:full].reshape(-1, block, m)[...] = flat[:full].reshape(-1, block, n) @ W
    if full < M:
        out[full:] = flat[full:] @ W
    return out.reshape(R, three, m)
