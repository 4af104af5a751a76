"""Tests of the ``scatter`` command line: the demo, exit statuses, outputs, resume, train and
evaluate in-process through ``main``, and the program itself (``python -m scatter``) in
subprocesses, marked ``slow`` where they repeat what an in-process test shows."""

import contextlib
import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

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
ROOT = str(Path(__file__).resolve().parents[2])
#: JAX's process-wide settings that an in-process ``main`` must leave as they are.
JAX_SETTINGS = ("jax_num_cpu_devices", "jax_compilation_cache_dir",
                "jax_enable_compilation_cache", "jax_persistent_cache_min_compile_time_secs")


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


def _last_json(text):
    return json.loads(text.strip().splitlines()[-1])


def _program_env(**extra):
    """Environment of a ``python -m scatter`` child: this checkout first on the path."""
    path = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)
    return dict(os.environ, PYTHONPATH=path, **extra)


def _main_captured(argv):
    """``main(argv)`` with stdout and stderr captured: (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def detected(tmp_path_factory, tiny_model):
    """One ``scatter detect`` of a folder with two recordings and a broken file, with every
    output; the tests below only read it (resume works on a copy)."""
    base = tmp_path_factory.mktemp("detected")
    d = base / "rec"
    d.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a.wav", "b.flac"):
        sf.write(d / name, (0.1 * rng.normal(size=6000)).astype(np.float32), 16000)
    (d / "broken.wav").write_bytes(rng.bytes(300))
    out = base / "out"
    out.mkdir()
    argv = ["detect", str(d), "--out", str(out / "r.csv"), "--segments", str(out / "s.csv"),
            "--raven", str(out / "raven"), "--model", tiny_model, "--batch-size", "4",
            "--json", "--quiet"]
    status, stdout, stderr = _main_captured(argv)
    return {"folder": d, "out": out, "argv": argv, "status": status, "stdout": stdout,
            "stderr": stderr}


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


def test_help_lists_every_option(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["detect", "--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    for option in ("--out", "--recursive", "--resume", "--segments", "--raven", "--json",
                   "--threshold", "--model", "--batch-size", "--plots", "--quiet", "--demo"):
        assert option in text
    assert {"detect", "train", "evaluate"} <= set(
        build_parser()._subparsers._group_actions[0].choices)


def test_missing_path_exits_2(tmp_path, tiny_model, capsys):
    code = main(["detect", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r.csv"),
                 "--model", tiny_model, "--quiet"])
    assert code == 2 and "nowhere" in capsys.readouterr().err


def test_unreadable_file_gets_an_error_row_and_exit_3(detected):
    assert detected["status"] == 3
    summary = _last_json(detected["stdout"])
    assert summary["errors"] == 1 and summary["ok"] == 2 and summary["devices"] >= 1
    out = detected["out"]
    rows = {os.path.basename(r["path"]): r for r in _rows(out / "r.csv")}
    assert sorted(rows) == ["a.wav", "b.flac", "broken.wav"]
    assert "cannot decode audio" in rows["broken.wav"]["error"]
    assert rows["broken.wav"]["score"] == rows["broken.wav"]["label"] == ""
    assert rows["a.wav"]["error"] == "" and 0 <= float(rows["a.wav"]["score"]) <= 1
    assert len(_rows(out / "s.csv")) == 2 * 3  # 6000 samples, 2048-sample windows
    assert json.loads((out / "r.json").read_text())["summary"]["errors"] == 1
    for name in ("a", "b"):
        assert (out / "raven" / f"{name}.Table.1.selections.txt").is_file()
    assert not (out / "raven" / "broken.Table.1.selections.txt").exists()


def test_resume_retries_only_the_unreadable_file(detected, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(detected["out"], out)
    argv = [str(out / Path(a).relative_to(detected["out"])) if a.startswith(
        str(detected["out"])) else a for a in detected["argv"]]
    status, stdout, _ = _main_captured(argv + ["--resume"])
    assert status == 3
    again = _last_json(stdout)
    assert (again["skipped"], again["processed"], again["errors"]) == (2, 1, 1)
    assert _rows(out / "r.csv") == _rows(detected["out"] / "r.csv")
    assert sorted(map(tuple, (r.values() for r in _rows(out / "s.csv")))) == sorted(
        map(tuple, (r.values() for r in _rows(detected["out"] / "s.csv"))))


@pytest.mark.slow
def test_detect_plots_a_timeline_per_scored_file(detected, tiny_model, tmp_path):
    status, _, stderr = _main_captured(
        ["detect", str(detected["folder"]), "--out", str(tmp_path / "r.csv"), "--model",
         tiny_model, "--batch-size", "4", "--plots", str(tmp_path / "plots"), "--quiet"])
    assert status == 3
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["a.png", "b.png"], stderr


def test_main_leaves_jax_config_and_devices_unchanged(detected, tiny_model, tmp_path):
    """An in-process ``main`` (here ``detect``, which splits the devices and sets up the
    caches when run as the program) changes none of JAX's process-wide settings."""
    before = {name: getattr(jax.config, name) for name in JAX_SETTINGS}
    devices = jax.local_device_count()
    argv = ["detect", str(detected["folder"] / "a.wav"), "--out", str(tmp_path / "r.csv"),
            "--model", tiny_model, "--quiet"]
    assert main(argv) == 0
    assert {name: getattr(jax.config, name) for name in JAX_SETTINGS} == before
    assert jax.local_device_count() == devices


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
    # windows every 512 samples (0.032 s at 16 kHz) of 2048; the last one holds the file's
    # last 2048 samples under either hop: starts 0, 512, ..., 3584, then 3952
    starts = [s for s, _, _ in segs["0.032"]]
    assert np.allclose(starts, np.r_[np.arange(8) * 0.032, (6000 - 2048) / 16000])
    assert all(abs(e - (s + 0.128)) < 1e-6 for s, e, _ in segs["0.032"])
    assert [s for s, _, _ in segs[None]] == pytest.approx([0, 0.128, (6000 - 2048) / 16000])
    # every default (non-overlapping) window is one of the overlapping windows
    by_start = {round(s, 6): v for s, _, v in segs["0.032"]}
    for s, _, v in segs[None]:
        assert abs(by_start[round(s, 6)] - v) < 1e-5


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
    assert "UserWarning" not in err and "runner.py" not in err and "run.py" not in err
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
    assert _last_json(capsys.readouterr().out)["hop_s"] == 0.064
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
    assert _last_json(captured.out)["ignored_files"] == {".m4a": 1, ".txt": 1}
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


