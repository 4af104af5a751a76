"""Layers that only move data around: reshape and flatten."""

from __future__ import annotations

import numpy as np

from layers.base import Layer, format_shape
from layers.errors import LayersError


class Reshape(Layer):
    """Reshape every example; the batch axis (axis 0) is kept.

    Parameters
    ----------
    incoming : tuple or Layer
    shape : tuple of int
        The new shape of one example; one entry may be ``-1`` (inferred).

    Raises
    ------
    LayersError
        When the sizes cannot match.

    Examples
    --------
    >>> import symbolic as S, layers as L
    >>> with S.Graph():
    ...     L.Reshape((None, 784), (1, 28, 28)).output_shape
    (None, 1, 28, 28)
    """

    def __init__(self, incoming, shape, *, name=None):
        super().__init__(incoming, name=name)
        try:
            shape = tuple(int(d) for d in shape)
        except TypeError:
            raise LayersError(f"Reshape: shape must be a tuple of ints; got {shape!r}") from None
        if sum(d == -1 for d in shape) > 1 or any(d < -1 for d in shape):
            raise LayersError(
                f"Reshape: shape may hold one -1 and non-negative ints; got {shape!r}")
        if not self.input_shape:
            raise LayersError("Reshape: the input needs a batch axis; got shape ()")
        example = self.input_shape[1:]
        if any(d is None for d in example):
            raise LayersError(
                f"Reshape: the example shape must be known; got input shape "
                f"{format_shape(self.input_shape)}"
            )
        total = int(np.prod(example, dtype=np.int64))
        known = int(np.prod([d for d in shape if d != -1], dtype=np.int64))
        if -1 in shape:
            if known == 0 or total % known:
                raise LayersError(
                    f"Reshape: cannot reshape examples of shape {format_shape(example)} into "
                    f"{format_shape(shape)}"
                )
            shape = tuple(total // known if d == -1 else d for d in shape)
        elif known != total:
            raise LayersError(
                f"Reshape: cannot reshape examples of shape {format_shape(example)} "
                f"({total} values) into {format_shape(shape)} ({known} values)"
            )
        self.shape = shape
        self.output_shape = (self.input_shape[0],) + shape

    def get_output(self, x, *, deterministic):
        return x.reshape((-1,) + self.shape) if self.shape else x.reshape((-1,))


class Flatten(Reshape):
    """Flatten every example to a vector: ``(batch, ...)`` -> ``(batch, n)``.

    Examples
    --------
    >>> import symbolic as S, layers as L
    >>> with S.Graph():
    ...     L.Flatten((None, 16, 7, 7)).output_shape
    (None, 784)
    """

    def __init__(self, incoming, *, name=None):
        super().__init__(incoming, (-1,), name=name)
