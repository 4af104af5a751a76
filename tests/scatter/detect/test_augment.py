"""Tests of scatter.detect.augment: each augmentation does what it says and keeps the length."""

import numpy as np
import pytest
from scipy import signal as sps

from scatter import ScatterError
from scatter.detect.augment import (
    augment,
    band_filter,
    check_warp,
    mix_background,
    pitch_shift,
    random_gain,
    reverb,
    speed_change,
    time_shift,
    time_stretch,
    warp,
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


def _pulses(rate_hz, n=2 * SR, hz=2000):
    """A tone switched on and off ``rate_hz`` times a second (an insect-like pulse train)."""
    period = int(SR / rate_hz)
    return _tone(hz, n) * ((np.arange(n) % period) < period // 2)


def _pulse_rate(y):
    """The strongest modulation rate (Hz, below 60 Hz) of ``y``'s envelope."""
    env = np.abs(y.astype(np.float64))
    env = sps.sosfiltfilt(sps.butter(4, 150 / (SR / 2), output="sos"), env)
    spec = np.abs(np.fft.rfft(env - env.mean()))
    f = np.fft.rfftfreq(env.size, 1 / SR)
    low = (f > 1) & (f < 60)
    return f[low][np.argmax(spec[low])]


def test_warp_is_seeded_and_keeps_length_and_dtype():
    y = _pulses(5)
    a = warp(y, np.random.default_rng(3), sr=SR, max_semitones=2.0, max_stretch=0.2)
    b = warp(y, np.random.default_rng(3), sr=SR, max_semitones=2.0, max_stretch=0.2)
    c = warp(y, np.random.default_rng(4), sr=SR, max_semitones=2.0, max_stretch=0.2)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert not np.allclose(a, y)
    assert a.shape == y.shape and a.dtype == np.float32 and np.isfinite(a).all()
    assert np.max(np.abs(a)) <= 1.0
    # odd lengths and float64 input are kept too, and a short signal is left as it is
    odd = warp(np.asarray(y[:SR + 3], np.float64), np.random.default_rng(0), max_semitones=1.0)
    assert odd.shape == (SR + 3,) and odd.dtype == np.float32
    np.testing.assert_array_equal(warp(y[:100], np.random.default_rng(0), max_stretch=0.5),
                                  y[:100])


def test_warp_with_zero_ranges_draws_nothing_and_changes_nothing():
    y = _pulses(5)
    rng = np.random.default_rng(1)
    np.testing.assert_array_equal(warp(y, rng, sr=SR), y)
    assert rng.random() == np.random.default_rng(1).random()  # the generator was not used


def test_pitch_shift_moves_the_carrier_and_keeps_the_pulse_rate(rng):
    y = _pulses(5)
    ratios = []
    for _ in range(4):
        out = pitch_shift(y, rng, sr=SR, max_semitones=3.0)
        assert out.shape == y.shape and out.dtype == np.float32
        ratios.append(_peak_hz(out) / 2000)
        assert _pulse_rate(out) == pytest.approx(5.0, abs=0.5)
    ratios = np.array(ratios)
    assert np.all((ratios > 2 ** (-3 / 12) - 0.01) & (ratios < 2 ** (3 / 12) + 0.01))
    assert np.any(np.abs(ratios - 1) > 0.02)  # not all within a third of a semitone


def test_time_stretch_changes_the_pulse_rate_and_keeps_the_carrier(rng):
    y = _pulses(5)
    rates = []
    for _ in range(4):
        out = time_stretch(y, rng, max_change=0.3)
        assert out.shape == y.shape and out.dtype == np.float32
        assert _peak_hz(out) == pytest.approx(2000, abs=15)
        rates.append(_pulse_rate(out))
    rates = np.array(rates)
    assert np.all((rates >= 5 / 1.3 - 0.5) & (rates <= 5 * 1.3 + 0.5))
    assert np.any(np.abs(rates - 5) >= 0.5)


def test_warp_ranges_are_checked(rng):
    assert check_warp(0, 0) == (0.0, 0.0)
    for bad in (-1.0, 12.0, float("nan"), "2", True):
        with pytest.raises(ScatterError, match=r"max_semitones must be a number in \[0, 12\)"):
            warp(_tone(1000), rng, max_semitones=bad)
    for bad in (-0.1, 1.0, float("inf")):
        with pytest.raises(ScatterError, match=r"max_stretch must be a number in \[0, 1\)"):
            warp(_tone(1000), rng, max_stretch=bad)
    with pytest.raises(ScatterError, match="pitch_shift must be"):
        check_warp(-2, 0, names=("pitch_shift", "time_stretch"))


def test_errors(rng):
    with pytest.raises(ScatterError, match="non-empty 1-D"):
        augment(np.zeros((2, 3)), rng)
    with pytest.raises(ScatterError, match="non-empty 1-D"):
        time_shift(np.zeros(0), rng)
    with pytest.raises(ScatterError, match="non-empty 1-D"):
        warp(np.zeros((2, 600)), rng, max_semitones=1.0)
