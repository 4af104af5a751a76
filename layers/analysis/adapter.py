"""Turn a ``layers`` network into the :class:`SplineNet` that the analysis functions work on.

Every piecewise-affine layer becomes part of a max-affine spline operator (MASO) layer [1]_:
affine layers (Dense, Conv, ConvTranspose, BatchNorm with its running statistics,
Standardize, AvgPool, mean GlobalPool, Flatten, Reshape, TemporalContext's frame stacking,
Dropout and GaussianNoise in deterministic mode) are composed into one affine map on flattened
inputs, and each nonlinearity closes a layer: ReLU / leaky ReLU / absolute value element-wise,
MaxPool and max GlobalPool as max-affine groups, MaxAffine units and MaxOut as max-affine
groups over expanded pre-activations (MaxOut and Dense on a sequence of frames act on each
frame with the same weights: block-diagonal maps).

References
----------
.. [1] R. Balestriero and R. Baraniuk, "A Spline Theory of Deep Networks", ICML 2018.
"""

from __future__ import annotations

import copy
import functools

import numpy as np

from layers.analysis.spec import SplineLayer, SplineNet, activation, as_spline_net, max_pool
from layers.errors import LayersError, is_int

__all__ = ["to_spline_net"]

_DEFAULT_MAX_ENTRIES = 1 << 24  # 16M float64 entries (128 MiB) per linear-layer matrix


def to_spline_net(network, *, max_matrix_entries: int = _DEFAULT_MAX_ENTRIES) -> SplineNet:
    """Exact :class:`SplineNet` of a ``layers`` network, on flattened inputs and outputs.

    The spline network computes, for an input ``x`` of the network's example shape flattened
    in C order, the network's deterministic output (dropout and noise off, batch
    normalisation with its running statistics) flattened in C order.

    Parameters
    ----------
    network : layers.Sequential, list of layers.Layer, or layers.Layer
        A :class:`~layers.Sequential` (nested ones are expanded), a list of layers applied in
        order, or the output layer of a Lasagne-style graph (followed back through
        ``input_layer``).
    max_matrix_entries : int
        Largest ``inputs x outputs`` matrix built for a convolution, transposed convolution
        or average pooling, whose exact affine map is obtained by applying the layer to the
        identity basis (so only small inputs are practical: a 1x28x28 input through 8
        filters is 784 x 6272 = 4.9M entries).

    Returns
    -------
    net : SplineNet

    Raises
    ------
    LayersError
        If a layer is not piecewise affine (BetaVQ, SoftVQ, LayerNorm, recurrent layers,
        residual blocks, a smooth nonlinearity), the example shape is not fully known, a
        pooling layer pads, or a convolution's matrix would exceed ``max_matrix_entries``.
        The message names the layer.

    Examples
    --------
    >>> import numpy as np, symbolic as S, layers as L
    >>> with S.Graph():
    ...     h = L.Dense((None, 2), 4, nonlinearity=S.nn.relu)
    ...     out = L.Dense(h, 1)
    ...     net = to_spline_net(out)
    >>> net.pre_dims, [layer.activation.kind for layer in net.layers]
    ((4, 1), ['relu', 'identity'])
    """
    if not is_int(max_matrix_entries) or max_matrix_entries < 1:
        raise LayersError(
            f"max_matrix_entries: expected a positive int, got {max_matrix_entries!r}"
        )
    chain = _chain(network)
    shape = _example_shape(chain[0])
    d_in = int(np.prod(shape))
    builder = _Builder(d_in, shape, int(max_matrix_entries))
    for layer in chain:
        builder.add(layer)
    return builder.finish()


def _chain(network):
    """The layers of a network in application order, Sequentials expanded."""
    from layers.base import Layer
    from layers.compose import Sequential

    if isinstance(network, Sequential):
        items = list(network.layers)
    elif isinstance(network, Layer):
        items = []
        layer = network
        while layer is not None:
            items.append(layer)
            layer = layer.input_layer
        items.reverse()
    elif isinstance(network, (list, tuple)) and network:
        items = list(network)
    else:
        raise LayersError(
            "network: expected a layers.Sequential, a non-empty list of layers or an output "
            f"Layer, got {type(network).__name__}"
        )
    out = []
    for i, item in enumerate(items):
        if isinstance(item, Sequential):
            out.extend(_chain(item))
        elif isinstance(item, Layer):
            out.append(item)
        else:
            raise LayersError(f"network: item {i} is a {type(item).__name__}, not a Layer")
    return out


