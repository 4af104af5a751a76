"""Convolutions and pooling over channels-first arrays ``(batch, channels, *spatial)``.

``conv`` is a cross-correlation (as in JAX, PyTorch and Lasagne with ``flip_filters=False``);
``flip=True`` gives the true convolution of Theano's ``conv2d``. One, two and three spatial
dimensions are supported.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from symbolic.errors import SymbolicError, is_int
from symbolic.tensor import as_tensor, format_shape
from symbolic.wrap import call

_SPATIAL = {1: "H", 2: "HW", 3: "DHW"}


def _tuple(value, n, what):
    if isinstance(value, (int, np.integer)):
        value = (int(value),) * n
    value = tuple(int(v) for v in value)
    if len(value) != n or any(v < 1 for v in value):
        raise SymbolicError(f"{what} must be a positive int or {n} positive ints; got {value!r}")
    return value


def _padding(padding, n, what):
    if isinstance(padding, str):
        if padding.upper() not in ("SAME", "VALID"):
            raise SymbolicError(
                f"{what}: padding must be 'SAME', 'VALID', an int or pairs; got {padding!r}"
            )
        return padding.upper()
    if isinstance(padding, (int, np.integer)):
        return ((int(padding), int(padding)),) * n
    pads = []
    for p in padding:
        pads.append(
            (int(p), int(p)) if isinstance(p, (int, np.integer)) else (int(p[0]), int(p[1]))
        )
    if len(pads) != n:
        raise SymbolicError(f"{what}: padding needs {n} entries; got {padding!r}")
    return tuple(pads)


def _check(x, w, what):
    x, w = as_tensor(x), as_tensor(w)
    if x.ndim not in (3, 4, 5):
        raise SymbolicError(
            f"{what}: input {x.name!r} must have shape (batch, channels, *spatial) with 1 to 3 "
            f"spatial dims; got {format_shape(x.shape)}"
        )
    if w.ndim != x.ndim:
        raise SymbolicError(
            f"{what}: filters {w.name!r} must have {x.ndim} dims like the input; "
            f"got {format_shape(w.shape)}"
        )
    return x, w, x.ndim - 2


def conv_general(x, w, *, stride, padding, dilation, groups, flip=False):
    """Pure JAX convolution: ``x`` (N, C, *S), ``w`` (O, C // groups, *K) -> (N, O, *S')."""
    n = x.ndim - 2
    letters = _SPATIAL[n]
    if flip:
        w = jnp.flip(w, axis=tuple(range(2, w.ndim)))
    dims = jax.lax.conv_dimension_numbers(
        x.shape, w.shape, ("NC" + letters, "OI" + letters, "NC" + letters)
    )
    return jax.lax.conv_general_dilated(
        x,
        w,
        window_strides=stride,
        padding=padding,
        rhs_dilation=dilation,
        feature_group_count=groups,
        dimension_numbers=dims,
    )


def conv_transpose_general(x, w, *, stride, padding, dilation):
    """Pure JAX transposed convolution: the adjoint of :func:`conv_general` with filters
    ``w`` of shape (C_in, C_out, *K) taken as a convolution from C_out to C_in channels."""
    letters = _SPATIAL[x.ndim - 2]
    return jax.lax.conv_transpose(
        x,
        w,
        strides=stride,
        padding=padding,
        rhs_dilation=dilation,
        dimension_numbers=("NC" + letters, "OI" + letters, "NC" + letters),
        transpose_kernel=True,
    )


def conv(x, w, *, stride=1, padding="VALID", dilation=1, groups=1, flip=False):
    """Convolution (cross-correlation) of a batch of multichannel signals or images.

    Parameters
    ----------
    x : Tensor [shape=(batch, channels, *spatial)]
    w : Tensor [shape=(out_channels, channels // groups, *kernel)]
    stride, dilation : int or tuple of int, default 1
    padding : {"VALID", "SAME"}, int, or sequence of int or (low, high) pairs
    groups : int, default 1
    flip : bool, default False
        Flip the kernel (true convolution, Theano's ``conv2d`` default).

    Returns
    -------
    Tensor [shape=(batch, out_channels, *spatial_out)]
    """
    x, w, n = _check(x, w, "conv")
    stride = _tuple(stride, n, "conv: stride")
    dilation = _tuple(dilation, n, "conv: dilation")
    padding = _padding(padding, n, "conv")
    if not is_int(groups) or groups < 1:
        raise SymbolicError(f"conv: groups must be a positive int; got {groups!r}")
    if x.shape[1] is not None and w.shape[1] is not None and x.shape[1] != w.shape[1] * groups:
        raise SymbolicError(
            f"conv: input {x.name!r} has {x.shape[1]} channels but filters {w.name!r} expect "
            f"{w.shape[1]} x groups={groups}"
        )
    return call(
        conv_general,
        (x, w),
        dict(
            stride=stride, padding=padding, dilation=dilation, groups=int(groups), flip=bool(flip)
        ),
        name="conv",
    )


def conv_transpose(x, w, *, stride=1, padding="VALID", dilation=1):
    """Transposed convolution: the adjoint (gradient) of :func:`conv` with the same filters.

    Parameters
    ----------
    x : Tensor [shape=(batch, out_channels, *spatial)]
    w : Tensor [shape=(out_channels, in_channels, *kernel)]
        The filters of the forward :func:`conv` this transposes.
    stride, dilation : int or tuple of int
    padding : {"VALID", "SAME"} or pairs

    Returns
    -------
    Tensor [shape=(batch, in_channels, *spatial_up)]
    """
    x, w, n = _check(x, w, "conv_transpose")
    if x.shape[1] is not None and w.shape[0] is not None and x.shape[1] != w.shape[0]:
        raise SymbolicError(
            f"conv_transpose: input {x.name!r} has {x.shape[1]} channels but filters {w.name!r} "
            f"have {w.shape[0]} output channels"
        )
    stride = _tuple(stride, n, "conv_transpose: stride")
    dilation = _tuple(dilation, n, "conv_transpose: dilation")
    padding = _padding(padding, n, "conv_transpose")
    return call(
        conv_transpose_general,
        (x, w),
        dict(stride=stride, padding=padding, dilation=dilation),
        name="conv_transpose",
    )


def _pool(x, window, stride, padding, kind):
    x = as_tensor(x)
    if x.ndim < 3:
        raise SymbolicError(
            f"{kind}: input {x.name!r} must be (batch, channels, *spatial); "
            f"got {format_shape(x.shape)}"
        )
    n = x.ndim - 2
    window = _tuple(window, n, f"{kind}: window")
    stride = window if stride is None else _tuple(stride, n, f"{kind}: stride")
    padding = _padding(padding, n, kind)
    full_w, full_s = (1, 1) + window, (1, 1) + stride
    full_p = padding if isinstance(padding, str) else ((0, 0), (0, 0)) + padding

    if kind == "max_pool":

        def fn(v):
            return jax.lax.reduce_window(v, -jnp.inf, jax.lax.max, full_w, full_s, full_p)
    else:

        def fn(v):
            total = jax.lax.reduce_window(v, 0.0, jax.lax.add, full_w, full_s, full_p)
            count = jax.lax.reduce_window(
                jnp.ones_like(v), 0.0, jax.lax.add, full_w, full_s, full_p
            )
            return total / count

    return call(fn, (x,), {}, name=kind)


def max_pool(x, window, *, stride=None, padding="VALID"):
    """Maximum over windows of the spatial axes of ``x`` [shape=(batch, channels, *spatial)].

    ``stride`` defaults to ``window`` (non-overlapping windows).
    """
    return _pool(x, window, stride, padding, "max_pool")


def avg_pool(x, window, *, stride=None, padding="VALID"):
    """Mean over windows of the spatial axes (padding excluded from the count)."""
    return _pool(x, window, stride, padding, "avg_pool")
