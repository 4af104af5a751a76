import numpy as np
import pytest

import layers as L
import symbolic as S


def _sig(z):
    return 1 / (1 + np.exp(-z))


def _run(layer, value):
    x = S.placeholder((None,) + value.shape[1:])
    return np.asarray(S.function([x], layer(x))(value))


def test_rnn_matches_numpy(rng):
    layer = L.RNN((None, 5, 3), 4, b=rng.normal(size=4))
    value = rng.normal(size=(2, 5, 3)).astype("float32")
    W, U, b = layer.W.value, layer.U.value, layer.b.value
    h = np.zeros((2, 4))
    ref = []
    for t in range(5):
        h = np.tanh(value[:, t] @ W + h @ U + b)
        ref.append(h)
    np.testing.assert_allclose(_run(layer, value), np.stack(ref, 1), rtol=1e-4, atol=1e-5)


def test_gru_matches_numpy(rng):
    layer = L.GRU((None, 4, 3), 2, only_return_final=True, b=rng.normal(size=6))
    value = rng.normal(size=(3, 4, 3)).astype("float32")
    W, U, b = layer.W.value, layer.U.value, layer.b.value
    h = np.zeros((3, 2))
    for t in range(4):
        xw, hu = value[:, t] @ W + b, h @ U
        r, z = _sig(xw[:, :2] + hu[:, :2]), _sig(xw[:, 2:4] + hu[:, 2:4])
        n = np.tanh(xw[:, 4:] + r * hu[:, 4:])
        h = (1 - z) * n + z * h
    np.testing.assert_allclose(_run(layer, value), h, rtol=1e-4, atol=1e-5)


def test_lstm_matches_numpy_reverse(rng):
    layer = L.LSTM((None, 4, 3), 2, reverse=True)
    np.testing.assert_allclose(layer.b.value, [0, 0, 1, 1, 0, 0, 0, 0])  # forget bias 1
    value = rng.normal(size=(2, 4, 3)).astype("float32")
    W, U, b = layer.W.value, layer.U.value, layer.b.value
    h, c = np.zeros((2, 2)), np.zeros((2, 2))
    ref = [None] * 4
    for t in reversed(range(4)):
        g = value[:, t] @ W + h @ U + b
        i, f, o = _sig(g[:, :2]), _sig(g[:, 2:4]), _sig(g[:, 6:])
        c = f * c + i * np.tanh(g[:, 4:6])
        h = o * np.tanh(c)
        ref[t] = h
    np.testing.assert_allclose(_run(layer, value), np.stack(ref, 1), rtol=1e-4, atol=1e-5)


def test_recurrent_errors():
    with pytest.raises(L.LayersError, match=r"LSTM: input must be \(batch, time, features\)"):
        L.LSTM((None, 3), 2)
    with pytest.raises(L.LayersError, match="GRU: units must be a positive int; got 0"):
        L.GRU((None, 3, 2), 0)
