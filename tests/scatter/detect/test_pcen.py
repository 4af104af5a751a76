"""Tests of scatter.detect.pcen: per-channel energy normalisation against a float64 NumPy loop
and librosa.pcen, its gain and compression properties, and its errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scatter import ScatterError
from scatter.detect.pcen import pcen, pcen_smoothing


def _pcen_loop(E, *, s, alpha, delta, r, eps, init):
    """PCEN by its definition, one frame at a time, in float64."""
    E = np.asarray(E, np.float64)
    M = np.asarray(init, np.float64).copy()
    out = np.empty_like(E)
    for t in range(E.shape[-1]):
        M = (1 - s) * M + s * E[..., t]
        out[..., t] = (E[..., t] / (eps + M) ** alpha + delta) ** r - delta ** r
    return out


SETTINGS = [dict(s=0.11, alpha=0.98, delta=2.0, r=0.5, eps=1e-6),
            dict(s=0.5, alpha=0.8, delta=10.0, r=0.25, eps=1e-6),
            dict(s=1.0, alpha=1.0, delta=0.5, r=1.0, eps=1e-3)]


@pytest.mark.parametrize("p", SETTINGS)
def test_pcen_matches_a_float64_loop_and_compiles(p, rng):
    E = rng.gamma(0.5, size=(3, 5, 56)).astype(np.float32)
    E[0, 1, 20:30] *= 50.0                     # a call in one band
    settings = dict(alpha=p["alpha"], delta=p["delta"], r=p["r"], eps=p["eps"])
    want = _pcen_loop(E, s=p["s"], init=np.median(E.astype(np.float64), axis=-1), **settings)
    got = pcen(E, smoothing=p["s"], **settings)
    jitted = jax.jit(lambda e: pcen(e, smoothing=p["s"], **settings))(E)
    assert got.shape == E.shape and got.dtype == jnp.float32
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(jitted, want, rtol=2e-5, atol=1e-6)
    # an explicit starting state
    init = rng.uniform(0.1, 2.0, size=(3, 5))
    want = _pcen_loop(E, s=p["s"], init=init, **settings)
    np.testing.assert_allclose(pcen(E, smoothing=p["s"], init=init, **settings), want,
                               rtol=2e-5, atol=1e-6)


def test_pcen_matches_librosa(rng):
    librosa = pytest.importorskip("librosa")
    sr, hop, T = 22050, 1024, 0.4
    E = rng.gamma(0.5, size=(7, 56)) * 3.0
    m0 = np.median(E, axis=-1, keepdims=True)
    s = pcen_smoothing(T, sr / hop)
    # librosa's filter state zi: M[0] = s E[0] + zi, so zi = (1 - s) M[-1]
    want = librosa.pcen(E, sr=sr, hop_length=hop, time_constant=T, gain=0.98, bias=2.0,
                        power=0.5, eps=1e-6, max_size=1, zi=(1 - s) * m0, axis=-1)
    got = pcen(E.astype(np.float32), smoothing=s, alpha=0.98, delta=2.0, r=0.5, eps=1e-6)
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)


def test_pcen_gain_and_compression_properties(rng):
    E = rng.gamma(0.5, size=(4, 40)).astype(np.float32) + 0.01
    # alpha = 1: E / M is invariant to a gain (eps aside), so PCEN is too
    a = pcen(E, smoothing=0.2, alpha=1.0, eps=1e-9)
    np.testing.assert_allclose(pcen(16.0 * E, smoothing=0.2, alpha=1.0, eps=1e-9), a,
                               rtol=1e-5, atol=1e-6)
    # alpha < 1: a gain g scales the gain-controlled envelope by g**(1 - alpha)
    g, alpha, delta, r = 16.0, 0.5, 2.0, 0.5
    b = np.asarray(pcen(g * E, smoothing=0.2, alpha=alpha, eps=1e-9), np.float64)
    G = (np.asarray(pcen(E, smoothing=0.2, alpha=alpha, eps=1e-9), np.float64)
         + delta ** r) ** (1 / r) - delta                 # invert the compression
    np.testing.assert_allclose(b, (g ** (1 - alpha) * G + delta) ** r - delta ** r,
                               rtol=1e-4, atol=1e-5)
    # constant channel from its median: steady at once, (c / (eps + c)**alpha + delta)**r - ...
    c = 3.0
    got = pcen(jnp.full((1, 10), c), smoothing=0.3, alpha=0.9, delta=2.0, r=0.5, eps=1e-6)
    want = (c / (1e-6 + c) ** 0.9 + 2.0) ** 0.5 - 2.0 ** 0.5
    np.testing.assert_allclose(got, want, rtol=1e-6)
    # the compression: about linear well below delta, a root well above it
    small = pcen(jnp.full((1, 4), 1e-4), smoothing=1.0, alpha=0.0, delta=100.0, r=0.25)
    np.testing.assert_allclose(small, 0.25 * 100.0 ** -0.75 * 1e-4, rtol=1e-3)
    big = pcen(jnp.full((1, 4), 1e8), smoothing=1.0, alpha=0.0, delta=1.0, r=0.25)
    np.testing.assert_allclose(big, 1e8 ** 0.25 - 1.0, rtol=1e-4)
    # silence: zeros; gradients finite
    assert np.all(np.asarray(pcen(jnp.zeros((2, 8)), smoothing=0.5)) == 0.0)
    grad = jax.grad(lambda e: pcen(e, smoothing=0.5).sum())(jnp.asarray(E))
    assert np.isfinite(np.asarray(grad)).all()


def test_pcen_smoothing():
    s = pcen_smoothing(0.4, 22050 / 1024)
    t = 0.4 * 22050 / 1024
    assert abs(t * t * s * s + s - 1) < 1e-12
    assert 0.999 < pcen_smoothing(1e-3, 10.0) <= 1.0    # much shorter than a frame
    assert abs(pcen_smoothing(100.0, 10.0) * 1000 - 1) < 1e-3   # long: about 1 / T frames


@pytest.mark.parametrize("kw, match", [
    ({"smoothing": 0.0}, r"smoothing must be a number in \(0, 1\]; got 0.0"),
    ({"alpha": 1.5}, r"alpha must be a number in \[0, 1\]; got 1.5"),
    ({"delta": 0.0}, r"delta must be a number > 0; got 0.0"),
    ({"r": 0.0}, r"r must be a number in \(0, 1\]; got 0.0"),
    ({"eps": -1.0}, r"eps must be a number > 0; got -1.0"),
])
def test_pcen_errors(kw, match):
    with pytest.raises(ScatterError, match=match):
        pcen(jnp.ones((2, 4)), **({"smoothing": 0.5} | kw))
    with pytest.raises(ScatterError, match="time_constant must be a number > 0"):
        pcen_smoothing(0.0, 10.0)
    with pytest.raises(ScatterError, match=r"E must have shape \(..., n_frames\)"):
        pcen(jnp.float32(1.0), smoothing=0.5)
