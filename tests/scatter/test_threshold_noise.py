"""Tests of scatter.threshold.noise: MAD constants, per-band and global estimates, excerpts."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from scatter import ScatterError
from scatter.threshold import noise


def test_mad_constants_match_scipy():
    assert noise.MAD_REAL == pytest.approx(scipy.stats.norm.ppf(0.75))
    # |c| of a circular complex Gaussian with E|c|^2 = 1 is Rayleigh with scale 1/sqrt(2)
    assert noise.MAD_COMPLEX == pytest.approx(scipy.stats.rayleigh.median(scale=np.sqrt(0.5)))


def test_mad_sigma_real_complex_and_moduli(rng):
    scales = np.array([0.5, 2.0])[:, None]
    real = scales * rng.standard_normal((2, 40000))
    cplx = scales * (rng.standard_normal((2, 40000)) + 1j * rng.standard_normal((2, 40000)))
    cplx /= np.sqrt(2.0)
    for c in (real, cplx):
        np.testing.assert_allclose(noise.mad_sigma(jnp.asarray(c)), [0.5, 2.0], rtol=0.03)
    np.testing.assert_allclose(noise.mad_sigma(jnp.asarray(np.abs(cplx)), dof=2), [0.5, 2.0],
                               rtol=0.03)
    # robust: a sparse strong signal barely moves it
    spiky = real.copy()
    spiky[:, ::50] += 100.0
    np.testing.assert_allclose(noise.mad_sigma(jnp.asarray(spiky)), [0.5, 2.0], rtol=0.06)


def test_band_sigma_global_scales_finest_band_by_gains(rng):
    gains = np.array([1.0, 0.5, 3.0])
    c = gains[:, None] * rng.standard_normal((3, 30000))
    c[1, :15000] += 40.0 * rng.standard_normal(15000)  # a band full of signal
    per_band = np.asarray(noise.band_sigma(jnp.asarray(c), method="band"))
    glob = np.asarray(noise.band_sigma(jnp.asarray(c), method="global", norms=gains))
    np.testing.assert_allclose(glob, gains, rtol=0.03)
    assert per_band[1] > 2 * gains[1]  # the per-band MAD is fooled, the global one is not
    glob2 = noise.band_sigma(jnp.asarray(c), method="global", norms=gains, reference_band=-1)
    np.testing.assert_allclose(np.asarray(glob2), gains, rtol=0.03)


def test_sigma_from_white_and_excerpt(rng):
    np.testing.assert_allclose(noise.sigma_from_white(0.5, [1.0, 4.0]), [0.5, 2.0])
    np.testing.assert_allclose(noise.sigma_from_white(jnp.array([1.0, 2.0]), [1.0, 3.0]),
                               [[1.0, 3.0], [2.0, 6.0]])
    exc = jnp.asarray(rng.standard_normal((2, 20000)) * np.array([[1.0], [3.0]]))
    np.testing.assert_allclose(noise.sigma_from_excerpt(exc), [1.0, 3.0], rtol=0.02)
    f = jax.jit(noise.mad_sigma)
    np.testing.assert_allclose(f(exc), noise.mad_sigma(exc), rtol=1e-6)


def test_noise_errors():
    c = jnp.ones((2, 10))
    with pytest.raises(ScatterError, match=r"method='std' is not a noise estimator"):
        noise.band_sigma(c, method="std")
    with pytest.raises(ScatterError, match=r"method='global' needs norms="):
        noise.band_sigma(c)
    with pytest.raises(ScatterError, match=r"norms has shape \(3,\); expected \(\.\.\., 2\)"):
        noise.band_sigma(c, norms=[1.0, 1.0, 1.0])
    with pytest.raises(ScatterError, match=r"reference_band=5 is out of range for 2 bands"):
        noise.band_sigma(c, norms=[1.0, 1.0], reference_band=5)
    with pytest.raises(ScatterError, match=r"sigma must be finite and > 0.*\[0.0\]"):
        noise.sigma_from_white(0.0, [1.0])
    with pytest.raises(ScatterError, match=r"norms must be finite and > 0"):
        noise.sigma_from_white(1.0, [1.0, -2.0])
    with pytest.raises(ScatterError, match=r"band with zero energy"):
        noise.sigma_from_excerpt(jnp.zeros((1, 10)))
    with pytest.raises(ScatterError, match=r"coeffs contains NaN"):
        noise.mad_sigma(c.at[0, 0].set(jnp.nan))
    with pytest.raises(ScatterError, match=r"dof=3 must be None"):
        noise.mad_sigma(c, dof=3)
