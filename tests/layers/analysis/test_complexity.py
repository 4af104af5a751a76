"""Tests for layers.analysis.complexity: tangent Hessian, local complexity, adversarial margins."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from layers.analysis.affine import forward
from layers.analysis.complexity import (
    adversarial_margin,
    adversarial_risk,
    local_complexity,
    local_tangents,
    tangent_hessian_complexity,
)
from layers.analysis.spec import as_spline_net
from layers.errors import LayersError


def test_tangent_hessian_of_quadratic_is_exact(rng):
    Q = rng.normal(size=(4, 4))
    Q = (Q + Q.T).astype(np.float32)
    P, _ = np.linalg.qr(rng.normal(size=(4, 2)))
    f = lambda v: 0.5 * v @ jnp.asarray(Q) @ v  # noqa: E731
    x = rng.normal(size=(3, 4)).astype(np.float32)
    # compiled (op by op, each primitive would compile once per shape)
    got = float(jax.jit(lambda v, t: tangent_hessian_complexity(f, v, tangents=t, step=0.1))(
        x, P.astype(np.float32)))
    np.testing.assert_allclose(got, np.sum((P.T @ Q @ P) ** 2), rtol=1e-3)
    full = float(jax.jit(lambda v: tangent_hessian_complexity(f, v, step=0.1))(x))
    np.testing.assert_allclose(full, np.sum(Q**2), rtol=1e-3)


def test_tangent_hessian_zero_for_linear_and_usable_as_penalty(rng):
    lin = as_spline_net([(rng.normal(size=(3, 2)), rng.normal(size=2))])
    x = rng.normal(size=(5, 3))
    assert float(tangent_hessian_complexity(lin, x)) == 0.0
    W1 = jnp.asarray(rng.normal(size=(3, 16)), jnp.float32)
    W2 = jnp.asarray(rng.normal(size=(16, 2)), jnp.float32)
    b1 = jnp.asarray(0.1 * rng.normal(size=16), jnp.float32)

    def penalty(W1):
        net = as_spline_net([(W1, b1, "relu"), (W2, jnp.zeros(2))])
        return tangent_hessian_complexity(net, jnp.asarray(x, jnp.float32), step=0.5)

    value, grad = jax.jit(jax.value_and_grad(penalty))(W1)
    assert float(value) > 0 and np.all(np.isfinite(np.asarray(grad)))
    assert float(jnp.abs(grad).sum()) > 0


def test_local_tangents_follow_a_line(rng):
    direction = np.array([1.0, 2.0, -2.0]) / 3.0
    t = rng.uniform(-1, 1, size=40)
    P = local_tangents(t[:, None] * direction, k=6, dim=1)
    assert P.shape == (40, 3, 1)
    np.testing.assert_allclose(np.abs(P[:, :, 0] @ direction), 1.0, atol=1e-9)
    with pytest.raises(LayersError, match=r"k: expected an integer in \(1, 40\], got 50"):
        local_tangents(t[:, None] * direction, k=50, dim=1)


def test_local_complexity_first_layer_matches_cross_polytope_test(rng):
    W, b = rng.normal(size=(3, 12)), rng.normal(size=12)
    net = as_spline_net([(W, b, "relu"), (np.ones((12, 1)), np.zeros(1))])
    x = rng.normal(size=(30, 3))
    r = 0.4
    # a hyperplane meets the l1 ball of radius r around x iff |w.x + b| < r ||w||_inf
    ref = np.sum(np.abs(x @ W + b) < r * np.abs(W).max(axis=0), axis=1)
    got = np.asarray(local_complexity(net, x, radius=r, per_layer=True))
    np.testing.assert_array_equal(got[:, 0], ref)
    np.testing.assert_array_equal(got[:, 1], 0)
    np.testing.assert_array_equal(np.asarray(local_complexity(net, x, radius=r)), ref)
    with pytest.raises(LayersError, match="radius: expected a positive number, got 0"):
        local_complexity(net, x, radius=0)


def test_adversarial_margin_linear_and_relu(rng):
    W, b = rng.normal(size=(4, 3)), rng.normal(size=3)
    lin = as_spline_net([(W, b)])
    x = rng.normal(size=(6, 4))
    f = x @ W + b
    y = f.argmax(1)
    norms = np.linalg.norm(W[:, y].T[:, :, None] - W[None], axis=1)  # (6, 3), 0 at the label
    norms[np.arange(6), y] = 1.0
    gaps = (f[np.arange(6), y][:, None] - f) / norms
    gaps[np.arange(6), y] = np.inf
    r = adversarial_margin(lin, x)
    np.testing.assert_allclose(np.asarray(r["margin"]), gaps.min(1), rtol=1e-4)
    assert np.all(np.asarray(r["exact"]))

    net = as_spline_net([(rng.normal(size=(4, 8)), rng.normal(size=8), "relu"),
                         (rng.normal(size=(8, 3)), rng.normal(size=3))])
    x = rng.normal(size=(40, 4)).astype(np.float32)
    r = adversarial_margin(net, x)
    exact = np.asarray(r["exact"])
    assert exact.any()
    # the network and its Jacobian compiled once for the points below
    logits = jax.jit(lambda v: forward(net, v)[0])
    jacobian = jax.jit(jax.jacfwd(lambda v: forward(net, v)[0]))
    for i in np.nonzero(exact)[0][:5]:
        yi = int(np.argmax(np.asarray(logits(x[i]))))
        c = int(r["target"][i])
        A = np.asarray(jacobian(x[i]))
        d = A[yi] - A[c]
        step = (d / np.linalg.norm(d)).astype(np.float32)
        m = float(r["margin"][i])
        before = np.asarray(logits(x[i] - np.float32(0.99 * m) * step))
        after = np.asarray(logits(x[i] - np.float32(1.01 * m) * step))
        assert before[yi] > before[c] and after[c] > after[yi]


def test_adversarial_risk(rng):
    net = as_spline_net([(np.array([[1.0, -1.0]]), np.zeros(2))])
    x = np.array([[0.5], [2.0], [-1.0]])
    risk, exact = adversarial_risk(net, x, np.array([0, 0, 0]), epsilon=1.5)
    # margins sqrt(2)/2 * (1, 4, -2): two are below 1.5 (one misclassified)
    assert risk == pytest.approx(2 / 3) and exact == 1.0
    with pytest.raises(LayersError, match="epsilon: expected a non-negative number, got -1"):
        adversarial_risk(net, x, np.zeros(3), epsilon=-1)
    with pytest.raises(LayersError, match=r"label: expected shape \(3,\), got \(2,\)"):
        adversarial_risk(net, x, np.zeros(2), epsilon=1)
    with pytest.raises(LayersError, match="need >= 2 outputs, got 1"):
        adversarial_margin([(np.ones((1, 1)), np.zeros(1))], x)
