"""The oracle threshold: the one that minimizes the actual error, given the clean coefficients.

Not usable for denoising (it needs the answer), but the yardstick for SURE and the other
selectors: for each band, the threshold ``t`` minimizing ``sum_i |rule_t(c_i) - theta_i|^2``
over the same candidates as the SURE search (0, each ``|c_i|`` and, for firm, each ``|c_i|/mu``).

For a rule ``c g(r)`` the error of one coefficient above the threshold expands into powers of
``t`` times per-coefficient weights, with ``e = c - theta`` and ``rho = Re(conj(e) c)``:

* hard: ``|e|^2``;
* soft: ``|e|^2 - 2 t rho / r + t^2``;
* garrote: ``|e|^2 - 2 t^2 rho / r^2 + t^4 / r^2``;
* firm (``t < r <= mu t``, ``a = mu / (mu - 1)``, ``f = a c - theta``):
  ``|f|^2 - 2 a t Re(conj(f) c) / r + a^2 t^2``; above ``mu t``: ``|e|^2``;

and ``|theta|^2`` below the threshold. Sorting by ``|c|`` once turns every candidate's error into
prefix/suffix sums: ``O(n log n)`` per band, vectorized and ``jax.jit``-compatible. With
per-coefficient ``weights`` every term is multiplied by its coefficient's weight (the error of
thresholds that follow a changing noise level, see :mod:`scatter.threshold.stein`, *Weights*).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from scatter.errors import ScatterError
from scatter.threshold import _sorted as srt
from scatter.threshold._checks import (
    as_coeffs,
    check_finite_concrete,
    check_lengths,
    check_rule,
    check_weights,
)

__all__ = ["oracle_threshold", "threshold_error"]


def _check_pair(coeffs, reference, rule, firm_ratio):
    check_rule(rule, firm_ratio)
    coeffs = as_coeffs(coeffs, "coeffs", min_ndim=2)
    reference = as_coeffs(reference, "reference", min_ndim=2)
    if coeffs.shape != reference.shape:
        raise ScatterError(
            f"reference has shape {tuple(reference.shape)} but coeffs has shape "
            f"{tuple(coeffs.shape)}; expected the clean coefficients of the same signal, same shape"
        )
    check_finite_concrete(coeffs, "coeffs")
    check_finite_concrete(reference, "reference")
    dtype = jnp.result_type(coeffs.dtype, reference.dtype)
    return coeffs.astype(dtype), reference.astype(dtype)


def threshold_error(
    coeffs: jax.Array,
    reference: jax.Array,
    t,
    *,
    rule: str = "soft",
    firm_ratio: float = 2.0,
    weights=None,
) -> jax.Array:
    """The actual squared error of each band after thresholding at ``t``.

    Parameters
    ----------
    coeffs : jax.Array [shape=(..., n_bands, n_time)]
        Noisy coefficients.
    reference : jax.Array [shape=(..., n_bands, n_time)]
        Clean coefficients ``theta``.
    t : float or jax.Array [shape=broadcastable to (..., n_bands)]
        Threshold(s).
    rule : {"hard", "soft", "garrote", "firm"}
        Thresholding rule.
    firm_ratio : float
        ``mu > 1`` of the firm rule.
    weights : jax.Array [shape=broadcastable to (..., n_bands, n_time)], optional
        Non-negative weight of each coefficient's squared error.

    Returns
    -------
    jax.Array [shape=(..., n_bands)]
        ``sum_time w |rule_t(c) - theta|^2`` (``w = 1`` without ``weights``).

    Raises
    ------
    ScatterError
        Shapes differ, unknown rule, bad ``firm_ratio``, non-finite input, bad ``weights``.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> threshold_error(jnp.array([[0.5, 3.0]]), jnp.array([[0.0, 3.0]]), 1.0)   # (3 - 1 - 3)^2
    Array([1.], dtype=float32)
    """
    from scatter.threshold.rules import apply_threshold

    coeffs, reference = _check_pair(coeffs, reference, rule, firm_ratio)
    w = check_weights(weights, coeffs)
    t = jnp.broadcast_to(jnp.asarray(t, jnp.abs(coeffs).dtype), coeffs.shape[:-1])
    out = apply_threshold(coeffs, t, rule=rule, firm_ratio=firm_ratio)
    err = jnp.abs(out - reference) ** 2
    return jnp.sum(err if w is None else err * w, axis=-1)


@partial(jax.jit, static_argnames=("rule", "firm_ratio"))
def _search(coeffs, reference, lengths, weights, rule, firm_ratio):
    r_all = srt.moduli(coeffs, lengths)
    order = jnp.argsort(r_all, axis=-1)
    r = srt.take(r_all, order)
    c = srt.take(coeffs, order)
    theta = srt.take(reference, order)
    e = c - theta
    cands = srt.candidates(r, rule, firm_ratio)
    k = srt.count_le(r, cands)
    if weights is None:
        n = srt.counts(r, lengths)
        w = 1.0

        def total(j):  # sum of the weights of the entries from j on
            return n - j
    else:
        w = srt.finite(srt.take(jnp.where(jnp.isfinite(r_all), weights, 0.0), order))
        wsum = srt.suffix(w)

        def total(j):
            return srt.take(wsum, j)
    below = srt.take(srt.prefix(w * jnp.abs(theta) ** 2), k)
    e2 = srt.suffix(w * jnp.abs(e) ** 2)
    rho = w * jnp.real(jnp.conj(e) * c)
    if rule == "hard":
        err = below + srt.take(e2, k)
    elif rule == "soft":
        w1 = srt.suffix(rho * srt.safe_inverse(r, 1))
        err = below + srt.take(e2, k) - 2.0 * cands * srt.take(w1, k) + total(k) * cands**2
    elif rule == "garrote":
        w2 = srt.take(srt.suffix(rho * srt.safe_inverse(r, 2)), k)
        inv2 = srt.take(srt.suffix(w * srt.safe_inverse(r, 2)), k)
        err = below + srt.take(e2, k) - 2.0 * cands**2 * w2 + cands**4 * inv2
    else:
        mu = float(firm_ratio)
        a = mu / (mu - 1.0)
        k2 = srt.count_le(r, mu * cands)
        f = a * c - theta
        f2 = srt.suffix(w * jnp.abs(f) ** 2)
        wf = srt.suffix(w * jnp.real(jnp.conj(f) * c) * srt.safe_inverse(r, 1))
        mid = (srt.take(f2, k) - srt.take(f2, k2)
               - 2.0 * a * cands * (srt.take(wf, k) - srt.take(wf, k2))
               + (a * cands) ** 2 * (total(k) - total(k2)))
        err = below + mid + srt.take(e2, k2)
    return srt.best(err, cands)


def oracle_threshold(
    coeffs: jax.Array,
    reference: jax.Array,
    *,
    rule: str = "soft",
    firm_ratio: float = 2.0,
    lengths=None,
    weights=None,
) -> tuple[jax.Array, jax.Array]:
    """The threshold with the smallest actual error in each band, and that error.

    Parameters
    ----------
    coeffs : jax.Array [shape=(..., n_bands, n_time)]
        Noisy real or complex coefficients.
    reference : jax.Array [shape=(..., n_bands, n_time)]
        The clean coefficients (same transform of the clean signal).
    rule : {"hard", "soft", "garrote", "firm"}
        Thresholding rule.
    firm_ratio : float
        ``mu > 1`` of the firm rule.
    lengths : array_like of int [shape=broadcastable to (..., n_bands)], optional
        Valid length of each band; entries beyond are padding (must be 0 in both arrays).
    weights : jax.Array [shape=broadcastable to (..., n_bands, n_time)], optional
        Non-negative weight of each coefficient's squared error; the search minimizes the
        weighted error.

    Returns
    -------
    thresholds : jax.Array [shape=(..., n_bands)]
        Error-minimizing threshold per band (smallest one on ties).
    error : jax.Array [shape=(..., n_bands)]
        ``sum_time w |rule(c) - theta|^2`` at that threshold.

    Raises
    ------
    ScatterError
        Shapes differ, unknown rule, ``firm_ratio <= 1``, non-finite input, fewer than 2 dims,
        negative or mis-shaped ``weights``.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> t, err = oracle_threshold(jnp.array([[0.3, -0.2, 4.0]]), jnp.array([[0.0, 0.0, 4.0]]),
    ...                           rule="hard")
    >>> float(t[0]), float(err[0])
    (0.30000001192092896, 0.0)
    """
    coeffs, reference = _check_pair(coeffs, reference, rule, firm_ratio)
    lengths = check_lengths(lengths, coeffs)
    w = check_weights(weights, coeffs)
    return _search(coeffs, reference, lengths, w, rule, float(firm_ratio))
