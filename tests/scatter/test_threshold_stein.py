"""Tests of scatter.threshold.stein: closed forms, divergence, unbiasedness, exact search."""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scatter import ScatterError
from scatter.threshold import rules, stein

SMOOTH_RULES = ("soft", "garrote", "firm")


def _noise(rng, shape, sigma, complex_):
    if complex_:
        return sigma * (rng.normal(size=shape) + 1j * rng.normal(size=shape)) / np.sqrt(2.0)
    return sigma * rng.normal(size=shape)


def _sparse_signal(rng, n, complex_, k=60, scale=4.0):
    theta = np.zeros(n, complex if complex_ else float)
    idx = rng.choice(n, size=k, replace=False)
    theta[idx] = scale * rng.normal(size=k)
    if complex_:
        theta[idx] *= np.exp(2j * np.pi * rng.uniform(size=k))
    return theta


def test_real_soft_matches_donoho_johnstone_closed_form(rng):
    x = rng.normal(size=(3, 400)) + np.where(rng.uniform(size=(3, 400)) < 0.1, 5.0, 0.0)
    for t in (0.0, 0.8, 2.0):
        # SURE(t; x) = n - 2 #{|x| <= t} + sum min(|x|, t)^2, sigma = 1 (Donoho & Johnstone 1995)
        expected = 400 - 2 * (np.abs(x) <= t).sum(-1) + (np.minimum(np.abs(x), t) ** 2).sum(-1)
        got = stein.sure(jnp.asarray(x, jnp.float32), t, sigma=1.0, rule="soft")
        np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-4)


@pytest.mark.parametrize("rule", SMOOTH_RULES)
@pytest.mark.parametrize("complex_", [False, True])
def test_per_coefficient_formula_equals_autodiff_divergence(rng, rule, complex_):
    """SURE of one coefficient = |h(c) - c|^2 + 2 s^2 div h - d s^2, div from jax.jacfwd."""
    sigma, t, d = 0.8, 1.0, 2 if complex_ else 1
    s2 = sigma**2 / d
    moduli = rng.uniform(0.05, 4.0, size=60)
    moduli = moduli[(np.abs(moduli - t) > 1e-3) & (np.abs(moduli - 2 * t) > 1e-3)]
    if complex_:
        c = moduli * np.exp(2j * np.pi * rng.uniform(size=moduli.size))
        v = np.stack([c.real, c.imag], -1)
    else:
        c = moduli * rng.choice([-1.0, 1.0], size=moduli.size)
        v = c[:, None]

    def h(v):  # the rule as a map of R^d
        z = v[0] + 1j * v[1] if complex_ else v[0]
        out = rules.apply_threshold(jnp.reshape(z, (1, 1)), jnp.array([t]), rule=rule)[0, 0]
        return jnp.stack([out.real, out.imag]) if complex_ else jnp.reshape(out, (1,))

    @jax.jit
    def both(v, coeffs):  # the autodiff formula and the package's estimate, one program
        div = jnp.trace(jax.vmap(jax.jacfwd(h))(v), axis1=1, axis2=2)
        expected = jnp.sum((jax.vmap(h)(v) - v) ** 2, -1) + 2 * s2 * div - d * s2
        return expected, stein.sure(coeffs, t, sigma=sigma, rule=rule)

    coeffs = jnp.asarray(c[:, None], jnp.complex64 if complex_ else jnp.float32)
    expected, got = both(jnp.asarray(v, jnp.float32), coeffs)
    np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("rule", SMOOTH_RULES)
@pytest.mark.parametrize("complex_", [False, True])
def test_sure_is_unbiased_monte_carlo(rng, rule, complex_):
    """Over 400 seeded noise draws, mean SURE matches the mean true loss within 2 %."""
    n, draws, sigma, t = 1000, 400, 1.0, 1.2
    theta = _sparse_signal(rng, n, complex_)
    y = theta + _noise(rng, (draws, 1, n), sigma, complex_)
    dtype = jnp.complex64 if complex_ else jnp.float32
    est = np.asarray(stein.sure(jnp.asarray(y, dtype), t, sigma=sigma, rule=rule))
    out = np.asarray(rules.apply_threshold(jnp.asarray(y, dtype), jnp.array([t]), rule=rule))
    loss = (np.abs(out - theta) ** 2).sum(-1)
    assert est.mean() == pytest.approx(loss.mean(), rel=0.02)
    # and the estimate is not trivially close: its spread across draws is real
    assert est.std() > 0.05 * loss.std()


@pytest.mark.parametrize("rule", SMOOTH_RULES)
@pytest.mark.parametrize("complex_", [False, True])
def test_search_returns_exact_minimum_over_candidates(rng, rule, complex_):
    n = 300
    y = np.stack([_sparse_signal(rng, n, complex_, k=20) for _ in range(2)])
    y = y + _noise(rng, y.shape, 1.0, complex_)
    c = jnp.asarray(y, jnp.complex64 if complex_ else jnp.float32)

    @jax.jit
    def search_and_brute_force(c):  # one program per case
        t, risk = stein.sure_threshold(c, sigma=1.0, rule=rule)
        r = jnp.sort(jnp.abs(c), -1)  # the candidates, computed exactly as the search does
        cands = jnp.concatenate([jnp.zeros((2, 1)), r] + ([r / 2.0] if rule == "firm" else []),
                                -1)
        tiled = jnp.broadcast_to(c, (cands.shape[1],) + c.shape)
        brute = stein.sure(tiled, cands.T, sigma=1.0, rule=rule).T
        return risk, brute.min(-1), stein.sure(c, t, sigma=1.0, rule=rule)

    risk, brute, at_t = search_and_brute_force(c)
    np.testing.assert_allclose(np.asarray(risk), np.asarray(brute), rtol=1e-4, atol=1e-2)
    np.testing.assert_allclose(np.asarray(at_t), np.asarray(risk), rtol=1e-4, atol=1e-2)


