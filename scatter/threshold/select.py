"""Threshold selection per band: SURE, universal, BayesShrink and the oracle, one entry point.

Conventions (see :mod:`scatter.threshold.stein`): ``sigma`` is the total noise standard deviation
of one coefficient; a band has ``d = 1`` (real) or ``d = 2`` (complex, circular noise) real
components, each with noise standard deviation ``s = sigma / sqrt(d)``.

* ``"sure"``: minimizes Stein's unbiased risk estimate (coefficient domain), see
  :func:`scatter.threshold.stein.sure_threshold`.
* ``"universal"``: ``t = s sqrt(2 log n)`` with ``n`` the band's length (D. L. Donoho and
  I. M. Johnstone, "Ideal spatial adaptation by wavelet shrinkage", Biometrika 81, 1994). For
  real noise the largest of ``n`` noise values exceeds it with probability -> 0; for complex
  circular noise ``P(|n| > t) = 1/n``, so about one noise coefficient per band survives.
* ``"bayes"``: BayesShrink, ``t = s^2 / s_x`` with ``s_x^2 = max(mean|c|^2 / d - s^2, 0)`` the
  signal variance per component (S. G. Chang, B. Yu and M. Vetterli, "Adaptive wavelet
  thresholding for image denoising and compression", IEEE Trans. Image Process. 9, 2000); a band
  with no signal energy above the noise gets ``t = max|c|`` (everything removed).
* ``"oracle"``: the threshold with the smallest actual error given the clean ``reference``
  coefficients, see :func:`scatter.threshold.oracle.oracle_threshold`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from scatter.errors import ScatterError
from scatter.threshold._checks import (
    as_coeffs,
    check_finite_concrete,
    check_lengths,
    check_rule,
    check_sigma_concrete,
    real_dtype,
)
from scatter.threshold.oracle import oracle_threshold
from scatter.threshold.stein import resolve_dof, sure_threshold

__all__ = ["METHODS", "bayes_threshold", "select_thresholds", "universal_threshold"]

METHODS = ("sure", "universal", "bayes", "oracle")


def _sigma(coeffs, sigma):
    check_finite_concrete(sigma, "sigma")
    check_sigma_concrete(sigma, allow_zero=True)
    return jnp.broadcast_to(jnp.asarray(sigma, real_dtype(coeffs.dtype)), coeffs.shape[:-1])


def universal_threshold(coeffs: jax.Array, *, sigma, dof=None, lengths=None) -> jax.Array:
    """Universal threshold ``s sqrt(2 log n)`` of each band.

    Parameters
    ----------
    coeffs : jax.Array [shape=(..., n_bands, n_time)]
        Coefficients (only their shape and real/complex kind are used).
    sigma : float or jax.Array [shape=broadcastable to (..., n_bands)]
        Total noise standard deviation per coefficient, ``>= 0``.
    dof : {None, 1, 2}
        Real components per coefficient (None: detect; 2 on real input: moduli of complex
        coefficients), see :func:`scatter.threshold.stein.resolve_dof`.
    lengths : array_like of int [shape=broadcastable to (..., n_bands)], optional
        Valid length of each band; entries beyond are zero padding.

    Returns
    -------
    jax.Array [shape=(..., n_bands)]
        ``sigma / sqrt(d) * sqrt(2 log n_time)``.

    Raises
    ------
    ScatterError
        ``sigma`` negative or not finite; fewer than 2 dimensions.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> t = universal_threshold(jnp.zeros((1, 1000)), sigma=1.0)
    >>> round(float(t[0]), 3)
    3.717
    """
    coeffs = as_coeffs(coeffs, "coeffs", min_ndim=2)
    s = _sigma(coeffs, sigma) / jnp.sqrt(resolve_dof(coeffs, dof))
    lengths = check_lengths(lengths, coeffs)
    n = float(max(coeffs.shape[-1], 1)) if lengths is None else lengths.astype(s.dtype)
    return s * jnp.sqrt(2.0 * jnp.log(jnp.maximum(jnp.asarray(n, s.dtype), 1.0)))


def bayes_threshold(coeffs: jax.Array, *, sigma, dof=None, lengths=None) -> jax.Array:
    """BayesShrink threshold of each band.

    Parameters
    ----------
    coeffs : jax.Array [shape=(..., n_bands, n_time)]
        Noisy coefficients.
    sigma : float or jax.Array [shape=broadcastable to (..., n_bands)]
        Total noise standard deviation per coefficient, ``>= 0``.
    dof : {None, 1, 2}
        Real components per coefficient (None: detect; 2 on real input: moduli of complex
        coefficients), see :func:`scatter.threshold.stein.resolve_dof`.
    lengths : array_like of int [shape=broadcastable to (..., n_bands)], optional
        Valid length of each band; entries beyond are zero padding.

    Returns
    -------
    jax.Array [shape=(..., n_bands)]
        ``s^2 / s_x``, or ``max|c|`` where ``s_x = 0``.

    Raises
    ------
    ScatterError
        ``sigma`` negative or not finite; non-finite ``coeffs``; fewer than 2 dimensions.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> c = jnp.array([[3.0, -3.0, 3.0, -3.0]])      # mean square 9, noise 1 -> s_x = sqrt(8)
    >>> round(float(bayes_threshold(c, sigma=1.0)[0]), 4)
    0.3536
    """
    coeffs = as_coeffs(coeffs, "coeffs", min_ndim=2)
    check_finite_concrete(coeffs, "coeffs")
    d = resolve_dof(coeffs, dof)
    s2 = _sigma(coeffs, sigma) ** 2 / d
    lengths = check_lengths(lengths, coeffs)
    count = coeffs.shape[-1] if lengths is None else lengths.astype(s2.dtype)
    power = jnp.sum(jnp.abs(coeffs) ** 2, axis=-1) / count / d
    sx2 = jnp.maximum(power - s2, 0.0)
    biggest = jnp.max(jnp.abs(coeffs), axis=-1)
    positive = sx2 > 0
    return jnp.where(positive, s2 / jnp.sqrt(jnp.where(positive, sx2, 1.0)), biggest)


def select_thresholds(
    coeffs: jax.Array,
    *,
    method: str = "sure",
    sigma=None,
    reference: jax.Array | None = None,
    rule: str = "soft",
    firm_ratio: float = 2.0,
    dof=None,
    lengths=None,
) -> jax.Array:
    """One threshold per band (and batch element) by the chosen method.

    Parameters
    ----------
    coeffs : jax.Array [shape=(..., n_bands, n_time)]
        Noisy real or complex coefficients.
    method : {"sure", "universal", "bayes", "oracle"}
        Selection method (module docstring).
    sigma : float or jax.Array [shape=broadcastable to (..., n_bands)], optional
        Total noise standard deviation per coefficient; required except for ``"oracle"``.
    reference : jax.Array [shape=(..., n_bands, n_time)], optional
        Clean coefficients; required by ``"oracle"``.
    rule : {"hard", "soft", "garrote", "firm"}
        Rule the threshold is for (``"sure"`` does not accept ``"hard"``).
    firm_ratio : float
        ``mu > 1`` of the firm rule.
    dof : {None, 1, 2}
        Real components per coefficient (not used by ``"oracle"``).
    lengths : array_like of int [shape=broadcastable to (..., n_bands)], optional
        Valid length of each band; entries beyond are zero padding (in ``reference`` too).

    Returns
    -------
    jax.Array [shape=(..., n_bands)]
        Thresholds ``>= 0``.

    Raises
    ------
    ScatterError
        Unknown method or rule, missing ``sigma`` or ``reference``, ``reference`` of another
        shape, ``sigma < 0``, non-finite input.

    Examples
    --------
    >>> import numpy as np, jax.numpy as jnp
    >>> c = jnp.asarray(np.random.default_rng(0).normal(size=(2, 3, 500)))
    >>> select_thresholds(c, method="universal", sigma=1.0).shape
    (2, 3)
    """
    if method not in METHODS:
        raise ScatterError(
            f"method={method!r} is not a threshold selector; expected one of {METHODS}"
        )
    check_rule(rule, firm_ratio)
    coeffs = as_coeffs(coeffs, "coeffs", min_ndim=2)
    if method == "oracle":
        if reference is None:
            raise ScatterError(
                "method='oracle' needs reference=, the clean coefficients (same shape as coeffs)"
            )
        return oracle_threshold(coeffs, reference, rule=rule, firm_ratio=firm_ratio,
                                lengths=lengths)[0]
    if sigma is None:
        raise ScatterError(
            f"method={method!r} needs sigma=, the noise standard deviation of each band "
            "(see scatter.threshold.noise for estimators)"
        )
    if method == "sure":
        return sure_threshold(coeffs, sigma=sigma, rule=rule, firm_ratio=firm_ratio, dof=dof,
                              lengths=lengths)[0]
    if method == "universal":
        return universal_threshold(coeffs, sigma=sigma, dof=dof, lengths=lengths)
    return bayes_threshold(coeffs, sigma=sigma, dof=dof, lengths=lengths)
