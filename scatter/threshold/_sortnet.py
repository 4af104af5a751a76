"""Sorting and medians of short rows with a sorting network (private).

The thresholds and noise levels of the detection features need one sort per band of a few dozen
frames, for thousands of bands per batch. XLA's general sort runs a comparison loop per row; a
fixed network of compare-exchange stages (K. E. Batcher, "Sorting networks and their
applications", AFIPS 1968: odd-even merge sort, ``log2(m) (log2(m) + 1) / 2`` stages for
``m`` a power of two) runs every stage as a few element-wise minimum/maximum operations over all
rows at once, which is several times faster for rows of up to :data:`NETWORK_MAX` entries.
Longer rows use :func:`jax.numpy.sort`. Results are identical to ``jnp.sort`` (the network only
moves values), including ``+inf`` padding; NaN is not supported (callers check finiteness).
"""

from __future__ import annotations

from functools import cache

import jax.numpy as jnp
import numpy as np

#: Longest row sorted by the network; longer rows go to ``jnp.sort``.
NETWORK_MAX = 128


@cache
def _stages(m):
    """Batcher's odd-even merge sort for ``m`` (a power of two) entries: a tuple of stages,
    each ``(lo, hi)`` index arrays of disjoint compare-exchange pairs (``lo < hi``)."""
    stages = []
    p = 1
    while p < m:
        k = p
        while k >= 1:
            lo, hi = [], []
            for j in range(k % p, m - k, 2 * k):
                for i in range(min(k, m - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        lo.append(i + j)
                        hi.append(i + j + k)
            stages.append((np.array(lo), np.array(hi)))
            k //= 2
        p *= 2
    return tuple(stages)


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
    # entries first: every stage then gathers and writes whole rows of the (m, rows) array
    v = jnp.moveaxis(x, -1, 0).reshape((n, -1))
    if m > n:
        v = jnp.concatenate([v, jnp.full((m - n, v.shape[1]), jnp.inf, v.dtype)], axis=0)
    for lo, hi in _stages(m):
        a, b = v[lo], v[hi]
        v = v.at[lo].set(jnp.minimum(a, b)).at[hi].set(jnp.maximum(a, b))
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
