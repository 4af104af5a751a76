"""to_spline_net on frame-wise sequence networks: Standardize, TemporalContext, MaxOut and
Dense acting on every frame, checked against the network itself and NumPy."""

import numpy as np
import pytest

import layers as L
import symbolic as S
from layers.analysis import affine_map, forward, local_complexity, to_spline_net


def _network(rng, *, c=3, t=5, offsets=(-2, 0, 2), hidden=(4, 3), pieces=3):
    mean = rng.normal(size=c).astype("float32")
    std = rng.uniform(0.5, 2.0, size=c).astype("float32")
    h = L.InputLayer((None, c, t))
    h = L.Standardize(h, mean, std)
    h = L.TemporalContext(h, offsets)
    for units in hidden:
        h = L.MaxOut(h, units, n_pieces=pieces, b=L.init.Normal(0.5))
    h = L.Dense(h, 1)
    return L.Reshape(h, (t,))


EPS32 = np.finfo(np.float32).eps


def _reference(net, x):
    """The network in float64 NumPy from its parameters: (n, C * T) -> (n, T)."""
    chain = L.get_all_layers(net)
    c, t = chain[0].input_shape[1:]
    h = np.asarray(x, np.float64).reshape(-1, c, t)
    for layer in chain[1:]:
        if isinstance(layer, L.Standardize):
            h = (h - layer.mean.value[:, None]) / layer.std.value[:, None]
        elif isinstance(layer, L.TemporalContext):
            idx = np.clip(np.arange(t)[:, None] + np.asarray(layer.offsets), 0, t - 1)
            h = np.concatenate([h[:, :, idx[:, k]].transpose(0, 2, 1)
                                for k in range(len(layer.offsets))], axis=-1)
        elif isinstance(layer, L.MaxOut):
            W, b = (np.asarray(v.value, np.float64) for v in (layer.W, layer.b))
            h = (np.einsum("nti,ihr->nthr", h, W) + b).max(axis=-1)
        elif isinstance(layer, L.Dense):
            h = h @ np.asarray(layer.W.value, np.float64) + np.asarray(layer.b.value, np.float64)
        elif isinstance(layer, L.Reshape):
            h = h.reshape(len(h), t)
    return h


def _run(net, x):
    xp = S.placeholder(L.get_all_layers(net)[0].input_shape)
    return np.asarray(S.function([xp], L.get_output(net, xp, deterministic=True))(x))


@pytest.mark.parametrize("offsets", [(0,), (-2, 0, 2), (1, -3)])
def test_spline_net_reproduces_the_network(offsets, rng):
    net = _network(rng, offsets=offsets)
    spline = to_spline_net(net)
    assert spline.in_dim == 3 * 5 and spline.out_dim == 5
    # one max-affine layer per MaxOut over every frame's units, then the read-out
    assert spline.out_dims == (5 * 4, 5 * 3, 5)
    x = rng.normal(size=(7, 3, 5)).astype("float32")
    got = np.asarray(forward(spline, x.reshape(7, -1))[0])
    want = _reference(net, x)
    tol = 1e-5 * (1 + np.abs(want))
    assert np.all(np.abs(got - want) <= tol) and np.all(np.abs(_run(net, x) - want) <= tol)


def test_affine_map_and_numerical_jacobian(rng):
    """Inside a region the network is A x + b: the map reproduces the output at x, and
    central differences of the float64 reference (steps far below the distance to the
    nearest region boundary) give A. The analysis runs in float32: its A and b carry the
    rounding of sums of a few dozen terms, bounded here by 64 eps times their magnitude."""
    net = _network(rng)
    spline = to_spline_net(net)
    x = rng.normal(size=15)
    A, b = (np.asarray(v, np.float64) for v in affine_map(spline, x))
    y = _reference(net, x)[0]
    scale = np.abs(A) @ np.abs(x) + np.abs(b)
    assert np.all(np.abs(A @ x + b - y) <= 64 * EPS32 * scale)
    h = 1e-6
    J = np.stack([(_reference(net, x + h * e)[0] - _reference(net, x - h * e)[0]) / (2 * h)
                  for e in np.eye(15)], axis=1)
    assert np.all(np.abs(J - A) <= 64 * EPS32 * np.abs(A).max() + 1e-8)


def test_frames_are_independent_without_context(rng):
    """Without context, frame t's logit depends on frame t's channels only."""
    net = _network(rng, offsets=(0,))
    A, _ = affine_map(to_spline_net(net), rng.normal(size=15))
    A = np.asarray(A).reshape(5, 3, 5)  # (output frame, channel, input frame)
    off = ~np.eye(5, dtype=bool)
    assert np.all(A[:, :, :][np.broadcast_to(off[:, None, :], A.shape)] == 0)


def test_local_complexity_counts_cut_units(rng):
    net = _network(rng, offsets=(0,))
    spline = to_spline_net(net)
    x = rng.normal(size=(4, 15))
    small = np.asarray(local_complexity(spline, x, radius=1e-9))
    large = np.asarray(local_complexity(spline, x, radius=10.0))
    assert np.all(small == 0) and np.all(large >= small) and large.sum() > 0


def test_pooling_is_rejected_with_a_hint(rng):
    pooled = L.LogMeanExpPool(_network(rng))
    with pytest.raises(L.LayersError, match="LogMeanExpPool.*smooth maximum"):
        to_spline_net(pooled)


def test_size_limit_names_the_layer(rng):
    with pytest.raises(L.LayersError, match="max_matrix_entries"):
        to_spline_net(_network(rng), max_matrix_entries=100)