def _separable_corpus(folder, *, n_clips, sr=16000, seconds=0.3):
    """Clips of white noise, every other one with a loud rising chirp over its whole length
    (label 1); the last third are the validation split. Returns the labels CSV."""
    (folder / "clips").mkdir(parents=True)
    t = np.arange(int(seconds * sr)) / sr
    rows = []
    for i in range(n_clips):
        rng = np.random.default_rng(i)
        y = 0.05 * rng.standard_normal(t.size)
        bird = i % 2 == 0
        if bird:
            y += 0.3 * np.sin(2 * np.pi * (rng.uniform(2500, 4000) * t + 2000 * t ** 2))
        path = f"clips/c{i:03d}.wav"
        sf.write(folder / path, y.astype(np.float32), sr)
        rows.append({"path": path, "label": int(bird),
                     "split": "val" if i >= n_clips - n_clips // 3 else "train"})
    labels = folder / "labels.csv"
    with open(labels, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["path", "label", "split"])
        writer.writeheader()
        writer.writerows(rows)
    return str(labels)


def test_train_learns_then_evaluate(tmp_path, capsys):
    """On clips that a chirp separates, training lowers the loss and ranks the held-out clips
    better than chance, and ``evaluate`` ranks the clips with birds above the others beyond
    chance (exact one-sided Mann-Whitney test on its per-clip scores, p < 0.01)."""
    from scipy.stats import mannwhitneyu

    data = tmp_path / "c"
    labels = _separable_corpus(data, n_clips=24)
    model = str(tmp_path / "m.npz")
    # a learning rate that learns in 4 epochs (the shipped model's 1e-3 with dropout barely
    # moves this tiny network, and its scores then rest on noise)
    assert main(["train", str(data), "--labels", labels, "--out", model, "--epochs", "4",
                 "--batch-size", "8", "--copies", "0", "--hidden", "4", "--sr", "16000",
                 "--window-s", "0.128", "--J", "4", "--Q", "2", "1", "--lr", "1e-2",
                 "--dropout", "0", "--quiet", "--json"]) == 0
    summary = _last_json(capsys.readouterr().out)
    history = summary["history"]
    assert len(history) == 4 and os.path.isfile(model)
    assert (summary["n_train"], summary["n_val"]) == (16, 8)
    assert history[-1]["loss"] < history[0]["loss"]
    assert summary["best"]["val_auc"] > 0.5
    scores = tmp_path / "scores.csv"
    assert main(["evaluate", str(data), "--labels", labels, "--model", model, "--quiet",
                 "--json", "--batch-size", "4", "--out", str(scores)]) == 0
    report = _last_json(capsys.readouterr().out)
    assert report["n"] == 24 and report["auc"] > 0.5
    chirp, noise = [], []
    for row in _rows(scores):  # clip c<i>.wav has a chirp when i is even
        i = int(os.path.basename(row["path"])[1:4])
        (chirp if i % 2 == 0 else noise).append(float(row["score"]))
    assert len(chirp) == len(noise) == 12
    test = mannwhitneyu(chirp, noise, alternative="greater", method="exact")
    assert test.pvalue < 0.01


@pytest.mark.slow
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


@pytest.mark.slow
def test_train_defaults_are_the_shipped_models_settings(tmp_path, capsys):
    """Without options, ``scatter train`` uses the shipped model's feature and training
    settings (read from its sidecar); each option given replaces one of them. The shipped
    model frames a clip's last window as the detector does (``last_window="end"``), as every
    new model does."""
    from scatter.detect.io import default_model_path, read_model

    labels = write_synthetic_corpus(tmp_path / "c", n_clips=6, seconds=0.5, sr=22050)
    model = str(tmp_path / "m.npz")
    assert main(["train", str(tmp_path / "c"), "--labels", labels, "--out", model,
                 "--epochs", "1", "--copies", "0", "--quiet", "--json"]) == 0
    _, shipped = read_model(default_model_path())
    _, trained = read_model(model)
    assert trained["features"] == shipped["features"]
    assert shipped["training"]["config"]["last_window"] == "end"
    want = dict(shipped["training"]["config"], epochs=1, copies=0)
    assert trained["training"]["config"] == want
    assert trained["model"]["hidden"] == shipped["model"]["hidden"]


@pytest.mark.slow
def test_detect_without_caches(tmp_path, tiny_model, monkeypatch):
    d = tmp_path / "rec"
    d.mkdir()
    sf.write(d / "a.wav", (0.1 * np.random.default_rng(6).normal(size=9000)).astype(np.float32),
             16000)
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "jax"))
    monkeypatch.setenv("SYMSCATTER_NO_JAX_CACHE", "1")
    monkeypatch.setenv("SYMSCATTER_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["detect", str(d), "--model", tiny_model, "--quiet",
                 "--out", str(tmp_path / "1.csv")]) == 0
    assert len(_rows(tmp_path / "1.csv")) == 1
    assert not (tmp_path / "jax").exists() and not (tmp_path / "cache").exists()