def test_search_is_vectorized_and_jit_compatible(rng):
    y = jnp.asarray(rng.normal(size=(2, 3, 256)), jnp.float32)
    sigma = jnp.array([1.0, 1.0, 2.0])
    t, risk = stein.sure_threshold(y, sigma=sigma)
    assert t.shape == risk.shape == (2, 3)
    f = jax.jit(partial(stein.sure_threshold, rule="garrote"))
    tj, _ = f(y, sigma=sigma)
    np.testing.assert_allclose(tj, stein.sure_threshold(y, sigma=sigma, rule="garrote")[0])
    band = jax.jit(lambda v, s: stein.sure_threshold(v, sigma=s)[0])  # one band alone
    for b in range(2):
        for k in range(3):
            one = band(y[b, k][None], sigma[k])
            assert float(one[0]) == pytest.approx(float(t[b, k]))


def test_pure_noise_is_removed_and_zero_sigma_keeps_everything(rng):
    y = jnp.asarray(rng.normal(size=(4, 2000)), jnp.float32)
    t, _ = stein.sure_threshold(y, sigma=1.0)
    assert np.all(np.asarray(t) > 1.5)
    t0, r0 = stein.sure_threshold(y, sigma=0.0)
    np.testing.assert_array_equal(np.asarray(t0), 0.0)
    np.testing.assert_allclose(np.asarray(r0), 0.0, atol=1e-6)
    tz, rz = stein.sure_threshold(jnp.zeros((2, 50)), sigma=0.0)
    assert np.all(np.isfinite(np.asarray(tz))) and np.all(np.isfinite(np.asarray(rz)))


def test_components():
    c = jnp.array([[1 + 1j, 2.0], [1.0, 2.0], [1 + 1e-6j, 3.0]], jnp.complex64)
    np.testing.assert_array_equal(stein.components(c), [2.0, 1.0, 1.0])
    np.testing.assert_array_equal(stein.components(jnp.ones((2, 3))), [1.0, 1.0])


def test_sure_errors():
    y = jnp.ones((2, 10))
    with pytest.raises(ScatterError, match=r"rule='hard' has no Stein unbiased risk estimate"):
        stein.sure_threshold(y, sigma=1.0, rule="hard")
    with pytest.raises(ScatterError, match=r"sigma must be finite and >= 0.*\[-1.0\]"):
        stein.sure_threshold(y, sigma=-1.0)
    with pytest.raises(ScatterError, match=r"coeffs contains NaN or infinite"):
        stein.sure(y.at[0, 0].set(jnp.inf), 1.0, sigma=1.0)
    with pytest.raises(ScatterError, match=r"sigma must be finite.*\[nan\]"):
        stein.sure(y, 1.0, sigma=float("nan"))
    with pytest.raises(ScatterError, match=r"expected n_time >= 1"):
        stein.sure_threshold(jnp.ones((2, 0)), sigma=1.0)


@pytest.mark.parametrize("rule", SMOOTH_RULES)
@pytest.mark.parametrize("complex_", [False, True])
def test_sure_curve_equals_sure_at_each_threshold(rng, rule, complex_):
    """The sorted-sum evaluation at many thresholds against :func:`stein.sure` one threshold at
    a time, with weights and padded bands, eagerly and under jit."""
    n = 300
    c = np.stack([_sparse_signal(rng, n, complex_) + _noise(rng, n, 1.3, complex_)
                  for _ in range(3)])
    w = rng.uniform(0.2, 2.0, size=c.shape)
    lengths = np.array([n, 200, 120])
    c[1, 200:], c[2, 120:], w[1, 200:], w[2, 120:] = 0, 0, 0, 0
    t = np.linspace(0.0, 5.0, 23)
    dtype = jnp.complex64 if complex_ else jnp.float32
    c, w = jnp.asarray(c, dtype), jnp.asarray(w, jnp.float32)
    curve = stein.sure_curve(c, t, sigma=1.3, rule=rule, weights=w, lengths=lengths)
    jitted = jax.jit(partial(stein.sure_curve, sigma=1.3, rule=rule, lengths=lengths))
    ref = np.array([[float(stein.sure(c[k : k + 1, : lengths[k]], tj, sigma=1.3, rule=rule,
                                      weights=w[k : k + 1, : lengths[k]])[0]) for tj in t]
                    for k in range(3)])
    scale = np.abs(ref).max()
    np.testing.assert_allclose(np.asarray(curve), ref, rtol=0, atol=2e-5 * scale)
    np.testing.assert_allclose(np.asarray(jitted(c, jnp.asarray(t), weights=w)), curve,
                               rtol=0, atol=2e-5 * scale)
