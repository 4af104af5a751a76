"""Fully connected layers and embeddings."""

from __future__ import annotations

import numpy as np

import symbolic as S
from layers import init as I
from layers.base import Layer, format_shape
from layers.errors import LayersError, check_int


class Dense(Layer):
    """Affine map of the last axis: ``y = x @ W + b`` (then ``nonlinearity``).

    Parameters
    ----------
    incoming : tuple or Layer
        Input shape ``(..., n_in)`` with ``n_in`` known.
    units : int
        Output size.
    W : initializer or array [shape=(n_in, units)], default He()
    b : initializer, array or None [shape=(units,)], default zeros
        ``None``: no bias.
    nonlinearity : callable, optional
        Applied to the affine output (a symbolic function such as ``S.nn.relu``).
    dtype : dtype, default "float32"
    name, seed
        See :class:`~layers.base.Layer`.

    Raises
    ------
    LayersError
        When ``units`` is not a positive int or the last input size is unknown.

    Examples
    --------
    >>> import numpy as np, symbolic as S, layers as L
    >>> with S.Graph():
    ...     x = S.placeholder((None, 4))
    ...     dense = L.Dense(x.shape, 3)
    ...     S.function([x], dense(x))(np.ones((2, 4), "float32")).shape
    (2, 3)
    """

    def __init__(self, incoming, units, *, W=None, b="zeros", nonlinearity=None,
                 dtype="float32", name=None, seed=None):
        super().__init__(incoming, name=name, seed=seed)
        self.units = check_int(units, "Dense: units")
        if not self.input_shape or self.input_shape[-1] is None:
            raise LayersError(
                f"Dense: the last input size must be known; got input shape "
                f"{format_shape(self.input_shape)}"
            )
        n_in = self.input_shape[-1]
        self.W = self.add_param(I.get(W if W is not None else I.He()), (n_in, self.units), "W",
                                dtype=dtype)
        self.b = None if b is None else self.add_param(
            I.get(b), (self.units,), "b", regularizable=False, dtype=dtype)
        self.nonlinearity = nonlinearity
        self.output_shape = self.input_shape[:-1] + (self.units,)

    def get_output(self, x, *, deterministic):
        y = x @ self.W
        if self.b is not None:
            y = y + self.b
        return y if self.nonlinearity is None else self.nonlinearity(y)


class Embedding(Layer):
    """Look-up table: integer indices ``(...)`` -> vectors ``(..., output_size)``.

    Parameters
    ----------
    incoming : tuple or Layer
        Shape of the integer index array.
    input_size : int
        Number of rows (indices must lie in ``[0, input_size)``; larger ones are clamped, as
        JAX's gather does).
    output_size : int
    W : initializer or array [shape=(input_size, output_size)], default Normal(1.0)
    dtype : dtype, default "float32"

    Examples
    --------
    >>> import numpy as np, symbolic as S, layers as L
    >>> with S.Graph():
    ...     idx = S.placeholder((None, 5), "int32")
    ...     emb = L.Embedding(idx.shape, 100, 8)
    ...     emb.output_shape
    (None, 5, 8)
    """

    def __init__(self, incoming, input_size, output_size, *, W=None, dtype="float32",
                 name=None, seed=None):
        super().__init__(incoming, name=name, seed=seed)
        self.input_size = check_int(input_size, "Embedding: input_size")
        self.output_size = check_int(output_size, "Embedding: output_size")
        self.W = self.add_param(I.get(W if W is not None else I.Normal(1.0)),
                                (self.input_size, self.output_size), "W", dtype=dtype)
        self.output_shape = self.input_shape + (self.output_size,)

    def get_output(self, x, *, deterministic):
        if not np.issubdtype(x.dtype, np.integer):
            raise LayersError(f"{self.name}: indices must be integers; got dtype {x.dtype}")
        return S.take(self.W, x, axis=0)
