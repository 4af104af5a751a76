"""Exact input-space partition of a piecewise-affine network on a 2-D slice.

Layer by layer, every current region is cut by the zero lines of that layer's pre-activations
(pulled back through the region's affine map): the recursive power-diagram subdivision of [1]_,
restricted to a plane as in SplineCam [2]_. All regions of a layer are processed at once in
float64 NumPy (see :mod:`layers.analysis._cut`): the (region, unit) pairs whose line crosses
the region are found with a bounding-box bound and checked exactly at the vertices, and round
``t`` cuts every piece of every region by that region's ``t``-th line, so the cost grows with
the number of (piece, crossing line) pairs, not with regions times units. Regions never
interact after the first layer, so they are refined in two independent chunks, on two threads
by default (NumPy releases the GIL inside its array loops); the result does not depend on the
number of threads. Codes and the decision boundary are assembled on first access.

Cost, measured by ``benchmarks/partition_speed.py`` (He-initialised ReLU MLPs on
``[-1, 1]^2``): roughly linear in the number of regions, about 80-110 thousand regions per
CPU second for width 64; wider layers cost more per region (more lines cross each region,
and every region carries a ``3 x width`` map), deeper networks about the same per region.

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
from functools import cached_property

import numpy as np

from layers.analysis import _polygon as poly
from layers.analysis import _refine
from layers.analysis.spec import SplineNet, as_spline_net
from layers.errors import LayersError, is_int

__all__ = ["Partition2D", "partition_2d", "plane_from_anchors"]



@dataclass(frozen=True, eq=False)
class Partition2D:
    """Exact regions of a network restricted to a 2-D convex polygon.

    Coordinates ``u = (u0, u1)`` are those of the slice: the input is
    ``x = origin + u @ basis`` (for a 2-D input without anchors, ``u`` is ``x``).

    Attributes
    ----------
    vertices : np.ndarray [shape=(P, V, 2)]
        Region vertices, counter-clockwise, padded by repeating the first vertex.
    n_vertices : np.ndarray [shape=(P,)]
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
    net : SplineNet
    codes : np.ndarray [shape=(P, n_codes), dtype=int16]
        Concatenated VQ codes of every layer (see :func:`layers.analysis.vq_codes`);
        assembled on first access.
    boundary : np.ndarray [shape=(S, 2, 2)]
        Decision-boundary segments (exact), in slice coordinates; computed on first access
        (empty if the partition was built with ``decision_boundary=False``).
    boundary_region : np.ndarray [shape=(S,)]
        Region holding each segment.
    boundary_classes : np.ndarray [shape=(S, 2)]
        The two tied classes of each segment (``(0, 0)`` for a single-output threshold).
    code_blocks : tuple of (np.ndarray, np.ndarray)
        Per coded layer, the codes of the regions it produced and their parent regions
        (what ``codes`` is assembled from).
    boundary_args : tuple or None
        ``(eps, threshold)`` for the decision boundary, ``None`` when not requested.
    """

    vertices: np.ndarray
    n_vertices: np.ndarray
    code_dims: tuple
    A: np.ndarray
    b: np.ndarray
    origin: np.ndarray
    basis: np.ndarray
    domain: np.ndarray
    net: SplineNet
    code_blocks: tuple = ()
    boundary_args: tuple | None = None

    @cached_property
    def codes(self) -> np.ndarray:
        """Concatenated per-layer codes of every region, ``(P, n_codes)`` int16."""
        blocks, lineage = [], np.arange(self.n_regions)
        for code, parent in reversed(self.code_blocks):
            blocks.append(code[lineage].astype(np.int16))
            lineage = parent[lineage]
        if not blocks:
            return np.zeros((self.n_regions, 0), np.int16)
        return np.concatenate(blocks[::-1], axis=1)

    @cached_property
    def _boundary(self):
        if self.boundary_args is None:
            return np.zeros((0, 2, 2)), np.zeros(0, np.int64), np.zeros((0, 2), np.int64)
        eps, threshold = self.boundary_args
        G = np.transpose(self.A, (0, 2, 1))
        return _decision_boundary(self.vertices, self.n_vertices, G, self.b, eps, threshold)

    @property
    def boundary(self) -> np.ndarray:
        """Exact decision-boundary segments ``(S, 2, 2)`` in slice coordinates."""
        return self._boundary[0]

    @property
    def boundary_region(self) -> np.ndarray:
        """Region holding each boundary segment, ``(S,)``."""
        return self._boundary[1]

    @property
    def boundary_classes(self) -> np.ndarray:
        """The two tied classes of each boundary segment, ``(S, 2)``."""
        return self._boundary[2]

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
        verts, nv, parent = _refine.split_max(
            self.vertices, self.n_vertices, G, c, groups, 1e-9 * scale
        )
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
    workers: int = 2,
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
        Provide the exact decision-boundary segments (computed on first access of
        ``partition.boundary``).
    workers : int
        Threads refining the regions after the first layer (1: no threads). The result is
        identical for every value.

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
    if not is_int(workers) or workers < 1:
        raise LayersError(
            f"workers: expected a positive integer number of threads, got {workers!r}"
        )
    diam = float(np.max(np.linalg.norm(dom[:, None] - dom[None], axis=-1)))
    eps = tol * diam

    verts = dom[None].copy()
    nv = np.array([len(dom)])
    # S[r] = [[slope row u0], [slope row u1], [offset]]: slice -> current layer's input
    S = np.concatenate([basis, origin[None]])[None]
    verts, nv, S, blocks = _refine.refine(verts, nv, S, net.layers, eps, workers)
    G = S[:, :2]
    return Partition2D(
        vertices=verts,
        n_vertices=nv,
        code_dims=net.code_dims,
        A=np.transpose(G, (0, 2, 1)).copy(),
        b=S[:, 2].copy(),
        origin=origin,
        basis=basis,
        domain=dom,
        net=net,
        code_blocks=tuple(blocks),
        boundary_args=(eps, threshold) if decision_boundary else None,
    )
