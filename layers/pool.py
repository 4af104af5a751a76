"""Pooling layers over channels-first inputs ``(batch, channels, *spatial)``.

Max-pooling is a max-affine spline operator: each output is the maximum of the ``R = prod
(window)`` affine (selection) maps of its window (Balestriero & Baraniuk, "A Spline Theory of
Deep Networks", ICML 2018).
"""

from __future__ import annotations

import symbolic as S
from layers.base import Layer, format_shape
from layers.conv import conv_output_size, padding_spec
from layers.errors import LayersError, check_ints


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
