"""Tests of scatter.threshold.rules: the four rules on real and complex coefficients."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import pywt
from hypothesis import given, settings
from hypothesis import strategies as st

from scatter import ScatterError
from scatter.threshold import rules

RULES = ("hard", "soft", "garrote", "firm")


def _reference_real(x, t, rule, ratio=2.0):
    """PyWavelets' implementation of the same rules (real input)."""
    if rule == "firm":
        return pywt.threshold_firm(x, t, ratio * t)
    return pywt.threshold(x, t, mode=rule)


@pytest.mark.parametrize("rule", RULES)
def test_real_rules_match_pywavelets(rng, rule):
    x = rng.normal(scale=2.0, size=500)
    out = rules.apply_threshold(jnp.asarray(x[None]), jnp.array([1.3]), rule=rule)
    np.testing.assert_allclose(np.asarray(out[0]), _reference_real(x, 1.3, rule), atol=1e-5)


@pytest.mark.parametrize("rule", RULES)
def test_complex_rules_act_on_modulus_and_keep_phase(rng, rule):
    c = (rng.normal(size=400) + 1j * rng.normal(size=400)).astype(np.complex64)
    out = np.asarray(rules.apply_threshold(jnp.asarray(c[None]), jnp.array([1.0]), rule=rule))[0]
    expected_modulus = _reference_real(np.abs(c).astype(np.float64), 1.0, rule)
    np.testing.assert_allclose(np.abs(out), expected_modulus, atol=1e-5)
    kept = np.abs(out) > 1e-3
    assert kept.sum() > 50
    np.testing.assert_allclose(np.angle(out[kept]), np.angle(c[kept]), atol=1e-4)


def test_soft_complex_matches_pywavelets_complex(rng):
    c = rng.normal(size=300) + 1j * rng.normal(size=300)
    np.testing.assert_allclose(
        np.asarray(rules.soft(jnp.asarray(c, jnp.complex64), 0.7)),
        pywt.threshold(c, 0.7, mode="soft"),
        atol=1e-5,
    )


def test_named_functions_equal_apply_threshold(rng):
    x = jnp.asarray(rng.normal(size=(2, 3, 50)), jnp.float32)
    t = jnp.asarray([0.2, 0.5, 1.0])
    for name in ("hard", "soft", "garrote"):
        got = getattr(rules, name)(x, t[:, None])
        np.testing.assert_array_equal(got, rules.apply_threshold(x, t, rule=name))
    np.testing.assert_array_equal(
        rules.firm(x, t[:, None], ratio=3.0),
        rules.apply_threshold(x, t, rule="firm", firm_ratio=3.0),
    )


@settings(max_examples=40, deadline=None)
@given(
    r=st.floats(0.0, 50.0, allow_nan=False),
    t=st.floats(0.0, 10.0, allow_nan=False),
    rule=st.sampled_from(RULES),
)
def test_gain_is_in_unit_interval_and_zero_below_threshold(r, t, rule):
    g = float(rules.gain(jnp.float32(r), jnp.float32(t), rule=rule))
    assert 0.0 <= g <= 1.0 + 1e-6
    if np.float32(r) <= np.float32(t):
        assert g == 0.0


def test_rules_jit_vmap_and_finite_gradient_at_zero():
    f = jax.jit(lambda c, t: rules.apply_threshold(c, t, rule="soft"))
    c = jnp.array([[0.0, 0.5, 2.0]])
    np.testing.assert_allclose(f(c, jnp.array([1.0])), [[0.0, 0.0, 1.0]])
    batched = jax.vmap(lambda c: rules.soft(c, 1.0))(jnp.ones((4, 3)) * 3.0)
    np.testing.assert_allclose(batched, 2.0)
    for rule in RULES:
        grad = jax.grad(lambda c, rule=rule: rules.apply_threshold(c, jnp.array([1.0]), rule=rule)
                        .sum())(c)
        assert np.all(np.isfinite(np.asarray(grad)))
    assert rules.soft(jnp.array([3.0]), -1.0)[0] == 3.0  # negative thresholds act as 0


def test_rule_errors():
    with pytest.raises(ScatterError, match=r"rule='median' is not a thresholding rule"):
        rules.apply_threshold(jnp.ones((1, 3)), jnp.ones(1), rule="median")
    with pytest.raises(ScatterError, match=r"firm_ratio=1.0 must be a finite number > 1"):
        rules.firm(jnp.ones(3), 1.0, ratio=1.0)
    with pytest.raises(ScatterError, match=r"t contains NaN"):
        rules.soft(jnp.ones(3), float("nan"))
    with pytest.raises(ScatterError, match=r"coeffs has shape \(3,\); expected at least 2"):
        rules.apply_threshold(jnp.ones(3), jnp.ones(1))
