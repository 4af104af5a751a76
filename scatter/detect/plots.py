"""Figures of a detection run (matplotlib, an optional extra: ``pip install symscatter[plot]``).

- :func:`plot_file`: one PNG per audio file with three panels sharing the time axis: the
  spectrogram, the detector's order-1 activity features (the thresholded scattering
  coefficients the classifier sees, one row per first-order wavelet at its centre frequency,
  on a logarithmic Hz axis with low frequencies at the bottom, as in the spectrogram) and the
  window scores with the decision threshold (:func:`file_figure` gives the figure itself);
- :func:`plot_diel_activity`: per site, the fraction of windows above the threshold by hour of
  day, one line per day and their mean (from :mod:`scatter.activity_table`);
- :func:`plot_roc`: the ROC curve of an evaluation.

matplotlib is imported only when a figure is made (with the non-interactive ``Agg`` backend).
A long file is drawn up to ``max_seconds`` (default 10 minutes) so memory stays bounded; the
score panel always covers the whole file. Every PNG is written atomically
(:func:`scatter.outputs.atomic_open`).

Example
-------
>>> plot_roc("roc.png", [0, 1, 1, 0], [0.1, 0.8, 0.6, 0.3])   # doctest: +SKIP
"""

from __future__ import annotations

import os

import numpy as np

from scatter.errors import ScatterError

__all__ = ["diel_plot_paths", "file_figure", "plot_diel_activity", "plot_file", "plot_paths",
           "plot_roc"]


def _pyplot():
    try:
        import matplotlib
    except ImportError as exc:
        raise ScatterError("plots need matplotlib: pip install 'symscatter[plot]' "
                           "(or matplotlib)") from exc
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, png):
    """Write ``fig`` as PNG, atomically; missing folders are created."""
    from scatter.outputs import atomic_open

    png = os.fsdecode(png)
    os.makedirs(os.path.dirname(os.path.abspath(png)), exist_ok=True)
    with atomic_open(png, "wb") as fh:
        fig.savefig(fh, format="png", dpi=80)


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
    from scatter.outputs import output_paths

    return output_paths(paths, folder, suffix=".png")


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


def _band_edges(centres):
    """Cell edges around increasing band centres: geometric midpoints (a log axis)."""
    c = np.asarray(centres, np.float64)
    if c.size == 1:
        return c * np.array([2 ** -0.5, 2 ** 0.5])
    mid = np.sqrt(c[1:] * c[:-1])
    return np.concatenate([[c[0] ** 2 / mid[0]], mid, [c[-1] ** 2 / mid[-1]]])


def _activity_panel(ax, detector, y):
    """Order-1 activity of ``y`` against time and centre frequency (Hz, increasing upward)."""
    from scatter.feature_files import feature_layout

    cfg = detector.config
    windows, w_starts, _ = detector.frame(y)
    feats = detector.window_features(windows)  # (n, C, T)
    n1 = detector.features.scattering.output_size(detail=True)[1]
    centres = np.array([c["centre_hz"] for c in feature_layout(detector)[:n1]])
    order = np.argsort(centres)
    act = feats[:, order]  # order-1 activity channels, lowest frequency first
    n_frames = act.shape[-1]
    frame_s = cfg.window / cfg.sr / n_frames
    # each window contributes the frames up to the next window's start; the last all of its
    keep = n_frames if cfg.hop >= cfg.window else max(1, int(cfg.hop / cfg.sr / frame_s))
    cols, times = [], []
    for i, start in enumerate(w_starts):
        k = n_frames if i == len(w_starts) - 1 else keep
        cols.append(act[i, :, :k])
        times.append(start + frame_s * np.arange(k))
    image, t = np.concatenate(cols, axis=-1), np.concatenate(times)
    x_edges = np.append(t, t[-1] + frame_s)
    ax.pcolormesh(x_edges, _band_edges(centres[order]), image, shading="flat",
                  cmap="viridis")
    ax.set_yscale("log")
    ax.set_ylim(_band_edges(centres[order])[[0, -1]])


