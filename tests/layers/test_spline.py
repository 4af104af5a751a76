import jax
import numpy as np
import pytest

import layers as L
import symbolic as S
from layers.spline import beta_to_logit, beta_vq, maso, maso_code, pieces

X = np.linspace(-4, 4, 81, dtype="float32")


@pytest.mark.parametrize(
    ("kind", "ref"),
    [("relu", lambda x: np.maximum(x, 0)), ("leaky_relu", lambda x: np.where(x > 0, x, 0.01 * x)),
     ("abs", np.abs)],
)
def test_named_masos(kind, ref):
    a, b = pieces(kind)
    np.testing.assert_allclose(np.asarray(maso(X, a, b)), ref(X), rtol=1e-6, atol=1e-7)
    code = np.asarray(maso_code(X, a, b))
    np.testing.assert_array_equal(code[X > 0], 1)


def test_per_channel_pieces_and_layer(rng):
    layer = L.MaxAffine((None, 3, 5), n_pieces=4, init="random")
    x = S.placeholder((None, 3, 5))
    value = rng.normal(size=(2, 3, 5)).astype("float32")
    got = np.asarray(S.function([x], layer(x))(value))
    a, b = layer.slopes.value, layer.offsets.value
    ref = (value[..., None] * a[None, :, None] + b[None, :, None]).max(-1)
    np.testing.assert_allclose(got, ref, rtol=1e-6)
    # a MASO is convex and piecewise affine: midpoint convexity on random pairs
    u, v = rng.normal(size=(2, 100)).astype("float32")
    f = lambda t: np.asarray(maso(t, a[0], b[0]))  # noqa: E731
    assert np.all(f((u + v) / 2) <= (f(u) + f(v)) / 2 + 1e-6)


def test_beta_vq_limits():
    a, b = pieces("relu")
    np.testing.assert_allclose(np.asarray(beta_vq(X, a, b, 0.0)), np.asarray(jax.nn.swish(X)),
                               rtol=1e-5, atol=1e-6)
    near_one = np.asarray(beta_vq(X, a, b, beta_to_logit(1 - 1e-6)))
    np.testing.assert_allclose(near_one, np.maximum(X, 0), atol=1e-4)
    near_zero = np.asarray(beta_vq(X, a, b, beta_to_logit(1e-6)))
    np.testing.assert_allclose(near_zero, X / 2, atol=1e-4)
    # general beta: x * sigmoid(beta / (1 - beta) * x)
    beta = 0.3
    np.testing.assert_allclose(np.asarray(beta_vq(X, a, b, beta_to_logit(beta))),
                               X / (1 + np.exp(-beta / (1 - beta) * X)), rtol=1e-5, atol=1e-6)


def test_beta_vq_abs_soft_is_smooth_abs():
    a, b = pieces("abs")
    # pieces -x, x with softmax weights: x * tanh(t x) at inverse temperature t
    t = 2.0
    np.testing.assert_allclose(np.asarray(beta_vq(X, a, b, np.log(t))), X * np.tanh(t * X),
                               rtol=1e-5, atol=1e-6)


def test_betavq_layer_learns_beta_per_channel(rng):
    layer = L.BetaVQ((None, 2, 3), beta=0.5)
    assert layer.beta_logit.shape == (2,)
    np.testing.assert_allclose(layer.beta(), [0.5, 0.5])
    x = S.placeholder((None, 2, 3))
    value = rng.normal(size=(4, 2, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(S.function([x], layer(x))(value)),
                               np.asarray(jax.nn.swish(value)), rtol=1e-5, atol=1e-6)
    loss = ((layer(x) - S.nn.relu(x)) ** 2).sum()
    step = S.function([x], loss, updates=L.sgd(loss, [layer.beta_logit], learning_rate=0.5))
    first = float(step(value))
    for _ in range(30):
        last = float(step(value))
    assert last < first and np.all(layer.beta() > 0.5)  # moves towards the ReLU end
    soft = L.SoftVQ((None, 3))
    assert soft.beta_logit.shape == () and not soft.beta_logit.trainable


def test_maxout_matches_numpy(rng):
    layer = L.MaxOut((None, 5), 3, n_pieces=2, b=rng.normal(size=(3, 2)))
    x = S.placeholder((None, 5))
    value = rng.normal(size=(4, 5)).astype("float32")
    ref = (np.einsum("ni,ikr->nkr", value, layer.W.value) + layer.b.value).max(-1)
    np.testing.assert_allclose(np.asarray(S.function([x], layer(x))(value)), ref, rtol=1e-5,
                               atol=1e-6)


def test_spline_errors():
    with pytest.raises(L.LayersError, match="pieces: kind must be one of"):
        pieces("tanh")
    with pytest.raises(L.LayersError, match=r"beta must lie in the open interval \(0, 1\)"):
        L.BetaVQ((None, 3), beta=1.0)
    with pytest.raises(L.LayersError, match="init='relu' has 2 pieces but n_pieces=3"):
        L.MaxAffine((None, 3), n_pieces=3)
    with pytest.raises(L.LayersError, match="the channel axis 1 must have a known size"):
        L.BetaVQ((None, None))
    with pytest.raises(L.LayersError, match="MaxOut: n_pieces must be an int >= 2; got 1"):
        L.MaxOut((None, 3), 2, n_pieces=1)
