"""Tests of scatter.detect.features: settings, dither, the batched extractor (scattering then
:func:`scatter.detect.activity.activity_features`, tested in test_activity.py), learned
filters."""

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


#: Unit roundoff of float32 (half its machine epsilon).
U32 = 2.0**-24
#: The absolute floor the activity features add to envelopes and noise levels
#: (scatter.detect.activity._TINY).
TINY = 1e-8


def _level_of_silence_bound(fx):
    """Largest level channel of zero envelopes that float32 rounding allows: every level is
    ``log(1e-8) - mean(log(1e-8))`` over ``N = n_paths * n_frames`` equal terms. A float32 sum
    of N terms in any order is within ``(N - 1) u sum|x|`` (Higham, Accuracy and Stability of
    Numerical Algorithms, 2002, (4.4)); the division adds ``u``, and the logarithm may round
    differently in the vector and scalar code of one program (2 ulps)."""
    n_terms = fx.n_paths * fx.n_frames
    return (n_terms + 4) * U32 * abs(float(np.log(np.float32(TINY))))


def test_silence_gives_zeros_and_gain_invariance(fx, rng):
    n = fx.n_paths
    # silence: zero envelopes, so zero activity, and level channels equal to zero up to the
    # float32 rounding of their mean (about 1.3e-3 at most here; 1.3e-4 seen with AVX-512)
    silence = np.asarray(fx(np.zeros((2, SMALL.window), np.float32)))
    np.testing.assert_array_equal(silence[:, :n], 0.0)
    assert np.abs(silence[:, n:]).max() <= _level_of_silence_bound(fx)
    x = rng.normal(size=(2, SMALL.window)).astype(np.float32) * 0.01
    x[:, 500:900] += np.sin(np.arange(400) * 0.9).astype(np.float32) * 0.1
    # a gain of 16 is exact in float32, and so is every operation of the scattering on the
    # scaled input (multiplications, additions, moduli all commute with a power of 2)
    envelopes = jax.jit(fx.envelopes)
    S = np.asarray(envelopes(fx.params, x))
    np.testing.assert_array_equal(np.asarray(envelopes(fx.params, x * 16)), 16 * S)
    a, b = np.asarray(fx(x)), np.asarray(fx(x * 16))
    assert np.isfinite(a).all()
    # what depends on the gain is the absolute floor TINY: the activity log1p(m c / (sigma +
    # TINY)) moves by at most TINY / sigma (the mask m, c and sigma scale exactly), plus
    # float32 rounding of the ratio and log1p (a few u each); the level log(S + TINY) and its
    # mean move by between 0 and TINY / S each, plus the rounding of the two means of
    # N logs ((N + 1) u max|log| each, as above)
    # each band's noise level in the activity (scatter.threshold.background), in float64
    S64 = S.astype(np.float64)
    c = S64 - np.median(S64, axis=-1, keepdims=True)
    sigma = float(np.min(np.median(np.abs(c), axis=-1) / 0.6744897501960817))
    act_bound = TINY / sigma + 8 * U32 * max(1.0, np.abs(a[:, :n]).max())
    np.testing.assert_allclose(a[:, :n], b[:, :n], rtol=0, atol=act_bound)
    n_terms = fx.n_paths * fx.n_frames
    max_log = max(float(np.abs(np.log(g * S.astype(np.float64) + TINY)).max()) for g in (1, 16))
    level_bound = TINY / S.min() + (2 * n_terms + 6) * U32 * max_log
    np.testing.assert_allclose(a[:, n:], b[:, n:], rtol=0, atol=level_bound)
    # the bounds are small against the features (a gain-dependent feature would move by
    # log 16 = 2.8)
    assert max(act_bound, level_bound) < 0.01


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
    x = rng.normal(size=(2, SMALL.window)).astype(np.float32)  # fx's compiled batch shape
    f = jax.jit(fx.apply)
    got = np.asarray(f(fx.params, x))
    np.testing.assert_allclose(got, np.asarray(fx(x)), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got, np.asarray(jax.jit(fx.transform)(x)), rtol=1e-5,
                               atol=1e-5)
    # compiled: evaluated eagerly, op by op, the mapped pipeline takes seconds to dispatch
    mapped = jax.jit(jax.vmap(fx.apply, in_axes=(None, 0)))(fx.params, x[:, None, :])[:, 0]
    np.testing.assert_allclose(np.asarray(mapped), got, rtol=1e-4, atol=1e-4)
    # other weights, same compiled program: zero filters give zero envelopes, hence zero
    # activity and a flat level
    zero = jax.tree_util.tree_map(jnp.zeros_like, fx.params)
    flat = np.asarray(f(zero, x))
    assert f._cache_size() == 1
    np.testing.assert_array_equal(flat[:, :fx.n_paths], 0.0)
    # zero envelopes, as silence: the level is log(1e-8) minus its mean, zero up to rounding
    assert np.abs(flat[:, fx.n_paths:]).max() <= _level_of_silence_bound(fx)
    assert np.abs(got[:, fx.n_paths:]).max() > 0.1


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
    ({"Q": (0, 1)}, "Q must be a positive integer"),
    ({"max_order": 3}, "max_order must be 1 or 2"),
    ({"mask": "x"}, "mask must be one of"),
    ({"rule": "hard"}, "rule must be one of"),
    ({"sr": 0}, "sr must be a positive integer"),
    ({"pool": 0}, "pool must be a positive integer"),
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


