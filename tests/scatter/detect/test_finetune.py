"""Tests of scatter.detect.finetune: gradients reach the first-order filters, fine-tuning moves
them within their bound and the classifier's trainable parameters (its statistics stay), a
saved fine-tuned model scores as the fine-tuning did, the control (filters fixed) keeps the
designed filters, and bad input is refused."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scatter import ScatterError
from scatter.detect import load_model
from scatter.detect import model as M
from scatter.detect.bags import extract_windows
from scatter.detect.data import read_labels, split_records
from scatter.detect.features import FeatureConfig, FeatureExtractor
from scatter.detect.finetune import FinetuneConfig, bounded_filters, finetune
from scatter.detect.io import save_model

CFG = FeatureConfig(sr=16000, window=1024, hop=1024, J=3, Q=(2, 1), pool=1)

FCFG = FinetuneConfig(epochs=1, batch_size=4, learning_rate=1e-3, filter_learning_rate=0.2,
                      dropout=0.1)


@pytest.fixture(scope="module")
def setup(tmp_path_factory, separable_corpus):
    # 12 training and 12 validation clips, half of each with calls 20 dB above the background
    d = tmp_path_factory.mktemp("corpus")
    labels = separable_corpus(d, n_train=12, n_val=12, seconds=0.13, seed=3)
    tr, va = split_records(read_labels(labels, root=str(d)))
    tw = extract_windows(tr, CFG, copies=1, seed=0, max_windows=2)
    vw = extract_windows(va, CFG, copies=0, seed=0, max_windows=2)
    # a classifier standardised on the training features (random weights: fine-tuning
    # starts anywhere)
    f = np.asarray(FeatureExtractor(CFG)(tw.windows[:, 0].reshape(-1, CFG.window)))
    f = np.swapaxes(f, 1, 2).reshape(-1, f.shape[1])
    params = M.init_params(jax.random.PRNGKey(0), n_features=f.shape[1], hidden=(6,),
                           pieces=2, mean=f.mean(0), std=np.maximum(f.std(0), 1e-3))
    return {k: np.asarray(v) for k, v in params.items()}, tw, vw


@pytest.fixture(scope="module")
def tuned(setup):
    """Fine-tuning from a classifier whose read-out is zero: every clip scores exactly 1/2
    at the start (validation AUC 1/2, loss log 2), so any learning shows."""
    params, tw, vw = setup
    start = dict(params, w_out=np.zeros_like(params["w_out"]),
                 b_out=np.zeros_like(params["b_out"]))
    return finetune(start, CFG, tw, vw, config=FCFG)


def test_gradient_reaches_first_order_filters(setup, rng):
    fx = FeatureExtractor(CFG)
    start = fx.filter_params()
    x = jnp.asarray(rng.standard_normal((2, CFG.window)).astype(np.float32))

    def f(xi1, sigma1):  # a weighted mean of the level channels (smooth in the filters)
        level = fx.apply(fx.filter_weights(xi1, sigma1), x)[:, fx.n_paths:]
        return jnp.mean(level * jnp.linspace(-1, 1, level.shape[-2])[:, None])

    f = jax.jit(f)
    gx, gs = jax.jit(jax.grad(f, argnums=(0, 1)))(start["xi1"], start["sigma1"])
    assert np.all(np.isfinite(gx)) and np.all(np.isfinite(gs))
    assert np.count_nonzero(np.asarray(gx)) == len(gx)
    assert np.count_nonzero(np.asarray(gs)) == len(gs)
    # directional derivatives agree with central finite differences (float32: 5 %), for
    # the wavelet each loss depends on most
    for name, g in (("xi1", gx), ("sigma1", gs)):
        for i in (int(np.argmax(np.abs(g))),):
            d = {k: np.zeros_like(v) for k, v in start.items()}
            d[name][i] = 3e-3 * start[name][i]
            fd = (f(start["xi1"] + d["xi1"], start["sigma1"] + d["sigma1"])
                  - f(start["xi1"] - d["xi1"], start["sigma1"] - d["sigma1"])) / 2
            np.testing.assert_allclose(float(g[i] * d[name][i]), float(fd), rtol=0.05)


def test_bounded_filters_stay_within_factor():
    start = {"xi1": np.array([0.1, 0.2]), "sigma1": np.array([0.01, 0.02])}
    raw = {"xi1": jnp.array([1e3, -1e3]), "sigma1": jnp.zeros(2)}
    out = bounded_filters(start, raw, 0.25)
    np.testing.assert_allclose(out["xi1"], [0.1 * np.exp(0.25), 0.2 * np.exp(-0.25)],
                               rtol=1e-6)
    np.testing.assert_allclose(out["sigma1"], start["sigma1"], rtol=1e-6)


@pytest.mark.slow
def test_finetune_learns_moves_filters_and_records_history(setup, tuned, learnt_auc):
    start = FeatureExtractor(CFG).filter_params()
    # the statistics are not trainable: bit-identical after the steps; the rest moved
    params = setup[0]
    assert sorted(tuned["params"]) == sorted(params)
    for k in ("mean", "std"):
        np.testing.assert_array_equal(tuned["params"][k], params[k])
    for k in ("w0", "b0", "beta_raw"):
        assert np.any(tuned["params"][k] != params[k]), k
    h = tuned["history"]
    assert [e["epoch"] for e in h] == [0, 1] and h[0]["max_change_xi1"] == 0
    # learnt in one epoch: from constant scores (AUC 1/2, every step's loss log 2 until the
    # read-out moves) to a validation AUC (6 birds, 6 without) that a scorer without
    # information reaches with probability below 1 %, and an epoch loss below log 2
    assert h[0]["val_auc"] == 0.5 and h[0]["loss"] is None
    assert h[1]["val_auc"] >= learnt_auc(6, 6)
    assert h[1]["loss"] < np.log(2)
    assert tuned["best_epoch"] == 1  # a later epoch is kept only when strictly better
    moved = h[-1]["max_change_xi1"]
    assert 1e-3 < moved <= np.exp(0.25) - 1 + 1e-6  # within the bound exp(max_change) - 1
    feats = tuned["features"]
    assert len(feats.xi1) == len(start["xi1"])
    # the kept filters are the moved ones: their largest relative change is the history's
    # (the same float32 filters; a change of ~0.08 from a ratio rounded in float32 is good to
    # eps32 * 1.1 / 0.08 < 2e-6 relative)
    change = np.max(np.abs(np.asarray(feats.xi1) / start["xi1"] - 1))
    np.testing.assert_allclose(change, moved, rtol=1e-5)
    assert np.any(np.asarray(tuned["params"]["w_out"]) != 0)


@pytest.mark.slow
def test_saved_model_with_learned_filters_reproduces_scores(setup, tmp_path):
    params, tw, vw = setup
    fx = FeatureExtractor(CFG)
    start = fx.filter_params()
    raw = {"xi1": jnp.linspace(-0.5, 0.5, len(start["xi1"])),
           "sigma1": jnp.full(len(start["sigma1"]), 0.3)}
    filt = bounded_filters(start, raw, 0.25)
    tuned = dataclasses.replace(CFG, xi1=np.asarray(filt["xi1"]),
                                sigma1=np.asarray(filt["sigma1"]))
    path = tmp_path / "tuned.npz"
    save_model(path, params, {"features": tuned.to_dict(), "model": {"threshold": 0.5}})
    det = load_model(path)
    assert det.config == tuned
    # the detector scores with det.features.apply(det.features.params, x): its weights are
    # the ones fine-tuning rebuilds inside its traced program, and so are the features
    expect = fx.filter_weights(filt["xi1"], filt["sigma1"])
    got = det.features.params
    assert sorted(got["weights"]) == sorted(expect["weights"])
    for k, w in expect["weights"].items():
        np.testing.assert_allclose(got["weights"][k], w, atol=1e-6, rtol=1e-5)
    x = vw.windows[:, 0].reshape(-1, CFG.window)
    apply = jax.jit(fx.apply)
    traced = apply(expect, x)
    assert np.max(np.abs(np.asarray(apply(fx.params, x)) - np.asarray(traced))) > 1e-2
    # and the loaded detector's scores are the fine-tuning's
    p = {k: jnp.asarray(v) for k, v in params.items()}
    np.testing.assert_allclose(det.score_windows(x),
                               jax.nn.sigmoid(M.window_logits(p, traced)), atol=1e-5)


@pytest.mark.slow
def test_control_keeps_designed_filters(setup):
    params, tw, vw = setup
    res = finetune(params, CFG, tw, vw, config=dataclasses.replace(FCFG,
                                                                   filter_learning_rate=0.0))
    assert res["features"] is CFG and "xi1" not in res["features"].to_dict()
    assert res["history"][-1]["max_change_xi1"] == 0


@pytest.mark.parametrize("kwargs, match", [
    ({"epochs": 0}, "epochs must be a positive integer; got 0"),
    ({"filter_learning_rate": -1.0}, r"filter_learning_rate must be a finite number >= 0; "
                                     r"got -1.0"),
    ({"max_change": 2.0}, r"max_change must be a number in \(0, 1\]; got 2.0"),
    ({"dropout": 1.0}, r"dropout must be in \[0, 1\); got 1.0"),
])
def test_bad_settings_are_refused(kwargs, match):
    with pytest.raises(ScatterError, match=match):
        FinetuneConfig(**kwargs)


def test_bad_inputs_are_refused(setup):
    params, tw, vw = setup
    with pytest.raises(ScatterError, match="features must be a FeatureConfig; got dict"):
        finetune(params, CFG.to_dict(), tw, vw)
    short = dataclasses.replace(tw, windows=tw.windows[..., :100])
    with pytest.raises(ScatterError, match=r"train must be WindowBags .* with windows of "
                                           r"1024 samples; got \(12, 2, 2, 100\)"):
        finetune(params, CFG, short, vw)
    one = dataclasses.replace(vw, labels=np.zeros_like(vw.labels))
    with pytest.raises(ScatterError, match="the val clips hold one label only"):
        finetune(params, CFG, tw, one)