def file_figure(*, audio_path, detector, starts_s, ends_s, scores, threshold=None,
                max_seconds=600.0):
    """The spectrogram / activity / score figure of one file (:func:`plot_file` saves it).

    Parameters
    ----------
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

    Returns
    -------
    matplotlib.figure.Figure
        Three axes: spectrogram (Hz), order-1 activity (centre frequency in Hz, log scale,
        increasing upward), scores. Close it with ``matplotlib.pyplot.close``.

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
            _activity_panel(axes[1], detector, y)
        axes[1].set_ylabel("activity\ncentre Hz")
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
    except BaseException:
        plt.close(fig)
        raise
    return fig


def plot_file(png, *, audio_path, detector, starts_s, ends_s, scores, threshold=None,
              max_seconds=600.0):
    """Write the spectrogram / activity / score figure of one file (:func:`file_figure`).

    Parameters
    ----------
    png : str or os.PathLike
        Output file (its folder is created), written atomically.
    audio_path, detector, starts_s, ends_s, scores, threshold, max_seconds
        As :func:`file_figure`.

    Raises
    ------
    ScatterError
        If matplotlib is missing or the file cannot be decoded.
    """
    fig = file_figure(audio_path=audio_path, detector=detector, starts_s=starts_s,
                      ends_s=ends_s, scores=scores, threshold=threshold,
                      max_seconds=max_seconds)
    try:
        _save(fig, png)
    finally:
        _pyplot().close(fig)


def diel_plot_paths(sites, folder):
    """Where each site's diel plot goes: ``<folder>/<site>.diel.png``, the site name made
    file-system safe (``/`` of nested sites becomes ``_``).

    Parameters
    ----------
    sites : iterable of str
    folder : str or os.PathLike

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> diel_plot_paths(["A", "B/2024"], "plots")
    {'A': 'plots/A.diel.png', 'B/2024': 'plots/B_2024.diel.png'}
    """
    from scatter.outputs import safe_name

    folder = os.fsdecode(folder)
    return {s: os.path.join(folder, safe_name(s) + ".diel.png") for s in sites}


def plot_diel_activity(folder, rows, *, max_legend_days=10):
    """Write one diel activity plot per site: hour of day against the fraction of windows
    above the threshold, one line per day, and the mean over the days.

    Parameters
    ----------
    folder : str or os.PathLike
        Output folder (created); files as :func:`diel_plot_paths`.
    rows : iterable of dict
        Activity table rows (:meth:`scatter.activity_table.ActivityTable.rows` or
        :func:`scatter.activity_table.read_activity_table`); hours are local to each row's
        offset, rows without a start time are left out.
    max_legend_days : int
        Days are named in a legend when there are at most this many.

    Returns
    -------
    dict of str to str
        Site to PNG path (sites with at least one hour).

    Raises
    ------
    ScatterError
        If matplotlib is missing.

    Examples
    --------
    >>> plot_diel_activity("plots", read_activity_table("activity.csv"))  # doctest: +SKIP
    {'A': 'plots/A.diel.png'}
    """
    from scatter.activity_table import diel_series

    series = diel_series(rows)
    paths = diel_plot_paths(series, folder)
    if not series:
        return {}
    plt = _pyplot()
    hours = np.arange(24)
    for site, days in series.items():
        fig, ax = plt.subplots(figsize=(7, 4))
        try:
            for day, fraction in days.items():
                ax.plot(hours, fraction, marker=".", lw=1, alpha=0.6,
                        label=day if len(days) <= max_legend_days else None)
            stack = np.vstack(list(days.values()))
            with np.errstate(invalid="ignore"):
                counted = np.isfinite(stack).sum(axis=0)
                mean = np.where(counted > 0, np.nansum(stack, axis=0) / np.maximum(counted, 1),
                                np.nan)
            ax.plot(hours, mean, color="k", lw=2.5, label="mean")
            ax.set_xlim(-0.5, 23.5)
            ax.set_xticks(range(0, 24, 3))
            ax.set_ylim(-0.02, 1.02)
            ax.set_xlabel("hour of day (local)")
            ax.set_ylabel("fraction of windows above threshold")
            ax.set_title(f"{site}: {len(days)} day{'s' if len(days) != 1 else ''}")
            ax.legend(loc="upper right", fontsize="small")
            fig.tight_layout()
            _save(fig, paths[site])
        finally:
            plt.close(fig)
    return paths


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
        _save(fig, png)
    finally:
        plt.close(fig)
