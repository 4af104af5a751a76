"""Tests of scatter.denoise: SNR gains and SURE vs oracle on test signals and a real bird clip."""

import importlib.util
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import soundfile as sf

from scatter import ScatterError, cwt, filterbank
from scatter.denoise import band_noise_gains, default_octaves, denoise, threshold_bands
from scatter.threshold import sure

SR = 8000
N = 8192
ROOT = Path(__file__).resolve().parents[2]
#: The seed of the ``rng`` fixture (tests/conftest.py).
SEED = 20261127


def _snr(clean, z):
    return 10 * np.log10(np.sum(clean**2) / np.sum((np.asarray(z, np.float64) - clean) ** 2))


def _signals():
    t = np.arange(N) / SR
    chirp = np.sin(2 * np.pi * (200 * t + 0.5 * (3000 - 200) / t[-1] * t**2)) * np.hanning(N)
    tones = np.sin(2 * np.pi * 440 * t) + 0.5 * np.sin(2 * np.pi * 1830 * t + 1.0)
    trans = np.zeros(N)
    for k, start in enumerate(range(500, N - 600, 1500)):
        m = np.arange(400)
        trans[start:start + 400] = np.exp(-m / 40.0) * np.sin(2 * np.pi * (600 + 300 * k) * m / SR)
    return {"chirp": chirp, "tones": tones, "transients": trans}


def _noisy(rng, x, snr_db):
    sigma = np.sqrt(np.mean(x**2) / 10 ** (snr_db / 10))
    return (x + sigma * rng.standard_normal(x.size)).astype(np.float32), sigma


#: Rows of the shared batch: three test signals and the transients time-reversed (each in white
#: noise at 5 dB), coloured noise that steps up, and silence. One batch shape for every
#: ``denoise`` call below, so each method and noise estimate is compiled once for the module.
ROWS = ("chirp", "tones", "transients", "reversed", "coloured", "zeros")
WHITE_ROWS = ("chirp", "tones", "transients", "reversed")


