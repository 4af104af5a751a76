"""Spline nonlinearities: max-affine spline operators (MASOs) and their soft (VQ) versions.

A MASO with ``R`` pieces maps each input ``x`` to ``max_r (a_r x + b_r)``; ReLU
(pieces ``0`` and ``x``), leaky ReLU (``alpha x`` and ``x``), absolute value (``-x`` and ``x``) and
max-pooling (the ``R`` selections of a window) are all MASOs, and a network built from affine
maps and MASOs is a continuous piecewise-affine spline of its input (Balestriero & Baraniuk,
"A Spline Theory of Deep Networks", ICML 2018).

Choosing the piece is a hard vector quantisation (VQ) of the input. Replacing it by a soft
assignment with inverse temperature ``beta / (1 - beta)`` gives the beta-VQ unit
``sum_r softmax_r(beta / (1 - beta) * z_r) * z_r`` with ``z_r = a_r x + b_r`` (Balestriero &
Baraniuk, "From Hard to Soft: Understanding Deep Network Nonlinearities via Vector Quantization
and Statistical Inference", ICLR 2019): for ReLU's pieces it is ``x * sigmoid(beta / (1 - beta)
* x)``, which is swish (sigmoid-weighted linear unit) at ``beta = 1/2``, tends to ReLU as
``beta -> 1`` and to ``x / 2`` as ``beta -> 0``. Here ``beta = sigmoid(theta)``, so the inverse
temperature is ``exp(theta)`` and ``theta`` is learned freely, one per channel.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_derivatives import SymbolicZero

import symbolic as S
from layers import init as I
from layers.base import Layer, format_shape
from layers.errors import LayersError, check_int


def pieces(kind, *, alpha=0.01):
    """Slopes and offsets ``(a, b)`` [shape=(R,)] of a named MASO.

    Parameters
    ----------
    kind : {"relu", "leaky_relu", "abs"}
    alpha : float, default 0.01
        Negative slope of the leaky ReLU.

    Returns
    -------
    slopes, offsets : numpy.ndarray [shape=(2,)]

    Examples
    --------
    >>> pieces("abs")
    (array([-1.,  1.], dtype=float32), array([0., 0.], dtype=float32))
    """
    table = {"relu": (0.0, 1.0), "leaky_relu": (float(alpha), 1.0), "abs": (-1.0, 1.0)}
    if kind not in table:
        raise LayersError(f"pieces: kind must be one of {sorted(table)}; got {kind!r}")
    return np.asarray(table[kind], "float32"), np.zeros(2, "float32")


def _broadcast(params, x, axis):
    """(C, R) or (R,) -> shape broadcasting against x[..., None] along ``axis``."""
    if params.ndim == 1 or axis is None:
        return params
    shape = [1] * x.ndim + [params.shape[-1]]
    shape[axis % x.ndim] = params.shape[0]
    return params.reshape(shape)


def maso(x, slopes, offsets, *, axis=None):
    """Max-affine spline: ``max_r (slopes[r] * x + offsets[r])``, element-wise.

    Parameters
    ----------
    x : jax.Array [shape=(...)]
    slopes, offsets : jax.Array [shape=(R,) or (C, R)]
        Shared pieces, or one set per channel along ``axis`` (``x.shape[axis] == C``).
    axis : int, optional
        The channel axis, for per-channel pieces.

    Returns
    -------
    jax.Array [shape=x.shape]

    Examples
    --------
    >>> import numpy as np
    >>> a, b = pieces("relu")
    >>> maso(np.array([-2.0, 3.0]), a, b).tolist()
    [0.0, 3.0]
    """
    x = jnp.asarray(x)
    a, b = jnp.asarray(slopes), jnp.asarray(offsets)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        return _maso_value(x, a, b, axis)[0].astype(jnp.result_type(x))
    return _maso(x, a, b, axis)


def _piece(params, x, axis, r):
    """Piece ``r`` of (C, R) or (R,) parameters, shaped to broadcast against ``x``."""
    if params.ndim == 1 or axis is None:
        return params[..., r]
    shape = [1] * x.ndim
    shape[axis % x.ndim] = params.shape[0]
    return params[:, r].reshape(shape)


def _maso_value(x, a, b, axis):
    """The MASO and, for each piece after the first, where it takes over from the earlier
    ones (``piece > max so far``: ties go to the first maximal piece, as in
    :func:`maso_code`)."""
    z, takes_over = None, []
    for r in range(a.shape[-1]):
        piece = x * _piece(a, x, axis, r) + _piece(b, x, axis, r)
        if z is None:
            z = piece
            continue
        better = piece > z
        takes_over.append(better)
        z = jnp.where(better, piece, z)
    return z, takes_over


# The derivative is written out (that of the active piece: a_r dx + x da_r + db_r), computed
# one piece at a time. Built from a (..., R) array and a max over its last axis, the same
# MASO has a gradient that XLA:CPU runs some 50 times slower (a ReLU MaxAffine on a
# (242, 32, 14, 14) batch: 134 ms against 2.6 ms), and through jnp.maximum it costs a
# network's training step a third more than jax.nn.relu does.
@functools.partial(jax.custom_jvp, nondiff_argnums=(3,))
def _maso(x, a, b, axis):
    return _maso_value(x, a, b, axis)[0]


@functools.partial(_maso.defjvp, symbolic_zeros=True)
def _maso_jvp(axis, primals, tangents):
    x, a, b = primals
    z, takes_over = _maso_value(x, a, b, axis)

    def active(params):
        out = _piece(params, x, axis, 0)
        for r, better in enumerate(takes_over, 1):
            out = jnp.where(better, _piece(params, x, axis, r), out)
        return out

    tx, ta, tb = tangents
    terms = []
    if not isinstance(tx, SymbolicZero):
        terms.append(active(a) * tx)
    if not isinstance(ta, SymbolicZero):
        terms.append(x * active(ta))
    if not isinstance(tb, SymbolicZero):
        terms.append(jnp.broadcast_to(active(tb), z.shape))
    if not terms:
        return z, jnp.zeros_like(z)
    t = terms[0]
    for term in terms[1:]:
        t = t + term
    return z, t.astype(z.dtype)


def maso_code(x, slopes, offsets, *, axis=None):
    """Index of the active piece (the hard VQ code) of :func:`maso`, same shape as ``x``."""
    z = x[..., None] * _broadcast(jnp.asarray(slopes), x, axis) + _broadcast(
        jnp.asarray(offsets), x, axis)
    return jnp.argmax(z, axis=-1)


def beta_vq(x, slopes, offsets, beta_logit, *, axis=None):
    """beta-VQ unit: ``sum_r softmax_r(exp(beta_logit) * z_r) * z_r``, ``z_r = a_r x + b_r``.

    Parameters
    ----------
    x : jax.Array [shape=(...)]
    slopes, offsets : jax.Array [shape=(R,) or (C, R)]
    beta_logit : jax.Array [shape=() or (C,)]
        ``log(beta / (1 - beta))``; 0 is ``beta = 1/2`` (soft VQ).
    axis : int, optional
        Channel axis for per-channel pieces or ``beta_logit``.

    Returns
    -------
    jax.Array [shape=x.shape]

    Examples
    --------
    >>> import numpy as np, jax
    >>> a, b = pieces("relu")
    >>> x = np.linspace(-3, 3, 7, dtype="float32")
    >>> bool(np.allclose(beta_vq(x, a, b, 0.0), jax.nn.swish(x), atol=1e-6))
    True
    """
    x = jnp.asarray(x)
    slopes, offsets = jnp.asarray(slopes), jnp.asarray(offsets)
    z = x[..., None] * _broadcast(slopes, x, axis) + _broadcast(offsets, x, axis)
    logit = jnp.asarray(beta_logit, dtype=z.dtype)
    if logit.ndim and axis is not None:
        shape = [1] * x.ndim
        shape[axis % x.ndim] = logit.shape[0]
        logit = logit.reshape(shape)
    weights = jax.nn.softmax(jnp.exp(logit)[..., None] * z, axis=-1)
    return jnp.sum(weights * z, axis=-1).astype(x.dtype)


def beta_to_logit(beta):
    """``log(beta / (1 - beta))`` for ``beta`` in (0, 1)."""
    beta = np.asarray(beta, dtype="float64")
    if np.any(beta <= 0) or np.any(beta >= 1):
        raise LayersError(f"beta must lie in the open interval (0, 1); got {beta.tolist()!r}")
    return np.log(beta) - np.log1p(-beta)


def _channels(layer, axis):
    if axis is None:
        return None
    ndim = len(layer.input_shape)
    if not -ndim <= axis < ndim:
        raise LayersError(
            f"{type(layer).__name__}: axis {axis} is out of range for input shape "
            f"{format_shape(layer.input_shape)}"
        )
    c = layer.input_shape[axis]
    if c is None:
        raise LayersError(
            f"{type(layer).__name__}: the channel axis {axis} must have a known size; got input "
            f"shape {format_shape(layer.input_shape)}"
        )
    return c


class MaxAffine(Layer):
    """Learnable element-wise MASO ``max_r (a_r x + b_r)`` with ``R`` pieces per channel.

    Parameters
    ----------
    incoming : tuple or Layer
    n_pieces : int >= 2, default 2
    init : {"relu", "leaky_relu", "abs", "random"}, default "relu"
        Start from a named MASO (``n_pieces`` must be 2) or random slopes.
    axis : int or None, default 1
        Channel axis (one set of pieces per channel); ``None`` shares them.
    learnable : bool, default True
        Whether slopes and offsets are trainable.

    Examples
    --------
    >>> import numpy as np, symbolic as S, layers as L
    >>> with S.Graph():
    ...     x = S.placeholder((None, 2))
    ...     f = S.function([x], L.MaxAffine(x.shape, init="abs")(x))
    ...     f(np.array([[-1.5, 2.0]], "float32")).tolist()
    [[1.5, 2.0]]
    """

    def __init__(self, incoming, *, n_pieces=2, init="relu", axis=1, learnable=True,
                 dtype="float32", name=None, seed=None):
        super().__init__(incoming, name=name, seed=seed)
        self.n_pieces = check_int(n_pieces, "MaxAffine: n_pieces", 2)
        self.axis = axis
        c = _channels(self, axis)
        lead = () if c is None else (c,)
        if init == "random":
            slopes = self.rng.normal(0.0, 1.0, lead + (self.n_pieces,))
            offsets = np.zeros(lead + (self.n_pieces,))
        else:
            if self.n_pieces != 2:
                raise LayersError(
                    f"MaxAffine: init={init!r} has 2 pieces but n_pieces={n_pieces}; use "
                    "init='random' for more pieces"
                )
            a, b = pieces(init)
            slopes, offsets = np.broadcast_to(a, lead + (2,)), np.broadcast_to(b, lead + (2,))
        self.slopes = self.add_param(slopes, lead + (self.n_pieces,), "slopes",
                                     trainable=learnable, regularizable=False, dtype=dtype)
        self.offsets = self.add_param(offsets, lead + (self.n_pieces,), "offsets",
                                      trainable=learnable, regularizable=False, dtype=dtype)

    def get_output(self, x, *, deterministic):
        return S.wrap(maso)(x, self.slopes, self.offsets, axis=self.axis)


class BetaVQ(Layer):
    """beta-VQ nonlinearity with a learnable ``beta`` per channel (see :func:`beta_vq`).

    Parameters
    ----------
    incoming : tuple or Layer
    kind : {"relu", "leaky_relu", "abs"}, default "relu"
        The MASO whose pieces are softly selected.
    beta : float in (0, 1), default 0.5
        Initial value (0.5: swish for ReLU pieces).
    learnable : bool, default True
    axis : int or None, default 1
        Channel axis (one ``beta`` per channel); ``None``: one shared ``beta``.

    Attributes
    ----------
    beta_logit : symbolic.Variable [shape=(C,) or ()]
        ``log(beta / (1 - beta))``.

    Examples
    --------
    >>> import symbolic as S, layers as L
    >>> with S.Graph():
    ...     L.BetaVQ((None, 16, 8, 8)).beta_logit.shape
    (16,)
    """

    def __init__(self, incoming, *, kind="relu", beta=0.5, learnable=True, axis=1,
                 dtype="float32", name=None):
        super().__init__(incoming, name=name)
        self.kind = kind
        self.slopes, self.offsets = pieces(kind)
        self.axis = axis
        c = _channels(self, axis)
        shape = () if c is None else (c,)
        self.beta_logit = self.add_param(np.full(shape, beta_to_logit(beta)), shape, "beta_logit",
                                         trainable=learnable, regularizable=False, dtype=dtype)

    def get_output(self, x, *, deterministic):
        return S.wrap(beta_vq)(x, self.slopes, self.offsets, self.beta_logit, axis=self.axis)

    def beta(self):
        """Current ``beta`` values (NumPy)."""
        return 1.0 / (1.0 + np.exp(-self.beta_logit.value))


class SoftVQ(BetaVQ):
    """Soft-VQ nonlinearity: beta-VQ with ``beta = 1/2`` fixed (swish for ReLU pieces)."""

    def __init__(self, incoming, *, kind="relu", axis=None, dtype="float32", name=None):
        super().__init__(incoming, kind=kind, beta=0.5, learnable=False, axis=axis, dtype=dtype,
                         name=name)


def _maxout_init(init, shape, rng, dtype):
    """A MaxOut weight ``(n_in, units, R)`` from an initializer of ``(n_in, units * R)``
    matrices (so that its fan-in and fan-out are the dense layer's)."""
    n_in, units, n_pieces = shape
    return np.asarray(init((n_in, units * n_pieces), rng, dtype)).reshape(shape)


class MaxOut(Layer):
    """Dense MASO layer: ``y_k = max_r (x @ W[:, k, r] + b[k, r])`` (maxout with R pieces).

    The general MASO layer of the spline theory: each output unit is a convex max-affine
    spline of the whole input, with ``R`` affine pieces (Goodfellow et al., "Maxout
    Networks", ICML 2013; Balestriero & Baraniuk 2018).

    Parameters
    ----------
    incoming : tuple or Layer
        ``(..., n_in)``.
    units : int
    n_pieces : int >= 2, default 2
    W : initializer or array [shape=(n_in, units, n_pieces)], default He()
    b : initializer or array [shape=(units, n_pieces)], default zeros

    Examples
    --------
    >>> import symbolic as S, layers as L
    >>> with S.Graph():
    ...     L.MaxOut((None, 10), 4, n_pieces=3).output_shape
    (None, 4)
    """

    def __init__(self, incoming, units, *, n_pieces=2, W=None, b="zeros",
                 dtype="float32", name=None, seed=None):
        super().__init__(incoming, name=name, seed=seed)
        units = check_int(units, "MaxOut: units")
        n_pieces = check_int(n_pieces, "MaxOut: n_pieces", 2)
        if not self.input_shape or self.input_shape[-1] is None:
            raise LayersError(
                f"MaxOut: the last input size must be known; got {format_shape(self.input_shape)}"
            )
        self.units, self.n_pieces = int(units), int(n_pieces)
        n_in = self.input_shape[-1]
        init = I.get(W if W is not None else I.He())
        if callable(init):  # an initializer draws the (n_in, units * n_pieces) matrix
            init = functools.partial(_maxout_init, init)
        self.W = self.add_param(init, (n_in, self.units, self.n_pieces), "W", dtype=dtype)
        self.b = self.add_param(I.get(b), (self.units, self.n_pieces), "b", regularizable=False,
                                dtype=dtype)
        self.output_shape = self.input_shape[:-1] + (self.units,)

    def get_output(self, x, *, deterministic):
        z = S.tensordot(x, self.W, axes=1) + self.b
        return z.max(axis=-1)
