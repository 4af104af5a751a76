"""Refining regions layer by layer (private machinery of :func:`partition_2d`).

:func:`refine` takes the domain polygon through every layer: element-wise layers cut regions
by their unit lines (:mod:`layers.analysis._cut`), max-pooling layers into the cells of each
group's maximum. The domain is first halved along a first-layer line and the halves are
refined independently, on two threads by default.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from layers.analysis import _cut
from layers.analysis import _polygon as poly


def refine(verts, nv, S, layers, eps, workers):
    """All regions of ``layers`` over the domain ``verts`` (one polygon).

    ``S (1, 3, d)`` maps slice coordinates to the network input. Returns the regions, the map
    to the output, and one ``(codes, parent)`` block per coded layer.
    """
    halves = _halve_domain(verts, nv, S, layers, eps)
    if halves is not None:  # both halves go through every layer, in parallel
        verts, nv = halves
        return _run_chunked(verts, nv, np.repeat(S, 2, axis=0), layers, eps, workers)
    coded = [i for i, layer in enumerate(layers) if layer.activation.kind != "identity"]
    head = coded[0] + 1 if coded else len(layers)
    verts, nv, S, blocks = _run_layers(verts, nv, S, layers[:head], eps)
    if head < len(layers):
        verts, nv, S, more = _run_chunked(verts, nv, S, layers[head:], eps, workers)
        blocks += more
    return verts, nv, S, blocks


def split_max(verts, nv, G, c, groups, eps):
    """Cut every region into the cells where each member of each group is the maximum."""
    parent = np.arange(len(verts))
    for grp in groups:
        k = len(grp)
        if k == 1:
            continue
        Gp, cp = G[parent][:, :, grp], c[parent][:, grp]  # (P, 2, k), (P, k)
        vals = np.einsum("pvi,pik->pvk", verts, Gp) + cp[:, None, :]
        win = np.argmax(vals, axis=2)
        mixed = np.any(win != win[:, :1], axis=1)
        if not mixed.any():
            continue
        keep_v, keep_n, keep_p = [verts[~mixed]], [nv[~mixed]], [parent[~mixed]]
        mv, mn, mp = verts[mixed], nv[mixed], parent[mixed]
        for r in range(k):
            cv, cn, alive = mv, mn, np.ones(len(mv), bool)
            for q in range(k):
                if q == r:
                    continue
                g = G[mp][:, :, grp[r]] - G[mp][:, :, grp[q]]
                h = c[mp, grp[r]] - c[mp, grp[q]]
                s = np.einsum("pvi,pi->pv", cv, g) + h[:, None]
                sg = poly.signs(s, eps * np.hypot(g[:, 0], g[:, 1])[:, None])
                cv, cn, ok = poly.clip(cv, cn, s, sg, strict=q < r)
                alive &= ok
            keep_v.append(cv[alive])
            keep_n.append(cn[alive])
            keep_p.append(mp[alive])
        V = max(x.shape[1] for x in keep_v)
        verts = np.concatenate([poly.widen(x, V) for x in keep_v])
        nv = np.concatenate(keep_n)
        parent = np.concatenate(keep_p)
    return verts, nv, parent



# regions are refined in this many independent chunks (fixed, so that the result, region
# order included, does not depend on the number of worker threads)
_CHUNKS = 2


def _halve_domain(verts, nv, S, layers, eps):
    """Cut the domain along one line of the first coded (element-wise) layer, if any.

    That line is part of the partition anyway, so the two halves can be refined independently
    from the first layer on. The line passing closest to the domain's vertex mean is used,
    for balance. Returns ``(verts, nv)`` of the two halves, or ``None``.
    """
    for layer in layers:
        if layer.W is not None:
            S = S @ np.asarray(layer.W, dtype=float)
        if layer.b is not None:
            S = S.copy()
            S[:, 2] += np.asarray(layer.b, dtype=float)
        kind = layer.activation.kind
        if kind == "max_pool":
            return None
        if kind != "identity":
            break
    else:
        return None
    cen = poly.centroids(verts, nv)
    rows, cols, coef, _ = _cut.crossing_pairs(verts, nv, cen, S, eps)
    if not len(cols):
        return None
    dist = np.abs(cen[0] @ coef[:, :2].T + coef[:, 2]) / np.hypot(coef[:, 0], coef[:, 1])
    k = int(np.argmin(dist))
    halves, n_halves, _ = _cut.split_by_lines(verts, nv, rows[k : k + 1], coef[k : k + 1])
    return halves, n_halves


def _run_layers(verts, nv, S, layers, eps):
    """Refine regions through ``layers``; ``S`` maps slice coordinates to their input.

    Returns the regions, the map to the last layer's output, and one ``(codes, parent)`` block
    per coded layer (``parent`` indexes the regions before that layer).
    """
    blocks = []
    cen = None  # interior points of the current regions, when known
    pending = None  # children's maps not yet built: (S, parent, code, slope)
    for i, layer in enumerate(layers):
        W = None if layer.W is None else np.asarray(layer.W, dtype=float)
        if pending is not None:
            S = _cut.children_maps(*pending, W)
            pending = None
        elif W is not None:
            S = _cut.apply_weights(S, W)
        else:
            S = S.copy()
        if layer.b is not None:
            S[:, 2] += np.asarray(layer.b, dtype=float)
        act = layer.activation
        if act.kind == "identity":
            continue
        if act.kind == "max_pool":
            verts, nv, parent = split_max(verts, nv, S[:, :2], S[:, 2], act.groups, eps)
            S = np.take(S, parent, axis=0)
            cen = poly.centroids(verts, nv)
            pre = np.einsum("pi,pin->pn", cen, S[:, :2]) + S[:, 2]
            code = np.argmax(pre[:, act.groups], axis=2)
            sel = act.groups[np.arange(act.groups.shape[0])[None, :], code]
            sel3 = np.broadcast_to(sel[:, None, :], (len(S), 3, sel.shape[1]))
            S = np.take_along_axis(S, sel3, axis=2)
            blocks.append((code, parent))
            continue
        if cen is None:
            cen = poly.centroids(verts, nv)
        rows, cols, coef, ref = _cut.crossing_pairs(verts, nv, cen, S, eps)
        verts, nv, parent = _cut.split_by_lines(verts, nv, rows, coef)
        cen = poly.centroids(verts, nv)
        code = _cut.child_codes(cen, parent, S, rows, cols, ref)
        blocks.append((code, parent))
        slope = act.negative_slope()
        tail = _affine_tail(layers[i + 1 :], S.shape[2])
        if tail is not None:  # only affine layers follow, into few outputs
            S = _cut.through_affine_tail(S, parent, code, ref, slope, *tail)
            break
        pending = (S, parent, code, slope)
    if pending is not None:
        S = _cut.children_maps(*pending)
    return verts, nv, S, blocks


def _affine_tail(layers, n):
    """``(W, b)`` of trailing identity-activation layers if they narrow ``n`` units to at
    most ``n // 4`` outputs (else ``None``)."""
    if not layers or any(layer.activation.kind != "identity" for layer in layers):
        return None
    W, b = np.eye(n), np.zeros(n)
    for layer in layers:
        if layer.W is not None:
            Wl = np.asarray(layer.W, dtype=float)
            W, b = W @ Wl, b @ Wl
        if layer.b is not None:
            b = b + np.asarray(layer.b, dtype=float)
    return (W, b) if W.shape[1] <= n // 4 else None


