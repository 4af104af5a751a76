"""Tests of scatter.detect.augment: each augmentation does what it says and keeps the length."""

import numpy as np
import pytest
from scipy import signal as sps

from scatter import ScatterError
from scatter.detect.augment import (
    augment,
    band_filter,
    mix_background,
    random_gain,
    reverb,
    speed_change,
    time_shift,
)

SR = 22050


def _tone(hz, n=SR):
    return (0.3 * np.sin(2 * np.pi * hz * np.arange(n) / SR)).astype(np.float32)


def _peak_hz(y):
    return np.fft.rfftfreq(y.size, 1 / SR)[np.argmax(np.abs(np.fft.rfft(y)))]


def test_gain_is_a_scale_within_range(rng):
    y = _tone(1000)
    out = random_gain(y, rng)
    ratio = np.max(np.abs(out)) / np.max(np.abs(y))
    assert 10 ** (-12 / 20) - 1e-6 <= ratio <= 10 ** (6 / 20) + 1e-6
    np.testing.assert_allclose(out, y * ratio, rtol=1e-5, atol=1e-7)


def test_time_shift_is_a_rotation(rng):
    y = rng.normal(size=1000).astype(np.float32)
    out = time_shift(y, rng)
    k = int(np.argmax([np.dot(np.roll(y, s), out) for s in range(1000)]))
    np.testing.assert_array_equal(out, np.roll(y, k))


def test_mix_background_snr(rng):
    y = _tone(2000)
    noise = rng.normal(size=5000)
    out = mix_background(y, rng, noise=noise, snr_db=(7.0, 7.0))
    added = out.astype(np.float64) - y
    snr = 10 * np.log10(np.mean(y.astype(float) ** 2) / np.mean(added**2))
    assert snr == pytest.approx(7.0, abs=0.01)
    synthetic = mix_background(y, rng, snr_db=(0.0, 0.0))
    assert synthetic.shape == y.shape and not np.allclose(synthetic, y)


def test_speed_change_moves_the_pitch(rng):
    y = _tone(2000)
    for _ in range(5):
        out = speed_change(y, rng, max_change=0.06)
        assert out.shape == y.shape
        ratio = _peak_hz(out[:SR // 2]) / 2000
        assert 0.93 < ratio < 1.07


def test_band_filter_attenuates_one_side(rng):
    low, high = _tone(60), _tone(10500)
    y = low + high
    for _ in range(6):
        out = band_filter(y, rng, sr=SR)
        f, p = sps.welch(out, fs=SR, nperseg=4096)
        f0, p0 = sps.welch(y, fs=SR, nperseg=4096)
        at = [np.argmin(np.abs(f - 60)), np.argmin(np.abs(f - 10500))]
        # one of the two tones loses at least 20 dB
        assert np.min(10 * np.log10(p[at] / p0[at])) < -20


def test_reverb_decays_at_the_drawn_rate(rng):
    y = np.zeros(2 * SR, np.float32)
    y[0] = 1.0
    out = reverb(y, rng, sr=SR, rt60=(0.5, 0.5), wet=(1.0, 1.0)).astype(np.float64)
    # energy decay: 60 dB per 0.5 s = 12 dB per 0.1 s (Schroeder backward integral)
    edc = np.cumsum((out**2)[::-1])[::-1]
    db = 10 * np.log10(edc / edc[0])
    slope = (db[int(0.3 * SR)] - db[int(0.1 * SR)]) / 0.2
    assert slope == pytest.approx(-120.0, rel=0.1)
    assert np.sum(out[: int(0.5 * SR)] ** 2) == pytest.approx(1.0, abs=0.01)  # unit energy
    dry = reverb(y, rng, sr=SR, wet=(0.0, 0.0))
    np.testing.assert_allclose(dry, y, atol=1e-7)


def test_augment_is_seeded_and_keeps_shape():
    y = _tone(3000, 4000)
    a = augment(y, np.random.default_rng(5), sr=SR, p=1.0)
    b = augment(y, np.random.default_rng(5), sr=SR, p=1.0)
    np.testing.assert_array_equal(a, b)
    assert a.shape == y.shape and a.dtype == np.float32 and np.isfinite(a).all()
    np.testing.assert_array_equal(augment(y, np.random.default_rng(0), p=0.0), y)


def test_errors(rng):
    with pytest.raises(ScatterError, match="non-empty 1-D"):
        augment(np.zeros((2, 3)), rng)
    with pytest.raises(ScatterError, match="non-empty 1-D"):
        time_shift(np.zeros(0), rng)
