"""Convolution layers over channels-first inputs ``(batch, channels, *spatial)``.

The layers cross-correlate (as JAX, PyTorch and Lasagne with ``flip_filters=False``); their
weights have the layout ``(n_filters, channels // groups, *kernel)`` of :func:`symbolic.conv`.
"""

from __future__ import annotations

import numpy as np

import symbolic as S
from layers import init as I
from layers.base import Layer, format_shape
from layers.errors import LayersError, check_int, check_ints, is_int


def padding_spec(padding, n, what):
    """A convolution or pooling ``padding`` argument checked and normalised.

    Parameters
    ----------
    padding : {"same", "valid"} or int or sequence
        A mode (any case), one int for every side, or ``n`` entries each an int or a
        ``(low, high)`` pair.
    n : int
        Number of spatial axes.
    what : str
        The layer's name for messages.

    Returns
    -------
    str or tuple of (int, int)
        ``"SAME"``, ``"VALID"`` or ``n`` ``(low, high)`` pairs.

    Raises
    ------
    LayersError
        For anything else.
    """
    if isinstance(padding, str):
        if padding.upper() not in ("SAME", "VALID"):
            raise LayersError(f"{what}: padding must be 'same', 'valid', an int or pairs; got "
                              f"{padding!r}")
        return padding.upper()
    if is_int(padding):
        return ((int(padding),) * 2,) * n
    try:
        pads = tuple((int(p), int(p)) if np.ndim(p) == 0 else (int(p[0]), int(p[1]))
                     for p in padding)
    except (TypeError, IndexError):
        raise LayersError(f"{what}: padding must be 'same', 'valid', an int or pairs; got "
                          f"{padding!r}") from None
    if len(pads) != n:
        raise LayersError(f"{what}: padding needs {n} entries; got {padding!r}")
    return pads


