"""Tests of scatter.detect.plots: figures are written (atomically), the activity panel's axis is
in Hz and increasing upward with each band where its sound is, diel plots per site, layout
follows the Raven tables, and a missing matplotlib gives a clear error."""

import dataclasses
import os
import sys

import jax
import numpy as np
import pytest
import soundfile as sf

from scatter import ScatterError
from scatter.detect import Detector, FeatureConfig
from scatter.detect.features import FeatureExtractor
from scatter.detect.model import init_params
from scatter.detect.plots import (
    diel_plot_paths,
    file_figure,
    plot_diel_activity,
    plot_file,
    plot_paths,
    plot_roc,
)
from scatter.feature_files import feature_layout

CFG = FeatureConfig(sr=16000, window=2048, hop=2048, J=4, Q=(2, 1), pool=2)
PNG = b"\x89PNG\r\n\x1a\n"


def _is_png(path):
    with open(path, "rb") as fh:
        return fh.read(8) == PNG


@pytest.fixture(scope="module")
def det():
    params = init_params(jax.random.PRNGKey(0), n_features=FeatureExtractor(CFG).n_features,
                         hidden=(4,), pieces=2)
    return Detector(params, {"features": CFG.to_dict()})


def test_plot_file(tmp_path, det):
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
    assert sorted(os.listdir(tmp_path / "figs")) == ["a.png"]  # no temporary file left


@pytest.mark.parametrize(("tone_hz", "hop"), [(700.0, CFG.hop), (5600.0, CFG.window // 2)])
def test_activity_panel_is_in_hz_low_frequencies_at_the_bottom(tmp_path, det, tone_hz, hop):
    """Tone bursts light up the row at their frequency; rows go up in frequency like the
    spectrogram's; overlapping windows give one continuous time axis."""
    import matplotlib.pyplot as plt

    if hop != det.config.hop:
        det = Detector(det.params, {"features": dataclasses.replace(CFG, hop=hop).to_dict()})

    sr = CFG.sr
    t = np.arange(3 * CFG.window) / sr
    y = 0.01 * np.random.default_rng(1).standard_normal(t.size)
    for c in (0.05, 0.2, 0.35):
        y += 0.3 * np.sin(2 * np.pi * tone_hz * t) * (np.abs(t - c) < 0.02)
    sf.write(tmp_path / "tone.wav", y.astype(np.float32), sr)
    fig = file_figure(audio_path=str(tmp_path / "tone.wav"), detector=det,
                      starts_s=[0.0], ends_s=[0.1], scores=[0.5])
    try:
        spec_ax, ax = fig.axes[0], fig.axes[1]
        assert "Hz" in ax.get_ylabel() and ax.get_yscale() == "log"
        low, high = ax.get_ylim()
        assert 0 < low < high <= sr / 2 * 1.5 and not ax.yaxis_inverted()
        assert spec_ax.get_ylim()[0] < spec_ax.get_ylim()[1]  # the same way up
        (mesh,) = ax.collections
        y_edges = mesh.get_coordinates()[:, 0, 1]
        assert np.all(np.diff(y_edges) > 0)
        n1 = det.features.scattering.output_size(detail=True)[1]
        centres = sorted(c["centre_hz"] for c in feature_layout(det)[:n1])
        assert len(y_edges) == n1 + 1
        assert all(a < c < b for a, c, b in zip(y_edges[:-1], centres, y_edges[1:], strict=True))
        image = np.asarray(mesh.get_array()).reshape(n1, -1)
        loudest = int(np.argmax(image.mean(axis=1)))
        assert y_edges[loudest] <= tone_hz <= y_edges[loudest + 1]
        x_edges = mesh.get_coordinates()[0, :, 0]
        assert np.all(np.diff(x_edges) > 0) and x_edges[0] == 0
        assert x_edges[-1] == pytest.approx(3 * CFG.window / sr, rel=0.02)  # the whole signal
    finally:
        plt.close(fig)


def test_diel_plots(tmp_path):
    rows = [{"site": s, "hour_start": h, "recorded_s": "3600", "windows": "10",
             "windows_above": a, "fraction": ""}
            for s, h, a in [("A", "2024-06-01T05:00:00+02:00", "3"),
                            ("A", "2024-06-02T05:00:00+02:00", "5"),
                            ("B/2024", "2024-06-01T21:00:00+00:00", "1"),
                            ("C", "", "4")]]  # no start time: not in a diel plot
    paths = plot_diel_activity(tmp_path / "diel", rows)
    assert paths == diel_plot_paths(["A", "B/2024"], tmp_path / "diel") == {
        "A": str(tmp_path / "diel" / "A.diel.png"),
        "B/2024": str(tmp_path / "diel" / "B_2024.diel.png")}
    assert all(_is_png(p) for p in paths.values())
    assert sorted(os.listdir(tmp_path / "diel")) == ["A.diel.png", "B_2024.diel.png"]
    assert plot_diel_activity(tmp_path / "none", []) == {}


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
