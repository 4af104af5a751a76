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


def _gain64(r, t, rule, mu=2.0):
    """The rules' gains written out in NumPy float64, independently of scatter.threshold."""
    above = r > t
    safe = np.where(above, r, 1.0)
    if rule == "hard":
        return above.astype(np.float64)
    if rule == "soft":
        return np.where(above, 1.0 - t / safe, 0.0)
    if rule == "garrote":
        return np.where(above, 1.0 - (t / safe) ** 2, 0.0)
    a = mu / (mu - 1.0)
    return np.where(r > mu * t, 1.0, np.where(above, a * (1.0 - t / safe), 0.0))


@pytest.mark.parametrize("rule", ["hard", "soft", "garrote", "firm"])
@pytest.mark.parametrize("complex_", [False, True])
def test_oracle_is_exact_minimum_over_candidates(rng, rule, complex_):
    """Against a brute-force float64 search: the error of every candidate threshold (0, each
    modulus and, for firm, each modulus / mu), each evaluated directly."""
    c, theta = _problem(rng, complex_)
    t, err = oracle.oracle_threshold(c, theta, rule=rule)
    c64 = np.asarray(c).astype(np.complex128 if complex_ else np.float64)
    th64 = np.asarray(theta).astype(c64.dtype)
    r = np.abs(c64)
    cands = np.concatenate([np.zeros((2, 1)), r] + ([r / 2.0] if rule == "firm" else []), -1)

    def error64(thresholds):  # (bands, m) thresholds -> (bands, m) errors
        g = _gain64(r[:, None, :], thresholds[..., None], rule)
        return np.sum(np.abs(c64[:, None, :] * g - th64[:, None, :]) ** 2, axis=-1)

    brute = error64(cands).min(-1)
    # float32 prefix sums of n terms, each at most a few times |c|^2 + |theta|^2: rounding
    # error at most about n eps times their total (n = 200, so 1e-5 of it)
    n = c64.shape[-1]
    tol = 4 * n * np.finfo(np.float32).eps * np.sum(r**2 + np.abs(th64) ** 2, axis=-1)
    got = np.asarray(err, np.float64)
    assert np.all(np.abs(got - brute) <= tol), (got, brute, tol)
    # the returned threshold is a candidate (up to the float32 rounding of a modulus) whose
    # float64 error is the minimum; the float64 candidate itself is evaluated, since the hard
    # rule jumps exactly there
    t64 = np.asarray(t, np.float64)[:, None]
    nearest = np.take_along_axis(cands, np.argmin(np.abs(cands - t64), -1)[:, None], -1)
    assert np.all(np.abs(nearest - t64) <= 4 * np.finfo(np.float32).eps * t64)
    at_t = error64(nearest)[:, 0]
    assert np.all(np.abs(at_t - brute) <= tol), (at_t, brute, tol)
    # and so does the package's own error at that threshold (float32 through the rules)
    np.testing.assert_allclose(oracle.threshold_error(c, theta, t, rule=rule), brute, rtol=0,
                               atol=float(tol.max()))


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
