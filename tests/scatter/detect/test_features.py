"""Tests of scatter.detect.features: settings, the activity mask against a NumPy reference,
invariances, jit/vmap, and the batched extractor."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scatter import ScatterError, Scattering1D
from scatter.detect.features import (
    DITHER_16BIT,
    FeatureConfig,
    FeatureExtractor,
    activity_features,
    dither_signal,
)

SMALL = FeatureConfig(sr=16000, window=2048, hop=2048, J=4, Q=(2, 1), pool=2)


@pytest.fixture(scope="module")
def fx():
    return FeatureExtractor(SMALL)


@pytest.fixture(scope="module")
def fx_dither():
    return FeatureExtractor(dataclasses.replace(SMALL, dither=DITHER_16BIT))


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
    got = np.asarray(activity_features(jnp.asarray(S, jnp.float32), mask="universal"))
    np.testing.assert_allclose(got, _reference_universal_soft(S), rtol=2e-4, atol=2e-4)


@pytest.mark.parametrize("mask", ["sure", "universal", "bayes", "none"])
def test_activity_marks_the_burst_only(rng, mask):
    S = 1.0 + 0.05 * np.abs(rng.normal(size=(4, 64)))
    S[1, 20:26] += 3.0
    f = jax.jit(activity_features, static_argnames="mask")
    A = np.asarray(f(jnp.asarray(S, jnp.float32), mask=mask))[:4]
    assert A[1, 20:26].min() > 1.0
    assert A[1, 20:26].min() > A[[0, 2, 3]].max() + 1.0


def test_mask_removes_stationary_noise(rng):
    S = 1.0 + 0.05 * np.abs(rng.normal(size=(6, 200)))
    masked = np.asarray(activity_features(jnp.asarray(S, jnp.float32), mask="universal"))[:6]
    unmasked = np.asarray(activity_features(jnp.asarray(S, jnp.float32), mask="none"))[:6]
    assert np.mean(masked > 0) < 0.02 < np.mean(unmasked > 0)


def test_silence_gives_zeros_and_gain_invariance(fx, rng):
    # silence: zero activity, and level channels equal to zero up to float32 rounding
    assert float(jnp.abs(fx(np.zeros((2, SMALL.window), np.float32))).max()) < 1e-4
    x = rng.normal(size=(2, SMALL.window)).astype(np.float32) * 0.01
    x[:, 500:900] += np.sin(np.arange(400) * 0.9).astype(np.float32) * 0.1
    a, b = np.asarray(fx(x)), np.asarray(fx(x * 20))
    np.testing.assert_allclose(a, b, atol=2e-3)
    assert np.isfinite(a).all()


def test_extractor_shapes_and_paths(fx):
    sc = Scattering1D(J=SMALL.J, shape=SMALL.window, Q=SMALL.Q)
    assert fx.n_paths == sc.output_size() - 1
    assert fx.n_features == 2 * fx.n_paths
    assert fx.n_frames == sc.n_frames // SMALL.pool
    out = fx(np.zeros((2, SMALL.window), np.float32))
    assert out.shape == (2, fx.n_features, fx.n_frames) and out.dtype == jnp.float32


@pytest.mark.parametrize("subsampling", ["kymatio", "coarse"])
def test_transform_is_scattering_then_activity(fx, rng, subsampling):
    if subsampling != SMALL.subsampling:
        fx = FeatureExtractor(dataclasses.replace(SMALL, subsampling=subsampling))
    assert fx.scattering.subsampling == subsampling
    x = rng.normal(size=(2, SMALL.window)).astype(np.float32)
    sc = Scattering1D(J=SMALL.J, shape=SMALL.window, Q=SMALL.Q, subsampling=subsampling)
    S = np.asarray(sc(x))[:, 1:]  # drop order 0
    S = S[..., :fx.n_frames * 2].reshape(2, fx.n_paths, fx.n_frames, 2).mean(-1)
    # noise_floor traced, groups static (they set the program's structure)
    want = jax.jit(activity_features, static_argnames=("mask", "rule", "groups"))(
        jnp.asarray(S), mask=SMALL.mask, rule=SMALL.rule, noise_floor=SMALL.noise_floor,
        groups=tuple(int(o) for o in sc.meta()["order"][1:]))
    np.testing.assert_allclose(np.asarray(fx(x)), np.asarray(want), rtol=1e-4, atol=1e-4)


def test_apply_takes_the_filter_weights_as_arguments(fx, rng):
    x = rng.normal(size=(3, SMALL.window)).astype(np.float32)
    f = jax.jit(fx.apply)
    got = np.asarray(f(fx.params, x))
    np.testing.assert_allclose(got, np.asarray(fx(x)), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got, np.asarray(jax.jit(fx.transform)(x)), rtol=1e-5,
                               atol=1e-5)
    mapped = jax.vmap(fx.apply, in_axes=(None, 0))(fx.params, x[:, None, :])[:, 0]
    np.testing.assert_allclose(np.asarray(mapped), got, rtol=1e-4, atol=1e-4)
    # other weights, same compiled program: zero filters give zero envelopes, hence zero
    # activity and a flat level
    zero = jax.tree_util.tree_map(jnp.zeros_like, fx.params)
    flat = np.asarray(f(zero, x))
    assert f._cache_size() == 1
    np.testing.assert_array_equal(flat[:, :fx.n_paths], 0.0)
    np.testing.assert_allclose(flat[:, fx.n_paths:], 0.0, atol=1e-4)  # log(1e-8) rounding
    assert np.abs(got[:, fx.n_paths:]).max() > 0.1


def test_activity_under_jit_and_vmap(rng):
    S = jnp.asarray(np.abs(rng.normal(size=(3, 5, 32))), jnp.float32)
    direct = np.asarray(activity_features(S, mask="universal"))
    jitted = np.asarray(jax.jit(activity_features, static_argnames="mask")(S, mask="universal"))
    mapped = np.asarray(jax.vmap(lambda s: activity_features(s, mask="universal"))(S))
    np.testing.assert_allclose(jitted, direct, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(mapped, direct, rtol=1e-5, atol=1e-5)


def test_input_errors(fx):
    with pytest.raises(ScatterError, match=r"x must have shape \(\.\.\., 2048\)"):
        fx(np.zeros((2, 100), np.float32))
    bad = np.zeros((1, SMALL.window), np.float32)
    bad[0, 3] = np.nan
    with pytest.raises(ScatterError, match="finite"):
        fx(bad)
    with pytest.raises(ScatterError, match="mask must be one of"):
        activity_features(jnp.ones((2, 4)), mask="median")
    with pytest.raises(ScatterError, match="n_bands, n_frames"):
        activity_features(jnp.ones(4))
    with pytest.raises(ScatterError, match="FeatureConfig"):
        FeatureExtractor({"sr": 1})


@pytest.mark.parametrize("change, match", [
    ({"hop": 4096}, "hop must be at most window"),
    ({"J": 12}, "J=12 is too large"),
    ({"Q": (2,)}, "Q must be a pair"),
    ({"Q": (0, 1)}, "Q must be an integer >= 1"),
    ({"max_order": 3}, "max_order must be 1 or 2"),
    ({"mask": "x"}, "mask must be one of"),
    ({"rule": "hard"}, "rule must be one of"),
    ({"sr": 0}, "sr must be an integer >= 1"),
    ({"pool": 0}, "pool must be an integer >= 1"),
    ({"noise_floor": 1.0}, r"noise_floor must be a number in \[0, 1\); got 1.0"),
    ({"dither": 1.0}, r"dither must be a number in \[0, 1\); got 1.0"),
    ({"top_db": -3}, r"top_db must be a number of decibels in \[0, 200\] \(0: no limit\); "
                     r"got -3"),
    ({"dither": -1e-5}, r"dither must be a number in \[0, 1\); got -1e-05"),
    ({"subsampling": "fine"}, r"subsampling must be one of \('kymatio', 'coarse'\); "
                              r"got 'fine'"),
])
def test_config_errors(change, match):
    with pytest.raises(ScatterError, match=match):
        dataclasses.replace(SMALL, **change)


def test_config_round_trip():
    d = SMALL.to_dict()
    assert d["Q"] == [2, 1]
    assert FeatureConfig.from_dict(d) == SMALL
    assert SMALL.window_s == 2048 / 16000 and SMALL.hop_s == SMALL.window_s
    with pytest.raises(ScatterError, match="unknown keys"):
        FeatureConfig.from_dict(d | {"colour": 1})
    with pytest.raises(ScatterError, match="must be a dict"):
        FeatureConfig.from_dict([1])


def test_pool_larger_than_frames():
    with pytest.raises(ScatterError, match="exceeds the"):
        FeatureExtractor(dataclasses.replace(SMALL, pool=10_000))


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
    old = np.asarray(activity_features(S, mask=mask))[:4]
    # the defect the floor fixes: MAD = 0, so any sound, even the leak, reads as ~log(1/1e-8)
    assert old[0].max() > 13 and old[1].max() > 4
    rho = 0.02
    new = np.asarray(activity_features(S, mask=mask, noise_floor=rho))[:4]
    # c <= S <= n_bands * n_frames * mean(S), so activity <= log1p(n_bands * n_frames / rho)
    assert new.max() <= np.log1p(4 * 50 / rho) + 1e-4
    # the floor is rho * mean(S) = 0.02 * 5 / 200 = 5e-4: the burst's band stands out at
    # log1p(1 / 5e-4), the leak barely registers, the empty bands stay at zero
    np.testing.assert_allclose(new[0, 20:25].max(), np.log1p(1 / 5e-4), rtol=1e-3)
    assert new[1].max() < 0.01
    np.testing.assert_array_equal(new[2:], 0.0)
    assert np.isfinite(new).all()


def test_noise_floor_keeps_gain_invariance_and_leaves_noisy_bands_alone(rng):
    S = 1.0 + 0.2 * np.abs(rng.normal(size=(2, 6, 64)))
    S[:, 2, 30:34] += 4.0
    S = jnp.asarray(S, jnp.float32)
    # MAD noise of these bands (about 0.15) is far above 0.02 * mean(S) (about 0.024)
    np.testing.assert_allclose(np.asarray(activity_features(S, noise_floor=0.02)),
                               np.asarray(activity_features(S)), rtol=1e-6, atol=1e-6)
    quiet = _burst_in_digital_silence()
    a = np.asarray(activity_features(quiet, noise_floor=0.05))
    b = np.asarray(activity_features(quiet * 1e3, noise_floor=0.05))
    np.testing.assert_allclose(a[:4], b[:4], rtol=1e-4, atol=1e-4)


def test_noise_floor_groups_use_their_own_mean():
    # band 0 (group 0) is loud; bands 1-2 (group 1, e.g. second order) are 1000x weaker but
    # shaped alike: with per-group means their activity matches band 0's
    S = np.zeros((3, 40), np.float32)
    S[0, 10:14] = 1.0
    S[1:, 10:14] = 1e-3
    S = jnp.asarray(S)
    grouped = np.asarray(activity_features(S, mask="none", noise_floor=0.02,
                                           groups=[0, 1, 1]))
    # (equal up to the absolute floor 1e-8 added to sigma, 0.5 % of group 1's floor)
    np.testing.assert_allclose(grouped[1], grouped[0], rtol=1e-2)
    pooled = np.asarray(activity_features(S, mask="none", noise_floor=0.02))
    assert pooled[1].max() < pooled[0].max() - 3
    f = jax.jit(lambda s: activity_features(s, mask="none", noise_floor=0.02,
                                            groups=[0, 1, 1]))
    np.testing.assert_allclose(np.asarray(f(S)), grouped, rtol=1e-5)
    with pytest.raises(ScatterError, match=r"groups must have one entry per band, shape \(3,\)"):
        activity_features(S, noise_floor=0.02, groups=[0, 1])
    with pytest.raises(ScatterError, match=r"noise_floor must be a number in \[0, 1\); got 2"):
        activity_features(S, noise_floor=2)


def _chirp_in_silence():
    """A short chirp in exact zeros, one window of SMALL: ``(1, window)``."""
    x = np.zeros((1, SMALL.window), np.float32)
    t = np.arange(300) / SMALL.sr
    x[0, 900:1200] = 0.3 * np.sin(2 * np.pi * (1500 + 4e6 * t) * t) * np.hanning(300)
    return x

def test_extractor_noise_floor_on_digital_silence(rng):
    # a short chirp in exact zeros: without the floor every path the chirp touches reads ~18
    x = _chirp_in_silence()
    old = FeatureExtractor(dataclasses.replace(SMALL, noise_floor=0.0))
    new = FeatureExtractor(dataclasses.replace(SMALL, noise_floor=0.02))
    a_old = np.asarray(old(x))[0, :old.n_paths]
    a_new = np.asarray(new(x))[0, :new.n_paths]
    assert a_old.max() > 14
    paths = np.bincount(new._orders)
    bound = np.log1p(paths.max() * new.n_frames / 0.02)
    assert a_new.max() <= bound + 1e-3
    # the same chirp over faint noise scores about as it does over digital silence
    noisy = x + rng.normal(scale=1e-4, size=x.shape).astype(np.float32)
    a_noisy = np.asarray(new(noisy))[0, :new.n_paths]
    assert abs(a_new.max() - a_noisy.max()) < abs(a_old.max() - a_noisy.max())


def test_old_sidecars_load_without_the_noise_floor_and_subsampling():
    d = dataclasses.replace(SMALL, subsampling="coarse", noise_floor=0.02).to_dict()
    assert d["noise_floor"] == 0.02 and FeatureConfig().noise_floor == 0.0
    assert d["subsampling"] == "coarse"
    legacy = {k: v for k, v in d.items() if k not in ("noise_floor", "subsampling")}
    old = FeatureConfig.from_dict(legacy)
    assert old.noise_floor == 0.0 and old.subsampling == "kymatio"
    assert FeatureConfig.from_dict(d) == dataclasses.replace(SMALL, subsampling="coarse",
                                                             noise_floor=0.02)
    with pytest.raises(ScatterError, match=r"noise_floor must be a number in \[0, 1\); "
                                           r"got -0.1"):
        dataclasses.replace(SMALL, noise_floor=-0.1)


def test_dither_signal_is_fixed_triangular_noise():
    a = 1e-3
    d = dither_signal(200_000, a)
    assert d.dtype == np.float32 and d.shape == (200_000,)
    np.testing.assert_array_equal(d, dither_signal(200_000, a))  # fixed seed
    assert np.abs(d).max() < a
    # TPDF on (-a, a): mean 0, variance a**2 / 6, density falling linearly to the edges
    assert abs(d.mean()) < 0.01 * a
    np.testing.assert_allclose(d.var(), a**2 / 6, rtol=0.02)
    hist, _ = np.histogram(d, bins=4, range=(-a, a))
    np.testing.assert_allclose(hist / d.size, [1 / 8, 3 / 8, 3 / 8, 1 / 8], atol=0.01)
    assert dither_signal(16, 0.0) is None
    assert DITHER_16BIT == 1 / 32768
    with pytest.raises(ScatterError, match=r"amplitude must be a number in \[0, 1\); got 2"):
        dither_signal(16, 2)
    with pytest.raises(ScatterError, match=r"n must be an integer >= 1; got 0"):
        dither_signal(0, 0.1)


def test_dither_is_added_to_every_window(rng, fx, fx_dither):
    with_d, without = fx_dither, fx
    x = (0.1 * rng.standard_normal((2, SMALL.window))).astype(np.float32)
    x[1] = 0.0
    d = dither_signal(SMALL.window, DITHER_16BIT)
    np.testing.assert_allclose(np.asarray(with_d(x)), np.asarray(without(x + d)),
                               rtol=1e-5, atol=1e-5)
    # the traceable path (what scatter detect compiles) adds it too
    np.testing.assert_allclose(np.asarray(jax.jit(with_d.transform)(x)),
                               np.asarray(with_d(x)), rtol=1e-5, atol=1e-5)


def test_dither_makes_digital_silence_read_as_the_quietest_noise(rng, fx, fx_dither):
    # a short chirp in exact zeros: without dither the band noise (MAD) is exactly 0 and the
    # activity of every path the chirp touches reads ~log(c / 1e-8); with one 16-bit step of
    # dither it reads as the chirp over the quietest noise a 16-bit recording holds
    x = _chirp_in_silence()
    old, new = fx, fx_dither
    n = new.n_paths
    a_old, a_new = np.asarray(old(x))[0], np.asarray(new(x))[0]
    assert a_old[:n].max() > 14 and a_new[:n].max() < a_old[:n].max() - 3
    assert np.isfinite(a_new).all()
    # silence alone: stationary noise, so only the noise's own small fluctuations
    s = np.asarray(new(np.zeros((1, SMALL.window), np.float32)))[0]
    assert s[:n].max() < 3.0 < a_new[:n].max() and np.isfinite(s).all()
    # the same chirp in independent noise of the dither's power reads about the same
    noise = rng.uniform(-1, 1, size=x.shape) * DITHER_16BIT / np.sqrt(2)  # variance a**2/6
    a_noise = np.asarray(old((x + noise).astype(np.float32)))[0]
    assert abs(a_new[:n].max() - a_noise[:n].max()) < 1.5


def test_dither_leaves_ordinary_recordings_alone(rng, fx, fx_dither):
    # a call over a background 60 dB above the dither: nearly every feature is unchanged (a
    # few near a mask threshold of a faint second-order path move by up to ~0.2)
    x = (1e-2 * rng.standard_normal((2, SMALL.window))).astype(np.float32)
    x[:, 600:900] += 0.3 * np.sin(2 * np.pi * 2000 * np.arange(300) / SMALL.sr)
    a, b = np.asarray(fx(x)), np.asarray(fx_dither(x))
    diff = np.abs(b - a)
    assert np.mean(diff > 0.02) < 0.01 and diff.mean() < 2e-3 and diff.max() < 0.5


def test_old_sidecars_load_without_dither():
    d = dataclasses.replace(SMALL, dither=DITHER_16BIT).to_dict()
    assert d["dither"] == DITHER_16BIT and FeatureConfig().dither == 0.0
    old = FeatureConfig.from_dict({k: v for k, v in d.items() if k != "dither"})
    assert old.dither == 0.0 and old == SMALL
    assert FeatureConfig.from_dict(d).dither == DITHER_16BIT


def test_top_db_bounds_sounds_in_silence_and_restores_gain_invariance():
    S = _burst_in_digital_silence()  # band 0: burst in exact zeros; band 1 a 120 dB weaker leak
    old = np.asarray(activity_features(S, mask="none"))
    new = np.asarray(activity_features(S, mask="none", top_db=60.0))
    assert old[:4].max() > 13
    # S is raised to 1e-3 * max S = 1e-3, the noise level too: the burst reads log1p(999)
    np.testing.assert_allclose(new[0, 20:25], np.log1p((1 - 1e-3) / (1e-3 + 1e-8)), rtol=1e-4)
    np.testing.assert_array_equal(new[1:4], 0.0)  # the leak is below the range: nothing
    assert new[:4].max() <= np.log1p(10**3) + 1e-4
    # level channels: within 60 dB (6.9 nepers) of each other
    assert np.ptp(new[4:]) <= 60 / (20 / np.log(10)) + 1e-3
    # any gain gives the same features (the absolute 1e-8 aside)
    for g in (1e-2, 1e3):
        np.testing.assert_allclose(np.asarray(activity_features(S * g, top_db=60.0)),
                                   np.asarray(activity_features(S, top_db=60.0)),
                                   rtol=1e-3, atol=1e-3)


def test_top_db_uses_each_groups_own_maximum_and_leaves_noisy_windows_alone(rng):
    S = 1.0 + 0.2 * np.abs(rng.normal(size=(2, 6, 64)))
    S[:, 2, 30:34] += 4.0
    S = jnp.asarray(S, jnp.float32)
    # every band within 20 dB of the loudest: a 60 dB range changes nothing
    np.testing.assert_allclose(np.asarray(activity_features(S, top_db=60.0)),
                               np.asarray(activity_features(S)), rtol=1e-6, atol=1e-6)
    # group 1 is 1000x (60 dB) weaker than group 0: with one group it would be clamped to
    # the floor; with its own group it keeps its shape
    T = np.zeros((3, 40), np.float32)
    T[0, 10:14] = 1.0
    T[1:, 10:14] = 1e-3
    T[1:, :10] = 1e-7
    T = jnp.asarray(T)
    grouped = np.asarray(activity_features(T, mask="none", top_db=40.0, groups=(0, 1, 1)))
    pooled = np.asarray(activity_features(T, mask="none", top_db=40.0))
    np.testing.assert_allclose(grouped[1], grouped[0], rtol=1e-3, atol=1e-3)
    assert pooled[1].max() == 0.0 < grouped[1].max()
    f = jax.jit(lambda s: activity_features(s, mask="none", top_db=40.0, groups=(0, 1, 1)))
    np.testing.assert_allclose(np.asarray(f(T)), grouped, rtol=1e-5)
    with pytest.raises(ScatterError, match=r"top_db must be a number of decibels"):
        activity_features(T, top_db=300.0)


def test_extractor_top_db_on_a_chirp_in_silence(fx):
    x = _chirp_in_silence()
    fx60 = FeatureExtractor(dataclasses.replace(SMALL, top_db=60.0))
    a, b = np.asarray(fx60(x)), np.asarray(fx60(x * 0.1))  # 20 dB quieter, in exact silence
    n = fx60.n_paths
    assert a[0, :n].max() <= np.log1p(1e3) + 1e-3
    np.testing.assert_allclose(a, b, atol=0.02)  # (the absolute 1e-8 aside)
    old = np.asarray(fx(x * 0.1))
    assert old[0, :n].max() > a[0, :n].max() + 3  # without the range limit: log(c / 1e-8)
    # over one 16-bit step of dither, the chirp (> 70 dB above it) reads as in silence
    fxd = FeatureExtractor(dataclasses.replace(SMALL, top_db=60.0, dither=DITHER_16BIT))
    np.testing.assert_allclose(np.asarray(fxd(x)), a, atol=0.05)


def test_old_sidecars_load_without_top_db():
    d = dataclasses.replace(SMALL, top_db=60.0).to_dict()
    assert d["top_db"] == 60.0 and FeatureConfig().top_db == 0.0
    assert FeatureConfig.from_dict({k: v for k, v in d.items() if k != "top_db"}) == SMALL


def test_learned_first_order_filters_in_the_settings():
    # designed filters (empty fields): left out of the dict, so older settings are unchanged
    assert "xi1" not in SMALL.to_dict() and "sigma1" not in SMALL.to_dict()
    n1 = Scattering1D(J=SMALL.J, shape=SMALL.window, Q=SMALL.Q).params["xi1"].shape[0]
    xi = np.linspace(0.05, 0.4, n1).astype(np.float32)
    sigma = np.full(n1, 0.01, np.float32)
    cfg = dataclasses.replace(SMALL, xi1=xi, sigma1=sigma)
    d = cfg.to_dict()
    assert d["xi1"] == [float(v) for v in xi] and len(d["sigma1"]) == n1
    back = FeatureConfig.from_dict(d)
    assert back == cfg and hash(back) == hash(cfg)
    np.testing.assert_array_equal(np.asarray(back.xi1, np.float32), xi)  # exact round trip
    with pytest.raises(ScatterError, match=r"xi1 and sigma1 must have the same length .* got "
                                           r"3 and 2"):
        dataclasses.replace(SMALL, xi1=[0.1, 0.2, 0.3], sigma1=[0.01, 0.01])
    with pytest.raises(ScatterError, match=r"sigma1 must be a sequence of frequencies in "
                                           r"\(0, 0.5\) cycles per sample .* got \(0.0,\)"):
        dataclasses.replace(SMALL, xi1=[0.1], sigma1=[0.0])
    with pytest.raises(ScatterError, match=r"xi1 must be a sequence .* got 'high'"):
        dataclasses.replace(SMALL, xi1="high", sigma1=[0.01])
    with pytest.raises(ScatterError, match=rf"xi1 and sigma1 must hold one value per "
                                           rf"first-order wavelet \({n1} at J=4, Q=\(2, 1\)\); "
                                           rf"got 2"):
        FeatureExtractor(dataclasses.replace(SMALL, xi1=[0.1, 0.2], sigma1=[0.01, 0.01]))
