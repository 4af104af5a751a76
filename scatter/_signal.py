"""Checks of signal inputs and the spectrum helpers shared by :mod:`scatter.cwt` and the
scattering code."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from scatter.errors import ScatterError


def check_signal(x, name="x", *, min_rank=1, length=None):
    """Validate a signal ``(..., n)``: rank, length, and (for concrete arrays) finiteness.

    Returns the input as a JAX array (float32 for real, complex64 for complex inputs).

    Raises
    ------
    ScatterError
        Rank below ``min_rank``, wrong last-axis length, non-numeric dtype, or a NaN/inf value
        (the message gives the index of the first one).
    """
    if not hasattr(x, "shape"):
        x = np.asarray(x)
    if x.ndim < min_rank:
        raise ScatterError(f"{name} must have at least {min_rank} axis (time last), got shape "
                           f"{tuple(x.shape)}")
    if length is not None and x.shape[-1] != length:
        raise ScatterError(f"{name} must have length {length} on its last axis, got shape "
                           f"{tuple(x.shape)}")
    dtype = np.dtype(x.dtype)
    if not (np.issubdtype(dtype, np.floating) or np.issubdtype(dtype, np.integer)
            or np.issubdtype(dtype, np.complexfloating)):
        raise ScatterError(f"{name} must be a real or complex numeric array, got dtype {dtype}")
    if not isinstance(x, jax.core.Tracer):
        values = np.asarray(x)
        if not np.all(np.isfinite(values)):
            where = tuple(int(i) for i in np.argwhere(~np.isfinite(values))[0])
            raise ScatterError(f"{name} must be finite, got {values[where]} at index {where} "
                               f"({int(np.sum(~np.isfinite(values)))} non-finite values)")
    if np.issubdtype(dtype, np.complexfloating):
        return jnp.asarray(x, jnp.complex64)
    return jnp.asarray(x, jnp.float32)


def full_spectrum(x):
    """DFT over the last axis, from ``rfft`` when ``x`` is real.

    Parameters
    ----------
    x : jax.Array [shape=(..., n)]

    Returns
    -------
    jax.Array [shape=(..., n), dtype=complex64]
    """
    n = x.shape[-1]
    if jnp.iscomplexobj(x):
        return jnp.fft.fft(x)
    r = jnp.fft.rfft(x)
    tail = jnp.conj(jnp.flip(r[..., 1:n - n // 2], axis=-1))
    return jnp.concatenate([r, tail], axis=-1)


def fold(spectrum, d):
    """Periodize a length-``n`` spectrum to length ``n // d``: the DFT of ``z[::d]``.

    Parameters
    ----------
    spectrum : jax.Array [shape=(..., n)]
    d : int
        Subsampling factor dividing ``n``.

    Returns
    -------
    jax.Array [shape=(..., n // d)]
    """
    if d == 1:
        return spectrum
    n = spectrum.shape[-1]
    return spectrum.reshape(spectrum.shape[:-1] + (d, n // d)).mean(axis=-2)
