"""Tests of scatter.filters: shapes, wavelet properties, metadata, learnability, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scatter import FilterBank, ScatterError, filterbank
from scatter.filters import FAMILIES


@pytest.fixture(scope="module", params=FAMILIES)
def bank(request):
    return filterbank(request.param, J=5, Q=4, sr=16000)


def test_shapes_dtype_jit(bank):
    n = 1000
    resp = bank.frequency_response(n)
    assert resp.shape == (bank.n_filters, n) and resp.dtype == jnp.float32
    assert bank.phi_response(n).shape == (n,)
    jitted = jax.jit(lambda b: b.frequency_response(n))(bank)
    np.testing.assert_allclose(jitted, resp, atol=1e-6)
    leaves, tree = jax.tree_util.tree_flatten(bank)
    again = jax.tree_util.tree_unflatten(tree, leaves)
    assert isinstance(again, FilterBank) and again.windows == bank.windows


def test_zero_mean(bank):
    resp = np.asarray(bank.frequency_response(4096))
    np.testing.assert_allclose(resp[:, 0], 0.0, atol=1e-6)
    # zero mean in time as well: the sum of the impulse response
    h = np.fft.ifft(resp.astype(np.float64), axis=-1)
    assert np.max(np.abs(h.sum(axis=-1))) < 1e-6


def test_peak_at_centre_frequency(bank):
    n = 2**14
    resp = np.asarray(bank.frequency_response(n))
    f = np.fft.fftfreq(n)
    peaks = np.abs(f[np.argmax(np.abs(resp), axis=-1)])
    np.testing.assert_allclose(peaks, bank.xi, atol=1.0 / n)
    np.testing.assert_allclose(np.max(resp, axis=-1), 1.0, atol=2e-3)


def test_littlewood_paley_bounds(bank):
    lp = np.asarray(bank.littlewood_paley(4096, symmetric=True))
    assert lp.min() > 1e-3, "the bank leaves a hole in frequency"
    assert lp.max() < 6.0


def test_morlet_lp_is_tight_in_passband():
    bank = filterbank("morlet", J=6, Q=8)
    n = 2**14
    lp = np.asarray(bank.littlewood_paley(n))
    f = np.fft.fftfreq(n)
    band = (f >= bank.xi[-1]) & (f <= bank.xi[0])
    # neighbours cross at half power (sum 1 there); at a peak each neighbour adds
    # exp(-4 ln 2) = 1/16, so the sum stays in about [1, 1 + 2/16] across the passband
    assert 0.99 < lp[band].min() and lp[band].max() < 1.15


def test_morlet_time_envelope_is_gaussian():
    bank = filterbank("morlet", J=4, Q=2)
    n = 4096
    k = 4
    h = np.fft.ifft(np.asarray(bank.frequency_response(n), np.float64)[k])
    t = np.fft.fftfreq(n) * n
    sigma = float(bank.params["sigma"][k])
    envelope = np.exp(-2 * np.pi**2 * sigma**2 * t**2) * np.abs(h[0])
    near = np.abs(t) < 3 / (2 * np.pi * sigma)
    np.testing.assert_allclose(np.abs(h)[near], envelope[near], atol=1e-4 * np.abs(h[0]))


def test_time_supports_decay_and_grow_with_scale():
    bank = filterbank("morlet", J=5, Q=2)
    n = 8192
    sup = bank.time_supports(n)
    h = np.abs(np.fft.fftshift(np.fft.ifft(np.asarray(bank.frequency_response(n), np.float64)),
                               axes=-1))
    c = n // 2
    for k in range(1, bank.n_filters):  # band 0 touches Nyquist
        outside = h[k].sum() - h[k, c - sup[k]:c + sup[k] + 1].sum()
        assert outside <= 1e-3 * h[k].sum()
    assert np.all(np.diff(sup[1:]) > 0)


def test_hz_metadata_and_bandwidths():
    bank = filterbank("gabor", J=3, Q=2, sr=8000)
    np.testing.assert_allclose(bank.xi_hz, bank.xi * 8000)
    sigma = np.asarray(bank.params["sigma"], np.float64)
    np.testing.assert_allclose(bank.bandwidths, 2 * sigma * np.sqrt(np.log(2)), rtol=1e-3)
    np.testing.assert_allclose(bank.bandwidths_hz, bank.bandwidths * 8000)
    assert np.all(np.diff(bank.xi) < 0)
    np.testing.assert_allclose(bank.xi[:-1] / bank.xi[1:], 2 ** 0.5)


def test_decimations_are_alias_free():
    bank = filterbank("morlet", J=5, Q=4)
    n = 2048
    dec = bank.decimations(n)
    assert all(n % d == 0 for d in dec) and dec[-1] > 1
    f = np.fft.fftfreq(n)
    resp = np.asarray(bank.frequency_response(n))
    assert max(dec[:-1]) > 1
    for k, d in enumerate(dec[:-1]):
        if d > 1:  # nothing at or beyond the new Nyquist frequency
            assert np.all(resp[k, np.abs(f) >= 0.5 / d] == 0)
    assert bank.decimations(1001) == (1,) * (bank.n_filters + 1)


def test_learnable_bank_gradient_step_reduces_loss():
    bank = filterbank("morlet", J=3, Q=2)
    n = 512
    f = np.fft.fftfreq(n)
    band = jnp.asarray((f > 0.05) & (f < 0.4))

    def loss(b):  # flat Littlewood-Paley sum in a band
        lp = b.littlewood_paley(n)
        return jnp.sum(jnp.where(band, (lp - 1.2) ** 2, 0.0))

    value_and_grad = jax.jit(jax.value_and_grad(loss))  # also gives the stepped loss
    value, grads = value_and_grad(bank)
    assert float(jnp.abs(grads.params["sigma"]).sum()) > 0
    assert float(jnp.abs(grads.params["xi"]).sum()) > 0
    norm = np.sqrt(sum(float(jnp.sum(g**2)) for g in jax.tree_util.tree_leaves(grads)))
    stepped = jax.tree_util.tree_map(lambda p, g: p - 1e-4 * g / norm, bank, grads)
    assert not np.allclose(stepped.params["sigma"], bank.params["sigma"])
    assert float(value_and_grad(stepped)[0]) < float(value)
    replaced = bank.replace(sigma=stepped.params["sigma"])
    np.testing.assert_allclose(replaced.params["sigma"], stepped.params["sigma"])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"family": "haar", "J": 2}, "family must be one of"),
        ({"J": 0}, r"J must be a positive integer; got 0"),
        ({"J": 3, "Q": 0}, r"Q must be a positive integer; got 0"),
        ({"J": 3, "Q": 1.5}, r"Q must be a positive integer; got 1.5"),
        ({"J": 3, "xi_max": 0.7}, r"xi_max must be in \(0, 0.5\).*got 0.7"),
        ({"J": 30, "Q": 1}, "below 2\\*\\*-20"),
        ({"family": "morse", "J": 2, "beta": -1.0}, "beta must be > 0, got -1.0"),
    ],
)
def test_errors(kwargs, match):
    with pytest.raises(ScatterError, match=match):
        filterbank(**kwargs)


def test_metadata_errors():
    bank = filterbank("paul", J=2, Q=1)
    with pytest.raises(ScatterError, match="sr=None"):
        _ = bank.xi_hz
    with pytest.raises(ScatterError, match="unknown parameter 'sigma'"):
        bank.replace(sigma=1.0)
    with pytest.raises(ScatterError, match="n must be a positive integer; got 0"):
        bank.frequency_response(0)
