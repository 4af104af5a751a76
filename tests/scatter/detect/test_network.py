"""scatter.detect.network: the classifier as a layers network gives the model's logits, its
symbolic.to_jax export (what the detector runs) gives the network's, the training loss matches
a float64 NumPy evaluation, the classifier's update leaves the fixed statistics untouched, and
layers.analysis reads the shipped model.

Tolerances come from the computation: every float32 evaluation (the layers network, the model
functions, the detector's compiled program) is compared with a float64 NumPy evaluation, and
its error is bounded by propagating, layer by layer, the rounding of each sum of n products in
float32 (at most gamma_n = n eps / (1 - n eps) times the sum of the magnitudes of its terms)
through the weights (|W|^T e) and the maxima (1-Lipschitz); the pooling adds the rounding of
its exponential sum and of beta. Two float32 evaluations then differ by at most twice the
bound.
"""

import jax
import numpy as np
import pytest

import layers as L
import symbolic as S
from layers.analysis import affine_map, local_complexity, to_spline_net
from scatter.detect import load_model
from scatter.detect import model as M
from scatter.detect.network import (
    bag_loss,
    classifier_network,
    classifier_updates,
    model_params,
    model_variables,
    window_logits_program,
    window_network,
)
from scatter.detect.synth import make_clip
from scatter.errors import ScatterError

EPS = float(np.finfo(np.float32).eps)

#: The model functions and random parameters compiled: one program per shapes (op by op, each
#: primitive would compile once per shape); the bounds hold for any order of the sums.
_frame_logits = jax.jit(M.frame_logits)
_window_logits = jax.jit(M.window_logits)
_init_params = jax.jit(M.init_params, static_argnames=("n_features", "hidden", "pieces",
                                                       "context"))


def _gamma(n):
    return n * EPS / (1 - n * EPS)


def _reference(params, feats):
    """Frame logits, window logits and their float32 error bounds, in float64 NumPy.

    Returns
    -------
    frames, frames_bound : numpy.ndarray [shape=(batch, n_frames)]
    window, window_bound : numpy.ndarray [shape=(batch,)]
    """
    p = {k: np.asarray(v, np.float64) for k, v in params.items()}
    x = np.swapaxes(np.asarray(feats, np.float64), -1, -2)  # (batch, T, C)
    h = (x - p["mean"]) / p["std"]
    e = 3 * EPS * (np.abs(x) + np.abs(p["mean"])) / p["std"]  # difference, quotient
    if "context" in p:
        n = h.shape[-2]
        idx = np.clip(np.arange(n)[:, None] + p["context"].astype(int)[None, :], 0, n - 1)
        h = h[..., idx, :].reshape(h.shape[:-1] + (-1,))
        e = e[..., idx, :].reshape(e.shape[:-1] + (-1,))
    for i in range(M.n_layers(params)):
        W, b = p[f"w{i}"], p[f"b{i}"]
        z = np.einsum("...i,ihr->...hr", h, W) + b
        ez = (np.einsum("...i,ihr->...hr", e, np.abs(W))
              + _gamma(W.shape[0] + 1) * (np.einsum("...i,ihr->...hr", np.abs(h), np.abs(W))
                                          + np.abs(b)))
        h, e = z.max(axis=-1), ez.max(axis=-1)
    w = p["w_out"]
    y = h @ w + p["b_out"]
    ey = e @ np.abs(w) + _gamma(w.size + 1) * (np.abs(h) @ np.abs(w) + abs(p["b_out"]))
    n = y.shape[-1]
    beta = np.log1p(np.exp(p["beta_raw"])) + 0.1
    z = beta * y
    m = z.max(axis=-1, keepdims=True)
    window = (np.log(np.exp(z - m).sum(axis=-1)) + m[..., 0] - np.log(n)) / beta
    # the pooled value moves by at most max|dy| (softmax weights sum to one); its own
    # rounding: the sum of n exponentials (relative (n + 2) eps, absolute after the log),
    # a few eps of the magnitudes, and beta rounded (|d/dbeta| <= spread / beta)
    mag = np.abs(y).max(axis=-1) + np.log(n) / beta
    ew = (ey.max(axis=-1) + (n + 2) * EPS / beta + 8 * EPS * mag
          + 4 * EPS * np.ptp(y, axis=-1))
    return y, ey, window, ew


def _evaluate(net, pooled, feats):
    x = S.placeholder(L.get_all_layers(net)[0].input_shape)
    f = S.function([x], [L.get_output(net, x, deterministic=True),
                         L.get_output(pooled, x, deterministic=True)])
    return tuple(np.asarray(v, np.float64) for v in f(np.asarray(feats, np.float32)))


