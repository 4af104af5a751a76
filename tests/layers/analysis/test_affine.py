"""Tests for layers.analysis.affine: exact region-wise affine maps and VQ codes."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from layers.analysis.affine import (
    affine_map,
    forward,
    preactivation_maps,
    templates,
    vq_codes,
    vq_distance,
)
from layers.analysis.spec import as_spline_net, max_pool_1d
from layers.errors import LayersError


def _net(rng, kinds=("relu", ("leaky_relu", 0.1), "abs"), d=4):
    params, n = [], d
    for kind in kinds:
        params.append((rng.normal(size=(n, 6)), rng.normal(size=6), kind))
        n = 6
    params.append((rng.normal(size=(n, 6)), rng.normal(size=6), max_pool_1d(6, size=2)))
    params.append((rng.normal(size=(3, 3)), rng.normal(size=3)))
    return as_spline_net(params)


def _np_codes(net, x):
    h, codes = x, []
    for layer in net.layers:
        z = h @ np.asarray(layer.W) + np.asarray(layer.b)
        act = layer.activation
        if act.kind == "max_pool":
            zg = z[..., act.groups]
            codes.append(np.argmax(zg, axis=-1))
            h = zg.max(axis=-1)
        elif act.kind == "identity":
            codes.append(np.zeros(z.shape[:-1] + (0,), int))
            h = z
        else:
            codes.append((z > 0).astype(int))
            h = np.where(z > 0, z, act.negative_slope() * z)
    return h, codes


def test_forward_matches_numpy(rng):
    net = _net(rng)
    x = rng.normal(size=(20, 4))
    y, codes, _ = forward(net, x)
    y_ref, codes_ref = _np_codes(net, x)
    np.testing.assert_allclose(np.asarray(y), y_ref, rtol=1e-4, atol=1e-4)
    for c, r in zip(codes, codes_ref):
        np.testing.assert_array_equal(np.asarray(c), r)


def test_affine_map_equals_jacobian_and_holds_in_region(rng):
    net = _net(rng)
    x = rng.normal(size=(16, 4))
    A, b = affine_map(net, x)
    assert A.shape == (16, 3, 4) and b.shape == (16, 3)
    J = jax.vmap(jax.jacfwd(lambda v: forward(net, v)[0]))(jnp.asarray(x, jnp.float32))
    np.testing.assert_allclose(np.asarray(A), np.asarray(J), rtol=1e-4, atol=1e-4)
    # a nearby point with the same codes obeys the same affine map
    xp = x + 1e-3 * rng.normal(size=x.shape)
    same = np.asarray(vq_distance(net, x, xp)) == 0
    assert same.sum() >= 8
    y = np.asarray(forward(net, xp)[0])
    pred = np.einsum("nod,nd->no", np.asarray(A), xp) + np.asarray(b)
    np.testing.assert_allclose(pred[same], y[same], rtol=1e-4, atol=1e-4)


def test_autodiff_fallback_and_templates(rng):
    net = _net(rng)
    x = rng.normal(size=(5, 4)).astype(np.float32)
    A, b = affine_map(net, x)
    Af, bf = affine_map(lambda v: forward(net, v)[0], x)
    np.testing.assert_allclose(np.asarray(Af), np.asarray(A), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.asarray(bf), np.asarray(b), rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(np.asarray(templates(net, x)), np.asarray(A))


def test_jit_and_batch_shapes(rng):
    net = _net(rng)
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    A, b = jax.jit(lambda v: affine_map(net, v))(x)
    assert A.shape == (2, 3, 3, 4) and b.shape == (2, 3, 3)
    A2, _ = affine_map(net, x[1, 2])
    np.testing.assert_allclose(np.asarray(A[1, 2]), np.asarray(A2), rtol=1e-5, atol=1e-5)


def test_vq_codes_and_distance(rng):
    net = _net(rng)
    x1, x2 = rng.normal(size=(30, 4)), rng.normal(size=(30, 4))
    c1 = np.asarray(vq_codes(net, x1, concat=True))
    c2 = np.asarray(vq_codes(net, x2, concat=True))
    ref = np.sum(c1 != c2, axis=1)
    np.testing.assert_array_equal(np.asarray(vq_distance(net, x1, x2)), ref)
    per = np.asarray(vq_distance(net, x1, x2, per_layer=True))
    assert per.shape == (30, 5) and np.all(per.sum(axis=1) == ref) and np.all(per[:, -1] == 0)
    np.testing.assert_array_equal(np.asarray(vq_distance(net, x1, x1)), 0)
    np.testing.assert_array_equal(np.asarray(vq_distance(net, x2, x1)), ref)


def test_preactivation_maps(rng):
    net = _net(rng)
    x = rng.normal(size=(7, 4))
    _, _, pres = forward(net, x)
    for (G, c), pre in zip(preactivation_maps(net, x), pres):
        got = np.einsum("nd,ndk->nk", x, np.asarray(G)) + np.asarray(c)
        np.testing.assert_allclose(got, np.asarray(pre), rtol=1e-4, atol=1e-4)


def test_bad_input_shape(rng):
    net = _net(rng)
    with pytest.raises(LayersError, match=r"x: expected shape \(\.\.\., 4\), got \(3, 5\)"):
        affine_map(net, np.zeros((3, 5)))
