"""Lasagne-style deep learning on :mod:`symbolic`, and the spline theory of deep networks.

Layers own tagged :class:`symbolic.Variable` parameters, declare their output shape and map
symbolic tensors to symbolic tensors (see :mod:`layers.base`); spline nonlinearities
(:mod:`layers.spline`), losses, metrics, penalties, optax-backed optimizers and schedules turn
them into training functions compiled by :func:`symbolic.function`. ``layers.ssl`` holds the
semi-supervised losses, ``layers.datasets`` small real datasets, and ``layers.analysis`` (imported
on demand) the spline-theory analysis tools.
"""

from layers import (
    augment,
    datasets,
    init,
    losses,
    metrics,
    models,
    optimizers,
    regularization,
    schedules,
    ssl,
)
from layers.base import (
    InputLayer,
    Layer,
    count_params,
    get_all_layers,
    get_output,
    get_params,
    get_updates,
)
from layers.compose import Residual, Sequential
from layers.conv import Conv, Conv1D, Conv2D, ConvTranspose
from layers.dense import Dense, Embedding
from layers.errors import LayersError
from layers.losses import (
    entropy,
    hinge,
    huber,
    sigmoid_cross_entropy,
    softmax_cross_entropy,
    squared_error,
)
from layers.metrics import accuracy, confusion_matrix, top_k_accuracy
from layers.models import spline_classifier
from layers.noise import Dropout, GaussianNoise
from layers.norm import BatchNorm, LayerNorm
from layers.optimizers import (
    Optimizer,
    adagrad,
    adam,
    adamw,
    ema,
    lamb,
    momentum,
    nesterov,
    rmsprop,
    sgd,
)
from layers.pool import AvgPool, GlobalPool, MaxPool
from layers.recurrent import GRU, LSTM, RNN
from layers.regularization import l1, l2, orthogonality
from layers.shape import Flatten, Reshape
from layers.spline import BetaVQ, MaxAffine, MaxOut, SoftVQ, beta_vq, maso

__all__ = [
    "augment", "datasets", "models", "ssl",
    "AvgPool", "BatchNorm", "BetaVQ", "Conv", "Conv1D", "Conv2D", "ConvTranspose", "Dense",
    "Dropout", "Embedding", "Flatten", "GRU", "GaussianNoise", "GlobalPool", "InputLayer",
    "LSTM", "Layer", "LayerNorm", "LayersError", "MaxAffine", "MaxOut", "MaxPool", "Optimizer",
    "RNN", "Reshape", "Residual", "Sequential", "SoftVQ", "accuracy", "adagrad", "adam", "adamw",
    "beta_vq", "confusion_matrix", "count_params", "ema", "entropy", "get_all_layers",
    "get_output", "get_params", "get_updates", "hinge", "huber", "init", "l1", "l2", "lamb",
    "losses", "maso", "metrics", "momentum", "nesterov", "optimizers", "orthogonality",
    "regularization", "rmsprop", "schedules", "sgd", "sigmoid_cross_entropy",
    "softmax_cross_entropy", "spline_classifier", "squared_error", "top_k_accuracy",
]
