"""Tests of data_scripts/dev_corpus_sources.py: kinds, silence, duplicates, splits, segments."""

from collections import defaultdict

import numpy as np
import pytest


@pytest.fixture(scope="module")
def S(scripts):
    return scripts("dev_corpus_sources")


@pytest.fixture
def sources(S, fake_records):
    return S.load_sources(fake_records, sr=16000)


def test_source_kind(S):
    assert S.source_kind("animals/birds") == "bird"
    assert S.source_kind("animals/mammals/bovines") == "mammal"
    assert S.source_kind("animals/amphibians") == "frog"
    assert S.source_kind("hobbies/music/string") == "music"
    assert S.source_kind("vehicles/emergency") == "engine"
    assert S.source_kind("symbols/math") == "speech"
    assert S.source_kind("animals/birdsong") == "other"  # a prefix must end at a folder
    assert S.source_kind("seasonal/halloween") == "other"


def test_load_sources_skips_silence_and_descriptions(S, sources):
    ids = {s.id for s in sources}
    assert "animals/birds/nandou" not in ids          # digital silence (manifest label)
    assert "household/quiet" not in ids               # RMS below MIN_RMS
    assert not any("_desc" in i for i in ids)
    assert "animals/birds/crow" in ids and "symbols/math/0_zh_tw" in ids
    for s in sources:
        assert s.audio.dtype == np.float32 and s.audio.ndim == 1 and s.sr == 16000
        assert np.sqrt(np.mean(s.audio.astype(np.float64) ** 2)) >= S.MIN_RMS
    assert sum(s.is_bird for s in sources) == 11
    assert {s.kind for s in sources if not s.is_bird} == {"mammal", "insect", "frog",
                                                           "household", "speech"}


def test_load_sources_resamples(S, fake_records):
    lo = S.load_sources(fake_records, sr=8000)
    hi = S.load_sources(fake_records, sr=16000)
    for a, b in zip(lo, hi):
        assert a.id == b.id
        assert abs(2 * a.audio.size - b.audio.size) <= 2


def test_groups_join_copies_speakers_and_animals(S, sources):
    group = {s.id: s.group for s in sources}
    assert group["animals/mammals/dog"] == \
        group["animals/mammals/rodents/beaver"]                       # same decoded content
    assert group["symbols/math/0_de"] == group["symbols/math/1_de"]     # same speaker
    assert group["symbols/math/0_de"] != group["symbols/math/0_fr"]
    assert group["symbols/math/0_zh_tw"] == group["symbols/math/1_zh_tw"]
    assert group["animals/birds/drake"] == group["animals/birds/duck"]  # same animal
    assert group["animals/birds/hen"] == group["animals/birds/rooster"]
    assert group["animals/birds/crow"] != group["animals/birds/lark"]


def test_assign_splits_keeps_groups_whole_and_stratifies(S, sources):
    S.assign_splits(sources, seed=3)
    split_of_group = defaultdict(set)
    for s in sources:
        assert s.split in S.SPLITS
        split_of_group[s.group].add(s.split)
    assert all(len(v) == 1 for v in split_of_group.values())
    birds = {s.group: s.split for s in sources if s.is_bird}  # 9 bird groups
    counts = {sp: sum(v == sp for v in birds.values()) for sp in S.SPLITS}
    assert counts == {"test": round(0.25 * 9), "val": 1, "train": 9 - round(0.25 * 9) - 1}
    frog = [s.split for s in sources if s.kind == "frog"]
    assert frog == ["train"]  # a kind with fewer than three groups is never held out


def test_assign_splits_is_seeded_and_order_free(S, sources):
    a = {s.id: s.split for s in S.assign_splits(sources, seed=1)}
    shuffled = list(reversed(sources))
    b = {s.id: s.split for s in S.assign_splits(shuffled, seed=1)}
    assert a == b
    others = [{s.id: s.split for s in S.assign_splits(sources, seed=k)} for k in range(2, 8)]
    assert any(o != a for o in others)


@pytest.mark.parametrize("kwargs, match", [
    ({"val": 0.5}, r"val must be a fraction in \[0, 0.5\); got 0.5"),
    ({"test": -0.1}, r"test must be a fraction in \[0, 0.5\); got -0.1"),
    ({"val": 0.4, "test": 0.4}, r"val \+ test must be below 0.75"),
])
def test_assign_splits_errors(S, sources, kwargs, match):
    with pytest.raises(ValueError, match=match):
        S.assign_splits(sources, **kwargs)


def test_load_sources_errors(S, fake_records):
    with pytest.raises(ValueError, match=r"sr must be a positive integer sample rate in Hz; got 0"):
        S.load_sources(fake_records, sr=0)
    silent = [r for r in fake_records if r["label"] == "silence"]
    with pytest.raises(ValueError, match="no usable"):
        S.load_sources(silent, sr=16000)


def test_call_segments_finds_bursts(S, rng):
    sr = 8000
    x = 1e-4 * rng.standard_normal(3 * sr)
    truth = [(0.40, 0.90), (1.50, 1.60), (2.20, 2.95)]
    t = np.arange(x.size) / sr
    for a, b in truth:
        x += np.where((t >= a) & (t < b), np.sin(2 * np.pi * 1200 * t), 0.0)
    segs = S.call_segments(x, sr=sr)
    assert segs.shape == (3, 2)
    np.testing.assert_allclose(segs, truth, atol=0.021)  # one frame (20 ms) of slack


def test_call_segments_merges_close_runs_and_drops_clicks(S):
    sr = 8000
    x = np.zeros(2 * sr)
    x[int(0.2 * sr):int(0.5 * sr)] = 1.0
    x[int(0.55 * sr):int(0.8 * sr)] = 1.0      # 50 ms gap: merged
    x[int(1.5 * sr):int(1.5 * sr) + 40] = 1.0  # 5 ms click: dropped
    segs = S.call_segments(x, sr=sr)
    assert segs.shape == (1, 2)
    assert segs[0, 0] == pytest.approx(0.2, abs=0.011)
    assert segs[0, 1] == pytest.approx(0.8, abs=0.011)
    assert S.call_segments(np.zeros(100), sr=sr).shape == (0, 2)


def test_call_segments_errors(S):
    with pytest.raises(ValueError, match=r"x must be a 1-D signal; got shape \(2, 3\)"):
        S.call_segments(np.zeros((2, 3)), sr=8000)
    with pytest.raises(ValueError, match="rel_db must be negative"):
        S.call_segments(np.zeros(10), sr=8000, rel_db=3.0)


def test_segments_power(S, rng):
    sr = 100
    x = rng.standard_normal(500)
    segs = [(0.5, 1.0), (2.0, 2.5)]
    sel = np.concatenate([x[50:100], x[200:250]])
    assert S.segments_power(x, segs, sr=sr) == pytest.approx(np.mean(sel ** 2))
    assert S.segments_power(x, np.zeros((0, 2)), sr=sr) == pytest.approx(np.mean(x ** 2))
