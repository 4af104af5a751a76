import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, top_k_accuracy_score

import layers as L
import symbolic as S


def test_metrics_vs_sklearn(rng):
    scores = rng.normal(size=(40, 5)).astype("float32")
    labels = rng.integers(0, 5, 40).astype("int32")
    np.testing.assert_allclose(float(L.accuracy(scores, labels)),
                               accuracy_score(labels, scores.argmax(1)), rtol=1e-6)
    np.testing.assert_allclose(float(L.top_k_accuracy(scores, labels, k=2)),
                               top_k_accuracy_score(labels, scores, k=2, labels=range(5)),
                               rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(L.confusion_matrix(scores, labels, n_classes=5)),
                                  confusion_matrix(labels, scores.argmax(1), labels=range(5)))
    z = S.placeholder((None, 5))
    y = S.placeholder((None,), "int32")
    f = S.function([z, y], L.accuracy(z, y))
    np.testing.assert_allclose(float(f(scores, labels)), accuracy_score(labels, scores.argmax(1)),
                               rtol=1e-6)
    with pytest.raises(L.LayersError, match="top_k_accuracy: k must be a positive int; got 0"):
        L.top_k_accuracy(scores, labels, k=0)
