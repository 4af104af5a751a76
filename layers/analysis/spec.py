"""The piecewise-affine network description that every analysis function works on.

A network made of affine maps and max-affine nonlinearities (ReLU, leaky ReLU, absolute value,
max-pooling, identity) is a composition of max-affine spline operators (MASOs) [1]_. This module
holds that description: a :class:`SplineNet` is a tuple of :class:`SplineLayer` (an affine map
``h @ W + b`` followed by an :class:`Activation`). Anything else (a plain parameter list, a
``layers`` network, or an object exposing ``to_spline_net()``) is converted with
:func:`as_spline_net`.

References
----------
.. [1] R. Balestriero and R. Baraniuk, "A Spline Theory of Deep Networks", ICML 2018.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import jax
import numpy as np

from layers.errors import LayersError

__all__ = [
    "Activation",
    "SplineLayer",
    "SplineNet",
    "as_spline_net",
    "activation",
    "max_pool",
    "max_pool_1d",
]

_ELEMENTWISE = ("relu", "leaky_relu", "abs", "identity")
_ALIASES = {
    "relu": "relu",
    "rectify": "relu",
    "leaky_relu": "leaky_relu",
    "leaky_rectify": "leaky_relu",
    "abs": "abs",
    "absolute": "abs",
    "identity": "identity",
    "linear": "identity",
    "max_pool": "max_pool",
}


@dataclass(frozen=True, eq=False)
class Activation:
    """A max-affine nonlinearity descriptor.

    Parameters
    ----------
    kind : str
        ``"relu"``, ``"leaky_relu"``, ``"abs"``, ``"identity"`` or ``"max_pool"``.
    slope : float
        Negative-side slope of ``"leaky_relu"`` (ignored otherwise).
    groups : np.ndarray [shape=(n_groups, k), dtype=int] or None
        For ``"max_pool"``: output unit ``g`` is the maximum of the input units ``groups[g]``.

    Notes
    -----
    Every kind is a max of affine functions of one or more input units: ReLU is
    ``max(0, z)``, leaky ReLU ``max(slope z, z)`` (``0 <= slope < 1``), absolute value
    ``max(-z, z)``, max-pooling ``max_r z_{g_r}``. The unit's *code* is the index of the
    active piece: ``z > 0`` for the three elementwise kinds, the argmax within the group for
    max-pooling; ``identity`` has no code.
    """

    kind: str
    slope: float = 0.0
    groups: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_pieces(self) -> int:
        """Number of affine pieces ``R`` of each output unit (1 for identity)."""
        if self.kind == "identity":
            return 1
        if self.kind == "max_pool":
            return int(self.groups.shape[1])
        return 2

    def n_out(self, n_in: int) -> int:
        """Number of output units given ``n_in`` input units."""
        return int(self.groups.shape[0]) if self.kind == "max_pool" else n_in

    def n_codes(self, n_in: int) -> int:
        """Length of the layer's code vector (0 for identity)."""
        return 0 if self.kind == "identity" else self.n_out(n_in)

    def _key(self):
        g = None if self.groups is None else (self.groups.shape, self.groups.tobytes())
        return (self.kind, float(self.slope), g)

    def __eq__(self, other):
        return isinstance(other, Activation) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def negative_slope(self) -> float:
        """Slope applied where the code is 0, for the elementwise kinds."""
        return {"relu": 0.0, "leaky_relu": float(self.slope), "abs": -1.0, "identity": 1.0}[
            self.kind
        ]


def activation(spec) -> Activation:
    """Turn a name, ``(name, slope)`` pair, ``None`` or :class:`Activation` into an Activation.

    Parameters
    ----------
    spec : str, tuple, None or Activation
        ``"relu"`` (alias ``"rectify"``), ``"abs"`` (``"absolute"``), ``"identity"``
        (``"linear"``, ``None``), ``("leaky_relu", slope)`` or an :class:`Activation`.

    Returns
    -------
    act : Activation

    Raises
    ------
    LayersError
        If the name is unknown or the leaky slope is outside ``[0, 1)``.

    Examples
    --------
    >>> activation(("leaky_relu", 0.1)).slope
    0.1
    """
    if isinstance(spec, Activation):
        return spec
    if spec is None:
        return Activation("identity")
    slope = 0.01
    name = spec
    if isinstance(spec, tuple):
        if len(spec) != 2 or not isinstance(spec[0], str):
            raise LayersError(
                f"activation: expected a name or a (name, slope) pair, got {spec!r}"
            )
        name, slope = spec
    if not isinstance(name, str) or name not in _ALIASES or _ALIASES[name] == "max_pool":
        raise LayersError(
            f"activation: unknown nonlinearity {spec!r}; expected one of 'relu', "
            "'leaky_relu', ('leaky_relu', slope), 'abs', 'identity', or max_pool(groups)"
        )
    kind = _ALIASES[name]
    if kind == "leaky_relu":
        slope = float(slope)
        if not 0.0 <= slope < 1.0:
            raise LayersError(
                f"activation: leaky_relu slope must be in [0, 1) to stay convex, got {slope}"
            )
        return Activation("leaky_relu", slope=slope)
    return Activation(kind)


