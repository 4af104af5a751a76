"""Tests of data_scripts/dev_corpus_distractors.py: synthetic non-bird events (hard negatives)."""

import numpy as np
import pytest
from scipy import signal

SR = 16000


@pytest.fixture(scope="module")
def D(scripts):
    return scripts("dev_corpus_distractors")


def _rms(x):
    return float(np.sqrt(np.mean(np.asarray(x, dtype=np.float64) ** 2)))


def test_contract_shape_level_segments_and_seed(D):
    for kind in D.DISTRACTORS:
        for seed in range(3):
            x, segs = D.distractor(np.random.default_rng(seed), kind, sr=SR)
            x2, segs2 = D.distractor(np.random.default_rng(seed), kind, sr=SR)
            np.testing.assert_array_equal(x, x2)
            np.testing.assert_array_equal(segs, segs2)
            assert x.dtype == np.float32 and x.ndim == 1 and np.all(np.isfinite(x)), kind
            assert segs.ndim == 2 and segs.shape[1] == 2 and len(segs) >= 1, kind
            assert np.all(np.diff(segs, axis=1) > 0), kind
            assert segs[0, 0] >= 0 and segs[-1, 1] <= x.size / SR + 1e-9, kind
            inside = np.zeros(x.size, dtype=bool)
            for a, b in segs:
                inside[int(a * SR):int(np.ceil(b * SR))] = True
            assert _rms(x[inside]) == pytest.approx(1.0, rel=1e-3), kind
            assert np.all(x[~inside] == 0.0), kind


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
