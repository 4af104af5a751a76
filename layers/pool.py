"""Pooling layers over channels-first inputs ``(batch, channels, *spatial)``.

Max-pooling is a max-affine spline operator: each output is the maximum of the ``R = prod
(window)`` affine (selection) maps of its window (Balestriero & Baraniuk, "A Spline Theory of
Deep Networks", ICML 2018). Log-mean-exp pooling (:class:`LogMeanExpPool`) is a smooth
maximum with a learned sharpness, for pooling instance scores into one bag score.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import symbolic as S
from layers import init as I
from layers.base import Layer, format_shape
from layers.conv import conv_output_size, padding_spec
from layers.errors import LayersError, check_ints, is_int


class _Pool(Layer):
    kind = None

    def __init__(self, incoming, window, *, stride=None, padding="valid", name=None):
        super().__init__(incoming, name=name)
        what = type(self).__name__
        n = len(self.input_shape) - 2
        if n not in (1, 2, 3):
            raise LayersError(
                f"{what}: input must be (batch, channels, *spatial) with 1 to 3 spatial axes; got "
                f"shape {format_shape(self.input_shape)}"
            )
        self.window = check_ints(window, n, f"{what}: window")
        self.stride = self.window if stride is None else check_ints(stride, n, f"{what}: stride")
        self.padding = padding_spec(padding, n, what)
        pads = [self.padding] * n if isinstance(self.padding, str) else self.padding
        spatial = tuple(conv_output_size(s, k, st, 1, p) for s, k, st, p in
                        zip(self.input_shape[2:], self.window, self.stride, pads))
        self.output_shape = self.input_shape[:2] + spatial

    def get_output(self, x, *, deterministic):
        pool = S.max_pool if self.kind == "max" else S.avg_pool
        return pool(x, self.window, stride=self.stride, padding=self.padding)


class MaxPool(_Pool):
    """Maximum over windows of the spatial axes (stride defaults to the window).

    Parameters
    ----------
    incoming : tuple or Layer
        ``(batch, channels, *spatial)`` with 1 to 3 spatial axes.
    window : int or tuple of int
    stride : int or tuple of int, optional
    padding : {"valid", "same"}, int or pairs, default "valid"

    Examples
    --------
    >>> import symbolic as S, layers as L
    >>> with S.Graph():
    ...     L.MaxPool((None, 3, 28, 28), 2).output_shape
    (None, 3, 14, 14)
    """

    kind = "max"


class AvgPool(_Pool):
    """Mean over windows of the spatial axes (padding excluded); see :class:`MaxPool`."""

    kind = "avg"


class GlobalPool(Layer):
    """Pool every spatial axis away: ``(batch, channels, *spatial)`` -> ``(batch, channels)``.

    Parameters
    ----------
    incoming : tuple or Layer
    mode : {"mean", "max"}, default "mean"

    Examples
    --------
    >>> import symbolic as S, layers as L
    >>> with S.Graph():
    ...     L.GlobalPool((None, 16, 7, 7), mode="max").output_shape
    (None, 16)
    """

    def __init__(self, incoming, *, mode="mean", name=None):
        super().__init__(incoming, name=name)
        if mode not in ("mean", "max"):
            raise LayersError(f"GlobalPool: mode must be 'mean' or 'max'; got {mode!r}")
        if len(self.input_shape) < 3:
            raise LayersError(
                f"GlobalPool: input must be (batch, channels, *spatial); got shape "
                f"{format_shape(self.input_shape)}"
            )
        self.mode = mode
        self.output_shape = self.input_shape[:2]

    def get_output(self, x, *, deterministic):
        axes = tuple(range(2, x.ndim))
        return x.mean(axis=axes) if self.mode == "mean" else x.max(axis=axes)


def log_mean_exp(x, beta, *, axis=-1, where=None):
    """Log-mean-exp of ``x`` with sharpness ``beta``: ``log(mean(exp(beta * x))) / beta``.

    A smooth maximum: between the mean (``beta -> 0``) and the maximum (``beta -> inf``) of
    ``x`` along ``axis``, with gradient weights ``softmax(beta * x)`` (Pinheiro & Collobert,
    "From image-level to pixel-level labeling with convolutional networks", CVPR 2015).
    Computed as ``(logsumexp(beta * x) - log(n)) / beta``, stable for any ``beta * x``.

    Parameters
    ----------
    x : jax.Array [shape=(..., n, ...)]
    beta : float or jax.Array [shape=()]
        Positive sharpness.
    axis : int, default -1
        The pooled axis (static).
    where : jax.Array [shape=x.shape, dtype=bool] or None
        Entries to pool (as NumPy reductions' ``where``): the others are left out, and ``n``
        counts the entries kept (a bag of instances padded to a common size, say). A row
        with no entry kept gives ``-inf`` and no gradient. None: all entries.

    Returns
    -------
    jax.Array [shape=x.shape without axis]

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0.0, 1.0, 5.0], "float32")
    >>> round(float(log_mean_exp(x, 1e-4)), 3), round(float(log_mean_exp(x, 100.0)), 3)
    (2.0, 4.989)
    >>> round(float(log_mean_exp(x, 1e-4, where=np.array([True, True, False]))), 3)
    0.5
    """
    x = jnp.asarray(x)
    if where is None:
        n = x.shape[axis]
        return (jax.nn.logsumexp(beta * x, axis=axis) - jnp.log(n)) / beta
    where = jnp.broadcast_to(jnp.asarray(where, bool), x.shape)
    n = jnp.sum(where, axis=axis).astype(x.dtype)
    z = jnp.where(where, beta * x, -jnp.inf)
    return (jax.nn.logsumexp(z, axis=axis) - jnp.log(jnp.maximum(n, 1))) / beta


class LogMeanExpPool(Layer):
    """Log-mean-exp pooling of one axis with a learned sharpness (see :func:`log_mean_exp`).

    Pools instance scores (the logits of a recording's frames, say) into one bag score that
    rises when any instance is high: multiple-instance learning with a smooth maximum whose
    sharpness ``beta`` is learned (Pinheiro & Collobert, CVPR 2015; McFee, Salamon & Bello,
    "Adaptive pooling operators for weakly labeled sound event detection", IEEE/ACM TASLP
    26(11), 2018, learn a like trade-off between mean and max). ``beta = min_beta +
    softplus(beta_raw)`` keeps it positive and at least ``min_beta`` while ``beta_raw`` is
    learned freely.

    Parameters
    ----------
    incoming : tuple or Layer
        Input shape; the pooled axis may have any size.
    axis : int, default -1
        The pooled axis (not the batch axis 0).
    beta_raw : initializer or float or array [shape=()], default 0.0
        Initial unconstrained parameter (0: ``beta = min_beta + log 2``).
    min_beta : float, default 0.1
        Lower bound of ``beta`` (non-negative).
    learnable : bool, default True
        Whether ``beta_raw`` is trainable.

    Attributes
    ----------
    beta_raw : symbolic.Variable [shape=()]

    Raises
    ------
    LayersError
        For an axis out of range or the batch axis, or a negative or non-finite ``min_beta``.

    Examples
    --------
    >>> import numpy as np, symbolic as S, layers as L
    >>> with S.Graph():
    ...     x = S.placeholder((None, 3))
    ...     pool = L.LogMeanExpPool(x.shape, beta_raw=50.0)
    ...     f = S.function([x], pool(x))
    ...     round(float(f(np.array([[0.0, 1.0, 5.0]], "float32"))[0]), 2)
    4.98
    """

    def __init__(self, incoming, *, axis=-1, beta_raw=0.0, min_beta=0.1, learnable=True,
                 dtype="float32", name=None):
        super().__init__(incoming, name=name)
        ndim = len(self.input_shape)
        if not is_int(axis) or not -ndim <= axis < ndim or int(axis) % ndim == 0:
            raise LayersError(
                f"LogMeanExpPool: axis must be an int in [{-ndim}, {ndim - 1}] other than the "
                f"batch axis 0, for input shape {format_shape(self.input_shape)}; got {axis!r}"
            )
        if not (np.isfinite(min_beta) and min_beta >= 0):
            raise LayersError(
                f"LogMeanExpPool: min_beta must be a non-negative number; got {min_beta!r}")
        self.axis = int(axis) % ndim
        self.min_beta = float(min_beta)
        self.beta_raw = self.add_param(I.get(beta_raw), (), "beta_raw", trainable=learnable,
                                       regularizable=False, dtype=dtype)
        self.output_shape = self.input_shape[:self.axis] + self.input_shape[self.axis + 1:]

    def beta(self):
        """The sharpness ``min_beta + softplus(beta_raw)`` as a symbolic tensor."""
        return S.nn.softplus(self.beta_raw) + self.min_beta

    def get_output(self, x, *, deterministic):
        return S.wrap(log_mean_exp)(x, self.beta(), axis=self.axis)

    def pool(self, x, *, where=None):
        """The layer's pooling of any tensor, with the entries to pool given: the layer's
        sharpness ``beta`` applied to ``x`` along ``axis`` (:func:`log_mean_exp`).

        Bags of different sizes padded to a common one (the frames of a clip's real windows,
        say) are pooled with ``where`` False on the padding, by the same ``beta_raw``
        Variable as the layer's output.

        Parameters
        ----------
        x : Tensor [shape=(batch, ..., n, ...)]
            Any shape with the layer's pooled axis.
        where : Tensor [shape=x.shape, dtype=bool] or None
            Entries to pool; None: all.

        Returns
        -------
        Tensor [shape=x.shape without axis]

        Examples
        --------
        >>> import numpy as np, symbolic as S, layers as L
        >>> with S.Graph():
        ...     x = S.placeholder((None, 3))
        ...     m = S.placeholder((None, 3), "bool")
        ...     pool = L.LogMeanExpPool(x.shape, beta_raw=50.0)
        ...     f = S.function([x, m], pool.pool(x, where=m))
        ...     keep = np.array([[True, True, False]])
        ...     round(float(f(np.array([[0.0, 1.0, 5.0]], "float32"), keep)[0]), 2)
        0.99
        """
        return S.wrap(log_mean_exp)(x, self.beta(), axis=self.axis, where=where)
