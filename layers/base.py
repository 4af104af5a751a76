"""The layer contract: layers own tagged :class:`symbolic.Variable` parameters, declare their
output shape, and map symbolic tensors to symbolic tensors.

A layer is built from its ``incoming`` (a shape tuple with ``None`` for sizes known only at call
time, or another layer whose ``output_shape`` it takes) and creates its parameters right away,
inside a :func:`symbolic.scope` named after the layer. Calling it on a tensor builds its part of
the graph::

    y = layer(x, deterministic=False)

``deterministic=True`` switches off noise (dropout) and uses running statistics (batch
normalisation). Layers that keep statistics record, at each non-deterministic call, the update
expressions of those statistics in ``layer.updates``; :func:`get_updates` gathers them so that
they can be passed to :func:`symbolic.function` together with the optimizer's updates (as in
Lasagne).
"""

from __future__ import annotations

import numpy as np

import symbolic as S
from layers.errors import LayersError, is_int
from symbolic.tensor import format_shape, shapes_compatible

TRAINABLE = "trainable"
REGULARIZABLE = "regularizable"


def check_shape(shape, what="incoming"):
    """Validate a shape tuple of non-negative ints or ``None``; return it as a tuple."""
    if is_int(shape):
        shape = (int(shape),)
    try:
        shape = tuple(shape)
    except TypeError:
        raise LayersError(
            f"{what}: expected a shape tuple (ints or None) or a Layer; got {shape!r}"
        ) from None
    for d in shape:
        if d is not None and (not is_int(d) or d < 0):
            raise LayersError(
                f"{what}: a shape holds non-negative ints or None; got {shape!r}"
            )
    return tuple(None if d is None else int(d) for d in shape)


class Layer:
    """Base class of all layers.

    Parameters
    ----------
    incoming : tuple of (int or None), or Layer
        The input shape, or the layer whose output this layer takes.
    name : str, optional
        Prefix of the parameters' names; made unique in the current graph.
    seed : int, optional
        Seed of the initializers (and of the noise of random layers); by default drawn from
        the graph's deterministic seed counter.

    Attributes
    ----------
    input_shape, output_shape : tuple of (int or None)
    input_layer : Layer or None
    name : str
    params : list of symbolic.Variable
        The parameters this layer created itself (see :meth:`get_params` for all).
    sublayers : list of Layer
    updates : dict
        Variable -> update expression recorded by the last non-deterministic call.
    """

    def __init__(self, incoming, *, name=None, seed=None):
        if isinstance(incoming, Layer):
            self.input_layer = incoming
            self.input_shape = incoming.output_shape
        else:
            self.input_layer = None
            self.input_shape = check_shape(incoming, f"{type(self).__name__}: incoming")
        graph = S.current_graph()
        if name is not None and (not isinstance(name, str) or not name or "/" in name):
            raise LayersError(
                f"{type(self).__name__}: name must be a non-empty string without '/'; got {name!r}"
            )
        full = graph.unique_name(name or type(self).__name__.lower())
        self.name = full.rsplit("/", 1)[-1]
        if seed is not None and not is_int(seed):
            raise LayersError(f"{type(self).__name__}: seed must be an int or None; got {seed!r}")
        self.seed = int(graph.next_seed() if seed is None else seed)
        self.rng = np.random.default_rng(self.seed)
        self.params = []
        self.sublayers = []
        self.updates = {}
        self.output_shape = self.input_shape

    # -- parameters ---------------------------------------------------------------------
    def add_param(self, init, shape, name, *, trainable=True, regularizable=True, tags=(),
                  dtype="float32"):
        """Create a parameter Variable named ``<layer>/<name>``.

        Parameters
        ----------
        init : callable or array_like
            An initializer ``init(shape, rng, dtype)`` (see :mod:`layers.init`) or a value.
        shape : tuple of int
        name : str
        trainable, regularizable : bool
            Become the tags ``"trainable"`` and ``"regularizable"``.
        tags : iterable of str
            Extra tags.
        dtype : dtype, default "float32"

        Returns
        -------
        symbolic.Variable

        Raises
        ------
        LayersError
            When the value does not have ``shape``.
        """
        shape = tuple(int(d) for d in shape)
        value = init(shape, self.rng, dtype) if callable(init) else np.asarray(init, dtype=dtype)
        if tuple(np.shape(value)) != shape:
            raise LayersError(
                f"{self.name}: parameter {name!r} must have shape {format_shape(shape)}; the "
                f"initial value given has shape {format_shape(np.shape(value))}"
            )
        all_tags = set(tags) | ({REGULARIZABLE} if regularizable else set())
        with S.scope(self.name):
            var = S.Variable(np.asarray(value, dtype=dtype), name=name, trainable=trainable,
                             tags=all_tags)
        self.params.append(var)
        return var

    def add_sublayer(self, layer):
        """Register a layer whose parameters this layer owns too."""
        if not isinstance(layer, Layer):
            raise LayersError(f"{self.name}: sublayers must be Layers; got {type(layer).__name__}")
        self.sublayers.append(layer)
        return layer

    def get_params(self, **tags):
        """Parameters of this layer and its sublayers, filtered by tags.

        Parameters
        ----------
        **tags : bool
            ``trainable=True`` keeps variables carrying the tag, ``regularizable=False`` those
            without it (Lasagne's convention).

        Returns
        -------
        list of symbolic.Variable
            In creation order, without duplicates.
        """
        return get_params(self, **tags)

    # -- application --------------------------------------------------------------------
    def __call__(self, x, *, deterministic=False):
        """Apply the layer to a symbolic tensor.

        Parameters
        ----------
        x : symbolic.Tensor [shape=input_shape]
        deterministic : bool, default False
            Switch off noise and use running statistics.

        Returns
        -------
        symbolic.Tensor [shape=output_shape]

        Raises
        ------
        LayersError
            When ``x`` does not match :attr:`input_shape`.
        """
        x = S.as_tensor(x)
        if not shapes_compatible(x.shape, self.input_shape):
            raise LayersError(
                f"{self.name}: input has shape {format_shape(x.shape)}, expected "
                f"{format_shape(self.input_shape)}"
            )
        return self.get_output(x, deterministic=bool(deterministic))

    def get_output(self, x, *, deterministic):
        """The layer's computation; subclasses override it."""
        return x

    def __repr__(self):
        return (
            f"{type(self).__name__}(name={self.name!r}, input_shape="
            f"{format_shape(self.input_shape)}, output_shape={format_shape(self.output_shape)})"
        )


