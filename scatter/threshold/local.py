"""Thresholds that follow a noise level changing from coefficient to coefficient.

When the noise standard deviation ``sigma_i`` of each coefficient is known or estimated (per band
and per instant, e.g. by :func:`scatter.threshold.tracked_sigma`), each band is thresholded at
``t_i = tau * sigma_i``: one relative threshold ``tau`` per band, chosen on the normalised
coefficients ``z_i = c_i / sigma_i`` (unit noise), so the threshold rises and falls with the
noise (a gust, a passing car) instead of being set once per band.

Noise model: ``c_i = theta_i + n_i`` with ``n_i`` Gaussian of total variance ``sigma_i^2``
(circular complex, or real), possibly correlated across coefficients. Then ``z_i`` has unit
noise, and because ``h_tau(c_i) = sigma_i h(z_i)`` for every rule of
:mod:`scatter.threshold.rules` (they act on ``|c| / t`` only), the actual error is
``sum_i sigma_i^2 |h(z_i) - theta_i / sigma_i|^2``. Stein's estimate of each term, weighted by
``sigma_i^2`` (:func:`scatter.threshold.sure` with ``weights``), is therefore an unbiased
estimate of the un-normalised risk, and ``"sure"`` minimises it; ``"oracle"`` minimises the same
weighted actual error given the clean coefficients. ``"universal"`` and ``"bayes"`` apply their
rules to the normalised coefficients (``sigma = 1``). With a constant ``sigma_i`` per band all
four reduce to :func:`scatter.threshold.select_thresholds`.

Coefficients with ``sigma_i = 0`` (no noise) are kept unchanged and carry no weight.

**Pooling across neighbouring bands** (``pool = h > 0``, ``"sure"`` only). Each band's
estimate stays unbiased, but its minimiser varies from band to band with the noise and with
the errors of an estimated level, which differ from band to band (each band's level comes from
its own quiet blocks). With ``pool``, band ``k`` takes the relative threshold that minimises
``sum_{|j - k| <= h} SURE_j(tau) / SURE_j(0)`` over a grid of ``tau`` (step ``1/40``, up to 8):
each band's estimated risk in units of its risk without thresholding (``SURE_j(0) =
sum_i sigma_i^2``, the band's noise energy), summed over the band and its ``h`` neighbours on
either side, so that every band of the window counts alike whatever its length and level. This
is a sliding version of the pooled SURE selection of levels that share a threshold (Donoho and
Johnstone 1995 select one SURE threshold per level; here neighbouring bands of a constant-Q
bank, a fraction of an octave apart, share a neighbourhood instead).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from scatter.errors import ScatterError
from scatter.threshold._checks import (
    as_coeffs,
    check_finite_concrete,
    check_rule,
    real_dtype,
)
from scatter.threshold.oracle import oracle_threshold
from scatter.threshold.rules import gain
from scatter.threshold.select import METHODS, bayes_threshold, universal_threshold
from scatter.threshold.stein import sure_curve, sure_threshold

__all__ = ["POOL_GRID", "apply_local_threshold", "local_thresholds"]

#: Relative thresholds searched by the pooled selection (module docstring): steps of 1/40 up to
#: 8, above the universal threshold of any band shorter than ``exp(64)`` coefficients.
POOL_GRID = tuple(i / 40.0 for i in range(321))


def _local_sigma(coeffs, sigma):
    rdt = real_dtype(coeffs.dtype)
    sigma = jnp.asarray(sigma, rdt)
    if sigma.shape != coeffs.shape:
        try:
            sigma = jnp.broadcast_to(sigma, coeffs.shape)
        except ValueError:
            raise ScatterError(
                f"sigma has shape {tuple(jnp.shape(sigma))}; expected the noise level of every "
                f"coefficient, broadcastable to {tuple(coeffs.shape)}") from None
    check_finite_concrete(sigma, "sigma")
    if not isinstance(sigma, jax.core.Tracer) and bool(jnp.any(sigma < 0)):
        raise ScatterError("sigma must be >= 0 everywhere (a noise standard deviation)")
    return sigma


def _normalise(c, sigma):
    positive = sigma > 0
    return jnp.where(positive, c / jnp.where(positive, sigma, 1.0).astype(c.dtype), 0.0)


def local_thresholds(
    coeffs: jax.Array,
    sigma,
    *,
    method: str = "sure",
    reference: jax.Array | None = None,
    rule: str = "soft",
    firm_ratio: float = 2.0,
    dof=None,
    lengths=None,
    pool: int = 0,
) -> jax.Array:
    """One threshold per band in units of the local noise level (module docstring).

    Parameters
    ----------
    coeffs : jax.Array [shape=(..., n_bands, n_time)]
        Noisy real or complex coefficients.
    sigma : jax.Array [shape=broadcastable to (..., n_bands, n_time)]
        Noise standard deviation of every coefficient (total over real and imaginary parts),
        ``>= 0``.
    method : {"sure", "universal", "bayes", "oracle"}
        Selection method.
    reference : jax.Array [shape=(..., n_bands, n_time)], optional
        Clean coefficients; required by ``"oracle"``.
    rule : {"hard", "soft", "garrote", "firm"}
        Rule the threshold is for (``"sure"`` does not accept ``"hard"``).
    firm_ratio : float
        ``mu > 1`` of the firm rule.
    dof : {None, 1, 2}
        Real components per coefficient (None: detect).
    lengths : array_like of int [shape=broadcastable to (..., n_bands)], optional
        Valid length of each band; entries beyond are padding.
    pool : int
        ``"sure"`` only: choose each band's ``tau`` on the summed relative risk of the band and
        its ``pool`` neighbours on either side (module docstring); 0 chooses each band alone.

    Returns
    -------
    jax.Array [shape=(..., n_bands)]
        ``tau >= 0``: coefficient ``i`` is to be thresholded at ``tau * sigma_i``
        (:func:`apply_local_threshold`).

    Raises
    ------
    ScatterError
        Unknown method or rule, ``sigma`` negative, non-finite or of the wrong shape, missing
        ``reference`` for ``"oracle"``, ``pool`` not an integer ``>= 0``, and as
        :func:`scatter.threshold.select_thresholds`.

    Examples
    --------
    >>> import numpy as np, jax.numpy as jnp
    >>> rng = np.random.default_rng(0)
    >>> level = np.where(np.arange(4000) < 2000, 0.1, 1.0)[None]      # the noise rises tenfold
    >>> c = jnp.asarray(level * rng.standard_normal((1, 4000)), jnp.float32)
    >>> tau = local_thresholds(c, jnp.asarray(level), method="universal")
    >>> round(float(tau[0]), 2)                                        # sqrt(2 log 4000)
    4.07
    """
    if method not in METHODS:
        raise ScatterError(f"method={method!r} is not a threshold selector; expected one of "
                           f"{METHODS}")
    check_rule(rule, firm_ratio)
    if isinstance(pool, bool) or not isinstance(pool, (int, np.integer)) or pool < 0:
        raise ScatterError(f"pool={pool!r} must be an integer >= 0 (neighbouring bands on "
                           "either side that share the threshold search)")
    coeffs = as_coeffs(coeffs, "coeffs", min_ndim=2)
    check_finite_concrete(coeffs, "coeffs")
    sigma = _local_sigma(coeffs, sigma)
    z = _normalise(coeffs, sigma)
    weights = sigma**2
    if method == "sure" and pool > 0:
        return _pooled_sure(z, weights, rule, firm_ratio, dof, lengths, int(pool))
    if method == "sure":
        return sure_threshold(z, sigma=1.0, rule=rule, firm_ratio=firm_ratio, dof=dof,
                              lengths=lengths, weights=weights)[0]
    if method == "oracle":
        if reference is None:
            raise ScatterError("method='oracle' needs reference=, the clean coefficients "
                               "(same shape as coeffs)")
        reference = as_coeffs(reference, "reference", min_ndim=2)
        if reference.shape != coeffs.shape:
            raise ScatterError(f"reference has shape {tuple(reference.shape)} but coeffs has "
                               f"shape {tuple(coeffs.shape)}; expected the clean coefficients "
                               "of the same signal, same shape")
        return oracle_threshold(z, _normalise(reference.astype(z.dtype), sigma), rule=rule,
                                firm_ratio=firm_ratio, lengths=lengths, weights=weights)[0]
    if method == "universal":
        return universal_threshold(z, sigma=1.0, dof=dof, lengths=lengths)
    return bayes_threshold(z, sigma=1.0, dof=dof, lengths=lengths)


def _pooled_sure(z, weights, rule, firm_ratio, dof, lengths, pool):
    """The pooled selection of the module docstring: relative risks summed over a sliding
    window of ``2 pool + 1`` bands (clipped at the ends), minimised on :data:`POOL_GRID`."""
    grid = jnp.asarray(POOL_GRID, weights.dtype)
    curve = sure_curve(z, grid, sigma=1.0, rule=rule, firm_ratio=firm_ratio, dof=dof,
                       lengths=lengths, weights=weights)                  # (..., K, G)
    scale = curve[..., :1]                                                # SURE at tau = 0
    rel = jnp.where(scale > 0, curve / jnp.where(scale > 0, scale, 1.0), 0.0)
    n_bands = rel.shape[-2]
    edges = jnp.concatenate([jnp.zeros(rel.shape[:-2] + (1,) + rel.shape[-1:], rel.dtype),
                             jnp.cumsum(rel, axis=-2)], axis=-2)
    k = np.arange(n_bands)
    hi, lo = np.minimum(k + pool + 1, n_bands), np.maximum(k - pool, 0)
    pooled = edges[..., hi, :] - edges[..., lo, :]
    return grid[jnp.argmin(pooled, axis=-1)]


def apply_local_threshold(
    coeffs: jax.Array, tau, sigma, *, rule: str = "soft", firm_ratio: float = 2.0
) -> jax.Array:
    """Threshold coefficient ``i`` of each band at ``tau * sigma_i`` (phase kept).

    Parameters
    ----------
    coeffs : jax.Array [shape=(..., n_bands, n_time)]
        Real or complex coefficients.
    tau : float or jax.Array [shape=broadcastable to (..., n_bands)]
        Relative thresholds (:func:`local_thresholds`).
    sigma : jax.Array [shape=broadcastable to (..., n_bands, n_time)]
        Noise standard deviation of every coefficient, ``>= 0``.
    rule : {"hard", "soft", "garrote", "firm"}
        Thresholding rule.
    firm_ratio : float
        ``mu > 1`` of the firm rule.

    Returns
    -------
    jax.Array [shape=(..., n_bands, n_time)]
        Same dtype as ``coeffs``.

    Raises
    ------
    ScatterError
        Unknown rule, bad ``firm_ratio``, ``sigma`` negative, non-finite or mis-shaped.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> apply_local_threshold(jnp.array([[3.0, 3.0]]), 2.0, jnp.array([[1.0, 0.5]]))
    Array([[1., 2.]], dtype=float32)
    """
    check_rule(rule, firm_ratio)
    coeffs = as_coeffs(coeffs, "coeffs", min_ndim=2)
    sigma = _local_sigma(coeffs, sigma)
    t = jnp.maximum(jnp.asarray(tau, sigma.dtype), 0.0)[..., None] * sigma
    g = gain(jnp.abs(coeffs), t, rule=rule, firm_ratio=firm_ratio)
    return jnp.where(g > 0, coeffs * g.astype(coeffs.dtype), jnp.zeros((), coeffs.dtype))
