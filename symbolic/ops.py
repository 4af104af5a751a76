"""A NumPy-like namespace of symbolic operations.

Each name below is the :mod:`jax.numpy` function of the same name passed through
:func:`symbolic.wrap`; the list is explicit, so what is available does not depend on JAX's
private modules. Called with tensors, these functions build graph nodes; called with concrete
arrays only, they compute right away.
"""

from __future__ import annotations

import operator

import jax.numpy as jnp

from symbolic.wrap import wrap

# Element-wise, reductions, shape manipulation, linear algebra basics, construction helpers.
NAMES = (
    # element-wise arithmetic
    "add subtract multiply divide true_divide floor_divide mod remainder power float_power "
    "negative positive abs absolute sign reciprocal square sqrt cbrt exp exp2 expm1 log log2 "
    "log10 log1p logaddexp logaddexp2 sin cos tan arcsin arccos arctan arctan2 sinh cosh tanh "
    "arcsinh arccosh arctanh deg2rad rad2deg hypot floor ceil trunc round rint clip "
    "maximum minimum fmax fmin heaviside sinc nan_to_num copysign nextafter fmod modf "
    "real imag conj conjugate angle isfinite isinf isnan signbit "
    # comparison and logic
    "equal not_equal less less_equal greater greater_equal logical_and logical_or logical_not "
    "logical_xor bitwise_and bitwise_or bitwise_xor invert left_shift right_shift where select "
    "isclose allclose array_equal "
    # reductions
    "sum prod mean std var max min amax amin ptp argmax argmin any all cumsum cumprod median "
    "nansum nanmean nanmax nanmin nanstd nanvar average quantile percentile count_nonzero "
    # shape manipulation
    "reshape ravel transpose swapaxes moveaxis expand_dims squeeze broadcast_to atleast_1d "
    "atleast_2d atleast_3d concatenate stack hstack vstack dstack column_stack split array_split "
    "tile repeat flip fliplr flipud roll rot90 pad take take_along_axis tril triu diag diagonal "
    "trace meshgrid sort argsort searchsorted "
    # products
    "dot vdot matmul inner outer tensordot einsum kron cross "
    # construction
    "zeros_like ones_like full_like empty_like zeros ones full eye identity arange linspace "
    "logspace tri "
    # misc
    "convolve correlate interp diff ediff1d gradient histogram digitize bincount unwrap "
    "polyval cov corrcoef"
).split()

for _name in NAMES:
    globals()[_name] = wrap(getattr(jnp, _name), name=_name)

getitem = wrap(operator.getitem, name="getitem")


def _astype(x, dtype):
    return x.astype(dtype)


astype = wrap(_astype, name="astype")
__all__ = [*NAMES, "getitem", "astype"]
del _name
