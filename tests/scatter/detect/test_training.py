"""Tests of scatter.detect.training: a tiny separable corpus is learnt (validation AUC far above
chance, falling loss), runs are reproducible, a resumed run ends where an uninterrupted one
does, and bad input is refused."""

import dataclasses
import hashlib
import json
import os
import shutil

import numpy as np
import pytest

from scatter import ScatterError
from scatter.detect import load_model
from scatter.detect.bags import bags_fingerprint, load_bags
from scatter.detect.features import LEGACY_DEFAULTS, FeatureConfig, FeatureExtractor
from scatter.detect.io import read_model
from scatter.detect.training import TrainConfig, background_noises, fit, train

CFG = FeatureConfig(sr=16000, window=2048, hop=2048, J=4, Q=(2, 1), pool=2)
TCFG = TrainConfig(epochs=3, batch_size=4, copies=1, hidden=(6,), pieces=2, max_windows=3,
                   patience=10, dropout=0.1, learning_rate=1e-2, weight_decay=0.1,
                   context=(-1, 0, 1))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, separable_corpus):
    # 16 training and 16 validation clips, half of each with calls 20 dB above the background
    d = tmp_path_factory.mktemp("corpus")
    labels = separable_corpus(d, n_train=16, n_val=16, seconds=0.35, seed=1)
    return str(d), labels


@pytest.fixture(scope="module")
def full_run(corpus, tmp_path_factory):
    data, labels = corpus
    out = str(tmp_path_factory.mktemp("full") / "m.npz")
    summary = train(data, labels=labels, out=out, features=CFG, config=TCFG, quiet=True,
                    provenance={"description": "test"}, keep_cache=True)
    return out, summary


