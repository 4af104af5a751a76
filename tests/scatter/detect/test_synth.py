"""Tests of scatter.detect.synth: the synthetic calls and backgrounds have the stated
properties, and the demo and corpus writers produce what they say."""

import csv
import os

import numpy as np
import pytest
import soundfile as sf

from scatter import ScatterError
from scatter.detect.synth import (
    BACKGROUNDS,
    VOCALISATIONS,
    background,
    make_clip,
    mix,
    vocalisation,
    write_demo_clips,
    write_synthetic_corpus,
)

SR = 22050


def _dominant_hz(y, sr):
    spec = np.abs(np.fft.rfft(y))
    return np.fft.rfftfreq(y.size, 1 / sr)[np.argmax(spec)]


@pytest.mark.parametrize("kind", VOCALISATIONS)
def test_vocalisations_are_bird_band(rng, kind):
    y = vocalisation(rng, kind, sr=SR)
    assert y.dtype == np.float32 and np.max(np.abs(y)) == pytest.approx(1.0)
    assert 500 < _dominant_hz(y, SR) < 9000


@pytest.mark.parametrize("kind", BACKGROUNDS)
def test_backgrounds_have_unit_rms(rng, kind):
    y = background(rng, kind, 8192, sr=SR)
    assert y.shape == (8192,) and np.std(y) == pytest.approx(1.0, rel=1e-3)


def test_pink_and_brown_spectral_slopes(rng):
    for kind, slope in (("pink", -1.0), ("brown", -2.0)):
        y = background(rng, kind, 1 << 16, sr=SR)
        f = np.fft.rfftfreq(y.size)[1:]
        p = np.abs(np.fft.rfft(y))[1:] ** 2
        fit = np.polyfit(np.log(f), np.log(p), 1)[0]
        assert fit == pytest.approx(slope, abs=0.1)


def test_mix_reaches_the_snr(rng):
    noise = rng.normal(size=20000).astype(np.float32) * 0.01
    call = np.sin(np.arange(4000) * 0.3).astype(np.float32)
    y = mix(noise, call, snr_db=10.0, rng=rng, at=1000)
    added = y.astype(np.float64) - noise
    snr = 10 * np.log10(np.mean(added[1000:5000] ** 2) / np.mean(noise.astype(float) ** 2))
    assert snr == pytest.approx(10.0, abs=0.01)


def test_make_clip_and_errors(rng):
    y = make_clip(rng, sr=SR, seconds=0.5, bird=True, level_db=-30)
    assert y.shape == (SR // 2,) and np.max(np.abs(y)) <= 0.9 + 1e-6
    with pytest.raises(ScatterError, match="kind must be one of"):
        vocalisation(rng, "croak", sr=SR)
    with pytest.raises(ScatterError, match="sr must be an integer >= 16000"):
        vocalisation(rng, "whistle", sr=8000)
    with pytest.raises(ScatterError, match="kind must be one of"):
        background(rng, "snow", 10, sr=SR)
    with pytest.raises(ScatterError, match="n must be a positive integer"):
        background(rng, "pink", 0, sr=SR)


def test_demo_clips(tmp_path):
    clips = write_demo_clips(tmp_path, seconds=1.0)
    assert len(clips) == 6 and sum(label for _, label in clips) == 3
    for path, label in clips:
        info = sf.info(path)
        assert info.samplerate == SR and info.frames == SR
        assert os.path.basename(path).startswith("bird_" if label else "nobird_")
    with pytest.raises(ScatterError, match="does not exist"):
        write_demo_clips(tmp_path / "missing")


def test_synthetic_corpus(tmp_path):
    labels = write_synthetic_corpus(tmp_path / "c", n_clips=8, seconds=0.5, seed=3)
    with open(labels) as fh:
        rows = list(csv.DictReader(fh))
    assert [r["label"] for r in rows] == ["1", "0"] * 4
    assert [r["split"] for r in rows].count("val") == 2
    assert all(os.path.isfile(tmp_path / "c" / r["path"]) for r in rows)
    again = write_synthetic_corpus(tmp_path / "d", n_clips=8, seconds=0.5, seed=3)
    a, _ = sf.read(tmp_path / "c" / rows[0]["path"])
    b, _ = sf.read(os.path.join(os.path.dirname(again), rows[0]["path"]))
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ScatterError, match="n_clips must be an integer >= 4"):
        write_synthetic_corpus(tmp_path / "e", n_clips=2)