def _check(name, got, want, bound, report):
    err = np.abs(np.asarray(got, np.float64) - want)
    report[name] = (float(err.max()), float(bound.max()))
    assert np.all(err <= bound), f"{name}: error {err.max():.3g} above the bound"


@pytest.mark.parametrize("context", [None, (-4, -2, 0, 2, 4), (1, -1)])
def test_random_models_same_logits_as_the_model_functions(context, rng):
    params = _init_params(jax.random.PRNGKey(3), n_features=6, hidden=(7, 5), pieces=3,
                          mean=rng.normal(size=6), std=rng.uniform(0.5, 2, size=6),
                          context=context)
    params["beta_raw"] = np.float32(0.8)
    feats = (3 * rng.normal(size=(4, 6, 9))).astype("float32")
    net = classifier_network(params, n_frames=9)
    pooled = window_network(net, params)
    assert net.output_shape == (None, 9) and pooled.output_shape == (None,)
    frames, window = _evaluate(net, pooled, feats)
    ref, ref_bound, ref_w, ref_w_bound = _reference(params, feats)
    report = {}
    model_frames = np.asarray(_frame_logits(params, feats))
    exported = np.asarray(jax.jit(window_logits_program(params, n_frames=9))(params, feats))
    _check("network frames", frames, ref, ref_bound, report)
    _check("model frames", model_frames, ref, ref_bound, report)
    _check("network window", window, ref_w, ref_w_bound, report)
    _check("model window", _window_logits(params, feats), ref_w, ref_w_bound, report)
    _check("exported window", exported, ref_w, ref_w_bound, report)
    _check("network vs model frames", frames, model_frames, 2 * ref_bound, report)
    _check("network vs exported window", window, exported, 2 * ref_w_bound, report)
    # the network's values read back as the model's dict: the same arrays
    back = model_params(pooled)
    assert sorted(back) == sorted(params)
    for k in params:
        np.testing.assert_array_equal(back[k], np.asarray(params[k], np.float32))


def test_parameters_and_tags(rng):
    params = _init_params(jax.random.PRNGKey(0), n_features=4, hidden=(3,), pieces=2,
                          context=(-1, 0, 1))
    net = classifier_network(params, n_frames=5)
    pooled = window_network(net, params)
    kinds = [type(layer).__name__ for layer in L.get_all_layers(pooled)]
    assert kinds == ["InputLayer", "Standardize", "TemporalContext", "MaxOut", "Dense",
                     "Reshape", "LogMeanExpPool"]
    # the fixed statistics (and the offsets, static) are not trainable; everything else is
    trainable = L.count_params(pooled, trainable=True)
    fixed = sum(np.asarray(params[k]).size for k in ("mean", "std"))
    assert trainable == sum(np.asarray(v).size for k, v in params.items()
                            if k not in ("mean", "std", "context"))
    assert L.count_params(pooled) == trainable + fixed
    assert [v.trainable for v in model_variables(pooled).values()] == [False, False] + [
        True] * 5
    # for training, dropout on the standardised features: the identity when deterministic
    drop = window_network(classifier_network(params, n_frames=5, dropout=0.5, seed=1), params)
    kinds = [type(layer).__name__ for layer in L.get_all_layers(drop)]
    assert kinds[:4] == ["InputLayer", "Standardize", "Dropout", "TemporalContext"]
    x = S.placeholder((None, 4, 5))
    f = S.function([x], [L.get_output(p, x, deterministic=True) for p in (pooled, drop)])
    a, b = f(rng.normal(size=(3, 4, 5)).astype("float32"))
    np.testing.assert_array_equal(a, b)


def test_bad_arguments_raise(rng):
    params = _init_params(jax.random.PRNGKey(0), n_features=4, hidden=(3,), pieces=2)
    with pytest.raises(ScatterError, match="n_frames must be a positive integer"):
        classifier_network(params, n_frames=0)
    with pytest.raises(ScatterError, match="params is missing"):
        classifier_network({k: v for k, v in params.items() if k != "w_out"}, n_frames=3)
    with pytest.raises(ScatterError, match="network must be a classifier_network"):
        window_network(L.InputLayer((None, 4, 3)), params)
    with pytest.raises(ScatterError, match=r"dropout must be a number in \[0, 1\); got 1.0"):
        classifier_network(params, n_frames=3, dropout=1.0)
    net = classifier_network(params, n_frames=3)
    with pytest.raises(ScatterError, match="network must be a window_network"):
        model_variables(net)
    with pytest.raises(ScatterError, match=r"feats must have shape \(batch, n_windows, 4, 3\)"):
        bag_loss(window_network(net, params), S.placeholder((2, 4, 3)),
                 S.placeholder((2, 1), "bool"), S.placeholder((2,)), S.placeholder((2,)),
                 pos_weight=1.0)


