"""Tests of data_scripts/audio_fingerprint.py: copies found across rate, gain and format;
different recordings, and different clips with long digital silences, kept apart."""

import numpy as np
import pytest
import soundfile as sf
import soxr


@pytest.fixture(scope="module")
def F(scripts):
    return scripts("audio_fingerprint")


def _song(rng, sr, seconds=3.0, f0=2500.0):
    """Chirps and a trill over faint noise: something like a bird recording."""
    t = np.arange(int(seconds * sr)) / sr
    x = 0.003 * rng.standard_normal(t.size)
    for k, onset in enumerate(np.arange(0.1, seconds - 0.4, 0.45)):
        m = (t >= onset) & (t < onset + 0.25)
        tt = t[m] - onset
        f = f0 + 800 * np.sin(2 * np.pi * (3 + k % 3) * tt)
        x[m] += 0.4 * np.sin(2 * np.pi * np.cumsum(f) / sr) * np.hanning(m.sum())
    return x


def test_copies_at_another_rate_gain_and_format_match(F, rng, tmp_path):
    sr = 44100
    x = _song(rng, sr)
    a = F.fingerprint(x, sr=sr)
    y = 0.25 * soxr.resample(x, sr, 22050)                      # resampled and quieter
    path = tmp_path / "copy.ogg"
    sf.write(path, y, 22050, format="OGG", subtype="VORBIS")     # re-encoded, lossy
    b = F.fingerprint_file(path)
    assert F.bit_error(a, b) < F.MAX_BIT_ERROR
    c = F.fingerprint(soxr.resample(x, sr, 11025), sr=11025)   # 11 kHz game audio
    assert F.bit_error(a, c) < F.MAX_BIT_ERROR
    assert F.group_duplicates([a, b, c]) == [0, 0, 0]


def test_different_recordings_do_not_match(F, rng):
    sr = 22050
    a = F.fingerprint(_song(rng, sr, f0=2500.0), sr=sr)
    b = F.fingerprint(_song(rng, sr, f0=1800.0), sr=sr)
    noise = F.fingerprint(0.1 * rng.standard_normal(3 * sr), sr=sr)
    assert F.bit_error(a, b) > 0.3 and F.bit_error(a, noise) > 0.3
    assert F.group_duplicates([a, b, noise]) == [0, 1, 2]


def test_long_digital_silences_do_not_make_a_match(F, rng):
    sr = 16000
    gap = np.zeros(2 * sr)
    x = np.r_[gap, _song(rng, sr, 0.8, 2000.0), gap, gap]
    y = np.r_[gap, gap, _song(rng, sr, 0.8, 3200.0), gap]
    a, b = F.fingerprint(x, sr=sr), F.fingerprint(y, sr=sr)
    assert F.bit_error(a, b) > 0.3
    assert F.group_duplicates([a, b]) == [0, 1]


def test_durations_must_agree_and_silence_has_no_bits(F, rng):
    sr = 16000
    x = _song(rng, sr, 3.0)
    a, b = F.fingerprint(x, sr=sr), F.fingerprint(x[: int(2.0 * sr)], sr=sr)
    assert F.group_duplicates([a, b]) == [0, 1]         # a trimmed copy is another file
    silent = F.fingerprint(np.zeros(sr), sr=sr)
    assert silent.bits.shape == (0, F.N_BANDS) and F.bit_error(silent, silent) == 1.0


def test_errors(F):
    with pytest.raises(ValueError, match=r"one-dimensional \(mono\) signal; got shape \(2, 3\)"):
        F.fingerprint(np.zeros((2, 3)), sr=8000)
    with pytest.raises(ValueError, match=r"sr must be a positive integer .* got 0"):
        F.fingerprint(np.zeros(10), sr=0)
    with pytest.raises(ValueError, match=r"Fingerprint objects"):
        F.group_duplicates([np.zeros(3)])
