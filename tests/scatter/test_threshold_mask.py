"""Tests of scatter.threshold.mask: activity masks on scattering and CWT-modulus coefficients."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scatter import ScatterError, Scattering1D, cwt, filterbank
from scatter.threshold import mask
from scatter.threshold.noise import MAD_REAL, mad_sigma


@pytest.fixture
def burst_signal(rng):
    """White noise with a windowed 1.2 kHz tone burst on samples 3000-4000 (sr = 8 kHz)."""
    n, sr = 8192, 8000
    t = np.arange(n) / sr
    y = 0.3 * rng.standard_normal(n)
    y[3000:4000] += np.sin(2 * np.pi * 1200 * t[3000:4000]) * np.hanning(1000)
    return y.astype(np.float32)


def test_averaged_mask_on_scattering_finds_the_burst(burst_signal):
    S = Scattering1D(J=6, shape=burst_signal.size, Q=(4, 1))(burst_signal)
    # both masks from one compiled program
    m, act = map(np.asarray, jax.jit(lambda S: (mask.activity_mask(S),
                                                mask.activity_mask(S, reduce="energy")))(S))
    assert m.shape == S.shape and m.min() >= 0.0 and m.max() <= 1.0
    frames = np.arange(act.size) * 2**6
    inside = (frames > 3100) & (frames < 3900)
    outside = (frames < 2500) | (frames > 4500)
    assert act[inside].mean() > 0.6 and act[outside].mean() < 0.15
    assert act[inside].min() > act[outside].mean()


def test_modulus_mask_on_cwt_moduli(burst_signal, rng):
    bank = filterbank("morlet", J=6, Q=8)

    @jax.jit
    def masks(y):  # the moduli and the three masks of one signal, one compiled program
        U = jnp.abs(jnp.stack(cwt(y, bank=bank, subsample=False)[:-1]))
        return (mask.activity_mask(U, model="modulus", reduce="energy"),
                mask.activity_mask(U, model="modulus"),
                mask.activity_mask(U, model="modulus", method="universal", rule="hard"))

    act, _, hard = map(np.asarray, masks(burst_signal))
    assert act[3300:3700].mean() > 0.3 and act[:2500].mean() < 0.05
    # pure noise: the mask is almost empty (SURE removes noise-only coefficients)
    noise = (0.3 * rng.standard_normal(burst_signal.size)).astype(np.float32)
    assert (np.asarray(masks(noise)[1]) > 0).mean() < 0.1
    assert set(np.unique(hard)) <= {0.0, 1.0}


def test_reductions_and_all_zero_input():
    m = jnp.array([[1.0, 0.0, 0.5], [0.0, 0.0, 0.5]])
    c = jnp.array([[1.0, 1.0, 1.0], [3.0, 0.0, 1.0]])
    np.testing.assert_allclose(mask.reduce_mask(m, c, reduce="mean"), [0.5, 0.0, 0.5])
    np.testing.assert_allclose(mask.reduce_mask(m, c, reduce="max"), [1.0, 0.0, 0.5])
    np.testing.assert_allclose(mask.reduce_mask(m, c, reduce="energy"), [0.1, 0.0, 0.25])
    # every model, with and without reduction, in one compiled program
    zeros = jax.jit(lambda z: [mask.activity_mask(z, model=model, reduce=reduce)
                               for model in mask.MODELS for reduce in (None, "energy")])
    for z in zeros(jnp.zeros((3, 64))):
        np.testing.assert_array_equal(z, 0.0)


def test_known_floor_and_sigma():
    S = jnp.ones((2, 100)).at[:, 10].set(5.0)
    m = mask.activity_mask(S, floor=1.0, sigma=0.1, method="universal")
    assert float(m[0, 10]) > 0.8 and float(m[0, 0]) == 0.0
    jitted = jax.jit(lambda s: mask.activity_mask(s, method="universal", reduce="energy"))
    np.testing.assert_allclose(jitted(S), mask.activity_mask(S, method="universal",
                                                             reduce="energy"), atol=1e-6)


def test_mask_errors():
    S = jnp.ones((2, 16))
    with pytest.raises(ScatterError, match=r"model='rician' is not a noise model"):
        mask.activity_mask(S, model="rician")
    with pytest.raises(ScatterError, match=r"method='oracle' is not usable for a mask"):
        mask.activity_mask(S, method="oracle")
    with pytest.raises(ScatterError, match=r"needs moduli >= 0"):
        mask.activity_mask(-S, model="modulus")
    with pytest.raises(ScatterError, match=r"floor= applies to model='averaged' only"):
        mask.activity_mask(S, model="modulus", floor=1.0)
    with pytest.raises(ScatterError, match=r"reduce='sum' is not a reduction"):
        mask.activity_mask(S, reduce="sum")
    with pytest.raises(ScatterError, match=r"coeffs must be real scattering coefficients"):
        mask.activity_mask(S.astype(jnp.complex64))
    with pytest.raises(ScatterError, match=r"coeffs contains NaN"):
        mask.activity_mask(S.at[0, 0].set(jnp.nan))


def test_background_is_the_median_and_mad(rng):
    S = jnp.asarray(1.0 + 0.1 * rng.standard_normal((3, 201)), jnp.float32)
    floor, sigma = mask.background(S)
    np.testing.assert_array_equal(floor, jnp.median(S, axis=-1))
    np.testing.assert_array_equal(
        sigma, jnp.median(jnp.abs(S - floor[:, None]), axis=-1) / MAD_REAL)
    U = jnp.abs(S)
    floor, sigma = mask.background(U, model="modulus")
    np.testing.assert_array_equal(floor, 0.0)
    np.testing.assert_array_equal(sigma, mad_sigma(U, dof=2))


def test_tracked_background_ignores_a_chorus_that_starts_and_finds_the_call(rng):
    """A steady background that rises in half the paths for the last 40 % of the frames
    (insects starting), with one short call at frames 600-640 in every path."""
    n, start = 2000, 1200
    S = 1.0 + 0.1 * rng.standard_normal((4, n))
    S[:2, start:] += 2.0 + 0.3 * rng.standard_normal((2, n - start))
    S[:, 600:640] += 3.0
    S = jnp.asarray(S, jnp.float32)
    fixed = np.asarray(mask.activity_mask(S, method="universal"))
    tracked = np.asarray(mask.activity_mask(S, method="universal", span=200))
    # constant per path: the chorus half reads as activity; tracked: it does not
    assert (fixed[:2, start + 200:] > 0).mean() > 0.9
    assert (tracked[:2, start + 200:] > 0).mean() < 0.05
    assert tracked[:, 605:635].min() > 0.5
    jitted = jax.jit(lambda s: mask.activity_mask(s, method="universal", span=200))
    np.testing.assert_allclose(jitted(S), tracked, atol=1e-6)
    with pytest.raises(ScatterError, match=r"span=0 must be an integer >= 1"):
        mask.activity_mask(S, span=0)
