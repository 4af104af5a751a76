"""Tests of scatter.runner on generated folders of good, odd and broken recordings."""

import csv
import functools
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import librosa
import numpy as np
import pytest
import soundfile as sf

from scatter import ScatterError
from scatter.outputs import RESULT_FIELDS, SEGMENT_FIELDS, read_rows
from scatter.run import (
    DetectionRun,
    FileFailed,
    FileScored,
    Framing,
    LocalThreads,
    Output,
    ResultsCsv,
    ScoringBackend,
)
from scatter.run.decode import decode_file
from scatter.run.settings import run_settings
from scatter.runner import aggregate_scores, run_detection, settings_path

SR, WINDOW_S, HOP_S = 8000, 0.5, 0.25
WINDOW, HOP = 4000, 2000


def rms_scorer(batch):
    """A stand-in model: window loudness, squashed into [0, 1]."""
    assert batch.dtype == np.float32 and batch.ndim == 2
    return np.tanh(4 * np.sqrt(np.mean(batch.astype(np.float64) ** 2, axis=1)))


def tone(rng, n, channels=1, sr=44100, amp=0.3):
    t = np.arange(n) / sr
    x = amp * np.sin(2 * np.pi * 700 * t)[:, None] + 0.05 * rng.standard_normal((n, channels))
    return (x * np.linspace(0, 1, n)[:, None]).astype(np.float32)


GOOD = {  # name: (seconds, channels, sample rate, format, subtype)
    "tone.wav": (2.3, 1, 44100, "WAV", "PCM_16"),
    "stereo.flac": (1.1, 2, 22050, "FLAC", "PCM_24"),
    "six channels.wav": (0.8, 6, 48000, "WAV", "FLOAT"),
    "low 8k.wav": (1.7, 1, 8000, "WAV", "PCM_16"),
    "high 192k.flac": (0.4, 1, 192000, "FLAC", "PCM_24"),
    "vorbis.ogg": (1.3, 1, 44100, "OGG", "VORBIS"),
    "mpeg.mp3": (1.5, 1, 44100, "MP3", "MPEG_LAYER_III"),
    "chant d'oiseau – 鳥.wav": (0.6, 1, 16000, "WAV", "PCM_16"),
}


