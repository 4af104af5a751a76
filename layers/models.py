"""Ready-made compact spline networks, and saving/loading a network's parameters.

:func:`spline_classifier` builds the small classifier used on feature vectors or on
multichannel sequences (e.g. scattering coefficients ``(batch, n_paths, n_frames)``): affine
layers (dense or 1-D convolutions), batch normalisation, spline nonlinearities (learnable
beta-VQ units or ReLU MASOs), dropout, and dense logits. Every piece is a max-affine spline
operator or its soft version, so the analysis tools of :mod:`layers.analysis` apply.
"""

from __future__ import annotations

import json
import os

import numpy as np

import symbolic as S
from layers.base import format_shape, get_params
from layers.compose import Sequential
from layers.conv import Conv1D
from layers.dense import Dense
from layers.errors import LayersError, check_int
from layers.noise import Dropout
from layers.norm import BatchNorm
from layers.pool import GlobalPool, MaxPool
from layers.shape import Flatten
from layers.spline import BetaVQ, MaxAffine
from symbolic.io import atomic_open


def spline_classifier(input_shape, n_classes, *, hidden=(64, 64), kind="dense",
                      nonlinearity="betavq", kernel_size=3, pool=2, dropout=0.2,
                      batch_norm=True, seed=None, name="classifier"):
    """A compact spline-network classifier returning logits.

    Parameters
    ----------
    input_shape : tuple of (int or None)
        ``(batch, features...)`` for ``kind="dense"`` (flattened first when it has more
        than 2 dims), ``(batch, channels, time)`` for ``kind="conv1d"``.
    n_classes : int
    hidden : tuple of int, default (64, 64)
        Units (dense) or filters (conv1d) of the hidden layers.
    kind : {"dense", "conv1d"}, default "dense"
        ``"conv1d"``: ``kernel_size`` convolutions along time ("same" padding), max-pooling
        by ``pool`` after each (1: none), then a global average over time.
    nonlinearity : {"betavq", "relu"}, default "betavq"
        Learnable beta-VQ (one beta per unit/channel) or ReLU as a fixed MASO.
    dropout : float, default 0.2
        Before the last dense layer (0: none).
    batch_norm : bool, default True
    seed : int, optional
    name : str, default "classifier"

    Returns
    -------
    layers.Sequential
        Output shape ``(batch, n_classes)``.

    Raises
    ------
    LayersError
        For an unknown kind or nonlinearity, an empty ``hidden``, or an input shape that
        does not suit ``kind``.

    Examples
    --------
    >>> import symbolic as S, layers as L
    >>> with S.Graph():
    ...     net = L.spline_classifier((None, 40, 100), 2, kind="conv1d", hidden=(16, 16))
    ...     net.output_shape, L.count_params(net, trainable=True)
    ((None, 2), 2818)
    """
    if kind not in ("dense", "conv1d"):
        raise LayersError(f"spline_classifier: kind must be 'dense' or 'conv1d'; got {kind!r}")
    if nonlinearity not in ("betavq", "relu"):
        raise LayersError(
            f"spline_classifier: nonlinearity must be 'betavq' or 'relu'; got {nonlinearity!r}")
    hidden = tuple(hidden)
    if not hidden:
        raise LayersError("spline_classifier: hidden is empty; give at least one layer size")
    n_classes = check_int(n_classes, "spline_classifier: n_classes")
    shape = tuple(input_shape)
    if kind == "conv1d" and len(shape) != 3:
        raise LayersError(f"spline_classifier: kind='conv1d' needs input (batch, channels, "
                          f"time); got {format_shape(shape)}")
    rng = np.random.default_rng(S.current_graph().next_seed() if seed is None else seed)

    def sub_seed():
        return int(rng.integers(2 ** 31))

    seq = []

    def last():
        return seq[-1] if seq else shape

    def act(incoming):
        if nonlinearity == "betavq":
            return BetaVQ(incoming, axis=1)
        return MaxAffine(incoming, init="relu", learnable=False, axis=1)

    with S.scope(name):
        if kind == "dense" and len(shape) > 2:
            seq.append(Flatten(shape))
        for width in hidden:
            if kind == "dense":
                seq.append(Dense(last(), width, b=None if batch_norm else "zeros",
                                 seed=sub_seed()))
            else:
                seq.append(Conv1D(last(), width, kernel_size, padding="same",
                                  b=None if batch_norm else "zeros", seed=sub_seed()))
            if batch_norm:
                seq.append(BatchNorm(last()))
            seq.append(act(last()))
            if kind == "conv1d" and pool > 1 and (last().output_shape[2] or pool) >= pool:
                seq.append(MaxPool(last(), pool))
        if kind == "conv1d":
            seq.append(GlobalPool(last()))
        if dropout:
            seq.append(Dropout(last(), p=dropout, seed=sub_seed()))
        seq.append(Dense(last(), int(n_classes), seed=sub_seed()))
    return Sequential(seq, name=name)


def save(net, path, *, config=None, metrics=None):
    """Write every parameter of ``net`` (batch statistics included) to ``path`` (``.npz``) and
    a JSON sidecar ``path`` + ``.json`` (config, metrics, parameter names), both atomically.

    Parameters
    ----------
    net : Layer
    path : str or os.PathLike
        Must end with ``.npz``.
    config, metrics : dict, optional
        JSON-serialisable.

    Returns
    -------
    list of str
        Names written.

    Raises
    ------
    LayersError
        For a path without the ``.npz`` suffix.
    """
    path = os.fspath(path)
    if not path.endswith(".npz"):
        raise LayersError(f"save: path must end with '.npz'; got {path!r}")
    params = get_params(net)
    names = S.save(path, params)
    meta = {"config": config or {}, "metrics": metrics or {}, "parameters": {
        p.name: list(p.shape) for p in params}, "format": "symscatter-layers-1"}
    with atomic_open(path + ".json") as f:
        json.dump(meta, f, indent=1)
    return names


def load(net, path):
    """Set the parameters of ``net`` from a file written by :func:`save`.

    Returns
    -------
    dict
        The JSON sidecar (``config``, ``metrics``...), or ``{}`` when it is missing.
    """
    path = os.fspath(path)
    S.load(path, get_params(net))
    sidecar = path + ".json"
    if os.path.exists(sidecar):
        with open(sidecar) as f:
            return json.load(f)
    return {}
