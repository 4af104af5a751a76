"""Linear algebra (:mod:`jax.numpy.linalg`) as symbolic operations."""

from __future__ import annotations

import jax.numpy as jnp

from symbolic.wrap import wrap

NAMES = (
    "cholesky det eig eigh eigvals eigvalsh inv lstsq matrix_power matrix_rank norm pinv qr "
    "slogdet solve svd tensorinv tensorsolve multi_dot"
).split()

for _name in NAMES:
    globals()[_name] = wrap(getattr(jnp.linalg, _name), name=_name)

__all__ = list(NAMES)
del _name
