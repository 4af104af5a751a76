import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest


@pytest.fixture(scope="module")
def mod(scripts):
    return scripts("train_ssl_mnist")


@pytest.fixture(scope="module")
def net(mod):
    params, state = mod.init_net(jax.random.PRNGKey(0), (4, 6, 8))
    return params, state


def test_forward_shapes_and_running_stats(mod, net, rng):
    params, state = net
    x = jnp.asarray(rng.uniform(size=(5, 1, 28, 28)).astype("float32"))
    logits, new_state = mod.forward(params, state, x, train=True)
    assert logits.shape == (5, 10)
    # running mean moves 10% of the way to the batch mean
    h = jax.lax.conv_general_dilated(jnp.transpose(x, (0, 2, 3, 1)), params["conv0"], (2, 2),
                                     "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    np.testing.assert_allclose(new_state["mean0"], 0.1 * np.asarray(h).mean((0, 1, 2)),
                               rtol=1e-5, atol=1e-7)
    eval_logits, same = mod.forward(params, state, x, train=False)
    assert same is state and eval_logits.shape == (5, 10)


def test_reconstructions_are_backprojected_predictions(mod, net, rng):
    params, state = net
    x = jnp.asarray(rng.uniform(size=(3, 1, 28, 28)).astype("float32"))
    inputs, recs = mod.reconstructions(params, state, x)
    assert [r.shape for r in recs] == [h.shape for h in inputs]
    logits = mod.forward(params, state, x, train=True)[0]
    p = jax.nn.softmax(logits)
    # last scale (pooled features feeding the dense layer): closed form W p
    np.testing.assert_allclose(recs[-1], p @ params["dense_w"].T, rtol=1e-5, atol=1e-6)
    # input scale: gradient of <p, logits> with respect to the image
    g = jax.grad(lambda v: jnp.sum(p * mod.forward(params, state, v, train=True)[0]))(x)
    np.testing.assert_allclose(recs[0], jnp.transpose(g, (0, 2, 3, 1)), rtol=1e-4, atol=1e-6)


def _layers_copy(mod, params):
    """The layers network of the script (built in the caller's graph) with the plain-JAX
    parameters copied in, batch-norm scales and shifts moved off their initial values."""
    net = mod.build_layers_net((4, 6, 8), seed=0)
    convs = [layer for layer in net.layers if type(layer).__name__ == "Conv2D"]
    norms = [layer for layer in net.layers if type(layer).__name__ == "BatchNorm"]
    for i, (conv, bn) in enumerate(zip(convs, norms)):
        conv.W.value = np.transpose(np.asarray(params[f"conv{i}"]), (3, 2, 0, 1))  # HWIO->OIHW
        bn.gamma.value = np.asarray(params[f"gamma{i}"]) + 0.1 * (i + 1)
        bn.beta.value = np.asarray(params[f"beta{i}"]) + 0.05
    net.layers[-1].W.value = np.asarray(params["dense_w"])
    net.layers[-1].b.value = np.asarray(params["dense_b"])
    return net, {**params, **{f"gamma{i}": jnp.asarray(bn.gamma.value)
                              for i, bn in enumerate(norms)},
                 **{f"beta{i}": jnp.asarray(bn.beta.value) for i, bn in enumerate(norms)}}


def test_layers_engine_computes_the_plain_jax_network_and_loss(mod, net, rng):
    # the port onto layers/layers.ssl computes what the plain-JAX step computes: the same
    # logits (batch statistics and running statistics) and the same multiscale
    # reconstruction loss, from the same weights
    import symbolic as S
    from layers import ssl

    params, state = net
    xv = rng.uniform(size=(5, 1, 28, 28)).astype("float32")
    with S.Graph(seed=0):
        lnet, params = _layers_copy(mod, params)
        x = S.placeholder((5, 1, 28, 28))
        xl = S.placeholder((2, 1, 28, 28))
        yl = S.placeholder((2,), "int32")
        _, terms = ssl.ssl_loss(lnet, xl, yl, x, weights={"entropy": 0},
                                reconstruction_size=5)
        f = S.function([x, xl, yl], [lnet(x), lnet(x, deterministic=True),
                                     terms["reconstruction"]])
        train_logits, eval_logits, rec = f(xv, xv[:2], np.zeros(2, "int32"))
    np.testing.assert_allclose(train_logits, mod.forward(params, state, xv, train=True)[0],
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(eval_logits, mod.forward(params, state, xv, train=False)[0],
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(float(rec), float(mod.reconstruction(params, state, xv)),
                               rtol=1e-4)


def test_augmentations_keep_shape_and_range(mod, rng):
    x = jnp.asarray(rng.uniform(size=(6, 1, 28, 28)).astype("float32"))
    key = jax.random.PRNGKey(1)
    weak = mod.weak_augment(key, x, 2)
    strong = mod.strong_augment(key, x, rotation=25.0, elastic=1.5, cutout=10)
    for v in (weak, strong):
        assert v.shape == x.shape and float(v.min()) >= -1e-6 and float(v.max()) <= 1 + 1e-6
    assert not np.allclose(strong, x)


@pytest.mark.parametrize("engine", ["jax", "layers"])
def test_main_smoke_checkpoint_and_resume(mod, tmp_path, capsys, engine):
    argv = ["--engine", engine, "--steps", "2", "--chunk", "1", "--widths", "4", "4", "4",
            "--batch-unlabelled", "8", "--reconstruction-size", "4",
            "--terms", "entropy,reconstruction,consistency",
            "--checkpoint-dir", str(tmp_path), "--json", "--quiet"]
    result = mod.main(argv)
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(last)["test_accuracy"] == result["test_accuracy"]
    for k in ("test_accuracy", "test_accuracy_ema", "unlabelled_accuracy"):
        assert 0.0 <= result[k] <= 1.0
    assert set(result["final_losses"]) >= {"cross_entropy", "entropy", "reconstruction",
                                           "consistency", "total"}
    meta = json.loads((tmp_path / f"ssl_mnist_{engine}_l5_s0.json").read_text())
    assert meta["step"] == 2 and meta["config"]["widths"] == [4, 4, 4]
    # resuming a finished run trains no more and evaluates the same weights
    again = mod.main(argv + ["--resume"])
    for k in ("test_accuracy", "test_accuracy_ema", "unlabelled_accuracy"):
        assert again[k] == result[k]


def test_checkpoint_round_trip(mod, net, tmp_path):
    params, state = net
    carry = (params, state, jax.random.PRNGKey(3), jnp.float32(7))
    mod.save_checkpoint(str(tmp_path / "c"), carry, {"step": 7})
    zeroed = jax.tree.map(jnp.zeros_like, carry)
    back, step = mod.load_checkpoint(str(tmp_path / "c"), zeroed)
    assert step == 7
    for a, b in zip(jax.tree.leaves(back), jax.tree.leaves(carry)):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_parse_errors(mod):
    with pytest.raises(SystemExit):
        mod.parse(["--terms", "bogus"])
    with pytest.raises(SystemExit):
        mod.parse(["--steps", "10", "--chunk", "3"])