def _chirp_in_silence():
    """A short chirp in exact zeros, then exact zeros alone: two windows of SMALL,
    ``(2, window)`` (the batch shape of the other tests, so the extractors' programs are
    shared)."""
    x = np.zeros((2, SMALL.window), np.float32)
    t = np.arange(300) / SMALL.sr
    x[0, 900:1200] = 0.3 * np.sin(2 * np.pi * (1500 + 4e6 * t) * t) * np.hanning(300)
    return x

def test_extractor_noise_floor_on_digital_silence(fx, rng):
    # a short chirp in exact zeros: without the floor every path the chirp touches reads ~18
    x = _chirp_in_silence()
    assert SMALL.noise_floor == 0.0
    old = fx
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
    with pytest.raises(ScatterError, match=r"n must be a positive integer; got 0"):
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
    s = np.asarray(new(x))[1]
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


def test_extractor_top_db_on_a_chirp_in_silence(fx):
    x = _chirp_in_silence()
    fx60 = FeatureExtractor(dataclasses.replace(SMALL, top_db=60.0))
    a, b = np.asarray(fx60(x)), np.asarray(fx60(x * 0.1))  # 20 dB quieter, in exact silence
    n = fx60.n_paths
    assert a[0, :n].max() <= np.log1p(1e3) + 1e-3
    np.testing.assert_allclose(a[0], b[0], atol=0.02)  # (the absolute 1e-8 aside)
    old = np.asarray(fx(x * 0.1))
    assert old[0, :n].max() > a[0, :n].max() + 3  # without the range limit: log(c / 1e-8)
    # over one 16-bit step of dither, the chirp (> 70 dB above it) reads as in silence
    fxd = FeatureExtractor(dataclasses.replace(SMALL, top_db=60.0, dither=DITHER_16BIT))
    np.testing.assert_allclose(np.asarray(fxd(x))[0], a[0], atol=0.05)


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


def test_old_sidecars_load_without_pcen():
    d = SMALL.to_dict()
    # PCEN off (the default): its settings are left out, the flag stays
    assert d["pcen"] is False and not any(k.startswith("pcen_") for k in d)
    assert FeatureConfig.from_dict({k: v for k, v in d.items() if k != "pcen"}) == SMALL
    on = dataclasses.replace(SMALL, pcen=True, pcen_time=0.2, pcen_r=0.25)
    d = on.to_dict()
    assert d["pcen"] is True and d["pcen_time"] == 0.2 and d["pcen_alpha"] == 0.98
    assert FeatureConfig.from_dict(d) == on
    # the feature settings of a sidecar written before the field existed (the model shipped
    # before PCEN) load with PCEN off
    legacy = {"sr": 22050, "window": 57330, "hop": 57330, "J": 8, "Q": [4, 1], "max_order": 2,
              "pool": 4, "mask": "sure", "rule": "soft", "noise_floor": 0.0,
              "subsampling": "coarse", "dither": 3.0517578125e-05, "top_db": 40.0}
    old = FeatureConfig.from_dict(legacy)
    assert old.pcen is False
    assert old.to_dict() == legacy | {"pcen": False}


@pytest.mark.parametrize("change, match", [
    ({"pcen": 1}, r"pcen must be True or False; got 1"),
    ({"pcen_time": 0.0}, r"pcen_time must be a number of seconds > 0; got 0.0"),
    ({"pcen_alpha": 1.5}, r"pcen_alpha must be a number in \[0, 1\]; got 1.5"),
    ({"pcen_delta": -1.0}, r"pcen_delta must be a number > 0; got -1.0"),
    ({"pcen_r": 2.0}, r"pcen_r must be a number in \(0, 1\]; got 2.0"),
    ({"pcen_eps": 0.0}, r"pcen_eps must be a number > 0; got 0.0"),
])
def test_pcen_config_errors(change, match):
    with pytest.raises(ScatterError, match=match):
        dataclasses.replace(SMALL, **change)


