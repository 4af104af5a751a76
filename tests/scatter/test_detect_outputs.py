"""The field outputs of a detection run, from ``run_detection``, ``scatter.detect.detect`` and
``scatter detect``: Audacity labels, per-file and whole-run Raven tables, recording start times
(every recorder naming kind, the AudioMoth comment, ``timezone``), the activity table, review
clips, feature files, channels scored one by one, provenance; each written for a file without
detections too, and each resumed to what an uninterrupted run writes.

Most tests use a stand-in NumPy scorer (window loudness) on a deployment of short WAV and FLAC
files; one module-scoped ``scatter detect`` run with the shipped model checks the command line
and the model's outputs (feature layout, fingerprint)."""

import contextlib
import csv
import dataclasses
import io
import json
import os
import shutil

import numpy as np
import pytest
import soundfile as sf

from scatter import ScatterError
from scatter.activity_table import read_activity_table
from scatter.feature_files import read_features
from scatter.outputs import RESULT_FIELDS, SEGMENT_FIELDS, read_rows
from scatter.run import (
    ActivityOutput,
    DetectionRun,
    FileScored,
    Framing,
    Output,
    RavenRunTableOutput,
    ResultsCsv,
    ScoringBackend,
    score_file,
)
from scatter.run.settings import run_settings
from scatter.runner import run_detection, settings_path
from scatter.selections import RAVEN_RUN_FIELDS, read_audacity_labels

SR = 8000
THRESHOLD = 0.5
COMMENT = "Recorded at 05:10:00 01/06/2024 (UTC) by AudioMoth 24A04F085FDF2793 at medium gain"
#: name -> (seconds, sample rate, format, channels, a call in it, start time with
#: timezone="Europe/Berlin")
DEPLOYMENT = {
    "A/20240601_045930.WAV": (3.0, 16000, "WAV", 1, True, "2024-06-01T04:59:30+02:00"),
    "A/665A8EB0.WAV": (2.0, 16000, "WAV", 1, True, "2024-06-01T03:00:00+00:00"),
    "B/S4A01234_20240601_050010.flac": (2.5, 22050, "FLAC", 2, True,
                                        "2024-06-01T05:00:10+02:00"),
    "B/SMM01234_20240601$050020.wav": (2.0, 8000, "WAV", 1, True,
                                       "2024-06-01T05:00:20+02:00"),
    "C/rec001.wav": (2.0, 16000, "WAV", 1, True, "2024-06-01T05:10:00+00:00"),
    "C/notes.flac": (1.5, 16000, "FLAC", 1, False, ""),
}
BROKEN = "C/broken.wav"


def loudness(batch):
    """A stand-in model: window loudness squashed into [0, 1]."""
    return np.tanh(4 * np.sqrt(np.mean(np.asarray(batch, np.float64) ** 2, axis=1)))


def loudness_features(batch):
    """Scores and a (batch, 3, 4) feature tensor, as Detector.score_with_features."""
    b = np.asarray(batch, np.float32)
    frames = b[:, :400].reshape(len(b), 4, 100).std(axis=2)
    return loudness(batch), np.stack([frames, frames ** 2, -frames], axis=1)


LAYOUT = [{"column": i, "channel": "activity"} for i in range(3)]


def write_deployment(root):
    """The deployment: three sites, every recorder naming kind, WAV and FLAC; the stereo
    Song Meter file holds its call out of phase on its two channels (its mono mix is
    silent), ``notes.flac`` holds no call, and one file is not audio."""
    rng = np.random.default_rng(0)
    for name, (seconds, sr, fmt, channels, call, _) in DEPLOYMENT.items():
        n = int(seconds * sr)
        y = 0.01 * rng.standard_normal((n, channels))
        if call:
            a, b = n // 3, n // 2
            tone = 0.5 * np.sin(2 * np.pi * 600 * np.arange(b - a) / sr)
            y[a:b, 0] += tone
            if channels == 2:  # the second microphone hears the call inverted
                y[a:b, 1] = -y[a:b, 0]
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with sf.SoundFile(path, "w", samplerate=sr, channels=channels, format=fmt) as f:
            if name == "C/rec001.wav":
                f.comment = COMMENT
            f.write(y.astype(np.float32))
    (root / BROKEN).write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt not audio")
    return root