def test_training_learns_and_writes_a_usable_model(full_run, learnt_auc):
    out, summary = full_run
    history = summary["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3]
    # learnt: the loss falls, and the best validation AUC (8 birds, 8 without) is one that a
    # scorer without information reaches with probability below 1 %
    assert history[-1]["loss"] < history[0]["loss"]
    assert summary["best"]["val_auc"] == max(h["val_auc"] for h in history)
    assert summary["best"]["val_auc"] >= learnt_auc(8, 8)
    assert summary["n_train"] == 16 and summary["n_val"] == 16 and not summary["skipped"]
    params, meta = read_model(out)
    assert meta["training"]["provenance"] == {"description": "test"}
    assert meta["training"]["n_train_positive"] == 8
    assert meta["training"]["validation_split"] == "labels CSV split column"
    assert meta["metrics"]["val_auc"] == summary["best"]["val_auc"]
    assert meta["model"]["threshold"] == summary["threshold"]
    assert meta["features"] == CFG.to_dict()
    assert meta["model"]["context"] == [-1, 0, 1]
    # fixed entries are never updated (weight decay would shrink them): exact values kept
    np.testing.assert_array_equal(params["context"], [-1.0, 0.0, 1.0])
    assert params["w0"].shape[0] == 3 * params["mean"].shape[0]
    # the checkpoint: every Variable of the trainer (symbolic.save) and a JSON sidecar
    base = os.path.splitext(out)[0]
    with np.load(base + ".ckpt.npz") as ckpt:
        names = set(ckpt.files)
        assert {"standardize/mean", "maxaffine0/W", "readout/W", "window_logit/beta_raw",
                "rng_key", "trainer/epoch", "best/w0"} <= names
        assert any(n.startswith("adamw/") for n in names)
        assert int(ckpt["trainer/epoch"]) == 3
        # the statistics never move: the saved model's and the last step's are the same
        np.testing.assert_array_equal(ckpt["standardize/mean"], params["mean"])
        np.testing.assert_array_equal(ckpt["standardize/std"], params["std"])
    with open(base + ".ckpt.json") as fh:
        assert json.load(fh)["history"] == history
    det = load_model(out)
    assert det.threshold == summary["threshold"]


def test_resume_matches_an_uninterrupted_run(corpus, full_run, tmp_path):
    """Also: clip weights of 1 give the unweighted run (both parts of the resumed run are
    weighted, the full run is not), which spares test_clip_weights a run of its own."""
    data, labels = corpus
    out = str(tmp_path / "m.npz")
    cache = os.path.splitext(full_run[0])[0] + ".features.npz"  # same clips and settings
    first = train(data, labels=labels, out=out, features=CFG, quiet=True, cache=cache,
                  config=dataclasses.replace(TCFG, epochs=2), keep_cache=True,
                  clip_weight=lambda r: 1.0)
    assert len(first["history"]) == 2
    assert first["history"] == full_run[1]["history"][:2]
    second = train(data, labels=labels, out=out, features=CFG, config=TCFG, quiet=True,
                   resume=True, cache=cache, keep_cache=True, clip_weight=lambda r: 1.0)
    assert second["history"] == full_run[1]["history"]
    a, _ = read_model(out)
    b, _ = read_model(full_run[0])
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def _finish_full_run_with(config, corpus, full_run, out):
    """``train`` resumed from the full run's last checkpoint (its classifier epochs all done)
    with other settings after the classifier's: only the steps after the classifier run."""
    data, labels = corpus
    base = os.path.splitext(full_run[0])[0]
    for ext in (".ckpt.npz", ".ckpt.json"):
        shutil.copyfile(base + ext, os.path.splitext(out)[0] + ext)
    return train(data, labels=labels, out=out, features=CFG, config=config, quiet=True,
                 resume=True, cache=base + ".features.npz", keep_cache=True)


@pytest.mark.slow
def test_filter_epochs_keep_a_start_they_cannot_beat(corpus, full_run, tmp_path):
    """The classifier separates the validation clips (AUC 1), and fine-tuning keeps a later
    epoch only when it does strictly better: the model keeps the designed filters and the
    trained classifier, though the filters moved."""
    out = str(tmp_path / "m.npz")
    cfg = dataclasses.replace(TCFG, filter_epochs=1, filter_learning_rate=0.5)
    summary = _finish_full_run_with(cfg, corpus, full_run, out)
    params, meta = read_model(out)
    ft = meta["metrics"]["finetune"]
    assert [h["epoch"] for h in ft["history"]] == [0, 1]
    # epoch 0 of the fine-tuning is the classifier as trained: its validation AUC
    assert ft["history"][0]["val_auc"] == meta["metrics"]["val_auc_before_finetune"] == 1.0
    assert ft["history"][1]["max_change_xi1"] > 0  # the filters did move
    assert ft["best_epoch"] == 0
    assert meta["metrics"]["val_auc"] == summary["best"]["val_auc"] == 1.0
    assert meta["training"]["config"]["filter_epochs"] == 1
    assert "xi1" not in meta["features"] and load_model(out).config.xi1 == ()
    b, _ = read_model(full_run[0])
    assert sorted(params) == sorted(b)
    for k in params:
        np.testing.assert_array_equal(params[k], b[k])


@pytest.mark.slow
def test_filter_epochs_save_what_finetuning_kept(corpus, full_run, tmp_path, monkeypatch):
    """When fine-tuning keeps a later epoch, the model holds its filters, its classifier, its
    threshold and its validation AUC (fine-tuning itself is stood in for: its learning is
    tested in test_finetune.py)."""
    import scatter.detect.finetune as FT

    trained, _ = read_model(full_run[0])
    start = FeatureExtractor(CFG).filter_params()
    moved = dataclasses.replace(CFG, xi1=np.asarray(start["xi1"]) * 1.1,
                                sigma1=np.asarray(start["sigma1"]) * 0.9)
    kept = dict(trained, b_out=trained["b_out"] + 1.0)
    seen = {}

    def finetune(params, features, train_windows, val_windows, *, config, quiet):
        seen.update(features=features, params=params, config=config)
        history = [{"epoch": 0, "loss": None, "val_auc": 0.5},
                   {"epoch": 1, "loss": 0.25, "val_auc": 0.75}]
        return {"features": moved, "params": kept, "threshold": 0.375,
                "val_balanced_accuracy": 0.625, "history": history, "best_epoch": 1}

    monkeypatch.setattr(FT, "finetune", finetune)
    out = str(tmp_path / "m.npz")
    cfg = dataclasses.replace(TCFG, filter_epochs=1, filter_learning_rate=0.5)
    _finish_full_run_with(cfg, corpus, full_run, out)
    # fine-tuning started from the trained classifier on the designed filters
    assert seen["features"] == CFG and seen["config"].filter_learning_rate == 0.5
    for k in trained:
        np.testing.assert_array_equal(np.asarray(seen["params"][k]), trained[k])
    params, meta = read_model(out)
    np.testing.assert_array_equal(params["b_out"], trained["b_out"] + 1.0)
    assert meta["features"] == moved.to_dict() and len(meta["features"]["xi1"]) == len(
        start["xi1"])
    assert meta["model"]["threshold"] == 0.375
    assert meta["metrics"]["val_auc"] == 0.75 and meta["metrics"]["finetune"]["best_epoch"] == 1
    det = load_model(out)
    assert det.config == moved
    np.testing.assert_allclose(det.features.filter_params()["xi1"], moved.xi1, rtol=1e-6)


def test_clip_weights(corpus, full_run, tmp_path):
    data, labels = corpus
    cache = os.path.splitext(full_run[0])[0] + ".features.npz"  # same clips and settings
    # weight 1 is the unweighted run: test_resume_matches_an_uninterrupted_run
    heavy = train(data, labels=labels, out=str(tmp_path / "b.npz"), features=CFG,
                  config=TCFG, quiet=True, cache=cache, keep_cache=True,
                  clip_weight=lambda r: 5.0 if r.label == 0 else 1.0)
    assert [h["loss"] for h in heavy["history"]] != [h["loss"] for h in full_run[1]["history"]]
    bags = load_bags(cache, bags_fingerprint(*_split(data, labels), CFG, TCFG))
    with pytest.raises(ScatterError, match=r"weights must be one finite number >= 0 per "
                                           r"training clip, shape \(16,\); got shape \(3,\)"):
        fit(bags["train"], bags["val"], n_features=bags["train"].feats.shape[3], config=TCFG,
            weights=[1.0, 1.0, 1.0])


def test_resume_refuses_a_checkpoint_it_cannot_continue(corpus, full_run, tmp_path):
    """A checkpoint without its sidecar (an older trainer's), or of another network, is
    refused with a message saying what to do; nothing is trained."""
    data, labels = corpus
    cache = os.path.splitext(full_run[0])[0] + ".features.npz"
    bags = load_bags(cache, bags_fingerprint(*_split(data, labels), CFG, TCFG))
    ckpt = str(tmp_path / "m.ckpt.npz")
    np.savez(ckpt, p_w0=np.zeros(3))
    n_features = bags["train"].feats.shape[3]
    with pytest.raises(ScatterError, match="has no sidecar .* delete the checkpoint"):
        fit(bags["train"], bags["val"], n_features=n_features, config=TCFG,
            checkpoint=ckpt, resume=True)
    base = os.path.splitext(full_run[0])[0]
    shutil.copyfile(base + ".ckpt.json", str(tmp_path / "m.ckpt.json"))
    shutil.copyfile(base + ".ckpt.npz", ckpt)
    with pytest.raises(ScatterError, match="does not fit this run"):
        fit(bags["train"], bags["val"], n_features=n_features, checkpoint=ckpt, resume=True,
            config=dataclasses.replace(TCFG, hidden=(5,)))


def _split(data, labels):
    from scatter.detect.data import read_labels, split_records

    train_recs, val_recs = split_records(read_labels(labels, root=data))
    return (train_recs + val_recs,)


def test_config_errors():
    with pytest.raises(ScatterError, match="epochs must be a positive integer"):
        TrainConfig(epochs=0)
    with pytest.raises(ScatterError, match="dropout must be in"):
        TrainConfig(dropout=1.0)
    with pytest.raises(ScatterError, match="val_fraction"):
        TrainConfig(val_fraction=0.0)
    with pytest.raises(ScatterError, match="copies must be"):
        TrainConfig(copies=-1)
    with pytest.raises(ScatterError, match="filter_epochs must be a non-negative integer; "
                                           "got -1"):
        TrainConfig(filter_epochs=-1)
    with pytest.raises(ScatterError, match="context must be distinct frame offsets"):
        TrainConfig(context=(1, 1))
    with pytest.raises(ScatterError, match=r"pitch_shift must be a number in \[0, 12\) "
                                           r"\(0: off\); got -1.0"):
        TrainConfig(pitch_shift=-1.0)
    with pytest.raises(ScatterError, match=r"time_stretch must be a number in \[0, 1\)"):
        TrainConfig(time_stretch=1.0)


def test_warp_settings_are_recorded_only_when_on(tmp_path):
    """Without a warp, the sidecar's settings and the feature cache's key are what they were
    before the warp existed; with one, both say so."""
    from scatter.detect.data import Record

    old = dataclasses.asdict(TCFG) | {"hidden": list(TCFG.hidden),
                                      "context": list(TCFG.context)}
    del old["pitch_shift"], old["time_stretch"]
    assert TCFG.to_dict() == old
    assert TrainConfig.from_dict(old) == TCFG
    on = dataclasses.replace(TCFG, pitch_shift=2.0, time_stretch=0.1)
    assert on.to_dict() == old | {"pitch_shift": 2.0, "time_stretch": 0.1}
    assert TrainConfig.from_dict(on.to_dict()) == on

    clip = tmp_path / "a.wav"
    clip.write_bytes(b"x")
    recs = [Record(path=str(clip), label=1)]
    st = os.stat(clip)
    h = hashlib.sha256()  # the key of a cache written before the warp existed
    h.update(json.dumps({k: v for k, v in CFG.to_dict().items()
                         if not (k in LEGACY_DEFAULTS and v == LEGACY_DEFAULTS[k])},
                        sort_keys=True).encode())
    h.update(json.dumps([TCFG.seed, TCFG.copies, TCFG.max_windows, "end"]).encode())
    h.update(json.dumps([str(clip), 1, [st.st_size, st.st_mtime_ns]]).encode())
    assert bags_fingerprint(recs, CFG, TCFG) == h.hexdigest()
    prints = {bags_fingerprint(recs, CFG, c) for c in (
        TCFG, on, dataclasses.replace(TCFG, pitch_shift=2.0),
        dataclasses.replace(TCFG, time_stretch=0.1))}
    assert len(prints) == 4


def test_training_with_a_warp_records_it(corpus, tmp_path):
    data, labels = corpus
    config = dataclasses.replace(TCFG, epochs=1, pitch_shift=1.0, time_stretch=0.1)
    summary = train(data, labels=labels, out=str(tmp_path / "w.npz"), features=CFG,
                    config=config, quiet=True)
    _, meta = read_model(summary["out"])
    assert meta["training"]["config"]["pitch_shift"] == 1.0
    assert meta["training"]["config"]["time_stretch"] == 0.1
    assert meta["training"]["augmentations"][:2] == ["pitch_shift", "time_stretch"]


def test_input_errors(corpus, tmp_path):
    data, labels = corpus
    with pytest.raises(ScatterError, match="data folder"):
        train(str(tmp_path / "nope"), labels=labels, out=str(tmp_path / "m.npz"))
    with pytest.raises(ScatterError, match="out must end with .npz"):
        train(data, labels=labels, out=str(tmp_path / "m.bin"))
    with pytest.raises(ScatterError, match="folder does not exist"):
        train(data, labels=labels, out=str(tmp_path / "x" / "m.npz"))
    one_class = tmp_path / "one.csv"
    with open(labels) as fh:
        rows = [r for r in fh.read().splitlines() if not r.split(",")[1] == "0"]
    one_class.write_text("\n".join(rows) + "\n")
    with pytest.raises(ScatterError, match="must hold both labels"):
        train(data, labels=str(one_class), out=str(tmp_path / "m.npz"), features=CFG)
    json.dumps(TCFG.__dict__)  # settings are JSON-ready (stored in the sidecar)


def test_feature_cache_fingerprint_of_settings_older_than_a_field(tmp_path):
    from scatter.detect.data import Record

    clip = tmp_path / "a.wav"
    clip.write_bytes(b"x")
    recs = [Record(path=str(clip), label=1)]
    old = dataclasses.replace(CFG, noise_floor=0.0, subsampling="kymatio")
    # the fingerprint a cache got before noise_floor, subsampling, dither, top_db and pcen
    # existed (to_dict had none of these keys then)
    st = os.stat(clip)
    h = hashlib.sha256()
    h.update(json.dumps({k: v for k, v in old.to_dict().items()
                         if k not in ("noise_floor", "subsampling", "dither", "top_db", "pcen")},
                        sort_keys=True).encode())
    h.update(json.dumps([TCFG.seed, TCFG.copies, TCFG.max_windows]).encode())
    h.update(json.dumps([str(clip), 1, [st.st_size, st.st_mtime_ns]]).encode())
    padded = dataclasses.replace(TCFG, last_window="pad")  # the framing before the setting
    assert bags_fingerprint(recs, old, padded) == h.hexdigest()
    assert bags_fingerprint(recs, old, dataclasses.replace(TCFG, last_window="end")) != \
        h.hexdigest()
    # any other value of a new field is a different cache
    prints = {bags_fingerprint(recs, c, TCFG) for c in (
        old, dataclasses.replace(old, noise_floor=0.02),
        dataclasses.replace(old, subsampling="coarse"), dataclasses.replace(old, dither=1e-4),
        dataclasses.replace(old, top_db=60.0), dataclasses.replace(old, pcen=True))}
    assert len(prints) == 6


def test_background_noises_are_the_first_bird_free_clips(tmp_path):
    import soundfile as sf

    from scatter.detect.data import Record

    rng = np.random.default_rng(0)
    recs = []
    for i, (label, kind) in enumerate([(0, "noise"), (1, "noise"), (0, "silent"),
                                       (0, "noise"), (0, "broken"), (0, "noise")]):
        path = tmp_path / f"c{i}.wav"
        if kind == "broken":
            path.write_bytes(b"not audio")
        else:
            x = 0.1 * rng.standard_normal(800) if kind == "noise" else np.zeros(800)
            sf.write(str(path), x.astype(np.float32), 8000)
        recs.append(Record(path=str(path), label=label))
    got = background_noises(recs, sr=8000, limit=4)
    # the first 4 bird-free records are c0, c2, c3, c4: silent c2 and undecodable c4 are left out
    assert len(got) == 2
    for y, i in zip(got, (0, 3)):
        want, _ = sf.read(str(tmp_path / f"c{i}.wav"), dtype="float32")
        np.testing.assert_allclose(y, want, atol=1e-4)
    assert background_noises(recs[1:2], sr=8000) == []


def test_learnt_auc_is_the_exact_one_percent_tail_of_chance(learnt_auc):
    """The bound the learning tests use: the smallest AUC whose one-sided Mann-Whitney
    p-value (scipy's exact test) is at most 1 %."""
    from scipy.stats import mannwhitneyu

    def p_value(u, n):  # n positives, n negatives, positives outranking u pairs in all
        beaten = [n] * (u // n) + [u % n] + [0] * n
        pos = [b - 0.5 for b in beaten[:n]]
        return mannwhitneyu(pos, list(range(n)), alternative="greater", method="exact").pvalue

    for n in (6, 8):
        u = round(learnt_auc(n, n) * n * n)
        assert p_value(u, n) <= 0.01 < p_value(u - 1, n)
    assert learnt_auc(6, 6) == 33 / 36 and learnt_auc(8, 8) == 55 / 64
    with pytest.raises(ValueError, match="use more clips"):
        learnt_auc(2, 2)
