"""Clip-level ranking metrics of ``detector_quality.py``: AUC, bootstrap intervals, per group.

Helper of ``benchmarks/detector_quality.py`` (pure NumPy; the AUC itself is
:func:`scatter.detect.metrics.roc_auc`).

- :func:`roc_auc`: the library's AUC, or None when one class is absent.
- :func:`bootstrap_ci`: 95 % percentile intervals of several scorers' AUCs and of their
  difference (paired), resampling clips or whole recordings.
- :func:`pair_auc` and :func:`group_report`: the AUC, recall and false-positive rate of one
  group of clips (a package, a kind).
- :func:`rounded`: the rounding of every figure in the JSON.
"""

from __future__ import annotations

import numpy as np

__all__ = ["bootstrap_ci", "group_report", "pair_auc", "roc_auc", "rounded"]


def roc_auc(labels, scores):
    """:func:`scatter.detect.metrics.roc_auc` (Mann-Whitney, ties counted half), or None when
    one class is absent (a condition or a resample without positives or negatives).

    Parameters
    ----------
    labels : array-like [shape=(n,)]
        0/1.
    scores : array-like [shape=(n,)]
        Finite scores; higher means "bird".

    Returns
    -------
    float or None

    Examples
    --------
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    from scatter.detect import metrics

    y = np.asarray(labels).astype(bool)
    if y.all() or not y.any():
        return None
    return metrics.roc_auc(y.astype(np.int64), scores)


def bootstrap_ci(labels, score_sets, *, n_boot=1000, seed=0, groups=None):
    """95 % percentile intervals of each AUC and of the first minus the second (paired).

    Without ``groups``, resamples clips with replacement within each class. With ``groups``
    (one recording id per clip), resamples whole recordings with replacement, since clips cut
    from one recording are not independent; a resample that lacks a class is left out.

    Parameters
    ----------
    labels : array-like [shape=(n,)]
        0/1.
    score_sets : list of array-like [shape=(n,)]
        One score per clip for each scorer (one or two scorers).
    n_boot : int
        Resamples.
    seed : int
        Seed of the resampling (the same resamples for every score set).
    groups : sequence of str [shape=(n,)] or None
        Recording of each clip; None resamples clips.

    Returns
    -------
    cis : list of [float, float]
        ``[lo, hi]`` per score set.
    diff_ci : [float, float] or None
        ``[lo, hi]`` of ``auc0 - auc1``; None with fewer than two sets.
    """
    y = np.asarray(labels).astype(bool)
    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
    rng = np.random.default_rng(seed)
    if groups is not None:
        _, inverse = np.unique(np.asarray(groups), return_inverse=True)
        members = [np.flatnonzero(inverse == g) for g in range(inverse.max() + 1)]
    aucs = np.full((n_boot, len(score_sets)), np.nan)
    for b in range(n_boot):
        if groups is None:
            idx = np.concatenate([rng.choice(pos, pos.size), rng.choice(neg, neg.size)])
        else:
            idx = np.concatenate([members[g] for g in rng.integers(0, len(members),
                                                                   len(members))])
        for k, s in enumerate(score_sets):
            auc = roc_auc(y[idx], np.asarray(s)[idx])
            aucs[b, k] = np.nan if auc is None else auc
    cis = [np.nanpercentile(aucs[:, k], [2.5, 97.5]).round(4).tolist()
           for k in range(len(score_sets))]
    diff = (np.nanpercentile(aucs[:, 0] - aucs[:, 1], [2.5, 97.5]).round(4).tolist()
            if len(score_sets) > 1 else None)
    return cis, diff


def pair_auc(labels, scores, member):
    """AUC over the positive-negative pairs that have at least one clip in ``member``.

    The per-source and per-kind AUC: for a group of negatives only (a night-insect package,
    the ``insect`` kind), it is the group's negatives ranked against every positive; for a
    group of positives only, the group's positives against every negative; for a group with
    both, every pair it takes part in. Ties count one half, as in :func:`roc_auc`.

    Parameters
    ----------
    labels : array-like [shape=(n,)]
        0/1.
    scores : array-like [shape=(n,)]
    member : array-like of bool [shape=(n,)]
        The group's clips.

    Returns
    -------
    float or None
        None when no such pair exists.

    Examples
    --------
    >>> pair_auc([1, 1, 0, 0], [0.9, 0.2, 0.5, 0.1], [False, False, True, False])
    0.5
    """
    y = np.asarray(labels).astype(bool)
    s = np.asarray(scores, dtype=np.float64)
    g = np.asarray(member).astype(bool)
    total, weight = 0.0, 0
    # pairs with the positive in the group (any negative), then those with only the negative
    for pos, neg in ((y & g, ~y), (y & ~g, ~y & g)):
        n = int(pos.sum()) * int(neg.sum())
        if n:
            sel = pos | neg
            total += roc_auc(y[sel], s[sel]) * n
            weight += n
    return total / weight if weight else None


def group_report(labels, scores, groups, *, threshold):
    """Per group: clip counts, :func:`pair_auc`, and the rates at ``threshold``.

    A clip is called a bird when its score is ``>= threshold``. ``recall`` is the fraction of
    the group's positives called birds and ``fpr`` the fraction of its negatives called birds;
    each is present only when the group has such clips. ``auc_within`` (the AUC of the group's
    own clips) is given for a group with both classes.

    Parameters
    ----------
    labels, scores : array-like [shape=(n,)]
    groups : sequence of str [shape=(n,)]
        The group of each clip (a package, a ``label/kind``).
    threshold : float

    Returns
    -------
    dict of str -> dict
        Sorted by group name.
    """
    y = np.asarray(labels).astype(bool)
    s = np.asarray(scores, dtype=np.float64)
    groups = np.asarray(groups)
    called = s >= threshold
    out = {}
    for name in sorted(set(groups.tolist())):
        g = groups == name
        pos, neg = int((g & y).sum()), int((g & ~y).sum())
        entry = {"clips": pos + neg, "positives": pos, "negatives": neg,
                 "auc": rounded(pair_auc(y, s, g))}
        if pos and neg:
            entry["auc_within"] = rounded(roc_auc(y[g], s[g]))
        if pos:
            entry["recall"] = rounded(called[g & y].mean())
        if neg:
            entry["fpr"] = rounded(called[g & ~y].mean())
        out[name] = entry
    return out


def rounded(x, k=4):
    """``x`` rounded to ``k`` decimals as a Python float, None kept (a figure in the JSON).

    Examples
    --------
    >>> rounded(2 / 3), rounded(None)
    (0.6667, None)
    """
    return None if x is None else round(float(x), k)

