"""From window scores to a file score: :func:`aggregate_scores`, and the checks a run makes
before it trusts a scorer's output (:func:`file_score`)."""

from __future__ import annotations

import math

import numpy as np

from scatter.errors import ScatterError
from scatter.run.messages import error_text

__all__ = ["AGGREGATES", "aggregate_scores", "file_score"]

#: The names ``aggregate`` takes.
AGGREGATES = ("max", "mean", "smoothmax")


def aggregate_scores(scores, *, method="max", beta=20.0):
    """Combine the window scores of one file into a file score.

    ``"max"`` is the highest window score (a bird anywhere in the file counts); ``"mean"``
    the average; ``"smoothmax"`` the log-mean-exp ``(1 / beta) log(mean(exp(beta s)))``, a
    smooth maximum that lies between the mean (``beta -> 0``) and the max
    (``beta -> inf``), is at most ``log(n) / beta`` below the max, and so stays within the
    range of the window scores.

    Parameters
    ----------
    scores : numpy.ndarray [shape=(n_windows,)]
        Window scores, at least one, all finite.
    method : {"max", "mean", "smoothmax"}
        How to combine them.
    beta : float
        Sharpness of ``"smoothmax"`` (positive).

    Returns
    -------
    score : float

    Raises
    ------
    ScatterError
        For an empty or non-finite ``scores``, an unknown ``method`` or a non-positive
        ``beta``.

    Examples
    --------
    >>> aggregate_scores([0.1, 0.9, 0.2])
    0.9
    >>> 0.4 < aggregate_scores([0.1, 0.9, 0.2], method="smoothmax") < 0.9
    True
    """
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if s.size == 0:
        raise ScatterError("scores must hold at least one window score; got none")
    if not np.isfinite(s).all():
        raise ScatterError(f"scores must be finite; got {s[~np.isfinite(s)][:3].tolist()}")
    if method == "max":
        return float(s.max())
    if method == "mean":
        return float(s.mean())
    if method == "smoothmax":
        if not (isinstance(beta, (int, float)) and beta > 0 and math.isfinite(beta)):
            raise ScatterError(f"beta must be a positive finite number; got {beta!r}")
        m = s.max()
        return float(m + np.log(np.mean(np.exp(beta * (s - m)))) / beta)
    raise ScatterError(f"method must be one of {AGGREGATES}; got {method!r}")


def file_score(scores, aggregate, *, starts_s):
    """The file score of one file's window scores, or the text of its error row.

    Parameters
    ----------
    scores : numpy.ndarray [shape=(n_windows,), dtype=float64]
        Window scores as the scorer returned them.
    aggregate : callable
        Window scores to a float (:func:`aggregate_scores` with a method, or the user's own).
    starts_s : numpy.ndarray [shape=(n_windows,)]
        Start time of each window in seconds, to say where a bad score lies.

    Returns
    -------
    score : float or None
        None when the file gets an error row.
    error : str
        Empty, or why there is no score: a non-finite window score (the first, with its
        time), a failing ``aggregate`` or a non-finite file score.
    """
    bad = ~np.isfinite(scores)
    if bad.any():
        k = int(np.argmax(bad))
        return None, (f"scorer returned a non-finite score ({scores[k]}) for the window "
                      f"starting at {starts_s[k]:.3f} s")
    try:
        score = float(aggregate(scores))
    except Exception as exc:  # a failing custom aggregate is this file's error
        return None, f"aggregate failed: {error_text(exc)}"
    if not math.isfinite(score):
        return None, f"aggregate gave a non-finite score ({score})"
    return score, ""
