"""Tests of data_scripts/dev_corpus_distractors.py: synthetic non-bird events (hard negatives)."""

import numpy as np
import pytest
from scipy import signal

SR = 16000


@pytest.fixture(scope="module")
def D(scripts):
    return scripts("dev_corpus_distractors")


def test_contract_shape_level_segments_and_seed(D, check_event):
    for kind in D.DISTRACTORS:
        check_event(D.distractor, kind, sr=SR)


def _peak_hz(x):
    f, p = signal.welch(x, fs=SR, nperseg=2048)
    return f[np.argmax(p)], f, p


def test_beeps_are_steady_tones_and_notes_on_the_scale(D):
    x, _ = D.distractor(np.random.default_rng(3), "beep", sr=SR)
    peak, f, p = _peak_hz(x)
    assert 500 - 8 <= peak <= 4000 + 8
    assert p[np.abs(f - peak) < 30].sum() > 0.9 * p.sum()  # one steady pure tone
    scale = 110.0 * 2 ** (np.arange(49) / 12)
    candidates = np.concatenate([k * scale for k in (1, 2, 3)])
    for seed in range(3):
        x, _ = D.distractor(np.random.default_rng(seed), "note", sr=SR)
        f, p = signal.welch(x, fs=SR, nperseg=16384)  # ~1 Hz bins
        peak = f[np.argmax(p)]
        # the strongest partial is one of the first harmonics of a note of the scale
        assert np.min(np.abs(candidates - peak)) <= 2.0, peak


def test_engines_and_croaks_are_low_sirens_sweep(D):
    for kind, top in (("engine", 1500), ("croak", 2000)):
        x, _ = D.distractor(np.random.default_rng(1), kind, sr=SR)
        peak, _, _ = _peak_hz(x)
        assert peak < top, (kind, peak)
    x, _ = D.distractor(np.random.default_rng(2), "siren", sr=SR)
    f, t, Z = signal.stft(x, fs=SR, nperseg=1024)
    track = f[np.argmax(np.abs(Z[:, 2:-2]), axis=0)]
    assert track.max() - track.min() > 100  # the pitch moves
    assert 400 <= np.median(track) <= 3700


@pytest.mark.parametrize("kind, sr, match", [
    ("whistle", SR, r"kind must be one of \('siren'.*got 'whistle'"),
    ("siren", 4000, "sr must be an integer sample rate of at least 8000 Hz; got 4000"),
])
def test_errors(D, kind, sr, match):
    with pytest.raises(ValueError, match=match):
        D.distractor(np.random.default_rng(0), kind, sr=sr)