@pytest.fixture
def corpus(tmp_path, rng):
    """A folder of decodable and undecodable files; returns (folder, good names, bad names)."""
    d = tmp_path / "rec"
    d.mkdir()
    for name, (secs, ch, sr, fmt, sub) in GOOD.items():
        sf.write(d / name, tone(rng, int(secs * sr), ch, sr), sr, format=fmt, subtype=sub)
    sf.write(d / "silence.wav", np.zeros(9000, np.float32), 16000)
    sf.write(d / "few.wav", tone(rng, 3), 44100)
    sf.write(d / "long.flac", tone(rng, 44100 * 9), 44100, subtype="PCM_16")
    os.symlink(d / "tone.wav", d / "link to tone.wav")
    undecodable_name = os.fsdecode(b"name not utf-8 \xff.wav")  # possible on Linux
    sf.write(os.fsencode(d / undecodable_name), tone(rng, 5000), 8000)
    good = sorted(GOOD) + ["silence.wav", "few.wav", "long.flac", "link to tone.wav",
                           undecodable_name]
    (d / "empty.wav").write_bytes(b"")
    (d / "header.wav").write_bytes((d / "tone.wav").read_bytes()[:30])
    (d / "random.wav").write_bytes(rng.bytes(3000))
    (d / "random.mp3").write_bytes(rng.bytes(9000))
    data = (d / "long.flac").read_bytes()
    (d / "cut.flac").write_bytes(data[: len(data) // 2])
    os.symlink(d / "gone.wav", d / "broken.wav")
    nan = tone(rng, 5000)
    nan[2500] = np.inf
    sf.write(d / "inf.wav", nan, 8000, subtype="FLOAT")
    sf.write(d / "zero.wav", np.zeros(0, np.float32), 8000)
    (d / "notes.txt").write_text("field notes, not audio")
    bad = {"empty.wav": r"empty file", "header.wav": "cannot decode audio",
           "random.wav": "cannot decode audio", "random.mp3": "cannot decode audio",
           "cut.flac": "cannot decode audio after", "broken.wav": "broken symbolic link",
           "inf.wav": "non-finite sample", "zero.wav": "no audio frames"}
    return d, good, bad


def reference_starts(n):
    """Window starts (samples) of ``n`` samples: every HOP until the first window that reaches
    the end, which is moved back to end at the file's end; under one window, one window."""
    count = 1 + max(0, math.ceil((n - WINDOW) / HOP))
    starts = [k * HOP for k in range(count)]
    if n >= WINDOW:
        starts[-1] = n - WINDOW
    return starts


def reference_windows(path):
    data, native = sf.read(os.fsencode(path), dtype="float32", always_2d=True)
    y = librosa.to_mono(data.T) if data.shape[1] > 1 else data[:, 0]
    if native != SR:
        y = librosa.resample(y, orig_sr=native, target_sr=SR, res_type="soxr_hq")
    starts = reference_starts(len(y))
    padded = np.zeros(max(len(y), WINDOW), np.float32)
    padded[: len(y)] = y
    frames = np.stack([padded[s: s + WINDOW] for s in starts])
    return frames, len(y), data.shape[0] / native, native, data.shape[1]


def run(folder, tmp_path, **kwargs):
    opts = dict(scorer=rms_scorer, sr=SR, window_s=WINDOW_S, hop_s=HOP_S, batch_size=8,
                workers=2, out=tmp_path / "results.csv", segments_out=tmp_path / "segs.csv",
                raven_dir=tmp_path / "raven", json_out=tmp_path / "results.json",
                threshold=0.3, quiet=True)
    opts.update(kwargs)
    return run_detection(folder, **opts)


def test_mixed_folder_every_file_gets_a_row(corpus, tmp_path):
    folder, good, bad = corpus
    summary = run(folder, tmp_path)
    rows = {os.path.basename(r["path"]): r for r in read_rows(tmp_path / "results.csv",
                                                                RESULT_FIELDS)}
    assert sorted(rows) == sorted(good + list(bad))  # notes.txt ignored, nothing lost
    segs = read_rows(tmp_path / "segs.csv", SEGMENT_FIELDS)
    for name in good:
        row = rows[name]
        frames, n, duration, native, channels = reference_windows(str(folder / name))
        scores = rms_scorer(frames)
        assert row["error"] == ""
        assert float(row["score"]) == pytest.approx(scores.max(), rel=1e-5, abs=1e-6)
        assert int(row["label"]) == int(float(row["score"]) >= 0.3)
        assert int(row["n_windows"]) == len(frames)
        assert float(row["duration_s"]) == pytest.approx(duration, abs=1e-6)
        assert (int(row["sample_rate"]), int(row["channels"])) == (native, channels)
        mine = [s for s in segs if s["path"] == row["path"]]
        assert [float(s["start_s"]) for s in mine] == pytest.approx(
            np.array(reference_starts(n)) / SR)
        assert float(mine[-1]["end_s"]) == pytest.approx(n / SR)
        np.testing.assert_allclose([float(s["score"]) for s in mine], scores, rtol=1e-5,
                                   atol=1e-6)
        table = tmp_path / "raven" / (os.path.splitext(name)[0] + ".Table.1.selections.txt")
        assert table.exists()
    for name, message in bad.items():
        row = rows[name]
        assert row["score"] == row["label"] == row["n_windows"] == ""
        assert message in row["error"] and name in row["error"]
        assert not (tmp_path / "raven" / (os.path.splitext(name)[0]
                                          + ".Table.1.selections.txt")).exists()
    assert rows["few.wav"]["n_windows"] == "1" and rows["silence.wav"]["score"] == "0"
    assert summary["ok"] == len(good) and summary["errors"] == len(bad)
    assert summary["files"] == summary["processed"] == len(good) + len(bad)
    assert summary["windows"] == len(segs) == sum(int(rows[g]["n_windows"]) for g in good)
    assert summary["positives"] == sum(rows[g]["label"] == "1" for g in good)
    # windows of files that fail midway (cut.flac, inf.wav) are batched, then dropped
    assert summary["batches"] >= math.ceil(summary["windows"] / 8)
    for table in (rows.values(), segs):  # never a NaN or infinity in the output
        assert all(math.isfinite(float(r["score"])) for r in table if r["score"])
    doc = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert doc["summary"]["errors"] == len(bad)
    assert [f["path"] for f in doc["files"]] == [r["path"] for r in read_rows(
        tmp_path / "results.csv", RESULT_FIELDS)] == [f["path"] for f in summary["results"]]


def test_folder_named_like_audio_and_unreadable_file(tmp_path, rng, monkeypatch):
    import scatter.audio as audio

    (tmp_path / "x.wav").mkdir()  # a folder, whatever its name: scanned, never decoded
    sf.write(tmp_path / "locked.wav", tone(rng, 800), 8000)
    sf.write(tmp_path / "ok.wav", tone(rng, 800), 8000)
    real_open = open

    def guarded_open(path, *args, **kwargs):
        if os.fspath(path).endswith("locked.wav"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(audio, "open", guarded_open, raising=False)
    for paths in ([tmp_path], [tmp_path / "x.wav", tmp_path / "locked.wav", tmp_path / "ok.wav"]):
        summary = run_detection(paths, scorer=rms_scorer, sr=SR, window_s=WINDOW_S,
                                quiet=True, recursive=True)
        results = summary["results"]
        assert [os.path.basename(r["path"]) for r in results] == ["locked.wav", "ok.wav"]
        assert "permission denied" in results[0]["error"] and results[0]["score"] is None
        assert results[1]["error"] == "" and results[1]["score"] > 0


def test_windows_are_batched_across_files(tmp_path, rng):
    for i in range(5):  # 5 short files of 1 window each
        sf.write(tmp_path / f"f{i}.wav", tone(rng, 3000, sr=SR), SR)
    shapes = []

    def scorer(batch):
        shapes.append(batch.shape)
        return rms_scorer(batch)

    summary = run_detection(tmp_path, scorer=scorer, sr=SR, window_s=WINDOW_S, batch_size=4,
                            workers=1, quiet=True)
    assert shapes == [(4, WINDOW), (4, WINDOW)] and summary["batches"] == 2
    shapes.clear()
    run_detection(tmp_path, scorer=scorer, sr=SR, window_s=WINDOW_S, batch_size=4,
                  fixed_batch=False, quiet=True)
    assert shapes == [(4, WINDOW), (1, WINDOW)]


def snapshot(tmp_path):
    tables = {p.name: p.read_bytes() for p in sorted((tmp_path / "raven").rglob("*.txt"))}
    segs = read_rows(tmp_path / "segs.csv", SEGMENT_FIELDS)
    return ((tmp_path / "results.csv").read_bytes(),
            sorted(tuple(r.values()) for r in segs), tables, len(segs))


def test_interrupted_run_resumes_to_the_same_results(corpus, tmp_path):
    folder, good, bad = corpus
    full_dir, cut_dir = tmp_path / "full", tmp_path / "cut"
    full_dir.mkdir()
    cut_dir.mkdir()
    run(folder, full_dir)
    expected = snapshot(full_dir)
    calls = []

    def interrupted(batch):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return rms_scorer(batch)

    with pytest.raises(KeyboardInterrupt):
        run(folder, cut_dir, scorer=interrupted)
    partial = read_rows(cut_dir / "results.csv", RESULT_FIELDS)
    full_rows = {r["path"]: r for r in read_rows(full_dir / "results.csv", RESULT_FIELDS)}
    assert 0 < len(partial) < len(full_rows)
    for row in partial:  # every finished file is there, whole and right
        assert row == full_rows[row["path"]]
    summary = run(folder, cut_dir, resume=True)
    assert summary["skipped"] == sum(r["error"] == "" for r in partial)
    assert summary["processed"] == len(full_rows) - summary["skipped"]
    assert snapshot(cut_dir) == expected  # same bytes, no duplicate rows
    again = run(folder, cut_dir, resume=True)  # errors are retried, scored files skipped
    assert again["processed"] == len(bad) and snapshot(cut_dir) == expected


CHILD = r"""
import faulthandler, signal, sys, time
import numpy as np
from scatter.runner import run_detection

faulthandler.register(signal.SIGUSR1, all_threads=True)  # stacks on stderr, if it hangs
# Ctrl-C as in a terminal, even where this process inherited SIGINT ignored (a shell's
# background job, or a test runner that restored an ignored disposition)
signal.signal(signal.SIGINT, signal.default_int_handler)

calls = []

def scorer(batch):
    calls.append(1)
    while len(calls) >= 4:  # hang on the 4th batch until Ctrl-C
        time.sleep(0.01)
    return np.tanh(4 * np.sqrt(np.mean(batch.astype(np.float64) ** 2, axis=1)))

run_detection(sys.argv[1], scorer=scorer, sr=8000, window_s=0.5, hop_s=0.25, batch_size=2,
              workers=1, out=sys.argv[2], segments_out=sys.argv[3], quiet=True)
"""


@pytest.mark.slow
def test_sigint_leaves_valid_outputs_and_resume_completes(tmp_path, rng):
    folder = tmp_path / "rec"
    folder.mkdir()
    for i in range(8):
        sf.write(folder / f"clip{i}.wav", tone(rng, 3000, sr=SR), SR)
    out, segs = tmp_path / "results.csv", tmp_path / "segs.csv"
    pythonpath = [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in pythonpath if p)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, folder, out, segs], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120  # a liveness guard, not a timing assertion
        while time.monotonic() < deadline and child.poll() is None:
            if out.exists() and len(read_rows(out, RESULT_FIELDS)) >= 2:
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
            pytest.fail("the run did not stop within 60 s of SIGINT; its threads:\n"
                        + err.decode(errors="replace"))
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()  # reap it and close the pipes
    assert child.returncode != 0 and b"KeyboardInterrupt" in err
    partial = read_rows(out, RESULT_FIELDS)
    assert 2 <= len(partial) < 8 and all(r["error"] == "" for r in partial)
    opts = dict(scorer=rms_scorer, sr=SR, window_s=WINDOW_S, hop_s=HOP_S, quiet=True)
    resumed = run_detection(folder, out=out, segments_out=segs, resume=True, **opts)
    assert (resumed["skipped"], resumed["processed"]) == (len(partial), 8 - len(partial))
    ref_dir = tmp_path / "ref"
    ref_dir.mkdir()
    run_detection(folder, out=ref_dir / "r.csv", segments_out=ref_dir / "s.csv", **opts)
    assert out.read_bytes() == (ref_dir / "r.csv").read_bytes()
    assert sorted(map(tuple, (r.values() for r in read_rows(segs, SEGMENT_FIELDS)))) == sorted(
        map(tuple, (r.values() for r in read_rows(ref_dir / "s.csv", SEGMENT_FIELDS))))


def test_resume_retries_a_repaired_file(tmp_path, rng):
    (tmp_path / "a.wav").write_bytes(b"not audio at all")
    sf.write(tmp_path / "b.wav", tone(rng, 4000, sr=SR), SR)
    out = tmp_path / "r.csv"
    first = run_detection(tmp_path, scorer=rms_scorer, sr=SR, window_s=WINDOW_S, out=out,
                          quiet=True)
    assert first["errors"] == 1
    sf.write(tmp_path / "a.wav", tone(rng, 4000, sr=SR), SR)
    second = run_detection(tmp_path, scorer=rms_scorer, sr=SR, window_s=WINDOW_S, out=out,
                           resume=True, quiet=True)
    assert (second["skipped"], second["processed"], second["errors"]) == (1, 1, 0)
    rows = read_rows(out, RESULT_FIELDS)
    assert [os.path.basename(r["path"]) for r in rows] == ["a.wav", "b.wav"]
    assert all(r["error"] == "" for r in rows)


def test_resume_refuses_other_settings(tmp_path, rng):
    for i in range(3):
        sf.write(tmp_path / f"f{i}.wav", tone(rng, 6000, sr=SR), SR)
    out, segs = tmp_path / "out" / "r.csv", tmp_path / "out" / "s.csv"
    out.parent.mkdir()
    opts = dict(scorer=rms_scorer, sr=SR, window_s=WINDOW_S, hop_s=HOP_S, out=out,
                segments_out=segs, quiet=True, scorer_id={"model": "a"})
    first = run_detection(tmp_path, **opts)
    settings = settings_path(out)
    assert settings == str(out) + ".settings.json" and first["outputs"]["settings"] == settings
    with open(settings) as fh:
        stored = json.load(fh)["settings"]
    assert stored == {"sr": SR, "window_s": WINDOW_S, "hop_s": HOP_S, "threshold": 0.5,
                      "aggregate": "max", "scorer": {"model": "a"}}
    before = {p: p.read_bytes() for p in (out, segs, Path(settings))}
    for change, message in [({"hop_s": 0.125}, "hop_s 0.25 -> 0.125"),
                            ({"scorer_id": {"model": "b"}},
                             "scorer {'model': 'a'} -> {'model': 'b'}"),
                            ({"threshold": 0.7}, "threshold 0.5 -> 0.7"),
                            ({"aggregate": "mean"}, "aggregate 'max' -> 'mean'"),
                            ({"sr": 16000}, "sr 8000 -> 16000")]:
        with pytest.raises(ScatterError, match="cannot resume: .*" + re.escape(message)):
            run_detection(tmp_path, **{**opts, **change, "resume": True})
        assert {p: p.read_bytes() for p in before} == before  # nothing rewritten
    again = run_detection(tmp_path, **{**opts, "resume": True})  # the same settings resume
    assert (again["skipped"], again["processed"]) == (3, 0)
    assert {p: p.read_bytes() for p in before} == before
    # a fresh run (no resume) with other settings replaces the results and the settings
    run_detection(tmp_path, **{**opts, "hop_s": 0.125})
    with open(settings) as fh:
        assert json.load(fh)["settings"]["hop_s"] == 0.125


def test_resume_without_or_with_a_bad_settings_file(tmp_path, rng):
    sf.write(tmp_path / "a.wav", tone(rng, 6000, sr=SR), SR)
    out = tmp_path / "out" / "r.csv"
    out.parent.mkdir()
    opts = dict(scorer=rms_scorer, sr=SR, window_s=WINDOW_S, out=out, quiet=True)
    run_detection(tmp_path / "a.wav", **opts)
    settings = Path(settings_path(out))
    settings.unlink()  # as left by an older version: resume warns, goes on, and records them
    with pytest.warns(UserWarning, match="resume cannot check"):
        summary = run_detection(tmp_path / "a.wav", resume=True, **opts)
    assert summary["skipped"] == 1 and settings.exists()
    results = out.read_bytes()
    for text in ("{not json", '{"other": 1}', '{"settings": [1]}'):
        settings.write_text(text)
        with pytest.raises(ScatterError, match="cannot read the settings of the run"):
            run_detection(tmp_path / "a.wav", resume=True, **opts)
        assert settings.read_text() == text and out.read_bytes() == results
    with pytest.raises(ScatterError, match="scorer_id must be JSON-serialisable"):
        run_detection(tmp_path / "a.wav", scorer_id=object(), **opts)


def test_scorer_failure_stops_the_run_with_valid_outputs(corpus, tmp_path):
    folder, _, _ = corpus
    calls = []

    def failing(batch):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("model exploded")
        return rms_scorer(batch)

    with pytest.raises(RuntimeError, match="model exploded"):
        run(folder, tmp_path, scorer=failing)
    rows = read_rows(tmp_path / "results.csv", RESULT_FIELDS)
    assert all(r["path"].startswith(str(folder)) for r in rows)
    with pytest.raises(ScatterError, match=r"one score per window, shape \(8,\); got shape "
                                           r"\(8, 2\)"):
        run(folder, tmp_path, scorer=lambda b: np.zeros((len(b), 2)))


def test_non_finite_scores_become_an_error_row(tmp_path, rng):
    sf.write(tmp_path / "loud.wav", np.ones(6000, np.float32) * 0.99, SR, subtype="FLOAT")
    sf.write(tmp_path / "soft.wav", tone(rng, 6000, sr=SR, amp=0.1), SR)

    def scorer(batch):
        s = rms_scorer(batch)
        return np.where(np.abs(batch).max(axis=1) > 0.95, np.nan, s)

    summary = run_detection(tmp_path, scorer=scorer, sr=SR, window_s=WINDOW_S,
                            out=tmp_path / "r.csv", quiet=True)
    loud, soft = summary["results"]
    assert "non-finite score (nan)" in loud["error"] and loud["score"] is None
    assert soft["error"] == "" and math.isfinite(soft["score"])
    assert "nan," not in (tmp_path / "r.csv").read_text()


def test_progress_bar(tmp_path, rng, capsys):
    sf.write(tmp_path / "a.wav", tone(rng, 4000, sr=SR), SR)
    run_detection(tmp_path, scorer=rms_scorer, sr=SR, window_s=WINDOW_S, quiet=False)
    err = capsys.readouterr().err
    assert "1/1 files" in err and "h audio" in err and "x real time" in err and "ETA" in err
    run_detection(tmp_path, scorer=rms_scorer, sr=SR, window_s=WINDOW_S, quiet=True)
    assert capsys.readouterr().err == ""


def test_aggregate_scores(rng):
    s = rng.uniform(size=50)
    assert aggregate_scores(s) == s.max()
    assert aggregate_scores(s, method="mean") == pytest.approx(s.mean())
    smooth = aggregate_scores(s, method="smoothmax", beta=20.0)
    assert s.mean() <= smooth <= s.max()
    assert smooth >= s.max() - math.log(len(s)) / 20.0
    assert aggregate_scores(s, method="smoothmax", beta=1e4) == pytest.approx(s.max(),
                                                                              abs=1e-3)
    assert aggregate_scores(s, method="smoothmax", beta=1e-6) == pytest.approx(s.mean())
    with pytest.raises(ScatterError, match="at least one window score"):
        aggregate_scores([])
    with pytest.raises(ScatterError, match=r"must be finite; got \[nan\]"):
        aggregate_scores([0.1, np.nan])
    with pytest.raises(ScatterError, match="method must be one of .*; got 'median'"):
        aggregate_scores(s, method="median")
    with pytest.raises(ScatterError, match="beta must be a positive finite number; got 0"):
        aggregate_scores(s, method="smoothmax", beta=0)


def test_custom_aggregate(tmp_path, rng):
    sf.write(tmp_path / "a.wav", tone(rng, 20000, sr=SR), SR)
    s = run_detection(tmp_path, scorer=rms_scorer, sr=SR, window_s=WINDOW_S, quiet=True,
                      aggregate=lambda x: float(np.median(x)))
    frames = reference_windows(str(tmp_path / "a.wav"))[0]
    assert s["results"][0]["score"] == pytest.approx(np.median(rms_scorer(frames)), rel=1e-5)


def test_on_file_callback_and_jax_scorer_compiles_once(tmp_path, rng):
    import jax
    import jax.numpy as jnp

    for i, n in enumerate([3000, 17000, 9000]):
        sf.write(tmp_path / f"f{i}.wav", tone(rng, n, sr=SR), SR)
    (tmp_path / "f3.wav").write_bytes(b"RIFF")
    traces = []

    @jax.jit
    def scorer(batch):
        traces.append(batch.shape)  # runs once per compilation
        return jnp.tanh(4 * jnp.sqrt(jnp.mean(batch**2, axis=1)))

    seen = []
    summary = run_detection(tmp_path, scorer=scorer, sr=SR, window_s=WINDOW_S, hop_s=HOP_S,
                            batch_size=4, quiet=True,
                            on_file=lambda *args: seen.append(args))
    assert traces == [(4, WINDOW)] and summary["batches"] > 1
    assert sorted(os.path.basename(r.path) for r, *_ in seen) == [f"f{i}.wav" for i in range(4)]
    for result, starts, ends, scores in seen:
        if not result.ok:
            assert "cannot decode" in result.error and len(scores) == 0
            continue
        frames = reference_windows(result.path)[0]
        assert len(starts) == len(ends) == len(scores) == result.n_windows == len(frames)
        np.testing.assert_allclose(scores, rms_scorer(frames), rtol=1e-5, atol=1e-6)
        assert result.score == scores.max()


@pytest.mark.parametrize("kwargs, message", [
    ({"sr": 0}, "sr must be a positive integer sample rate in Hz; got 0"),
    ({"window_s": -1.0}, "window_s must be a positive number of seconds; got -1.0"),
    ({"hop_s": 0.6}, "hop_s must be at most window_s=0.5 .*got hop_s=0.6"),
    ({"batch_size": 0}, "batch_size must be a positive integer; got 0"),
    ({"workers": 1.5}, "workers must be a positive integer; got 1.5"),
    ({"threshold": float("nan")}, "threshold must be a finite number; got nan"),
    ({"aggregate": "median"}, "aggregate must be one of .* or a callable; got 'median'"),
    ({"scorer": None}, "scorer must be a callable"),
    ({"on_file": 3}, "on_file must be a callable or None; got 3"),
    ({"resume": True}, "resume=True needs out="),
    ({"out": "/no/such/folder/r.csv"}, "out: folder '/no/such/folder' of .* does not exist"),
    ({"raven_band_hz": (5000, 100)}, r"raven_band_hz must be .*got \(5000, 100\)"),
])
def test_option_errors(tmp_path, rng, kwargs, message):
    sf.write(tmp_path / "a.wav", tone(rng, 100, sr=SR), SR)
    opts = {"scorer": rms_scorer, "sr": SR, "window_s": WINDOW_S, "quiet": True, **kwargs}
    with pytest.raises(ScatterError, match=message):
        run_detection(tmp_path, **opts)


def test_missing_input_and_bad_resume_file(tmp_path, rng):
    with pytest.raises(ScatterError, match="no such file or folder"):
        run_detection(tmp_path / "nope", scorer=rms_scorer, sr=SR, window_s=WINDOW_S)
    sf.write(tmp_path / "a.wav", tone(rng, 100, sr=SR), SR)
    bogus = tmp_path / "r.csv"
    bogus.write_text("name,value\n")
    with pytest.raises(ScatterError, match="header is"):
        run_detection(tmp_path / "a.wav", scorer=rms_scorer, sr=SR, window_s=WINDOW_S,
                      out=bogus, resume=True, quiet=True)
    assert Path(bogus).read_text() == "name,value\n"  # not overwritten
    with open(bogus, newline="") as fh:
        assert list(csv.reader(fh)) == [["name", "value"]]


# --------------------------------------------------------------------------------------------
# the parts of a run (scatter.run): outputs and backends plug in


def small_folder(tmp_path, rng):
    d = tmp_path / "rec"
    d.mkdir()
    for name, n in (("a.wav", 3000), ("b.wav", 17000), ("c.wav", 9000)):
        sf.write(d / name, tone(rng, n, sr=SR), SR)
    (d / "d.wav").write_bytes(b"RIFF")
    return d


class Recorder(Output):
    """An output that records the hooks it is called with."""

    def __init__(self):
        self.calls = []

    def resume(self, kept):
        self.calls.append(("resume", sorted(os.path.basename(k) for k in kept)))

    def begin(self, run):
        self.calls.append(("begin", len(run.paths), len(run.todo)))

    def file_done(self, done):
        self.calls.append(("file_done", os.path.basename(done.path), done.result.ok,
                           len(done.scores)))

    def end(self, rows, summary):
        self.calls.append(("end", len(rows), summary["ok"]))

    def close(self):
        self.calls.append(("close",))


def detection_run(folder, out, *, backend=None, outputs=(), resume=False, scorer=rms_scorer):
    return DetectionRun(
        folder, backend=backend or LocalThreads(scorer, batch_size=4),
        framing=Framing(sr=SR, window=WINDOW, hop=HOP), threshold=0.3, aggregate=np.max,
        settings=run_settings(sr=SR, window=WINDOW, hop=HOP, threshold=0.3, aggregate="max",
                              scorer_id=None),
        outputs=[*outputs, ResultsCsv(str(out))], resume_from=str(out) if resume else None,
        quiet=True)


def test_an_output_sees_each_hook_in_order(tmp_path, rng):
    folder = small_folder(tmp_path, rng)
    out = tmp_path / "r.csv"
    first = Recorder()
    summary = detection_run(folder, out, outputs=[first]).run()
    assert first.calls[0] == ("begin", 4, 4) and first.calls[-2:] == [("end", 4, 3), ("close",)]
    done = sorted(c[1:] for c in first.calls[1:-2])
    assert done == [("a.wav", True, 1), ("b.wav", True, 8), ("c.wav", True, 4),
                    ("d.wav", False, 0)]
    assert summary["outputs"]["results"] == str(out)
    run = detection_run(folder, tmp_path / "once.csv")
    run.run()
    with pytest.raises(ScatterError, match="a DetectionRun runs once"):
        run.run()
    again = Recorder()
    detection_run(folder, out, outputs=[again], resume=True).run()
    assert again.calls == [("resume", ["a.wav", "b.wav", "c.wav"]), ("begin", 4, 1),
                           ("file_done", "d.wav", False, 0), ("end", 4, 0), ("close",)]
    # a run that stops (a fault of the scorer) closes every output, without end()
    stopped = Recorder()

    def failing(batch):
        raise RuntimeError("model exploded")

    with pytest.raises(RuntimeError, match="model exploded"):
        detection_run(folder, tmp_path / "x.csv", outputs=[stopped], scorer=failing).run()
    assert [c[0] for c in stopped.calls if c[0] != "file_done"] == ["begin", "close"]


def _keep(messages, message):
    messages.append(message)
    return True  # go on decoding


class WholeFiles(ScoringBackend):
    """A backend as a cluster would run it: one task per file (decode it whole, score all its
    windows in one call), the outcomes collected last file first."""

    def __init__(self, scorer):
        self.scorer, self.calls = scorer, 0

    @property
    def n_batches(self):
        return self.calls

    def score_files(self, paths, framing):
        for file_id in reversed(range(len(paths))):
            messages = []
            decode_file(file_id, paths[file_id], framing, functools.partial(_keep, messages))
            if isinstance(messages[-1], FileFailed):
                yield messages[-1]
                continue
            done = messages[-1]
            windows = np.concatenate([m.windows for m in messages[:-1]])
            self.calls += 1
            yield FileScored(file_id, done.info, done.frames_read, done.n_samples,
                             np.asarray(self.scorer(windows), dtype=np.float64))


def test_another_backend_gives_the_same_outputs(tmp_path, rng):
    folder = small_folder(tmp_path, rng)
    local = detection_run(folder, tmp_path / "local.csv").run()
    backend = WholeFiles(rms_scorer)
    other = detection_run(folder, tmp_path / "other.csv", backend=backend).run()
    assert other["results"] == local["results"] and other["batches"] == backend.calls == 3
    assert (tmp_path / "other.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
