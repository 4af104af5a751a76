"""Tests of data_scripts/dev_corpus_synth.py: synthetic backgrounds and bird-like vocalisations."""

import numpy as np
import pytest
from scipy import signal


@pytest.fixture(scope="module")
def Y(scripts):
    return scripts("dev_corpus_synth")


SR = 16000


def _rms(x):
    return float(np.sqrt(np.mean(np.asarray(x, dtype=np.float64) ** 2)))


def test_backgrounds_shape_level_and_seed(Y):
    for kind in Y.BACKGROUNDS:
        a = Y.background(np.random.default_rng(5), kind, n=SR, sr=SR)
        b = Y.background(np.random.default_rng(5), kind, n=SR, sr=SR)
        c = Y.background(np.random.default_rng(6), kind, n=SR, sr=SR)
        assert a.shape == (SR,) and a.dtype == np.float32, kind
        assert np.all(np.isfinite(a)), kind
        assert _rms(a) == pytest.approx(1.0, rel=1e-4), kind
        np.testing.assert_array_equal(a, b)
        assert not np.allclose(a, c), kind


@pytest.mark.parametrize("kind, slope", [("pink", -1.0), ("brown", -2.0)])
def test_colored_noise_spectral_slope(Y, kind, slope):
    x = Y.background(np.random.default_rng(0), kind, n=8 * SR, sr=SR)
    f, p = signal.welch(x, fs=SR, nperseg=4096)
    band = (f >= 60) & (f <= 4000)
    fitted = np.polyfit(np.log10(f[band]), np.log10(p[band]), 1)[0]
    assert fitted == pytest.approx(slope, abs=0.15)
    spec = np.abs(np.fft.rfft(x.astype(np.float64))) ** 2
    fr = np.fft.rfftfreq(x.size, 1.0 / SR)
    assert spec[fr < 19.9].max() < 1e-6 * spec[(fr > 25) & (fr < 60)].mean()  # nothing < 20 Hz


def _centroid(x):
    f, p = signal.welch(x, fs=SR, nperseg=2048)
    return float(np.sum(f * p) / np.sum(p))


def test_background_spectral_character(Y):
    cents = {k: np.median([_centroid(Y.background(np.random.default_rng(s), k, n=2 * SR, sr=SR))
                           for s in range(4)]) for k in ("rain", "wind", "traffic", "insects")}
    assert cents["wind"] < 600 and cents["traffic"] < 1500
    assert cents["rain"] > 2000 and cents["rain"] > 3 * cents["wind"]
    assert cents["insects"] > cents["wind"]


def test_babble_has_syllabic_modulation(Y):
    x = Y.background(np.random.default_rng(1), "babble", n=4 * SR, sr=SR).astype(np.float64)
    env = np.abs(signal.hilbert(x))
    env = signal.resample_poly(env, 1, 160)  # 100 Hz envelope
    f, p = signal.welch(env - env.mean(), fs=100, nperseg=256)
    assert p[(f >= 2) & (f <= 8)].sum() > p[(f >= 20) & (f <= 40)].sum()
    f, p = signal.welch(x, fs=SR, nperseg=1024)
    assert f[np.argmax(p)] < 1000  # voiced energy at speech formants, not hiss


def test_vocalisations(Y, check_event):
    for kind in Y.VOCALISATIONS:
        for x, _ in check_event(Y.vocalisation, kind, sr=SR):
            f, p = signal.welch(x, fs=SR, nperseg=1024)
            peak = f[np.argmax(p)]
            assert 250 <= peak <= 0.45 * SR, (kind, peak)  # bird-like band, below Nyquist


def test_whistles_are_high_and_tonal(Y):
    for seed in range(5):
        x, _ = Y.vocalisation(np.random.default_rng(seed), "whistle", sr=SR)
        f, p = signal.welch(x, fs=SR, nperseg=1024)
        assert f[np.argmax(p)] >= 1000
        flatness = np.exp(np.mean(np.log(p + 1e-20))) / np.mean(p)
        assert flatness < 0.05  # a tone, not noise


@pytest.mark.parametrize("call, match", [
    (lambda Y: Y.background(np.random.default_rng(0), "snow", n=10, sr=SR),
     r"kind must be one of \('pink'.*got 'snow'"),
    (lambda Y: Y.background(np.random.default_rng(0), "pink", n=0, sr=SR),
     "n must be a positive number of samples; got 0"),
    (lambda Y: Y.background(np.random.default_rng(0), "pink", n=10, sr=4000),
     "sr must be an integer sample rate of at least 8000 Hz; got 4000"),
    (lambda Y: Y.vocalisation(np.random.default_rng(0), "croak", sr=SR),
     r"kind must be one of \('whistle'.*got 'croak'"),
])
def test_errors(Y, call, match):
    with pytest.raises(ValueError, match=match):
        call(Y)
