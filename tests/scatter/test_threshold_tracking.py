"""Tests of scatter.threshold.tracking: order-statistic bias factors, equivalent degrees of
freedom and the noise trackers, against closed forms and Monte Carlo standard errors."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scatter import ScatterError
from scatter.threshold import (
    block_dof,
    mad_sigma,
    normal_order_statistic_mean,
    order_statistic_mean,
    tracked_floor,
    tracked_sigma,
)
from scatter.threshold.tracking import _NODES

#: Midpoint-rule error bound of the order-statistic means: the quantile functions have at
#: most a logarithmic singularity at the ends, whose end cell contributes at most
#: (1 + ln N) / N of the mean (N nodes); the smooth part's error is far below.
QUAD = (1.0 + math.log(_NODES)) / _NODES


def _z_ok(diff, se, z=4.5):
    """A Monte Carlo mean difference within ``z`` standard errors (false alarm < 1e-5)."""
    return abs(diff) <= z * se


@pytest.mark.parametrize("count,rank", [(1, 0), (8, 0), (50, 0), (50, 4)])
def test_order_statistic_mean_of_exponentials_is_the_renyi_sum(count, rank):
    # exponential order statistics: E X_(r+1:D) = sum_{i <= r} 1 / (D - i) (Renyi)
    exact = sum(1.0 / (count - i) for i in range(rank + 1))
    assert float(order_statistic_mean(1.0, count, rank)) == pytest.approx(exact, rel=QUAD)


def test_order_statistic_mean_of_gamma_against_monte_carlo(rng):
    nu, count, rank, reps = 3.5, 20, 2, 40000
    x = np.sort(rng.gamma(nu, 1.0 / nu, size=(reps, count)), axis=1)[:, rank]
    se = x.std() / math.sqrt(reps)
    assert _z_ok(float(order_statistic_mean(nu, count, rank)) - x.mean(), se)
    # vectorised over nu
    got = order_statistic_mean([1.0, nu], count, rank)
    assert got.shape == (2,) and float(got[1]) == float(order_statistic_mean(nu, count, rank))


def test_normal_order_statistic_means():
    assert normal_order_statistic_mean(2, 0) == pytest.approx(-1 / math.sqrt(math.pi), abs=QUAD)
    assert normal_order_statistic_mean(3, 1) == pytest.approx(0.0, abs=QUAD)
    assert normal_order_statistic_mean(5, 0) == pytest.approx(-normal_order_statistic_mean(5, 4),
                                                              abs=2 * QUAD)


def test_block_dof_against_monte_carlo(rng):
    # real MA(2) noise c = (e_t + e_{t-1} + e_{t-2}) / sqrt(3): rho(1) = 2/3, rho(2) = 1/3
    block, n_blocks = 8, 40000
    e = rng.standard_normal(block * n_blocks + 2)
    c = (e[2:] + e[1:-1] + e[:-2]) / math.sqrt(3.0)
    p = (c**2).reshape(n_blocks, block).mean(axis=1)
    nu = float(block_dof(block, dof=1, correlation=[1.0, 2 / 3, 1 / 3]))
    # Var P = 1 / nu (mean 1); the sample variance's standard error from the 4th moment
    m = p - p.mean()
    var, se = np.mean(m**2), math.sqrt((np.mean(m**4) - np.mean(m**2) ** 2) / n_blocks)
    assert _z_ok(var - 1.0 / nu, se)
    assert float(block_dof(block, dof=1)) == block / 2 and float(block_dof(block)) == block


def _complex_noise(rng, shape):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / math.sqrt(2.0)


def test_minimum_statistics_are_unbiased_for_independent_blocks(rng):
    # refine=False: min / E[X_(1:D)] has mean sigma^2 exactly; the interpolated curve is a
    # convex combination of such estimates, so its time mean is unbiased too
    reps, n, level = 200, 4096, 2.5
    c = jnp.asarray(level * _complex_noise(rng, (reps, 2, n)), jnp.complex64)
    var = np.asarray(tracked_sigma(c, block=4, span=1024, hop=1024, refine=False),
                     np.float64) ** 2
    per_rep = var.mean(axis=-1) / level**2
    se = per_rep.std() / math.sqrt(per_rep.size)
    assert _z_ok(per_rep.mean() - 1.0, se)


def test_refined_estimate_is_closer_and_ignores_a_song_with_gaps(rng):
    reps, n = 100, 4096
    noise = _complex_noise(rng, (reps, 1, n))
    plain = np.asarray(tracked_sigma(jnp.asarray(noise, jnp.complex64), block=4, span=n,
                                     refine=False), np.float64)[..., 0] ** 2
    refined = np.asarray(tracked_sigma(jnp.asarray(noise, jnp.complex64), block=4, span=n),
                         np.float64)[..., 0] ** 2
    # the average of every noise-only block varies several times less than the minimum
    assert refined.std() < 0.5 * plain.std()
    se = refined.std() / math.sqrt(reps)
    # the cut-off and the conditional mean make a ratio estimator: bias of order 1 / blocks
    assert abs(refined.mean() - 1.0) <= 4.5 * se + 1.0 / (n // 4)
    # a loud tone in 60 % of the time (four calls with gaps) over every draw (the same shape,
    # so the same compiled tracker): MAD is inflated several times, the tracked level keeps
    # reading the gaps
    song = np.zeros(n)
    for start in range(0, n, 1024):
        song[start:start + 614] = 20.0
    y = jnp.asarray(noise + song, jnp.complex64)
    assert float(mad_sigma(y[0])[0]) > 5.0
    with_song = np.asarray(tracked_sigma(y, block=4, span=n), np.float64)[..., 0] ** 2
    # the same noise blocks below the cut-off: the ratio of means of (0.4 n / block) blocks
    kept = 0.4 * n / 4
    np.testing.assert_allclose(with_song, refined, rtol=4.5 / math.sqrt(4 * kept))


def test_tracked_sigma_follows_a_changing_level_under_jit(rng):
    n = 32768
    level = np.where(np.arange(n) < n // 2, 0.5, 2.0)
    c = jnp.asarray((level * _complex_noise(rng, n))[None], jnp.complex64)
    f = jax.jit(lambda v: tracked_sigma(v, block=16, span=4096))
    s = np.asarray(f(c))[0]
    assert s.shape == (n,)
    # away from the step (one span), within a few standard errors of the refined mean over a
    # span of 256 blocks of 32 real degrees of freedom each (relative SE ~ 1 / sqrt(4096))
    np.testing.assert_allclose(s[:n // 2 - 4096], 0.5, rtol=0.05)
    np.testing.assert_allclose(s[n // 2 + 4096:], 2.0, rtol=0.05)
    np.testing.assert_allclose(s, np.asarray(tracked_sigma(c, block=16, span=4096))[0],
                               rtol=1e-6)


def test_tracked_floor_is_unbiased_and_ignores_sparse_activity(rng):
    reps, n, mu, sd = 200, 1000, 3.0, 0.2
    S = mu + sd * rng.standard_normal((reps, 1, n))
    floor, sigma = tracked_floor(jnp.asarray(S, jnp.float32))
    f, s = np.asarray(floor, np.float64)[:, 0, 0], np.asarray(sigma, np.float64)[:, 0, 0]
    assert _z_ok(f.mean() - mu, f.std() / math.sqrt(reps))
    assert _z_ok(s.mean() - sd, s.std() / math.sqrt(reps))
    # activity in 20 % of the frames: both order statistics (ranks 100 and 300) stay among the
    # 800 noise frames, where their means are those of the same ranks of 800 normals
    S2 = S.copy()
    S2[:, :, 300:500] += 5.0
    floor2, sigma2 = tracked_floor(jnp.asarray(S2, jnp.float32))
    a1, a2 = normal_order_statistic_mean(n, 100), normal_order_statistic_mean(n, 300)
    b1, b2 = normal_order_statistic_mean(800, 100), normal_order_statistic_mean(800, 300)
    scale = (b2 - b1) / (a2 - a1)
    f2 = np.asarray(floor2, np.float64)[:, 0, 0]
    assert _z_ok(f2.mean() - (mu + sd * (b1 - a1 * scale)), f2.std() / math.sqrt(reps))
    s2 = np.asarray(sigma2, np.float64)[:, 0, 0]
    assert _z_ok(s2.mean() - sd * scale, s2.std() / math.sqrt(reps))
    assert f2.mean() - mu < sd  # not the activity's 5.0


def test_tracking_errors():
    c = jnp.ones((2, 64))
    with pytest.raises(ScatterError, match=r"block=0 must be an integer >= 1"):
        tracked_sigma(c, block=0)
    with pytest.raises(ScatterError, match=r"quantile=0.7 must be a number in \[0, 0.5\]"):
        tracked_sigma(c, quantile=0.7)
    with pytest.raises(ScatterError, match=r"dof=3 must be None"):
        tracked_sigma(c, dof=3)
    with pytest.raises(ScatterError, match=r"correlation has shape \(3, 4\)"):
        tracked_sigma(c, correlation=np.ones((3, 4)))
    with pytest.raises(ScatterError, match=r"coeffs contains NaN"):
        tracked_sigma(c.at[0, 0].set(jnp.nan))
    with pytest.raises(ScatterError, match=r"quantiles=\(0.3, 0.1\) must be two numbers"):
        tracked_floor(c, quantiles=(0.3, 0.1))
    with pytest.raises(ScatterError, match=r"coeffs must be real averaged coefficients"):
        tracked_floor(c.astype(jnp.complex64))
    with pytest.raises(ScatterError, match=r"rank=5 must be an integer in \[0, 3\]"):
        order_statistic_mean(1.0, 4, 5)
    with pytest.raises(ScatterError, match=r"nu must be finite and > 0"):
        order_statistic_mean(0.0, 4, 0)
