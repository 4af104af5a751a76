"""Tests of the Dask backend (scatter.run.dask): files as tasks on a LocalCluster of worker
processes on loopback give the single-process run's rows and outputs, each worker builds the
model once, a worker killed mid-run loses no file and scores none twice, and the command line
takes ``--dask local:N``.

A cluster costs seconds to start (worker processes importing JAX): one test runs on it by
default (a stand-in NumPy scorer, every output compared with the local run's); the others,
which compile the shipped model on every worker, kill a worker or start a second cluster, are
marked ``slow``."""

import csv
import os
import signal
import sys
import warnings
from pathlib import Path

import cloudpickle
import numpy as np
import pytest
import soundfile as sf

from scatter import ScatterError
from scatter.run import DetectionRun, FileScored, Framing, ResultsCsv, ScoringBackend
from scatter.run.backend import score_file
from scatter.run.settings import run_settings
from scatter.runner import run_detection

pytest.importorskip("distributed")

# the scorers below run on the workers, which cannot import this test module by name
cloudpickle.register_pickle_by_value(sys.modules[__name__])

SR = 8000
OPTIONS = {"sr": SR, "window_s": 0.5, "hop_s": 0.25, "quiet": True, "recursive": True}


def loudness(batch):
    """A stand-in model: window loudness squashed into [0, 1]."""
    return np.tanh(4 * np.sqrt(np.mean(np.asarray(batch, np.float64) ** 2, axis=1)))


def with_features(batch):
    """Scores and a small feature tensor (batch, 3, 4), as Detector.score_with_features."""
    b = np.asarray(batch, np.float32)
    frames = b[:, :400].reshape(len(b), 4, 100).std(axis=2)
    return loudness(batch), np.stack([frames, frames ** 2, -frames], axis=1)


class KillOnce:
    """A scorer whose first call in the whole cluster kills its own worker process (SIGKILL:
    no goodbye to the scheduler), as a node lost mid-run; every later call scores."""

    def __init__(self, marker):
        self.marker = marker

    def __call__(self, batch):
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return loudness(batch)
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")


