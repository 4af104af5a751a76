"""Sorting and medians of short rows with a sorting network (private).

The thresholds and noise levels of the detection features need one sort per band of a few dozen
frames, for thousands of bands per batch. XLA's general sort runs a comparison loop per row; a
fixed network of compare-exchange stages runs every stage as element-wise minima and maxima over
all rows at once, which is several times faster for rows of up to :data:`NETWORK_MAX` entries.
Longer rows use :func:`jax.numpy.sort`. Results are identical to ``jnp.sort`` (the network only
moves values), including ``+inf`` padding; NaN is not supported (callers check finiteness).

The network is Batcher's bitonic sorter (K. E. Batcher, "Sorting networks and their
applications", AFIPS 1968) for ``m`` (a power of two) entries, ``log2(m) (log2(m) + 1) / 2``
stages, in the form whose comparators all put the minimum first: merging sorted runs of length
``p`` starts by comparing entry ``j`` of each ``2 p`` block with entry ``2 p - 1 - j`` (the
second run read backwards), then half-cleans with partners ``k = p / 2, ..., 1`` apart. Each
stage is a reshape of the ``(m, rows)`` array into blocks, one minimum and one maximum, and a
concatenation (with a reversal in the first stage of a merge): only static slicing, which XLA
fuses into a few loops, where index lists would compile to a gather and a scatter per stage.
"""

from __future__ import annotations

import jax.numpy as jnp

#: Longest row sorted by the network; longer rows go to ``jnp.sort``.
NETWORK_MAX = 128


def _merge_stages(v, p):
    """Merge the sorted runs of length ``p`` of ``v`` (``(m, rows)``) pairwise."""
    m = v.shape[0]
    rows = v.shape[1:]
    w = v.reshape((m // (2 * p), 2 * p) + rows)
    a, b = w[:, :p], jnp.flip(w[:, p:], axis=1)
    v = jnp.concatenate([jnp.minimum(a, b), jnp.flip(jnp.maximum(a, b), axis=1)], axis=1)
    k = p // 2
    while k >= 1:
        w = v.reshape((m // (2 * k), 2, k) + rows)
        a, b = w[:, 0], w[:, 1]
        v = jnp.stack([jnp.minimum(a, b), jnp.maximum(a, b)], axis=1)
        k //= 2
    return v.reshape((m,) + rows)


def sort(x):
    """``jnp.sort(x, axis=-1)``, by a sorting network for rows of at most :data:`NETWORK_MAX`.

    Parameters
    ----------
    x : jax.Array [shape=(..., n)]
        Real, without NaN.

    Returns
    -------
    jax.Array [shape=(..., n)]
    """
    n = x.shape[-1]
    if n > NETWORK_MAX or n < 2:
        return jnp.sort(x, axis=-1)
    m = 1 << (n - 1).bit_length()
    lead = x.shape[:-1]
    # entries first: every stage works on whole rows of the (m, rows) array
    v = jnp.moveaxis(x, -1, 0).reshape((n, -1))
    if m > n:
        v = jnp.concatenate([v, jnp.full((m - n, v.shape[1]), jnp.inf, v.dtype)], axis=0)
    p = 1
    while p < m:
        v = _merge_stages(v, p)
        p *= 2
    return jnp.moveaxis(v[:n].reshape((n,) + lead), 0, -1)


def median(x):
    """``jnp.median(x, axis=-1)`` from :func:`sort` (the mean of the two middle entries for an
    even length).

    Parameters
    ----------
    x : jax.Array [shape=(..., n)], n >= 1
        Real, without NaN.

    Returns
    -------
    jax.Array [shape=(...)]
    """
    n = x.shape[-1]
    s = sort(x)
    if n % 2:
        return s[..., n // 2]
    return 0.5 * (s[..., n // 2 - 1] + s[..., n // 2])
