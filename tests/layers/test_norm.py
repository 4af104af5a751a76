import numpy as np
import pytest

import layers as L
import symbolic as S


def test_batchnorm_training_and_running_stats(rng):
    bn = L.BatchNorm((None, 3, 4), momentum=0.5)
    x = S.placeholder((None, 3, 4))
    train = S.function([x], bn(x), updates=L.get_updates(bn))
    value = rng.normal(2.0, 3.0, size=(8, 3, 4)).astype("float32")
    out = np.asarray(train(value))
    mean, var = value.mean((0, 2)), value.var((0, 2))
    ref = (value - mean[None, :, None]) / np.sqrt(var[None, :, None] + 1e-5)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(bn.mean.value, 0.5 * mean, rtol=1e-5)
    np.testing.assert_allclose(bn.var.value, 0.5 + 0.5 * var, rtol=1e-5)
    test = S.function([x], bn(x, deterministic=True))
    ref_det = (value - bn.mean.value[None, :, None]) / np.sqrt(bn.var.value[None, :, None] + 1e-5)
    np.testing.assert_allclose(np.asarray(test(value)), ref_det, rtol=1e-4, atol=1e-4)


def test_batchnorm_gradient_flows_to_gamma_beta(rng):
    bn = L.BatchNorm((None, 2))
    x = S.placeholder((None, 2))
    loss = (bn(x) * np.array([1.0, 2.0], "float32")).sum()
    g_beta, g_gamma = S.grad(loss, [bn.beta, bn.gamma])
    out = S.function([x], [g_beta, g_gamma])(rng.normal(size=(6, 2)).astype("float32"))
    np.testing.assert_allclose(np.asarray(out[0]), [6.0, 12.0], rtol=1e-5)
    np.testing.assert_allclose(np.asarray(out[1]), [0.0, 0.0], atol=1e-4)  # normalised sums vanish


def test_layernorm_matches_numpy(rng):
    ln = L.LayerNorm((None, 3, 4), n_axes=2, gamma=rng.normal(size=(3, 4)))
    x = S.placeholder((None, 3, 4))
    value = rng.normal(size=(5, 3, 4)).astype("float32")
    mu = value.mean((1, 2), keepdims=True)
    sd = np.sqrt(value.var((1, 2), keepdims=True) + 1e-5)
    ref = (value - mu) / sd * ln.gamma.value
    np.testing.assert_allclose(np.asarray(S.function([x], ln(x))(value)), ref, rtol=1e-4,
                               atol=1e-5)


def test_norm_errors():
    with pytest.raises(L.LayersError, match=r"BatchNorm: momentum must lie in \(0, 1\]; got 0"):
        L.BatchNorm((None, 3), momentum=0)
    with pytest.raises(L.LayersError, match="axes not averaged over must have known sizes"):
        L.BatchNorm((None, None, 4))
    with pytest.raises(L.LayersError, match=r"LayerNorm: n_axes must be an int in \[1, 1\]"):
        L.LayerNorm((None, 3), n_axes=2)
    with pytest.raises(L.LayersError, match="LayerNorm: epsilon must be positive"):
        L.LayerNorm((None, 3), epsilon=0)
