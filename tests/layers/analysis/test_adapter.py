"""Tests for layers.analysis.adapter: exact SplineNet of a layers network."""

import functools

import numpy as np
import pytest

import layers as L
import symbolic as S
from layers.analysis import affine_map, forward, partition_2d, to_spline_net
from layers.analysis.spec import as_spline_net
from layers.errors import LayersError


def _reference(net_or_layer, x):
    """The layers network itself, compiled with symbolic, in deterministic mode."""
    xs = S.placeholder((None,) + x.shape[1:], "float32")
    if isinstance(net_or_layer, L.Sequential):
        y = net_or_layer(xs, deterministic=True)
    else:
        y = L.get_output(net_or_layer, xs, deterministic=True)
    return np.asarray(S.function([xs], y)(x), dtype=np.float64).reshape(len(x), -1)


def _check(net_or_layer, x):
    spline = to_spline_net(net_or_layer)
    ref = _reference(net_or_layer, x)
    flat = x.reshape(len(x), -1).astype(np.float64)
    tol = 1e-5 * max(1.0, np.abs(ref).max())
    np.testing.assert_allclose(np.asarray(forward(spline, flat)[0]), ref, rtol=1e-5, atol=tol)
    A, b = affine_map(spline, flat)
    np.testing.assert_allclose(
        np.einsum("nod,nd->no", np.asarray(A), flat) + np.asarray(b), ref, rtol=1e-5, atol=tol
    )
    return spline


def _randomise_stats(bn, rng):
    n = bn.mean.value.shape
    bn.mean.value = rng.normal(size=n).astype("float32")
    bn.var.value = rng.uniform(0.3, 2.0, size=n).astype("float32")
    bn.gamma.value = rng.normal(size=n).astype("float32")
    bn.beta.value = rng.normal(size=n).astype("float32")


def test_dense_mlp_with_batch_norm(rng):
    d1 = L.Dense((None, 2), 8, nonlinearity=S.nn.relu, b=rng.normal(size=8))
    d2 = L.Dense(d1, 8)
    bn = L.BatchNorm(d2)
    _randomise_stats(bn, rng)
    act = L.MaxAffine(bn, init="leaky_relu")
    d3 = L.Dense(act, 6, nonlinearity=functools.partial(S.nn.leaky_relu, negative_slope=0.2))
    d4 = L.Dense(d3, 5, nonlinearity=S.abs)
    drop = L.Dropout(d4, p=0.5)
    out = L.Dense(drop, 3)
    net = L.Sequential([d1, d2, bn, act, d3, d4, drop, out])
    spline = _check(net, rng.normal(size=(64, 2)).astype("float32"))
    kinds = [layer.activation.kind for layer in spline.layers]
    assert kinds == ["relu", "leaky_relu", "leaky_relu", "abs", "identity"]
    # MaxAffine's float32 slope 0.01 is kept as stored; the partial's slope exactly
    assert spline.layers[1].activation.slope == pytest.approx(0.01, rel=1e-6)
    assert spline.layers[2].activation.slope == 0.2
    # BatchNorm folded into the preceding affine map: one matrix per nonlinearity
    assert spline.pre_dims == (8, 8, 6, 5, 3)
    # layers networks go straight into every analysis function
    part = partition_2d(net, domain=[[-1, -1], [1, -1], [1, 1], [-1, 1]])
    np.testing.assert_allclose(part.areas.sum(), 4.0)
    u = rng.uniform(-1, 1, size=(50, 2))
    idx = part.locate(u)
    ok = idx >= 0
    pred = np.einsum("pod,pd->po", part.A[idx[ok]], u[ok]) + part.b[idx[ok]]
    np.testing.assert_allclose(pred, _reference(net, u[ok].astype("float32")), atol=1e-4)


