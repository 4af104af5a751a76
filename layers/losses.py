"""Loss functions, per example or reduced, on symbolic tensors or plain arrays.

Each function is a pure JAX function passed through :func:`symbolic.wrap`: called with symbolic
tensors it builds graph nodes, called with arrays it computes right away.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

import symbolic as S
from layers.errors import LayersError

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(values, reduction):
    if reduction == "mean":
        return jnp.mean(values)
    if reduction == "sum":
        return jnp.sum(values)
    return values


def _check_reduction(reduction, what):
    if reduction not in _REDUCTIONS:
        raise LayersError(f"{what}: reduction must be one of {_REDUCTIONS}; got {reduction!r}")


def _targets(logits, labels):
    """Integer labels -> one-hot of the logits' dtype; probabilities pass through."""
    if jnp.issubdtype(labels.dtype, jnp.integer):
        return jax.nn.one_hot(labels, logits.shape[-1], dtype=logits.dtype)
    return labels.astype(logits.dtype)


def _softmax_ce(logits, labels, reduction):
    return _reduce(-jnp.sum(_targets(logits, labels) * jax.nn.log_softmax(logits, axis=-1), -1),
                   reduction)


def _sigmoid_ce(logits, labels, weights, reduction):
    y = labels.astype(logits.dtype)
    values = jnp.maximum(logits, 0) - logits * y + jnp.log1p(jnp.exp(-jnp.abs(logits)))
    if weights is None:
        return _reduce(values, reduction)
    weights = jnp.broadcast_to(weights.astype(values.dtype), values.shape)
    if reduction == "mean":  # weighted mean; 0 when every weight is 0
        total = jnp.sum(weights)
        return jnp.sum(weights * values) / jnp.where(total > 0, total, 1)
    return _reduce(weights * values, reduction)


def _hinge(scores, labels, margin, reduction):
    y = _targets(scores, labels)
    true = jnp.sum(y * scores, -1, keepdims=True)
    others = jnp.where(y > 0, -jnp.inf, scores)
    return _reduce(jnp.maximum(0.0, margin + jnp.max(others, -1) - true[..., 0]), reduction)


def _squared(predictions, targets, reduction):
    d = predictions - targets
    return _reduce(jnp.sum(d * d, -1) if d.ndim > 1 else d * d, reduction)


def _huber(predictions, targets, delta, reduction):
    a = jnp.abs(predictions - targets)
    values = jnp.where(a <= delta, 0.5 * a * a, delta * (a - 0.5 * delta))
    return _reduce(jnp.sum(values, -1) if values.ndim > 1 else values, reduction)


def _entropy(logits, reduction):
    logp = jax.nn.log_softmax(logits, axis=-1)
    return _reduce(-jnp.sum(jnp.exp(logp) * logp, -1), reduction)


def softmax_cross_entropy(logits, labels, *, reduction="mean"):
    """Cross-entropy of a softmax classifier.

    Parameters
    ----------
    logits : Tensor or jax.Array [shape=(..., n_classes)]
    labels : Tensor or jax.Array [shape=(...)] int, or [shape=(..., n_classes)] probabilities
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    Tensor or jax.Array [shape=() or (...)]

    Raises
    ------
    LayersError
        For an unknown reduction.

    Examples
    --------
    >>> import numpy as np
    >>> round(float(softmax_cross_entropy(np.zeros((1, 4), "float32"), np.array([2]))), 4)
    1.3863
    """
    _check_reduction(reduction, "softmax_cross_entropy")
    return S.wrap(_softmax_ce, name="softmax_cross_entropy")(logits, labels, reduction)


def sigmoid_cross_entropy(logits, labels, *, weights=None, reduction="mean"):
    """Binary cross-entropy of ``sigmoid(logits)`` against labels in [0, 1] (same shape),
    computed stably as ``max(z, 0) - z y + log(1 + exp(-|z|))``.

    Parameters
    ----------
    logits : Tensor or jax.Array [shape=(...)]
    labels : Tensor or jax.Array [shape=(...)]
        Targets in [0, 1].
    weights : Tensor or jax.Array [shape=(...)] or None
        Non-negative weight of each entry (broadcast to the logits' shape): ``"mean"`` is then
        the weighted mean ``sum(w l) / sum(w)`` (0 when every weight is 0), ``"sum"`` and
        ``"none"`` give the weighted terms. None: all 1.
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    Tensor or jax.Array [shape=() or (...)]

    Raises
    ------
    LayersError
        For an unknown reduction.

    Examples
    --------
    >>> import numpy as np
    >>> round(float(sigmoid_cross_entropy(np.zeros(3, "float32"), np.ones(3, "float32"))), 4)
    0.6931
    >>> w = np.array([1.0, 0.0, 3.0], "float32")
    >>> z = np.array([0.0, 5.0, 2.0], "float32")
    >>> round(float(sigmoid_cross_entropy(z, np.ones(3, "float32"), weights=w)), 4)
    0.2685
    """
    _check_reduction(reduction, "sigmoid_cross_entropy")
    return S.wrap(_sigmoid_ce, name="sigmoid_cross_entropy")(logits, labels, weights, reduction)


def hinge(scores, labels, *, margin=1.0, reduction="mean"):
    """Multi-class hinge (Crammer-Singer): ``max(0, margin + max_{k != y} s_k - s_y)``.

    Parameters
    ----------
    scores : [shape=(..., n_classes)]
    labels : int [shape=(...)] or one-hot [shape=(..., n_classes)]
    margin : float, default 1.0
    """
    _check_reduction(reduction, "hinge")
    return S.wrap(_hinge, name="hinge")(scores, labels, float(margin), reduction)


def squared_error(predictions, targets, *, reduction="mean"):
    """Squared error, summed over the last axis (for inputs of 2+ dims), then reduced."""
    _check_reduction(reduction, "squared_error")
    return S.wrap(_squared, name="squared_error")(predictions, targets, reduction)


def huber(predictions, targets, *, delta=1.0, reduction="mean"):
    """Huber loss: quadratic below ``delta``, linear above; summed over the last axis (2+ dims).

    Raises
    ------
    LayersError
        For ``delta <= 0``.
    """
    _check_reduction(reduction, "huber")
    if not float(delta) > 0:
        raise LayersError(f"huber: delta must be positive; got {delta!r}")
    return S.wrap(_huber, name="huber")(predictions, targets, float(delta), reduction)


def entropy(logits, *, reduction="mean"):
    """Entropy of ``softmax(logits)`` along the last axis (the unlabelled-data term of
    entropy minimisation, Grandvalet & Bengio, NIPS 2004)."""
    _check_reduction(reduction, "entropy")
    return S.wrap(_entropy, name="entropy")(logits, reduction)