def test_without_pcen_the_features_are_the_activity_features_bit_for_bit(fx, rng):
    # pcen=False (the shipped model's) runs exactly the computation of older versions
    x = rng.normal(size=(2, SMALL.window)).astype(np.float32)
    S = jax.jit(fx.envelopes)(fx.params, x)
    groups = tuple(int(o) for o in fx._orders)
    old = jax.jit(lambda s: activity_features(s, mask=SMALL.mask, rule=SMALL.rule,
                                              noise_floor=SMALL.noise_floor, groups=groups,
                                              top_db=SMALL.top_db))
    np.testing.assert_array_equal(np.asarray(jax.jit(fx.activity)(S)), np.asarray(old(S)))
    np.testing.assert_array_equal(np.asarray(jax.jit(fx.apply)(fx.params, x)),
                                  np.asarray(old(S)))


def _pcen_level_reference(S, cfg, orders):
    """The PCEN level channels of the features module's docstring, in float64 NumPy."""
    S = np.maximum(np.asarray(S, np.float64), 0.0)
    groups = [orders == o for o in np.unique(orders)]
    if cfg.top_db > 0:
        for g in groups:
            peak = S[..., g, :].max(axis=(-2, -1), keepdims=True)
            S[..., g, :] = np.maximum(S[..., g, :], 10 ** (-cfg.top_db / 20) * peak)
    E = np.empty_like(S)
    for g in groups:
        E[..., g, :] = S[..., g, :] / (S[..., g, :].mean(axis=(-2, -1), keepdims=True) + TINY)
    T = cfg.pcen_time * cfg.sr / (2 ** cfg.J * cfg.pool)
    s = (np.sqrt(1 + 4 * T * T) - 1) / (2 * T * T)
    M = np.median(E, axis=-1)
    out = np.empty_like(E)
    for t in range(E.shape[-1]):
        M = (1 - s) * M + s * E[..., t]
        out[..., t] = ((E[..., t] / (cfg.pcen_eps + M) ** cfg.pcen_alpha + cfg.pcen_delta)
                       ** cfg.pcen_r - cfg.pcen_delta ** cfg.pcen_r)
    return out


@pytest.mark.parametrize("top_db", [0.0, 40.0])
def test_pcen_level_channels(fx, rng, top_db):
    cfg = dataclasses.replace(SMALL, pcen=True, top_db=top_db, pcen_time=0.02)
    fxp = FeatureExtractor(cfg)
    x = (0.01 * rng.normal(size=(2, SMALL.window))).astype(np.float32)
    x[:, 500:900] += 0.1 * np.sin(np.arange(400) * 0.9).astype(np.float32)
    got = np.asarray(fxp(x))
    n = fxp.n_paths
    assert got.shape == (2, fxp.n_features, fxp.n_frames) and np.isfinite(got).all()
    # activity channels as without PCEN; level channels the float64 reference
    plain = np.asarray(FeatureExtractor(dataclasses.replace(cfg, pcen=False))(x))
    np.testing.assert_allclose(got[:, :n], plain[:, :n], rtol=1e-6, atol=1e-6)
    S = np.asarray(jax.jit(fxp.envelopes)(fxp.params, x))
    np.testing.assert_allclose(got[:, n:], _pcen_level_reference(S, cfg, fxp._orders),
                               rtol=1e-4, atol=1e-5)
    # invariant to gain (the window reference), up to the absolute floor 1e-8 and rounding
    np.testing.assert_allclose(np.asarray(fxp(16 * x))[:, n:], got[:, n:], rtol=1e-4,
                               atol=1e-4)
    # silence: zero PCEN channels
    assert np.abs(np.asarray(fxp(np.zeros_like(x)))[:, n:]).max() == 0.0


def test_a_pcen_model_scores_with_pcen_features(tmp_path, rng):
    from scatter.detect import load_model, save_model
    from scatter.detect.model import init_params, window_logits

    cfg = dataclasses.replace(SMALL, pcen=True, pcen_time=0.02)
    fxp = FeatureExtractor(cfg)
    params = init_params(jax.random.PRNGKey(3), n_features=fxp.n_features, hidden=(6,),
                         pieces=2)
    path = str(tmp_path / "pcen.npz")
    save_model(path, params, {"features": cfg.to_dict(),
                              "model": {"threshold": 0.5, "aggregate": "max"}})
    det = load_model(path)
    assert det.config == cfg and det.features.config.pcen
    x = (0.05 * rng.normal(size=(2, SMALL.window))).astype(np.float32)
    x[:, 500:900] += 0.2 * np.sin(np.arange(400) * 0.9).astype(np.float32)
    want = np.asarray(jax.nn.sigmoid(window_logits(det.params, fxp(x))))
    np.testing.assert_allclose(det.score_windows(x, batch_size=2), want, rtol=1e-5,
                               atol=1e-6)
    # the same weights on the log level channels score otherwise
    plain = FeatureExtractor(dataclasses.replace(cfg, pcen=False))
    other = np.asarray(jax.nn.sigmoid(window_logits(det.params, plain(x))))
    assert np.abs(other - want).max() > 1e-3