def _run_chunked(verts, nv, S, layers, eps, workers):
    """:func:`_run_layers` on contiguous chunks of the regions, optionally in threads.

    Regions never interact, so the chunks' results, concatenated, are the partition; NumPy
    releases the GIL inside its array loops, so two threads use two cores.
    """
    R = len(verts)
    bounds = np.linspace(0, R, min(_CHUNKS, R) + 1).astype(int)
    jobs = [
        (verts[lo:hi], nv[lo:hi], S[lo:hi], layers, eps) for lo, hi in zip(bounds[:-1], bounds[1:])
    ]
    if workers > 1 and len(jobs) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(lambda job: _run_layers(*job), jobs))
    else:
        parts = [_run_layers(*job) for job in jobs]
    V = max(p[0].shape[1] for p in parts)
    out_v = np.concatenate([poly.widen(p[0], V) for p in parts])
    out_n = np.concatenate([p[1] for p in parts])
    out_S = np.concatenate([p[2] for p in parts])
    blocks = []
    offsets = [int(lo) for lo in bounds[:-1]]  # region offsets of each chunk, layer by layer
    for j in range(len(parts[0][3])):
        codes = np.concatenate([p[3][j][0] for p in parts])
        parent = np.concatenate([p[3][j][1] + off for p, off in zip(parts, offsets)])
        blocks.append((codes, parent))
        offsets = np.cumsum([0] + [len(p[3][j][1]) for p in parts])[:-1].tolist()
    return out_v, out_n, out_S, blocks
