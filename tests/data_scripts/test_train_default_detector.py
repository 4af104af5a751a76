"""Tests of data_scripts/train_default_detector.py: the validation ablation and its table."""

import json

import numpy as np
import pytest

from scatter.detect.features import FeatureConfig
from scatter.detect.synth import write_synthetic_corpus
from scatter.detect.training import TrainConfig


@pytest.fixture(scope="module")
def T(scripts):
    return scripts("train_default_detector")


def _separable_corpus(folder, *, n_train, n_val, seconds, sr=16000, seed=0):
    """A corpus a tiny classifier separates (as tests/scatter/detect/conftest.py writes):
    even clips hold synthetic calls 20 dB above a white background at -30 dBFS, odd clips
    the background alone; the first ``n_train`` clips are the training split."""
    import csv

    import soundfile as sf

    from scatter.detect.synth import make_clip

    (folder / "clips").mkdir(exist_ok=True)
    rows = []
    for i in range(n_train + n_val):
        y = make_clip(np.random.default_rng([seed, i]), sr=sr, seconds=seconds,
                      bird=i % 2 == 0, snr_db=20.0, background_kind="white", level_db=-30.0)
        sf.write(folder / "clips" / f"clip_{i:03d}.wav", y, sr, subtype="FLOAT")
        rows.append({"path": f"clips/clip_{i:03d}.wav", "label": int(i % 2 == 0),
                     "split": "train" if i < n_train else "val", "sources": f"sep:{seed}:{i}"})
    with open(folder / "labels.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


@pytest.mark.slow
def test_ablation_rows_and_table(T, tmp_path, monkeypatch):
    # 8 training clips, 12 validation clips (6 birds, 6 without)
    _separable_corpus(tmp_path, n_train=8, n_val=12, seconds=0.3, seed=2)
    fcfg = FeatureConfig(sr=16000, window=2048, hop=2048, J=4, Q=(2, 1), pool=2)
    tcfg = TrainConfig(epochs=10, batch_size=4, copies=1, hidden=(4,), pieces=2, max_windows=3,
                       patience=10, learning_rate=3e-2)
    histories = []

    def fit(*args, **kwargs):  # the script's fit, recording each run's history
        res = real_fit(*args, **kwargs)
        histories.append(res["history"])
        return res

    real_fit = T.fit
    monkeypatch.setattr(T, "fit", fit)
    cache = tmp_path / "cache"
    cache.mkdir()
    rows = T.ablation(tmp_path, fcfg, tcfg, n_train=8, seeds=(0, 1), cache_dir=cache)
    names = [r["variant"] for r in rows]
    assert names[0].startswith("full: orders 1+2, Q=(2, 1), sure mask")
    assert "no augmentation" in names
    # one feature cache per feature setting (full and no-augmentation share one)
    assert len(list(cache.glob("ablation-*.npz"))) == 3
    assert "no thresholding mask" in names and "order 1 only" in names
    by = {r["variant"]: r for r in rows}
    assert by["no thresholding mask"]["features"]["mask"] == "none"
    assert by["order 1 only"]["features"]["max_order"] == 1
    # every variant and seed learnt: the loss fell, and the best validation AUC is one that a
    # scorer without information reaches with probability below 1 % on 6 + 6 clips (33/36:
    # U >= 33 in 7 of the C(12, 6) = 924 orderings, tests/scatter/detect/conftest.py)
    assert len(histories) == 2 * len(rows)
    for history in histories:
        assert history[-1]["loss"] < history[0]["loss"]
    for r in rows:
        assert r["n_train"] == 8 and r["n_val"] == 12 and len(r["val_auc_per_seed"]) == 2
        assert r["val_auc"] == pytest.approx(np.mean(r["val_auc_per_seed"]), abs=1e-4)
        assert min(r["val_auc_per_seed"]) >= round(33 / 36, 4), r
        json.dumps(r)
    table = T.format_table(rows).splitlines()
    assert len(table) == len(rows) + 1 and "val AUC" in table[0]
    assert table[1].split()[-3] == "+0.0000"  # the first row is the reference


@pytest.mark.slow
def test_ablation_variants_subset_reuses_a_training_cache(T, tmp_path):
    # "full" only, with classifier seeds, on the features a training run left behind
    write_synthetic_corpus(tmp_path, n_clips=16, seconds=0.3, sr=16000, seed=3)
    fcfg = FeatureConfig(sr=16000, window=2048, hop=2048, J=4, Q=(2, 1), pool=2,
                         noise_floor=0.05, subsampling="coarse")
    tcfg = TrainConfig(epochs=1, batch_size=4, copies=1, hidden=(4,), pieces=2, max_windows=3,
                       patience=5, learning_rate=1e-2)
    cache = tmp_path / "cache"
    cache.mkdir()
    rows = T.ablation(tmp_path, fcfg, tcfg, n_train=10_000, seeds=(2,), cache_dir=cache,
                      variants=("full",))
    assert len(rows) == 1 and rows[0]["variant"].startswith("full: orders 1+2")
    assert rows[0]["features"]["subsampling"] == "coarse"
    assert rows[0]["features"]["noise_floor"] == 0.05
    made = list(cache.glob("ablation-*.npz"))
    assert len(made) == 1
    made[0].rename(cache / "features.npz")  # as a training run with --keep-cache leaves it
    again = T.ablation(tmp_path, fcfg, tcfg, n_train=10_000, seeds=(2,), cache_dir=cache,
                       variants=("full",))
    assert again[0]["val_auc_per_seed"] == rows[0]["val_auc_per_seed"]
    assert not list(cache.glob("ablation-*.npz"))  # nothing extracted again
    with pytest.raises(ValueError, match=r"variants must be among .*; got \['colour'\]"):
        T.ablation(tmp_path, fcfg, tcfg, n_train=8, variants=("colour",))


def test_defaults_are_the_shipped_models_settings(T):
    """Run with no arguments, the script trains with the settings the shipped model records,
    on corpus v4 with the hard negatives the sidecar names."""
    from pathlib import Path

    shipped = json.loads((Path(T.REPO) / "scatter" / "models" / "default.json").read_text())
    args, features, config = T.settings([])
    assert features == FeatureConfig.from_dict(shipped["features"])
    assert features.dither == 2.0**-15 and features.top_db == 40.0 and features.pcen
    assert config == TrainConfig.from_dict(shipped["training"]["config"])
    assert config.last_window == "end" and config.context == (-2, -1, 0, 1, 2)
    provenance = shipped["training"]["provenance"]
    assert provenance["corpus"]["kind"] == "corpus-v4"
    assert provenance["hard_negatives"] == {"kinds": ["insect", "frog", "speech"],
                                            "weight": args.hard_negative_weight}
    assert not args.dev_corpus and args.hard_negative_kinds is None
    _, changed, _ = T.settings(["--top-db", "0", "--dither", "0", "--no-pcen"])
    assert changed.top_db == 0.0 and changed.dither == 0.0 and not changed.pcen


def test_shipped_sidecar_holds_no_path_of_the_training_machine(T):
    """The sidecar names packages and settings, never a folder of the machine that trained it."""
    from pathlib import Path

    text = (Path(T.REPO) / "scatter" / "models" / "default.json").read_text()
    for marker in ("/root", "/home/", "/tmp/", "/work/", "\\Users\\", "C:\\"):
        assert marker not in text, marker


def test_hard_negative_weight_by_source_kind(T, tmp_path):
    from scatter.detect.data import Record

    (tmp_path / "sources.csv").write_text(
        "id,kind,group,split,seconds\n"
        "animals/mammals/dog,mammal,animals/mammals/dog,train,1.0\n"
        "animals/birds/owl,bird,animals/birds/owl,train,1.0\n"
        "music/piano,music,music/piano,train,1.0\n")
    w = T.hard_negative_weight(tmp_path, ["mammal"], 3.0)
    assert w(Record("a.wav", 0, sources=("animals/mammals/dog",))) == 3.0
    assert w(Record("b.wav", 0, sources=("music/piano",))) == 1.0
    assert w(Record("c.wav", 0, sources=())) == 1.0  # synthetic events only
    # a clip with a bird is a positive, whatever else it holds
    assert w(Record("d.wav", 1, sources=("animals/birds/owl", "animals/mammals/dog"))) == 1.0
    with pytest.raises(ValueError, match=r"hard-negative kinds \['whale'\] are not in the "
                                         r"corpus; it has \['bird', 'mammal', 'music'\]"):
        T.hard_negative_weight(tmp_path, ["whale"], 3.0)


def test_v4_provenance_counts_clips_per_package_and_holds_no_paths(T, tmp_path):
    """The sidecar's account of corpus v4: each train / val package with its version, licence
    and clip count; test packages left out; nothing that names a folder of this machine."""
    import csv

    records = [
        {"package": "pkg-a", "version": "1.0", "licence": "GPL-2+", "split": "train",
         "path": str(tmp_path / "files" / "a.ogg")},
        {"package": "pkg-a", "version": "1.0", "licence": "GPL-2+", "split": "train",
         "path": str(tmp_path / "files" / "a2.ogg")},
        {"package": "pkg-b", "version": "2", "licence": "CC-BY-SA-3.0", "split": "val",
         "path": str(tmp_path / "files" / "b.ogg")},
        {"package": "pkg-t", "version": "3", "licence": "GPL-3", "split": "test",
         "path": str(tmp_path / "files" / "t.ogg")},
    ]
    rows = [("clips/train/a_0.wav", 1, "train", "pkg-a"),
            ("clips/train/a_1.wav", 0, "train", "pkg-a"),
            ("clips/train/a2_0.wav", 0, "train", "pkg-a"),
            ("clips/val/b_0.wav", 1, "val", "pkg-b")]
    labels = tmp_path / "labels.csv"
    with open(labels, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "label", "split", "sources", "kind", "package", "mixed"])
        for path, label, split, pkg in rows:
            w.writerow([path, label, split, f"{pkg}:x", "call" if label else "speech", pkg, 0])
    prov = T.v4_provenance(records, labels)
    corpus = prov["corpus"]
    assert (corpus["train_clips"], corpus["train_bird_clips"]) == (3, 1)
    assert (corpus["val_clips"], corpus["val_bird_clips"]) == (1, 1)
    assert corpus["packages"] == [
        {"package": "pkg-a", "clips": 3, "version": "1.0", "licence": "GPL-2+",
         "split": "train"},
        {"package": "pkg-b", "clips": 1, "version": "2", "licence": "CC-BY-SA-3.0",
         "split": "val"}]
    assert str(tmp_path) not in json.dumps(prov)
