"""Complexity and robustness measures computed from the region-wise affine maps.

- :func:`tangent_hessian_complexity`: the tangent-Hessian complexity of [1]_, estimated by
  finite differences of the input Jacobian along tangent directions; differentiable in the
  network parameters, so it can be added to a training loss.
- :func:`local_tangents`: tangent bases of the data manifold from local PCA (as in [1]_).
- :func:`local_complexity`: number of units whose hyperplanes cut a cross-polytope around
  ``x``, counted by sign changes of the codes at its vertices [2]_.
- :func:`adversarial_margin` / :func:`adversarial_risk`: the smallest perturbation that flips
  the decision according to the region's affine map, exact when it stays inside the region
  [3]_.

References
----------
.. [1] H. Javadi, R. Balestriero and R. Baraniuk, "A Hessian Based Complexity Measure for
   Deep Networks", arXiv:1905.11639, 2019.
.. [2] A. I. Humayun, R. Balestriero and R. Baraniuk, "Deep Networks Always Grok and Here is
   Why", ICML 2024.
.. [3] R. Balestriero and R. Baraniuk, "A Spline Theory of Deep Networks", ICML 2018.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from layers.analysis.affine import affine_map, check_points, forward
from layers.analysis.geometry import region_radius
from layers.analysis.spec import SplineNet, as_spline_net, is_network
from layers.errors import LayersError, is_int

__all__ = [
    "tangent_hessian_complexity",
    "local_tangents",
    "local_complexity",
    "adversarial_margin",
    "adversarial_risk",
]


def _as_function(net):
    if isinstance(net, (SplineNet, list, tuple)) or is_network(net):
        spec = as_spline_net(net)
        return lambda v: forward(spec, v)[0], spec.in_dim
    if callable(net):
        return lambda v: jnp.atleast_1d(net(v)), None
    raise LayersError(f"net: expected a network description or a callable, got {net!r}")


def tangent_hessian_complexity(net, x, *, tangents=None, step: float = 1e-2):
    """Tangent-Hessian complexity ``mean_x sum_o ||P^T H_o(x) P||_F^2`` by finite differences.

    For each point the Jacobian ``J`` is evaluated at ``x`` and at ``x + step * P e_i`` for
    each of the ``m`` tangent directions; ``sum_i ||(J(x + step P e_i) - J(x)) P||_F^2 /
    step^2`` equals ``sum_o ||P^T H_o P||_F^2`` exactly for quadratic functions. For a
    piecewise-affine network it measures how much the slopes change across the region
    boundaries within ``step`` of the data along the manifold [1]_. Differentiable with
    respect to parameters closed over by ``net`` (use it as a penalty).

    Parameters
    ----------
    net : SplineNet, list of (W, b), or callable
        A callable maps one input ``(d,)`` to ``(out,)`` or a scalar.
    x : jax.Array [shape=(N, d)]
    tangents : jax.Array [shape=(N, d, m)] or [shape=(d, m)], optional
        Orthonormal tangent bases (e.g. from :func:`local_tangents`); default the identity.
    step : float
        Finite-difference step, in input units.

    Returns
    -------
    complexity : jax.Array [shape=()]

    Raises
    ------
    LayersError
        If shapes do not fit or ``step`` is not positive.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> f = lambda v: 0.5 * jnp.sum(v ** 2)          # Hessian = identity in 3-D
    >>> round(float(tangent_hessian_complexity(f, jnp.zeros((1, 3)))), 4)
    3.0
    """
    fn, d = _as_function(net)
    x = jnp.asarray(x)
    if x.ndim != 2 or (d is not None and x.shape[1] != d):
        raise LayersError(f"x: expected shape (N, {d or 'd'}), got {tuple(x.shape)}")
    if not step > 0:
        raise LayersError(f"step: expected a positive number, got {step}")
    N, dim = x.shape
    P = jnp.eye(dim, dtype=x.dtype) if tangents is None else jnp.asarray(tangents, x.dtype)
    if P.ndim == 2:
        P = jnp.broadcast_to(P, (N,) + P.shape)
    if P.ndim != 3 or P.shape[:2] != (N, dim):
        raise LayersError(
            f"tangents: expected shape ({N}, {dim}, m) or ({dim}, m), got {tuple(P.shape)}"
        )
    jac = jax.vmap(jax.jacfwd(fn))

    J0 = jac(x)  # (N, out, d)
    pts = x[:, None, :] + step * jnp.swapaxes(P, 1, 2)  # (N, m, d)
    Jm = jac(pts.reshape(-1, dim)).reshape((N, P.shape[2]) + J0.shape[1:])
    D = jnp.einsum("nmod,ndk->nmok", Jm - J0[:, None], P) / step
    return jnp.sum(D * D) / N


def local_tangents(data, *, k: int = 10, dim: int = 2):
    """Orthonormal tangent bases of a point cloud by PCA of each point's ``k`` neighbours.

    Parameters
    ----------
    data : array_like [shape=(N, d)]
    k : int
        Neighbours (including the point itself), ``dim < k <= N``.
    dim : int
        Tangent dimension.

    Returns
    -------
    tangents : np.ndarray [shape=(N, d, dim)]

    Raises
    ------
    LayersError
        If ``k`` or ``dim`` do not fit the data.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0, 1, 20)
    >>> P = local_tangents(np.stack([t, 2 * t], 1), k=5, dim=1)
    >>> np.round(np.abs(P[0, :, 0]) * np.sqrt(5), 6).tolist()
    [1.0, 2.0]
    """
    X = np.asarray(data, dtype=float)
    if X.ndim != 2:
        raise LayersError(f"data: expected shape (N, d), got {X.shape}")
    N, d = X.shape
    if not (is_int(dim) and 1 <= dim <= d):
        raise LayersError(f"dim: expected an integer in [1, {d}], got {dim!r}")
    if not (is_int(k) and dim < k <= N):
        raise LayersError(f"k: expected an integer in ({dim}, {N}], got {k!r}")
    sq = np.sum(X * X, axis=1)
    out = np.empty((N, d, dim))
    for s in range(0, N, 1024):
        blk = X[s : s + 1024]
        dist = sq[s : s + 1024, None] - 2 * blk @ X.T + sq[None, :]
        nn = np.argpartition(dist, k - 1, axis=1)[:, :k]
        nb = X[nn] - X[nn].mean(axis=1, keepdims=True)  # (b, k, d)
        _, _, vt = np.linalg.svd(nb, full_matrices=False)
        out[s : s + 1024] = np.swapaxes(vt[:, :dim, :], 1, 2)
    return out


def local_complexity(net, x, *, radius: float, directions=None, per_layer: bool = False):
    """Units whose boundary crosses the cross-polytope of ``radius`` around ``x``.

    The cross-polytope has vertices ``x +- radius * v_i`` for orthonormal directions
    ``v_i``; a unit is counted when its code is not the same at all vertices and ``x`` (the
    sign-change count of [2]_; deeper units are evaluated through the network itself).

    Parameters
    ----------
    net : SplineNet or list of (W, b)
    x : jax.Array [shape=(..., d)]
    radius : float
    directions : jax.Array [shape=(d, m)], optional
        Orthonormal columns; default the ``d`` coordinate axes.
    per_layer : bool

    Returns
    -------
    count : jax.Array [shape=(...)] or [shape=(..., n_layers)], dtype=int32

    Raises
    ------
    LayersError
        If ``radius`` is not positive or ``directions`` has the wrong shape.

    Examples
    --------
    >>> import numpy as np
    >>> net = [(np.eye(2), np.zeros(2), "relu")]
    >>> int(local_complexity(net, np.array([0.05, 3.0]), radius=0.1))
    1
    """
    net = as_spline_net(net)
    x = check_points(x, net.in_dim)
    if not radius > 0:
        raise LayersError(f"radius: expected a positive number, got {radius}")
    d = net.in_dim
    V = jnp.eye(d, dtype=x.dtype) if directions is None else jnp.asarray(directions, x.dtype)
    if V.ndim != 2 or V.shape[0] != d:
        raise LayersError(f"directions: expected shape ({d}, m), got {tuple(V.shape)}")
    offsets = radius * jnp.concatenate([V.T, -V.T], axis=0)  # (2m, d)
    pts = jnp.concatenate([x[..., None, :], x[..., None, :] + offsets], axis=-2)
    codes = forward(net, pts)[1]
    counts = [jnp.sum(jnp.any(c != c[..., :1, :], axis=-2), axis=-1) for c in codes]
    counts = jnp.stack(counts, axis=-1).astype(jnp.int32)
    return counts if per_layer else jnp.sum(counts, axis=-1)


def adversarial_margin(net, x, *, label=None, norm=2):
    """Smallest perturbation flipping the decision, from the region's affine map.

    With ``f(x') = A x' + b`` in x's region and predicted (or given) class ``y``, the margin to
    class ``c`` is ``(f_y - f_c) / ||A_y - A_c||_*`` (dual norm); the smallest over ``c`` is
    the region-wise adversarial distance. It is the exact minimal adversarial perturbation
    when it does not exceed the region's radius (:func:`layers.analysis.region_radius`),
    since the affine map then holds on the whole ball.

    Parameters
    ----------
    net : SplineNet or list of (W, b)
        At least two outputs.
    x : jax.Array [shape=(..., d)]
    label : jax.Array [shape=(...)], optional
        Reference classes; default the predicted ones.
    norm : {2, 'inf', 1}

    Returns
    -------
    result : dict
        ``margin (...)``, ``target (...)`` (closest other class), ``radius (...)`` (region
        radius in the same norm), ``exact (...)`` (margin <= radius).

    Raises
    ------
    LayersError
        If the network has a single output or ``norm`` is unsupported.

    Examples
    --------
    >>> import numpy as np
    >>> net = [(np.array([[1.0, -1.0]]), np.array([0.0, 0.0]))]
    >>> r = adversarial_margin(net, np.array([0.5]))
    >>> round(float(r["margin"]), 4), bool(r["exact"])
    (0.5, True)
    """
    net = as_spline_net(net)
    if net.out_dim < 2:
        raise LayersError(f"net: adversarial margins need >= 2 outputs, got {net.out_dim}")
    from layers.analysis.geometry import dual_order, order_norm

    q = dual_order(norm)
    x = check_points(x, net.in_dim)
    A, b = affine_map(net, x)
    f = jnp.einsum("...od,...d->...o", A, x) + b
    y = jnp.argmax(f, axis=-1) if label is None else jnp.asarray(label).astype(jnp.int32)
    fy = jnp.take_along_axis(f, y[..., None], axis=-1)
    Ay = jnp.take_along_axis(A, y[..., None, None], axis=-2)
    den = order_norm(Ay - A, q, axis=-1)
    m = (fy - f) / jnp.where(den > 0, den, 1.0)
    m = jnp.where((jnp.arange(net.out_dim) == y[..., None]) | (den <= 0), jnp.inf, m)
    target = jnp.argmin(m, axis=-1)
    margin = jnp.min(m, axis=-1)
    rad = region_radius(net, x, norm=norm)
    return {"margin": margin, "target": target, "radius": rad, "exact": margin <= rad}


def adversarial_risk(net, x, label, *, epsilon: float, norm=2):
    """Fraction of samples misclassified or within ``epsilon`` of a flip (region-wise margin).

    Parameters
    ----------
    net : SplineNet or list of (W, b)
    x : jax.Array [shape=(N, d)]
    label : jax.Array [shape=(N,)]
    epsilon : float
    norm : {2, 'inf', 1}

    Returns
    -------
    risk : float
        Mean of ``margin < epsilon`` with margins from :func:`adversarial_margin` taken with
        respect to the true labels (a misclassified sample has a negative margin).
    exact_fraction : float
        Fraction of samples whose margin is exact (the ball stays in one region).

    Raises
    ------
    LayersError
        If ``epsilon`` is negative or shapes mismatch.

    Examples
    --------
    >>> import numpy as np
    >>> net = [(np.array([[1.0, -1.0]]), np.array([0.0, 0.0]))]
    >>> adversarial_risk(net, np.array([[0.5], [2.0]]), np.array([0, 0]), epsilon=1.0)[0]
    0.5
    """
    if not epsilon >= 0:
        raise LayersError(f"epsilon: expected a non-negative number, got {epsilon}")
    lab = np.asarray(label)
    xs = jnp.asarray(x)
    if lab.shape != tuple(xs.shape[:-1]):
        raise LayersError(f"label: expected shape {tuple(xs.shape[:-1])}, got {lab.shape}")
    r = adversarial_margin(net, xs, label=lab, norm=norm)
    margin = np.asarray(r["margin"])
    return float(np.mean(margin < epsilon)), float(np.mean(np.asarray(r["exact"])))
