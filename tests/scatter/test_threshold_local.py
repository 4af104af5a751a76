"""Tests of scatter.threshold.local and the weighted risks beneath it: thresholds in units of a
noise level that changes from coefficient to coefficient."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scatter import ScatterError
from scatter.threshold import (
    apply_local_threshold,
    apply_threshold,
    local_thresholds,
    oracle_threshold,
    select_thresholds,
    sure,
    sure_threshold,
    threshold_error,
)

RULES = ("soft", "garrote", "firm")
EPS = float(np.finfo(np.float32).eps)


def _coloured_nonstationary(rng, reps, n_bands, n):
    """Circular complex Gaussian noise, correlated in time (a 5-tap moving average: coloured
    within each band), with a level that differs between bands and changes in time (a ramp and
    a step): ``(noise, sigma)`` with ``E|noise_i|^2 = sigma_i^2``."""
    taps = np.array([1.0, 0.8, 0.5, 0.3, 0.1])
    taps /= np.sqrt(np.sum(taps**2))
    w = (rng.standard_normal((reps, n_bands, n + 4))
         + 1j * rng.standard_normal((reps, n_bands, n + 4))) / math.sqrt(2.0)
    unit = sum(taps[k] * w[..., 4 - k: 4 - k + n] for k in range(5))
    t = np.arange(n) / n
    sigma = np.stack([0.5 + 2.0 * t, np.where(t < 0.5, 0.3, 3.0), 1.0 + 0.5 * np.sin(6 * t)])
    return unit * sigma[:n_bands], np.broadcast_to(sigma[:n_bands], unit.shape)


def _sparse_signal(rng, n_bands, n):
    theta = np.zeros((n_bands, n), complex)
    idx = rng.choice(n, size=n // 10, replace=False)
    theta[:, idx] = 4.0 * np.exp(1j * rng.uniform(0, 2 * np.pi, idx.size))
    return theta


@pytest.mark.parametrize("rule", RULES)
def test_weighted_sure_is_unbiased_on_coloured_nonstationary_noise(rng, rule):
    """SURE of the normalised coefficients weighted by sigma^2 against the actual error of
    thresholding at tau * sigma_i, over Monte Carlo draws of the noise (fixed signal)."""
    reps, n_bands, n = 400, 3, 512
    theta = _sparse_signal(rng, n_bands, n)
    noise, sigma = _coloured_nonstationary(rng, reps, n_bands, n)
    c = theta + noise
    tau = jnp.asarray([0.8, 1.5, 2.5])  # one relative threshold per band, fixed in advance
    z = jnp.asarray(c / sigma, jnp.complex64)
    w = jnp.asarray(sigma**2, jnp.float32)
    est = np.asarray(sure(z, tau, sigma=1.0, rule=rule, weights=w))
    out = np.asarray(apply_local_threshold(jnp.asarray(c, jnp.complex64), tau,
                                           jnp.asarray(sigma), rule=rule))
    actual = np.sum(np.abs(out - theta) ** 2, axis=-1)
    diff = est - actual                                            # (reps, bands)
    se = diff.std(axis=0, ddof=1) / math.sqrt(reps)
    # 3 bands x 3 rules at 4.5 standard errors: false alarm about 6e-5 in all
    assert np.all(np.abs(diff.mean(axis=0)) <= 4.5 * se), (diff.mean(axis=0), se)


@pytest.mark.parametrize("rule", ["soft", pytest.param("garrote", marks=pytest.mark.slow),
                                  pytest.param("firm", marks=pytest.mark.slow)])
def test_weighted_sure_and_oracle_are_the_weighted_sums(rng, rule):
    """The weighted searches against per-coefficient sums and every modulus as a threshold
    (garrote and firm compile searches of their own: slow)."""
    n = 50
    c = jnp.asarray(rng.standard_normal((2, n)) * 2.0, jnp.float32)
    ref = jnp.asarray(rng.standard_normal((2, n)), jnp.float32)
    w = jnp.asarray(rng.uniform(0.1, 3.0, (2, n)), jnp.float32)
    grid = np.abs(np.asarray(c))                 # every modulus as a threshold, one row each
    rows = jnp.repeat(c[:, None, :], n, axis=1)  # (2, n candidates, n)
    wrows = jnp.repeat(w[:, None, :], n, axis=1)
    refrows = jnp.repeat(ref[:, None, :], n, axis=1)

    @jax.jit
    def everything(c, ref, w, rows, wrows, refrows, grid):  # one compiled program
        per = sure(c[..., None], 1.3, sigma=1.0, rule=rule)
        got = sure(c, 1.3, sigma=1.0, rule=rule, weights=w)
        t, risk = sure_threshold(c, sigma=1.0, rule=rule, weights=w)
        again = sure(c, t, sigma=1.0, rule=rule, weights=w)
        others = sure(rows, grid, sigma=1.0, rule=rule, weights=wrows)
        t, err = oracle_threshold(c, ref, rule=rule, weights=w)
        err_again = threshold_error(c, ref, t, rule=rule, weights=w)
        err_others = threshold_error(rows, refrows, grid, rule=rule, weights=wrows)
        return per, got, risk, again, others, err, err_again, err_others

    per, got, risk, again, others, err, err_again, err_others = map(
        np.asarray, everything(c, ref, w, rows, wrows, refrows, grid))
    per = per * np.asarray(w)
    # float32 sums of n terms: error at most about n eps times the sum of |terms|
    tol = n * EPS * np.sum(np.abs(per), axis=-1)
    assert np.all(np.abs(got - per.sum(-1)) <= tol)
    # the search's minimum is the estimate at its threshold, and no modulus does better
    assert np.all(np.abs(risk - again) <= 2 * tol)
    assert np.all(risk <= others.min(axis=-1) + 2 * tol)
    again, others = err_again, err_others
    scale = n * EPS * again
    assert np.all(np.abs(np.asarray(err) - again) <= 4 * scale)
    assert np.all(np.asarray(err) <= others.min(axis=-1) + 4 * scale)


@pytest.mark.parametrize("method", ["sure", "universal", "bayes", "oracle"])
def test_constant_level_gives_the_per_band_thresholds(rng, method):
    c = jnp.asarray(rng.standard_normal((3, 400)) + np.eye(3, 400) * 30.0, jnp.float32)
    ref = jnp.asarray(np.eye(3, 400) * 30.0, jnp.float32)
    # powers of two: normalising and weighting are exact, so the searches see the same numbers
    sigma = jnp.asarray([[0.5], [1.0], [2.0]], jnp.float32)
    c = c * sigma
    kw = {"reference": ref * sigma} if method == "oracle" else {}

    @jax.jit
    def both(c):  # local and per-band thresholds and outputs, one compiled program
        tau = local_thresholds(c, jnp.broadcast_to(sigma, c.shape), method=method, **kw)
        t = select_thresholds(c, method=method, sigma=sigma[:, 0], **kw)
        return (tau, t, apply_local_threshold(c, tau, jnp.broadcast_to(sigma, c.shape)),
                apply_threshold(c, t))

    tau, t, local_out, band_out = both(c)
    np.testing.assert_allclose(tau * sigma[:, 0], t, rtol=2 * EPS)
    np.testing.assert_allclose(local_out, band_out, rtol=4 * EPS, atol=0)


def test_local_thresholds_follow_a_rising_level_under_jit(rng):
    level = np.where(np.arange(4000) < 2000, 0.1, 1.0)[None]
    c = jnp.asarray(level * rng.standard_normal((1, 4000)), jnp.float32)
    f = jax.jit(lambda v, s: local_thresholds(v, s, method="sure"))
    tau = f(c, jnp.asarray(level, jnp.float32))
    np.testing.assert_allclose(tau, local_thresholds(c, jnp.asarray(level, jnp.float32)),
                               rtol=1e-6)
    out = np.asarray(apply_local_threshold(c, tau, jnp.asarray(level, jnp.float32)))
    # pure noise: most of it removed at either level, quiet part and loud part alike
    assert np.mean(out[0, :2000] == 0) > 0.5 and np.mean(out[0, 2000:] == 0) > 0.5
    # zero noise level: coefficients kept as they are
    kept = apply_local_threshold(c, tau, jnp.zeros_like(c))
    np.testing.assert_array_equal(kept, c)


def test_local_errors():
    c = jnp.ones((2, 16))
    with pytest.raises(ScatterError, match=r"method='median' is not a threshold selector"):
        local_thresholds(c, 1.0, method="median")
    with pytest.raises(ScatterError, match=r"sigma must be >= 0 everywhere"):
        local_thresholds(c, -jnp.ones((2, 16)))
    with pytest.raises(ScatterError, match=r"sigma has shape \(3,\)"):
        local_thresholds(c, jnp.ones(3))
    with pytest.raises(ScatterError, match=r"method='oracle' needs reference="):
        local_thresholds(c, 1.0, method="oracle")
    with pytest.raises(ScatterError, match=r"weights must be >= 0"):
        sure(c, 1.0, sigma=1.0, weights=-c)
    with pytest.raises(ScatterError, match=r"weights has shape \(3,\)"):
        sure_threshold(c, sigma=1.0, weights=jnp.ones(3))


def test_pooled_sure_minimises_the_summed_relative_risk(rng):
    """``pool=h``: each band's tau is the grid point minimising the sum of SURE / SURE(0) over
    the band and its h neighbours on either side (clipped at the ends), checked against
    :func:`sure` evaluated threshold by threshold; ``pool=0`` is the per-band search."""
    from scatter.threshold.local import POOL_GRID

    reps, n_bands, n = 2, 3, 512
    theta = _sparse_signal(rng, n_bands, n) * np.array([[0.3], [1.0], [2.0]])
    noise, sigma = _coloured_nonstationary(rng, reps, n_bands, n)
    c = jnp.asarray(theta + noise, jnp.complex64)
    sigma = jnp.asarray(sigma, jnp.float32)
    grid = jnp.asarray(POOL_GRID, jnp.float32)
    z, w = c / sigma.astype(c.dtype), sigma**2
    curve = jnp.stack([sure(z, t, sigma=1.0, weights=w) for t in grid], axis=-1)
    rel = np.asarray(curve / curve[..., :1])                      # (reps, bands, G)
    for pool in (1, 2):
        tau = np.asarray(local_thresholds(c, sigma, pool=pool))
        for k in range(n_bands):
            window = rel[:, max(0, k - pool) : k + pool + 1].sum(axis=1)
            np.testing.assert_allclose(tau[:, k], np.asarray(grid)[window.argmin(-1)])
    alone = local_thresholds(c, sigma, pool=0)
    np.testing.assert_array_equal(alone, local_thresholds(c, sigma))
    with pytest.raises(ScatterError, match=r"pool=-1 must be an integer >= 0"):
        local_thresholds(c, sigma, pool=-1)