def test_conv_pool_maxout_graph(rng):
    x = S.placeholder((None, 2, 9))
    conv = L.Conv1D(x.shape, 3, 3, nonlinearity=S.nn.relu, b=rng.normal(size=3))
    pool = L.MaxPool(conv, 2, stride=2)
    flat = L.Flatten(pool)
    dense = L.Dense(flat, 6, b=rng.normal(size=6))
    maxaff = L.MaxAffine(dense, init="random", n_pieces=3)
    maxaff.offsets.value = rng.normal(size=maxaff.offsets.value.shape).astype("float32")
    maxout = L.MaxOut(maxaff, 4, n_pieces=3, b=rng.normal(size=(4, 3)))
    out = L.Dense(maxout, 2)
    data = rng.normal(size=(40, 2, 9)).astype("float32")
    spline = _check(out, data)
    kinds = [layer.activation.kind for layer in spline.layers]
    assert kinds == ["relu", "max_pool", "max_pool", "max_pool", "identity"]
    assert spline.in_dim == 18 and spline.out_dims == (21, 9, 6, 4, 2)
    # the list form and the graph form give the same network
    again = to_spline_net([conv, pool, flat, dense, maxaff, maxout, out])
    for a, b in zip(spline.layers, again.layers):
        np.testing.assert_array_equal(np.asarray(a.W), np.asarray(b.W))


def test_conv2d_avg_and_global_pools(rng):
    c1 = L.Conv2D((None, 1, 6, 6), 2, 3, padding="same", nonlinearity=S.nn.leaky_relu)
    avg = L.AvgPool(c1, 2)
    bn = L.BatchNorm(avg)
    _randomise_stats(bn, rng)
    c2 = L.Conv2D(bn, 3, 2, nonlinearity=S.abs)
    gmax = L.GlobalPool(c2, mode="max")
    out = L.Dense(gmax, 2)
    spline = _check(out, rng.normal(size=(30, 1, 6, 6)).astype("float32"))
    assert [layer.activation.kind for layer in spline.layers] == [
        "leaky_relu", "abs", "max_pool", "identity"
    ]
    c3 = L.ConvTranspose((None, 2, 4), 2, 3, stride=2, nonlinearity=S.nn.relu)
    gmean = L.GlobalPool(c3, mode="mean")
    _check(L.Dense(gmean, 1), rng.normal(size=(20, 2, 4)).astype("float32"))


def test_as_spline_net_accepts_layers():
    d1 = L.Dense((None, 3), 4, nonlinearity=S.nn.relu)
    out = L.Dense(d1, 1)
    assert as_spline_net(out).pre_dims == (4, 1)
    assert as_spline_net([d1, out]).pre_dims == (4, 1)


def test_unsupported_layers_raise(rng):
    d = L.Dense((None, 3), 4, name="hidden")
    with pytest.raises(LayersError, match=r"layer betavq \(BetaVQ\) is not supported.*smooth"):
        to_spline_net(L.BetaVQ(d, axis=1))
    with pytest.raises(LayersError, match="layer tanhy has nonlinearity .* not piecewise affine"):
        to_spline_net(L.Dense((None, 3), 2, nonlinearity=S.nn.tanh, name="tanhy"))
    with pytest.raises(LayersError, match=r"layer layernorm \(LayerNorm\) is not supported"):
        to_spline_net(L.LayerNorm(d))
    conv = L.Conv1D((None, 1, 40), 4, 3, name="bigconv")
    with pytest.raises(LayersError, match=r"bigconv maps 40 inputs to 152 outputs.*6080 entries"
                                          r".*max_matrix_entries=1000"):
        to_spline_net(conv, max_matrix_entries=1000)
    with pytest.raises(LayersError, match="pads its input"):
        to_spline_net(L.MaxPool((None, 1, 6), 2, padding="same"))
    with pytest.raises(LayersError, match=r"input shape \(None, None\) of .* every example size"):
        to_spline_net(L.Dropout((None, None)))
    with pytest.raises(LayersError, match="network: expected a layers.Sequential"):
        to_spline_net("not a network")
    with pytest.raises(LayersError, match="max_matrix_entries: expected a positive int, got 0"):
        to_spline_net(d, max_matrix_entries=0)


def test_dense_on_the_last_axis_of_a_3d_input(rng):
    d1 = L.Dense((None, 2, 3), 4, nonlinearity=S.nn.relu, b=rng.normal(size=4))
    maxaff = L.MaxAffine(d1, init="abs", axis=None)
    flat = L.Flatten(maxaff)
    out = L.Dense(flat, 2)
    spline = _check(out, rng.normal(size=(30, 2, 3)).astype("float32"))
    assert [layer.activation.kind for layer in spline.layers] == ["relu", "abs", "identity"]
    W = np.asarray(spline.layers[0].W)  # block-diagonal: each row of 3 maps to its 4 units
    assert W.shape == (6, 8) and np.all(W[:3, 4:] == 0) and np.all(W[3:, :4] == 0)
