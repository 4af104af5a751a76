"""Exact input-space partition of a piecewise-affine network on a 2-D slice.

Layer by layer, every current region is cut by the zero lines of that layer's pre-activations
(pulled back through the region's affine map): the recursive power-diagram subdivision of [1]_,
restricted to a plane as in SplineCam [2]_. All regions crossed by a unit's line are cut at
once with batched convex-polygon clipping, and only the regions a line actually crosses are
touched, so the cost grows with the number of (region, crossing line) pairs.

References
----------
.. [1] R. Balestriero, R. Cosentino, B. Aazhang and R. Baraniuk, "The Geometry of Deep
   Networks: Power Diagram Subdivision", NeurIPS 2019.
.. [2] A. I. Humayun, R. Balestriero, G. Balakrishnan and R. Baraniuk, "SplineCam: Exact
   Visualization and Characterization of Deep Network Geometry and Decision Boundaries",
   CVPR 2023.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from layers.analysis import _polygon as poly
from layers.analysis.spec import SplineNet, as_spline_net
from layers.errors import LayersError

__all__ = ["Partition2D", "partition_2d", "plane_from_anchors"]



@dataclass(frozen=True, eq=False)
class Partition2D:
    """Exact regions of a network restricted to a 2-D convex polygon.

    Coordinates ``u = (u0, u1)`` are those of the slice: the input is
    ``x = origin + u @ basis`` (for a 2-D input without anchors, ``u`` is ``x``).

    Attributes
    ----------
    vertices : np.ndarray [shape=(P, V, 2)]
        Region vertices, counter-clockwise, padded by repeating the last valid vertex.
    n_vertices : np.ndarray [shape=(P,)]
    codes : np.ndarray [shape=(P, n_codes), dtype=int]
        Concatenated VQ codes of every layer (see :func:`layers.analysis.vq_codes`).
    code_dims : tuple of int
        Length of each layer's block of ``codes``.
    A : np.ndarray [shape=(P, out, 2)]
        Slope of the network output in each region, in slice coordinates.
    b : np.ndarray [shape=(P, out)]
        Offset: ``f(origin + u @ basis) = A[p] @ u + b[p]`` inside region ``p``.
    origin : np.ndarray [shape=(d,)]
    basis : np.ndarray [shape=(2, d)]
        Orthonormal rows spanning the slice.
    domain : np.ndarray [shape=(m, 2)]
        The convex domain polygon (counter-clockwise), in slice coordinates.
    boundary : np.ndarray [shape=(S, 2, 2)]
        Decision-boundary segments (exact), in slice coordinates.
    boundary_region : np.ndarray [shape=(S,)]
        Region holding each segment.
    boundary_classes : np.ndarray [shape=(S, 2)]
        The two tied classes of each segment (``(0, 0)`` for a single-output threshold).
    net : SplineNet
    """

    vertices: np.ndarray
    n_vertices: np.ndarray
    codes: np.ndarray
    code_dims: tuple
    A: np.ndarray
    b: np.ndarray
    origin: np.ndarray
    basis: np.ndarray
    domain: np.ndarray
    boundary: np.ndarray
    boundary_region: np.ndarray
    boundary_classes: np.ndarray
    net: SplineNet

    @property
    def n_regions(self) -> int:
        """Number of regions."""
        return int(self.vertices.shape[0])

    @property
    def polygons(self) -> list:
        """List of ``(n_vertices[p], 2)`` vertex arrays, one per region."""
        return [v[:n] for v, n in zip(self.vertices, self.n_vertices)]

    @property
    def areas(self) -> np.ndarray:
        """Area of every region, ``(P,)``."""
        return poly.areas(self.vertices)

    @property
    def interior_points(self) -> np.ndarray:
        """One interior point (vertex mean) per region, ``(P, 2)``, slice coordinates."""
        return poly.centroids(self.vertices, self.n_vertices)

    def layer_codes(self, layer: int) -> np.ndarray:
        """The block of ``codes`` belonging to ``layer``, ``(P, code_dims[layer])``."""
        start = int(np.sum(self.code_dims[:layer]))
        return self.codes[:, start : start + self.code_dims[layer]]

    def to_input(self, u) -> np.ndarray:
        """Map slice coordinates ``(..., 2)`` to network inputs ``(..., d)``."""
        return self.origin + np.asarray(u, dtype=float) @ self.basis

    def locate(self, u) -> np.ndarray:
        """Region index of slice points ``(N, 2)`` found by their codes (-1 if none matches).

        Raises
        ------
        LayersError
            If ``u`` is not of shape ``(N, 2)``.
        """
        from layers.analysis.affine import vq_codes

        u = np.asarray(u, dtype=float)
        if u.ndim != 2 or u.shape[1] != 2:
            raise LayersError(f"u: expected shape (N, 2), got {u.shape}")
        pc = np.asarray(vq_codes(self.net, self.to_input(u), concat=True)).astype(np.int64)
        table = {row.tobytes(): i for i, row in enumerate(self.codes.astype(np.int64))}
        return np.array([table.get(row.tobytes(), -1) for row in pc], dtype=np.int64)

    def input_affine_map(self, regions=None):
        """Exact affine map of the network in input space, ``(A (R, out, d), b (R, out))``.

        Computed by :func:`layers.analysis.affine_map` at each region's interior point.
        """
        from layers.analysis.affine import affine_map

        idx = np.arange(self.n_regions) if regions is None else np.asarray(regions)
        A, b = affine_map(self.net, self.to_input(self.interior_points[idx]))
        return np.asarray(A), np.asarray(b)

    def class_cells(self, *, threshold: float = 0.0):
        """Regions cut further along the decision boundary into single-class cells.

        Returns
        -------
        polygons : list of np.ndarray [shape=(n_p, 2)]
        classes : np.ndarray [shape=(Q,)]
            Predicted class of each cell (argmax of the outputs; for one output,
            ``f > threshold``).
        region : np.ndarray [shape=(Q,)]
            Region containing each cell.
        """
        G = np.transpose(self.A, (0, 2, 1))
        c = self.b
        if c.shape[1] == 1:
            G = np.concatenate([np.zeros_like(G), G], axis=2)
            c = np.concatenate([np.zeros_like(c), c - threshold], axis=1)
        groups = np.arange(c.shape[1])[None, :]
        scale = float(np.max(np.linalg.norm(self.domain[:, None] - self.domain[None], axis=-1)))
        verts, nv, parent = _split_max(self.vertices, self.n_vertices, G, c, groups, 1e-9 * scale)
        cen = poly.centroids(verts, nv)
        y = np.einsum("pi,pio->po", cen, G[parent]) + c[parent]
        return [v[:n] for v, n in zip(verts, nv)], np.argmax(y, axis=1), parent

    def statistics(self) -> dict:
        """Summary numbers: region count, areas, vertices per region, boundary length."""
        a = self.areas
        seg = self.boundary
        length = float(np.linalg.norm(seg[:, 1] - seg[:, 0], axis=-1).sum()) if len(seg) else 0.0
        return {
            "n_regions": self.n_regions,
            "domain_area": float(poly.areas(self.domain[None])[0]),
            "total_area": float(a.sum()),
            "mean_area": float(a.mean()),
            "median_area": float(np.median(a)),
            "min_area": float(a.min()),
            "max_area": float(a.max()),
            "mean_vertices": float(self.n_vertices.mean()),
            "max_vertices": int(self.n_vertices.max()),
            "n_vertices_total": int(self.n_vertices.sum()),
            "n_boundary_segments": int(len(seg)),
            "boundary_length": length,
            "n_boundary_regions": int(len(np.unique(self.boundary_region))),
        }

    def plot(self, **kwargs):
        """Draw the partition (see :func:`layers.analysis.plot.plot_partition`)."""
        from layers.analysis.plot import plot_partition

        return plot_partition(self, **kwargs)


def plane_from_anchors(anchors):
    """Orthonormal slice through three anchor points.

    Parameters
    ----------
    anchors : array_like [shape=(3, d)]

    Returns
    -------
    origin : np.ndarray [shape=(d,)]
        ``anchors[0]``.
    basis : np.ndarray [shape=(2, d)]
        Orthonormal rows; the first along ``anchors[1] - anchors[0]``.
    triangle : np.ndarray [shape=(3, 2)]
        The anchors in slice coordinates, counter-clockwise.

    Raises
    ------
    LayersError
        If the anchors are not three distinct, non-collinear points.

    Examples
    --------
    >>> o, B, tri = plane_from_anchors([[0, 0, 0], [2, 0, 0], [0, 3, 0]])
    >>> tri.tolist()
    [[0.0, 0.0], [2.0, 0.0], [0.0, 3.0]]
    """
    a = np.asarray(anchors, dtype=float)
    if a.ndim != 2 or a.shape[0] != 3 or a.shape[1] < 2:
        raise LayersError(f"anchors: expected shape (3, d) with d >= 2, got {a.shape}")
    e1 = a[1] - a[0]
    n1 = np.linalg.norm(e1)
    e2 = a[2] - a[0]
    scale = max(n1, np.linalg.norm(e2), 1e-300)
    if n1 <= 1e-12 * scale:
        raise LayersError("anchors: anchors[0] and anchors[1] coincide; expected distinct points")
    e1 = e1 / n1
    e2 = e2 - (e2 @ e1) * e1
    n2 = np.linalg.norm(e2)
    if n2 <= 1e-9 * scale:
        raise LayersError("anchors: the three anchor points are collinear; expected a plane")
    basis = np.stack([e1, e2 / n2])
    tri = (a - a[0]) @ basis.T
    return a[0].copy(), basis, tri


def _check_domain(domain) -> np.ndarray:
    d = np.asarray(domain, dtype=float)
    if d.ndim != 2 or d.shape[1] != 2 or d.shape[0] < 3 or not np.all(np.isfinite(d)):
        raise LayersError(
            "domain: expected the vertices of a convex polygon, shape (m, 2) with m >= 3 and "
            f"finite values, got shape {d.shape}"
        )
    area = poly.areas(d[None])[0]
    if area < 0:
        d, area = d[::-1].copy(), -area
    e = np.roll(d, -1, axis=0) - d
    cross = e[:, 0] * np.roll(e[:, 1], -1) - e[:, 1] * np.roll(e[:, 0], -1)
    scale = np.max(np.abs(d)) ** 2 + 1e-300
    if area <= 1e-14 * scale or np.any(cross < -1e-12 * scale):
        raise LayersError(
            f"domain: the polygon {d.tolist()} is not convex with positive area; expected a "
            "convex polygon's vertices in order"
        )
    return d


class _Store:
    """Growable padded polygon store with a parent index per piece."""

    def __init__(self, verts, nv, parent):
        self.n = len(verts)
        cap = max(2 * self.n, 64)
        self.verts = np.empty((cap,) + verts.shape[1:])
        self.verts[: self.n] = verts
        self.nv = np.empty(cap, np.int64)
        self.nv[: self.n] = nv
        self.parent = np.empty(cap, np.int64)
        self.parent[: self.n] = parent

    def _ensure(self, n_new, V):
        cap = len(self.nv)
        if V > self.verts.shape[1]:
            self.verts = poly.widen(self.verts, V)
        if self.n + n_new > cap:
            cap = max(2 * cap, self.n + n_new)
            for name in ("verts", "nv", "parent"):
                old = getattr(self, name)
                new = np.empty((cap,) + old.shape[1:], old.dtype)
                new[: self.n] = old[: self.n]
                setattr(self, name, new)

    def write(self, idx, verts, nv):
        self._ensure(0, verts.shape[1])
        self.verts[idx] = poly.widen(verts, self.verts.shape[1])
        self.nv[idx] = nv

    def append(self, verts, nv, parent):
        self._ensure(len(verts), verts.shape[1])
        sl = slice(self.n, self.n + len(verts))
        self.verts[sl] = poly.widen(verts, self.verts.shape[1])
        self.nv[sl] = nv
        self.parent[sl] = parent
        self.n += len(verts)

    def result(self):
        V = int(self.nv[: self.n].max())
        verts = self.verts[: self.n, :V].copy()
        return verts, self.nv[: self.n].copy(), self.parent[: self.n].copy()


def _crossing_candidates(verts, S):
    """(R, n) mask of the units whose zero line may cross each region (a superset).

    A unit's pre-activation over a region's bounding box spans
    ``z(centre) +- (|g0| h0 + |g1| h1)``; regions it cannot reach are skipped, the others are
    checked exactly at their vertices when cut.
    """
    lo, hi = verts[:, 0].copy(), verts[:, 0].copy()
    for j in range(1, verts.shape[1]):
        np.minimum(lo, verts[:, j], out=lo)
        np.maximum(hi, verts[:, j], out=hi)
    mid = np.concatenate([0.5 * (lo + hi), np.ones((len(lo), 1))], axis=1)
    z = np.einsum("ri,rin->rn", mid, S)
    reach = np.einsum("ri,rin->rn", 0.5 * (hi - lo), np.abs(S[:, :2]))
    return np.abs(z) < reach


def _split_lines(verts, nv, S, eps):
    """Cut every region by the zero lines of its units' pre-activations.

    Round ``t`` cuts all current pieces of every region by that region's ``t``-th candidate
    line, so the number of NumPy passes is the largest number of lines crossing one region,
    not the layer width.
    """
    R = len(verts)
    cand = _crossing_candidates(verts, S)
    counts = cand.sum(axis=1)
    store = _Store(verts, nv, np.arange(R))
    if not counts.any():
        return store.result()
    rows, cols = np.nonzero(cand)
    starts = np.cumsum(counts) - counts
    units = np.zeros((R, int(counts.max())), np.int64)
    units[rows, np.arange(len(rows)) - starts[rows]] = cols
    for t in range(units.shape[1]):
        idx = np.flatnonzero(counts[store.parent[: store.n]] > t)
        pr = store.parent[idx]
        k = units[pr, t]
        pv = store.verts[idx]
        g0, g1 = S[pr, 0, k][:, None], S[pr, 1, k][:, None]
        s = pv[:, :, 0] * g0 + pv[:, :, 1] * g1 + S[pr, 2, k][:, None]
        sg = poly.signs(s, eps * np.sqrt(g0 * g0 + g1 * g1))
        cut = np.any(sg > 0, axis=1) & np.any(sg < 0, axis=1)
        if not cut.any():
            continue
        idx, pr = idx[cut], pr[cut]
        pos, npos, neg, nneg = poly.split(pv[cut], store.nv[idx], s[cut], sg[cut])
        store.write(idx, pos, npos)
        store.append(neg, nneg, pr)
    return store.result()


def _split_max(verts, nv, G, c, groups, eps):
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


def _decision_boundary(verts, nv, G, c, eps, threshold):
    """Exact decision-boundary segments from the final per-region affine maps."""
    out = c.shape[1]
    segs, regs, pairs = [], [], []
    if out == 1:
        pair_list = [(0, 0)]
    else:
        pair_list = [(i, j) for i in range(out) for j in range(i + 1, out)]
    for i, j in pair_list:
        if out == 1:
            g, h = G[:, :, 0], c[:, 0] - threshold
        else:
            g, h = G[:, :, i] - G[:, :, j], c[:, i] - c[:, j]
        s = np.einsum("pvi,pi->pv", verts, g) + h[:, None]
        sg = poly.signs(s, eps * np.hypot(g[:, 0], g[:, 1])[:, None])
        cross = np.any(sg > 0, axis=1) & np.any(sg < 0, axis=1)
        idx = np.nonzero(cross)[0]
        if not len(idx):
            continue
        seg, ok = poly.segment_in_polygon(verts[idx], nv[idx], s[idx], sg[idx])
        idx, seg = idx[ok], seg[ok]
        lo, hi = np.zeros(len(idx)), np.ones(len(idx))
        for k in range(out) if out > 1 else []:
            if k in (i, j):
                continue
            gk, hk = G[idx][:, :, i] - G[idx][:, :, k], c[idx, i] - c[idx, k]
            h0 = np.einsum("pi,pi->p", seg[:, 0], gk) + hk
            h1 = np.einsum("pi,pi->p", seg[:, 1], gk) + hk
            with np.errstate(divide="ignore", invalid="ignore"):
                t = np.where(h0 != h1, h0 / (h0 - h1), 0.0)
            both_neg = (h0 < 0) & (h1 < 0)
            lo = np.where(both_neg, 1.0, np.where((h0 < 0) & ~both_neg, np.maximum(lo, t), lo))
            hi = np.where(both_neg, 0.0, np.where((h1 < 0) & ~both_neg, np.minimum(hi, t), hi))
        d = seg[:, 1] - seg[:, 0]
        length = np.hypot(d[:, 0], d[:, 1])
        keep = (hi - lo) * length > eps
        seg = seg[:, 0:1] + np.stack([lo, hi], axis=1)[:, :, None] * d[:, None, :]
        segs.append(seg[keep])
        regs.append(idx[keep])
        pairs.append(np.tile([i, j], (int(keep.sum()), 1)))
    if not segs:
        return np.zeros((0, 2, 2)), np.zeros(0, np.int64), np.zeros((0, 2), np.int64)
    return np.concatenate(segs), np.concatenate(regs), np.concatenate(pairs)


def partition_2d(
    net,
    *,
    domain=None,
    anchors=None,
    tol: float = 1e-9,
    threshold: float = 0.0,
    decision_boundary: bool = True,
) -> Partition2D:
    """Exact partition of a piecewise-affine network's input space on a 2-D slice.

    Parameters
    ----------
    net : SplineNet or list of (W, b)
        ReLU / leaky-ReLU / absolute-value / max-pooling / identity layers (see
        :func:`layers.analysis.as_spline_net`).
    domain : array_like [shape=(m, 2)], optional
        Vertices of a convex polygon in slice coordinates. Required for a 2-D input without
        ``anchors`` (then the slice is the input plane itself); with ``anchors`` it defaults to
        the anchors' triangle.
    anchors : array_like [shape=(3, d)], optional
        Three points spanning the slice plane for inputs of any dimension ``d >= 2``; slice
        coordinates are orthonormal with origin ``anchors[0]`` (see :func:`plane_from_anchors`).
    tol : float
        Geometric tolerance relative to the domain's diameter: vertices closer than
        ``tol * diameter`` to a cutting line count as lying on it.
    threshold : float
        Decision level of a single-output network (ignored for several outputs, where the
        boundary is where the two largest outputs tie).
    decision_boundary : bool
        Compute the exact decision-boundary segments.

    Returns
    -------
    partition : Partition2D

    Raises
    ------
    LayersError
        If the network is not piecewise affine, the domain is not a convex polygon, the
        anchors are degenerate, or neither a 2-D input nor anchors define the slice.

    Examples
    --------
    >>> import numpy as np
    >>> net = [(np.array([[1.0, 0.0], [0.0, 1.0]]), np.zeros(2)), (np.ones((2, 1)), np.zeros(1))]
    >>> part = partition_2d(net, domain=[[-1, -1], [1, -1], [1, 1], [-1, 1]])
    >>> part.n_regions, round(float(part.areas.sum()), 6)
    (4, 4.0)
    """
    net = as_spline_net(net)
    if anchors is not None:
        origin, basis, tri = plane_from_anchors(anchors)
        if basis.shape[1] != net.in_dim:
            raise LayersError(
                f"anchors: points have dimension {basis.shape[1]} but the network takes "
                f"{net.in_dim} inputs"
            )
        dom = _check_domain(tri if domain is None else domain)
    else:
        if net.in_dim != 2:
            raise LayersError(
                f"anchors: the network takes {net.in_dim} inputs, so three anchor points "
                "(shape (3, d)) must define the 2-D slice"
            )
        if domain is None:
            raise LayersError("domain: required for a 2-D input (vertices of a convex polygon)")
        dom = _check_domain(domain)
        origin, basis = np.zeros(2), np.eye(2)
    if not (np.isfinite(tol) and 0 <= tol < 1e-2):
        raise LayersError(f"tol: expected a small non-negative number, got {tol}")
    diam = float(np.max(np.linalg.norm(dom[:, None] - dom[None], axis=-1)))
    eps = tol * diam

    verts = dom[None].copy()
    nv = np.array([len(dom)])
    # S[r] = [[slope row u0], [slope row u1], [offset]]: slice -> current layer input
    S = np.concatenate([basis, origin[None]])[None]
    blocks = []  # (code, parent) per coded layer; codes are gathered once at the end
    for layer in net.layers:
        if layer.W is not None:
            W = np.asarray(layer.W, dtype=float)
            S = (S.reshape(-1, S.shape[2]) @ W).reshape(S.shape[0], 3, -1)
        if layer.b is not None:
            S[:, 2] += np.asarray(layer.b, dtype=float)
        act = layer.activation
        if act.kind == "identity":
            continue
        G, c = S[:, :2], S[:, 2]
        if act.kind == "max_pool":
            verts, nv, parent = _split_max(verts, nv, G, c, act.groups, eps)
        else:
            verts, nv, parent = _split_lines(verts, nv, S, eps)
        S = np.take(S, parent, axis=0)
        cen = poly.centroids(verts, nv)
        pre = np.einsum("pi,pin->pn", cen, S[:, :2]) + S[:, 2]
        if act.kind == "max_pool":
            code = np.argmax(pre[:, act.groups], axis=2)
            sel = act.groups[np.arange(act.groups.shape[0])[None, :], code]
            sel3 = np.broadcast_to(sel[:, None, :], (len(S), 3, sel.shape[1]))
            S = np.take_along_axis(S, sel3, axis=2)
        else:
            code = pre > 0
            S *= np.where(code, 1.0, act.negative_slope())[:, None, :]
        blocks.append((code.astype(np.int16), parent))
    codes, lineage = [], np.arange(len(verts))
    for code, parent in reversed(blocks):
        codes.append(code[lineage])
        lineage = parent[lineage]
    codes = np.concatenate(codes[::-1], axis=1) if codes else np.zeros((len(verts), 0), np.int16)
    G, c = S[:, :2], S[:, 2]

    if decision_boundary:
        seg, seg_reg, seg_cls = _decision_boundary(verts, nv, G, c, eps, threshold)
    else:
        seg, seg_reg, seg_cls = np.zeros((0, 2, 2)), np.zeros(0, np.int64), np.zeros((0, 2), int)
    return Partition2D(
        vertices=verts,
        n_vertices=nv,
        codes=codes,
        code_dims=net.code_dims,
        A=np.transpose(G, (0, 2, 1)).copy(),
        b=c.copy(),
        origin=origin,
        basis=basis,
        domain=dom,
        boundary=seg,
        boundary_region=seg_reg,
        boundary_classes=seg_cls,
        net=net,
    )