def max_pool(groups) -> Activation:
    """Max-pooling over explicit groups of units.

    Parameters
    ----------
    groups : array_like [shape=(n_groups, k), dtype=int]
        Output unit ``g`` is ``max(z[groups[g, 0]], ..., z[groups[g, k - 1]])``.

    Returns
    -------
    act : Activation

    Raises
    ------
    LayersError
        If ``groups`` is not a 2-D integer array with ``k >= 1`` and non-negative entries.

    Examples
    --------
    >>> max_pool([[0, 1], [2, 3]]).n_out(4)
    2
    """
    g = np.asarray(groups)
    if g.ndim != 2 or g.shape[1] < 1 or g.shape[0] < 1 or not np.issubdtype(g.dtype, np.integer):
        raise LayersError(
            "max_pool: groups must be a non-empty 2-D integer array (n_groups, k), "
            f"got shape {g.shape} dtype {g.dtype}"
        )
    if g.min() < 0:
        raise LayersError(f"max_pool: group indices must be >= 0, got minimum {g.min()}")
    return Activation("max_pool", groups=g.astype(np.int64))


def max_pool_1d(n_units: int, *, size: int) -> Activation:
    """Non-overlapping max-pooling of ``size`` consecutive units out of ``n_units``.

    Raises
    ------
    LayersError
        If ``size`` does not divide ``n_units``.

    Examples
    --------
    >>> max_pool_1d(6, size=2).groups.tolist()
    [[0, 1], [2, 3], [4, 5]]
    """
    if size < 1 or n_units < 1 or n_units % size:
        raise LayersError(
            f"max_pool_1d: size must divide n_units, got n_units={n_units}, size={size}"
        )
    return max_pool(np.arange(n_units).reshape(-1, size))


@dataclass(frozen=True, eq=False)
class SplineLayer:
    """One MASO layer: ``activation(h @ W + b)``.

    Parameters
    ----------
    W : array [shape=(n_in, n_pre)] or None
        Weights (``None``: identity, e.g. a pooling layer after a ReLU layer).
    b : array [shape=(n_pre,)] or None
        Bias (``None``: zero).
    activation : Activation
    """

    W: object
    b: object
    activation: Activation

    @property
    def n_pre(self) -> int | None:
        """Number of pre-activation units (``None`` for an identity ``W`` until known)."""
        if self.W is not None:
            return int(self.W.shape[1])
        if self.b is not None:
            return int(self.b.shape[0])
        return None


@dataclass(frozen=True, eq=False)
class SplineNet:
    """A composition of MASO layers with known input dimension.

    Parameters
    ----------
    layers : tuple of SplineLayer
    in_dim : int
        Input dimension ``d``.
    pre_dims : tuple of int
        Pre-activation width of each layer.
    out_dims : tuple of int
        Output width of each layer (after its activation).

    Use :func:`as_spline_net` to build one; it checks every shape.
    """

    layers: tuple
    in_dim: int
    pre_dims: tuple
    out_dims: tuple

    @property
    def out_dim(self) -> int:
        """Output dimension of the network."""
        return self.out_dims[-1]

    @property
    def code_dims(self) -> tuple:
        """Length of each layer's code vector."""
        return tuple(
            layer.activation.n_codes(n) for layer, n in zip(self.layers, self.pre_dims)
        )

    def __call__(self, x):
        """Evaluate the network on ``x`` of shape ``(..., in_dim)`` (JAX, differentiable)."""
        from layers.analysis.affine import forward

        return forward(self, x)[0]


def _flatten(net):
    children = tuple((layer.W, layer.b) for layer in net.layers)
    aux = (tuple(layer.activation for layer in net.layers), net.in_dim, net.pre_dims,
           net.out_dims)
    return children, aux


def _unflatten(aux, children):
    acts, in_dim, pre_dims, out_dims = aux
    layers = tuple(SplineLayer(W, b, a) for (W, b), a in zip(children, acts))
    return SplineNet(layers, in_dim, pre_dims, out_dims)


# A SplineNet is a JAX pytree (weights are leaves, the structure is static), so functions
# taking one can be jitted, vmapped and differentiated with respect to the weights.
jax.tree_util.register_pytree_node(SplineNet, _flatten, _unflatten)


def _check_pair(i, W, b, n_in):
    if W is not None:
        shape = tuple(getattr(W, "shape", ()))
        if len(shape) != 2:
            raise LayersError(
                f"net: layer {i} weight W must be a 2-D array (in, out), got shape {shape}"
            )
        if n_in is not None and shape[0] != n_in:
            raise LayersError(
                f"net: layer {i} weight W has shape {shape} but its input has {n_in} units; "
                "W must be (in, out) with in equal to the previous layer's output size"
            )
    if b is not None:
        bshape = tuple(getattr(b, "shape", ()))
        n_pre = W.shape[1] if W is not None else n_in
        if len(bshape) != 1 or (n_pre is not None and bshape[0] != n_pre):
            raise LayersError(
                f"net: layer {i} bias b must have shape ({n_pre},), got {bshape}"
            )


