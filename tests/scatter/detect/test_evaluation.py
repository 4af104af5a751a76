"""Tests of scatter.detect.evaluation: the report agrees with the scores ``detect`` writes."""

import csv
import os

import jax
import numpy as np
import pytest
import soundfile as sf
from sklearn.metrics import roc_auc_score

from scatter import ScatterError
from scatter.detect import FeatureConfig, load_model, save_model
from scatter.detect.evaluation import evaluate
from scatter.detect.features import FeatureExtractor
from scatter.detect.model import init_params
from scatter.detect.synth import write_synthetic_corpus

CFG = FeatureConfig(sr=16000, window=2048, hop=2048, J=4, Q=(2, 1), pool=2)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("eval")
    labels = write_synthetic_corpus(d / "data", n_clips=10, seconds=0.3, sr=16000, seed=2)
    params = init_params(jax.random.PRNGKey(0), n_features=FeatureExtractor(CFG).n_features,
                         hidden=(5,), pieces=2)
    model = str(d / "m.npz")
    save_model(model, params, {"features": CFG.to_dict(), "model": {"threshold": 0.5}})
    return str(d / "data"), labels, model, d


def test_report_matches_the_written_scores(setup):
    data, labels, model, d = setup
    out = str(d / "scores.csv")
    report = evaluate(data, labels=labels, model=model, quiet=True, out=out,
                      plots=str(d / "plots"), batch_size=4)
    with open(out, newline="") as fh:
        scores = {os.path.basename(r["path"]): float(r["score"]) for r in csv.DictReader(fh)}
    with open(labels, newline="") as fh:
        truth = {os.path.basename(r["path"]): int(r["label"]) for r in csv.DictReader(fh)}
    names = sorted(truth)
    want = roc_auc_score([truth[n] for n in names], [scores[n] for n in names])
    assert report["auc"] == pytest.approx(want, abs=1e-9)
    assert report["n"] == 10 and report["errors"] == 0 and report["model"] == model
    with open(report["roc_plot"], "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    only_val = evaluate(data, labels=labels, model=model, quiet=True, split="val",
                        batch_size=4)
    assert only_val["n"] == 2


def test_errors(setup, tmp_path):
    data, labels, model, _ = setup
    with pytest.raises(ScatterError, match="no rows with split='test'"):
        evaluate(data, labels=labels, model=model, split="test", quiet=True)
    with pytest.raises(ScatterError, match="data folder"):
        evaluate(str(tmp_path / "none"), labels=labels, model=model)
    one = tmp_path / "one.csv"
    one.write_text("path,label\nclips/synth_00000.wav,1\n")
    with pytest.raises(ScatterError, match="both labels"):
        evaluate(data, labels=str(one), model=model, quiet=True, batch_size=4)


def test_hop_scores_clips_over_overlapping_windows(setup):
    data, labels, model, d = setup
    out = str(d / "hop.csv")
    report = evaluate(data, labels=labels, model=model, quiet=True, out=out, batch_size=4,
                      hop_s=0.032)
    assert report["hop_s"] == 0.032
    assert evaluate(data, labels=labels, model=model, quiet=True, batch_size=4)["hop_s"] == 0.128
    det = load_model(model)
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 10
    for row in rows:
        y, sr = sf.read(row["path"], dtype="float32")
        assert sr == 16000
        # windows of 2048 samples every 512 until the first that reaches the end, which is
        # moved back to end at the clip's end (zero-padded only for a clip under one window)
        starts = list(range(0, max(len(y) - 2048, 0) + 512, 512))
        if len(y) >= 2048:
            starts[-1] = len(y) - 2048
        windows = np.stack([np.pad(y[s:s + 2048], (0, max(0, s + 2048 - len(y))))
                            for s in starts])
        assert float(row["score"]) == pytest.approx(
            float(det.score_windows(windows, batch_size=4).max()), abs=2e-6)
