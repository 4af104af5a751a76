"""Boundary geometry of the input partition: distances, slope changes, angles, curvature.

Inside the region of ``x``, every layer's pre-activations are affine in the input, so their
zero sets are hyperplanes; the region is the polytope they bound [1]_. Crossing one unit's
hyperplane changes the network's slope matrix by a rank-one term [2]_, and the decision
boundary bends at region boundaries by the angle between its normals on either side, the
curvature measure of [1]_.

References
----------
.. [1] R. Balestriero, R. Cosentino, B. Aazhang and R. Baraniuk, "The Geometry of Deep
   Networks: Power Diagram Subdivision", NeurIPS 2019.
.. [2] R. Balestriero and R. Baraniuk, "A Spline Theory of Deep Networks", ICML 2018.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from layers.analysis.affine import (
    affine_map,
    check_points,
    forward,
    forward_raw,
    preactivation_maps,
    preactivation_raw,
    select_rows_transpose,
)
from layers.analysis.spec import as_spline_net
from layers.errors import LayersError, is_int

__all__ = [
    "boundary_distances",
    "region_radius",
    "slope_change",
    "template_angles",
    "adjacent_angles",
    "decision_boundary_bend",
    "boundary_turning_angles",
]


def dual_order(norm):
    """The order ``q`` of the dual of the norm ``norm`` (1, 2 or ``"inf"``): distances to a
    hyperplane ``<w, x> = c`` in the ``norm`` metric divide by ``||w||_q``.

    Raises
    ------
    LayersError
        For another norm.
    """
    if norm in (2, "2"):
        return 2
    if norm in ("inf", np.inf):
        return 1
    if norm in (1, "1"):
        return np.inf
    raise LayersError(f"norm: expected 1, 2 or 'inf', got {norm!r}")


def order_norm(v, q, axis):
    """The ``q``-norm (1, 2 or ``numpy.inf``, as :func:`dual_order` gives it) of ``v`` along
    ``axis``."""
    if q == 2:
        return jnp.sqrt(jnp.sum(v * v, axis=axis))
    if q == 1:
        return jnp.sum(jnp.abs(v), axis=axis)
    return jnp.max(jnp.abs(v), axis=axis)


def boundary_distances(net, x, *, norm=2):
    """Distance from ``x`` to the nearest boundary hyperplane of each layer, inside its region.

    For layer ``l``, each unit's boundary (pulled back through the affine map of x's region of
    layers ``< l``) is the hyperplane ``<g, x'> + c = 0``; its distance is ``|<g, x> + c| /
    ||g||_*`` (dual norm). For max-pooling the hyperplanes are the ties between the winning
    unit and the others of its group. The minimum over layers is the exact distance from ``x``
    to the boundary of its region (see :func:`region_radius`).

    Parameters
    ----------
    net : SplineNet or list of (W, b)
    x : jax.Array [shape=(..., d)]
    norm : {2, 'inf', 1}
        Norm in which the distance is measured.

    Returns
    -------
    distances : jax.Array [shape=(..., n_layers)]
        ``inf`` for identity layers and units with zero gradient.

    Raises
    ------
    LayersError
        If ``norm`` is not supported or ``net``/``x`` are invalid.

    Examples
    --------
    >>> import numpy as np
    >>> boundary_distances([(np.eye(2), np.zeros(2), "relu")], np.array([0.5, -2.0])).tolist()
    [0.5]
    """
    q = dual_order(norm)
    net = as_spline_net(net)
    return _distances_jit(net, check_points(x, net.in_dim), q)


def _distances_raw(net, x, q):
    codes = forward_raw(net, x)[1]
    out = []
    for layer, code, (G, c) in zip(net.layers, codes, preactivation_raw(net, x)):
        act = layer.activation
        if act.kind == "identity":
            out.append(jnp.full(x.shape[:-1], jnp.inf, x.dtype))
            continue
        z = jnp.einsum("...d,...dn->...n", x, G) + c
        if act.kind == "max_pool":
            grp = jnp.asarray(act.groups)
            zg, Gg = z[..., grp], G[..., grp]  # (..., U, k), (..., d, U, k)
            win = code[..., None]
            zw = jnp.take_along_axis(zg, win, axis=-1)
            Gw = jnp.take_along_axis(Gg, win[..., None, :, :], axis=-1)
            num = jnp.abs(zw - zg)
            den = order_norm(Gw - Gg, q, axis=-3)
            mask = jnp.arange(grp.shape[1]) != win
            dist = jnp.where(mask & (den > 0), num / jnp.where(den > 0, den, 1.0), jnp.inf)
        else:
            den = order_norm(G, q, axis=-2)
            dist = jnp.where(den > 0, jnp.abs(z) / jnp.where(den > 0, den, 1.0), jnp.inf)
        out.append(jnp.min(dist.reshape(dist.shape[: x.ndim - 1] + (-1,)), axis=-1))
    return jnp.stack(out, axis=-1)


_distances_jit = jax.jit(_distances_raw, static_argnums=2)


def region_radius(net, x, *, norm=2):
    """Radius of the largest ball (in ``norm``) around ``x`` inside x's region.

    The region is the intersection of the half-spaces of all pulled-back hyperplanes, so the
    largest ball centred at ``x`` stays inside exactly when it crosses none of them.

    Parameters
    ----------
    net : SplineNet or list of (W, b)
    x : jax.Array [shape=(..., d)]
    norm : {2, 'inf', 1}

    Returns
    -------
    radius : jax.Array [shape=(...)]

    Raises
    ------
    LayersError
        As :func:`boundary_distances`.

    Examples
    --------
    >>> import numpy as np
    >>> float(region_radius([(np.eye(2), np.zeros(2), "relu")], np.array([0.5, -2.0])))
    0.5
    """
    return jnp.min(boundary_distances(net, x, norm=norm), axis=-1)


def _jacobian_to_layer(net, codes, layer, dtype, batch_shape):
    """Jacobian of the output w.r.t. the outputs of ``layer``, codes held fixed: (..., o, n)."""
    o = net.out_dim
    T = jnp.broadcast_to(jnp.eye(o, dtype=dtype), batch_shape + (o, o))
    for li in range(len(net.layers) - 1, layer, -1):
        lay = net.layers[li]
        T = select_rows_transpose(lay, codes[li], T, net.pre_dims[li])
        if lay.W is not None:
            T = T @ jnp.asarray(lay.W).T.astype(dtype)
    return T


def _check_unit(net, layer, unit):
    n = len(net.layers)
    if not is_int(layer) or not 0 <= layer < n:
        raise LayersError(f"layer: expected an integer in [0, {n}), got {layer!r}")
    act = net.layers[layer].activation
    if act.kind not in ("relu", "leaky_relu", "abs"):
        raise LayersError(
            f"layer: slope changes are defined here for relu, leaky_relu and abs layers; "
            f"layer {layer} is {act.kind!r}"
        )
    m = net.pre_dims[layer]
    if not is_int(unit) or not 0 <= unit < m:
        raise LayersError(f"unit: expected an integer in [0, {m}), got {unit!r}")


def slope_change(net, x, *, layer: int, unit: int):
    """Rank-one change of the slope matrix across one unit's boundary.

    The neighbouring region across the hyperplane of ``(layer, unit)`` (same codes except that
    unit) has slope matrix ``A + outer(u, v)``, where ``v`` is the unit's pulled-back gradient
    and ``u`` is the output's sensitivity to the unit times the change of its slope [2]_.

    Parameters
    ----------
    net : SplineNet or list of (W, b)
    x : jax.Array [shape=(..., d)]
    layer, unit : int
        A relu, leaky-relu or abs unit.

    Returns
    -------
    u : jax.Array [shape=(..., out)]
    v : jax.Array [shape=(..., d)]

    Raises
    ------
    LayersError
        If the layer or unit index is invalid or the layer is not elementwise.

    Examples
    --------
    >>> import numpy as np
    >>> net = [(np.eye(2), np.zeros(2)), (np.ones((2, 1)), np.zeros(1))]
    >>> u, v = slope_change(net, np.array([1.0, 1.0]), layer=0, unit=0)
    >>> u.tolist(), v.tolist()
    ([-1.0], [1.0, 0.0])
    """
    net = as_spline_net(net)
    _check_unit(net, layer, unit)
    x = check_points(x, net.in_dim)
    codes = forward(net, x)[1]
    G, _ = preactivation_maps(net, x)[layer]
    T = _jacobian_to_layer(net, codes, layer, x.dtype, x.shape[:-1])
    lo = net.layers[layer].activation.negative_slope()
    on = codes[layer][..., unit] == 1
    delta = jnp.where(on, lo - 1.0, 1.0 - lo)
    return T[..., :, unit] * delta[..., None], G[..., :, unit]


def template_angles(A1, A2):
    """Angle (radians) between corresponding rows of two slope matrices ``(..., out, d)``.

    Examples
    --------
    >>> import numpy as np
    >>> round(float(template_angles(np.array([[1.0, 0.0]]), np.array([[0.0, 2.0]]))[0]), 4)
    1.5708
    """
    A1, A2 = jnp.asarray(A1), jnp.asarray(A2)
    num = jnp.sum(A1 * A2, axis=-1)
    den = jnp.sqrt(jnp.sum(A1 * A1, axis=-1) * jnp.sum(A2 * A2, axis=-1))
    return jnp.arccos(jnp.clip(num / jnp.where(den > 0, den, 1.0), -1.0, 1.0))


def adjacent_angles(net, x, *, layer: int, unit: int):
    """Angle between the templates of x's region and its neighbour across ``(layer, unit)``.

    Returns
    -------
    angles : jax.Array [shape=(..., out)]

    Raises
    ------
    LayersError
        As :func:`slope_change`.

    Examples
    --------
    >>> import numpy as np
    >>> net = [(np.eye(2), np.zeros(2)), (np.ones((2, 1)), np.zeros(1))]
    >>> round(float(adjacent_angles(net, np.ones(2), layer=0, unit=0)[0]), 4)
    0.7854
    """
    A, _ = affine_map(net, x)
    u, v = slope_change(net, x, layer=layer, unit=unit)
    return template_angles(A, A + u[..., :, None] * v[..., None, :])


def decision_boundary_bend(net, x, *, layer: int, unit: int, classes=(0, 1)):
    """Bend of the decision boundary between two classes across one unit's hyperplane.

    In a region the boundary between classes ``i`` and ``j`` is the hyperplane with normal
    ``A[i] - A[j]``; across the hyperplane of ``(layer, unit)`` the normal becomes
    ``A[i] - A[j] + (u_i - u_j) v`` (:func:`slope_change`). The angle between the two normals
    is the curvature measure of the power-diagram paper [1]_ (0: the boundary goes straight).
    For a single-output network use ``classes=(0, None)`` (boundary of ``f_0 = threshold``).

    Returns
    -------
    angle : jax.Array [shape=(...)]
        Radians in ``[0, pi]``.

    Raises
    ------
    LayersError
        As :func:`slope_change`, or if ``classes`` are out of range.

    Examples
    --------
    >>> import numpy as np
    >>> net = [(np.eye(2), np.zeros(2)), (np.ones((2, 1)), np.zeros(1))]
    >>> round(float(decision_boundary_bend(net, np.ones(2), layer=0, unit=0,
    ...                                    classes=(0, None))), 4)
    0.7854
    """
    net = as_spline_net(net)
    i, j = classes
    o = net.out_dim
    for cl in (i, j):
        if cl is not None and not (is_int(cl) and 0 <= cl < o):
            raise LayersError(f"classes: expected indices in [0, {o}), got {classes!r}")
    A, _ = affine_map(net, x)
    u, v = slope_change(net, x, layer=layer, unit=unit)
    n1 = A[..., i, :] - (0.0 if j is None else A[..., j, :])
    du = u[..., i] - (0.0 if j is None else u[..., j])
    n2 = n1 + du[..., None] * v
    return template_angles(n1[..., None, :], n2[..., None, :])[..., 0]


def boundary_turning_angles(partition, *, decimals: int = 9):
    """Turning angles of the exact 2-D decision boundary where two segments meet.

    Parameters
    ----------
    partition : Partition2D
    decimals : int
        Endpoints equal after rounding to this many decimals (relative to the domain size)
        are joined.

    Returns
    -------
    points : np.ndarray [shape=(J, 2)]
        Junctions shared by exactly two segments.
    angles : np.ndarray [shape=(J,)]
        ``pi`` minus the angle between the two segments at the junction (0: straight).

    Examples
    --------
    >>> import numpy as np
    >>> from layers.analysis.partition import partition_2d
    >>> net = [(np.eye(2), np.array([0.0, 0.0])), (np.array([[1.0], [1.0]]), np.array([-0.5]))]
    >>> part = partition_2d(net, domain=[[-1, -1], [1, -1], [1, 1], [-1, 1]])
    >>> pts, ang = boundary_turning_angles(part)
    >>> len(ang), np.round(np.degrees(ang), 3).tolist()
    (2, [45.0, 45.0])
    """
    seg = np.asarray(partition.boundary)
    if len(seg) == 0:
        return np.zeros((0, 2)), np.zeros(0)
    scale = float(np.max(np.abs(partition.domain))) or 1.0
    ends = seg.reshape(-1, 2)
    key = np.round(ends / scale, decimals)
    _, inv, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    inv = inv.reshape(-1)
    order = np.argsort(inv, kind="stable")
    pairs_at = np.nonzero(counts == 2)[0]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    a, b = order[starts[pairs_at]], order[starts[pairs_at] + 1]
    p = ends[a]
    other_a = ends[a ^ 1]  # the opposite end of the same segment
    other_b = ends[b ^ 1]
    d1, d2 = other_a - p, other_b - p
    n1, n2 = np.linalg.norm(d1, axis=1), np.linalg.norm(d2, axis=1)
    ok = (n1 > 0) & (n2 > 0)
    cos = np.sum(d1 * d2, axis=1)[ok] / (n1 * n2)[ok]
    return p[ok], np.pi - np.arccos(np.clip(cos, -1.0, 1.0))
