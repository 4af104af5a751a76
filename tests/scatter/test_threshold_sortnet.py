"""Tests of scatter.threshold._sortnet (sorting network) and the search shortcuts of
scatter.threshold._sorted, against NumPy's sort, median and searchsorted."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scatter.threshold import _sorted as srt
from scatter.threshold import _sortnet


@pytest.mark.parametrize("n", [1, 2, 3, 7, 16, 55, 64, 100, 128, 129, 300])
def test_sort_and_median_match_numpy(rng, n):
    x = rng.normal(size=(3, 4, n)).astype(np.float32)
    x[0, 0, : n // 2] = 0.0                       # ties
    x[1, 1, -1] = np.inf                          # padding-like values sort last
    x[2, 2] = np.round(x[2, 2])                   # many ties
    np.testing.assert_array_equal(jax.jit(_sortnet.sort)(x), np.sort(x, axis=-1))
    finite = np.where(np.isfinite(x), x, 0.0)
    np.testing.assert_allclose(_sortnet.median(finite), np.median(finite, axis=-1),
                               rtol=1e-6, atol=1e-7)


def test_sort_gradient_matches_jnp_sort(rng):
    x = jnp.asarray(rng.normal(size=(5, 37)).astype(np.float32))
    w = jnp.asarray(rng.normal(size=(5, 37)).astype(np.float32))
    ours = jax.grad(lambda x: jnp.sum(w * _sortnet.sort(x)))(x)
    ref = jax.grad(lambda x: jnp.sum(w * jnp.sort(x, axis=-1)))(x)
    np.testing.assert_allclose(ours, ref, rtol=1e-6)


def test_network_sorts_every_zero_one_input():
    # 0-1 principle (Knuth, TAOCP 5.3.4): a network that sorts all 0-1 inputs sorts everything
    n = 12
    bits = (np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1
    out = np.asarray(_sortnet.sort(jnp.asarray(bits, jnp.float32)))
    np.testing.assert_array_equal(out, np.sort(bits, axis=-1))


def test_count_le_self_equals_searchsorted(rng):
    r = np.sort(np.abs(np.round(rng.normal(size=(6, 40)), 1)), axis=-1).astype(np.float32)
    r[0] = 0.0                                     # all zero (digital silence)
    r[1, -5:] = np.inf                             # padding
    r[2, :3] = 0.0
    cands = np.asarray(srt.candidates(jnp.asarray(r), "soft", 2.0))
    want = np.stack([np.searchsorted(row, c, side="right") for row, c in zip(r, cands)])
    np.testing.assert_array_equal(srt.count_le_self(jnp.asarray(r)), want)
    np.testing.assert_array_equal(srt.count_le(jnp.asarray(r), jnp.asarray(cands)), want)


def test_best_presorted_equals_sorted_search(rng):
    cands = jnp.asarray(np.sort(rng.uniform(size=(4, 9)), axis=-1))
    risks = jnp.asarray(np.round(rng.normal(size=(4, 9)), 1))   # ties in the risk
    t1, r1 = srt.best(risks, cands, presorted=True)
    t2, r2 = srt.best(risks, cands)
    np.testing.assert_array_equal(t1, t2)
    np.testing.assert_array_equal(r1, r2)