def _is_layers_network(net) -> bool:
    """A ``layers`` Layer / Sequential, or a list of them (without importing ``layers.base``:
    if it is not loaded, no such object exists)."""
    base = sys.modules.get("layers.base")
    if base is None:
        return False
    if isinstance(net, (list, tuple)) and net:
        return all(isinstance(item, base.Layer) for item in net)
    return isinstance(net, base.Layer)


def is_network(net) -> bool:
    """Whether ``net`` is an explicit network description rather than a plain function: a
    :class:`SplineNet`, a ``layers`` network, or an object with ``to_spline_net()``."""
    return (
        isinstance(net, SplineNet)
        or _is_layers_network(net)
        or callable(getattr(net, "to_spline_net", None))
    )


def as_spline_net(
    net,
    *,
    in_dim: int | None = None,
    activation_fn="relu",
    output_activation="identity",
) -> SplineNet:
    """Convert a network description into a :class:`SplineNet`.

    Parameters
    ----------
    net : SplineNet, sequence, or object with ``to_spline_net()``
        - a :class:`SplineNet` (returned as is);
        - a sequence whose items are ``(W, b)`` pairs (``W`` of shape ``(in, out)``),
          ``(W, b, activation)`` triples or :class:`SplineLayer`; pairs get
          ``activation_fn`` except the last, which gets ``output_activation``;
        - a ``layers`` network: a :class:`~layers.Sequential`, an output layer or a list
          of layers (converted by :func:`layers.analysis.to_spline_net`);
        - any object with a ``to_spline_net()`` method returning one of the above.
    in_dim : int, optional
        Input dimension; required only when the first layer has ``W=None``.
    activation_fn : str, tuple or Activation
        Nonlinearity of hidden ``(W, b)`` pairs.
    output_activation : str, tuple or Activation
        Nonlinearity of the last ``(W, b)`` pair.

    Returns
    -------
    net : SplineNet

    Raises
    ------
    LayersError
        If the description is empty, a shape does not chain, a group index is out of range,
        or the object is not a recognised network (use the autodiff functions for arbitrary
        callables).

    Examples
    --------
    >>> import numpy as np
    >>> params = [(np.ones((2, 3)), np.zeros(3)), (np.ones((3, 1)), np.zeros(1))]
    >>> as_spline_net(params).pre_dims
    (3, 1)
    """
    if isinstance(net, SplineNet):
        return net
    if _is_layers_network(net):
        from layers.analysis.adapter import to_spline_net

        return to_spline_net(net)
    if hasattr(net, "to_spline_net") and callable(net.to_spline_net):
        return as_spline_net(
            net.to_spline_net(),
            in_dim=in_dim,
            activation_fn=activation_fn,
            output_activation=output_activation,
        )
    if isinstance(net, Callable) and not isinstance(net, Sequence):
        raise LayersError(
            f"net: got a callable {net!r}; this function needs an explicit piecewise-affine "
            "network (a list of (W, b) pairs, a SplineNet, or an object with to_spline_net()). "
            "For arbitrary JAX functions use affine_map/templates, which fall back to autodiff"
        )
    if not isinstance(net, Sequence) or len(net) == 0:
        raise LayersError(
            "net: expected a non-empty list of (W, b) pairs, SplineLayer or SplineNet, "
            f"got {type(net).__name__}"
        )
    hidden = activation(activation_fn)
    final = activation(output_activation)
    layers = []
    for i, item in enumerate(net):
        if isinstance(item, SplineLayer):
            layers.append(item)
            continue
        if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
            raise LayersError(
                f"net: layer {i} must be a (W, b) pair, a (W, b, activation) triple or a "
                f"SplineLayer, got {type(item).__name__}"
            )
        if len(item) == 3:
            act = item[2]
            act = act if isinstance(act, Activation) else activation(act)
        else:
            act = final if i == len(net) - 1 else hidden
        layers.append(SplineLayer(item[0], item[1], act))

    n = in_dim
    if layers[0].W is not None:
        _check_pair(0, layers[0].W, None, None)
        n = int(layers[0].W.shape[0])
    if n is None:
        raise LayersError("net: the first layer has W=None, so in_dim must be given")
    first_in = n
    pre_dims, out_dims = [], []
    for i, layer in enumerate(layers):
        _check_pair(i, layer.W, layer.b, n)
        n_pre = int(layer.W.shape[1]) if layer.W is not None else n
        act = layer.activation
        if act.kind == "max_pool" and act.groups.max() >= n_pre:
            raise LayersError(
                f"net: layer {i} max_pool group index {int(act.groups.max())} is out of range "
                f"for {n_pre} units"
            )
        pre_dims.append(n_pre)
        n = act.n_out(n_pre)
        out_dims.append(n)
    return SplineNet(tuple(layers), first_in, tuple(pre_dims), tuple(out_dims))
