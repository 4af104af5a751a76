"""Tests of data_scripts/build_dev_corpus.py on a small fake tuxpaint cache."""

import csv
import dataclasses
import json

import numpy as np
import pytest
import soundfile as sf


@pytest.fixture(scope="module")
def B(scripts):
    return scripts("build_dev_corpus")


def small_config(B, **kw):
    return dataclasses.replace(B.CorpusConfig(), sr=16000, seconds=2.0, n_train=16, n_val=6,
                               n_test=6, **kw)


@pytest.fixture(scope="module")
def corpus(B, fake_manifest, tmp_path_factory, scripts):
    records = scripts("fetch_tuxpaint_sounds").load_manifest(fake_manifest)
    out = tmp_path_factory.mktemp("corpus")
    summary = B.build(records, out, config=small_config(B))
    return out, summary


def test_tile(B, rng):
    x = rng.standard_normal(100)
    y = B.tile(x, 60, rng, sr=1000)
    start = int(np.flatnonzero(np.isclose(x, y[0]))[0])
    np.testing.assert_array_equal(y, x[start:start + 60])  # long enough: a contiguous slice
    z = B.tile(x, 350, rng, sr=1000, fade_s=0.0)
    assert z.shape == (350,)
    # without fades, a loop of period 100 from a random phase
    np.testing.assert_allclose(z[100:], z[:-100])


