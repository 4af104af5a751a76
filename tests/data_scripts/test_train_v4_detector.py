"""Tests of data_scripts/train_v4_detector.py on a tiny fake corpus v4 manifest (no download)."""

import csv

import numpy as np
import pytest
import soundfile as sf

from scatter.detect.data import Record, read_labels


@pytest.fixture(scope="module")
def T(scripts):
    return scripts("train_v4_detector")


def _rec(package, name, *, split, label, kind, duration, path="", segments=(), gaps=False,
         kept=True, error=""):
    return {"package": package, "path_inside": name, "path": path, "split": split,
            "label": label, "kind": kind, "duration": duration, "segments": list(segments),
            "silent_gaps": gaps, "kept": kept, "error": error}


def test_plan_clips_cuts_splits_segments_and_orders_backgrounds_first(T):
    recs = [
        _rec("a", "song.ogg", split="train", label="bird", kind="song", duration=20.0),
        _rec("a", "rain.ogg", split="train", label="nonbird", kind="rain", duration=5.0),
        _rec("a", "talk.ogg", split="train", label="nonbird", kind="speech", duration=4.0),
        _rec("a", "maybe.ogg", split="train", label="unsure", kind="other", duration=4.0),
        _rec("a", "dup.ogg", split="train", label="bird", kind="call", duration=2.0,
             kept=False),
        _rec("b", "field.ogg", split="val", label="bird", kind="soundscape", duration=12.0,
             segments=[[0, 3, "bird", "soundscape"], [3, 5, "unsure", "soundscape"],
                       [5, 12, "nonbird", "wind"]]),
        _rec("c", "held.ogg", split="test", label="bird", kind="call", duration=3.0),
    ]
    plan = T.plan_clips(recs, clip_s=9.0, min_clip_s=1.0)
    got = [(c["split"], c["recording"], c["start"], c["end"], c["label"], c["kind"])
           for c in plan]
    assert got == [
        ("train", "a:rain.ogg", 0.0, 5.0, 0, "rain"),  # a background kind leads the rest
        ("train", "a:song.ogg", 0.0, 9.0, 1, "song"),
        ("train", "a:song.ogg", 9.0, 18.0, 1, "song"),
        ("train", "a:song.ogg", 18.0, 20.0, 1, "song"),
        ("train", "a:talk.ogg", 0.0, 4.0, 0, "speech"),
        ("val", "b:field.ogg", 5.0, 12.0, 0, "wind"),
        ("val", "b:field.ogg", 0.0, 3.0, 1, "soundscape"),
    ]
    names = [(c["split"], c["name"]) for c in plan]
    assert len(set(names)) == len(names)


def test_plan_clips_never_reads_the_test_split(T):
    recs = [_rec("c", "held.ogg", split="test", label="bird", kind="call", duration=3.0)]
    assert T.plan_clips(recs) == []


def test_background_records_are_whole_gap_free_training_ambience(T):
    recs = [
        _rec("a", "wind.ogg", split="train", label="nonbird", kind="wind", duration=5.0),
        _rec("a", "gappy.ogg", split="train", label="nonbird", kind="rain", duration=5.0,
             gaps=True),
        _rec("a", "blip.ogg", split="train", label="nonbird", kind="water", duration=0.5),
        _rec("a", "tune.ogg", split="train", label="nonbird", kind="music", duration=5.0),
        _rec("b", "wind.ogg", split="val", label="nonbird", kind="wind", duration=5.0),
        _rec("a", "bird.ogg", split="train", label="bird", kind="call", duration=5.0),
    ]
    assert [r["path_inside"] for r in T.background_records(recs)] == ["wind.ogg"]


def test_clip_weight_of_weights_hard_negatives_only(T):
    f = T.clip_weight_of({"x/frog.wav": "frog", "x/call.wav": "frog", "x/tune.wav": "music"},
                         kinds=("frog",), weight=4.0)
    assert f(Record("x/frog.wav", 0)) == 4.0
    assert f(Record("x/call.wav", 1)) == 1.0  # a bird clip is never a hard negative
    assert f(Record("x/tune.wav", 0)) == 1.0
    assert f(Record("x/unknown.wav", 0)) == 1.0
    with pytest.raises(ValueError, match="weight must be a finite number >= 0"):
        T.clip_weight_of({}, weight=-1.0)


def test_write_clips_mixes_gapped_training_clips_only(T, tmp_path):
    sr = 8000
    rng = np.random.default_rng(0)
    tone = (0.3 * np.sin(2 * np.pi * 1000 * np.arange(sr) / sr)).astype(np.float32)
    gapped = np.r_[tone, np.zeros(sr, np.float32), tone]
    wind = (0.05 * rng.standard_normal(3 * sr)).astype(np.float32)
    files = {}
    for name, y in (("gapped.wav", gapped), ("wind.wav", wind)):
        files[name] = str(tmp_path / name)
        sf.write(files[name], y, sr)
    recs = [
        _rec("a", "gapped.wav", split="train", label="bird", kind="call", duration=3.0,
             path=files["gapped.wav"], gaps=True),
        _rec("a", "wind.wav", split="train", label="nonbird", kind="wind", duration=3.0,
             path=files["wind.wav"]),
        _rec("b", "gapped.wav", split="val", label="bird", kind="call", duration=3.0,
             path=files["gapped.wav"], gaps=True),
    ]
    C = T.load_sibling("corpus_v4")
    work = tmp_path / "work"
    labels = T.write_clips(T.plan_clips(recs), work=work, seed=0,
                           backgrounds=T.background_records(recs), sr=sr)
    with open(labels, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["split"], r["kind"], r["label"], r["mixed"]) for r in rows] == [
        ("train", "wind", "0", "0"), ("train", "call", "1", "1"), ("val", "call", "1", "0")]
    out = {(r["split"], r["kind"]): sf.read(work / r["path"])[0] for r in rows}
    assert C.silent_gaps(out[("train", "call")], sr=sr) == 0.0
    assert C.silent_gaps(out[("val", "call")], sr=sr) >= 0.9
    np.testing.assert_allclose(out[("train", "wind")], wind, atol=1e-4)  # 16-bit source
    recs_read = read_labels(labels, root=work)
    assert [r.split for r in recs_read] == ["train", "train", "val"]
    again = T.write_clips(T.plan_clips(recs), work=work, seed=0,
                          backgrounds=T.background_records(recs), sr=sr)
    with open(again, newline="") as fh:
        assert list(csv.DictReader(fh)) == rows


