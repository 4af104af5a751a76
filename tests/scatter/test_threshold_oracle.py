"""Tests of scatter.threshold.oracle: exact error minimization over the candidate thresholds."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scatter import ScatterError
from scatter.threshold import oracle, rules


def _problem(rng, complex_, n=200, bands=2):
    theta = np.zeros((bands, n), complex if complex_ else float)
    theta[:, :25] = 3.0 * rng.standard_normal((bands, 25))
    noise = rng.standard_normal((bands, n))
    if complex_:
        theta[:, :25] *= np.exp(2j * np.pi * rng.uniform(size=(bands, 25)))
        noise = (noise + 1j * rng.standard_normal((bands, n))) / np.sqrt(2)
    dt = jnp.complex64 if complex_ else jnp.float32
    return jnp.asarray(theta + noise, dt), jnp.asarray(theta, dt)


def test_threshold_error_matches_numpy(rng):
    c, theta = _problem(rng, True)
    t = jnp.array([0.7, 1.4])
    out = np.asarray(rules.apply_threshold(c, t, rule="garrote"))
    expected = (np.abs(out - np.asarray(theta)) ** 2).sum(-1)
    np.testing.assert_allclose(oracle.threshold_error(c, theta, t, rule="garrote"), expected,
                               rtol=1e-5)


@pytest.mark.parametrize("rule", ["hard", "soft", "garrote", "firm"])
@pytest.mark.parametrize("complex_", [False, True])
def test_oracle_is_exact_minimum_over_candidates(rng, rule, complex_):
    c, theta = _problem(rng, complex_)
    t, err = oracle.oracle_threshold(c, theta, rule=rule)
    r = jnp.sort(jnp.abs(c), -1)
    cands = jnp.concatenate([jnp.zeros((2, 1)), r] + ([r / 2.0] if rule == "firm" else []), -1)
    tiled_c = jnp.broadcast_to(c, (cands.shape[1],) + c.shape)
    tiled_t = jnp.broadcast_to(theta, tiled_c.shape)
    brute = np.asarray(oracle.threshold_error(tiled_c, tiled_t, cands.T, rule=rule)).T
    np.testing.assert_allclose(np.asarray(err), brute.min(-1), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(oracle.threshold_error(c, theta, t, rule=rule), err, rtol=1e-4,
                               atol=1e-3)
    # the oracle does at least as well as keeping everything or killing everything
    assert np.all(np.asarray(err) <= np.asarray(oracle.threshold_error(c, theta, 0.0, rule=rule))
                  + 1e-3)
    assert np.all(np.asarray(err) <= (np.abs(np.asarray(theta)) ** 2).sum(-1) + 1e-3)


def test_oracle_jit_and_errors(rng):
    c, theta = _problem(rng, False)
    t = jax.jit(lambda a, b: oracle.oracle_threshold(a, b, rule="soft"))(c, theta)[0]
    np.testing.assert_allclose(t, oracle.oracle_threshold(c, theta)[0])
    with pytest.raises(ScatterError, match=r"reference has shape \(2, 199\) but coeffs has "
                                           r"shape \(2, 200\)"):
        oracle.oracle_threshold(c, theta[:, :-1])
    with pytest.raises(ScatterError, match=r"reference contains NaN"):
        oracle.oracle_threshold(c, theta.at[0, 0].set(jnp.nan))
    with pytest.raises(ScatterError, match=r"rule='x' is not a thresholding rule"):
        oracle.oracle_threshold(c, theta, rule="x")