def _coloured_changing(rng, x):
    """Low-passed (coloured) Gaussian noise three times louder in the second half."""
    hum = np.convolve(rng.standard_normal(x.size), np.ones(8) / 8, mode="same")
    hum *= np.where(np.arange(x.size) < x.size // 2, 1.0, 3.0)
    return hum * np.sqrt(np.mean(x**2) / np.mean(hum**2))   # 0 dB


@pytest.fixture(scope="module")
def batch():
    """``(clean, noisy)``, both ``(len(ROWS), N)``; the reversed row carries the transients'
    noise reversed too, so its noise levels are those of the transients row. Each row's noise
    is drawn from its own generator with the suite's seed (the ``rng`` fixture's)."""
    sig = _signals()
    clean, noisy = [], []
    for name in ("chirp", "tones", "transients"):
        y, _ = _noisy(np.random.default_rng(SEED), sig[name], 5.0)
        clean.append(sig[name])
        noisy.append(y)
    clean.append(clean[2][::-1])
    noisy.append(noisy[2][::-1])
    gated = sig["tones"] * (np.sin(2 * np.pi * 2 * np.arange(N) / SR) > 0.2)
    clean.append(gated)
    hum = _coloured_changing(np.random.default_rng(SEED), gated)
    noisy.append((gated + hum).astype(np.float32))
    clean.append(np.zeros(N))
    noisy.append(np.zeros(N, np.float32))
    return np.stack(clean), np.stack(noisy)


@pytest.fixture(scope="module")
def default_run(batch):
    """The default (SURE, ``"auto"``) and the oracle on the shared batch. The oracle is read on
    the white rows only (and the silent one, which every method leaves at zero), where
    ``"auto"`` takes the ``"global"`` levels: the oracle with those skips compiling the
    tracked estimate."""
    x, y = batch
    out, t, s = denoise(y, sr=SR, return_thresholds=True)
    ref = denoise(y, sr=SR, method="oracle", reference=x.astype(np.float32),
                  noise_estimate="global")
    return np.asarray(out), np.asarray(t), np.asarray(s), np.asarray(ref)


@pytest.fixture(scope="module")
def global_run(batch):
    """The white-noise estimate (``"global"``) on the shared batch."""
    out, t, s = denoise(batch[1], sr=SR, noise_estimate="global", return_thresholds=True)
    return np.asarray(out), np.asarray(t), np.asarray(s)


@pytest.mark.parametrize("name", WHITE_ROWS)
def test_sure_denoising_near_oracle_and_improves_snr(batch, default_run, name):
    k = ROWS.index(name)
    x, y = batch[0][k], batch[1][k]
    out, _, _, ref = default_run
    assert out.shape == batch[1].shape and out.dtype == np.float32
    mse_sure, mse_oracle = np.mean((out[k] - x) ** 2), np.mean((ref[k] - x) ** 2)
    assert mse_sure <= 1.15 * mse_oracle
    assert _snr(x, out[k]) > _snr(x, y) + 5.0


def test_sure_estimates_the_coefficient_domain_risk(rng):
    """Summed over bands, SURE at the chosen thresholds matches the actual coefficient error."""
    x = _signals()["chirp"] + _signals()["transients"]
    y, sigma = _noisy(rng, x, 0.0)
    bank = filterbank("morlet", J=default_octaves(SR, N), Q=8)

    @jax.jit
    def estimate_and_error(y, x, sigma):
        bands, ref = cwt(y, bank=bank)[:-1], cwt(x, bank=bank)[:-1]
        sigmas = sigma * band_noise_gains(bank, N)
        out, t = threshold_bands(bands, sigmas, method="sure")
        est = 0.0
        for length in {b.shape[-1] for b in bands}:  # one call per group of equal-length bands
            idx = np.array([k for k, b in enumerate(bands) if b.shape[-1] == length])
            group = jnp.stack([bands[k] for k in idx])
            est += jnp.sum(sure(group, t[idx], sigma=sigmas[idx]))
        actual = sum(jnp.sum(jnp.abs(o - r) ** 2) for o, r in zip(out, ref, strict=True))
        return est, actual

    est, actual = estimate_and_error(y, x.astype(np.float32), np.float32(sigma))
    assert float(est) == pytest.approx(float(actual), rel=0.05)


def _bird_clip():
    spec = importlib.util.spec_from_file_location(
        "fetch_tuxpaint_sounds", ROOT / "data_scripts" / "fetch_tuxpaint_sounds.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    records = mod.load_manifest(mod.fetch())
    rec = next(r for r in records if r["label"] == "bird" and Path(r["path"]).stem == "crow")
    x, sr = sf.read(rec["path"], dtype="float32", always_2d=True)
    x = x.mean(axis=1)
    # the loudest N-sample window (the call itself, not the silence around it)
    energy = np.convolve(x.astype(np.float64) ** 2, np.ones(N), mode="valid")[::256]
    start = int(np.argmax(energy)) * 256
    return x[start:start + N], sr


@pytest.mark.network
def test_real_bird_recording(rng):
    """A real crow call (44.1 kHz) in white noise at 5 dB SNR."""
    x, sr = _bird_clip()
    assert sr == 44100 and x.size == N and np.sqrt(np.mean(x**2)) > 0.05
    y, sigma = _noisy(rng, x.astype(np.float64), 5.0)
    # J=6: down to about 270 Hz, the synthetic-signal tests' number of octaves
    out = np.asarray(denoise(y, sr=sr, J=6))
    ref = np.asarray(denoise(y, sr=sr, J=6, method="oracle", reference=x))
    assert np.mean((out - x) ** 2) <= 1.15 * np.mean((ref - x) ** 2)
    assert _snr(x, out) > _snr(x, y) + 5.0
    known = np.asarray(denoise(y, sr=sr, J=6, sigma=sigma))
    assert _snr(x, known) > _snr(x, y) + 5.0


def test_noise_excerpt(rng):
    x = _signals()["transients"]
    y, sigma = _noisy(rng, x, 0.0)
    excerpt = (sigma * rng.standard_normal(4096)).astype(np.float32)
    assert _snr(x, denoise(y, sr=SR, noise=excerpt)) > _snr(x, y) + 3.0


def test_batch_band_estimate_bayes_and_silence(batch, default_run):
    """Per-band MAD (fine for transients, whose bands are mostly noise) and BayesShrink on the
    shared batch; the silent row comes out exactly zero, with every method."""
    x, y = batch
    out, t, s = denoise(y, sr=SR, method="bayes", noise_estimate="band", return_thresholds=True)
    assert out.shape == y.shape and t.shape == s.shape == (len(ROWS), t.shape[-1])
    for name in ("transients", "reversed"):
        k = ROWS.index(name)
        assert _snr(x[k], out[k]) > _snr(x[k], y[k]) + 3.0
    a, b = ROWS.index("transients"), ROWS.index("reversed")
    np.testing.assert_allclose(s[a], s[b], rtol=0.2)  # same noise, time-reversed
    zero = ROWS.index("zeros")
    np.testing.assert_array_equal(out[zero], 0.0)
    np.testing.assert_array_equal(default_run[0][zero], 0.0)
    np.testing.assert_array_equal(default_run[3][zero], 0.0)


def test_denoise_errors():
    y = np.ones(1024, np.float32)
    with pytest.raises(ScatterError, match=r"reference has shape \(1000,\) but y has shape "
                                           r"\(1024,\)"):
        denoise(y, sr=SR, method="oracle", reference=np.ones(1000))
    with pytest.raises(ScatterError, match=r"method='oracle' needs reference="):
        denoise(y, sr=SR, method="oracle")
    with pytest.raises(ScatterError, match=r"sigma must be finite and > 0.*\[0.0\]"):
        denoise(y, sr=SR, sigma=0.0)
    with pytest.raises(ScatterError, match=r"sigma must be finite and > 0.*\[-1.0\]"):
        denoise(y, sr=SR, sigma=-1.0)
    bad = y.copy()
    bad[3] = np.nan
    with pytest.raises(ScatterError, match=r"y must be finite, got nan at index \(3,\)"):
        denoise(bad, sr=SR)
    with pytest.raises(ScatterError, match=r"rule='hard' has no Stein unbiased risk estimate"):
        denoise(y, sr=SR, rule="hard")
    with pytest.raises(ScatterError, match=r"method='wiener' is not a threshold selector"):
        denoise(y, sr=SR, method="wiener")
    with pytest.raises(ScatterError, match=r"sr=0 must be a positive sample rate"):
        denoise(y, sr=0)
    with pytest.raises(ScatterError, match=r"y must be a real signal"):
        denoise(y.astype(np.complex64), sr=SR)
    with pytest.raises(ScatterError, match=r"either sigma= .* or noise="):
        denoise(y, sr=SR, sigma=1.0, noise=y)
    with pytest.raises(ScatterError, match=r"noise excerpt is silent \(all zeros\)"):
        denoise(y, sr=SR, noise=np.zeros(256, np.float32))
    with pytest.raises(ScatterError, match=r"noise_estimate='min' is not a noise estimator"):
        denoise(y, sr=SR, noise_estimate="min")
    with pytest.raises(ScatterError, match=r"threshold_lowpass='yes' must be True or False"):
        denoise(y, sr=SR, threshold_lowpass="yes")


def test_default_on_white_noise_is_the_white_estimate(default_run, global_run):
    """``"auto"`` finds white noise white: the default uses the ``"global"`` levels."""
    out, t, s, _ = default_run
    ref, t_ref, s_ref = global_run
    eps = float(np.finfo(np.float32).eps)
    # the default reports a level's RMS over time: a float32 mean of at most N equal squares
    # (relative error below N eps), halved by the square root
    rms = N * eps / 2
    for k in (ROWS.index(name) for name in WHITE_ROWS):
        np.testing.assert_allclose(s[k], s_ref[k], rtol=rms)
        # the same thresholds, reached through the normalised (per-coefficient) search: each
        # differs by the rounding of a division and a product, and the output by that much of
        # the largest coefficient's share
        np.testing.assert_allclose(t[k], t_ref[k], rtol=rms + 8 * eps)
        np.testing.assert_allclose(out[k], ref[k], rtol=0,
                                   atol=16 * eps * float(np.abs(ref[k]).max()))


def test_default_follows_coloured_changing_noise(batch, default_run, global_run):
    """Coloured noise whose level steps up: the default tracks each band's level; the
    white-noise estimate reads the finest band, where this noise has almost nothing."""
    k = ROWS.index("coloured")
    x, y = batch[0][k], batch[1][k]
    out, t, s, _ = default_run
    white = _snr(x, global_run[0][k])
    assert white < _snr(x, y) + 1.0
    assert _snr(x, out[k]) > white + 3.0
    assert _snr(x, out[k]) > _snr(x, y) + 3.0
    # thresholds and levels per band, with the low-pass band last
    bank = filterbank("morlet", J=default_octaves(SR, N), Q=8)
    assert t.shape == s.shape == (len(ROWS), len(bank.xi) + 1)


def test_offset_kept_under_white_noise_dropped_under_a_tracked_level():
    """An offset of 1 on a gated tone: in white noise the default keeps the input's mean, in
    coloured, changing noise the tracked path drops it. The band-pass filters carry no mean, so
    the output's mean is the offset kept plus the mean of the thresholded, centred low-pass
    band, which soft thresholding (each value shrunk towards zero) keeps below that band's mean
    absolute deviation; that bound is below 1/2 here, so keeping and dropping are told apart."""
    t = np.arange(N) / SR
    x = np.sin(2 * np.pi * 440 * t) * (np.sin(2 * np.pi * 2 * t) > 0.2)
    rng = np.random.default_rng(SEED)
    white = 0.3 * rng.standard_normal(N)
    y = np.stack([x + white + 1.0, x + _coloured_changing(rng, x) + 1.0]).astype(np.float32)
    out = np.asarray(denoise(y, sr=SR), np.float64).mean(axis=-1)
    bank = filterbank("morlet", J=default_octaves(SR, N), Q=8)
    low = np.asarray(cwt(y, bank=bank, subsample=False)[-1], np.float64)
    # plus the float32 rounding of sums of N values near 1
    bound = (np.mean(np.abs(low - low.mean(axis=-1, keepdims=True)), axis=-1)
             + N * float(np.finfo(np.float32).eps))
    assert np.all(bound < 0.5)
    offset = y.astype(np.float64).mean(axis=-1)
    assert abs(out[0] - offset[0]) <= bound[0]    # white: kept
    assert abs(out[1]) <= bound[1]                # coloured: dropped
    # threshold_lowpass=False keeps the low-pass band, offset included, as is
    kept = np.asarray(denoise(y[1], sr=SR, threshold_lowpass=False), np.float64)
    assert abs(kept.mean() - offset[1]) <= bound[1]
