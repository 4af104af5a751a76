"""Tests of scatter.detect.model: the max-affine network against a NumPy reference, pooling,
masking and parameter checks."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scatter import ScatterError
from scatter.detect.model import (
    bag_logits,
    check_params,
    frame_logits,
    init_params,
    n_layers,
    pool_logits,
    window_logits,
)

#: The model functions compiled (one program per parameter shapes and input shape; op by op,
#: each primitive would compile once per shape). Random parameters come from init_params
#: compiled too, but in test_init_shapes_and_errors.
_frame_logits = jax.jit(frame_logits)
_window_logits = jax.jit(window_logits)
_pool_logits = jax.jit(pool_logits)
_bag_logits = jax.jit(bag_logits)
_init_params = jax.jit(init_params, static_argnames=("n_features", "hidden", "pieces",
                                                     "context"))


@pytest.fixture(scope="module")
def params():
    """Random parameters of a 2-layer model with statistics (read only: one per module)."""
    rng = np.random.default_rng(20261127)
    return _init_params(jax.random.PRNGKey(1), n_features=6, hidden=(5, 4), pieces=3,
                        mean=rng.normal(size=6), std=rng.uniform(0.5, 2, size=6))


def _numpy_frames(p, feats):
    p = {k: np.asarray(v, np.float64) for k, v in p.items()}
    x = np.swapaxes(feats, -1, -2)
    h = (x - p["mean"]) / p["std"]
    if "context" in p:  # explicit loops: frame t sees frames t + offset, clipped to the ends
        n = h.shape[-2]
        cols = [np.stack([h[..., min(max(t + int(o), 0), n - 1), :] for t in range(n)], axis=-2)
                for o in p["context"]]
        h = np.concatenate(cols, axis=-1)
    for i in range(n_layers(p)):
        w, b = p[f"w{i}"], p[f"b{i}"]
        pre = np.stack([h @ w[:, :, r] + b[:, r] for r in range(w.shape[2])], axis=-1)
        h = pre.max(axis=-1)
    return h @ p["w_out"] + p["b_out"]


def test_frame_logits_match_numpy(params, rng):
    feats = rng.normal(size=(3, 6, 7)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(_frame_logits(params, feats)),
                               _numpy_frames(params, feats), rtol=1e-4, atol=1e-4)


def test_context_frames_match_numpy_and_see_neighbours(rng):
    p = _init_params(jax.random.PRNGKey(2), n_features=6, hidden=(5,), pieces=2,
                     context=(-2, 0, 1))
    assert p["w0"].shape == (18, 5, 2)
    check_params(p, n_features=6)
    feats = rng.normal(size=(2, 6, 7)).astype(np.float32)
    z = np.asarray(_frame_logits(p, feats))
    np.testing.assert_allclose(z, _numpy_frames(p, feats), rtol=1e-4, atol=1e-4)
    # changing frame 3 moves the logits of frames 3 (offset 0), 5 (offset -2) and 2 (offset 1)
    moved = feats.copy()
    moved[:, :, 3] += 5.0
    changed = np.abs(np.asarray(_frame_logits(p, moved)) - z).max(axis=0) > 1e-6
    assert changed.tolist() == [False, False, True, True, False, True, False]
    g = jax.jit(jax.grad(lambda q: jnp.sum(window_logits(q, feats))))(p)
    assert float(jnp.abs(g["context"]).max()) == 0.0
    with pytest.raises(ScatterError, match="context must be distinct whole frame offsets"):
        init_params(jax.random.PRNGKey(0), n_features=3, context=(0, 0))
    with pytest.raises(ScatterError, match="3 context offsets of 6 channels make 18"):
        check_params(p | {"context": jnp.zeros(3).at[0].set(1.0)}
                     | {"w0": jnp.zeros((6, 5, 2))})


def test_units_are_convex_piecewise_affine(rng):
    # one layer, positive read-out: the frame logit is convex along any line
    p = _init_params(jax.random.PRNGKey(0), n_features=4, hidden=(6,), pieces=3)
    p["w_out"] = jnp.abs(p["w_out"])
    a, b = rng.normal(size=4), rng.normal(size=4)
    ts = np.linspace(-3, 3, 61)
    line = np.stack([a + t * b for t in ts])[None].transpose(0, 2, 1).astype(np.float32)
    z = np.asarray(_frame_logits(p, line))[0]
    assert np.all(np.diff(z, 2) >= -1e-4)


def test_pool_lies_between_mean_and_max(params, rng):
    z = jnp.asarray(rng.normal(size=(5, 9)), jnp.float32)
    pooled = np.asarray(_pool_logits(params, z))
    assert np.all(pooled <= np.asarray(z.max(-1)) + 1e-5)
    assert np.all(pooled >= np.asarray(z.mean(-1)) - 1e-5)
    beta = float(jax.nn.softplus(params["beta_raw"]) + 0.1)
    want = np.log(np.mean(np.exp(beta * np.asarray(z, np.float64)), -1)) / beta
    np.testing.assert_allclose(pooled, want, rtol=1e-5, atol=1e-5)


def test_window_and_bag_logits_ignore_padding(params, rng):
    feats = rng.normal(size=(2, 3, 6, 5)).astype(np.float32)
    valid = np.array([[True, True, False], [True, False, False]])
    bags = np.asarray(_bag_logits(params, feats, valid))
    garbage = feats.copy()
    garbage[~valid] = 1e3
    np.testing.assert_allclose(np.asarray(_bag_logits(params, garbage, valid)), bags,
                               rtol=1e-5)
    # a bag of one window is that window's logit
    np.testing.assert_allclose(bags[1], np.asarray(_window_logits(params, feats[1, :1]))[0],
                               rtol=1e-5)


def test_gradients_are_finite_and_skip_statistics(params, rng):
    feats = rng.normal(size=(4, 6, 5)).astype(np.float32)
    g = jax.jit(jax.grad(lambda p: jnp.sum(window_logits(p, feats))))(params)
    assert all(np.isfinite(np.asarray(v)).all() for v in g.values())
    assert float(jnp.abs(g["mean"]).max()) == 0.0 and float(jnp.abs(g["std"]).max()) == 0.0
    assert float(jnp.abs(g["w0"]).max()) > 0


def test_init_shapes_and_errors():
    p = init_params(jax.random.PRNGKey(0), n_features=3, hidden=(2,), pieces=2)
    assert p["w0"].shape == (3, 2, 2) and p["b0"].shape == (2, 2) and p["w_out"].shape == (2,)
    check_params(p, n_features=3)
    with pytest.raises(ScatterError, match="pieces must be an integer >= 2"):
        init_params(jax.random.PRNGKey(0), n_features=3, pieces=1)
    with pytest.raises(ScatterError, match="positive integers"):
        init_params(jax.random.PRNGKey(0), n_features=3, hidden=())
    with pytest.raises(ScatterError, match=r"mean must have shape \(3,\)"):
        init_params(jax.random.PRNGKey(0), n_features=3, mean=np.zeros(4))


def test_check_params_errors():
    p = init_params(jax.random.PRNGKey(0), n_features=3, hidden=(2,), pieces=2)
    with pytest.raises(ScatterError, match="expects 3 feature channels"):
        check_params(p, n_features=5)
    with pytest.raises(ScatterError, match="missing"):
        check_params({k: v for k, v in p.items() if k != "w_out"})
    with pytest.raises(ScatterError, match="NaN"):
        check_params(p | {"b_out": jnp.asarray(np.nan)})
    with pytest.raises(ScatterError, match="inconsistent"):
        check_params(p | {"b0": jnp.zeros((3, 2))})
    with pytest.raises(ScatterError, match="std must be positive"):
        check_params(p | {"std": jnp.zeros(3)})
    with pytest.raises(ScatterError, match="dict of arrays"):
        check_params([1])