def test_place_event_hits_the_snr(B, rng):
    sr = 8000
    bg = 0.05 * rng.standard_normal(2 * sr)
    t = np.arange(sr // 2) / sr
    event = np.concatenate([np.zeros(800), np.sin(2 * np.pi * 2000 * t), np.zeros(800)])
    segs = np.array([[0.1, 0.6]])
    for snr in (-5.0, 0.0, 12.5):
        mix = bg.copy()
        at = 3000
        B.place_event(mix, bg, event, segs, at=at, snr_db=snr, sr=sr)
        added = (mix - bg)[at + 800:at + 800 + sr // 2]
        noise = bg[at + 800:at + 800 + sr // 2]
        measured = 10 * np.log10(np.mean(added ** 2) / np.mean(noise ** 2))
        assert measured == pytest.approx(snr, abs=1e-6)
        np.testing.assert_array_equal(mix[:at], bg[:at])


def test_intervals(B):
    assert B.merge_intervals([(1, 2), (0, 0.5), (1.5, 3)]) == [(0.0, 0.5), (1.0, 3.0)]
    assert B.parse_calls("0.500:1.250;3.000:4.000") == [(0.5, 1.25), (3.0, 4.0)]
    assert B.parse_calls("") == []


def _read(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_build_layout_and_labels(B, corpus):
    out, summary = corpus
    rows = B.read_labels(out / "labels.csv")
    assert [r["split"] for r in rows].count("train") == 16
    assert summary["clips"] == {"train": 16, "val": 6, "test": 6}
    assert summary["positives"] == {"train": 8, "val": 3, "test": 3}
    assert list(_read(out / "labels.csv")[0]) == list(B.LABEL_FIELDS)
    for split in ("train", "val", "test"):
        sub = _read(out / f"{split}.csv")
        assert len(sub) == summary["clips"][split] and {r["split"] for r in sub} == {split}
    for r in rows:
        x, sr = sf.read(str(out / r["path"]), dtype="float32")
        assert sr == 16000 and x.shape == (32000,)
        assert np.max(np.abs(x)) <= 0.99
        assert np.all(np.isfinite(x))
        if r["label"] == 1:
            assert r["calls"] and r["snr_db"] is not None
            assert all(0 <= a < b <= 2.0 + 1e-6 for a, b in r["calls"])
        else:
            assert r["calls"] == [] and r["snr_db"] is None
    assert (out / B.MARKER).is_file()


def test_build_holds_out_whole_recordings(B, corpus):
    """No real recording (nor its group) feeds clips of two splits."""
    out, summary = corpus
    split_of_source = {r["id"]: r["split"] for r in _read(out / "sources.csv")}
    group_of_source = {r["id"]: r["group"] for r in _read(out / "sources.csv")}
    used = {"train": set(), "val": set(), "test": set()}
    for r in B.read_labels(out / "labels.csv"):
        for sid in r["sources"]:
            assert split_of_source[sid] == r["split"], (sid, r["path"])
            used[r["split"]].add(sid)
    for e in _read(out / "events.csv"):
        if e["source"]:
            split = e["path"].split("/")[1]
            assert split_of_source[e["source"]] == split
    groups = {sp: {group_of_source[s] for s in ids} for sp, ids in used.items()}
    assert not groups["train"] & (groups["val"] | groups["test"])
    assert not groups["val"] & groups["test"]
    assert not used["train"] & (used["val"] | used["test"])
    held = summary["bird_sources"]
    assert held["test"] and not set(held["test"]) & set(held["train"])
    birds_used = {s for s in used["train"] if s.startswith("animals/birds/")}
    assert birds_used and birds_used <= set(held["train"])


def test_build_events_are_consistent(B, corpus):
    out, _ = corpus
    events = _read(out / "events.csv")
    rows = {r["path"]: r for r in B.read_labels(out / "labels.csv")}
    assert {e["path"] for e in events} <= set(rows)
    for path, r in rows.items():
        bird = [(float(e["onset_s"]), float(e["offset_s"])) for e in events
                if e["path"] == path and e["label"] == "1"]
        if r["label"] == 1:
            merged = B.merge_intervals(bird)
            np.testing.assert_allclose(np.ravel(merged), np.ravel(r["calls"]), atol=1e-3)
        else:
            assert not bird
    kinds = {e["kind"] for e in events}
    assert any(k.startswith("synthetic-") for k in kinds) and "bird" in kinds
    assert kinds & {"mammal", "insect", "household", "speech", "frog"}


def test_build_is_reproducible_and_cached(B, corpus, fake_records, tmp_path):
    out, summary = corpus
    again = B.build(fake_records, tmp_path / "again", config=small_config(B))
    assert (tmp_path / "again" / "labels.csv").read_bytes() == (out / "labels.csv").read_bytes()
    for name in ("clips/train/train_00000.wav", "clips/test/test_00005.wav"):
        assert (tmp_path / "again" / name).read_bytes() == (out / name).read_bytes()
    assert again["clips"] == summary["clips"]
    stamp = (tmp_path / "again" / "labels.csv").stat().st_mtime_ns
    assert B.build(fake_records, tmp_path / "again", config=small_config(B)) == again
    assert (tmp_path / "again" / "labels.csv").stat().st_mtime_ns == stamp
    other = B.build(fake_records, tmp_path / "again", config=small_config(B, seed=1))
    assert other["config"]["seed"] == 1
    assert (tmp_path / "again" / "labels.csv").read_bytes() != (out / "labels.csv").read_bytes()


def test_build_refuses_foreign_folder(B, fake_records, tmp_path):
    (tmp_path / "mine.txt").write_text("precious")
    with pytest.raises(ValueError, match="is not a corpus built by this script"):
        B.build(fake_records, tmp_path, config=small_config(B))
    assert (tmp_path / "mine.txt").read_text() == "precious"


@pytest.mark.parametrize("kw, match", [
    ({"n_train": 0}, "n_train must be an integer of at least 1; got 0"),
    ({"sr": 4000}, "sr must be at least 8000 Hz; got 4000"),
    ({"seconds": 0.1}, r"seconds must be in \[0.5, 600\]; got 0.1"),
    ({"snr_db": (10.0, 0.0)}, r"snr_db must be a \(low, high\) pair with low <= high"),
    ({"distractor_prob": 1.5}, r"distractor_prob must be a probability in \[0, 1\]; got 1.5"),
    ({"alone_level_dbfs": (-5.0, -20.0)},
     r"alone_level_dbfs must be a \(low, high\) pair with low <= high"),
])
def test_config_errors(B, fake_records, tmp_path, kw, match):
    cfg = dataclasses.replace(small_config(B), **kw)
    with pytest.raises(ValueError, match=match):
        B.build(fake_records, tmp_path / "x", config=cfg)


def test_main_json(B, fake_manifest, tmp_path, capsys):
    rc = B.main(["--manifest", str(fake_manifest), "--out", str(tmp_path / "c"), "--n-train", "4",
                 "--n-val", "2", "--n-test", "2", "--seconds", "1", "--sr", "16000", "--quiet",
                 "--json"])
    assert rc == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert summary["clips"] == {"train": 4, "val": 2, "test": 2}
    assert captured.err == ""  # --quiet: no progress bars
    assert B.main(["--manifest", str(fake_manifest), "--out", str(tmp_path / "d"),
                   "--n-train", "0", "--quiet"]) == 2
    assert "n_train must be an integer of at least 1" in capsys.readouterr().err


def test_silent_backgrounds_and_synthetic_negatives(B, fake_manifest, scripts):
    """Digital-silence clips without events are exact zeros; synthetic hard negatives
    are used for non-bird events when asked, and never in positives as birds."""
    S = scripts("dev_corpus_sources")
    records = scripts("fetch_tuxpaint_sounds").load_manifest(fake_manifest)
    sources = S.assign_splits(S.load_sources(records, sr=16000))
    pool = B._SplitPool([s for s in sources if s.split == "train"], 16000)
    cfg = small_config(B, silent_background_prob=1.0, quiet_background_prob=0.0,
                       synthetic_distractor_prob=1.0, synthetic_bird_prob=0.0)
    kinds, empty = set(), 0
    for i in range(12):
        rng = np.random.default_rng(i)
        audio, info = B.make_clip(rng, cfg, pool, positive=(i % 2 == 0))
        assert info["background"] == "silence"
        assert audio.dtype == np.float32 and np.all(np.isfinite(audio))
        for e in info["events"]:
            kinds.add((e["label"], e["kind"]))
        if not info["events"]:  # a negative without events: digital silence throughout
            assert np.all(audio == 0.0)
            empty += 1
    assert empty >= 1
    D = scripts("dev_corpus_distractors")
    assert {k for lab, k in kinds if lab == 0} <= {f"synthetic-{d}" for d in D.DISTRACTORS}
    assert {k for lab, k in kinds if lab == 1} == {"bird"}  # real birds only (prob 0)
    with pytest.raises(ValueError, match="quiet_background_prob \\+ silent_background_prob"):
        small_config(B, silent_background_prob=0.6, quiet_background_prob=0.6).check()


def test_alone_level_sets_the_call_power_over_silence(B, fake_manifest, scripts):
    """Over digital silence the sounds are placed at a call power drawn in alone_level_dbfs."""
    S = scripts("dev_corpus_sources")
    records = scripts("fetch_tuxpaint_sounds").load_manifest(fake_manifest)
    sources = S.assign_splits(S.load_sources(records, sr=16000))
    pool = B._SplitPool([s for s in sources if s.split == "train"], 16000)
    for lo, hi in ((-45.0, -40.0), (-8.0, -6.0)):
        cfg = small_config(B, silent_background_prob=1.0, quiet_background_prob=0.0,
                           alone_level_dbfs=(lo, hi), distractor_prob=0.0,
                           synthetic_bird_prob=0.0, max_bird_events=1)
        for i in range(4):
            audio, info = B.make_clip(np.random.default_rng(i), cfg, pool, positive=True)
            assert info["background"] == "silence" and len(info["sources"]) == 1
            # the placed event is the recording (speed-changed) scaled by one gain: its
            # call power, measured on the mix over its calls, lies in the asked range
            segs = np.array([[ev["onset_s"], ev["offset_s"]] for ev in info["events"]])
            power = S.segments_power(audio.astype(np.float64), segs, sr=16000)
            level = 10 * np.log10(power)
            assert lo - 0.5 <= level <= hi + 0.5, (level, info["sources"])


def test_old_summaries_match_the_legacy_alone_level(B, fake_records, tmp_path):
    """A corpus built before alone_level_dbfs existed is still found up to date."""
    cfg = small_config(B, alone_level_dbfs=(-35.0, -10.0))
    out = tmp_path / "old"
    B.build(fake_records, out, config=cfg)
    path = out / "summary.json"
    old = json.loads(path.read_text())
    legacy = dict(old, config={k: v for k, v in old["config"].items()
                               if k != "alone_level_dbfs"})
    assert legacy["config"] != old["config"]
    path.write_text(json.dumps(legacy))
    stamp = (out / "labels.csv").stat().st_mtime_ns
    assert B.build(fake_records, out, config=cfg) == legacy
    assert (out / "labels.csv").stat().st_mtime_ns == stamp  # not rebuilt
    assert B.LEGACY_CONFIG["alone_level_dbfs"] == [-35.0, -10.0]
    # the current defaults are other settings: built again
    assert B.build(fake_records, out, config=small_config(B))["config"]["alone_level_dbfs"] == [
        -45.0, -3.0]
    assert (out / "labels.csv").stat().st_mtime_ns != stamp


def test_main_alone_options(B, fake_manifest, tmp_path, capsys):
    rc = B.main(["--manifest", str(fake_manifest), "--out", str(tmp_path / "c"), "--n-train", "4",
                 "--n-val", "2", "--n-test", "2", "--seconds", "1", "--sr", "16000", "--quiet",
                 "--json", "--silent-prob", "0.5", "--alone-level", "-40", "-3"])
    assert rc == 0
    cfg = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["config"]
    assert cfg["silent_background_prob"] == 0.5 and cfg["alone_level_dbfs"] == [-40.0, -3.0]
