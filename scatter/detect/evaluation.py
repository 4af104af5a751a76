"""``scatter evaluate``: score labelled clips with a model and report AUC and friends.

Each clip is scored as ``scatter detect`` scores a file (highest window probability, or the
model's aggregate), through :func:`scatter.runner.run_detection`; clips that cannot be decoded
are counted and left out of the metrics.

Example
-------
>>> report = evaluate("corpus", labels="corpus/test.csv")    # doctest: +SKIP
>>> report["auc"]                                            # doctest: +SKIP
"""

from __future__ import annotations

import os

import numpy as np

from scatter.detect.data import read_labels
from scatter.detect.metrics import binary_report
from scatter.errors import ScatterError

__all__ = ["evaluate"]


def evaluate(data, *, labels, model="default", batch_size=32, threshold=None, out=None,
             plots=None, quiet=False, split=None, hop_s=None):
    """Score the clips of a labels CSV and compare with their labels.

    Parameters
    ----------
    data : str or os.PathLike
        Folder the CSV's relative paths are relative to.
    labels : str or os.PathLike
        Labels CSV (:func:`scatter.detect.data.read_labels`).
    model : str or os.PathLike or scatter.detect.Detector
        ``"default"``, a model path or a loaded detector.
    batch_size : int
    threshold : float or None
        Decision threshold for the confusion counts (None: the model's).
    out : str or os.PathLike or None
        Also write the per-clip results CSV there.
    plots : str or os.PathLike or None
        Folder for ``roc.png``.
    quiet : bool
    split : str or None
        Only the rows of this ``split`` (e.g. ``"test"``); None: all rows.
    hop_s : float or None
        Seconds between window starts (None: the model's); see ``Detector.detect``.

    Returns
    -------
    report : dict
        :func:`scatter.detect.metrics.binary_report` plus ``errors`` (clips not scored),
        ``model`` (its path), ``files`` and ``hop_s`` (the hop used).

    Raises
    ------
    ScatterError
        For a missing folder or model, an invalid CSV, a split with no rows, or fewer than
        one scored clip of each label.
    """
    from scatter.detect import Detector, load_model

    data = os.fsdecode(data)
    if not os.path.isdir(data):
        raise ScatterError(f"data folder {data!r} does not exist")
    records = read_labels(labels, root=data)
    if split is not None:
        records = [r for r in records if r.split == split]
        if not records:
            raise ScatterError(f"labels CSV has no rows with split={split!r}")
    present = sorted({r.label for r in records})
    if present != [0, 1]:
        raise ScatterError(f"evaluation needs clips of both labels; the labels CSV has "
                           f"{len(records)} rows, all with label {present[0]}")
    det = model if isinstance(model, Detector) else load_model(model)
    paths = [r.path for r in records]
    summary = det.detect(paths, batch_size=batch_size, out=out, quiet=quiet, hop_s=hop_s)
    scores = {os.path.normpath(r["path"]): r["score"] for r in summary["results"]
              if not r["error"] and r["score"] is not None}
    y, s = [], []
    for r in records:
        key = os.path.normpath(r.path)
        if key in scores:
            y.append(r.label)
            s.append(scores[key])
    if len(set(y)) < 2:
        raise ScatterError(f"evaluation needs scored clips of both labels; got {len(y)} "
                           f"scored clips with labels {sorted(set(y))} "
                           f"({summary['errors']} clips could not be read)")
    thr = det.threshold if threshold is None else threshold
    report = binary_report(np.array(y), np.array(s), threshold=thr)
    report.update(errors=summary["errors"], files=len(records), model=det.path,
                  hop_s=det.config.hop / det.config.sr if hop_s is None else float(hop_s))
    if plots is not None:
        from scatter.detect.plots import plot_roc

        plots = os.fsdecode(plots)
        os.makedirs(plots, exist_ok=True)
        plot_roc(os.path.join(plots, "roc.png"), y, s,
                 title=f"ROC, {len(y)} clips")
        report["roc_plot"] = os.path.join(plots, "roc.png")
    return report
