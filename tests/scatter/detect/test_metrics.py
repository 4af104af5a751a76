"""Tests of scatter.detect.metrics against scikit-learn."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from scatter import ScatterError
from scatter.detect.metrics import (
    average_precision,
    balanced_threshold,
    binary_report,
    roc_auc,
    roc_curve,
)


@pytest.mark.parametrize("ties", [False, True])
def test_auc_and_ap_match_sklearn(rng, ties):
    for _ in range(5):
        y = rng.integers(0, 2, size=60)
        y[:2] = [0, 1]
        s = rng.normal(size=60) + y
        if ties:
            s = np.round(s, 0)
        assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
        assert average_precision(y, s) == pytest.approx(average_precision_score(y, s),
                                                        abs=1e-12)


def test_roc_curve_matches_sklearn(rng):
    y = rng.integers(0, 2, size=40)
    y[:2] = [0, 1]
    s = np.round(rng.normal(size=40), 1)
    fpr, tpr, thr = roc_curve(y, s)
    f2, t2, th2 = sk_roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(fpr, f2)
    np.testing.assert_allclose(tpr, t2)
    np.testing.assert_allclose(thr[1:], th2[1:])


def test_binary_report_counts():
    r = binary_report([0, 0, 1, 1], [0.2, 0.6, 0.4, 0.9], threshold=0.5)
    assert (r["tp"], r["fp"], r["tn"], r["fn"]) == (1, 1, 1, 1)
    assert r["auc"] == 0.75 and r["accuracy"] == 0.5


@pytest.mark.parametrize("y, s, match", [
    ([0, 1], [0.1], "one length"),
    ([0, 2], [0.1, 0.2], "0 or 1"),
    ([1, 1], [0.1, 0.2], "both classes"),
    ([0, 1], [0.1, np.nan], "finite"),
])
def test_errors(y, s, match):
    with pytest.raises(ScatterError, match=match):
        roc_auc(y, s)


def _balanced_threshold_brute_force(labels, scores):
    """Every candidate threshold tried in turn (the O(n^2) definition)."""
    s = np.unique(scores)
    cands = np.r_[s[0] - 1e-6, (s[:-1] + s[1:]) / 2, s[-1] + 1e-6]
    best, best_t = -1.0, 0.5
    for t in cands:
        pred = scores >= t
        bal = 0.5 * (pred[labels == 1].mean() + (~pred[labels == 0]).mean())
        if bal > best + 1e-12:
            best, best_t = bal, float(t)
    return best_t, float(best)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("ties", [False, True])
def test_balanced_threshold_equals_brute_force(rng, dtype, ties):
    for n in (2, 7, 60, 301):
        y = rng.integers(0, 2, size=n)
        y[:2] = [0, 1]
        s = (rng.normal(size=n) + y).astype(dtype)
        if ties:
            s = np.round(s, 1)
        assert balanced_threshold(y, s) == _balanced_threshold_brute_force(y, s)
    with pytest.raises(ScatterError, match="labels must hold both classes; got 0 positives"):
        balanced_threshold([0, 0], [0.1, 0.2])