def _bag_reference(params, feats, valid, labels, weights, pos_weight):
    """bag_loss in float64 NumPy, and the float32 error bound of its value.

    Each clip's logit pools its real windows' frame logits (their errors bounded by
    :func:`_reference`) with the log-mean-exp of the window logit (its rounding bounded as
    there); the cross-entropy moves by at most the logit's error (slope |sigmoid - y| <= 1)
    and rounds to a few eps of its terms; the weighted mean adds the rounding of two sums of
    n terms."""
    b, w = valid.shape
    c, t = feats.shape[2:]
    y, ey, _, _ = _reference(params, feats.reshape(b * w, c, t))
    y, ey = y.reshape(b, w * t), ey.reshape(b, w * t)
    keep = np.repeat(valid, t, axis=1)
    beta = np.log1p(np.exp(np.float64(params["beta_raw"]))) + 0.1
    z = np.empty(b)
    ez = np.empty(b)
    for i in range(b):
        v = y[i][keep[i]]
        m = (beta * v).max()
        z[i] = (np.log(np.exp(beta * v - m).sum()) + m - np.log(v.size)) / beta
        mag = np.abs(v).max() + np.log(v.size) / beta
        ez[i] = (ey[i][keep[i]].max() + (v.size + 2) * EPS / beta + 8 * EPS * mag
                 + 4 * EPS * np.ptp(v))
    terms = np.logaddexp(0.0, z) - z * labels
    cw = np.where(labels > 0.5, pos_weight, 1.0) * weights
    loss = (cw * terms).sum() / cw.sum()
    per_clip = ez + 8 * EPS * (np.abs(terms) + np.abs(z) + 1)
    return loss, (cw * per_clip).sum() / cw.sum() + 4 * (b + 2) * EPS * abs(loss)


def test_bag_loss_matches_float64_and_the_update_keeps_fixed_statistics(rng):
    """The training loss of a small batch (padding windows with huge values, one clip of
    weight 0) against the float64 reference; then three classifier steps: the trainable
    Variables move, the statistics stay bit-identical (not trainable: no gradient, no weight
    decay), and the loss falls."""
    params = _init_params(jax.random.PRNGKey(5), n_features=6, hidden=(7, 5), pieces=3,
                          mean=rng.normal(size=6), std=rng.uniform(0.5, 2, size=6),
                          context=(-1, 0, 2))
    params["beta_raw"] = np.float32(0.4)
    feats = (2 * rng.normal(size=(4, 3, 6, 8))).astype("float32")
    valid = np.array([[1, 1, 0], [1, 0, 0], [1, 1, 1], [0, 1, 1]], bool)
    feats[~valid] = 1e6  # padding: left out of the pooling
    labels = np.array([1, 0, 0, 1], "float32")
    weights = np.array([1.0, 2.0, 0.5, 0.0], "float32")
    pooled = window_network(classifier_network(params, n_frames=8), params)
    ins = [S.placeholder((None, 3, 6, 8)), S.placeholder((None, 3), "bool"),
           S.placeholder((None,)), S.placeholder((None,))]  # any batch size
    loss = bag_loss(pooled, *ins, pos_weight=3.0)
    want, bound = _bag_reference(params, feats, valid, labels, weights, 3.0)
    got = float(S.function(ins, loss)(feats, valid, labels, weights))
    assert np.isfinite(got) and abs(got - want) <= bound, (got, want, bound)
    variables = model_variables(pooled)
    before = {k: v.value for k, v in variables.items()}
    step = S.function(ins, loss, updates=classifier_updates(
        pooled, loss, learning_rate=1e-2, weight_decay=0.5))
    losses = [float(step(feats, valid, labels, weights)) for _ in range(3)]
    assert losses[-1] < losses[0]
    for k, v in variables.items():
        if v.trainable:
            assert np.any(v.value != before[k]), k
        else:
            np.testing.assert_array_equal(v.value, before[k])
    assert sorted(k for k, v in variables.items() if not v.trainable) == ["mean", "std"]


@pytest.fixture(scope="module")
def shipped():
    """The shipped detector, its features and scores of a few synthetic windows (calls and
    backgrounds), from the detector's compiled program."""
    det = load_model("default")
    assert det._network is None  # not built by load_model
    rng = np.random.default_rng(20261127)
    sr, n = det.config.sr, det.config.window
    windows = np.stack([make_clip(rng, sr=sr, seconds=n / sr + 0.01, bird=i % 2 == 0)[:n]
                        for i in range(4)]).astype("float32")
    scores, feats = det.score_with_features(windows)
    return det, windows, np.asarray(scores, np.float64), np.asarray(feats)