def _example_shape(layer):
    shape = tuple(layer.input_shape)
    if len(shape) < 2 or any(d is None for d in shape[1:]):
        raise LayersError(
            f"network: the input shape {shape} of {layer.name} must be (batch, ...) with every "
            "example size known, to build the exact spline network"
        )
    return shape[1:]


def _elementwise(fn, layer):
    """The Activation of a Dense/Conv ``nonlinearity`` callable."""
    import symbolic as S

    if fn is None:
        return activation("identity")
    if fn is S.nn.relu:
        return activation("relu")
    if fn is S.abs or fn is S.absolute:
        return activation("abs")
    if fn is S.nn.leaky_relu:
        return activation(("leaky_relu", 0.01))
    if (
        isinstance(fn, functools.partial)
        and fn.func is S.nn.leaky_relu
        and not fn.args
        and set(fn.keywords) <= {"negative_slope"}
    ):
        return activation(("leaky_relu", float(fn.keywords.get("negative_slope", 0.01))))
    raise LayersError(
        f"network: layer {layer.name} has nonlinearity {fn!r}, which is not piecewise affine; "
        "supported: None, S.nn.relu, S.nn.leaky_relu (or functools.partial of it with "
        "negative_slope), S.abs"
    )


def _value(var):
    return np.asarray(var.value, dtype=np.float64)


