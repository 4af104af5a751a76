"""Lasagne-style deep learning on :mod:`symbolic`, and the spline theory of deep networks.

Layers own tagged :class:`symbolic.Variable` parameters, declare their output shape and map
symbolic tensors to symbolic tensors (see :mod:`layers.base`); spline nonlinearities
(:mod:`layers.spline`), losses, metrics, penalties, optax-backed optimizers and schedules turn
them into training functions compiled by :func:`symbolic.function`. ``layers.ssl`` holds the
semi-supervised losses, ``layers.datasets`` small real datasets, and ``layers.analysis`` the
spline-theory analysis tools.

Every public name is loaded on first access (PEP 562 module ``__getattr__``): ``import layers``
is cheap and does not import :mod:`symbolic`, so ``import layers.analysis`` stays light too,
while ``layers.Dense`` and ``from layers import Dense`` work as usual.
"""

from __future__ import annotations

import importlib

from layers.errors import LayersError as LayersError  # eager: tiny, and needed everywhere

# public name -> submodule that defines it (submodules themselves map to ``None``)
_EXPORTS = {
    "augment": None, "datasets": None, "init": None, "losses": None, "metrics": None,
    "models": None, "optimizers": None, "regularization": None, "schedules": None, "ssl": None,
    "InputLayer": "base", "Layer": "base", "count_params": "base", "get_all_layers": "base",
    "get_output": "base", "get_params": "base", "get_updates": "base",
    "Residual": "compose", "Sequential": "compose",
    "Conv": "conv", "Conv1D": "conv", "Conv2D": "conv", "ConvTranspose": "conv",
    "Dense": "dense", "Embedding": "dense",
    "entropy": "losses", "hinge": "losses", "huber": "losses",
    "sigmoid_cross_entropy": "losses", "softmax_cross_entropy": "losses",
    "squared_error": "losses",
    "accuracy": "metrics", "confusion_matrix": "metrics", "top_k_accuracy": "metrics",
    "spline_classifier": "models",
    "Dropout": "noise", "GaussianNoise": "noise",
    "BatchNorm": "norm", "LayerNorm": "norm", "Standardize": "norm",
    "Optimizer": "optimizers", "adagrad": "optimizers", "adam": "optimizers",
    "adamw": "optimizers", "ema": "optimizers", "lamb": "optimizers", "momentum": "optimizers",
    "nesterov": "optimizers", "rmsprop": "optimizers", "sgd": "optimizers",
    "AvgPool": "pool", "GlobalPool": "pool", "LogMeanExpPool": "pool", "MaxPool": "pool",
    "log_mean_exp": "pool",
    "GRU": "recurrent", "LSTM": "recurrent", "RNN": "recurrent",
    "l1": "regularization", "l2": "regularization", "orthogonality": "regularization",
    "Flatten": "shape", "Reshape": "shape",
    "BetaVQ": "spline", "MaxAffine": "spline", "MaxOut": "spline", "SoftVQ": "spline",
    "beta_vq": "spline", "maso": "spline",
    "TemporalContext": "temporal", "frame_context": "temporal",
}
# submodules that are reachable as attributes but not re-exported by ``from layers import *``
_PRIVATE_SUBMODULES = frozenset(
    {"analysis", "base", "compose", "conv", "dense", "errors", "noise", "norm", "pool",
     "recurrent", "shape", "spline", "temporal"}
)

__all__ = sorted(["LayersError", *_EXPORTS])


def __getattr__(name: str):
    """Import a public name (or a submodule) on first access and cache it in the package."""
    if name in _EXPORTS:
        module = _EXPORTS[name]
        if module is None:
            value = importlib.import_module(f"{__name__}.{name}")
        else:
            value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    elif name in _PRIVATE_SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__) | _PRIVATE_SUBMODULES)
