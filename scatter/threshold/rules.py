"""Thresholding rules applied through the modulus: hard, soft, non-negative garrote, firm.

Every rule maps a coefficient ``c`` (real or complex) to ``c * g(|c|)`` with a real gain
``0 <= g <= 1`` that depends on the modulus only, so the phase (the sign, for real coefficients) is
kept. With ``r = |c|`` and threshold ``t >= 0``:

========  ==================================================================================
hard      ``g = 1[r > t]``
soft      ``g = max(0, 1 - t / r)``                    (Donoho & Johnstone, 1994)
garrote   ``g = max(0, 1 - t**2 / r**2)``              (Breiman, 1995; Gao, 1998)
firm      ``g = 0`` for ``r <= t``, ``a (1 - t / r)`` for ``t < r <= mu t``, ``1`` above, with
          ``a = mu / (mu - 1)`` and ``mu = firm_ratio > 1``   (Gao & Bruce, 1997)
========  ==================================================================================

References: D. L. Donoho and I. M. Johnstone, "Ideal spatial adaptation by wavelet shrinkage",
Biometrika 81 (1994); L. Breiman, "Better subset regression using the nonnegative garrote",
Technometrics 37 (1995); H.-Y. Gao, "Wavelet shrinkage denoising using the non-negative garrote",
J. Comput. Graph. Stat. 7 (1998); H.-Y. Gao and A. G. Bruce, "WaveShrink with firm shrinkage",
Statistica Sinica 7 (1997).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from scatter.threshold._checks import as_coeffs, check_finite_concrete, check_rule

__all__ = ["apply_threshold", "firm", "gain", "garrote", "hard", "soft"]


def gain(r: jax.Array, t: jax.Array, *, rule: str, firm_ratio: float = 2.0) -> jax.Array:
    """The real gain ``g(r)`` of a rule, so that the rule maps ``c`` to ``c * g(|c|)``.

    Parameters
    ----------
    r : jax.Array [shape=(...)]
        Moduli ``|c| >= 0``.
    t : jax.Array [shape=broadcastable to r]
        Thresholds ``>= 0``.
    rule : {"hard", "soft", "garrote", "firm"}
        The rule (see the module docstring).
    firm_ratio : float
        ``mu > 1`` of the firm rule: coefficients above ``mu * t`` are kept unchanged.

    Returns
    -------
    jax.Array [shape=broadcast of r and t]
        Gains in ``[0, 1]``; zero wherever ``r <= t``.

    Raises
    ------
    ScatterError
        Unknown ``rule``, or ``firm_ratio <= 1`` for the firm rule.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> gain(jnp.array([0.5, 2.0]), 1.0, rule="soft")
    Array([0. , 0.5], dtype=float32)
    """
    check_rule(rule, firm_ratio)
    r = jnp.asarray(r)
    t = jnp.asarray(t, dtype=r.dtype)
    above = r > t
    safe_r = jnp.where(above, r, 1.0)  # keeps the gradient finite where the gain is 0
    if rule == "hard":
        g = above.astype(r.dtype)
    elif rule == "soft":
        g = jnp.where(above, (r - t) / safe_r, 0.0)
    elif rule == "garrote":
        g = jnp.where(above, (r - t) * (r + t) / safe_r**2, 0.0)
    else:
        mu = float(firm_ratio)
        a = mu / (mu - 1.0)
        middle = jnp.where(above, a * (r - t) / safe_r, 0.0)
        g = jnp.where(r > mu * t, 1.0, middle)
    return g.astype(r.dtype)


def _apply(c, t, rule: str, firm_ratio: float) -> jax.Array:
    c = as_coeffs(c, "c", min_ndim=0)
    check_finite_concrete(t, "t")
    r = jnp.abs(c)
    g = gain(r, jnp.maximum(jnp.asarray(t, dtype=r.dtype), 0.0), rule=rule, firm_ratio=firm_ratio)
    return jnp.where(g > 0, c * g.astype(c.dtype), jnp.zeros((), c.dtype))


def hard(c: jax.Array, t) -> jax.Array:
    """Hard thresholding: keep ``c`` where ``|c| > t``, zero elsewhere.

    Parameters
    ----------
    c : jax.Array [shape=(...)]
        Real or complex coefficients.
    t : float or jax.Array [shape=broadcastable to c]
        Threshold(s) ``>= 0`` (negative values act as 0).

    Returns
    -------
    jax.Array [shape=(...)]
        Same dtype as ``c``.

    Raises
    ------
    ScatterError
        If ``t`` holds NaN or inf (checked outside ``jax.jit``).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> hard(jnp.array([-3.0, 0.5, 2.0]), 1.0)
    Array([-3.,  0.,  2.], dtype=float32)
    """
    return _apply(c, t, "hard", 2.0)


def soft(c: jax.Array, t) -> jax.Array:
    """Soft thresholding through the modulus: ``c * max(0, 1 - t/|c|)`` (phase kept).

    Parameters
    ----------
    c : jax.Array [shape=(...)]
        Real or complex coefficients.
    t : float or jax.Array [shape=broadcastable to c]
        Threshold(s) ``>= 0``.

    Returns
    -------
    jax.Array [shape=(...)]
        Same dtype as ``c``; the modulus shrinks by ``t``, the phase is unchanged.

    Raises
    ------
    ScatterError
        If ``t`` holds NaN or inf (checked outside ``jax.jit``).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> soft(jnp.array([3j, -0.5]), 1.0)
    Array([0.+2.j, 0.+0.j], dtype=complex64)
    """
    return _apply(c, t, "soft", 2.0)


def garrote(c: jax.Array, t) -> jax.Array:
    """Non-negative garrote: ``c * max(0, 1 - t**2/|c|**2)`` (phase kept).

    Parameters
    ----------
    c : jax.Array [shape=(...)]
        Real or complex coefficients.
    t : float or jax.Array [shape=broadcastable to c]
        Threshold(s) ``>= 0``.

    Returns
    -------
    jax.Array [shape=(...)]
        Same dtype as ``c``.

    Raises
    ------
    ScatterError
        If ``t`` holds NaN or inf (checked outside ``jax.jit``).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> garrote(jnp.array([2.0, -0.5]), 1.0)
    Array([1.5, 0. ], dtype=float32)
    """
    return _apply(c, t, "garrote", 2.0)


def firm(c: jax.Array, t, *, ratio: float = 2.0) -> jax.Array:
    """Firm shrinkage: 0 up to ``t``, linear up to ``ratio * t`` on ``(t, ratio * t]``, then kept.

    Parameters
    ----------
    c : jax.Array [shape=(...)]
        Real or complex coefficients.
    t : float or jax.Array [shape=broadcastable to c]
        Lower threshold(s) ``>= 0``.
    ratio : float
        Upper threshold over lower threshold, ``> 1``.

    Returns
    -------
    jax.Array [shape=(...)]
        Same dtype as ``c``.

    Raises
    ------
    ScatterError
        If ``ratio <= 1`` or ``t`` holds NaN or inf.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> firm(jnp.array([0.5, 1.5, 3.0]), 1.0, ratio=2.0)
    Array([0., 1., 3.], dtype=float32)
    """
    return _apply(c, t, "firm", ratio)


def apply_threshold(
    coeffs: jax.Array, thresholds: jax.Array, *, rule: str = "soft", firm_ratio: float = 2.0
) -> jax.Array:
    """Threshold each band of a coefficient array with its own threshold.

    Parameters
    ----------
    coeffs : jax.Array [shape=(..., n_bands, n_time)]
        Real or complex frame coefficients.
    thresholds : jax.Array [shape=broadcastable to (..., n_bands)]
        One threshold per band (and batch element).
    rule : {"hard", "soft", "garrote", "firm"}
        The rule.
    firm_ratio : float
        ``mu > 1`` for the firm rule.

    Returns
    -------
    jax.Array [shape=(..., n_bands, n_time)]
        Thresholded coefficients, same dtype as ``coeffs``.

    Raises
    ------
    ScatterError
        Unknown rule, bad ``firm_ratio``, ``coeffs`` with fewer than 2 dimensions, or NaN/inf
        thresholds.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> apply_threshold(jnp.array([[1.0, 3.0], [1.0, 3.0]]), jnp.array([0.0, 2.0]))
    Array([[1., 3.],
           [0., 1.]], dtype=float32)
    """
    check_rule(rule, firm_ratio)
    coeffs = as_coeffs(coeffs, "coeffs", min_ndim=2)
    t = jnp.asarray(thresholds)[..., None]
    return _apply(coeffs, t, rule, firm_ratio)