class _Builder:
    """Accumulates the affine map since the last nonlinearity and emits spline layers."""

    def __init__(self, d_in, shape, limit):
        self.d_in = d_in
        self.shape = tuple(shape)  # current example shape
        self.limit = limit
        self.A = None  # pending affine map (None: identity), x @ A + c
        self.c = None
        self.layers = []

    @property
    def size(self):
        return int(np.prod(self.shape))

    def affine(self, M, v):
        """Compose the pending map with ``h -> h @ M + v`` (``M=None``: identity)."""
        if M is not None:
            self.A = M if self.A is None else self.A @ M
            self.c = None if self.c is None else self.c @ M
        if v is not None:
            self.c = v.copy() if self.c is None else self.c + v

    def emit(self, act):
        self.layers.append(SplineLayer(self.A, self.c, act))
        self.A = self.c = None

    def finish(self):
        if self.A is not None or self.c is not None or not self.layers:
            self.emit(activation("identity"))
        return as_spline_net(self.layers, in_dim=self.d_in)

    def add(self, layer):
        from layers import base, conv, dense, noise, norm, pool, shape, spline, temporal

        kind = type(layer)
        if kind is base.InputLayer or isinstance(layer, (noise.Dropout, noise.GaussianNoise)):
            return
        if isinstance(layer, shape.Reshape):  # Flatten too: C-order reshapes keep the order
            self.shape = tuple(layer.output_shape[1:])
            return
        if isinstance(layer, dense.Dense):
            self._dense(layer)
        elif isinstance(layer, norm.BatchNorm):
            self._batch_norm(layer)
        elif isinstance(layer, norm.Standardize):
            self._standardize(layer)
        elif isinstance(layer, temporal.TemporalContext):
            self._temporal_context(layer)
        elif isinstance(layer, (conv.Conv, conv.ConvTranspose)):
            self._by_basis(layer)
            self.shape = tuple(layer.output_shape[1:])
            self._nonlinearity(layer)
        elif isinstance(layer, pool.MaxPool):
            self._max_pool(layer)
        elif isinstance(layer, pool.AvgPool) or (
            isinstance(layer, pool.GlobalPool) and layer.mode == "mean"
        ):
            self._by_basis(layer)
            self.shape = tuple(layer.output_shape[1:])
        elif isinstance(layer, pool.GlobalPool):
            C = self.shape[0]
            self.emit(max_pool(np.arange(self.size).reshape(C, -1)))
            self.shape = (C,)
        elif isinstance(layer, spline.MaxOut):
            self._maxout(layer)
        elif isinstance(layer, spline.MaxAffine):
            self._max_affine(layer)
        else:
            hint = ""
            if isinstance(layer, spline.BetaVQ):
                hint = " (a smooth, soft-VQ nonlinearity; use the autodiff affine_map instead)"
            elif isinstance(layer, pool.LogMeanExpPool):
                hint = (" (a smooth maximum; analyse the network up to its input, and use the "
                        "autodiff affine_map for the pooled output)")
            raise LayersError(
                f"network: layer {layer.name} ({kind.__name__}) is not supported by "
                f"to_spline_net{hint}; supported: Dense, Conv, ConvTranspose, BatchNorm, "
                "MaxPool, AvgPool, GlobalPool, MaxAffine, MaxOut, Flatten, Reshape, Dropout, "
                "GaussianNoise, Standardize, TemporalContext"
            )

    def _nonlinearity(self, layer):
        act = _elementwise(getattr(layer, "nonlinearity", None), layer)
        if act.kind != "identity":
            self.emit(act)

    def _dense(self, layer):
        W = _value(layer.W)
        b = None if layer.b is None else _value(layer.b)
        lead = self.size // W.shape[0]
        if lead > 1:  # Dense acts on the last axis: block-diagonal on flattened examples
            self._check_size(layer, self.size, lead * W.shape[1])
            W = np.kron(np.eye(lead), W)
            b = None if b is None else np.tile(b, lead)
        self.affine(W, b)
        self.shape = tuple(layer.output_shape[1:])
        self._nonlinearity(layer)

    def _batch_norm(self, layer):
        full = (1,) + self.shape
        inv = 1.0 / np.sqrt(_value(layer.var) + layer.epsilon)
        scale = inv * (1.0 if layer.gamma is None else _value(layer.gamma))
        shift = -_value(layer.mean) * scale
        if layer.beta is not None:
            shift = shift + _value(layer.beta)
        scale = np.broadcast_to(scale.reshape(layer.broadcast), full).ravel()
        shift = np.broadcast_to(shift.reshape(layer.broadcast), full).ravel()
        if self.A is None:
            self.A = np.diag(scale)
        else:
            self.A = self.A * scale
        self.c = shift if self.c is None else self.c * scale + shift

    def _check_size(self, layer, n_in, n_out):
        if n_in * n_out > self.limit:
            raise LayersError(
                f"network: layer {layer.name} maps {n_in} inputs to {n_out} outputs, whose "
                f"exact matrix has {n_in * n_out} entries, above max_matrix_entries="
                f"{self.limit}; use a smaller input or raise max_matrix_entries"
            )

    def _by_basis(self, layer):
        """Exact affine map of a linear layer: apply it (deterministic, no nonlinearity) to
        zero and to every basis vector of its flattened input."""
        import symbolic as S

        n_in, n_out = self.size, int(np.prod(layer.output_shape[1:]))
        self._check_size(layer, n_in, n_out)
        probe = copy.copy(layer)  # the layer itself is left untouched
        if hasattr(probe, "nonlinearity"):
            probe.nonlinearity = None
        with S.Graph():  # a private graph: nothing is added to the user's
            x = S.placeholder((None,) + self.shape, "float32")
            f = S.function([x], probe.get_output(x, deterministic=True))
        basis = np.concatenate([np.zeros((1, n_in)), np.eye(n_in)]).astype(np.float32)
        y = np.asarray(f(basis.reshape((n_in + 1,) + self.shape)), dtype=np.float64)
        y = y.reshape(n_in + 1, n_out)
        self.affine(y[1:] - y[0], y[0])

    def _max_pool(self, layer):
        pads = layer.padding
        valid = pads == "VALID" if isinstance(pads, str) else not np.any(np.asarray(pads))
        if not valid:
            raise LayersError(
                f"network: layer {layer.name} pads its input (padding={pads!r}); only "
                "padding='valid' max-pooling is supported by to_spline_net"
            )
        index = np.arange(self.size).reshape(self.shape)
        n = len(layer.window)
        axes = tuple(range(1, n + 1))
        win = np.lib.stride_tricks.sliding_window_view(index, layer.window, axis=axes)
        win = win[(slice(None),) + tuple(slice(None, None, s) for s in layer.stride)]
        self.emit(max_pool(win.reshape(-1, int(np.prod(layer.window)))))
        self.shape = tuple(layer.output_shape[1:])

    def _maxout(self, layer):
        W = _value(layer.W)  # (n_in, units, R)
        n_in, units, R = W.shape
        lead = self.size // n_in  # MaxOut acts on the last axis: the same units at each
        M = W.reshape(n_in, units * R)  # leading position (a frame of a sequence, say)
        b = _value(layer.b).reshape(units * R)
        if lead > 1:
            self._check_size(layer, self.size, lead * units * R)
            M, b = np.kron(np.eye(lead), M), np.tile(b, lead)
        self.affine(M, b)
        self.emit(max_pool(np.arange(lead * units * R).reshape(lead * units, R)))
        self.shape = self.shape[:-1] + (units,)

    def _standardize(self, layer):
        """(x - mean) / std per channel: the diagonal affine map x / std - mean / std."""
        axis = layer.axis - 1  # axis of the example shape
        channel = np.arange(self.shape[axis]).reshape(
            [-1 if i == axis else 1 for i in range(len(self.shape))]
        )
        channel = np.broadcast_to(channel, self.shape).ravel()
        scale = 1.0 / _value(layer.std)[channel]
        shift = -_value(layer.mean)[channel] * scale
        if self.A is None:
            self._check_size(layer, self.size, self.size)
        self.A = np.diag(scale) if self.A is None else self.A * scale
        self.c = shift if self.c is None else self.c * scale + shift

    def _temporal_context(self, layer):
        """Frame stacking: a 0/1 selection matrix from (C, T) to (T, K * C)."""
        from layers.temporal import context_indices

        C, T = self.shape
        K = len(layer.offsets)
        self._check_size(layer, self.size, T * K * C)
        idx = context_indices(T, layer.offsets)  # (T, K) input frames
        rows = (np.arange(C)[None, None, :] * T + idx[:, :, None]).ravel()  # input c * T + t'
        M = np.zeros((self.size, T * K * C))
        M[rows, np.arange(T * K * C)] = 1.0
        self.affine(M, None)
        self.shape = (T, K * C)

    def _max_affine(self, layer):
        slopes, offsets = _value(layer.slopes), _value(layer.offsets)
        R = slopes.shape[-1]
        if slopes.ndim == 1:
            ch_slopes = np.broadcast_to(slopes, (self.size, R))
            ch_offsets = np.broadcast_to(offsets, (self.size, R))
        else:
            axis = layer.axis % (len(self.shape) + 1) - 1  # axis of the example shape
            channel = np.arange(self.shape[axis]).reshape(
                [-1 if i == axis else 1 for i in range(len(self.shape))]
            )
            channel = np.broadcast_to(channel, self.shape).ravel()
            ch_slopes, ch_offsets = slopes[channel], offsets[channel]
        shared = bool(np.all(ch_slopes == ch_slopes[:1]) and np.all(ch_offsets == 0))
        if R == 2 and shared and ch_slopes[0, 1] == 1.0 and -1.0 <= ch_slopes[0, 0] < 1.0:
            lo = float(ch_slopes[0, 0])
            if lo == -1.0:
                self.emit(activation("abs"))
            elif lo == 0.0:
                self.emit(activation("relu"))
            elif lo > 0.0:
                self.emit(activation(("leaky_relu", lo)))
            if lo == -1.0 or lo >= 0.0:
                return
        n = self.size
        E = np.zeros((n, n * R))
        rows = np.repeat(np.arange(n), R)
        E[rows, np.arange(n * R)] = ch_slopes.ravel()
        self.affine(E, ch_offsets.ravel().copy())
        self.emit(max_pool(np.arange(n * R).reshape(n, R)))
