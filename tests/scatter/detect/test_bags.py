"""Tests of scatter.detect.bags: clips become padded bags of window features, reproducibly."""

import numpy as np
import pytest
import soundfile as sf

from scatter import ScatterError
from scatter.audio import load
from scatter.detect.augment import augment, warp
from scatter.detect.bags import extract_bags, extract_windows
from scatter.detect.data import Record
from scatter.detect.features import FeatureConfig, FeatureExtractor
from scatter.framing import window_starts

CFG = FeatureConfig(sr=16000, window=2048, hop=2048, J=4, Q=(2, 1), pool=2)


@pytest.fixture(scope="module")
def fx():
    return FeatureExtractor(CFG)


def test_bags(fx, tmp_path):
    rng = np.random.default_rng(0)
    sf.write(tmp_path / "a.wav", (0.1 * rng.normal(size=5000)).astype(np.float32), 16000)
    sf.write(tmp_path / "b.wav", (0.1 * rng.normal(size=20000)).astype(np.float32), 16000)
    (tmp_path / "bad.wav").write_bytes(b"nope")
    recs = [Record(str(tmp_path / "a.wav"), 1), Record(str(tmp_path / "bad.wav"), 0),
            Record(str(tmp_path / "b.wav"), 0)]
    bags = extract_bags(recs, fx, copies=1, seed=1, max_windows=4, batch_size=4)
    assert bags.feats.shape == (2, 2, 4, fx.n_features, fx.n_frames)
    assert bags.feats.dtype == np.float16
    assert bags.valid.tolist() == [[True, True, True, False], [True] * 4]  # b.wav is cut
    assert bags.labels.tolist() == [1, 0] and len(bags.skipped) == 1
    assert bags.skipped[0][0].endswith("bad.wav")
    # copy 0 is the clean clip: its first window equals the extractor's output
    y, _ = sf.read(tmp_path / "a.wav", dtype="float32")
    want = np.asarray(fx(y[None, :2048]))[0]
    np.testing.assert_allclose(bags.feats[0, 0, 0].astype(np.float32), want, atol=5e-3,
                               rtol=5e-3)
    assert not np.array_equal(bags.feats[0, 0], bags.feats[0, 1])  # the augmented copy
    assert not bags.feats[0, :, 3].any()  # padding stays zero
    again = extract_bags(recs, fx, copies=1, seed=1, max_windows=4, batch_size=4)
    np.testing.assert_array_equal(again.feats, bags.feats)


def test_no_decodable_clip(fx, tmp_path):
    (tmp_path / "bad.wav").write_bytes(b"nope")
    with pytest.raises(ScatterError, match="none of the 1 clips could be decoded"):
        extract_bags([Record(str(tmp_path / "bad.wav"), 0)], fx)


def _two_clips(tmp_path):
    rng = np.random.default_rng(2)
    t = np.arange(9000) / 16000
    paths = []
    for name, hz in (("a.wav", 1500), ("b.wav", 3000)):
        y = 0.05 * rng.normal(size=t.size) + 0.3 * np.sin(2 * np.pi * hz * t) * (t % 0.2 < 0.1)
        sf.write(tmp_path / name, y.astype(np.float32), 16000)
        paths.append(str(tmp_path / name))
    return [Record(paths[0], 1), Record(paths[1], 0)]


def _recipe(rec, i, c, *, seed, pitch_shift=0.0, time_stretch=0.0, max_windows=4):
    """Copy ``c`` of clip ``i`` as the module docstring says it is made, windowed."""
    y, _ = load(rec.path, sr=CFG.sr)
    if pitch_shift or time_stretch:
        y = warp(y, np.random.default_rng([seed, i, c, 1]), sr=CFG.sr,
                 max_semitones=pitch_shift, max_stretch=time_stretch)
    y = augment(y, np.random.default_rng([seed, i, c]), sr=CFG.sr)
    starts = window_starts(y.size, window=CFG.window, hop=CFG.hop)[:max_windows]
    return np.stack([y[s:s + CFG.window] for s in starts])


def test_without_a_warp_the_copies_are_the_plain_augmentation(fx, tmp_path):
    recs = _two_clips(tmp_path)
    plain = extract_windows(recs, CFG, copies=2, seed=3, max_windows=4)
    for i, rec in enumerate(recs):
        for c in (1, 2):
            np.testing.assert_array_equal(plain.windows[i, c], _recipe(rec, i, c, seed=3))
    bags = extract_bags(recs, fx, copies=2, seed=3, max_windows=4, batch_size=4)
    off = extract_bags(recs, fx, copies=2, seed=3, max_windows=4, batch_size=4,
                       pitch_shift=0.0, time_stretch=0.0)
    np.testing.assert_array_equal(off.feats, bags.feats)
    want = np.asarray(fx(plain.windows[0, 1]), np.float16)
    np.testing.assert_allclose(bags.feats[0, 1].astype(np.float32), want.astype(np.float32),
                               atol=5e-3, rtol=5e-3)


def test_a_warp_changes_the_augmented_copies_only_and_is_seeded(fx, tmp_path):
    recs = _two_clips(tmp_path)
    warp_args = {"pitch_shift": 2.0, "time_stretch": 0.2}
    windows = extract_windows(recs, CFG, copies=2, seed=3, max_windows=4, **warp_args)
    for i, rec in enumerate(recs):
        for c in (1, 2):
            np.testing.assert_array_equal(windows.windows[i, c],
                                          _recipe(rec, i, c, seed=3, **warp_args))
    off = extract_bags(recs, fx, copies=2, seed=3, max_windows=4, batch_size=4)
    on = extract_bags(recs, fx, copies=2, seed=3, max_windows=4, batch_size=4, **warp_args)
    assert on.feats.shape == off.feats.shape and on.feats.dtype == np.float16
    np.testing.assert_array_equal(on.feats[:, 0], off.feats[:, 0])  # clean copies untouched
    for i in range(2):
        for c in (1, 2):
            assert not np.array_equal(on.feats[i, c], off.feats[i, c])
    again = extract_bags(recs, fx, copies=2, seed=3, max_windows=4, batch_size=4, **warp_args)
    np.testing.assert_array_equal(again.feats, on.feats)
    other = extract_bags(recs, fx, copies=2, seed=4, max_windows=4, batch_size=4, **warp_args)
    assert not np.array_equal(other.feats[:, 1:], on.feats[:, 1:])


def test_warp_ranges_are_checked(fx, tmp_path):
    recs = _two_clips(tmp_path)
    with pytest.raises(ScatterError, match=r"pitch_shift must be a number in \[0, 12\)"):
        extract_bags(recs, fx, copies=1, pitch_shift=-1.0)
    with pytest.raises(ScatterError, match=r"time_stretch must be a number in \[0, 1\)"):
        extract_windows(recs, CFG, copies=1, time_stretch=1.5)