def test_shipped_network_gives_the_detectors_logits(shipped):
    det, windows, scores, feats = shipped
    net = det.network
    assert net is det.network  # built once
    assert net.output_shape == (None, det.features.n_frames)
    pooled = window_network(net, det.params)
    # the detector's features and random frames around the training statistics
    mean, std = np.asarray(det.params["mean"]), np.asarray(det.params["std"])
    noise = np.random.default_rng(1).normal(size=(3,) + feats.shape[1:])
    frames_in = np.concatenate([feats, (mean[:, None] + std[:, None] * noise)]).astype("f4")
    frames, window = _evaluate(net, pooled, frames_in)
    ref, ref_bound, ref_w, ref_w_bound = _reference(det.params, frames_in)
    report = {}
    _check("network frames", frames, ref, ref_bound, report)
    _check("model frames", _frame_logits(det.params, frames_in), ref, ref_bound, report)
    _check("network window", window, ref_w, ref_w_bound, report)
    _check("model window", _window_logits(det.params, frames_in), ref_w, ref_w_bound, report)
    # the compiled program's probabilities: sigmoid has slope <= 1/4, plus its own rounding
    k = len(feats)
    p_ref = 1 / (1 + np.exp(-ref_w[:k]))
    _check("program scores", scores, p_ref, 0.25 * ref_w_bound[:k] + 4 * EPS, report)
    _check("network vs program", 1 / (1 + np.exp(-window[:k])), scores,
           0.5 * ref_w_bound[:k] + 8 * EPS, report)
    # (that the plain scoring program, score_windows, gives score_with_features's scores is
    # tests/scatter/test_feature_files.py's check, on a detector that compiles faster)


def test_analysis_reads_the_shipped_classifier(shipped):
    """The shipped model sees ``s`` frames side by side (its context offsets span ``s``): the
    logit of a frame away from the window's edges is one spline function of the ``s`` frames
    around it, output ``-min(offsets)`` of the ``s``-frame network. Its affine map there
    reproduces the frame's logit in the whole window, and equals the numerical Jacobian of the
    float64 reference."""
    det, _, _, feats = shipped
    offsets = np.asarray(det.params.get("context", np.zeros(1)), np.float64).astype(int)
    lo, span = int(offsets.min()), int(offsets.max() - offsets.min() + 1)
    frame_net = classifier_network(det.params, n_frames=span)
    spline = to_spline_net(frame_net)
    n_features, n_frames = feats.shape[1:]
    assert spline.in_dim == n_features * span
    assert spline.out_dims[-1] == span
    # inputs: the span frames around frames t of two windows (t away from the edges)
    ts = np.arange(-lo, n_frames - span - lo + 1)
    x = np.stack([feats[k, :, t + lo:t + lo + span] for k in range(2) for t in ts])
    x = x.astype(np.float64)  # (n, n_features, span)
    flat = x.reshape(len(x), -1)  # C order, as to_spline_net flattens
    A, b = (np.asarray(v, np.float64) for v in jax.jit(lambda v: affine_map(spline, v))(flat))
    got = np.einsum("nod,nd->no", A, flat)[:, -lo] + b[:, -lo]
    full, full_bound, _, _ = _reference(det.params, feats[:2])
    want = full[:, ts].reshape(-1)
    bound = full_bound[:, ts].reshape(-1)
    # A and b are float32 products of the layers' selected weights: bound as the logit
    assert np.all(np.abs(got - want) <= 4 * bound + 64 * EPS * (
        np.abs(A[:, -lo]) * np.abs(flat)).sum(-1))
    h = 1e-5
    for i in (0, 17):
        J = np.array([(_reference(det.params, (x[i] + h * e.reshape(x[i].shape))[None])[0]
                       - _reference(det.params, (x[i] - h * e.reshape(x[i].shape))[None])[0]
                       )[0, -lo] / (2 * h) for e in np.eye(flat.shape[1])])
        assert np.abs(J - A[i, -lo]).max() <= 1e-4 * np.abs(A[i, -lo]).max()
    # local complexity: units cut within the radius; none at a vanishing radius, more further
    # (the three radii from one compiled program)
    counts = [np.asarray(c) for c in jax.jit(lambda v: [
        local_complexity(spline, v, radius=r) for r in (1e-6, 0.5, 5.0)])(flat[:8])]
    assert np.all(counts[0] == 0)
    assert np.all(counts[1] <= counts[2]) and counts[2].sum() > 0
    # the whole window network is too large for dense spline matrices: a clear error
    with pytest.raises(L.LayersError, match="max_matrix_entries"):
        to_spline_net(det.network)
