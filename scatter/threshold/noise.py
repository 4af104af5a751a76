"""Noise level of each band of a frame: MAD estimates, a known sigma, or a noise-only excerpt.

All functions return ``sigma`` per band with the convention of :mod:`scatter.threshold.stein`:
the *total* standard deviation of one coefficient's noise, ``E|n|^2 = sigma^2`` (real plus
imaginary parts for complex coefficients).

For white Gaussian noise of standard deviation ``sigma_x`` in the signal, a band computed with
filter ``psi_k`` has ``sigma_k = sigma_x * ||psi_k||_2`` (the filter's noise gain). The median
absolute deviation (MAD) estimator reads it off the coefficients: for real coefficients
``median|c| = 0.6745 sigma`` (D. L. Donoho and I. M. Johnstone, "Ideal spatial adaptation by
wavelet shrinkage", Biometrika 81, 1994); for circular complex ones ``|c|`` is Rayleigh
distributed and ``median|c| = sigma sqrt(ln 2)``. Per-band MAD is robust to a sparse signal but is
inflated in bands that the signal fills; the ``"global"`` estimate reads the finest band (where
most audio has little energy) and scales it to the others with the filters' noise gains.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from scatter.errors import ScatterError
from scatter.threshold import _sortnet
from scatter.threshold._checks import (
    as_coeffs,
    check_finite_concrete,
    check_sigma_concrete,
    real_dtype,
)
from scatter.threshold.stein import resolve_dof

__all__ = ["band_sigma", "mad_sigma", "sigma_from_excerpt", "sigma_from_white"]

#: median|c| / sigma for a real Gaussian (inverse normal CDF at 3/4).
MAD_REAL = 0.6744897501960817
#: median|c| / sigma for a circular complex Gaussian of total variance sigma^2.
MAD_COMPLEX = math.sqrt(math.log(2.0))


def mad_sigma(coeffs: jax.Array, *, dof=None) -> jax.Array:
    """MAD estimate of each band's noise standard deviation.

    Parameters
    ----------
    coeffs : jax.Array [shape=(..., n_bands, n_time)]
        Real or complex coefficients (complex: circular noise assumed).
    dof : {None, 1, 2}
        Real components per coefficient (None: detect; 2 on real input: the values are moduli
        of circular complex coefficients, Rayleigh distributed in noise).

    Returns
    -------
    jax.Array [shape=(..., n_bands)]
        ``median|c| / 0.6745`` for real bands, ``median|c| / sqrt(ln 2)`` for complex ones.

    Raises
    ------
    ScatterError
        Fewer than 2 dimensions or non-finite values.

    Examples
    --------
    >>> import numpy as np, jax.numpy as jnp
    >>> c = jnp.asarray(np.random.default_rng(0).normal(scale=2.0, size=(1, 20000)))
    >>> round(float(mad_sigma(c)[0]), 1)
    2.0
    """
    coeffs = as_coeffs(coeffs, "coeffs", min_ndim=2)
    check_finite_concrete(coeffs, "coeffs")
    d = resolve_dof(coeffs, dof)
    med = _sortnet.median(jnp.abs(coeffs))
    return med / jnp.where(d > 1.5, MAD_COMPLEX, MAD_REAL).astype(med.dtype)


def _check_norms(norms, n_bands: int) -> jax.Array:
    norms = jnp.asarray(norms)
    if norms.ndim < 1 or norms.shape[-1] != n_bands:
        raise ScatterError(
            f"norms has shape {tuple(norms.shape)}; expected (..., {n_bands}), one noise gain "
            "(filter l2 norm) per band"
        )
    check_sigma_concrete(norms, "norms")
    return norms


def sigma_from_white(sigma, norms) -> jax.Array:
    """Per-band noise level for white noise of known standard deviation in the signal.

    Parameters
    ----------
    sigma : float or jax.Array [shape=(...)]
        Standard deviation of the white noise in the signal, ``> 0``.
    norms : jax.Array [shape=(n_bands,)]
        Noise gain of each band (the l2 norm of its filter).

    Returns
    -------
    jax.Array [shape=(..., n_bands)]
        ``sigma * norms``.

    Raises
    ------
    ScatterError
        ``sigma`` or a norm ``<= 0`` or not finite.

    Examples
    --------
    >>> sigma_from_white(0.5, [1.0, 2.0])
    Array([0.5, 1. ], dtype=float32)
    """
    check_sigma_concrete(sigma, "sigma")
    norms = jnp.asarray(norms)
    norms = _check_norms(norms, norms.shape[-1] if norms.ndim else -1)
    if not jnp.issubdtype(norms.dtype, jnp.floating):
        norms = norms.astype(jnp.result_type(float))
    return jnp.asarray(sigma, norms.dtype)[..., None] * norms


def sigma_from_excerpt(noise_coeffs: jax.Array) -> jax.Array:
    """Per-band noise level measured on the coefficients of a noise-only excerpt.

    The root-mean-square of each band, which is also right for coloured (non-white) noise.

    Parameters
    ----------
    noise_coeffs : jax.Array [shape=(..., n_bands, n_time)]
        Coefficients of a stretch of recording that holds noise only.

    Returns
    -------
    jax.Array [shape=(..., n_bands)]
        ``sqrt(mean_time |c|^2)``.

    Raises
    ------
    ScatterError
        Fewer than 2 dimensions, non-finite values, or an all-zero band (no noise to measure).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> sigma_from_excerpt(jnp.array([[3.0, -3.0], [1j, 1.0]]))
    Array([3., 1.], dtype=float32)
    """
    noise_coeffs = as_coeffs(noise_coeffs, "noise", min_ndim=2)
    check_finite_concrete(noise_coeffs, "noise")
    sigma = jnp.sqrt(jnp.mean(jnp.abs(noise_coeffs) ** 2, axis=-1))
    if not isinstance(sigma, jax.core.Tracer) and bool(jnp.any(sigma <= 0)):
        raise ScatterError(
            "noise excerpt has a band with zero energy; expected a stretch of recording that "
            "holds (non-zero) background noise"
        )
    return sigma


def band_sigma(
    coeffs: jax.Array, *, method: str = "global", norms=None, reference_band: int = 0
) -> jax.Array:
    """MAD noise level of every band, per band or from one band scaled by the noise gains.

    Parameters
    ----------
    coeffs : jax.Array [shape=(..., n_bands, n_time)]
        Noisy coefficients.
    method : {"global", "band"}
        ``"band"``: MAD of each band. ``"global"``: MAD of ``reference_band`` divided by its
        noise gain gives the signal's white-noise level, then multiplied by every band's gain.
    norms : array_like [shape=(n_bands,)], optional
        Noise gain (filter l2 norm) of each band; required by ``"global"``.
    reference_band : int
        Band read by ``"global"`` (usually the finest, highest-frequency one).

    Returns
    -------
    jax.Array [shape=(..., n_bands)]
        Noise standard deviation per coefficient (total over real and imaginary parts).

    Raises
    ------
    ScatterError
        Unknown method, missing or mis-shaped ``norms``, ``reference_band`` out of range.

    Examples
    --------
    >>> import numpy as np, jax.numpy as jnp
    >>> noise = np.random.default_rng(0).normal(size=(2, 20000)) * np.array([[1.0], [3.0]])
    >>> s = band_sigma(jnp.asarray(noise), method="global", norms=[1.0, 3.0])
    >>> np.round(np.asarray(s), 1).tolist()
    [1.0, 3.0]
    """
    coeffs = as_coeffs(coeffs, "coeffs", min_ndim=2)
    if method == "band":
        return mad_sigma(coeffs)
    if method != "global":
        raise ScatterError(
            f"method={method!r} is not a noise estimator; expected 'global' or 'band'"
        )
    n_bands = coeffs.shape[-2]
    if norms is None:
        raise ScatterError(
            "method='global' needs norms=, the noise gain (filter l2 norm) of each band; pass "
            "them or use method='band'"
        )
    norms = _check_norms(norms, n_bands).astype(real_dtype(coeffs.dtype))
    if not -n_bands <= int(reference_band) < n_bands:
        raise ScatterError(
            f"reference_band={reference_band!r} is out of range for {n_bands} bands"
        )
    idx = int(reference_band) % n_bands
    white = mad_sigma(coeffs[..., idx : idx + 1, :])[..., 0] / norms[..., idx]
    return white[..., None] * norms
