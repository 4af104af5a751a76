"""Tests of the ``scatter`` command line: the demo, exit statuses, outputs, resume, train and
evaluate, and ``python -m scatter``."""

import csv
import json
import os
import subprocess
import sys
import warnings

import jax
import numpy as np
import pytest
import soundfile as sf

from scatter.cli import build_parser, main
from scatter.detect import FeatureConfig, load_model, save_model
from scatter.detect.features import FeatureExtractor
from scatter.detect.io import read_model
from scatter.detect.model import init_params
from scatter.detect.synth import write_synthetic_corpus

CFG = FeatureConfig(sr=16000, window=2048, hop=2048, J=4, Q=(2, 1), pool=4)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    params = init_params(jax.random.PRNGKey(0), n_features=FeatureExtractor(CFG).n_features,
                         hidden=(4,), pieces=2)
    path = str(tmp_path_factory.mktemp("model") / "tiny.npz")
    save_model(path, params, {"features": CFG.to_dict(), "model": {"threshold": 0.5}})
    return path


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_demo_runs_on_a_fresh_machine(tmp_path, capsys):
    out = tmp_path / "demo.csv"
    assert main(["detect", "--demo", "--out", str(out), "--quiet"]) == 0
    rows = _rows(out)
    assert len(rows) == 6 and all(r["error"] == "" for r in rows)
    bird = [float(r["score"]) for r in rows if "/bird_" in r["path"]]
    nobird = [float(r["score"]) for r in rows if "/nobird_" in r["path"]]
    assert len(bird) == 3 and len(nobird) == 3
    assert min(bird) > max(nobird)  # the shipped model ranks the generated clips right


