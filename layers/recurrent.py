"""Recurrent layers (Elman RNN, GRU, LSTM) through :func:`symbolic.scan`.

Inputs are ``(batch, time, features)``; outputs ``(batch, time, units)``, or ``(batch, units)``
with ``only_return_final=True``. The input projections of all steps are computed at once
before the loop; the loop carries the hidden state (and the LSTM cell).

References: Elman, "Finding structure in time", 1990; Cho et al., "Learning Phrase
Representations using RNN Encoder-Decoder", EMNLP 2014 (GRU, the variant with the reset gate
applied after the recurrent product, as in cuDNN and PyTorch); Hochreiter & Schmidhuber, "Long
Short-Term Memory", 1997, with forget gates (Gers et al. 2000).
"""

from __future__ import annotations

import numpy as np

import symbolic as S
from layers import init as I
from layers.base import Layer, format_shape
from layers.errors import LayersError, check_int


class _Recurrent(Layer):
    n_gates = 1

    def __init__(self, incoming, units, *, W=None, U=None, b="zeros",
                 only_return_final=False, reverse=False, dtype="float32", name=None, seed=None):
        super().__init__(incoming, name=name, seed=seed)
        what = type(self).__name__
        if len(self.input_shape) != 3 or self.input_shape[2] is None:
            raise LayersError(
                f"{what}: input must be (batch, time, features) with known features; got shape "
                f"{format_shape(self.input_shape)}"
            )
        self.units = check_int(units, f"{what}: units")
        k = self.n_gates * self.units
        n_in = self.input_shape[2]
        self.W = self.add_param(I.get(W if W is not None else I.Glorot()), (n_in, k), "W",
                                dtype=dtype)
        u_init = I.get(U if U is not None else I.Orthogonal())
        self.U = self.add_param(
            lambda s, rng, dt: np.concatenate(
                [u_init((self.units, self.units), rng, dt) for _ in range(self.n_gates)], 1),
            (self.units, k), "U", dtype=dtype)
        self.b = self.add_param(self._bias_init(b), (k,), "b", regularizable=False, dtype=dtype)
        self.only_return_final = bool(only_return_final)
        self.reverse = bool(reverse)
        batch, time = self.input_shape[:2]
        self.output_shape = (batch, self.units) if self.only_return_final else (
            batch, time, self.units)

    def _bias_init(self, b):
        return I.get(b)

    def _finish(self, hs):
        if self.only_return_final:
            return hs[0] if self.reverse else hs[-1]
        return hs.transpose((1, 0, 2))

    def get_output(self, x, *, deterministic):
        xs = x.transpose((1, 0, 2)) @ self.W + self.b  # (time, batch, gates * units)
        h0 = S.zeros_like(xs[0][:, : self.units])
        return self._finish(self._loop(xs, h0))


class RNN(_Recurrent):
    """Elman RNN: ``h_t = tanh(x_t W + h_{t-1} U + b)``.

    Parameters
    ----------
    incoming : tuple or Layer
        ``(batch, time, features)``.
    units : int
    W : initializer [shape=(features, units)], default Glorot()
    U : initializer [shape=(units, units)], default Orthogonal()
    b : initializer [shape=(units,)], default zeros
    only_return_final : bool, default False
    reverse : bool, default False
        Run from the last step to the first.

    Examples
    --------
    >>> import symbolic as S, layers as L
    >>> with S.Graph():
    ...     L.RNN((None, 20, 3), 8).output_shape
    (None, 20, 8)
    """

    def _loop(self, xs, h0):
        def step(x_t, h, U):
            return S.tanh(x_t + h @ U)

        return S.scan(step, sequences=xs, outputs_info=h0, non_sequences=[self.U],
                      reverse=self.reverse)


class GRU(_Recurrent):
    """Gated recurrent unit (gates ordered reset, update, candidate).

    ``r = sigmoid(x W_r + h U_r + b_r)``, ``z = sigmoid(x W_z + h U_z + b_z)``,
    ``n = tanh(x W_n + b_n + r * (h U_n))``, ``h' = (1 - z) * n + z * h``.
    Parameters as :class:`RNN`, with ``W``, ``U``, ``b`` holding the three gates side by side.
    """

    n_gates = 3

    def _loop(self, xs, h0):
        u = self.units

        def step(x_t, h, U):
            hu = h @ U
            r = S.nn.sigmoid(x_t[:, :u] + hu[:, :u])
            z = S.nn.sigmoid(x_t[:, u:2 * u] + hu[:, u:2 * u])
            n = S.tanh(x_t[:, 2 * u:] + r * hu[:, 2 * u:])
            return (1.0 - z) * n + z * h

        return S.scan(step, sequences=xs, outputs_info=h0, non_sequences=[self.U],
                      reverse=self.reverse)


class LSTM(_Recurrent):
    """Long short-term memory (gates ordered input, forget, cell, output).

    ``c' = f * c + i * tanh(g)``, ``h' = o * tanh(c')`` with ``i, f, o`` sigmoids of
    ``x W + h U + b``. The forget-gate bias starts at ``forget_bias`` (default 1).
    Parameters as :class:`RNN`.
    """

    n_gates = 4

    def __init__(self, incoming, units, *, forget_bias=1.0, **kwargs):
        self.forget_bias = float(forget_bias)
        super().__init__(incoming, units, **kwargs)

    def _bias_init(self, b):
        base = I.get(b)
        u = None

        def init(shape, rng, dtype):
            nonlocal u
            value = np.array(base(shape, rng, dtype) if callable(base) else np.asarray(base),
                             dtype=dtype)
            u = shape[0] // 4
            value[u:2 * u] += self.forget_bias
            return value

        return init

    def _loop(self, xs, h0):
        u = self.units

        def step(x_t, h, c, U):
            g = x_t + h @ U
            i = S.nn.sigmoid(g[:, :u])
            f = S.nn.sigmoid(g[:, u:2 * u])
            cell = S.tanh(g[:, 2 * u:3 * u])
            o = S.nn.sigmoid(g[:, 3 * u:])
            c_new = f * c + i * cell
            return [o * S.tanh(c_new), c_new]

        hs, _ = S.scan(step, sequences=xs, outputs_info=[h0, S.zeros_like(h0)],
                       non_sequences=[self.U], reverse=self.reverse)
        return hs