def write_folder(folder, n_files=6):
    rng = np.random.default_rng(1)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n_files):
        n = 6000 + 2500 * i
        y = 0.02 * rng.standard_normal(n)
        y[n // 4:n // 2] += 0.4 * np.sin(2 * np.pi * 500 * np.arange(n // 2 - n // 4) / SR)
        fmt = "FLAC" if i % 2 else "WAV"
        sf.write(folder / f"2024060{1 + i}_0{i}0000.{fmt.lower()}", y.astype(np.float32), SR,
                 format=fmt)
    (folder / "broken.wav").write_bytes(b"RIFF....WAVEfmt ")
    return folder


def rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# --------------------------------------------------------------------------------------------
# without a cluster


class Twice(ScoringBackend):
    """A backend that reports every file twice, as a cluster may after rescheduling."""

    def score_files(self, paths, framing):
        for file_id, path in enumerate(paths):
            outcome, _ = score_file(file_id, path, framing, loudness, batch_size=4)
            yield outcome
            yield outcome


def test_a_file_reported_twice_is_finished_once(tmp_path):
    folder = write_folder(tmp_path / "rec", n_files=3)
    out = tmp_path / "r.csv"
    summary = DetectionRun(
        [str(folder)], backend=Twice(), framing=Framing(sr=SR, window=4000, hop=2000),
        threshold=0.3, aggregate=np.max,
        settings=run_settings(sr=SR, window=4000, hop=2000, threshold=0.3, aggregate="max",
                              scorer_id=None),
        outputs=[ResultsCsv(str(out))], quiet=True).run()
    assert summary["files"] == 4 and summary["ok"] == 3 and summary["errors"] == 1
    assert sorted(r["path"] for r in rows(out)) == sorted(
        str(p) for p in [*folder.glob("*.wav"), *folder.glob("*.flac")])


def test_score_file_is_the_local_runs_windows(tmp_path):
    folder = write_folder(tmp_path / "rec", n_files=2)
    path = str(sorted(folder.glob("*.flac"))[0])
    framing = Framing(sr=SR, window=4000, hop=2000)
    outcome, n_batches = score_file(7, path, framing, loudness, batch_size=4)
    local = run_detection([path], scorer=loudness, batch_size=4, **OPTIONS)
    assert isinstance(outcome, FileScored) and outcome.file_id == 7
    assert n_batches == -(-len(outcome.scores) // 4)
    assert local["results"][0]["n_windows"] == len(outcome.scores)
    assert local["results"][0]["score"] == pytest.approx(outcome.scores.max(), abs=1e-6)


def test_connect_and_client_errors(tmp_path):
    from scatter.run.dask import DaskFiles, connect

    with pytest.raises(ScatterError, match=r"'local:N' needs N >= 1 workers; got 'local:0'"):
        with connect("local:0"):
            pass
    with pytest.raises(ScatterError, match="dask address must be .*; got ''"):
        with connect(""):
            pass
    with pytest.raises(ScatterError, match="client must be a dask.distributed Client"):
        DaskFiles(object(), loudness, batch_size=4)
    with pytest.raises(ScatterError, match="client must be a dask.distributed Client or None"):
        run_detection([str(tmp_path)], scorer=loudness, client="local:2", **OPTIONS)


# --------------------------------------------------------------------------------------------
# on a LocalCluster of worker processes


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with warnings.catch_warnings():  # port 8787 taken (another cluster): another port
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    with cluster, Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_folder(tmp_path_factory.mktemp("dask") / "rec")


def _every_output(base):
    return {"out": base / "r.csv", "segments_out": base / "s.csv", "raven_dir": base / "raven",
            "audacity_dir": base / "labels", "raven_table": base / "run.txt",
            "activity_out": base / "activity.csv", "clips_dir": base / "clips", "clips_top": 2,
            "features_dir": base / "features", "feature_scorer": with_features,
            "feature_layout": [{"column": i} for i in range(3)]}


def _tree(base):
    """Every output file under ``base`` (relative path -> bytes), the settings aside; the
    journals that list files in the order they finished (the segments CSV, the activity
    table's parts) as their sorted lines."""
    out = {}
    for path in sorted(Path(base).rglob("*")):
        if path.is_dir() or path.name.endswith(".settings.json"):
            continue
        if path.suffix == ".npz":  # a zip archive: its members carry the time they were made
            with np.load(path) as z:
                out[str(path.relative_to(base))] = {k: z[k].tobytes() for k in z.files}
            continue
        data = path.read_bytes()
        if path.name in ("s.csv", "activity.csv.parts.csv"):
            data = sorted(data.splitlines())
        out[str(path.relative_to(base))] = data
    return out


def test_dask_run_equals_the_local_run(client, folder, tmp_path):
    (tmp_path / "local").mkdir()
    (tmp_path / "dask").mkdir()
    local = run_detection([str(folder)], scorer=loudness, batch_size=4, workers=1,
                          **_every_output(tmp_path / "local"), **OPTIONS)
    dask = run_detection([str(folder)], scorer=loudness, batch_size=4, client=client,
                         **_every_output(tmp_path / "dask"), **OPTIONS)
    assert dask["results"] == local["results"]
    assert (dask["ok"], dask["errors"]) == (local["ok"], local["errors"]) == (6, 1)
    assert _tree(tmp_path / "dask") == _tree(tmp_path / "local")


@pytest.mark.slow
def test_dask_survives_a_killed_worker(client, folder, tmp_path):
    marker = tmp_path / "killed.pid"
    pids = set(client.run(os.getpid).values())
    summary = run_detection([str(folder)], scorer=KillOnce(str(marker)), batch_size=4,
                            client=client, out=tmp_path / "r.csv", **OPTIONS)
    assert int(marker.read_text()) in pids  # a worker of the cluster was killed mid-run
    local = run_detection([str(folder)], scorer=loudness, batch_size=4, **OPTIONS)
    assert summary["results"] == local["results"]
    paths = [r["path"] for r in rows(tmp_path / "r.csv")]
    assert sorted(paths) == sorted(set(paths)) and len(paths) == 7  # each file once
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it for the next tests


@pytest.mark.slow
def test_detect_on_dask_builds_the_model_once_per_worker(client, tmp_path):
    from scatter.detect import detect, load_model
    from scatter.feature_files import read_features

    det = load_model("default")
    rec = tmp_path / "rec"
    rng = np.random.default_rng(3)
    rec.mkdir()
    for i, (name, fmt) in enumerate([("a.wav", "WAV"), ("b.flac", "FLAC"), ("c.wav", "WAV")]):
        sf.write(rec / name, 0.05 * rng.standard_normal((40000 + 9000 * i, 2)), 22050,
                 format=fmt)
    local = detect([str(rec)], model=det, quiet=True, features_dir=str(tmp_path / "fl"),
                   channels="each")
    dask = detect([str(rec)], model=det, quiet=True, features_dir=str(tmp_path / "fd"),
                  channels="each", client=client)
    for a, b in zip(local["results"], dask["results"], strict=True):
        assert (a["path"], a["channel"], a["n_windows"]) == (b["path"], b["channel"],
                                                             b["n_windows"])
        assert b["score"] == pytest.approx(a["score"], abs=1e-5)
    for name in ("a.ch1.npz", "c.ch2.npz"):
        fa, fb = read_features(tmp_path / "fl" / name), read_features(tmp_path / "fd" / name)
        np.testing.assert_allclose(fb["features"], fa["features"], atol=1e-4)
        assert fb["meta"]["model"] == det.fingerprint
    # each worker process built the model once, whatever the number of files it scored
    built = client.run(lambda: sorted(__import__("scatter.detect.deploy",
                                                 fromlist=["_BUILT"])._BUILT))
    assert all(v == [det.fingerprint] for v in built.values() if v)


@pytest.mark.slow
def test_command_line_dask_local_cluster(folder, tmp_path, capsys):
    from scatter.cli import main

    out = tmp_path / "r.csv"
    status = main(["detect", str(folder), "--out", str(out), "--quiet", "--json",
                   "--dask", "local:2", "--raven-table", str(tmp_path / "run.txt")])
    assert status == 3  # the broken file
    summary = __import__("json").loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["files"] == 7 and summary["ok"] == 6
    assert len(rows(out)) == 7
