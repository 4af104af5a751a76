"""Power diagrams of MASO layers: centroids, radii, and the check against activation codes.

A MASO layer whose unit ``k`` computes ``max_r (<a_{k,r}, x> + b_{k,r})`` partitions its input
space as a power diagram [1]_: the cell of a code ``r = (r_1, ..., r_U)`` has centroid
``mu_r = sum_k a_{k,r_k}`` and radius ``rad_r = ||mu_r||^2 + 2 sum_k b_{k,r_k}``, and ``x`` lies
in the cell minimising the power distance ``||x - mu_r||^2 - rad_r``. For a deeper layer the
pieces are pulled back to the input space through the affine map of the region of the earlier
layers that contains ``x``, giving the subdivision of that region.

References
----------
.. [1] R. Balestriero, R. Cosentino, B. Aazhang and R. Baraniuk, "The Geometry of Deep
   Networks: Power Diagram Subdivision", NeurIPS 2019.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from layers.analysis.affine import check_points, forward_raw, preactivation_maps, preactivation_raw
from layers.analysis.spec import as_spline_net
from layers.errors import LayersError, is_int

__all__ = ["PowerDiagram", "power_diagram", "check_power_diagram"]


@dataclass(frozen=True, eq=False)
class PowerDiagram:
    """The power diagram of one layer, in input space.

    Attributes
    ----------
    slopes : jax.Array [shape=(..., U, R, d)]
        Slope ``a_{k,r}`` of piece ``r`` of unit ``k`` (pulled back to the input).
    offsets : jax.Array [shape=(..., U, R)]
        Offset ``b_{k,r}``.
    """

    slopes: jnp.ndarray
    offsets: jnp.ndarray

    @property
    def n_units(self) -> int:
        """Number of units ``U``."""
        return int(self.slopes.shape[-3])

    @property
    def n_pieces(self) -> int:
        """Pieces per unit ``R`` (the diagram has up to ``R ** U`` cells)."""
        return int(self.slopes.shape[-2])

    def _pick(self, codes):
        codes = jnp.asarray(codes)
        U = self.n_units
        if codes.shape[-1] != U:
            raise LayersError(f"codes: expected last axis {U}, got shape {tuple(codes.shape)}")
        onehot = (codes[..., None] == jnp.arange(self.n_pieces)).astype(self.slopes.dtype)
        a = jnp.sum(onehot[..., None] * self.slopes, axis=-2)  # (..., U, d)
        b = jnp.sum(onehot * self.offsets, axis=-1)  # (..., U)
        return a, b

    def centroid(self, codes):
        """Centroid ``mu`` of the cell of ``codes (..., U)``: shape ``(..., d)``."""
        return self._pick(codes)[0].sum(axis=-2)

    def radius(self, codes):
        """Radius ``||mu||^2 + 2 sum_k b_{k,r_k}`` of the cell of ``codes``: shape ``(...)``."""
        a, b = self._pick(codes)
        mu = a.sum(axis=-2)
        return jnp.sum(mu * mu, axis=-1) + 2.0 * b.sum(axis=-1)

    def power(self, x, codes):
        """Power distance ``||x - mu||^2 - rad`` of ``x (..., d)`` to the cells ``codes``."""
        mu = self.centroid(codes)
        diff = jnp.asarray(x) - mu
        return jnp.sum(diff * diff, axis=-1) - self.radius(codes)

    def assign(self, x):
        """Cell of ``x (..., d)`` by minimising the power distance.

        The power distance equals ``||x||^2 - 2 sum_k (<a_{k,r_k}, x> + b_{k,r_k})``, so the
        minimiser is found unit by unit (exact for any number of cells).
        """
        x = jnp.asarray(x)
        scores = jnp.einsum("...urd,...d->...ur", self.slopes, x) + self.offsets
        return jnp.argmax(scores, axis=-1).astype(jnp.int32)

    def cells(self, *, max_cells: int = 4096):
        """Enumerate every cell: ``codes (C, U)``, ``centroids (..., C, d)``, ``radii (..., C)``.

        Raises
        ------
        LayersError
            If ``R ** U`` exceeds ``max_cells``.
        """
        R, U = self.n_pieces, self.n_units
        if R**U > max_cells:
            raise LayersError(
                f"max_cells: the diagram has {R}**{U} = {R**U} cells, more than "
                f"max_cells={max_cells}; raise max_cells or use assign()"
            )
        codes = jnp.asarray(np.array(list(itertools.product(range(R), repeat=U)), np.int32))
        per_cell = PowerDiagram(self.slopes[..., None, :, :, :], self.offsets[..., None, :, :])
        return codes, per_cell.centroid(codes), per_cell.radius(codes)

    def assign_bruteforce(self, x, *, max_cells: int = 4096):
        """Cell of ``x`` by an explicit argmin over all enumerated cells (independent check)."""
        codes, mu, rad = self.cells(max_cells=max_cells)
        x = jnp.asarray(x)
        diff = x[..., None, :] - mu
        pw = jnp.sum(diff * diff, axis=-1) - rad
        return codes[jnp.argmin(pw, axis=-1)]


def _pieces(act, G, c):
    """MASO pieces (slopes (..., U, R, d), offsets (..., U, R)) of an activation."""
    Gt = jnp.swapaxes(G, -1, -2)  # (..., n, d)
    if act.kind == "max_pool":
        g = jnp.asarray(act.groups)
        return Gt[..., g, :], c[..., g]
    if act.kind == "identity":
        raise LayersError("layer: an identity layer has no partition; pick a nonlinear layer")
    lo = act.negative_slope()
    slopes = jnp.stack([lo * Gt, Gt], axis=-2)
    offsets = jnp.stack([lo * c, c], axis=-1)
    return slopes, offsets


def power_diagram(net, *, layer: int = 0, x=None) -> PowerDiagram:
    """Power diagram of one layer's input-space partition.

    Parameters
    ----------
    net : SplineNet or list of (W, b)
    layer : int
        Layer index. Layer 0 partitions the whole input space; a deeper layer's diagram is the
        subdivision of the region (of layers ``< layer``) containing ``x``.
    x : jax.Array [shape=(..., d)], optional
        Required for ``layer > 0``; a batch gives one diagram per point.

    Returns
    -------
    diagram : PowerDiagram
        Piece index ``r`` follows the VQ-code convention (1: pre-activation > 0).

    Raises
    ------
    LayersError
        If ``layer`` is out of range or an identity layer, or ``x`` is missing for a deeper
        layer.

    Examples
    --------
    >>> import numpy as np
    >>> pd = power_diagram([(np.eye(2), np.zeros(2), "relu")])
    >>> pd.centroid(np.array([1, 1])).tolist()
    [1.0, 1.0]
    """
    net = as_spline_net(net)
    n = len(net.layers)
    if not is_int(layer) or not 0 <= layer < n:
        raise LayersError(f"layer: expected an integer in [0, {n}), got {layer!r}")
    if x is None:
        if layer > 0:
            raise LayersError(
                f"x: layer {layer} is pulled back inside a region, so x (a point of that "
                "region) is required"
            )
        x = jnp.zeros(net.in_dim)
    G, c = preactivation_maps(net, x)[layer]
    slopes, offsets = _pieces(net.layers[layer].activation, G, c)
    return PowerDiagram(slopes, offsets)


def check_power_diagram(net, x, *, max_cells: int = 4096):
    """Check, layer by layer, that the power-diagram cell of ``x`` is its activation code.

    For each nonlinear layer the diagram (pulled back inside x's region) assigns ``x`` a cell;
    by brute force over all cells when there are at most ``max_cells``, else unit by unit.

    Parameters
    ----------
    net : SplineNet or list of (W, b)
    x : jax.Array [shape=(..., d)]
    max_cells : int

    Returns
    -------
    agree : np.ndarray [shape=(..., n_layers), dtype=bool]
        True where the assignment equals the VQ code (True for identity layers).

    Raises
    ------
    LayersError
        If ``net`` or ``x`` is invalid.

    Examples
    --------
    >>> import numpy as np
    >>> check_power_diagram([(np.eye(2), np.zeros(2), "relu")], np.array([0.5, -1.0])).tolist()
    [True]
    """
    net = as_spline_net(net)
    return np.asarray(_check_jit(net, check_points(x, net.in_dim), int(max_cells)))


def _check_raw(net, x, max_cells):
    codes = forward_raw(net, x)[1]
    maps = preactivation_raw(net, x)
    out = []
    for layer, code, (G, c) in zip(net.layers, codes, maps):
        if layer.activation.kind == "identity":
            out.append(jnp.ones(x.shape[:-1], bool))
            continue
        pd = PowerDiagram(*_pieces(layer.activation, G, c))
        if pd.n_pieces**pd.n_units <= max_cells:
            got = pd.assign_bruteforce(x, max_cells=max_cells)
        else:
            got = pd.assign(x)
        out.append(jnp.all(got == code, axis=-1))
    return jnp.stack(out, axis=-1)


_check_jit = jax.jit(_check_raw, static_argnums=2)
