"""Classification metrics on symbolic tensors or plain arrays."""

from __future__ import annotations

import jax.numpy as jnp

import symbolic as S
from layers.errors import check_int


def _labels(labels):
    return jnp.argmax(labels, -1) if jnp.issubdtype(labels.dtype, jnp.floating) else labels


def _accuracy(scores, labels):
    return jnp.mean((jnp.argmax(scores, -1) == _labels(labels)).astype(jnp.float32))


def _top_k(scores, labels, k):
    top = jnp.argsort(-scores, axis=-1)[..., :k]
    return jnp.mean(jnp.any(top == _labels(labels)[..., None], -1).astype(jnp.float32))


def _confusion(scores, labels, n):
    pred = jnp.argmax(scores, -1).ravel()
    true = _labels(labels).ravel()
    return jnp.zeros((n, n), jnp.int32).at[true, pred].add(1)


def accuracy(scores, labels):
    """Fraction of examples whose highest score is the label.

    Parameters
    ----------
    scores : [shape=(..., n_classes)]
    labels : int [shape=(...)] or one-hot [shape=(..., n_classes)]

    Returns
    -------
    float32 scalar

    Examples
    --------
    >>> import numpy as np
    >>> round(float(accuracy(np.eye(3, dtype="float32"), np.array([0, 1, 0]))), 4)
    0.6667
    """
    return S.wrap(_accuracy, name="accuracy")(scores, labels)


def top_k_accuracy(scores, labels, *, k=5):
    """Fraction of examples whose label is among the ``k`` highest scores.

    Raises
    ------
    LayersError
        For ``k < 1``.
    """
    k = check_int(k, "top_k_accuracy: k")
    return S.wrap(_top_k, name="top_k_accuracy")(scores, labels, k)


def confusion_matrix(scores, labels, *, n_classes):
    """Counts ``C[true, predicted]`` [shape=(n_classes, n_classes)], int32."""
    n_classes = check_int(n_classes, "confusion_matrix: n_classes")
    return S.wrap(_confusion, name="confusion_matrix")(scores, labels, n_classes)