def test_extra_training_rows_keeps_train_rows_only(T, tmp_path):
    (tmp_path / "labels.csv").write_text(
        "path,label,split,sources\n"
        "clips/train/a.wav,1,train,r1;r2\n"
        "clips/val/b.wav,0,val,r3\n"
        "/abs/c.wav,0,Train,\n"
        "clips/test/d.wav,1,test,r4\n")
    rows = T.extra_training_rows(tmp_path / "labels.csv", kind="dev")
    assert rows == [
        {"path": str((tmp_path / "clips/train/a.wav").resolve()), "label": 1, "split": "train",
         "sources": "dev:r1;dev:r2", "kind": "dev", "package": "dev", "mixed": 0},
        {"path": "/abs/c.wav", "label": 0, "split": "train", "sources": "", "kind": "dev",
         "package": "dev", "mixed": 0}]
    (tmp_path / "bad.csv").write_text("path,label\nx.wav,1\n")
    with pytest.raises(ValueError, match=r"lacks the columns \['split'\]"):
        T.extra_training_rows(tmp_path / "bad.csv")


def test_work_folder_defaults_to_the_cache_root(T, tmp_path, monkeypatch):
    monkeypatch.setenv("SYMSCATTER_CACHE_DIR", str(tmp_path / "cache"))
    assert T.work_dir() == tmp_path / "cache" / "train_v4"
    assert T.work_dir(tmp_path / "w") == tmp_path / "w"
    assert T._parser().parse_args(["--out", "m.npz"]).work is None


def test_pcen_options_change_the_features_and_their_cache_name(T):
    from scatter.detect.features import FeatureConfig

    base = FeatureConfig(sr=16000, window=2048, hop=2048, J=4, Q=(2, 1), pool=2)
    plain = T.feature_settings(base, T._parser().parse_args(["--out", "m.npz"]))
    assert plain == base and T.feature_tag(plain, base) == ""
    args = T._parser().parse_args(["--out", "m.npz", "--pcen", "--pcen-time", "0.2",
                                   "--pcen-r", "0.25"])
    on = T.feature_settings(base, args)
    assert on.pcen and on.pcen_time == 0.2 and on.pcen_r == 0.25
    assert on.pcen_alpha == base.pcen_alpha
    tag = T.feature_tag(on, base)
    assert tag.startswith("-f") and len(tag) == 10 and tag == T.feature_tag(on, base)
    assert T.feature_tag(T.feature_settings(base, T._parser().parse_args(
        ["--out", "m.npz", "--pcen"])), base) != tag
    # --no-pcen turns off the PCEN of a base that has it
    off = T.feature_settings(on, T._parser().parse_args(["--out", "m.npz", "--no-pcen"]))
    assert not off.pcen and T.feature_settings(on, T._parser().parse_args(
        ["--out", "m.npz"])) == on


def test_warp_options_reach_the_trainer_and_name_their_cache(T):
    from scatter import ScatterError
    from scatter.detect.training import TrainConfig

    base = TrainConfig(context=(-1, 0, 1))
    plain = T.train_settings(base, T._parser().parse_args(["--out", "m.npz", "--seed", "2"]))
    assert plain.pitch_shift == 0.0 and plain.time_stretch == 0.0
    assert plain.seed == 2 and plain.max_windows == 4 and plain.context == (-1, 0, 1)
    assert T.warp_tag(plain) == ""
    args = T._parser().parse_args(["--out", "m.npz", "--pitch-shift", "2",
                                   "--time-stretch", "0.15"])
    on = T.train_settings(base, args)
    assert on.pitch_shift == 2.0 and on.time_stretch == 0.15
    assert T.warp_tag(on) == "-p2-t0.15"
    assert T.warp_tag(T.train_settings(base, T._parser().parse_args(
        ["--out", "m.npz", "--pitch-shift", "1"]))) == "-p1-t0"
    with pytest.raises(ScatterError, match="pitch_shift must be a number in"):
        T.train_settings(base, T._parser().parse_args(["--out", "m.npz", "--pitch-shift",
                                                       "-1"]))


def test_a_bad_warp_option_is_a_usage_error_before_any_work(T, capsys, monkeypatch):
    monkeypatch.setattr(T, "load_sibling", lambda name: pytest.fail("read the corpus"))
    with pytest.raises(SystemExit) as exc:
        T.main(["--out", "m.npz", "--time-stretch", "1.5"])
    assert exc.value.code == 2
    assert "time_stretch must be a number in [0, 1)" in capsys.readouterr().err
