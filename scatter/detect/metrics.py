"""Ranking metrics of binary detection scores: ROC curve, AUC, average precision, and the
threshold of best balanced accuracy.

Pure NumPy, no scikit-learn needed at run time (the tests compare with it).

Example
-------
>>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
0.75
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from scatter.errors import ScatterError

__all__ = [
    "average_precision", "balanced_threshold", "binary_report", "roc_auc", "roc_curve",
]


def _check(labels, scores):
    y = np.asarray(labels).reshape(-1)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if y.shape != s.shape:
        raise ScatterError(f"labels and scores must have one length; got {y.size} and {s.size}")
    if not np.isin(y, (0, 1)).all():
        raise ScatterError(f"labels must be 0 or 1; got values {np.unique(y)[:5].tolist()}")
    if not np.isfinite(s).all():
        raise ScatterError("scores must be finite")
    y = y.astype(np.int64)
    if y.min(initial=1) == 1 or y.max(initial=0) == 0:
        raise ScatterError(f"labels must hold both classes; got {int(y.sum())} positives out "
                           f"of {y.size}")
    return y, s


def roc_auc(labels, scores):
    """Area under the ROC curve (the Mann-Whitney probability, ties counting one half).

    Parameters
    ----------
    labels : array_like [shape=(n,)]
        0 or 1, both present.
    scores : array_like [shape=(n,)]
        Higher means more likely positive; finite.

    Returns
    -------
    float

    Raises
    ------
    ScatterError
        For mismatched lengths, labels other than 0/1, a single class or non-finite scores.
    """
    y, s = _check(labels, scores)
    r = rankdata(s)
    n1 = y.sum()
    n0 = y.size - n1
    return float((r[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def roc_curve(labels, scores):
    """False- and true-positive rates at every distinct threshold, highest first.

    Returns
    -------
    fpr, tpr, thresholds : numpy.ndarray
        Starting at ``(0, 0)`` (threshold ``+inf``) and ending at ``(1, 1)``.

    Raises
    ------
    ScatterError
        As :func:`roc_auc`.
    """
    y, s = _check(labels, scores)
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), y.size - 1]
    tps = np.cumsum(y)[last]
    fps = (last + 1) - tps
    return (np.r_[0.0, fps / fps[-1]], np.r_[0.0, tps / tps[-1]], np.r_[np.inf, s[last]])


def average_precision(labels, scores):
    """Average precision: the mean of the precision at each positive, ranked by score.

    Ties are resolved as in a step-wise precision-recall curve (all tied items together).

    Raises
    ------
    ScatterError
        As :func:`roc_auc`.
    """
    fpr, tpr, _ = roc_curve(labels, scores)
    y = np.asarray(labels).reshape(-1).astype(np.int64)
    n1, n0 = y.sum(), y.size - y.sum()
    tp, fp = tpr[1:] * n1, fpr[1:] * n0
    precision = tp / np.maximum(tp + fp, 1)
    return float(np.sum(np.diff(tpr) * precision))


def binary_report(labels, scores, *, threshold=0.5):
    """AUC, average precision and the confusion counts at ``threshold``.

    Returns
    -------
    dict
        ``auc``, ``average_precision``, ``accuracy``, ``tpr``, ``fpr``, ``precision``,
        ``tp``, ``fp``, ``tn``, ``fn``, ``n``, ``positives``, ``threshold``.

    Raises
    ------
    ScatterError
        As :func:`roc_auc`.
    """
    y, s = _check(labels, scores)
    pred = s >= threshold
    tp = int(np.sum(pred & (y == 1)))
    fp = int(np.sum(pred & (y == 0)))
    fn = int(np.sum(~pred & (y == 1)))
    tn = int(np.sum(~pred & (y == 0)))
    return {"auc": roc_auc(y, s), "average_precision": average_precision(y, s),
            "accuracy": (tp + tn) / y.size, "tpr": tp / max(tp + fn, 1),
            "fpr": fp / max(fp + tn, 1), "precision": tp / max(tp + fp, 1),
            "tp": tp, "fp": fp, "tn": tn, "fn": fn, "n": int(y.size),
            "positives": int(y.sum()), "threshold": float(threshold)}


def balanced_threshold(labels, scores):
    """The threshold of highest balanced accuracy, ``(TPR + TNR) / 2``, on these scores.

    The candidates are the midpoints between neighbouring distinct scores and one value just
    outside either end (``1e-6`` below the lowest, above the highest); a clip is called positive
    when its score is ``>= threshold``. Every candidate's counts are read from the scores sorted
    once per class (the points of the ROC curve), so the cost is ``O(n log n)``. Of candidates
    whose balanced accuracy is equal to within ``1e-12``, the lowest threshold is kept.

    Parameters
    ----------
    labels : array_like [shape=(n,)]
        0 or 1, both present.
    scores : array_like [shape=(n,)]
        Finite; the candidates are computed in their dtype.

    Returns
    -------
    threshold : float
    balanced_accuracy : float

    Raises
    ------
    ScatterError
        For mismatched lengths or a class without any clip.

    Examples
    --------
    >>> balanced_threshold([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    (0.22499999999999998, 0.75)
    """
    y = np.asarray(labels).reshape(-1)
    s = np.asarray(scores).reshape(-1)
    if y.shape != s.shape:
        raise ScatterError(f"labels and scores must have one length; got {y.size} and {s.size}")
    pos, neg = np.sort(s[y == 1]), np.sort(s[y == 0])
    if pos.size == 0 or neg.size == 0:
        raise ScatterError(f"labels must hold both classes; got {pos.size} positives out of "
                           f"{y.size}")
    u = np.unique(s)
    candidates = np.r_[u[0] - 1e-6, (u[:-1] + u[1:]) / 2, u[-1] + 1e-6]
    tp = pos.size - np.searchsorted(pos, candidates, side="left")  # positives >= threshold
    tn = np.searchsorted(neg, candidates, side="left")  # negatives < threshold
    balanced = 0.5 * (tp / pos.size + tn / neg.size)
    best, best_t = -1.0, 0.5
    for t, b in zip(candidates.tolist(), balanced.tolist()):
        if b > best + 1e-12:
            best, best_t = b, t
    return float(best_t), float(best)