# --------------------------------------------------------------------------------------------
# the program: python -m scatter, with its process-wide setup


def test_program_refuses_a_bad_cpu_device_count(tmp_path):
    """The program sets up its process (:mod:`scatter.runtime`) before it runs the command;
    a bad setting stops it with status 2 before any output is written."""
    value = "two"
    (tmp_path / "a.wav").touch()
    env = _program_env(SYMSCATTER_CPU_DEVICES=value)
    env.pop("XLA_FLAGS", None)
    res = subprocess.run([sys.executable, "-m", "scatter", "detect", str(tmp_path), "--out",
                          str(tmp_path / "r.csv"), "--quiet"], env=env, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 2, res.stderr
    assert f"SYMSCATTER_CPU_DEVICES must be a positive integer; got '{value}'" in res.stderr
    assert not (tmp_path / "r.csv").exists()


@pytest.mark.slow
def test_program_splits_the_host_into_one_device_per_core(tmp_path, tiny_model, capsys):
    d = tmp_path / "rec"
    d.mkdir()
    rng = np.random.default_rng(5)
    for name in ("a.wav", "b.wav", "c.wav"):
        sf.write(d / name, (0.1 * rng.normal(size=7000)).astype(np.float32), 16000)
    common = ["detect", str(d), "--model", tiny_model, "--batch-size", "3", "--json",
              "--quiet"]
    env = _program_env(SYMSCATTER_CPU_DEVICES="2", JAX_PLATFORMS="cpu",
                       SYMSCATTER_NO_JAX_CACHE="1")
    env.pop("XLA_FLAGS", None)
    res = subprocess.run([sys.executable, "-m", "scatter", *common, "--out",
                          str(tmp_path / "two.csv")], env=env, capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stderr
    assert _last_json(res.stdout)["devices"] == 2
    # in this process main() leaves the devices as they are; the scores are the same
    assert main(common + ["--out", str(tmp_path / "one.csv")]) == 0
    summary = _last_json(capsys.readouterr().out)
    assert summary["devices"] == len(jax.local_devices())
    two, one = _rows(tmp_path / "two.csv"), _rows(tmp_path / "one.csv")
    assert [r["path"] for r in two] == [r["path"] for r in one]
    np.testing.assert_allclose([float(r["score"]) for r in two],
                               [float(r["score"]) for r in one], rtol=1e-4, atol=1e-6)


_FRESH_MAIN = r"""
import json, sys
import jax
from scatter.cli import main

names = sys.argv[1].split(",")
before = {n: getattr(jax.config, n) for n in names}
codes = [main(json.loads(a)) for a in sys.argv[2:]]
print(json.dumps({"codes": codes, "before": before,
                  "after": {n: getattr(jax.config, n) for n in names},
                  "devices": jax.local_device_count()}))
"""


@pytest.mark.slow
def test_main_in_a_fresh_interpreter_leaves_jax_as_it_found_it(tmp_path, tiny_model):
    """Before JAX's backend starts, an in-process ``main`` could still split the devices or
    set up JAX's cache; it does neither (only the program does)."""
    sf.write(tmp_path / "a.wav", np.random.default_rng(7).normal(0, 0.1, 6000), 16000)
    labels = write_synthetic_corpus(tmp_path / "c", n_clips=4, seconds=0.3, sr=16000, seed=4)
    runs = [["detect", str(tmp_path / "a.wav"), "--out", str(tmp_path / "r.csv"), "--model",
             tiny_model, "--quiet"],
            ["evaluate", str(tmp_path / "c"), "--labels", labels, "--model", tiny_model,
             "--quiet", "--json"]]
    env = _program_env(SYMSCATTER_CPU_DEVICES="2")
    for name in ("XLA_FLAGS", "JAX_COMPILATION_CACHE_DIR", "SYMSCATTER_NO_JAX_CACHE"):
        env.pop(name, None)
    res = subprocess.run([sys.executable, "-c", _FRESH_MAIN, ",".join(JAX_SETTINGS),
                          *map(json.dumps, runs)], env=env, capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stderr
    report = _last_json(res.stdout)
    assert report["codes"] == [0, 0]
    assert report["after"] == report["before"] and report["devices"] == 1


@pytest.mark.slow
def test_program_keeps_compiled_programs_beside_the_jax_cache(tmp_path, tiny_model):
    """``python -m scatter detect`` saves the detector's three compiled stages in the program
    cache, and the next run loads them: it compiles no stage (JAX logs every
    compilation). JAX's own persistent cache stays off for ``detect``."""
    d = tmp_path / "rec"
    d.mkdir()
    sf.write(d / "a.wav", (0.1 * np.random.default_rng(6).normal(size=9000)).astype(np.float32),
             16000)
    env = _program_env(JAX_COMPILATION_CACHE_DIR=str(tmp_path / "jax"),
                       JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0", JAX_LOG_COMPILES="1")
    env.pop("SYMSCATTER_NO_JAX_CACHE", None)
    programs = tmp_path / "jax" / "symscatter-programs"

    def detect(out):
        res = subprocess.run([sys.executable, "-m", "scatter", "detect", str(d), "--model",
                              tiny_model, "--quiet", "--out", str(tmp_path / out)],
                             env=env, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stderr
        stages = [s for s in ("_envelopes", "_activity", "_classify")
                  if f"Compiling jit({s})" in res.stderr]
        return _rows(tmp_path / out), stages

    first, compiled = detect("1.csv")
    assert compiled == ["_envelopes", "_activity", "_classify"]
    assert len(list(programs.glob("*.xla"))) == 3  # the program's three stages
    assert detect("2.csv") == (first, [])  # loaded, not compiled
    assert sorted(p.name for p in (tmp_path / "jax").iterdir()) == ["symscatter-programs"]
    for f in programs.glob("*.xla"):
        f.unlink()
    assert detect("3.csv") == (first, ["_envelopes", "_activity", "_classify"])
    assert len(list(programs.glob("*.xla"))) == 3


@pytest.mark.slow
def test_program_uses_the_package_cache_folder(tmp_path, tiny_model):
    """Without ``JAX_COMPILATION_CACHE_DIR``, the program keeps the detector's programs in
    ``$SYMSCATTER_CACHE_DIR/programs`` and ``train``/``evaluate`` compile through JAX's cache
    in ``$SYMSCATTER_CACHE_DIR/jax``."""
    sf.write(tmp_path / "a.wav", np.random.default_rng(8).normal(0, 0.1, 6000), 16000)
    labels = write_synthetic_corpus(tmp_path / "c", n_clips=4, seconds=0.3, sr=16000, seed=5)
    cache = tmp_path / "cache"
    env = _program_env(SYMSCATTER_CACHE_DIR=str(cache),
                       JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0")
    for name in ("JAX_COMPILATION_CACHE_DIR", "SYMSCATTER_NO_JAX_CACHE"):
        env.pop(name, None)
    for argv in (["detect", str(tmp_path / "a.wav"), "--out", str(tmp_path / "r.csv")],
                 ["evaluate", str(tmp_path / "c"), "--labels", labels]):
        res = subprocess.run([sys.executable, "-m", "scatter", *argv, "--model", tiny_model,
                              "--quiet"], env=env, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stderr
    assert len(list((cache / "programs").glob("*.xla"))) == 3
    assert any((cache / "jax").iterdir())


_INTERRUPTIBLE = r"""
import faulthandler, signal, sys, time
from scatter.cli import run_program
from scatter.detect.detector import Detector

faulthandler.register(signal.SIGUSR1, all_threads=True)  # stacks on stderr, if it hangs
# Ctrl-C as in a terminal, even where this process inherited SIGINT ignored
signal.signal(signal.SIGINT, signal.default_int_handler)
calls, score = [], Detector.scorer

def scorer(self, batch):
    calls.append(1)
    while len(calls) >= 4:  # hang on the 4th batch until Ctrl-C
        time.sleep(0.01)
    return score(self, batch)

Detector.scorer = scorer
sys.argv = ["scatter", *sys.argv[1:]]
sys.exit(run_program())
"""


@pytest.mark.slow
def test_program_exits_130_on_ctrl_c_and_resume_completes(tmp_path, tiny_model, capsys):
    d = tmp_path / "rec"
    d.mkdir()
    rng = np.random.default_rng(9)
    for i in range(8):  # one window each
        sf.write(d / f"clip{i}.wav", (0.1 * rng.normal(size=2048)).astype(np.float32), 16000)
    out = tmp_path / "r.csv"
    argv = ["detect", str(d), "--out", str(out), "--model", tiny_model, "--batch-size", "2",
            "--workers", "1", "--quiet"]
    env = _program_env(SYMSCATTER_CPU_DEVICES="1")
    env.pop("XLA_FLAGS", None)
    child = subprocess.Popen([sys.executable, "-c", _INTERRUPTIBLE, *argv], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300  # a liveness guard, not a timing assertion
        while time.monotonic() < deadline and child.poll() is None:
            if out.exists() and len(_rows(out)) >= 2:
                break
            time.sleep(0.05)
        assert child.poll() is None, child.communicate()[1].decode()
        child.send_signal(signal.SIGINT)
        try:
            _, err = child.communicate(timeout=60)
        except subprocess.TimeoutExpired:  # a liveness guard: report where every thread is
            child.send_signal(signal.SIGUSR1)
            time.sleep(2)
            child.kill()
            _, err = child.communicate()
            pytest.fail("scatter detect did not stop within 60 s of SIGINT; its threads:\n"
                        + err.decode(errors="replace"))
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()  # reap it and close the pipes
    err = err.decode(errors="replace")
    assert child.returncode == 130, err
    assert "scatter: error: interrupted; the outputs hold every finished file (rerun with " \
           "--resume)" in err and "Traceback" not in err
    partial = _rows(out)
    assert 2 <= len(partial) < 8 and all(r["error"] == "" for r in partial)
    assert main(argv + ["--resume", "--json"]) == 0
    resumed = _last_json(capsys.readouterr().out)
    assert (resumed["skipped"], resumed["processed"]) == (len(partial), 8 - len(partial))
    assert sorted(os.path.basename(r["path"]) for r in _rows(out)) == [
        f"clip{i}.wav" for i in range(8)]