def every_output(base):
    """Every field output of ``run_detection``, under ``base``."""
    return {"out": base / "results.csv", "segments_out": base / "segments.csv",
            "raven_dir": base / "raven", "audacity_dir": base / "labels",
            "raven_table": base / "run.selections.txt", "activity_out": base / "activity.csv",
            "clips_dir": base / "clips", "clips_top": 1, "features_dir": base / "features",
            "feature_scorer": loudness_features, "feature_layout": LAYOUT,
            "json_out": base / "run.json"}


def run(root, base, **options):
    base.mkdir(parents=True, exist_ok=True)
    opts = {"scorer": loudness, "sr": SR, "window_s": 0.5, "hop_s": 0.25, "quiet": True,
            "recursive": True, "threshold": THRESHOLD, "timezone": "Europe/Berlin",
            "batch_size": 4, "workers": 1, **every_output(base), **options}
    return run_detection([str(root)], **opts)


def table(path, delimiter=","):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter=delimiter))


def _json(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def rel(root, path):
    return os.path.relpath(path, root).replace(os.sep, "/")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    return write_deployment(tmp_path_factory.mktemp("field") / "deployment")


@pytest.fixture(scope="module")
def mixed(deployment, tmp_path_factory):
    """One run with every output, channels mixed: (summary, output folder)."""
    base = tmp_path_factory.mktemp("mixed")
    return run(deployment, base), base


@pytest.fixture(scope="module")
def each(deployment, tmp_path_factory):
    """The same run with each channel scored on its own."""
    base = tmp_path_factory.mktemp("each")
    return run(deployment, base, channels="each"), base


# --------------------------------------------------------------------------------------------
# what a run writes


def test_results_carry_the_recording_start_of_every_recorder_kind(deployment, mixed):
    summary, base = mixed
    rows = {rel(deployment, r["path"]): r for r in read_rows(base / "results.csv",
                                                               RESULT_FIELDS)}
    assert {k: r["start_time"] for k, r in rows.items() if k != BROKEN} == {
        name: spec[5] for name, spec in DEPLOYMENT.items()}
    assert rows[BROKEN]["error"] and rows[BROKEN]["channel"] == ""
    assert (summary["files"], summary["ok"], summary["errors"]) == (7, 6, 1)
    # segments: the clock time of each window's start
    segs = [r for r in read_rows(base / "segments.csv", SEGMENT_FIELDS)
            if r["path"].endswith("20240601_045930.WAV")]
    assert [r["start_time"] for r in segs[:3]] == [
        "2024-06-01T04:59:30+02:00", "2024-06-01T04:59:30.250+02:00",
        "2024-06-01T04:59:30.500+02:00"]
    assert all(r["start_time"] == "" for r in read_rows(base / "segments.csv", SEGMENT_FIELDS)
               if r["path"].endswith("notes.flac"))


def test_timezone_only_applies_to_names_without_a_zone(deployment, tmp_path):
    utc = run(deployment, tmp_path / "utc", timezone=None, out=tmp_path / "utc.csv")
    starts = {rel(deployment, r["path"]): r["start_time"] for r in utc["results"]}
    assert starts["A/20240601_045930.WAV"] == "2024-06-01T04:59:30+00:00"  # AudioMoth: UTC
    assert starts["A/665A8EB0.WAV"] == "2024-06-01T03:00:00+00:00"  # an instant
    assert starts["C/rec001.wav"] == "2024-06-01T05:10:00+00:00"  # its comment's zone
    with pytest.raises(ScatterError, match="timezone must be .*got 'Mars/Olympus'"):
        run(deployment, tmp_path / "bad", timezone="Mars/Olympus")


def test_audacity_labels_one_per_file_empty_without_detections(deployment, mixed):
    summary, base = mixed
    for r in summary["results"]:
        name = os.path.splitext(rel(deployment, r["path"]))[0]
        label_file = base / "labels" / f"{name}.txt"
        if r["error"]:
            assert not label_file.exists()
            continue
        labels = read_audacity_labels(label_file)
        if name == "C/notes" or name.startswith("B/S4A"):  # silent, or silent once mixed
            assert labels == [] and label_file.read_text() == ""
            continue
        assert labels, name
        lines = label_file.read_text().splitlines()
        for line, (begin, end, text) in zip(lines, labels, strict=True):
            assert line.count("\t") == 2 and 0 <= begin < end <= r["duration_s"]
            score = float(text.split()[-1])
            assert text == f"bird {score:.3f}" and THRESHOLD <= score <= r["score"] + 5e-4


def test_raven_tables_per_file_keep_below_each_files_nyquist(deployment, mixed):
    summary, base = mixed
    for r in summary["results"]:
        if r["error"]:
            continue
        name = os.path.splitext(rel(deployment, r["path"]))[0]
        path = base / "raven" / f"{name}.Table.1.selections.txt"
        text = path.read_text()
        assert text.startswith("Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\t"
                               "Low Freq (Hz)\tHigh Freq (Hz)\tScore\n")
        for row in table(path, "\t"):
            assert float(row["High Freq (Hz)"]) == min(SR / 2, r["sample_rate"] / 2)
        if name == "C/notes":
            assert text.count("\n") == 1  # the header alone


def test_whole_run_raven_table_is_in_ravens_format(deployment, mixed):
    summary, base = mixed
    text = (base / "run.selections.txt").read_text(encoding="utf-8")
    lines = text.split("\n")
    assert lines[-1] == "" and all(lines[:-1])  # one selection per line, no blank line
    header = lines[0].split("\t")
    assert header == list(RAVEN_RUN_FIELDS)
    assert header[:7] == ["Selection", "View", "Channel", "Begin Time (s)", "End Time (s)",
                          "Low Freq (Hz)", "High Freq (Hz)"]  # Raven's required columns
    assert all(len(line.split("\t")) == len(header) for line in lines[1:-1])
    assert '"' not in text  # tab-separated text, no quoting
    rows = table(base / "run.selections.txt", "\t")
    assert [int(r["Selection"]) for r in rows] == list(range(1, len(rows) + 1))
    assert {r["View"] for r in rows} == {"Spectrogram 1"}
    # Begin Time counts every scored file before this one, in the run's order
    scored = [r for r in summary["results"] if not r["error"]]
    starts = dict(zip((os.path.abspath(r["path"]) for r in scored),
                      np.cumsum([0.0] + [r["duration_s"] for r in scored[:-1]]), strict=True))
    rate = {os.path.abspath(r["path"]): r["sample_rate"] for r in scored}
    assert {r["Begin Path"] for r in rows} <= set(starts)
    for r in rows:
        begin, offset = float(r["Begin Time (s)"]), float(r["File Offset (s)"])
        assert begin == pytest.approx(starts[r["Begin Path"]] + offset, abs=2e-6)
        assert float(r["End Time (s)"]) > begin
        assert float(r["High Freq (Hz)"]) <= rate[r["Begin Path"]] / 2
    assert [float(r["Begin Time (s)"]) for r in rows] == sorted(
        float(r["Begin Time (s)"]) for r in rows)


def test_activity_table_per_site_and_hour(deployment, mixed):
    summary, base = mixed
    rows = read_activity_table(base / "activity.csv")
    assert [(r["site"], r["hour_start"]) for r in rows] == [
        ("A", "2024-06-01T04:00:00+02:00"), ("A", "2024-06-01T05:00:00+02:00"),
        ("B", "2024-06-01T05:00:00+02:00"), ("C", "2024-06-01T07:00:00+02:00"),
        ("C", "")]  # hours on the Berlin clock; notes.flac has no start time
    assert sum(int(r["windows"]) for r in rows) == summary["windows"]
    assert sum(float(r["recorded_s"]) for r in rows) == pytest.approx(summary["audio_s"])


def test_clips_of_the_best_detections_padded(deployment, mixed):
    summary, base = mixed
    clips = sorted(p for p in (base / "clips").rglob("*.wav"))
    names = [rel(base / "clips", p) for p in clips]
    assert len(names) == 4  # top 1 per file with detections
    for r in summary["results"]:
        labels = base / "labels" / (os.path.splitext(rel(deployment, r["path"]))[0] + ".txt")
        if r["error"] or not labels.exists() or not labels.read_text():
            continue
        (begin, end, text), = read_audacity_labels(labels)[:1]
        stem = os.path.splitext(rel(deployment, r["path"]))[0].replace("$", "_")
        clip = base / "clips" / f"{stem}_{begin:.3f}s_{float(text.split()[-1]):.3f}.wav"
        info = sf.info(clip)
        assert info.samplerate == r["sample_rate"]
        want = min(end + 0.5, r["duration_s"]) - max(begin - 0.5, 0.0)
        assert info.duration == pytest.approx(want, abs=2 / r["sample_rate"])


def test_feature_files_hold_every_window_and_the_layout(deployment, mixed):
    summary, base = mixed
    for r in summary["results"]:
        if r["error"]:
            continue
        name = os.path.splitext(rel(deployment, r["path"]))[0]
        f = read_features(base / "features" / f"{name}.npz")
        assert f["features"].shape == (r["n_windows"], 3) and f["layout"] == LAYOUT
        np.testing.assert_allclose(f["starts_s"], 0.25 * np.arange(r["n_windows"]))
        assert (f["meta"]["sr"], f["meta"]["window_s"], f["meta"]["hop_s"]) == (SR, 0.5, 0.25)


def test_provenance_in_the_settings_file_and_the_json_summary(mixed):
    summary, base = mixed
    settings = _json(settings_path(base / "results.csv"))
    report = json.loads((base / "run.json").read_text(encoding="utf-8"))
    for prov in (settings["provenance"], report["provenance"], summary["provenance"]):
        assert prov["threshold"] == THRESHOLD and prov["package_version"]
        assert "model_sha256" in prov
    assert settings["settings"]["threshold"] == THRESHOLD
    assert "channels" not in settings["settings"]  # a mixed run's settings, as ever


def test_channels_each_finds_a_call_the_mix_cancels(deployment, mixed, each):
    (mix, _), (every, base) = mixed, each
    name = "B/S4A01234_20240601_050010.flac"
    mixed_row, = [r for r in mix["results"] if rel(deployment, r["path"]) == name]
    rows = [r for r in every["results"] if rel(deployment, r["path"]) == name]
    assert mixed_row["label"] == 0 and mixed_row["channel"] is None
    assert [(r["channel"], r["label"]) for r in rows] == [(1, 1), (2, 1)]
    mono = [r for r in every["results"] if r["channels"] == 1 and not r["error"]]
    assert all(r["channel"] == 1 for r in mono)
    assert len(every["results"]) == len(mix["results"]) + 1  # the stereo file's second row
    stem = "B/S4A01234_20240601_050010"
    for folder, suffix in (("labels", ".txt"), ("raven", ".Table.1.selections.txt"),
                           ("features", ".npz")):
        assert sorted(p.name for p in (base / folder / "B").iterdir()
                      if p.name.startswith("S4A")) == [
            f"S4A01234_20240601_050010.ch1{suffix}", f"S4A01234_20240601_050010.ch2{suffix}"]
    assert {r["Channel"] for r in table(base / "raven" / f"{stem}.ch2.Table.1.selections.txt",
                                        "\t")} == {"2"}
    run_rows = table(base / "run.selections.txt", "\t")
    assert sorted({r["Channel"] for r in run_rows if "S4A" in r["Begin Path"]}) == ["1", "2"]
    assert sorted(p.name for p in (base / "clips" / "B").iterdir() if "S4A" in p.name)[0] \
        .startswith("S4A01234_20240601_050010.ch1_")
    settings = _json(settings_path(base / "results.csv"))
    assert settings["settings"]["channels"] == "each"
    segs = read_rows(base / "segments.csv", SEGMENT_FIELDS)
    assert {r["channel"] for r in segs if "S4A" in r["path"]} == {"1", "2"}


# --------------------------------------------------------------------------------------------
# resume


class StopAfter:
    """A scorer that fails on its ``n``-th call: the run stops, its outputs closed."""

    def __init__(self, n, feature=False):
        self.n, self.calls, self.feature = n, 0, feature

    def __call__(self, batch):
        self.calls += 1
        if self.calls >= self.n:
            raise RuntimeError("power cut")
        return loudness_features(batch) if self.feature else loudness(batch)


def _tree(base):
    """The outputs under ``base`` (path -> bytes or sorted lines), as a resumed run must
    leave them: the JSON (wall time) aside; journals in the order files finished (segments,
    the activity parts) compared as sorted lines."""
    out = {}
    for path in sorted(base.rglob("*")):
        if path.is_dir() or path.name == "run.json":
            continue
        if path.suffix == ".npz":  # a zip archive: its members carry the time they were made
            with np.load(path) as z:
                out[str(path.relative_to(base))] = {k: z[k].tobytes() for k in z.files}
            continue
        data = path.read_bytes()
        if path.name in ("segments.csv", "activity.csv.parts.csv"):
            data = sorted(data.splitlines())
        out[str(path.relative_to(base))] = data
    return out


@pytest.mark.parametrize("channels", ["mix", "each"])
def test_interrupted_run_resumes_to_the_uninterrupted_outputs(deployment, mixed, each,
                                                              tmp_path, channels):
    _, full = mixed if channels == "mix" else each
    base = tmp_path / "out"
    stop = StopAfter(5, feature=True)
    with pytest.raises(RuntimeError, match="power cut"):
        run(deployment, base, channels=channels, feature_scorer=stop)
    done = read_rows(base / "results.csv", RESULT_FIELDS)
    assert 0 < len({r["path"] for r in done}) < 7  # stopped midway
    summary = run(deployment, base, channels=channels, resume=True)
    assert summary["skipped"] == len({r["path"] for r in done if not r["error"]})
    assert _tree(base) == _tree(full)


def test_resume_keys_rows_by_path_and_channel(deployment, each, tmp_path):
    _, full = each
    base = tmp_path / "out"
    shutil.copytree(full, base)
    results = base / "results.csv"
    lines = results.read_text(encoding="utf-8").splitlines(keepends=True)
    ch2 = [i for i, line in enumerate(lines) if "S4A01234" in line and line.endswith(",2\n")]
    assert len(ch2) == 1
    del lines[ch2[0]]  # the stereo file's channel 2 row never reached the disk
    results.write_text("".join(lines), encoding="utf-8")
    seen = []

    class Seen(Output):
        def file_done(self, done):
            seen.append((os.path.basename(done.path), done.result.channel))

    summary = run(deployment, base, channels="each", resume=True, outputs=[Seen()])
    assert summary["skipped"] == 5 and summary["processed"] == 2  # the stereo file, broken
    assert ("S4A01234_20240601_050010.flac", 1) in seen and (
        "S4A01234_20240601_050010.flac", 2) in seen
    assert _tree(base) == _tree(full)  # no row twice, every output as the full run's


def test_an_error_row_removes_what_an_earlier_run_left(deployment, tmp_path):
    root = tmp_path / "dep"
    shutil.copytree(deployment, root)
    base = tmp_path / "out"
    run(root, base, channels="each")
    stereo = root / "B" / "S4A01234_20240601_050010.flac"
    assert list((base / "clips" / "B").glob("S4A*"))
    stereo.write_bytes(b"fLaC broken now")
    summary = run(root, base, channels="each")
    row, = [r for r in summary["results"] if r["path"] == str(stereo)]
    assert row["error"] and row["channel"] is None
    for folder in ("labels", "raven", "features", "clips"):
        assert not [p for p in (base / folder / "B").iterdir() if p.name.startswith("S4A")]


def test_option_errors_name_the_option(deployment, tmp_path):
    with pytest.raises(ScatterError, match=r"channels must be one of \('mix', 'each'\); "
                                           r"got 'both'"):
        run(deployment, tmp_path, channels="both")
    with pytest.raises(ScatterError, match="clips_top must be a non-negative integer.*got -1"):
        run(deployment, tmp_path, clips_top=-1)
    with pytest.raises(ScatterError, match="features_dir needs feature_scorer"):
        run(deployment, tmp_path, feature_scorer=None)
    with pytest.raises(ScatterError, match="features_pool must be one of"):
        run(deployment, tmp_path, features_pool="median")
    with pytest.raises(ScatterError, match="outputs must hold scatter.run.Output objects"):
        run(deployment, tmp_path, outputs=[print])
    with pytest.raises(ScatterError, match="raven_table: folder .* does not exist"):
        run(deployment, tmp_path, raven_table=tmp_path / "no" / "t.txt")
    assert not (tmp_path / "results.csv").exists()  # nothing was written


# --------------------------------------------------------------------------------------------
# the command line and scatter.detect.detect, with the shipped model


def _main(argv):
    from scatter.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def command(deployment, tmp_path_factory):
    """``scatter detect`` with every field option, the shipped model: (status, summary,
    output folder)."""
    base = tmp_path_factory.mktemp("command")
    argv = ["detect", str(deployment), "--recursive", "--out", str(base / "results.csv"),
            "--audacity", str(base / "labels"), "--raven", str(base / "raven"),
            "--raven-table", str(base / "run.txt"), "--activity", str(base / "activity.csv"),
            "--timezone", "Europe/Berlin", "--clips", str(base / "clips"), "--clips-top", "2",
            "--features", str(base / "features"), "--segments", str(base / "segments.csv"),
            "--json", "--quiet"]
    status, out, _ = _main(argv)
    return status, json.loads(out.strip().splitlines()[-1]), base


def test_command_line_writes_every_field_output(deployment, command):
    from scatter.detect import load_model
    from scatter.feature_files import feature_layout

    status, summary, base = command
    det = load_model("default")
    assert status == 3 and (summary["ok"], summary["errors"]) == (6, 1)  # the broken file
    assert summary["provenance"]["model_sha256"] == det.fingerprint
    assert summary["provenance"]["threshold"] == pytest.approx(det.threshold)
    rows = read_rows(base / "results.csv", RESULT_FIELDS)
    assert {rel(deployment, r["path"]): r["start_time"] for r in rows
            if not r["error"]} == {n: spec[5] for n, spec in DEPLOYMENT.items()}
    for name in DEPLOYMENT:
        stem = os.path.splitext(name)[0]
        assert (base / "labels" / f"{stem}.txt").exists()
        assert (base / "raven" / f"{stem}.Table.1.selections.txt").exists()
        f = read_features(base / "features" / f"{stem}.npz")
        assert f["features"].shape == (len(f["starts_s"]), det.features.n_features)
        assert f["layout"] == feature_layout(det) and f["meta"]["model"] == det.fingerprint
    header = (base / "run.txt").read_text().split("\n", 1)[0].split("\t")
    assert header == list(RAVEN_RUN_FIELDS)
    assert {r["site"] for r in read_activity_table(base / "activity.csv")} == {"A", "B", "C"}
    settings = _json(settings_path(base / "results.csv"))
    assert settings["provenance"]["model_sha256"] == det.fingerprint


@pytest.mark.parametrize("argv, message", [
    (["--timezone", "Mars/Olympus"], "--timezone: timezone must be"),
    (["--clips-top", "-1"], "--clips-top: expected an integer >= 0"),
    (["--channels", "both"], "--channels: invalid choice"),
    (["--features-pool", "median"], "--features-pool: invalid choice"),
])
def test_command_line_usage_errors_exit_2(deployment, tmp_path, argv, message):
    status, _, err = _main(["detect", str(deployment), "--out", str(tmp_path / "r.csv"),
                            *argv])
    assert status == 2 and message in err
    assert not (tmp_path / "r.csv").exists()


@pytest.mark.slow
def test_command_line_plots_timelines_and_diel_activity(deployment, tmp_path):
    pytest.importorskip("matplotlib")
    status, _, _ = _main(["detect", str(deployment), "--recursive", "--quiet",
                          "--out", str(tmp_path / "r.csv"), "--plots", str(tmp_path / "figs"),
                          "--activity", str(tmp_path / "activity.csv"), "--channels", "each"])
    assert status == 3
    pngs = sorted(rel(tmp_path / "figs", p) for p in (tmp_path / "figs").rglob("*.png"))
    assert "B/S4A01234_20240601_050010.ch2.png" in pngs
    assert {"A.diel.png", "B.diel.png", "C.diel.png"} <= set(pngs)


class NanOnChannel2(ScoringBackend):
    """The local windows and scores, but the second channel's first score is NaN."""

    def score_files(self, paths, framing):
        for file_id, path in enumerate(paths):
            outcome, _ = score_file(file_id, path, framing, loudness, batch_size=4)
            if isinstance(outcome, FileScored) and outcome.tracks.shape[0] == 2:
                scores = outcome.tracks.copy()
                scores[1, 0] = np.nan
                outcome = dataclasses.replace(outcome, scores=scores)
            yield outcome


def test_a_channel_without_finite_scores_is_its_own_error_row(deployment, tmp_path):
    framing = Framing(sr=SR, window=4000, hop=2000, channels="each")
    outputs = [ActivityOutput(str(tmp_path / "activity.csv")),
               RavenRunTableOutput(str(tmp_path / "run.txt")), ResultsCsv(str(tmp_path / "r.csv"))]
    summary = DetectionRun(
        [str(deployment)], backend=NanOnChannel2(), framing=framing, threshold=THRESHOLD,
        aggregate=np.max, recursive=True, quiet=True, outputs=outputs,
        settings=run_settings(sr=SR, window=4000, hop=2000, threshold=THRESHOLD,
                              aggregate="max", scorer_id=None, channels="each")).run()
    rows = [r for r in summary["results"] if "S4A" in r["path"]]
    assert [(r["channel"], bool(r["error"])) for r in rows] == [(1, False), (2, True)]
    assert "non-finite score" in rows[1]["error"]
    assert "S4A" in "".join(r["Begin Path"] for r in table(tmp_path / "run.txt", "\t"))
    # every file counted once in the activity, the stereo file from its one finite channel
    assert sum(int(r["windows"]) for r in read_activity_table(tmp_path / "activity.csv")) == \
        sum(r["n_windows"] for r in summary["results"] if not r["error"])