def conv_output_size(size, kernel, stride, dilation, pad):
    """Output length of a convolution/pooling along one axis (``None`` stays ``None``).

    ``pad`` is ``"SAME"``, ``"VALID"`` or a ``(low, high)`` pair.
    """
    if size is None:
        return None
    if pad == "SAME":
        return -(-size // stride)
    lo, hi = (0, 0) if pad == "VALID" else pad
    span = dilation * (kernel - 1) + 1
    return max(0, (size + lo + hi - span) // stride + 1)


def _check_input(layer, n_spatial):
    shape = layer.input_shape
    if len(shape) != n_spatial + 2:
        raise LayersError(
            f"{type(layer).__name__}: input must be (batch, channels, {n_spatial} spatial "
            f"axes); got shape {format_shape(shape)}"
        )
    if shape[1] is None:
        raise LayersError(
            f"{type(layer).__name__}: the number of input channels must be known; got shape "
            f"{format_shape(shape)}"
        )


class Conv(Layer):
    """N-d convolution layer (N = 1, 2, 3 from the input's rank).

    Parameters
    ----------
    incoming : tuple or Layer
        ``(batch, channels, *spatial)``.
    n_filters : int
    kernel_size : int or tuple of int
    stride, dilation : int or tuple of int, default 1
    padding : {"valid", "same"}, int or pairs, default "valid"
    groups : int, default 1
    W : initializer or array [shape=(n_filters, channels // groups, *kernel)], default He()
    b : initializer, array or None [shape=(n_filters,)], default zeros
    nonlinearity : callable, optional
    dtype : dtype, default "float32"

    Raises
    ------
    LayersError
        For a bad kernel, stride, padding, or channels not divisible by ``groups``.
    """

    n_spatial = None

    def __init__(self, incoming, n_filters, kernel_size, *, stride=1, padding="valid",
                 dilation=1, groups=1, W=None, b="zeros", nonlinearity=None,
                 dtype="float32", name=None, seed=None):
        super().__init__(incoming, name=name, seed=seed)
        n = self.n_spatial if self.n_spatial is not None else len(self.input_shape) - 2
        what = type(self).__name__
        if n not in (1, 2, 3):
            raise LayersError(
                f"{what}: input must be (batch, channels, *spatial) with 1 to 3 spatial axes; got "
                f"shape {format_shape(self.input_shape)}"
            )
        _check_input(self, n)
        self.n_filters = check_int(n_filters, f"{what}: n_filters")
        self.kernel_size = check_ints(kernel_size, n, f"{what}: kernel_size")
        self.stride = check_ints(stride, n, f"{what}: stride")
        self.dilation = check_ints(dilation, n, f"{what}: dilation")
        self.padding = padding_spec(padding, n, what)
        channels = self.input_shape[1]
        if not is_int(groups) or groups < 1 \
                or channels % groups or self.n_filters % groups:
            raise LayersError(
                f"{what}: groups must be a positive int dividing the {channels} input channels "
                f"and the {self.n_filters} filters; got {groups!r}"
            )
        self.groups = int(groups)
        w_shape = (self.n_filters, channels // self.groups) + self.kernel_size
        self.W = self.add_param(I.get(W if W is not None else I.He()), w_shape, "W", dtype=dtype)
        self.b = None if b is None else self.add_param(
            I.get(b), (self.n_filters,), "b", regularizable=False, dtype=dtype)
        self.nonlinearity = nonlinearity
        pads = [self.padding] * n if isinstance(self.padding, str) else self.padding
        spatial = tuple(
            conv_output_size(s, k, st, d, p)
            for s, k, st, d, p in zip(self.input_shape[2:], self.kernel_size, self.stride,
                                      self.dilation, pads)
        )
        self.output_shape = (self.input_shape[0], self.n_filters) + spatial

    def get_output(self, x, *, deterministic):
        y = S.conv(x, self.W, stride=self.stride, padding=self.padding,
                   dilation=self.dilation, groups=self.groups)
        if self.b is not None:
            y = y + self.b.reshape((-1,) + (1,) * len(self.kernel_size))
        return y if self.nonlinearity is None else self.nonlinearity(y)


class Conv1D(Conv):
    """1-D convolution: input ``(batch, channels, time)``; see :class:`Conv`.

    Examples
    --------
    >>> import symbolic as S, layers as L
    >>> with S.Graph():
    ...     L.Conv1D((None, 2, 100), 8, 5, stride=2).output_shape
    (None, 8, 48)
    """

    n_spatial = 1


class Conv2D(Conv):
    """2-D convolution: input ``(batch, channels, height, width)``; see :class:`Conv`.

    Examples
    --------
    >>> import symbolic as S, layers as L
    >>> with S.Graph():
    ...     L.Conv2D((None, 1, 28, 28), 16, 3, padding="same").output_shape
    (None, 16, 28, 28)
    """

    n_spatial = 2


class ConvTranspose(Layer):
    """Transposed convolution (the adjoint of :class:`Conv` with the same filters), N = 1-3.

    Parameters
    ----------
    incoming : tuple or Layer
        ``(batch, channels, *spatial)``.
    n_filters : int
        Output channels.
    kernel_size, stride, dilation : int or tuple of int
    padding : {"valid", "same"}, default "valid"
        ``"valid"`` gives ``(n - 1) * stride + dilation * (kernel - 1) + 1`` outputs per axis,
        ``"same"`` gives ``n * stride``.
    W : initializer or array [shape=(channels, n_filters, *kernel)], default He()
        The filters of the forward convolution (from ``n_filters`` to ``channels``).
    b : initializer, array or None [shape=(n_filters,)]
    nonlinearity : callable, optional

    Examples
    --------
    >>> import symbolic as S, layers as L
    >>> with S.Graph():
    ...     L.ConvTranspose((None, 8, 7, 7), 4, 3, stride=2).output_shape
    (None, 4, 15, 15)
    """

    def __init__(self, incoming, n_filters, kernel_size, *, stride=1, padding="valid",
                 dilation=1, W=None, b="zeros", nonlinearity=None, dtype="float32",
                 name=None, seed=None):
        super().__init__(incoming, name=name, seed=seed)
        n = len(self.input_shape) - 2
        if n not in (1, 2, 3):
            raise LayersError(
                f"ConvTranspose: input must be (batch, channels, *spatial) with 1 to 3 spatial "
                f"axes; got shape {format_shape(self.input_shape)}"
            )
        _check_input(self, n)
        n_filters = check_int(n_filters, "ConvTranspose: n_filters")
        if not isinstance(padding, str) or padding.upper() not in ("SAME", "VALID"):
            raise LayersError(
                f"ConvTranspose: padding must be 'valid' or 'same'; got {padding!r}"
            )
        self.n_filters = int(n_filters)
        self.kernel_size = check_ints(kernel_size, n, "ConvTranspose: kernel_size")
        self.stride = check_ints(stride, n, "ConvTranspose: stride")
        self.dilation = check_ints(dilation, n, "ConvTranspose: dilation")
        self.padding = padding.upper()
        w_shape = (self.input_shape[1], self.n_filters) + self.kernel_size
        self.W = self.add_param(I.get(W if W is not None else I.He()), w_shape, "W", dtype=dtype)
        self.b = None if b is None else self.add_param(
            I.get(b), (self.n_filters,), "b", regularizable=False, dtype=dtype)
        self.nonlinearity = nonlinearity

        def size(s, k, st, d):
            if s is None:
                return None
            if self.padding == "SAME":
                return s * st
            return (s - 1) * st + d * (k - 1) + 1

        spatial = tuple(size(s, k, st, d) for s, k, st, d in
                        zip(self.input_shape[2:], self.kernel_size, self.stride, self.dilation))
        self.output_shape = (self.input_shape[0], self.n_filters) + spatial

    def get_output(self, x, *, deterministic):
        y = S.conv_transpose(x, self.W, stride=self.stride, padding=self.padding,
                             dilation=self.dilation)
        if self.b is not None:
            y = y + self.b.reshape((-1,) + (1,) * len(self.kernel_size))
        return y if self.nonlinearity is None else self.nonlinearity(y)
