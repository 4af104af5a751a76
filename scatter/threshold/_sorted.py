"""Sorted-moduli bookkeeping for exact threshold searches (private).

Each band's moduli are sorted once; a threshold ``t`` splits them into ``r <= t`` (the first
``k`` sorted entries) and ``r > t``. Any risk that sums per-coefficient terms whose dependence on
``t`` factors into powers of ``t`` times per-coefficient weights is then evaluated at every
candidate threshold with prefix/suffix sums, in ``O(n log n)`` per band instead of ``O(n^2)``.
Sums of weights that blow up for small moduli (``1/r``, ``1/r**2``) are taken as suffix sums, so
they never subtract two large partial sums.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def moduli(coeffs: jax.Array, lengths) -> jax.Array:
    """``|coeffs|``, with ``+inf`` in the padding beyond each row's valid ``lengths``.

    Padding sorts last, is never below a finite threshold, and its ``1/r`` weights vanish.
    """
    r = jnp.abs(coeffs)
    if lengths is None:
        return r
    pos = jnp.arange(r.shape[-1])
    return jnp.where(pos < jnp.asarray(lengths)[..., None], r, jnp.inf)


def counts(r: jax.Array, lengths) -> jax.Array:
    """Number of valid entries per row, shaped ``(..., 1)`` for broadcasting against candidates."""
    if lengths is None:
        return jnp.full(r.shape[:-1] + (1,), r.shape[-1], jnp.int32)
    return jnp.asarray(lengths, jnp.int32)[..., None]


def finite(x: jax.Array) -> jax.Array:
    """``x`` with non-finite entries (the padding) set to 0, for prefix sums."""
    return jnp.where(jnp.isfinite(x), x, 0.0)


def prefix(x: jax.Array) -> jax.Array:
    """``out[..., k] = sum(x[..., :k])`` for ``k = 0..n`` (length ``n + 1``)."""
    zero = jnp.zeros(x.shape[:-1] + (1,), x.dtype)
    return jnp.concatenate([zero, jnp.cumsum(x, axis=-1)], axis=-1)


def suffix(x: jax.Array) -> jax.Array:
    """``out[..., k] = sum(x[..., k:])`` for ``k = 0..n`` (length ``n + 1``)."""
    zero = jnp.zeros(x.shape[:-1] + (1,), x.dtype)
    return jnp.concatenate([jnp.cumsum(x[..., ::-1], axis=-1)[..., ::-1], zero], axis=-1)


def take(sums: jax.Array, k: jax.Array) -> jax.Array:
    """Gather ``sums[..., k]`` row by row."""
    return jnp.take_along_axis(sums, k, axis=-1)


def count_le(sorted_r: jax.Array, t: jax.Array) -> jax.Array:
    """``k[..., j] = #{i : sorted_r[..., i] <= t[..., j]}`` for rows of any leading shape."""
    lead = sorted_r.shape[:-1]
    rows = sorted_r.reshape((-1, sorted_r.shape[-1]))
    queries = t.reshape((rows.shape[0], -1))
    k = jax.vmap(lambda a, v: jnp.searchsorted(a, v, side="right"))(rows, queries)
    return k.reshape(lead + (t.shape[-1],)).astype(jnp.int32)


def count_le_self(sorted_r: jax.Array) -> jax.Array:
    """:func:`count_le` for the candidates ``[0, sorted_r...]`` (:func:`candidates` without the
    firm extras), without a search: the count at ``sorted_r[j]`` is one past the last entry
    equal to it (ties included, as ``searchsorted(side="right")`` counts them)."""
    n = sorted_r.shape[-1]
    idx = jnp.arange(n)
    run_end = jnp.concatenate([sorted_r[..., 1:] > sorted_r[..., :-1],
                               jnp.ones(sorted_r.shape[:-1] + (1,), bool)], axis=-1)
    last_equal = jax.lax.cummin(jnp.where(run_end, idx, n), axis=sorted_r.ndim - 1, reverse=True)
    zeros = jnp.where(sorted_r[..., :1] <= 0, last_equal[..., :1] + 1, 0)
    return jnp.concatenate([zeros, last_equal + 1], axis=-1).astype(jnp.int32)


def safe_inverse(r: jax.Array, power: int) -> jax.Array:
    """``r ** -power`` where ``r > 0``, 0 where ``r == 0``."""
    pos = r > 0
    return jnp.where(pos, 1.0 / jnp.where(pos, r, 1.0) ** power, 0.0)


def candidates(sorted_r: jax.Array, rule: str, firm_ratio: float) -> jax.Array:
    """Candidate thresholds per row: 0, every modulus, and (firm) every modulus / firm_ratio.

    The risks searched here are piecewise smooth in ``t`` with breaks where ``t`` (or
    ``firm_ratio * t``) crosses a modulus; the candidates are those breaks.
    """
    zero = jnp.zeros(sorted_r.shape[:-1] + (1,), sorted_r.dtype)
    parts = [zero, sorted_r]
    if rule == "firm":
        parts.append(sorted_r / firm_ratio)
    return jnp.concatenate(parts, axis=-1)


def best(risks: jax.Array, cands: jax.Array, *,
         presorted: bool = False) -> tuple[jax.Array, jax.Array]:
    """The candidate with the smallest risk per row (the smallest such threshold on ties);
    ``presorted``: the candidates are already in ascending order along each row."""
    risks = jnp.where(jnp.isfinite(risks), risks, jnp.inf)
    if not presorted:
        order = jnp.argsort(cands, axis=-1, stable=True)
        risks, cands = take(risks, order), take(cands, order)
    i = jnp.argmin(risks, axis=-1)[..., None]
    return take(cands, i)[..., 0], take(risks, i)[..., 0]
