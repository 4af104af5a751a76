"""Max-affine spline statistics of deep generative networks ``g: z (k) -> x (D)``.

In the region of ``z`` the generator is ``g(z') = A z' + b``, so the generated manifold is
piecewise affine: its local dimension is ``rank(A)``, adjacent pieces meet at angles given by
the principal angles between their column spaces, and a latent density ``p_z`` is pushed to
the density ``p_z(z) / sqrt(det(A^T A))`` on the manifold (for an injective generator). The
differential entropy of the generated distribution is then
``H(z) + E_z[1/2 log det(A^T A)]``, exact for a linear generator [1]_.

References
----------
.. [1] R. Balestriero, S. Paris and R. Baraniuk, "Max-Affine Spline Insights into Deep
   Generative Networks", ICLR 2021 (arXiv:2002.11912).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from layers.analysis.affine import affine_map, check_points, forward
from layers.analysis.spec import as_spline_net
from layers.errors import LayersError, is_int

__all__ = [
    "generator_rank",
    "log_volume",
    "principal_angles",
    "region_angularity",
    "manifold_log_density",
    "generator_entropy",
    "sample_log_likelihood",
]

_LOG2PI = float(np.log(2 * np.pi))


def _gaussian_logpdf(z):
    return -0.5 * jnp.sum(z * z, axis=-1) - 0.5 * z.shape[-1] * _LOG2PI


def generator_rank(net, z, *, rtol: float | None = None):
    """Rank of the region's slope matrix ``A (D, k)``: the local manifold dimension.

    Parameters
    ----------
    net : SplineNet, list of (W, b), or callable
    z : jax.Array [shape=(..., k)]
    rtol : float, optional
        Relative singular-value threshold (default ``max(D, k) * eps``).

    Returns
    -------
    rank : jax.Array [shape=(...)], dtype=int32

    Raises
    ------
    LayersError
        If ``z`` does not fit the network.

    Examples
    --------
    >>> import numpy as np
    >>> int(generator_rank([(np.array([[1.0, 2.0, 0.0]]), np.zeros(3))], np.ones(1)))
    1
    """
    A, _ = affine_map(net, z)
    s = jnp.linalg.svd(A, compute_uv=False)
    tol = (max(A.shape[-2:]) * jnp.finfo(A.dtype).eps) if rtol is None else rtol
    return jnp.sum(s > tol * s[..., :1], axis=-1).astype(jnp.int32)


def log_volume(net, z):
    """Log volume element ``1/2 log det(A^T A)`` of the region containing ``z``.

    Returns ``-inf`` where ``A`` has rank below ``k`` (the region collapses).

    Returns
    -------
    logvol : jax.Array [shape=(...)]

    Raises
    ------
    LayersError
        If ``z`` does not fit the network.

    Examples
    --------
    >>> import numpy as np
    >>> float(log_volume([(np.array([[3.0, 4.0]]), np.zeros(2))], np.ones(1)))  # log 5
    1.6094379425048828
    """
    A, _ = affine_map(net, z)
    sign, logdet = jnp.linalg.slogdet(jnp.swapaxes(A, -1, -2) @ A)
    return jnp.where(sign > 0, 0.5 * logdet, -jnp.inf)


def principal_angles(A1, A2):
    """Principal angles (radians, ascending) between the column spaces of ``(..., D, k)``.

    Examples
    --------
    >>> import numpy as np
    >>> a = principal_angles(np.eye(3)[:, :1], np.array([[1.0], [1.0], [0.0]]))
    >>> round(float(np.degrees(a[0])), 4)
    45.0
    """
    Q1, _ = jnp.linalg.qr(jnp.asarray(A1))
    Q2, _ = jnp.linalg.qr(jnp.asarray(A2))
    s = jnp.linalg.svd(jnp.swapaxes(Q1, -1, -2) @ Q2, compute_uv=False)
    return jnp.arccos(jnp.clip(s, -1.0, 1.0))


def region_angularity(net, z1, z2):
    """Principal angles between the affine pieces of the manifold at ``z1`` and ``z2``.

    For adjacent regions this is the angularity of [1]_ (all zeros: the pieces are coplanar).

    Returns
    -------
    angles : jax.Array [shape=(..., k)]

    Raises
    ------
    LayersError
        If the inputs do not fit the network.

    Examples
    --------
    >>> import numpy as np
    >>> net = [(np.array([[1.0, -1.0]]), np.zeros(2), "relu"),
    ...        (np.array([[1.0, 0.0], [0.0, 1.0]]), np.zeros(2))]
    >>> round(float(np.degrees(region_angularity(net, np.ones(1), -np.ones(1))[0])), 4)
    90.0
    """
    return principal_angles(affine_map(net, z1)[0], affine_map(net, z2)[0])


def manifold_log_density(net, z, *, latent_logpdf=None):
    """Log density of the generated distribution at ``g(z)``, on the manifold.

    ``log p_z(z) - 1/2 log det(A^T A)``, the density with respect to the ``k``-dimensional
    volume on the generated manifold, valid where the generator is injective.

    Parameters
    ----------
    net : SplineNet, list of (W, b), or callable
    z : jax.Array [shape=(..., k)]
    latent_logpdf : callable, optional
        ``z (..., k) -> (...)``; default standard normal.

    Returns
    -------
    logp : jax.Array [shape=(...)]

    Raises
    ------
    LayersError
        If ``z`` does not fit the network.

    Examples
    --------
    >>> import numpy as np
    >>> net = [(2 * np.eye(2), np.zeros(2))]
    >>> round(float(manifold_log_density(net, np.zeros(2))), 4)   # -log(2 pi) - log 4
    -3.2242
    """
    z = jnp.asarray(z)
    lp = _gaussian_logpdf(z) if latent_logpdf is None else latent_logpdf(z)
    return lp - log_volume(net, z)


def generator_entropy(net, *, key=None, n_samples: int = 4096):
    """Differential entropy ``H(z) + E_z[1/2 log det(A^T A)]`` for ``z ~ N(0, I_k)``.

    Exact (no sampling) when every layer is the identity nonlinearity (a linear generator);
    otherwise a Monte-Carlo average over ``n_samples`` latent draws.

    Parameters
    ----------
    net : SplineNet or list of (W, b)
    key : jax.Array, optional
        PRNG key for the Monte-Carlo case (required then).
    n_samples : int

    Returns
    -------
    entropy : float
        In nats, with respect to the volume on the generated manifold.

    Raises
    ------
    LayersError
        If a key is missing for a nonlinear generator or ``n_samples < 1``.

    Examples
    --------
    >>> import numpy as np
    >>> h = generator_entropy([(np.eye(2), np.zeros(2))])   # standard normal in 2-D
    >>> round(h, 4)
    2.8379
    """
    net = as_spline_net(net)
    k = net.in_dim
    hz = 0.5 * k * (1.0 + _LOG2PI)
    if all(layer.activation.kind == "identity" for layer in net.layers):
        return float(hz + log_volume(net, jnp.zeros(k)))
    if key is None:
        raise LayersError("key: a PRNG key is required to sample a nonlinear generator")
    if not (is_int(n_samples) and n_samples >= 1):
        raise LayersError(f"n_samples: expected a positive integer, got {n_samples!r}")
    z = jax.random.normal(key, (int(n_samples), k))
    return float(hz + jnp.mean(log_volume(net, z)))


def sample_log_likelihood(net, x, *, z0=None, n_steps: int = 50, latent_logpdf=None):
    """Log likelihood of a generated-space sample ``x`` by region-wise inversion.

    Starting from ``z0``, iterate ``z <- argmin_z' ||A z' + b - x||`` with the affine map of
    the current region (exact once ``z`` and its solution share a region), then return
    :func:`manifold_log_density` at the solution. ``x`` is on the manifold iff the residual
    is ~0.

    Parameters
    ----------
    net : SplineNet or list of (W, b)
    x : jax.Array [shape=(D,)]
    z0 : jax.Array [shape=(k,)], optional
        Start (default zeros).
    n_steps : int
    latent_logpdf : callable, optional

    Returns
    -------
    result : dict
        ``log_likelihood``, ``z`` (preimage), ``residual`` (``||g(z) - x||``).

    Raises
    ------
    LayersError
        If shapes do not fit the network.

    Examples
    --------
    >>> import numpy as np
    >>> net = [(np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]), np.zeros(3))]
    >>> r = sample_log_likelihood(net, np.array([1.0, 3.0, 2.0]))
    >>> np.round(np.asarray(r["z"]), 4).tolist(), round(float(r["residual"]), 5)
    ([1.0, 2.0], 0.0)
    """
    net = as_spline_net(net)
    x = check_points(x, net.out_dim, name="x")
    if x.ndim != 1:
        raise LayersError(f"x: expected one sample of shape ({net.out_dim},), got {x.shape}")
    z = jnp.zeros(net.in_dim, x.dtype) if z0 is None else check_points(z0, net.in_dim, "z0")
    best_z, best_res = z, jnp.inf
    for _ in range(int(n_steps)):
        A, b = affine_map(net, z)
        z_new = jnp.linalg.lstsq(A, x - b)[0]
        res = jnp.linalg.norm(forward(net, z_new)[0] - x)
        if res < best_res:
            best_z, best_res = z_new, res
        if jnp.allclose(z_new, z, rtol=1e-6, atol=1e-9):
            break
        z = z_new
    return {
        "log_likelihood": manifold_log_density(net, best_z, latent_logpdf=latent_logpdf),
        "z": best_z,
        "residual": best_res,
    }
