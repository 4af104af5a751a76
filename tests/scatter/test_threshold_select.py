"""Tests of scatter.threshold.select: formulas, SURE vs oracle on sparse coefficients, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scatter import ScatterError
from scatter.threshold import oracle, select


def _sparse(rng, shape, complex_, frac=0.05, scale=5.0):
    theta = scale * rng.standard_normal(shape) * (rng.uniform(size=shape) < frac)
    noise = rng.standard_normal(shape)
    if complex_:
        theta = theta * np.exp(2j * np.pi * rng.uniform(size=shape))
        noise = (noise + 1j * rng.standard_normal(shape)) / np.sqrt(2)
    dt = jnp.complex64 if complex_ else jnp.float32
    return jnp.asarray(theta + noise, dt), jnp.asarray(theta, dt)


def test_universal_formula(rng):
    n = 777
    real = jnp.asarray(rng.standard_normal((2, n)), jnp.float32)
    cplx = real.astype(jnp.complex64) * (1 + 1j)
    np.testing.assert_allclose(select.universal_threshold(real, sigma=2.0),
                               2.0 * np.sqrt(2 * np.log(n)), rtol=1e-6)
    # complex: per-component sigma / sqrt(2)
    np.testing.assert_allclose(select.universal_threshold(cplx, sigma=2.0),
                               2.0 / np.sqrt(2) * np.sqrt(2 * np.log(n)), rtol=1e-6)
    np.testing.assert_allclose(select.universal_threshold(jnp.abs(cplx), sigma=2.0, dof=2),
                               2.0 / np.sqrt(2) * np.sqrt(2 * np.log(n)), rtol=1e-6)


def test_bayes_formula(rng):
    c = rng.standard_normal((3, 500)) * np.array([[2.0], [3.0], [0.5]])
    t = np.asarray(select.bayes_threshold(jnp.asarray(c, jnp.float32), sigma=1.0))
    power = (c**2).mean(-1)
    assert t[0] == pytest.approx(1.0 / np.sqrt(power[0] - 1.0), rel=1e-4)
    assert t[1] == pytest.approx(1.0 / np.sqrt(power[1] - 1.0), rel=1e-4)
    assert t[2] == pytest.approx(np.abs(c[2]).max(), rel=1e-5)  # no signal above the noise


@pytest.mark.parametrize("rule", ["soft", "garrote", "firm"])
@pytest.mark.parametrize("complex_", [False, True])
def test_sure_risk_within_15_percent_of_oracle(rng, rule, complex_):
    """Sparse coefficients in noise: the SURE threshold's actual error is near the oracle's."""
    c, theta = _sparse(rng, (4, 4000), complex_)

    @jax.jit
    def errors(c, theta):  # one compiled program per case: SURE, oracle, universal, bayes
        out = [oracle.oracle_threshold(c, theta, rule=rule)[1]]
        for method in ("sure", "universal", "bayes"):
            t = select.select_thresholds(c, method=method, sigma=1.0, rule=rule)
            out.append(oracle.threshold_error(c, theta, t, rule=rule))
        return [e.sum() for e in out]

    err_oracle, err_sure, *err_others = (float(e) for e in errors(c, theta))
    err_none = float((np.abs(np.asarray(c) - np.asarray(theta)) ** 2).sum())
    assert err_oracle <= err_sure <= 1.15 * err_oracle
    assert err_sure < 0.5 * err_none
    for err in err_others:  # universal and bayes
        assert err < err_none


def test_select_is_batched_and_jit_compatible(rng):
    c, theta = _sparse(rng, (2, 3, 300), True)
    for method in ("sure", "universal", "bayes"):
        t = select.select_thresholds(c, method=method, sigma=jnp.array([1.0, 1.0, 2.0]))
        assert t.shape == (2, 3)
        assert np.all(np.isfinite(np.asarray(t))) and np.all(np.asarray(t) >= 0)
    f = jax.jit(lambda c, s: select.select_thresholds(c, method="bayes", sigma=s))
    np.testing.assert_allclose(f(c, 1.0), select.select_thresholds(c, method="bayes", sigma=1.0),
                               rtol=1e-6)
    t = select.select_thresholds(c, method="oracle", reference=theta)
    assert t.shape == (2, 3)


def test_select_errors():
    c = jnp.ones((2, 10))
    with pytest.raises(ScatterError, match=r"method='minimax' is not a threshold selector"):
        select.select_thresholds(c, method="minimax", sigma=1.0)
    with pytest.raises(ScatterError, match=r"method='sure' needs sigma="):
        select.select_thresholds(c)
    with pytest.raises(ScatterError, match=r"method='oracle' needs reference="):
        select.select_thresholds(c, method="oracle")
    with pytest.raises(ScatterError, match=r"reference has shape \(2, 9\)"):
        select.select_thresholds(c, method="oracle", reference=jnp.ones((2, 9)))
    with pytest.raises(ScatterError, match=r"sigma must be finite and >= 0"):
        select.universal_threshold(c, sigma=-1.0)
    with pytest.raises(ScatterError, match=r"sigma contains NaN"):
        select.bayes_threshold(c, sigma=float("nan"))


def test_padded_bands_with_lengths_equal_separate_calls(rng):
    """Bands of different lengths zero-padded into one array give each band's own threshold."""
    sizes = (300, 120, 75)
    pairs = [_sparse(rng, (1, m), True) for m in sizes]
    pad = [(0, 0), (0, 0)]
    stack = jnp.concatenate([jnp.pad(c, pad[:1] + [(0, 300 - c.shape[-1])]) for c, _ in pairs])
    ref = jnp.concatenate([jnp.pad(t, pad[:1] + [(0, 300 - t.shape[-1])]) for _, t in pairs])
    sig = jnp.array([1.0, 1.0, 1.0])
    methods = ("sure", "universal", "bayes", "oracle")

    def every(c, theta, sigma, lengths=None):  # the four methods in one compiled program
        return [select.select_thresholds(c, method=method, sigma=sigma, reference=theta,
                                         lengths=lengths, rule="firm") for method in methods]

    got = jax.jit(lambda c, theta: every(c, theta, sig, np.array(sizes)))(stack, ref)
    separate = jax.jit(lambda c, theta: every(c, theta, 1.0))
    for k, (c, theta) in enumerate(pairs):
        for method, g, want in zip(methods, got, separate(c, theta)):
            assert float(g[k]) == pytest.approx(float(want[0]), rel=1e-5), method
    with pytest.raises(ScatterError, match=r"lengths must be integers in \[1, 300\]"):
        select.select_thresholds(stack, sigma=sig, lengths=np.array([300, 0, 5]))
