"""Tests of scatter.cwt: against NumPy FFT convolution, perfect reconstruction, frame identities."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scatter import ScatterError, cwt, filterbank, icwt
from scatter.filters import FAMILIES


@pytest.fixture(scope="module", params=FAMILIES)
def bank(request):
    return filterbank(request.param, J=4, Q=3)


def _numpy_bands(x, bank):
    n = x.shape[-1]
    resp = np.asarray(bank.frequency_response(n), np.float64)
    phi = np.asarray(bank.phi_response(n), np.float64)
    spec = np.fft.fft(x.astype(np.float64))
    return np.fft.ifft(spec[..., None, :] * resp), np.fft.ifft(spec * phi).real


def test_matches_numpy_fft_convolution(bank, rng):
    x = rng.standard_normal((2, 3, 600)).astype(np.float32)
    bands, low = _numpy_bands(x, bank)
    full = cwt(x, bank=bank, subsample=False)
    assert len(full) == bank.n_filters + 1
    for k in range(bank.n_filters):
        assert full[k].dtype == jnp.complex64 and full[k].shape == (2, 3, 600)
        np.testing.assert_allclose(full[k], bands[..., k, :], atol=2e-5)
    assert full[-1].dtype == jnp.float32
    np.testing.assert_allclose(full[-1], low, atol=2e-5)


def test_subsampled_bands_are_decimated_full_bands(bank, rng):
    x = rng.standard_normal((2, 1024)).astype(np.float32)
    full = cwt(x, bank=bank, subsample=False)
    sub = cwt(x, bank=bank)
    dec = bank.decimations(1024)
    assert max(dec) > 1
    for k, d in enumerate(dec):
        assert sub[k].shape == (2, 1024 // d)
        np.testing.assert_allclose(sub[k], full[k][..., ::d], atol=2e-5)


@pytest.mark.parametrize("subsample", [True, False])
def test_perfect_reconstruction(bank, rng, subsample):
    # same shape as above: the analysis transforms are already compiled
    x = rng.standard_normal((2, 1024)).astype(np.float32)
    y = icwt(cwt(x, bank=bank, subsample=subsample), bank=bank, n=1024)
    assert y.shape == x.shape and y.dtype == jnp.float32
    assert np.linalg.norm(np.asarray(y) - x) <= 1e-5 * np.linalg.norm(x)


def test_complex_reconstruction(rng):
    bank = filterbank("morlet", J=4, Q=2)
    x = (rng.standard_normal(512) + 1j * rng.standard_normal(512)).astype(np.complex64)
    coeffs = cwt(x, bank=bank)
    assert coeffs[-1].dtype == jnp.complex64
    y = icwt(coeffs, bank=bank, n=512, real=False)
    # analytic wavelets leave negative frequencies to phi only: reconstruct where A is not tiny
    weight = np.zeros(512)
    for k, d in enumerate(bank.decimations(512)):
        h = bank.frequency_response(512)[k] if k < bank.n_filters else bank.phi_response(512)
        weight += np.asarray(h) ** 2 / d
    keep = weight > 1e-6 * weight.max()
    expected = np.fft.ifft(np.fft.fft(x) * keep)
    np.testing.assert_allclose(y, expected, atol=1e-4)


def test_icwt_is_least_squares_projection(rng):
    bank = filterbank("paul", J=4, Q=2)
    x = rng.standard_normal(1024).astype(np.float32)
    coeffs = [c + 0.1 * rng.standard_normal(c.shape) for c in cwt(x, bank=bank)]
    y = icwt(coeffs, bank=bank, n=1024)
    y2 = icwt(cwt(y, bank=bank), bank=bank, n=1024)
    np.testing.assert_allclose(y2, y, atol=1e-5)
    # the residual is orthogonal to the range of the transform: <W y - c, W z> = 0
    z = rng.standard_normal(1024).astype(np.float32)
    wy, wz = cwt(y, bank=bank), cwt(z, bank=bank)
    inner = sum(np.vdot(np.asarray(b), np.asarray(a) - np.asarray(c)).real
                for a, b, c in zip(wy, wz, coeffs))
    assert abs(inner) < 1e-3 * np.sqrt(sum(np.vdot(c, c).real for c in coeffs))


def test_frame_energy_identity(rng):
    bank = filterbank("morse", J=4, Q=4)
    n = 1024
    x = rng.standard_normal(n).astype(np.float64)
    coeffs = cwt(x.astype(np.float32), bank=bank)
    energy = sum(np.sum(np.abs(np.asarray(c, np.complex128)) ** 2) for c in coeffs)
    dec = bank.decimations(n)
    resp = np.asarray(bank.frequency_response(n), np.float64)
    weight = (resp**2 / np.array(dec[:-1])[:, None]).sum(0)
    weight += np.asarray(bank.phi_response(n), np.float64) ** 2 / dec[-1]
    expected = np.sum(weight * np.abs(np.fft.fft(x)) ** 2) / n
    np.testing.assert_allclose(energy, expected, rtol=1e-4)


def test_jit_vmap_grad(rng):
    bank = filterbank("morlet", J=3, Q=2)
    x = rng.standard_normal((4, 256)).astype(np.float32)
    direct = cwt(x, bank=bank)
    jitted = jax.jit(lambda v, b: cwt(v, bank=b))(x, bank)
    mapped = jax.vmap(lambda v: cwt(v, bank=bank))(x)
    for a, b, c in zip(direct, jitted, mapped):
        np.testing.assert_allclose(b, a, atol=1e-5)
        np.testing.assert_allclose(c, a, atol=1e-5)

    def energy(v, b):
        return sum(jnp.sum(jnp.abs(c) ** 2) for c in cwt(v, bank=b)[:-1])

    gx, gb = jax.jit(jax.grad(energy, argnums=(0, 1)))(jnp.asarray(x[0]), bank)
    eps = 1e-2
    e = np.zeros(256, np.float32)
    e[10] = eps
    energy_jit = jax.jit(energy)  # one program for both finite-difference points
    fd = (energy_jit(x[0] + e, bank) - energy_jit(x[0] - e, bank)) / (2 * eps)
    np.testing.assert_allclose(gx[10], fd, rtol=1e-2)
    assert np.all(np.isfinite(gb.params["xi"])) and float(jnp.abs(gb.params["xi"]).sum()) > 0


def test_errors():
    bank = filterbank("morlet", J=2, Q=1)
    with pytest.raises(ScatterError, match="bank must be a scatter.FilterBank"):
        cwt(np.zeros(16), bank="morlet")
    with pytest.raises(ScatterError, match=r"at least 1 axis.*got shape \(\)"):
        cwt(np.float32(1.0), bank=bank)
    x = np.zeros((2, 16), np.float32)
    x[1, 5] = np.nan
    with pytest.raises(ScatterError, match=r"must be finite, got nan at index \(1, 5\)"):
        cwt(x, bank=bank)
    coeffs = cwt(np.zeros(16, np.float32), bank=bank)
    with pytest.raises(ScatterError, match="K \\+ 1 = 3 arrays.*got 2"):
        icwt(coeffs[:2], bank=bank, n=16)
    with pytest.raises(ScatterError, match="coeffs\\[0\\] has length 16, which must divide n=24"):
        icwt(coeffs, bank=bank, n=24)
    with pytest.raises(ScatterError, match="n must be a positive integer; got 0"):
        icwt(coeffs, bank=bank, n=0)
