import json

import numpy as np
import pytest

import layers as L
import symbolic as S
from layers import models


def test_classifier_structure_and_count():
    net = L.spline_classifier((None, 40, 100), 2, kind="conv1d", hidden=(16, 16))
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds == ["Conv1D", "BatchNorm", "BetaVQ", "MaxPool", "Conv1D", "BatchNorm",
                     "BetaVQ", "MaxPool", "GlobalPool", "Dropout", "Dense"]
    # conv 40*16*3 + bn 2*16 + beta 16 + conv 16*16*3 + bn 2*16 + beta 16 + dense 16*2 + 2
    assert L.count_params(net, trainable=True) == 1920 + 32 + 16 + 768 + 32 + 16 + 34
    assert all(p.name.startswith("classifier/") for p in net.get_params())
    dense = L.spline_classifier((None, 10), 3, hidden=(8,), batch_norm=False, dropout=0,
                                nonlinearity="relu", name="mlp")
    assert [type(layer).__name__ for layer in dense.layers] == ["Dense", "MaxAffine", "Dense"]


def test_classifier_learns_and_roundtrips(tmp_path, rng):
    # two classes told apart by the frequency of a sinusoid, on (batch, channels, time)
    t = np.arange(32)
    y = rng.integers(0, 2, 64).astype("int32")
    x = np.sin(2 * np.pi * t * np.where(y, 0.25, 0.0625)[:, None] + rng.uniform(0, 6, (64, 1)))
    x = np.repeat(x[:, None], 2, 1).astype("float32") + 0.1 * rng.normal(size=(64, 2, 32)).astype(
        "float32")
    net = L.spline_classifier((None, 2, 32), 2, kind="conv1d", hidden=(8,), seed=0)
    xs = S.placeholder((None, 2, 32))
    ys = S.placeholder((None,), "int32")
    loss = L.softmax_cross_entropy(net(xs), ys)
    ups = L.adam(loss, net.get_params(trainable=True), learning_rate=0.02)
    ups.update(L.get_updates(net))
    train = S.function([xs, ys], loss, updates=ups)
    train.scan(np.repeat(x[None], 60, 0), np.repeat(y[None], 60, 0))
    predict = S.function([xs], S.argmax(net(xs, deterministic=True), -1))
    pred = np.asarray(predict(x))
    assert np.mean(pred == y) > 0.9
    path = tmp_path / "model.npz"
    names = models.save(net, path, config={"hidden": [8]}, metrics={"acc": 1.0})
    assert set(names) == {p.name for p in net.get_params()}
    with S.Graph():
        twin = L.spline_classifier((None, 2, 32), 2, kind="conv1d", hidden=(8,), seed=5)
        meta = models.load(twin, path)
        xt = S.placeholder((None, 2, 32))
        np.testing.assert_array_equal(
            np.asarray(S.function([xt], S.argmax(twin(xt, deterministic=True), -1))(x)), pred)
    assert meta["config"] == {"hidden": [8]}
    assert json.loads((tmp_path / "model.npz.json").read_text())["metrics"] == {"acc": 1.0}


def test_classifier_errors():
    with pytest.raises(L.LayersError, match="kind must be 'dense' or 'conv1d'; got 'rnn'"):
        L.spline_classifier((None, 3), 2, kind="rnn")
    with pytest.raises(L.LayersError, match=r"kind='conv1d' needs input \(batch, channels, time\)"):
        L.spline_classifier((None, 3), 2, kind="conv1d")
    with pytest.raises(L.LayersError, match="hidden is empty"):
        L.spline_classifier((None, 3), 2, hidden=())
    with pytest.raises(L.LayersError, match="save: path must end with '.npz'"):
        models.save(L.Dense((None, 2), 2), "model.bin")
