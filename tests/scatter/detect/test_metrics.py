"""Tests of scatter.detect.metrics against scikit-learn."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from scatter import ScatterError
from scatter.detect.metrics import average_precision, binary_report, roc_auc, roc_curve


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
