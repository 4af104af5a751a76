"""Composition: layers in sequence, and residual blocks."""

from __future__ import annotations

from layers.base import Layer, format_shape, shapes_compatible
from layers.errors import LayersError


class Sequential(Layer):
    """Layers applied one after the other.

    Parameters
    ----------
    layers : list of Layer
        Each layer's ``input_shape`` must be compatible with the previous ``output_shape``.
    name : str, optional

    Raises
    ------
    LayersError
        For an empty list, a non-layer, or shapes that do not chain.

    Examples
    --------
    >>> import numpy as np, symbolic as S, layers as L
    >>> with S.Graph():
    ...     l1 = L.Dense((None, 4), 8)
    ...     net = L.Sequential([l1, L.BetaVQ(l1), L.Dense(l1, 2)])
    ...     x = S.placeholder((None, 4))
    ...     S.function([x], net(x))(np.ones((3, 4), "float32")).shape
    (3, 2)
    """

    def __init__(self, layers, *, name=None):
        layers = list(layers)
        if not layers:
            raise LayersError("Sequential: layers is empty; give at least one Layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise LayersError(
                    f"Sequential: layers[{i}] is a {type(layer).__name__}, not a Layer")
        for i in range(1, len(layers)):
            if not shapes_compatible(layers[i - 1].output_shape, layers[i].input_shape):
                raise LayersError(
                    f"Sequential: layers[{i - 1}] ({layers[i - 1].name}) outputs shape "
                    f"{format_shape(layers[i - 1].output_shape)} but layers[{i}] "
                    f"({layers[i].name}) expects {format_shape(layers[i].input_shape)}"
                )
        super().__init__(layers[0].input_shape, name=name)
        self.layers = layers
        for layer in layers:
            self.add_sublayer(layer)
        self.output_shape = layers[-1].output_shape

    def get_output(self, x, *, deterministic):
        return self.get_intermediates(x, deterministic=deterministic)[-1]

    def get_intermediates(self, x, *, deterministic=False):
        """Every layer's input and the final output: ``[x, h_1, ..., h_L]``.

        Parameters
        ----------
        x : symbolic.Tensor [shape=input_shape]
        deterministic : bool, default False

        Returns
        -------
        list of symbolic.Tensor
            ``len(layers) + 1`` tensors.
        """
        x = self._check(x)
        out = [x]
        for layer in self.layers:
            out.append(layer(out[-1], deterministic=deterministic))
        return out

    def _check(self, x):
        import symbolic as S

        x = S.as_tensor(x)
        if not shapes_compatible(x.shape, self.input_shape):
            raise LayersError(
                f"{self.name}: input has shape {format_shape(x.shape)}, expected "
                f"{format_shape(self.input_shape)}"
            )
        return x

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]


class Residual(Layer):
    """``branch(x) + shortcut(x)``, the shortcut being the identity by default.

    Parameters
    ----------
    branch : Layer
    shortcut : Layer, optional
        Must take the same input shape and give the branch's output shape (a 1x1 convolution
        or a Dense projection when shapes change).

    Raises
    ------
    LayersError
        When the two paths' shapes differ.

    Examples
    --------
    >>> import symbolic as S, layers as L
    >>> with S.Graph():
    ...     L.Residual(L.Dense((None, 4), 4)).output_shape
    (None, 4)
    """

    def __init__(self, branch, shortcut=None, *, name=None):
        if not isinstance(branch, Layer):
            raise LayersError(f"Residual: branch must be a Layer; got {type(branch).__name__}")
        super().__init__(branch.input_shape, name=name)
        self.branch = self.add_sublayer(branch)
        self.shortcut = None
        if shortcut is not None:
            if not isinstance(shortcut, Layer):
                raise LayersError(
                    f"Residual: shortcut must be a Layer or None; got {type(shortcut).__name__}")
            if not shapes_compatible(shortcut.input_shape, branch.input_shape):
                raise LayersError(
                    f"Residual: shortcut takes {format_shape(shortcut.input_shape)} but branch "
                    f"takes {format_shape(branch.input_shape)}"
                )
            self.shortcut = self.add_sublayer(shortcut)
        skip_shape = self.input_shape if shortcut is None else shortcut.output_shape
        if not shapes_compatible(skip_shape, branch.output_shape):
            raise LayersError(
                f"Residual: branch outputs {format_shape(branch.output_shape)} but the shortcut "
                f"gives {format_shape(skip_shape)}; add a projection shortcut"
            )
        self.output_shape = branch.output_shape

    def get_output(self, x, *, deterministic):
        skip = x if self.shortcut is None else self.shortcut(x, deterministic=deterministic)
        return self.branch(x, deterministic=deterministic) + skip
