"""Discrete Fourier transforms (:mod:`jax.numpy.fft`) as symbolic operations."""

from __future__ import annotations

import jax.numpy as jnp

from symbolic.wrap import wrap

NAMES = (
    "fft ifft rfft irfft fft2 ifft2 rfft2 irfft2 fftn ifftn rfftn irfftn hfft ihfft fftshift "
    "ifftshift fftfreq rfftfreq"
).split()

for _name in NAMES:
    globals()[_name] = wrap(getattr(jnp.fft, _name), name=_name)

__all__ = list(NAMES)
del _name
