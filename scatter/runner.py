"""Batch runner of the detector: files in, per-window and per-file scores out.

:func:`run_detection` streams every file through :mod:`scatter.audio` in worker threads
(decoding runs ahead of compute), batches the windows of all files together, calls a scorer
on each batch, turns each file's window scores into a file score, and writes the outputs of
:mod:`scatter.outputs` as files finish. The model is not part of this module: ``scorer`` is
any callable from a float32 batch of windows ``(batch, n_samples)`` to scores ``(batch,)``.

What happens to odd input (each case gives one results row; none stops the run):

- decodable audio always gets a score: silence, a few samples (zero-padded to one window),
  many channels (averaged), any sample rate (resampled to ``sr``), odd names, links;
- a file that cannot be decoded (empty, corrupt or truncated header, not audio, a folder,
  a broken link, no permission, a decoding failure midway) gets an ``error`` row;
- a file with zero frames, or with NaN/infinite samples, gets an ``error`` row: no score is
  made up for it, and no NaN is ever written;
- a non-finite score from the scorer gives that file an ``error`` row.

An exception raised by the scorer itself stops the run (it is a fault of the model, not of one
file); as with Ctrl-C, the outputs then hold every finished file and ``resume=True`` completes
the rest.

Example
-------
>>> import numpy as np
>>> def scorer(batch):                       # loudness as a stand-in for a model
...     return np.sqrt(np.mean(batch ** 2, axis=1))
>>> summary = run_detection(["recordings/"], scorer=scorer, sr=22050, window_s=1.0,
...                         out="results.csv", quiet=True)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import queue
import threading
import time
import warnings

import numpy as np

from scatter.audio import AudioStream, Framer, find_audio
from scatter.errors import ScatterError
from scatter.outputs import (
    RESULT_FIELDS,
    SEGMENT_FIELDS,
    CsvJournal,
    FileResult,
    format_segment_rows,
    merge_detections,
    raven_table_paths,
    read_rows,
    write_json,
    write_raven_table,
)

__all__ = ["aggregate_scores", "run_detection", "settings_path"]

_AGGREGATES = ("max", "mean", "smoothmax")


def aggregate_scores(scores, *, method="max", beta=20.0):
    """Combine the window scores of one file into a file score.

    ``"max"`` is the highest window score (a bird anywhere in the file counts); ``"mean"``
    the average; ``"smoothmax"`` the log-mean-exp ``(1 / beta) log(mean(exp(beta s)))``, a
    smooth maximum that lies between the mean (``beta -> 0``) and the max
    (``beta -> inf``), is at most ``log(n) / beta`` below the max, and so stays within the
    range of the window scores.

    Parameters
    ----------
    scores : numpy.ndarray [shape=(n_windows,)]
        Window scores, at least one, all finite.
    method : {"max", "mean", "smoothmax"}
        How to combine them.
    beta : float
        Sharpness of ``"smoothmax"`` (positive).

    Returns
    -------
    score : float

    Raises
    ------
    ScatterError
        For an empty or non-finite ``scores``, an unknown ``method`` or a non-positive
        ``beta``.

    Examples
    --------
    >>> aggregate_scores([0.1, 0.9, 0.2])
    0.9
    >>> 0.4 < aggregate_scores([0.1, 0.9, 0.2], method="smoothmax") < 0.9
    True
    """
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if s.size == 0:
        raise ScatterError("scores must hold at least one window score; got none")
    if not np.isfinite(s).all():
        raise ScatterError(f"scores must be finite; got {s[~np.isfinite(s)][:3].tolist()}")
    if method == "max":
        return float(s.max())
    if method == "mean":
        return float(s.mean())
    if method == "smoothmax":
        if not (isinstance(beta, (int, float)) and beta > 0 and math.isfinite(beta)):
            raise ScatterError(f"beta must be a positive finite number; got {beta!r}")
        m = s.max()
        return float(m + np.log(np.mean(np.exp(beta * (s - m)))) / beta)
    raise ScatterError(f"method must be one of {_AGGREGATES}; got {method!r}")


@dataclasses.dataclass
class _FileState:
    """Book-keeping for one file in flight."""

    path: str
    table: str | None = None
    info: object = None
    chunks: list = dataclasses.field(default_factory=list)
    n_scored: int = 0
    n_windows: int | None = None  # known once decoding is done
    n_samples: int = 0
    frames_read: int = 0
    error: str = ""
    finished: bool = False

    @property
    def complete(self):
        return self.n_windows is not None and self.n_scored == self.n_windows


def _message(exc):
    return str(exc) if isinstance(exc, ScatterError) else f"{type(exc).__name__}: {exc}"


def _put(q, stop, item):
    """Put ``item`` on the queue unless the run is stopping; return whether it went."""
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _decode(fid, path, q, stop, cfg):
    """Stream one file into windows on the queue; report the end or the error."""
    info = None
    try:
        with AudioStream(path, sr=cfg["sr"], mono=True,
                         block_frames=cfg["block_frames"]) as stream:
            info = stream.info
            framer = Framer(window=cfg["window"], hop=cfg["hop"])
            for block in stream:
                for first, windows in framer.push(block):
                    if not _put(q, stop, ("windows", fid, first, windows)):
                        return
            for first, windows in framer.finish():
                if not _put(q, stop, ("windows", fid, first, windows)):
                    return
            if framer.n_windows == 0:
                raise ScatterError(f"{path!r}: contains no audio frames; nothing to score")
            _put(q, stop, ("done", fid, info, stream.frames_read, framer.n_samples,
                           framer.n_windows))
    except Exception as exc:  # one file's failure must not stop the run
        _put(q, stop, ("error", fid, info, _message(exc)))


def _worker(jobs, lock, q, stop, cfg):
    try:
        while not stop.is_set():
            with lock:
                job = next(jobs, None)
            if job is None:
                break
            _decode(*job, q, stop, cfg)
    finally:
        _put(q, stop, ("exit",))


class _Batcher:
    """Packs windows of any files into fixed batches; scores one batch while the next fills."""

    def __init__(self, scorer, batch_size, window, fixed_batch, on_scores):
        self.scorer, self.batch_size, self.window = scorer, batch_size, window
        self.fixed_batch, self.on_scores = fixed_batch, on_scores
        self._new()
        self.pending = None
        self.n_batches = 0

    def _new(self):
        self.buf = np.zeros((self.batch_size, self.window), dtype=np.float32)
        self.fill, self.owners = 0, []

    def add(self, state, first, windows):
        i = 0
        while i < len(windows):
            take = min(self.batch_size - self.fill, len(windows) - i)
            self.buf[self.fill:self.fill + take] = windows[i:i + take]
            self.owners.append((state, first + i, take))
            self.fill += take
            i += take
            if self.fill == self.batch_size:
                self._dispatch()

    def _dispatch(self):
        batch = self.buf if self.fixed_batch else self.buf[:self.fill]
        raw = self.scorer(batch)  # may run asynchronously (JAX): resolved after the next one
        self.n_batches += 1
        previous, self.pending = self.pending, (raw, self.owners, len(batch))
        self._new()
        if previous is not None:
            self._resolve(previous)

    def _resolve(self, pending):
        raw, owners, n = pending
        scores = np.asarray(raw, dtype=np.float64)
        if scores.shape != (n,):
            raise ScatterError(f"scorer must return one score per window, shape ({n},); "
                               f"got shape {scores.shape}")
        offset = 0
        for state, first, count in owners:
            self.on_scores(state, first, scores[offset:offset + count])
            offset += count

    def flush(self):
        if self.fill:
            self._dispatch()
        if self.pending is not None:
            previous, self.pending = self.pending, None
            self._resolve(previous)


def _check_options(sr, window_s, hop_s, batch_size, workers, threshold, aggregate, scorer,
                   on_file):
    if not callable(scorer):
        raise ScatterError(f"scorer must be a callable (batch, n_samples) -> (batch,); "
                           f"got {scorer!r}")
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ScatterError(f"sr must be a positive integer sample rate in Hz; got {sr!r}")
    for name, value in (("window_s", window_s), ("hop_s", hop_s)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ScatterError(f"{name} must be a positive number of seconds; got {value!r}")
    window, hop = round(window_s * sr), round(hop_s * sr)
    if window < 1 or hop < 1:
        raise ScatterError(f"window_s={window_s!r} and hop_s={hop_s!r} must each be at "
                           f"least one sample at sr={sr}")
    if hop > window:
        raise ScatterError(f"hop_s must be at most window_s={window_s!r} so that windows "
                           f"cover the audio; got hop_s={hop_s!r}")
    for name, value in (("batch_size", batch_size), ("workers", workers)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ScatterError(f"{name} must be a positive integer; got {value!r}")
    if not (isinstance(threshold, (int, float)) and math.isfinite(threshold)):
        raise ScatterError(f"threshold must be a finite number; got {threshold!r}")
    if on_file is not None and not callable(on_file):
        raise ScatterError(f"on_file must be a callable or None; got {on_file!r}")
    if not callable(aggregate) and aggregate not in _AGGREGATES:
        raise ScatterError(f"aggregate must be one of {_AGGREGATES} or a callable; "
                           f"got {aggregate!r}")
    return window, hop


def _check_out(name, path):
    if path is None:
        return None
    path = os.fsdecode(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ScatterError(f"{name}: folder {folder!r} of {path!r} does not exist; "
                           "create it first")
    if os.path.isdir(path):
        raise ScatterError(f"{name}: {path!r} is a folder; expected a file name")
    return path


def _resume_rows(out, segments_out):
    """Rows of an earlier run worth keeping: scored files, and their segments."""
    kept = {}
    for row in read_rows(out, RESULT_FIELDS):
        if FileResult.from_row(row).ok:
            kept[os.path.normpath(row["path"])] = row
    segments = []
    if segments_out is not None and os.path.exists(segments_out):
        segments = [r for r in read_rows(segments_out, SEGMENT_FIELDS)
                    if os.path.normpath(r["path"]) in kept]
    return kept, segments


def settings_path(out):
    """Where a run keeps its settings beside the results CSV ``out``: ``out + ".settings.json"``.

    :func:`run_detection` writes this file when a run starts, and ``resume=True`` reads it to
    refuse to mix rows scored with other settings.

    Parameters
    ----------
    out : str or os.PathLike
        The results CSV.

    Returns
    -------
    str
    """
    return os.fsdecode(out) + ".settings.json"


def _check_resume_settings(out, settings):
    """Raise if the run that wrote ``out`` used other ``settings``; warn if it left none."""
    path = settings_path(out)
    if not os.path.exists(path):
        warnings.warn(f"{path!r} is missing, so resume cannot check that {out!r} was written "
                      f"with the same model and settings; they are assumed to be the same",
                      stacklevel=3)
        return
    try:
        with open(path, encoding="utf-8") as fh:
            stored = json.load(fh)["settings"]
        if not isinstance(stored, dict):
            raise TypeError("'settings' is not an object")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ScatterError(f"{path!r}: cannot read the settings of the run that wrote "
                           f"{out!r} ({exc}); delete it to resume without the check") from None
    changed = [f"{k} {stored.get(k)!r} -> {settings.get(k)!r}"
               for k in sorted(set(stored) | set(settings)) if stored.get(k) != settings.get(k)]
    if changed:
        raise ScatterError(f"cannot resume: {out!r} was written with other settings "
                           f"({'; '.join(changed)}); resume with the earlier settings, or write "
                           f"to a new results file")


def run_detection(paths, *, scorer, sr, window_s, hop_s=None, batch_size=32, workers=2,
                  out=None, segments_out=None, raven_dir=None, json_out=None, threshold=0.5,
                  aggregate="max", resume=False, quiet=False, recursive=False,
                  raven_band_hz=None, block_frames=1 << 17, fixed_batch=True, on_file=None,
                  scorer_id=None):
    """Score every audio file in ``paths`` and write the outputs as files finish.

    Parameters
    ----------
    paths : str or os.PathLike or sequence of them
        Audio files and folders, expanded with :func:`scatter.audio.find_audio`.
    scorer : callable
        Maps a float32 array ``(batch_size, round(window_s * sr))`` of windows to their
        scores ``(batch_size,)`` (NumPy or JAX). With ``fixed_batch`` the last batch is
        zero-padded to ``batch_size`` (one compiled shape); padding rows are discarded.
    sr : int
        Sample rate (Hz) the scorer expects; audio is resampled to it.
    window_s : float
        Window length in seconds.
    hop_s : float or None
        Hop between windows in seconds, at most ``window_s``; None means ``window_s / 2``.
    batch_size : int
        Windows per scorer call; windows of several files share a batch.
    workers : int
        Decoding threads running ahead of the scorer.
    out : str or os.PathLike or None
        Results CSV (:data:`scatter.outputs.RESULT_FIELDS`, one row per file).
    segments_out : str or os.PathLike or None
        Segments CSV (one row per window).
    raven_dir : str or os.PathLike or None
        Folder for one Raven Pro selection table per scored file
        (:func:`scatter.outputs.raven_table_paths`).
    json_out : str or os.PathLike or None
        JSON file with the settings, the summary and every results row, written at the end.
    threshold : float
        ``label = 1`` when the file score is ``>= threshold``; also the Raven threshold.
    aggregate : {"max", "mean", "smoothmax"} or callable
        File score from window scores (:func:`aggregate_scores`), or a callable taking the
        window scores (float64 array) and returning a float.
    resume : bool
        Keep the rows of ``out`` without error (and their segments and tables), skip those
        files and process the others; rows with an error are retried. The run that wrote
        ``out`` must have used the same ``sr``, ``window_s``, ``hop_s``, ``threshold``,
        ``aggregate`` and ``scorer_id`` (kept in :func:`settings_path`); if that file is
        missing, a warning says that the settings cannot be checked.
    quiet : bool
        No progress bar.
    recursive : bool
        Search folders recursively.
    raven_band_hz : (float, float) or None
        Frequency band of Raven selections; None means ``(0, sr / 2)``.
    block_frames : int
        Decoding block size in frames; memory per worker is proportional to it.
    fixed_batch : bool
        Pad the last batch to ``batch_size`` (avoids a recompilation in JAX scorers).
    on_file : callable or None
        Called in the calling thread as each file finishes, after its rows are written, as
        ``on_file(result, starts_s, ends_s, scores)``: a :class:`FileResult` and the window
        times and scores (float64 arrays, empty for an error row). For plots or live use.
    scorer_id : JSON-serialisable or None
        Identifies the scorer (:meth:`scatter.detect.Detector.detect` gives a hash of its
        weights): recorded in the settings file and in ``json_out``, so that ``resume`` does
        not mix the scores of two models. A callable ``aggregate`` is recorded as
        ``"custom"``.

    Returns
    -------
    summary : dict
        ``files`` (listed), ``skipped`` (kept from an earlier run), ``processed``, ``ok``,
        ``errors``, ``positives`` (this run's files with label 1), ``windows``, ``batches``,
        ``audio_s`` and ``audio_hours`` (decoded this run), ``wall_s``,
        ``speed_x_realtime``, ``outputs`` (the paths written), ``ignored_files`` (files in
        the folders skipped for their extension, counted by extension; see
        :func:`scatter.audio.find_audio`) and ``results`` (every row as
        :meth:`FileResult.to_dict`, in the order of ``paths``).

    Raises
    ------
    ScatterError
        For invalid options, missing input paths, an output folder that does not exist,
        ``resume`` without ``out``, with an ``out`` that is not a results CSV or that was
        written with other settings, or a scorer returning the wrong shape. Exceptions of
        ``scorer`` and ``KeyboardInterrupt`` pass through after the outputs are closed, each
        holding every finished file.

    Examples
    --------
    >>> summary = run_detection("field/", scorer=my_model, sr=22050, window_s=1.0,
    ...                         out="results.csv", segments_out="segments.csv",
    ...                         raven_dir="raven", resume=True)  # doctest: +SKIP
    >>> summary["errors"]  # doctest: +SKIP
    0
    """
    hop_s = window_s / 2 if hop_s is None and isinstance(window_s, (int, float)) else hop_s
    window, hop = _check_options(sr, window_s, hop_s, batch_size, workers, threshold,
                                 aggregate, scorer, on_file)
    sr = int(sr)
    out = _check_out("out", out)
    segments_out = _check_out("segments_out", segments_out)
    json_out = _check_out("json_out", json_out)
    low_hz, high_hz = (0.0, sr / 2) if raven_band_hz is None else raven_band_hz
    if not 0 <= low_hz < high_hz:
        raise ScatterError(f"raven_band_hz must be (low, high) with 0 <= low < high; "
                           f"got {raven_band_hz!r}")
    if resume and out is None:
        raise ScatterError("resume=True needs out=, the results CSV of the earlier run")
    try:  # compared as JSON, as they are stored
        settings = json.loads(json.dumps({
            "sr": sr, "window_s": window / sr, "hop_s": hop / sr, "threshold": float(threshold),
            "aggregate": aggregate if isinstance(aggregate, str) else "custom",
            "scorer": scorer_id}, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ScatterError(f"scorer_id must be JSON-serialisable; got {scorer_id!r} "
                           f"({exc})") from None
    ignored = {}
    order = find_audio(paths, recursive=recursive, ignored=ignored)
    kept, kept_segments = {}, []
    if resume and os.path.exists(out):
        kept, kept_segments = _resume_rows(out, segments_out)
        _check_resume_settings(out, settings)
    if out is not None:
        write_json(settings_path(out), {"settings": settings})
    todo = [p for p in order if os.path.normpath(p) not in kept]
    tables = {}
    if raven_dir is not None:
        raven_dir = os.fsdecode(raven_dir)
        os.makedirs(raven_dir, exist_ok=True)
        tables = raven_table_paths(order, raven_dir)
    agg = aggregate if callable(aggregate) else (
        lambda s: aggregate_scores(s, method=aggregate))

    new_rows = {}  # normpath -> row dict, this run
    totals = {"ok": 0, "errors": 0, "positives": 0, "windows": 0, "audio_s": 0.0}
    journals = []
    results_j = segments_j = None
    start = time.perf_counter()
    stop = threading.Event()
    threads = []
    bar = None
    try:
        if out is not None:
            results_j = CsvJournal(out, RESULT_FIELDS, keep_rows=kept.values())
            journals.append(results_j)
        if segments_out is not None:
            segments_j = CsvJournal(segments_out, SEGMENT_FIELDS, keep_rows=kept_segments)
            journals.append(segments_j)
        from tqdm import tqdm

        bar = tqdm(total=len(todo), unit="file", desc="detect", disable=quiet,
                   dynamic_ncols=True, smoothing=0.05,
                   bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} files "
                              "[{elapsed}, ETA {remaining}{postfix}]")

        def finish(state):
            state.finished = True
            info = state.info
            if not state.error:
                scores = np.concatenate(state.chunks)
                try:
                    file_score = float(agg(scores))
                except Exception as exc:  # a failing custom aggregate is this file's error
                    state.error = f"aggregate failed: {_message(exc)}"
                else:
                    if not math.isfinite(file_score):
                        state.error = f"aggregate gave a non-finite score ({file_score})"
            if state.error:
                result = FileResult(
                    state.path, sample_rate=None if info is None else info.sample_rate,
                    channels=None if info is None else info.channels, error=state.error)
                if state.table is not None and os.path.exists(state.table):
                    os.unlink(state.table)  # a stale table from an earlier run
            else:
                duration = state.frames_read / info.sample_rate
                label = int(file_score >= threshold)
                result = FileResult(state.path, score=file_score, label=label,
                                    duration_s=duration, sample_rate=info.sample_rate,
                                    channels=info.channels, n_windows=state.n_windows)
                k = np.arange(state.n_windows)
                starts = k * hop / sr
                ends = np.minimum(k * hop + window, state.n_samples) / sr
                if state.table is not None:
                    write_raven_table(state.table,
                                      merge_detections(starts, ends, scores,
                                                       threshold=threshold),
                                      low_hz=low_hz, high_hz=high_hz)
                if segments_j is not None:
                    segments_j.append(format_segment_rows(state.path, starts, ends, scores))
                totals["ok"] += 1
                totals["positives"] += label
                totals["windows"] += state.n_windows
                totals["audio_s"] += duration
            if state.error:
                totals["errors"] += 1
                starts = ends = scores = np.zeros(0)
            row = result.to_row()
            new_rows[os.path.normpath(state.path)] = row
            if results_j is not None:
                results_j.append([row])
            if on_file is not None:
                on_file(result, starts, ends, scores)
            elapsed = max(time.perf_counter() - start, 1e-9)
            bar.set_postfix_str(f"{totals['audio_s'] / 3600:.2f} h audio, "
                                f"{totals['audio_s'] / elapsed:.0f}x real time, "
                                f"{totals['errors']} errors", refresh=False)
            bar.update(1)

        def on_scores(state, first, scores):
            if state.finished:
                return  # the file already failed; its late windows are dropped
            bad = ~np.isfinite(scores)
            if bad.any():
                t = (first + int(np.argmax(bad))) * hop / sr
                state.error = (f"scorer returned a non-finite score ({scores[bad][0]}) for "
                               f"the window starting at {t:.3f} s")
                finish(state)
                return
            state.chunks.append(scores)
            state.n_scored += len(scores)
            if state.complete:
                finish(state)

        batcher = _Batcher(scorer, int(batch_size), window, fixed_batch, on_scores)
        states = [_FileState(p, table=tables.get(p)) for p in todo]
        cfg = {"sr": sr, "window": window, "hop": hop, "block_frames": block_frames}
        q = queue.Queue(maxsize=4 * int(workers))
        jobs, lock = iter(enumerate(todo)), threading.Lock()
        for _ in range(min(int(workers), max(len(todo), 1))):
            t = threading.Thread(target=_worker, args=(jobs, lock, q, stop, cfg), daemon=True)
            t.start()
            threads.append(t)
        running = len(threads)
        while running:
            try:
                item = q.get(timeout=0.2)
            except queue.Empty:
                if not any(t.is_alive() for t in threads) and q.empty():
                    break  # a worker died without saying so; files left unfinished fail below
                continue
            kind = item[0]
            if kind == "exit":
                running -= 1
                continue
            state = states[item[1]]
            if kind == "windows":
                if not state.finished:
                    batcher.add(state, item[2], item[3])
            elif kind == "done":
                _, _, state.info, state.frames_read, state.n_samples, state.n_windows = item
                if state.complete and not state.finished:
                    finish(state)
            elif not state.finished:  # "error"
                state.info, state.error = item[2], item[3]
                finish(state)
        batcher.flush()
        for state in states:  # every file has reached "done" or "error" and been scored
            if not state.finished:
                raise RuntimeError(f"internal error: {state.path!r} was not finished")
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=5.0)
        if bar is not None:
            bar.close()
        for j in journals:
            j.close()

    rows = _ordered_rows(order, kept, new_rows)
    if results_j is not None:
        results_j.rewrite(rows)
        results_j.close()
    wall = time.perf_counter() - start
    summary = {
        "files": len(order), "skipped": len(order) - len(todo), "processed": len(todo),
        "ok": totals["ok"], "errors": totals["errors"], "positives": totals["positives"],
        "windows": totals["windows"], "batches": batcher.n_batches,
        "audio_s": totals["audio_s"], "audio_hours": totals["audio_s"] / 3600,
        "wall_s": wall, "speed_x_realtime": totals["audio_s"] / max(wall, 1e-9),
        "outputs": {"results": out, "settings": None if out is None else settings_path(out),
                    "segments": segments_out, "raven": raven_dir,
                    "json": json_out},
        "ignored_files": dict(sorted(ignored.items())),
    }
    results = [FileResult.from_row(r).to_dict() for r in rows]
    if json_out is not None:
        write_json(json_out, {"settings": {**settings, "batch_size": int(batch_size)},
                              "summary": summary, "files": results})
    summary["results"] = results
    return summary


def _ordered_rows(order, kept, new_rows):
    """Results rows in the order of ``order``; kept rows of other paths after them."""
    rows, placed = [], set()
    for path in order:
        key = os.path.normpath(path)
        row = new_rows.get(key, kept.get(key))
        if row is not None and key not in placed:
            rows.append(row)
            placed.add(key)
    rows.extend(r for k, r in kept.items() if k not in placed)
    return rows
