"""Tests of scatter.feature_files and Detector.score_with_features: the features written are
the classifier's inputs (they reproduce the detector's scores), with their layout in Hz."""

import dataclasses
import json
import os
import types

import jax
import numpy as np
import pytest

from scatter import ScatterError
from scatter.detect import Detector, FeatureConfig, FeatureExtractor
from scatter.detect import detector as detector_module
from scatter.detect.model import init_params, window_logits
from scatter.feature_files import (
    FEATURES_FORMAT,
    feature_file_paths,
    feature_layout,
    pool_features,
    read_features,
    write_features,
)

CFG = FeatureConfig(sr=16000, window=2048, hop=1024, J=4, Q=(2, 1), pool=2)


@pytest.fixture(scope="module")
def det():
    fx = FeatureExtractor(CFG)
    params = init_params(jax.random.PRNGKey(1), n_features=fx.n_features, hidden=(6,),
                         pieces=2, mean=np.full(fx.n_features, 0.1, np.float32),
                         std=np.full(fx.n_features, 0.5, np.float32))
    return Detector(params, {"features": CFG.to_dict()})


def _windows(n, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(CFG.window) / CFG.sr
    w = 0.05 * rng.standard_normal((n, CFG.window))
    w[::2] += 0.3 * np.sin(2 * np.pi * 3000 * t) * (np.abs(t - 0.06) < 0.02)  # a chirp-ish call
    return w.astype(np.float32)


def test_classifier_features_reproduce_the_scores(det):
    w = _windows(5)
    scores = det.score_windows(w, batch_size=4)
    feats = det.classifier_features(w, batch_size=4)
    fx = det.features
    assert feats.shape == (5, fx.n_features, fx.n_frames) and feats.dtype == np.float32
    again = np.asarray(jax.nn.sigmoid(window_logits(det.params, feats)), np.float64)
    np.testing.assert_allclose(again, scores, rtol=0, atol=1e-6)
    assert scores.std() > 1e-3  # the scores differ between windows: the check has teeth
    s, f = det.score_with_features(w[:4])
    np.testing.assert_allclose(np.asarray(s), np.asarray(det.scorer(w[:4])), rtol=0, atol=1e-6)
    np.testing.assert_allclose(np.asarray(f), feats[:4], rtol=0, atol=1e-6)
    assert det.classifier_features(np.zeros((0, CFG.window))).shape == (0, fx.n_features,
                                                                         fx.n_frames)
    with pytest.raises(ScatterError, match="windows must have shape"):
        det.classifier_features(np.zeros((2, 5)))


def test_score_with_features_in_pieces(det, monkeypatch):
    """A batch above the per-device cap runs in pieces (three here, the last one padded) of
    the shape already compiled; both outputs are reassembled."""
    batch, d = det.round_batch(4), det.n_devices
    n = 3 * batch - 2 * d
    w = _windows(n, seed=3)
    want = det.score_windows(w, batch_size=4)
    monkeypatch.setattr(detector_module, "MAX_ROWS_PER_DEVICE", batch // d)
    s, f = det.score_with_features(w)
    assert s.shape == (n,) and f.shape == (n, det.features.n_features, det.features.n_frames)
    np.testing.assert_allclose(np.asarray(s), want, rtol=0, atol=1e-6)
    np.testing.assert_allclose(np.asarray(f), det.classifier_features(w, batch_size=4),
                               rtol=0, atol=1e-6)


def test_feature_layout(det):
    fx = det.features
    layout = feature_layout(det)
    assert layout == feature_layout(fx) and len(layout) == fx.n_features
    assert [c["column"] for c in layout] == list(range(fx.n_features))
    half = fx.n_paths
    assert {c["channel"] for c in layout[:half]} == {"activity"}
    assert {c["channel"] for c in layout[half:]} == {"level"}
    assert [(c["order"], c["key"], c["centre_hz"]) for c in layout[:half]] == [
        (c["order"], c["key"], c["centre_hz"]) for c in layout[half:]]
    first = [c for c in layout[:half] if c["order"] == 1]
    hz = [c["centre_hz"] for c in first]
    assert hz == sorted(hz, reverse=True) and 0 < hz[-1] < hz[0] < CFG.sr / 2
    assert all(c["modulation_hz"] is None for c in first)
    second = [c for c in layout[:half] if c["order"] == 2]
    assert second and all(0 < c["modulation_hz"] < c["centre_hz"] for c in second)
    assert all(c["centre_hz"] == hz[c["key"][0]] for c in second)
    # learned first-order filters give their learned centre frequencies (an extractor that
    # reports learned ones, without building its filters)
    p = fx.filter_params()
    xi1 = tuple(float(x) * 1.02 for x in p["xi1"])
    config = dataclasses.replace(CFG, xi1=xi1, sigma1=tuple(map(float, p["sigma1"])))
    tuned = types.SimpleNamespace(config=config, scattering=fx.scattering, n_paths=fx.n_paths)
    assert [c["centre_hz"] for c in feature_layout(tuned)[:len(hz)]] == pytest.approx(
        [x * CFG.sr for x in xi1])
    with pytest.raises(ScatterError, match="must be a FeatureExtractor or a Detector; got int"):
        feature_layout(3)


def test_write_and_read_features(det, tmp_path):
    frames = det.classifier_features(_windows(3), batch_size=4)
    starts = np.array([0.0, 0.064, 0.128])
    layout = feature_layout(det)
    assert feature_file_paths(["rec/a.wav", "rec/s/b.flac"], tmp_path / "f") == {
        "rec/a.wav": str(tmp_path / "f" / "a.npz"), "rec/s/b.flac": str(tmp_path / "f" / "s" /
                                                                         "b.npz")}
    path = tmp_path / "f" / "a.npz"
    pooled = pool_features(frames, pool="mean")
    write_features(path, pooled, starts, layout=layout, sr=CFG.sr, window_s=CFG.window_s,
                   hop_s=CFG.hop_s, frame_s=CFG.window_s / det.features.n_frames,
                   model={"model_sha256": det.fingerprint})
    got = read_features(path)
    assert got["features"].shape == (3, det.features.n_features)
    np.testing.assert_array_equal(got["features"], frames.mean(axis=-1))
    np.testing.assert_array_equal(got["starts_s"], starts)
    assert got["layout"] == layout
    assert got["meta"]["format"] == FEATURES_FORMAT and got["meta"]["pool"] == "mean"
    assert got["meta"]["model"] == {"model_sha256": det.fingerprint}
    assert got["meta"]["sr"] == CFG.sr
    with np.load(path, allow_pickle=False) as z:  # plain arrays, readable without the package
        assert sorted(z.files) == ["features", "meta", "starts_s"]
        assert json.loads(str(z["meta"]))["layout"][0]["channel"] == "activity"
    np.testing.assert_array_equal(pool_features(frames, pool="max"), frames.max(axis=-1))
    full = tmp_path / "f" / "full.npz"
    write_features(full, frames, starts, layout=layout, pool="none")
    np.testing.assert_array_equal(read_features(full)["features"], frames)
    write_features(tmp_path / "f" / "empty.npz", np.zeros((0, len(layout))), [], layout=layout)
    assert read_features(tmp_path / "f" / "empty.npz")["features"].shape == (0, len(layout))
    assert sorted(os.listdir(tmp_path / "f")) == ["a.npz", "empty.npz", "full.npz"]


def test_feature_file_errors(det, tmp_path):
    layout = feature_layout(det)
    n = len(layout)
    path = tmp_path / "x.npz"
    with pytest.raises(ScatterError, match="pool must be one of .*; got 'median'"):
        pool_features(np.zeros((1, n, 2)), pool="median")
    with pytest.raises(ScatterError, match=r"features must have shape \(n_windows, n_features, "
                                           r"n_frames\); got \(1, 2\)"):
        pool_features(np.zeros((1, 2)))
    with pytest.raises(ScatterError, match="features must be 2-D for pool='mean'"):
        write_features(path, np.zeros((1, n, 2)), [0.0], layout=layout)
    with pytest.raises(ScatterError, match=r"starts_s must have shape \(2,\)"):
        write_features(path, np.zeros((2, n)), [0.0], layout=layout)
    with pytest.raises(ScatterError, match=f"layout must be a list of {n + 1} entries"):
        write_features(path, np.zeros((1, n + 1)), [0.0], layout=layout)
    with pytest.raises(ScatterError, match="must be finite"):
        write_features(path, np.full((1, n), np.nan), [0.0], layout=layout)
    with pytest.raises(ScatterError, match="sr must be a positive number or None; got 0"):
        write_features(path, np.zeros((1, n)), [0.0], layout=layout, sr=0)
    with pytest.raises(ScatterError, match="JSON-serialisable; got model=<object"):
        write_features(path, np.zeros((1, n)), [0.0], layout=layout, model=object())
    assert not path.exists()
    path.write_bytes(b"not a zip")
    with pytest.raises(ScatterError, match="not a feature file"):
        read_features(path)
    np.savez(tmp_path / "other.npz", features=np.zeros(1), starts_s=np.zeros(1),
             meta=np.asarray(json.dumps({"format": "x"})))
    with pytest.raises(ScatterError, match="format 'x'; expected 'symscatter-features-1'"):
        read_features(tmp_path / "other.npz")
