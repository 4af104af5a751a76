"""Normalisation layers: batch normalisation (running statistics as updates), layer
normalisation, and standardisation with fixed statistics.

References: Ioffe & Szegedy, "Batch Normalization", ICML 2015; Ba, Kiros & Hinton, "Layer
Normalization", 2016.
"""

from __future__ import annotations

import numpy as np

import symbolic as S
from layers import init as I
from layers.base import Layer, format_shape
from layers.errors import LayersError, is_int

BATCH_STATS = "batch_stats"


def _axes(axes, ndim, what):
    if is_int(axes):
        axes = (int(axes),)
    try:
        axes = tuple(sorted({int(a) % ndim for a in axes}))
    except TypeError:
        raise LayersError(f"{what}: axes must be an int or ints; got {axes!r}") from None
    return axes


class BatchNorm(Layer):
    """Normalise with batch statistics while training, running averages when deterministic.

    ``y = gamma * (x - mean) / sqrt(var + epsilon) + beta``. A non-deterministic call records
    in :attr:`updates` the moving averages
    ``running <- (1 - momentum) * running + momentum * batch_statistic``; pass them to
    :func:`symbolic.function` (see :func:`layers.get_updates`).

    Parameters
    ----------
    incoming : tuple or Layer
    axes : "auto" or int or tuple of int, default "auto"
        Axes averaged over: all but axis 1 (channels) for inputs of 3+ dims, axis 0 otherwise.
        The other axes must have known sizes.
    momentum : float in (0, 1], default 0.1
    epsilon : float, default 1e-5
    beta, gamma : initializer, array or None
        ``None`` drops the shift / scale.

    Raises
    ------
    LayersError
        For a bad momentum or epsilon, or unknown sizes on the kept axes.

    Examples
    --------
    >>> import numpy as np, symbolic as S, layers as L
    >>> with S.Graph():
    ...     x = S.placeholder((None, 3))
    ...     bn = L.BatchNorm(x.shape)
    ...     y = bn(x)
    ...     step = S.function([x], y, updates=L.get_updates(bn))
    ...     out = step(np.arange(12, dtype="float32").reshape(4, 3))
    >>> np.round(np.asarray(out).mean(0), 4).tolist()
    [0.0, 0.0, 0.0]
    """

    def __init__(self, incoming, *, axes="auto", momentum=0.1, epsilon=1e-5,
                 beta="zeros", gamma="ones", dtype="float32", name=None):
        super().__init__(incoming, name=name)
        ndim = len(self.input_shape)
        if ndim < 2:
            raise LayersError(
                f"BatchNorm: input needs a batch axis and features; got shape "
                f"{format_shape(self.input_shape)}"
            )
        if axes == "auto":
            axes = (0,) + tuple(range(2, ndim)) if ndim > 2 else (0,)
        self.axes = _axes(axes, ndim, "BatchNorm")
        if not 0.0 < float(momentum) <= 1.0:
            raise LayersError(f"BatchNorm: momentum must lie in (0, 1]; got {momentum!r}")
        if not float(epsilon) > 0.0:
            raise LayersError(f"BatchNorm: epsilon must be positive; got {epsilon!r}")
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        kept = [d for i, d in enumerate(self.input_shape) if i not in self.axes]
        if any(d is None for d in kept):
            raise LayersError(
                f"BatchNorm: the axes not averaged over must have known sizes; got shape "
                f"{format_shape(self.input_shape)} with axes={self.axes}"
            )
        self.stat_shape = tuple(kept)
        self.broadcast = tuple(1 if i in self.axes else d for i, d in enumerate(self.input_shape))
        self.beta = None if beta is None else self.add_param(
            I.get(beta), self.stat_shape, "beta", regularizable=False, dtype=dtype)
        self.gamma = None if gamma is None else self.add_param(
            I.get(gamma), self.stat_shape, "gamma", regularizable=False, dtype=dtype)
        self.mean = self.add_param(I.Constant(0.0), self.stat_shape, "mean", trainable=False,
                                   regularizable=False, tags=(BATCH_STATS,), dtype=dtype)
        self.var = self.add_param(I.Constant(1.0), self.stat_shape, "var", trainable=False,
                                  regularizable=False, tags=(BATCH_STATS,), dtype=dtype)

    def get_output(self, x, *, deterministic):
        if deterministic:
            mean, var = self.mean, self.var
        else:
            mean = x.mean(axis=self.axes)
            var = x.var(axis=self.axes)
            m = self.momentum
            self.updates = {
                self.mean: (1.0 - m) * self.mean + m * S.stop_gradient(mean),
                self.var: (1.0 - m) * self.var + m * S.stop_gradient(var),
            }
        y = (x - mean.reshape(self.broadcast)) * S.reciprocal(
            S.sqrt(var.reshape(self.broadcast) + self.epsilon))
        if self.gamma is not None:
            y = y * self.gamma.reshape(self.broadcast)
        if self.beta is not None:
            y = y + self.beta.reshape(self.broadcast)
        return y


