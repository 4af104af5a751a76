"""Figures of a detection run (matplotlib, an optional extra: ``pip install symscatter[plot]``).

- :func:`plot_file`: one PNG per audio file with three panels sharing the time axis: the
  spectrogram, the detector's order-1 activity features (the thresholded scattering
  coefficients the classifier sees) and the window scores with the decision threshold;
- :func:`plot_roc`: the ROC curve of an evaluation.

matplotlib is imported only when a figure is made (with the non-interactive ``Agg`` backend).
A long file is drawn up to ``max_seconds`` (default 10 minutes) so memory stays bounded; the
score panel always covers the whole file.

Example
-------
>>> plot_roc("roc.png", [0, 1, 1, 0], [0.1, 0.8, 0.6, 0.3])   # doctest: +SKIP
"""

from __future__ import annotations

import os

import numpy as np

from scatter.errors import ScatterError

__all__ = ["plot_file", "plot_paths", "plot_roc"]


def _pyplot():
    try:
        import matplotlib
    except ImportError as exc:
        raise ScatterError("plots need matplotlib: pip install 'symscatter[plot]' "
                           "(or matplotlib)") from exc
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def plot_paths(paths, folder):
    """Where the PNG of each audio file goes (same layout as the Raven tables).

    Parameters
    ----------
    paths : sequence of str
    folder : str or os.PathLike

    Returns
    -------
    dict of str to str
    """
    from scatter.outputs import raven_table_paths

    suffix = ".Table.1.selections.txt"
    return {p: t[:-len(suffix)] + ".png" for p, t in raven_table_paths(paths, folder).items()}


def _head(path, sr, max_seconds):
    """The first ``max_seconds`` of a file, mono at ``sr``."""
    from scatter.audio import AudioStream

    limit = int(max_seconds * sr)
    parts, n = [], 0
    with AudioStream(path, sr=sr) as stream:
        for block in stream:
            parts.append(block)
            n += block.size
            if n >= limit:
                break
    y = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    return y[:limit]


def plot_file(png, *, audio_path, detector, starts_s, ends_s, scores, threshold=None,
              max_seconds=600.0):
    """Write the spectrogram / activity / score figure of one file.

    Parameters
    ----------
    png : str or os.PathLike
        Output file (its folder is created).
    audio_path : str
        The audio file.
    detector : scatter.detect.Detector
        Gives the sample rate, the windows and the features.
    starts_s, ends_s, scores : array_like [shape=(n_windows,)]
        Window times and scores of the file.
    threshold : float or None
        Drawn as a line (None: the detector's).
    max_seconds : float
        Audio drawn in the upper panels.

    Raises
    ------
    ScatterError
        If matplotlib is missing or the file cannot be decoded.
    """
    plt = _pyplot()
    from scipy.signal import spectrogram

    cfg = detector.config
    y = _head(audio_path, cfg.sr, max_seconds)
    threshold = detector.threshold if threshold is None else threshold
    fig, axes = plt.subplots(3, 1, figsize=(10, 7), sharex=True)
    try:
        if y.size >= 16:
            nper = min(512, y.size)
            f, t, Z = spectrogram(y, fs=cfg.sr, nperseg=nper, noverlap=nper // 2)
            axes[0].pcolormesh(t, f, 10 * np.log10(Z + 1e-12), shading="auto", cmap="magma")
        axes[0].set_ylabel("Hz")
        axes[0].set_title(os.path.basename(audio_path))
        if y.size:
            windows, w_starts, _ = detector.frame(y)
            feats = detector.window_features(windows)  # (n, C, T)
            n1 = detector.features.scattering.output_size(detail=True)[1]
            act = feats[:, :n1]  # order-1 activity channels
            act = np.concatenate(list(act), axis=-1) if cfg.hop == cfg.window else act[0]
            frame_s = cfg.window / cfg.sr / detector.features.n_frames
            extent = (0, act.shape[-1] * frame_s, 0, n1)
            axes[1].imshow(act, aspect="auto", origin="lower", extent=extent, cmap="viridis")
        axes[1].set_ylabel("order-1 path")
        starts, ends = np.asarray(starts_s), np.asarray(ends_s)
        s = np.asarray(scores)
        if s.size:
            mid = (starts + ends) / 2
            axes[2].step(mid, s, where="mid", color="C0")
        axes[2].axhline(threshold, color="C3", ls="--", lw=1)
        axes[2].set_ylim(-0.02, 1.02)
        axes[2].set_ylabel("score")
        axes[2].set_xlabel("time (s)")
        fig.tight_layout()
        png = os.fsdecode(png)
        os.makedirs(os.path.dirname(os.path.abspath(png)), exist_ok=True)
        fig.savefig(png, dpi=80)
    finally:
        plt.close(fig)


def plot_roc(png, labels, scores, *, title="ROC"):
    """Write the ROC curve of ``scores`` against ``labels`` with its AUC.

    Parameters
    ----------
    png : str or os.PathLike
    labels : array_like [shape=(n,)]
    scores : array_like [shape=(n,)]
    title : str

    Raises
    ------
    ScatterError
        If matplotlib is missing, or as :func:`scatter.detect.metrics.roc_curve`.
    """
    from scatter.detect.metrics import roc_auc, roc_curve

    fpr, tpr, _ = roc_curve(labels, scores)
    auc = roc_auc(labels, scores)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    try:
        ax.plot(fpr, tpr, color="C0", label=f"AUC = {auc:.3f}")
        ax.plot([0, 1], [0, 1], color="0.6", ls=":")
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
        ax.set_title(title)
        ax.legend(loc="lower right")
        fig.tight_layout()
        fig.savefig(os.fsdecode(png), dpi=80)
    finally:
        plt.close(fig)
