"""Tests of scatter.detect.activity: the activity mask against a NumPy reference, invariances
(gain, stationary noise), the noise floor and the dynamic-range limit, jit/vmap."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scatter import ScatterError
from scatter.detect.activity import activity_features

#: activity_features compiled, every option static: one program per shape and setting (op by
#: op, each of its many primitives would compile once per shape). The eager path is tested
#: against it in test_activity_under_jit_and_vmap; the errors are raised eagerly.
_jitted = jax.jit(activity_features, static_argnames=("mask", "rule", "noise_floor", "groups",
                                                      "top_db", "span"))


_DEFAULTS = {"mask": "sure", "rule": "soft", "noise_floor": 0.0, "groups": None, "top_db": 0.0,
             "span": None}


def _af(S, **kwargs):
    """activity_features(S, **kwargs) from its compiled program, as a NumPy array (every
    option passed, so that a default and the same value given share one program)."""
    return np.asarray(_jitted(jnp.asarray(S, jnp.float32), **(_DEFAULTS | kwargs)))


def _reference_universal_soft(S):
    """NumPy twin of activity_features(mask="universal", rule="soft") from the formulas."""
    floor = np.median(S, axis=-1, keepdims=True)
    c = S - floor
    sigma = np.median(np.abs(c), axis=-1) / 0.6744897501960817
    t = sigma * np.sqrt(2 * np.log(S.shape[-1]))
    r = np.abs(c)
    g = np.where(r > t[..., None], (r - t[..., None]) / np.where(r > 0, r, 1), 0.0)
    act = np.log1p(g * np.maximum(c, 0) / (sigma[..., None] + 1e-8))
    level = np.log(S + 1e-8)
    level -= level.mean(axis=(-2, -1), keepdims=True)
    return np.concatenate([act, level], axis=-2)


def test_activity_matches_numpy_reference(rng):
    S = np.abs(rng.normal(size=(3, 5, 40))) + 0.1
    S[:, 2, 10:14] += 5.0
    got = _af(S, mask="universal")
    np.testing.assert_allclose(got, _reference_universal_soft(S), rtol=2e-4, atol=2e-4)


@pytest.mark.parametrize("mask", ["sure", "universal", "bayes", "none"])
def test_activity_marks_the_burst_only(rng, mask):
    S = 1.0 + 0.05 * np.abs(rng.normal(size=(4, 50)))  # the digital-silence tests' shape
    S[1, 20:26] += 3.0
    A = _af(S, mask=mask)[:4]
    assert A[1, 20:26].min() > 1.0
    assert A[1, 20:26].min() > A[[0, 2, 3]].max() + 1.0


def test_mask_removes_stationary_noise(rng):
    S = 1.0 + 0.05 * np.abs(rng.normal(size=(4, 400)))  # the tracked-background test's shape
    masked = _af(S, mask="universal")[:4]
    unmasked = _af(S, mask="none")[:4]
    assert np.mean(masked > 0) < 0.02 < np.mean(unmasked > 0)


def test_activity_under_jit_and_vmap(rng):
    S = jnp.asarray(np.abs(rng.normal(size=(3, 5, 40))), jnp.float32)
    direct = np.asarray(activity_features(S, mask="universal"))
    jitted = np.asarray(_jitted(S, mask="universal"))
    mapped = np.asarray(jax.jit(jax.vmap(lambda s: activity_features(s, mask="universal")))(S))
    np.testing.assert_allclose(jitted, direct, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(mapped, direct, rtol=1e-5, atol=1e-5)


def _burst_in_digital_silence():
    """Band envelopes of a window that is exact zeros but for a short burst: band 0 carries
    the burst, band 1 a leak of it a million times weaker, bands 2-3 nothing at all."""
    S = np.zeros((4, 50), np.float32)
    S[0, 20:25] = 1.0
    S[1, 20:25] = 1e-6
    return jnp.asarray(S)


@pytest.mark.parametrize("mask", ["sure", "none"])
def test_noise_floor_bounds_activity_over_digital_silence(mask):
    S = _burst_in_digital_silence()
    old = _af(S, mask=mask)[:4]
    # the defect the floor fixes: MAD = 0, so any sound, even the leak, reads as ~log(1/1e-8)
    assert old[0].max() > 13 and old[1].max() > 4
    rho = 0.02
    new = _af(S, mask=mask, noise_floor=rho)[:4]
    # c <= S <= n_bands * n_frames * mean(S), so activity <= log1p(n_bands * n_frames / rho)
    assert new.max() <= np.log1p(4 * 50 / rho) + 1e-4
    # the floor is rho * mean(S) = 0.02 * 5 / 200 = 5e-4: the burst's band stands out at
    # log1p(1 / 5e-4), the leak barely registers, the empty bands stay at zero
    np.testing.assert_allclose(new[0, 20:25].max(), np.log1p(1 / 5e-4), rtol=1e-3)
    assert new[1].max() < 0.01
    np.testing.assert_array_equal(new[2:], 0.0)
    assert np.isfinite(new).all()


def test_noise_floor_keeps_gain_invariance_and_leaves_noisy_bands_alone(rng):
    S = 1.0 + 0.2 * np.abs(rng.normal(size=(4, 50)))  # the digital-silence tests' shape
    S[2, 30:34] += 4.0
    S = jnp.asarray(S, jnp.float32)
    # MAD noise of these bands (about 0.15) is far above 0.02 * mean(S) (about 0.024)
    np.testing.assert_allclose(_af(S, noise_floor=0.02), _af(S), rtol=1e-6, atol=1e-6)
    quiet = _burst_in_digital_silence()
    a = _af(quiet, noise_floor=0.02)
    b = _af(quiet * 1e3, noise_floor=0.02)
    np.testing.assert_allclose(a[:4], b[:4], rtol=1e-4, atol=1e-4)


def test_noise_floor_groups_use_their_own_mean():
    # band 0 (group 0) is loud; bands 1-2 (group 1, e.g. second order) are 1000x weaker but
    # shaped alike: with per-group means their activity matches band 0's
    S = np.zeros((3, 40), np.float32)
    S[0, 10:14] = 1.0
    S[1:, 10:14] = 1e-3
    S = jnp.asarray(S)
    grouped = _af(S, mask="none", noise_floor=0.02, groups=(0, 1, 1))
    # (equal up to the absolute floor 1e-8 added to sigma, 0.5 % of group 1's floor)
    np.testing.assert_allclose(grouped[1], grouped[0], rtol=1e-2)
    pooled = _af(S, mask="none", noise_floor=0.02)
    assert pooled[1].max() < pooled[0].max() - 3
    with pytest.raises(ScatterError, match=r"groups must have one entry per band, shape \(3,\)"):
        activity_features(S, noise_floor=0.02, groups=[0, 1])
    with pytest.raises(ScatterError, match=r"noise_floor must be a number in \[0, 1\); got 2"):
        activity_features(S, noise_floor=2)


def test_top_db_bounds_sounds_in_silence_and_restores_gain_invariance():
    S = _burst_in_digital_silence()  # band 0: burst in exact zeros; band 1 a 120 dB weaker leak
    old = _af(S, mask="none")
    new = _af(S, mask="none", top_db=60.0)
    assert old[:4].max() > 13
    # S is raised to 1e-3 * max S = 1e-3, the noise level too: the burst reads log1p(999)
    np.testing.assert_allclose(new[0, 20:25], np.log1p((1 - 1e-3) / (1e-3 + 1e-8)), rtol=1e-4)
    np.testing.assert_array_equal(new[1:4], 0.0)  # the leak is below the range: nothing
    assert new[:4].max() <= np.log1p(10**3) + 1e-4
    # level channels: within 60 dB (6.9 nepers) of each other
    assert np.ptp(new[4:]) <= 60 / (20 / np.log(10)) + 1e-3
    # any gain gives the same features (the absolute 1e-8 aside)
    for g in (1e-2, 1e3):
        np.testing.assert_allclose(_af(S * g, top_db=60.0), _af(S, top_db=60.0),
                                   rtol=1e-3, atol=1e-3)


def test_top_db_uses_each_groups_own_maximum_and_leaves_noisy_windows_alone(rng):
    S = 1.0 + 0.2 * np.abs(rng.normal(size=(4, 50)))  # the digital-silence tests' shape
    S[2, 30:34] += 4.0
    S = jnp.asarray(S, jnp.float32)
    # every band within 20 dB of the loudest: a 60 dB range changes nothing
    np.testing.assert_allclose(_af(S, top_db=60.0), _af(S), rtol=1e-6, atol=1e-6)
    # group 1 is 1000x (60 dB) weaker than group 0: with one group it would be clamped to
    # the floor; with its own group it keeps its shape
    T = np.zeros((3, 40), np.float32)
    T[0, 10:14] = 1.0
    T[1:, 10:14] = 1e-3
    T[1:, :10] = 1e-7
    T = jnp.asarray(T)
    grouped = _af(T, mask="none", top_db=40.0, groups=(0, 1, 1))
    pooled = _af(T, mask="none", top_db=40.0)
    np.testing.assert_allclose(grouped[1], grouped[0], rtol=1e-3, atol=1e-3)
    assert pooled[1].max() == 0.0 < grouped[1].max()
    f = jax.jit(lambda s: activity_features(s, mask="none", top_db=40.0, groups=(0, 1, 1)))
    np.testing.assert_allclose(np.asarray(f(T)), grouped, rtol=1e-5)
    with pytest.raises(ScatterError, match=r"top_db must be a number of decibels"):
        activity_features(T, top_db=300.0)


def test_tracked_background_leaves_a_starting_chorus_out(rng):
    """Insects starting in two bands for the last 40 % of a window read as activity with the
    median background, not with span= (scatter.threshold.background tracks it); a call in
    every band is found either way."""
    n, start = 400, 240
    S = 1.0 + 0.05 * rng.standard_normal((4, n))
    S[:2, start:] += 1.0 + 0.05 * rng.standard_normal((2, n - start))
    S[:, 100:108] += 2.0
    S = jnp.asarray(S, jnp.float32)
    fixed = _af(S, mask="universal")[:4]
    tracked = _af(S, mask="universal", span=80)[:4]
    assert (fixed[:2, start + 40:] > 0).mean() > 0.9
    assert (tracked[:2, start + 40:] > 0).mean() < 0.05
    assert tracked[:, 101:107].min() > 1.0
    assert tracked.shape == fixed.shape
