import json

import numpy as np
import pytest

import layers as L
import symbolic as S

TINY = ["--widths", "4", "4", "4", "--batch-unlabelled", "8", "--reconstruction-size", "4",
        "--json", "--quiet"]


@pytest.fixture(scope="module")
def mod(scripts):
    return scripts("train_ssl_mnist")


def test_network_shapes_and_size(mod):
    with S.Graph():
        net = mod.build_net((32, 64, 64), seed=0)
        assert net.output_shape == (None, 10)
        # 3x3 convolutions 1->32->64->64 without bias, batch-norm scales and shifts, dense
        assert L.count_params(net, trainable=True) == (9 * 32 + 9 * 32 * 64 + 9 * 64 * 64
                                                       + 2 * (32 + 64 + 64) + 64 * 10 + 10)
        x = S.placeholder((None, 1, 28, 28))
        shapes = [h.shape for h in net.get_intermediates(x)]
    assert (None, 32, 14, 14) in shapes and (None, 64, 7, 7) in shapes \
        and (None, 64, 5, 5) in shapes


def _fake_data(rng, n_per_class=2, n_unlabelled=40):
    """Images whose class is their brightness, with noise."""
    def images(labels):
        x = 0.05 * rng.normal(size=(len(labels), 1, 28, 28)).astype("float32")
        return x + (labels / 9.0).astype("float32")[:, None, None, None]

    yl = np.repeat(np.arange(10), n_per_class).astype("int32")
    yu = rng.integers(0, 10, size=n_unlabelled).astype("int32")
    return {"x_labelled": images(yl), "y_labelled": yl, "x_unlabelled": images(yu),
            "y_unlabelled": yu}


@pytest.mark.slow
def test_ssl_steps_lower_the_loss(mod, rng, tmp_path):
    # every term on: the losses fall within a few chunks of steps
    args = mod.parse(TINY + ["--terms", "entropy,reconstruction,consistency", "--steps", "20",
                             "--chunk", "5", "--lr", "0.02"])
    _, _, history, step_cpu = mod.train_model(args, _fake_data(rng), str(tmp_path / "c"),
                                              lambda *a: None)
    assert [h["step"] for h in history] == [5, 10, 15, 20]
    assert set(history[0]) >= {"total", "cross_entropy", "entropy", "reconstruction",
                               "consistency", "mask_rate"}
    assert history[-1]["cross_entropy"] < 0.9 * history[0]["cross_entropy"]
    assert history[-1]["total"] < history[0]["total"]
    assert step_cpu is not None and step_cpu > 0
    assert json.loads((tmp_path / "c.json").read_text())["step"] == 20


@pytest.mark.slow
def test_main_checkpoint_and_resume(mod, tmp_path, capsys, monkeypatch):
    # supervised only (--terms none): a step that compiles quickly; the SSL terms are
    # exercised above
    argv = TINY + ["--terms", "none", "--steps", "4", "--chunk", "2", "--checkpoint-every", "2"]
    straight = mod.main(argv + ["--checkpoint-dir", str(tmp_path / "a")])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(last)["test_accuracy"] == straight["test_accuracy"]
    for k in ("test_accuracy", "test_accuracy_ema", "unlabelled_accuracy"):
        assert 0.0 <= straight[k] <= 1.0
    assert set(straight["final_losses"]) == {"step", "total", "cross_entropy"}
    meta = json.loads((tmp_path / "a" / "ssl_mnist_l5_s0.json").read_text())
    assert meta["step"] == 4 and meta["config"]["widths"] == [4, 4, 4]

    # a run stopped after its first checkpoint, then resumed: the same run
    save = mod.save_checkpoint

    def save_then_stop(*args):
        save(*args)
        raise KeyboardInterrupt

    other = argv + ["--checkpoint-dir", str(tmp_path / "b")]
    monkeypatch.setattr(mod, "save_checkpoint", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        mod.main(other)
    monkeypatch.setattr(mod, "save_checkpoint", save)
    assert json.loads((tmp_path / "b" / "ssl_mnist_l5_s0.json").read_text())["step"] == 2
    resumed = mod.main(other + ["--resume"])
    assert resumed["final_losses"] == pytest.approx(straight["final_losses"], rel=1e-5)
    for k in ("test_accuracy", "test_accuracy_ema", "unlabelled_accuracy"):
        assert resumed[k] == straight[k]
    # resuming a finished run trains no more and evaluates the same weights
    again = mod.main(other + ["--resume"])
    assert again["final_losses"] == {}
    for k in ("test_accuracy", "test_accuracy_ema", "unlabelled_accuracy"):
        assert again[k] == straight[k]


def test_parse_errors(mod):
    with pytest.raises(SystemExit):
        mod.parse(["--terms", "bogus"])
    with pytest.raises(SystemExit):
        mod.parse(["--steps", "10", "--chunk", "3"])
    assert not hasattr(mod.parse([]), "engine")


@pytest.mark.slow
def test_default_run_reaches_the_protocol_accuracy(mod, tmp_path):
    # the documented protocol, seed 0 (about 9 CPU-minutes): 5 labels per class, 2,000 steps
    result = mod.main(["--labels-per-class", "5", "--seed", "0", "--json", "--quiet",
                       "--checkpoint-dir", str(tmp_path)])
    assert result["test_accuracy"] >= 0.95