class InputLayer(Layer):
    """The start of a chain of layers: holds only a shape.

    Examples
    --------
    >>> import layers as L
    >>> L.InputLayer((None, 784)).output_shape
    (None, 784)
    """


def _walk(layer, seen, out):
    if id(layer) in seen:
        return
    seen.add(id(layer))
    if layer.input_layer is not None:
        _walk(layer.input_layer, seen, out)
    for sub in layer.sublayers:
        _walk(sub, seen, out)
    out.append(layer)


def get_all_layers(layers):
    """Every layer reachable from ``layers`` through inputs and sublayers, inputs first.

    Parameters
    ----------
    layers : Layer or list of Layer

    Returns
    -------
    list of Layer
    """
    if isinstance(layers, Layer):
        layers = [layers]
    out, seen = [], set()
    for layer in layers:
        if not isinstance(layer, Layer):
            raise LayersError(f"get_all_layers: expected Layers; got {type(layer).__name__}")
        _walk(layer, seen, out)
    return out


def get_params(layers, **tags):
    """Parameters of layers (with their inputs and sublayers), filtered by tags.

    Parameters
    ----------
    layers : Layer or list of Layer
    **tags : bool
        ``tag=True`` keeps variables with the tag, ``tag=False`` those without.

    Returns
    -------
    list of symbolic.Variable

    Examples
    --------
    >>> import symbolic as S, layers as L
    >>> with S.Graph():
    ...     net = L.Dense((None, 3), 2)
    ...     [p.name for p in L.get_params(net, regularizable=True)]
    ['dense/W']
    """
    out, seen = [], set()
    for layer in get_all_layers(layers):
        for p in layer.params:
            if id(p) in seen:
                continue
            if all((tag in p.tags) == bool(want) for tag, want in tags.items()):
                seen.add(id(p))
                out.append(p)
    return out


def count_params(layers, **tags):
    """Total number of scalar parameters (filtered as in :func:`get_params`).

    Examples
    --------
    >>> import symbolic as S, layers as L
    >>> with S.Graph():
    ...     L.count_params(L.Dense((None, 3), 2))
    8
    """
    return int(sum(int(np.prod(p.shape, dtype=np.int64)) for p in get_params(layers, **tags)))


def get_updates(layers):
    """The statistics updates recorded by the last non-deterministic calls of the layers.

    Returns
    -------
    dict
        Variable -> update expression, ready to merge with an optimizer's updates.
    """
    out = {}
    for layer in get_all_layers(layers):
        out.update(layer.updates)
    return out


def get_output(layer, x, *, deterministic=False):
    """Apply a chain of layers built with ``incoming=<layer>``, from its first layer to
    ``layer``.

    Parameters
    ----------
    layer : Layer
        The last layer of the chain.
    x : symbolic.Tensor
        Input of the first layer of the chain.
    deterministic : bool, default False

    Returns
    -------
    symbolic.Tensor
    """
    if not isinstance(layer, Layer):
        raise LayersError(f"get_output: layer must be a Layer; got {type(layer).__name__}")
    chain = []
    node = layer
    while node is not None:
        chain.append(node)
        node = node.input_layer
    for node in reversed(chain):
        x = node(x, deterministic=deterministic)
    return x
