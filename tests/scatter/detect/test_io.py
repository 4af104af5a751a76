"""Tests of scatter.detect.io: model files, sidecars, atomic writes, the shipped default."""

import json
import os
from pathlib import Path

import jax
import numpy as np
import pytest

from scatter import ScatterError
from scatter.detect.features import FeatureConfig
from scatter.detect.io import (
    FORMAT,
    default_model_path,
    read_model,
    save_model,
    sidecar_path,
)
from scatter.detect.model import check_params, init_params

CFG = FeatureConfig(sr=16000, window=2048, hop=2048, J=4, Q=(2, 1), pool=2)


def _params():
    return init_params(jax.random.PRNGKey(0), n_features=10, hidden=(4,), pieces=2)


def test_round_trip(tmp_path):
    p = _params()
    path, side = save_model(tmp_path / "m.npz", p, {"features": CFG.to_dict(),
                                                    "training": {"data": "x"}})
    assert side == str(tmp_path / "m.json") == sidecar_path(path)
    params, meta = read_model(path)
    assert set(params) == set(p)
    for k in p:
        np.testing.assert_array_equal(params[k], np.asarray(p[k]))
    assert meta["format"] == FORMAT and meta["training"] == {"data": "x"}
    assert meta["features"] == CFG.to_dict() and "library_version" in meta
    assert sorted(os.listdir(tmp_path)) == ["m.json", "m.npz"]  # no temporary files left
    assert os.stat(path).st_mode & 0o044  # readable by others, not 0600


def test_save_errors(tmp_path):
    with pytest.raises(ScatterError, match="must end with .npz"):
        save_model(tmp_path / "m.bin", _params(), {"features": {}})
    with pytest.raises(ScatterError, match="does not exist"):
        save_model(tmp_path / "no" / "m.npz", _params(), {"features": {}})
    with pytest.raises(ScatterError, match="holding 'features'"):
        save_model(tmp_path / "m.npz", _params(), {})
    with pytest.raises(ScatterError, match="finite"):
        save_model(tmp_path / "m.npz", _params(), {"features": {}, "x": float("nan")})


def test_read_errors(tmp_path):
    save_model(tmp_path / "m.npz", _params(), {"features": CFG.to_dict()})
    with pytest.raises(ScatterError, match="does not exist"):
        read_model(tmp_path / "other.npz")
    with open(tmp_path / "m.json", "w") as fh:
        json.dump({"format": "something"}, fh)
    with pytest.raises(ScatterError, match="is not a 'symscatter-detector' file"):
        read_model(tmp_path / "m.npz")
    with open(tmp_path / "m.json", "w") as fh:
        json.dump({"format": FORMAT, "format_version": 99}, fh)
    with pytest.raises(ScatterError, match="format_version 99"):
        read_model(tmp_path / "m.npz")
    with open(tmp_path / "m.npz", "wb") as fh:
        fh.write(b"not a zip")
    with pytest.raises(ScatterError, match="not a readable .npz"):
        read_model(tmp_path / "m.npz")


def test_shipped_default_model_is_complete_and_honest():
    params, meta = read_model(default_model_path())
    cfg = FeatureConfig.from_dict(meta["features"])
    from scatter.detect.features import FeatureExtractor

    n = FeatureExtractor(cfg).n_features
    check_params({k: np.asarray(v) for k, v in params.items()}, n_features=n)
    prov = meta["training"]["provenance"]
    # the sidecar says in words what the model was trained on, and records the corpus
    assert len(prov["description"]) > 40 and prov["corpus"] and prov["command"]
    assert 0 < meta["model"]["threshold"] < 1
    # it learnt: the training loss fell, and its AUCs are far above what a scorer without
    # information reaches. Such a scorer's AUC on n1 positives and n0 negatives has mean 1/2
    # and standard deviation sqrt((n1 + n0 + 1) / (12 n1 n0)) (Mann-Whitney; about normal
    # for these counts); 1/2 + 4 of them is exceeded with probability 3e-5
    metrics, training = meta["metrics"], meta["training"]

    def chance_bound(n1, n0):
        return 0.5 + 4 * np.sqrt((n1 + n0 + 1) / (12 * n1 * n0))

    history = metrics["history"]
    assert len(history) == metrics["epochs_run"] >= 2
    assert history[-1]["loss"] < history[0]["loss"]
    assert metrics["val_auc"] == history[metrics["best_epoch"] - 1]["val_auc"] == max(
        h["val_auc"] for h in history)
    n1 = training["n_val_positive"]
    assert metrics["val_auc"] > chance_bound(n1, training["n_val"] - n1)  # 195 clips: 0.73
    # the held-out test figures live in the model card, which must describe this model: its
    # threshold and validation AUC, to the digits the card prints
    card = Path(default_model_path()).with_name("README.md").read_text(encoding="utf-8")
    assert f"threshold, {meta['model']['threshold']:.3f}" in card
    assert f"AUC {metrics['val_auc']:.3f}" in card
