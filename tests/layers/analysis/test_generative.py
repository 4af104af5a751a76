"""Tests for layers.analysis.generative: rank, volume, angles, density, entropy, likelihood."""

import jax
import numpy as np
import pytest
import scipy.linalg
import scipy.stats

from layers.analysis.affine import forward
from layers.analysis.generative import (
    generator_entropy,
    generator_rank,
    log_volume,
    manifold_log_density,
    principal_angles,
    region_angularity,
    sample_log_likelihood,
)
from layers.analysis.spec import as_spline_net
from layers.errors import LayersError


def _gen(rng, k=2, D=5):
    return as_spline_net(
        [(rng.normal(size=(k, 6)), rng.normal(size=6), "relu"), (rng.normal(size=(6, D)),
                                                                 rng.normal(size=D))]
    )


def test_rank_and_log_volume_match_numpy(rng):
    net = _gen(rng)
    z = rng.normal(size=(20, 2))
    A = np.asarray(jax.vmap(jax.jacfwd(lambda v: forward(net, v)[0]))(z.astype(np.float32)))
    ranks = [np.linalg.matrix_rank(a) for a in A]
    np.testing.assert_array_equal(np.asarray(generator_rank(net, z)), ranks)
    ref = np.array([0.5 * np.linalg.slogdet(a.T @ a)[1] for a in A])
    got = np.asarray(log_volume(net, z))
    full = np.array(ranks) == 2
    np.testing.assert_allclose(got[full], ref[full], rtol=1e-3, atol=1e-3)
    assert np.all(np.isneginf(got[~full]))
    low = as_spline_net([(np.array([[1.0, 0.0], [2.0, 0.0]]), np.zeros(2))])
    assert int(generator_rank(low, np.ones(2))) == 1


def test_principal_angles_match_scipy(rng):
    A1, A2 = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    ref = np.sort(scipy.linalg.subspace_angles(A1, A2))
    np.testing.assert_allclose(np.sort(np.asarray(principal_angles(A1, A2))), ref, atol=1e-4)
    net = _gen(rng)
    z = rng.normal(size=2)
    np.testing.assert_allclose(np.asarray(region_angularity(net, z, z)), 0.0, atol=2e-3)


def test_linear_generator_density_and_entropy_match_scipy(rng):
    W = rng.normal(size=(3, 3))
    net = as_spline_net([(W, np.zeros(3))])  # x = W^T z: Gaussian with covariance W^T W
    dist = scipy.stats.multivariate_normal(mean=np.zeros(3), cov=W.T @ W)
    z = rng.normal(size=(4, 3))
    np.testing.assert_allclose(np.asarray(manifold_log_density(net, z)), dist.logpdf(z @ W),
                               rtol=1e-4)
    np.testing.assert_allclose(generator_entropy(net), dist.entropy(), rtol=1e-5)


def test_leaky_generator_entropy_monte_carlo(rng):
    k, alpha = 3, 0.2
    W1, W2 = rng.normal(size=(k, k)), rng.normal(size=(k, k))
    net = as_spline_net([(W1, np.zeros(k), ("leaky_relu", alpha)), (W2, np.zeros(k))])
    # each unit is negative with probability 1/2: E log|det A| = log|det W1 W2| + k/2 log alpha
    ref = (0.5 * k * (1 + np.log(2 * np.pi)) + np.log(abs(np.linalg.det(W1 @ W2)))
           + 0.5 * k * np.log(alpha))
    got = generator_entropy(net, key=jax.random.PRNGKey(0), n_samples=4096)
    assert abs(got - ref) < 0.1
    with pytest.raises(LayersError, match="key: a PRNG key is required"):
        generator_entropy(net)


def test_sample_log_likelihood_inverts_an_injective_generator(rng):
    k = 3
    W1, W2 = rng.normal(size=(k, k)), rng.normal(size=(k, 5))
    net = as_spline_net([(W1, 0.1 * rng.normal(size=k), ("leaky_relu", 0.3)),
                         (W2, rng.normal(size=5))])
    z = rng.normal(size=k).astype(np.float32)
    x = np.asarray(forward(net, z)[0])
    r = sample_log_likelihood(net, x)
    assert float(r["residual"]) < 1e-3
    np.testing.assert_allclose(np.asarray(r["z"]), z, atol=1e-3)
    np.testing.assert_allclose(float(r["log_likelihood"]),
                               float(manifold_log_density(net, z)), atol=1e-2)
    with pytest.raises(LayersError, match=r"x: expected one sample of shape \(5,\)"):
        sample_log_likelihood(net, np.zeros((2, 5)))
