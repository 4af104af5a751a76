"""Fixtures for the data-script tests: a loader for the scripts and a small fake tuxpaint cache.

``data_scripts/`` is not a package; its scripts load each other with
``sibling_scripts.load_sibling``, and so does :func:`load_script`, so that tests and scripts
share one module object per file.
"""

import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "data_scripts") not in sys.path:
    sys.path.insert(0, str(ROOT / "data_scripts"))
from sibling_scripts import load_sibling as load_script  # noqa: E402


@pytest.fixture(scope="session")
def scripts():
    """``scripts("build_dev_corpus")`` returns that script's module."""
    return load_script


def _check_event(make, kind, *, sr):
    events = []
    for seed in range(3):
        x, segs = make(np.random.default_rng(seed), kind, sr=sr)
        x2, segs2 = make(np.random.default_rng(seed), kind, sr=sr)
        np.testing.assert_array_equal(x, x2)
        np.testing.assert_array_equal(segs, segs2)
        assert x.dtype == np.float32 and x.ndim == 1 and np.all(np.isfinite(x)), kind
        assert segs.ndim == 2 and segs.shape[1] == 2 and len(segs) >= 1, kind
        assert np.all(segs[:, 1] > segs[:, 0]), kind
        assert np.all(segs[:, 0] >= 0) and np.all(segs[:, 1] <= x.size / sr + 1e-9), kind
        inside = np.zeros(x.size, dtype=bool)
        for a, b in segs:
            inside[int(a * sr):int(np.ceil(b * sr))] = True
        rms = np.sqrt(np.mean(x[inside].astype(np.float64) ** 2))
        assert rms == pytest.approx(1.0, rel=1e-3), kind
        assert np.all(x[~inside] == 0.0), kind  # silence between the segments
        events.append((x, segs))
    return events


@pytest.fixture(scope="session")
def check_event():
    """``check_event(make, kind, sr=sr)``: the contract of a synthetic sound-event generator
    ``make(rng, kind, sr=sr) -> (audio, segments)``, for seeds 0, 1, 2: the same output for
    the same seed; float32 1-D finite audio; segments (k, 2) in seconds, k >= 1, each of
    positive length and inside the clip; unit RMS over the segments, zeros between them.
    Returns the (audio, segments) of each seed."""
    return _check_event


def _chirp(sr, dur, f0, f1, rng):
    t = np.arange(int(dur * sr)) / sr
    x = np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t ** 2 / (2 * dur))) * np.hanning(t.size)
    return 0.5 * x + 0.002 * rng.standard_normal(t.size)


def _hum(sr, dur, f0, rng):
    t = np.arange(int(dur * sr)) / sr
    x = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 6)) * np.hanning(t.size)
    return 0.3 * x + 0.002 * rng.standard_normal(t.size)


#: The fake package: relative path under stamps/ -> generator of its audio.
SR = 16000


def fake_clips(rng):
    clips = {}
    birds = ["blackbird", "crow", "cuckoo", "lark", "owl", "drake", "duck", "hen", "rooster",
             "seagull", "heron"]
    for i, name in enumerate(birds):
        clips[f"animals/birds/{name}.ogg"] = _chirp(SR, 0.4 + 0.1 * (i % 5), 1500 + 300 * i,
                                                    3000 + 200 * i, rng)
    clips["animals/birds/nandou.ogg"] = np.zeros(SR // 2)           # digital silence
    clips["animals/birds/nandou_desc.ogg"] = _hum(SR, 0.5, 150, rng)  # spoken description
    for i, name in enumerate(["cow", "dog", "lion", "pig", "horse"]):
        clips[f"animals/mammals/{name}.ogg"] = _hum(SR, 0.6 + 0.1 * i, 90 + 40 * i, rng)
    clips["animals/mammals/rodents/beaver.ogg"] = clips["animals/mammals/dog.ogg"]  # a copy
    for i, name in enumerate(["bee", "hornet", "mosquito"]):
        clips[f"animals/insects/{name}.ogg"] = _hum(SR, 0.8, 200 + 100 * i, rng)
    clips["animals/amphibians/frog.ogg"] = _hum(SR, 0.7, 120, rng)
    for name in ["kettle", "toilet", "vacuum"]:
        clips[f"household/{name}.ogg"] = 0.1 * rng.standard_normal(int(0.5 * SR))
    for lang in ("de", "fr", "en_GB", "zh_tw"):
        for d in range(2):
            clips[f"symbols/math/{d}_{lang}.ogg"] = _hum(SR, 0.4, 110 + 20 * d, rng)
    clips["household/quiet.ogg"] = 1e-5 * rng.standard_normal(SR // 2)  # peak > 1e-6, RMS tiny
    return clips


@pytest.fixture(scope="session")
def fake_manifest(tmp_path_factory):
    """A fake tuxpaint cache (Ogg clips and manifest.json, written by fetch_tuxpaint_sounds)."""
    fts = load_script("fetch_tuxpaint_sounds")
    cache = tmp_path_factory.mktemp("tuxpaint")
    rng = np.random.default_rng(7)
    for rel, x in fake_clips(rng).items():
        path = cache / "stamps" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(path), np.asarray(x, dtype=np.float32), SR, format="OGG", subtype="VORBIS")
    path = fts.build_manifest(cache)
    return path


@pytest.fixture
def fake_records(fake_manifest):
    return load_script("fetch_tuxpaint_sounds").load_manifest(fake_manifest)
