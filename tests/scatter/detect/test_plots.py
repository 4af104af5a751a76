"""Tests of scatter.detect.plots: figures are written, layout follows the Raven tables, and a
missing matplotlib gives a clear error."""

import sys

import jax
import numpy as np
import pytest
import soundfile as sf

from scatter import ScatterError
from scatter.detect import Detector, FeatureConfig
from scatter.detect.features import FeatureExtractor
from scatter.detect.model import init_params
from scatter.detect.plots import plot_file, plot_paths, plot_roc

CFG = FeatureConfig(sr=16000, window=2048, hop=2048, J=4, Q=(2, 1), pool=2)
PNG = b"\x89PNG\r\n\x1a\n"


def _is_png(path):
    with open(path, "rb") as fh:
        return fh.read(8) == PNG


def test_plot_file(tmp_path):
    params = init_params(jax.random.PRNGKey(0), n_features=FeatureExtractor(CFG).n_features,
                         hidden=(4,), pieces=2)
    det = Detector(params, {"features": CFG.to_dict()})
    y = (0.1 * np.random.default_rng(0).normal(size=7000)).astype(np.float32)
    sf.write(tmp_path / "a.wav", y, 16000)
    windows, starts, ends = det.frame(y)
    scores = np.linspace(0, 1, len(windows))
    png = tmp_path / "figs" / "a.png"
    plot_file(png, audio_path=str(tmp_path / "a.wav"), detector=det, starts_s=starts,
              ends_s=ends, scores=scores)
    assert _is_png(png)
    short = tmp_path / "short.png"  # a few samples only still gives a figure
    sf.write(tmp_path / "s.wav", y[:5], 16000)
    plot_file(short, audio_path=str(tmp_path / "s.wav"), detector=det, starts_s=[0.0],
              ends_s=[5 / 16000], scores=[0.3], max_seconds=1.0)
    assert _is_png(short)


def test_plot_roc_and_paths(tmp_path):
    plot_roc(tmp_path / "roc.png", [0, 1, 1, 0], [0.1, 0.8, 0.6, 0.3])
    assert _is_png(tmp_path / "roc.png")
    got = plot_paths(["d/a.wav", "d/e/b.flac", "d/e/a.wav"], "out")
    assert got == {"d/a.wav": "out/a.png", "d/e/b.flac": "out/e/b.png",
                   "d/e/a.wav": "out/e/a.png"}


def test_missing_matplotlib(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ScatterError, match="plots need matplotlib"):
        plot_roc(tmp_path / "roc.png", [0, 1], [0.1, 0.9])