@pytest.mark.parametrize("argv, message", [
    ([], "COMMAND"),
    (["detect"], "give at least one PATH"),
    (["detect", "x.wav"], "--out results.csv is required"),
    (["detect", "--demo", "x.wav", "--out", "r.csv"], "give no PATH"),
    (["detect", "a.wav", "--out", "r.csv", "--batch-size", "0"], "positive integer"),
    (["detect", "a.wav", "--out", "r.csv", "--threshold", "nan"], "finite number"),
    (["detect", "a.wav", "--out", "r.csv", "--frobnicate"], "unrecognized arguments"),
    (["train", "data"], "--labels"),
    (["evaluate", "data", "--labels", "l.csv", "--model", "missing.npz"], "does not exist"),
])
def test_usage_errors_exit_2(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_missing_path_exits_2(tmp_path, tiny_model, capsys):
    code = main(["detect", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r.csv"),
                 "--model", tiny_model, "--quiet"])
    assert code == 2 and "nowhere" in capsys.readouterr().err


def test_unreadable_files_exit_3_then_resume(tmp_path, tiny_model, capsys):
    d = tmp_path / "rec"
    d.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a.wav", "b.flac"):
        sf.write(d / name, (0.1 * rng.normal(size=6000)).astype(np.float32), 16000)
    (d / "broken.wav").write_bytes(os.urandom(300))
    out, segs = tmp_path / "r.csv", tmp_path / "s.csv"
    argv = ["detect", str(d), "--out", str(out), "--segments", str(segs), "--raven",
            str(tmp_path / "raven"), "--model", tiny_model, "--batch-size", "4", "--json",
            "--plots", str(tmp_path / "plots"), "--quiet"]
    assert main(argv) == 3
    captured = capsys.readouterr()
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert summary["errors"] == 1 and summary["ok"] == 2
    rows = {os.path.basename(r["path"]): r for r in _rows(out)}
    assert rows["broken.wav"]["error"] and rows["a.wav"]["error"] == ""
    assert len(_rows(segs)) == 2 * 3  # 6000 samples, 2048-sample windows
    assert os.path.isfile(tmp_path / "r.json")
    assert os.path.isfile(tmp_path / "plots" / "a.png"), captured.err  # a skipped plot says why
    assert os.path.isfile(tmp_path / "raven" / "a.Table.1.selections.txt")
    # resume keeps the scored files and retries only the broken one
    assert main(argv + ["--resume"]) == 3
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert again["skipped"] == 2 and again["processed"] == 1
    assert [r["path"] for r in _rows(out)] == [r["path"] for r in rows.values()]


def test_detect_hop_overlaps_the_windows(tmp_path, tiny_model, capsys):
    sf.write(tmp_path / "a.wav", np.random.default_rng(1).normal(0, 0.1, 6000), 16000)
    segs = {}
    for hop in (None, "0.032"):
        out, seg = tmp_path / f"r{hop}.csv", tmp_path / f"s{hop}.csv"
        argv = ["detect", str(tmp_path / "a.wav"), "--out", str(out), "--segments", str(seg),
                "--model", tiny_model, "--quiet"] + (["--hop", hop] if hop else [])
        assert main(argv) == 0
        segs[hop] = [(float(r["start_s"]), float(r["end_s"]), float(r["score"]))
                     for r in _rows(seg)]
    starts = [s for s, _, _ in segs["0.032"]]
    assert np.allclose(np.diff(starts), 0.032)  # 512 samples at 16 kHz
    assert all(abs(e - min(s + 0.128, 6000 / 16000)) < 1e-6 for s, e, _ in segs["0.032"])
    # every fourth overlapping window is one of the default (non-overlapping) windows
    every_fourth = {round(s, 6): v for s, _, v in segs["0.032"][::4]}
    for s, _, v in segs[None]:
        assert abs(every_fourth[round(s, 6)] - v) < 1e-5


def _detect_once(tmp_path, model, seed):
    """One file scored into ``r.csv``; returns (the results path, the argv that made it)."""
    sf.write(tmp_path / "a.wav", np.random.default_rng(seed).normal(0, 0.1, 6000), 16000)
    out = tmp_path / "r.csv"
    argv = ["detect", str(tmp_path / "a.wav"), "--out", str(out), "--model", model, "--quiet"]
    assert main(argv) == 0
    return out, argv


def test_detect_resume_refuses_another_hop_or_model(tmp_path, tiny_model, capsys):
    out, argv = _detect_once(tmp_path, tiny_model, 1)
    with open(str(out) + ".settings.json") as fh:
        scorer = json.load(fh)["settings"]["scorer"]
    assert scorer == {"model_sha256": load_model(tiny_model).fingerprint}
    rows = out.read_bytes()
    capsys.readouterr()
    assert main(argv + ["--resume", "--hop", "0.064"]) == 2
    err = capsys.readouterr().err
    assert "cannot resume" in err and "hop_s 0.128 -> 0.064" in err
    # another model: the same files, weights changed
    params, metadata = read_model(tiny_model)
    other = str(tmp_path / "other.npz")
    save_model(other, {k: v + 0.01 for k, v in params.items()}, metadata)
    assert load_model(other).fingerprint != load_model(tiny_model).fingerprint
    assert main(["detect", str(tmp_path / "a.wav"), "--out", str(out), "--model", other,
                 "--resume", "--quiet"]) == 2
    assert "model_sha256" in capsys.readouterr().err
    assert out.read_bytes() == rows
    assert main(argv + ["--resume"]) == 0  # same model and hop: resumes


def test_detect_resume_without_settings_warns_in_one_line(tmp_path, tiny_model, capsys):
    out, argv = _detect_once(tmp_path, tiny_model, 2)
    os.unlink(str(out) + ".settings.json")  # as an older version left its outputs
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # shown, as outside the test runner
        assert main(argv + ["--resume"]) == 0
    err = capsys.readouterr().err
    assert "scatter: warning: " in err and "resume cannot check" in err
    assert "UserWarning" not in err and "runner.py" not in err
    assert os.path.exists(str(out) + ".settings.json")


@pytest.mark.parametrize("hop", ["0", "-1", "0.2", "1e-9"])
def test_detect_hop_out_of_range_exits_2(hop, tmp_path, tiny_model, capsys):
    sf.write(tmp_path / "a.wav", np.zeros(4000), 16000)
    code = main(["detect", str(tmp_path / "a.wav"), "--out", str(tmp_path / "r.csv"),
                 "--model", tiny_model, "--hop", hop, "--quiet"])
    assert code == 2
    assert "--hop must be between one sample and the model's window (0.128 s)" in (
        capsys.readouterr().err)
    assert not os.path.exists(tmp_path / "r.csv")


def test_evaluate_hop(tmp_path, tiny_model, capsys):
    labels = write_synthetic_corpus(tmp_path / "data", n_clips=6, seconds=0.3, sr=16000, seed=3)
    argv = ["evaluate", str(tmp_path / "data"), "--labels", labels, "--model", tiny_model,
            "--json", "--quiet"]
    assert main(argv + ["--hop", "0.064"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["hop_s"] == 0.064
    assert main(argv + ["--hop", "0.5"]) == 2
    assert "--hop must be between one sample and the model's window" in capsys.readouterr().err


def test_detect_says_what_it_skipped(tmp_path, tiny_model, capsys):
    d = tmp_path / "rec"
    (d / "site1").mkdir(parents=True)
    sf.write(d / "site1" / "a.wav", np.zeros(3000), 16000)
    (d / "b.m4a").write_bytes(b"")
    (d / "notes.txt").write_text("")
    argv = ["detect", str(d), "--out", str(tmp_path / "r.csv"), "--model", tiny_model,
            "--json", "--quiet"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out.strip().splitlines()[-1])["ignored_files"] == {
        ".m4a": 1, ".txt": 1}
    assert "2 files in the folders were skipped for their extension (.m4a: 1, .txt: 1)" in (
        captured.err)
    assert "no audio files were found in the given folders (subfolders are searched only " \
           "with --recursive)" in captured.err
    assert _rows(tmp_path / "r.csv") == []
    assert main(argv + ["--recursive"]) == 0
    captured = capsys.readouterr()
    assert "no audio files" not in captured.err and ".m4a: 1" in captured.err
    assert [os.path.basename(r["path"]) for r in _rows(tmp_path / "r.csv")] == ["a.wav"]
    (d / "notes.txt").unlink()
    assert main(argv) == 0
    assert ("note: 1 file in the folders was skipped for their extension (.m4a: 1)"
            in capsys.readouterr().err)


def test_detect_splits_the_host_into_one_device_per_core(tmp_path, tiny_model, capsys):
    d = tmp_path / "rec"
    d.mkdir()
    rng = np.random.default_rng(5)
    for name in ("a.wav", "b.wav", "c.wav"):
        sf.write(d / name, (0.1 * rng.normal(size=7000)).astype(np.float32), 16000)
    common = ["detect", str(d), "--model", tiny_model, "--batch-size", "3", "--json",
              "--quiet"]
    env = dict(os.environ, SYMSCATTER_CPU_DEVICES="2", JAX_PLATFORMS="cpu",
               SYMSCATTER_NO_JAX_CACHE="1")
    env.pop("XLA_FLAGS", None)
    res = subprocess.run([sys.executable, "-m", "scatter", *common, "--out",
                          str(tmp_path / "two.csv")], env=env, capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout.strip().splitlines()[-1])["devices"] == 2
    # in this process JAX is already running: its devices are kept, the scores are the same
    assert main(common + ["--out", str(tmp_path / "one.csv")]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["devices"] == len(jax.local_devices())
    two, one = _rows(tmp_path / "two.csv"), _rows(tmp_path / "one.csv")
    assert [r["path"] for r in two] == [r["path"] for r in one]
    np.testing.assert_allclose([float(r["score"]) for r in two],
                               [float(r["score"]) for r in one], rtol=1e-4, atol=1e-6)


def test_train_then_evaluate(tmp_path, capsys):
    labels = write_synthetic_corpus(tmp_path / "c", n_clips=8, seconds=0.3, sr=16000)
    model = str(tmp_path / "m.npz")
    assert main(["train", str(tmp_path / "c"), "--labels", labels, "--out", model,
                 "--epochs", "2", "--copies", "0", "--hidden", "4", "--sr", "16000",
                 "--window-s", "0.128", "--J", "4", "--Q", "2", "1", "--quiet",
                 "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert len(summary["history"]) == 2 and os.path.isfile(model)
    assert main(["evaluate", str(tmp_path / "c"), "--labels", labels, "--model", model,
                 "--quiet", "--json", "--batch-size", "4"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["n"] == 8 and 0 <= report["auc"] <= 1


def test_train_with_learnable_filters(tmp_path, capsys):
    labels = write_synthetic_corpus(tmp_path / "c", n_clips=8, seconds=0.3, sr=16000)
    model = tmp_path / "m.npz"
    common = ["train", str(tmp_path / "c"), "--labels", labels, "--out", str(model),
              "--epochs", "1", "--copies", "0", "--hidden", "4", "--sr", "16000",
              "--window-s", "0.128", "--J", "4", "--Q", "2", "1", "--quiet", "--json"]
    assert main(common + ["--filter-epochs", "-1"]) == 2
    assert "filter_epochs" in capsys.readouterr().err
    assert main(common + ["--filter-epochs", "1", "--filter-lr", "0.05"]) == 0
    sidecar = json.loads(model.with_suffix(".json").read_text())
    assert sidecar["training"]["config"]["filter_epochs"] == 1
    assert sidecar["training"]["config"]["filter_learning_rate"] == 0.05
    # epoch 0 (the trained classifier with the designed filters), then the fine-tuning epoch
    assert [h["epoch"] for h in sidecar["metrics"]["finetune"]["history"]] == [0, 1]


def test_python_dash_m_scatter_help():
    res = subprocess.run([sys.executable, "-m", "scatter", "detect", "--help"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0
    for option in ("--out", "--recursive", "--resume", "--segments", "--raven", "--json",
                   "--threshold", "--model", "--batch-size", "--plots", "--quiet", "--demo"):
        assert option in res.stdout
    assert {"detect", "train", "evaluate"} <= set(
        build_parser()._subparsers._group_actions[0].choices)


@pytest.mark.parametrize("value", ["two", "0", "-1"])
def test_bad_cpu_device_count_exits_2(value, tmp_path, tiny_model, monkeypatch, capsys):
    monkeypatch.setenv("SYMSCATTER_CPU_DEVICES", value)
    monkeypatch.delenv("XLA_FLAGS", raising=False)
    (tmp_path / "a.wav").touch()
    code = main(["detect", str(tmp_path), "--out", str(tmp_path / "r.csv"), "--quiet",
                 "--model", tiny_model])
    assert code == 2
    assert f"SYMSCATTER_CPU_DEVICES must be a positive integer; got '{value}'" in \
        capsys.readouterr().err
    assert not (tmp_path / "r.csv").exists()


def test_detect_keeps_compiled_programs_beside_the_jax_cache(tmp_path, tiny_model):
    """``python -m scatter detect`` saves the detector's two compiled stages in the program
    cache, and the next run loads them: it compiles neither stage (JAX logs every
    compilation). JAX's own persistent cache stays off for ``detect``."""
    d = tmp_path / "rec"
    d.mkdir()
    sf.write(d / "a.wav", (0.1 * np.random.default_rng(6).normal(size=9000)).astype(np.float32),
             16000)
    env = dict(os.environ, JAX_COMPILATION_CACHE_DIR=str(tmp_path / "jax"),
               JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0", JAX_LOG_COMPILES="1")
    env.pop("SYMSCATTER_NO_JAX_CACHE", None)
    programs = tmp_path / "jax" / "symscatter-programs"

    def detect(out):
        res = subprocess.run([sys.executable, "-m", "scatter", "detect", str(d), "--model",
                              tiny_model, "--quiet", "--out", str(tmp_path / out)],
                             env=env, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stderr
        stages = [s for s in ("_envelopes", "_classify") if f"Compiling jit({s})" in res.stderr]
        return _rows(tmp_path / out), stages

    first, compiled = detect("1.csv")
    assert compiled == ["_envelopes", "_classify"]
    assert len(list(programs.glob("*.xla"))) == 2  # the program's two stages
    assert detect("2.csv") == (first, [])  # loaded, not compiled
    assert sorted(p.name for p in (tmp_path / "jax").iterdir()) == ["symscatter-programs"]
    for f in programs.glob("*.xla"):
        f.unlink()
    assert detect("3.csv") == (first, ["_envelopes", "_classify"])
    assert len(list(programs.glob("*.xla"))) == 2


def test_detect_without_caches(tmp_path, tiny_model, monkeypatch):
    d = tmp_path / "rec"
    d.mkdir()
    sf.write(d / "a.wav", (0.1 * np.random.default_rng(6).normal(size=9000)).astype(np.float32),
             16000)
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "jax"))
    monkeypatch.setenv("SYMSCATTER_NO_JAX_CACHE", "1")
    assert main(["detect", str(d), "--model", tiny_model, "--quiet",
                 "--out", str(tmp_path / "1.csv")]) == 0
    assert len(_rows(tmp_path / "1.csv")) == 1
    assert not (tmp_path / "jax").exists()


def test_train_defaults_are_the_shipped_models_settings(tmp_path, capsys):
    """Without options, ``scatter train`` uses the shipped model's feature and training
    settings (read from its sidecar); each option given replaces one of them."""
    from scatter.detect.io import default_model_path, read_model

    labels = write_synthetic_corpus(tmp_path / "c", n_clips=6, seconds=0.5, sr=22050)
    model = str(tmp_path / "m.npz")
    assert main(["train", str(tmp_path / "c"), "--labels", labels, "--out", model,
                 "--epochs", "1", "--copies", "0", "--quiet", "--json"]) == 0
    _, shipped = read_model(default_model_path())
    _, trained = read_model(model)
    assert trained["features"] == shipped["features"]
    want = dict(shipped["training"]["config"], epochs=1, copies=0)
    assert trained["training"]["config"] == want
    assert trained["model"]["hidden"] == shipped["model"]["hidden"]