class LayerNorm(Layer):
    """Normalise each example over its trailing axes: ``gamma * (x - mu) / sigma + beta``.

    Parameters
    ----------
    incoming : tuple or Layer
    n_axes : int, default 1
        How many trailing axes to normalise over (their sizes must be known); ``gamma`` and
        ``beta`` have their shape.
    epsilon : float, default 1e-5

    Examples
    --------
    >>> import numpy as np, symbolic as S, layers as L
    >>> with S.Graph():
    ...     x = S.placeholder((None, 4))
    ...     f = S.function([x], L.LayerNorm(x.shape)(x))
    ...     out = f(np.arange(8.0, dtype="float32").reshape(2, 4))
    >>> np.round(np.asarray(out).mean(1), 5).tolist()
    [0.0, 0.0]
    """

    def __init__(self, incoming, *, n_axes=1, epsilon=1e-5, beta="zeros",
                 gamma="ones", dtype="float32", name=None):
        super().__init__(incoming, name=name)
        ndim = len(self.input_shape)
        if not is_int(n_axes) or not 1 <= n_axes < max(ndim, 2):
            raise LayersError(
                f"LayerNorm: n_axes must be an int in [1, {max(ndim - 1, 1)}] for input shape "
                f"{format_shape(self.input_shape)}; got {n_axes!r}"
            )
        self.n_axes = int(n_axes)
        shape = self.input_shape[ndim - self.n_axes:]
        if any(d is None for d in shape):
            raise LayersError(
                f"LayerNorm: the normalised trailing axes must have known sizes; got shape "
                f"{format_shape(self.input_shape)}"
            )
        if not float(epsilon) > 0.0:
            raise LayersError(f"LayerNorm: epsilon must be positive; got {epsilon!r}")
        self.epsilon = float(epsilon)
        self.beta = None if beta is None else self.add_param(
            I.get(beta), shape, "beta", regularizable=False, dtype=dtype)
        self.gamma = None if gamma is None else self.add_param(
            I.get(gamma), shape, "gamma", regularizable=False, dtype=dtype)

    def get_output(self, x, *, deterministic):
        axes = tuple(range(x.ndim - self.n_axes, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True)
        y = (x - mean) * S.reciprocal(S.sqrt(var + self.epsilon))
        if self.gamma is not None:
            y = y * self.gamma
        if self.beta is not None:
            y = y + self.beta
        return y


class Standardize(Layer):
    """Fixed standardisation with given statistics: ``y = (x - mean) / std`` per channel.

    The statistics are those of a training set, measured once (not a running average as in
    :class:`BatchNorm`, and without its ``epsilon``): the input stage of a classifier whose
    features were standardised before training. They are parameters tagged neither trainable
    nor regularizable by default, so optimizers leave them alone.

    Parameters
    ----------
    incoming : tuple or Layer
        Input shape with the channel axis ``axis`` of known size ``C``.
    mean, std : array_like [shape=(C,)]
        Per-channel mean and (positive) standard deviation.
    axis : int, default 1
        The channel axis.
    learnable : bool, default False
        Whether ``mean`` and ``std`` are trainable.

    Raises
    ------
    LayersError
        For an axis out of range or of unknown size, statistics of the wrong shape, or a
        non-positive or non-finite ``std``.

    Examples
    --------
    >>> import numpy as np, symbolic as S, layers as L
    >>> with S.Graph():
    ...     x = S.placeholder((None, 2, 3))
    ...     f = S.function([x], L.Standardize(x.shape, [1.0, 2.0], [2.0, 4.0])(x))
    ...     f(np.full((1, 2, 3), 3.0, "float32"))[0, :, 0].tolist()
    [1.0, 0.25]
    """

    def __init__(self, incoming, mean, std, *, axis=1, learnable=False, dtype="float32",
                 name=None):
        super().__init__(incoming, name=name)
        ndim = len(self.input_shape)
        if not is_int(axis) or not -ndim <= axis < ndim:
            raise LayersError(
                f"Standardize: axis must be an int in [{-ndim}, {ndim - 1}] for input shape "
                f"{format_shape(self.input_shape)}; got {axis!r}"
            )
        self.axis = int(axis) % ndim
        c = self.input_shape[self.axis]
        if c is None:
            raise LayersError(
                f"Standardize: the channel axis {axis} must have a known size; got input shape "
                f"{format_shape(self.input_shape)}"
            )
        mean = np.asarray(mean, dtype=dtype)
        std = np.asarray(std, dtype=dtype)
        for what, value in (("mean", mean), ("std", std)):
            if value.shape != (c,):
                raise LayersError(
                    f"Standardize: {what} must have shape ({c},) (one value per channel of "
                    f"axis {axis}); got shape {value.shape}"
                )
        if not np.all(np.isfinite(std) & (std > 0)):
            raise LayersError(
                f"Standardize: std must be positive and finite; got minimum {std.min()!r}"
            )
        self.broadcast = tuple(c if i == self.axis else 1 for i in range(ndim))
        self.mean = self.add_param(mean, (c,), "mean", trainable=learnable,
                                   regularizable=False, dtype=dtype)
        self.std = self.add_param(std, (c,), "std", trainable=learnable, regularizable=False,
                                  dtype=dtype)

    def get_output(self, x, *, deterministic):
        return (x - self.mean.reshape(self.broadcast)) / self.std.reshape(self.broadcast)
