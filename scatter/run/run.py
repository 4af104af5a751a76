"""One detection run, from a list of paths to finished outputs: :class:`DetectionRun`.

The run finds the audio files, keeps what an earlier run finished (``resume``), hands the rest
to a scoring backend (:mod:`scatter.run.backend`), turns each file's window scores into a file
score and a results row (one per channel when each channel is scored), with the recording's
start time (:mod:`scatter.recorders`), hands every finished row to its outputs
(:mod:`scatter.run.output`), and returns a summary. Errors of one file become that file's
error row; a fault of the scorer, or Ctrl-C, stops the run after the outputs are closed, each
holding every finished file.

Each file is finished once: an outcome for a file already finished (a backend that ran a file
twice, as a cluster may after losing a worker) is dropped.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time

import numpy as np

from scatter.audio import find_audio
from scatter.errors import ScatterError
from scatter.outputs import FileResult
from scatter.recorders import format_start_time, recording_start
from scatter.run.aggregate import file_score
from scatter.run.messages import FileScored, FinishedFile, RunInfo
from scatter.run.output import STANDARD_LOCATIONS
from scatter.run.settings import check_resume_settings, kept_rows

__all__ = ["DetectionRun", "Totals"]

# check_resume_settings <- DetectionRun._resume <- DetectionRun.run <- run_detection <- caller:
# a missing settings file is reported at the line that called run_detection.
_WARNING_STACKLEVEL = 4


@dataclasses.dataclass
class Totals:
    """Counts of this run's finished rows (kept rows of an earlier run are not counted): a
    file's rows, one per channel when each channel is scored, count its audio once."""

    ok: int = 0
    errors: int = 0
    positives: int = 0
    windows: int = 0
    audio_s: float = 0.0

    def add(self, result, *, first=True):
        """Count one :class:`scatter.outputs.FileResult`; ``first``: the file's first row."""
        if result.ok:
            self.ok += 1
            self.positives += result.label
            self.windows += result.n_windows
            self.audio_s += result.duration_s if first else 0.0
        else:
            self.errors += 1


class _ProgressBar:
    """tqdm bar over the files of the run, with audio hours, speed and errors."""

    def __init__(self, total, *, quiet):
        from tqdm import tqdm

        self._start = time.perf_counter()
        self._bar = tqdm(total=total, unit="file", desc="detect", disable=quiet,
                         dynamic_ncols=True, smoothing=0.05,
                         bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} "
                                    "files [{elapsed}, ETA {remaining}{postfix}]")

    def file_done(self, totals):
        elapsed = max(time.perf_counter() - self._start, 1e-9)
        self._bar.set_postfix_str(f"{totals.audio_s / 3600:.2f} h audio, "
                                  f"{totals.audio_s / elapsed:.0f}x real time, "
                                  f"{totals.errors} errors", refresh=False)
        self._bar.update(1)

    def close(self):
        self._bar.close()


class DetectionRun:
    """One run of a scorer over files and folders (what :func:`scatter.runner.run_detection`
    does, with the backend and the outputs as objects).

    Parameters
    ----------
    paths : str or os.PathLike or sequence of them
        Audio files and folders (:func:`scatter.audio.find_audio`).
    backend : scatter.run.backend.ScoringBackend
        Decodes and scores the files.
    framing : scatter.run.decode.Framing
        Sample rate, window, hop and channels (mixed, or each scored on its own).
    threshold : float
        ``label = 1`` when the file score is ``>= threshold``.
    aggregate : callable
        Window scores (float64 array) to the file score.
    settings : dict
        The run's settings (:func:`scatter.run.settings.run_settings`), recorded for resume
        and compared with those of the run resumed.
    outputs : sequence of scatter.run.output.Output
        Called in this order (:class:`~scatter.run.output.ResultsCsv` after the other
        per-file writers).
    resume_from : str or None
        The results CSV of an earlier run: its scored files are kept and skipped (when it
        exists). None starts afresh.
    recursive : bool
        Search folders recursively.
    quiet : bool
        No progress bar.
    timezone : str or datetime.tzinfo or None
        Zone of the recorders' names that carry none (:func:`scatter.recorders.
        recording_start`; None: UTC, AudioMoth's default).
    provenance : dict or None
        What made the results (:func:`scatter.run.settings.provenance`), handed to the
        outputs (:attr:`RunInfo.provenance`) and in the summary.

    Examples
    --------
    >>> from scatter.run import DetectionRun, Framing, LocalThreads, ResultsCsv
    >>> run = DetectionRun(["recordings/"], backend=LocalThreads(scorer, batch_size=32),
    ...                    framing=Framing(sr=22050, window=22050, hop=11025),
    ...                    threshold=0.5, aggregate=max, settings={},
    ...                    outputs=[ResultsCsv("results.csv")])  # doctest: +SKIP
    >>> summary = run.run()  # doctest: +SKIP
    """

    def __init__(self, paths, *, backend, framing, threshold, aggregate, settings, outputs=(),
                 resume_from=None, recursive=False, quiet=False, timezone=None,
                 provenance=None):
        self.paths, self.backend, self.framing = paths, backend, framing
        self.threshold, self.aggregate, self.settings = threshold, aggregate, settings
        self.outputs = list(outputs)
        self.resume_from, self.recursive, self.quiet = resume_from, recursive, quiet
        self.timezone = timezone
        self.provenance = dict(provenance or {})
        self.each = framing.channels == "each"
        self.totals = Totals()
        self.files, self.todo, self.kept, self.ignored = [], [], {}, {}
        self._new_rows = {}  # normpath -> results rows of the file (one per channel), this run
        self._progress = None
        self._started = False

    def run(self):
        """Score every file not kept from an earlier run; write the outputs.

        Returns
        -------
        summary : dict
            As :func:`scatter.runner.run_detection`.

        Raises
        ------
        ScatterError
            For missing input paths, an earlier run that cannot be resumed, a scorer returning
            the wrong shape, or a second call (a run runs once). Exceptions of the scorer, of
            an output and ``KeyboardInterrupt`` pass through after every output is closed.
        """
        if self._started:
            raise ScatterError("a DetectionRun runs once; make a new one for another run")
        self._started = True
        start = time.perf_counter()
        self._find_files()
        self._resume()
        with contextlib.ExitStack() as closing:
            for output in self.outputs:
                closing.callback(output.close)
            self._begin()
            self._progress = _ProgressBar(len(self.todo), quiet=self.quiet)
            closing.callback(self._progress.close)
            self._score_files()
            rows = self._ordered_rows()
            summary = self._summary(rows, wall_s=time.perf_counter() - start)
            for output in self.outputs:
                output.end(rows, summary)
        return summary

    def _find_files(self):
        """The audio files of ``paths``; those a resumed run skips are decided later."""
        self.files = find_audio(self.paths, recursive=self.recursive, ignored=self.ignored)
        for output in self.outputs:
            output.found(list(self.files))

    def _resume(self):
        """Keep the scored files of the earlier run, once its settings are checked to be
        this run's; every output reads what it keeps (nothing is written yet)."""
        out = self.resume_from
        if out is not None and os.path.exists(out):
            self.kept = kept_rows(out)
            for output in self.outputs:
                output.resume(self.kept)
            check_resume_settings(out, self.settings, stacklevel=_WARNING_STACKLEVEL)
        self.todo = [p for p in self.files if os.path.normpath(p) not in self.kept]

    def _begin(self):
        info = RunInfo(paths=list(self.files), todo=list(self.todo), kept=self.kept,
                       settings=self.settings, sr=self.framing.sr, window=self.framing.window,
                       hop=self.framing.hop, threshold=self.threshold,
                       channels=self.framing.channels, provenance=self.provenance)
        for output in self.outputs:
            output.begin(info)

    def _score_files(self):
        """Hand the files to the backend; finish each as its outcome comes back."""
        outcomes = self.backend.score_files(self.todo, self.framing)
        finished = set()
        try:
            for outcome in outcomes:
                if outcome.file_id in finished:
                    continue  # scored twice (a rescheduled task): the first outcome counts
                finished.add(outcome.file_id)
                self._finish_file(outcome)
        finally:
            close = getattr(outcomes, "close", None)
            if close is not None:  # stops the backend's work when the run stops early
                close()
        missing = [p for i, p in enumerate(self.todo) if i not in finished]
        if missing:
            raise RuntimeError(f"internal error: the backend finished without an outcome "
                               f"for {missing[:3]!r}")

    def _start_time(self, path):
        """The recording's start (ISO 8601 with its offset), or None when unknown."""
        return format_start_time(recording_start(path, timezone=self.timezone)) or None

    def _finish_file(self, outcome):
        """The file's rows (its score and label, or its error; one per channel when each
        channel is scored); then every output, row by row."""
        path, info = self.todo[outcome.file_id], outcome.info
        known = {"sample_rate": None if info is None else info.sample_rate,
                 "channels": None if info is None else info.channels,
                 "start_time": self._start_time(path)}
        empty = np.zeros(0)
        if not isinstance(outcome, FileScored):
            result = FileResult(path, error=outcome.error, **known)
            done = [FinishedFile(result, result.to_row(), empty, empty, empty)]
        else:
            tracks = outcome.tracks
            features = outcome.features
            if features is not None and not self.each:
                features = features[None]
            starts, ends = self.framing.window_times(tracks.shape[1], outcome.n_samples)
            done = []
            for t, scores in enumerate(tracks):
                channel = t + 1 if self.each else None
                score, error = file_score(scores, self.aggregate, starts_s=starts)
                if error:
                    result = FileResult(path, error=error, channel=channel, **known)
                    row = FinishedFile(result, result.to_row(), empty, empty, empty)
                else:
                    result = FileResult(path, score=score, label=int(score >= self.threshold),
                                        duration_s=outcome.frames_read / info.sample_rate,
                                        n_windows=len(scores), channel=channel, **known)
                    row = FinishedFile(result, result.to_row(), starts, ends, scores,
                                       None if features is None else features[t])
                done.append(row)
        done[-1] = dataclasses.replace(done[-1], last=True)
        done[:-1] = [dataclasses.replace(d, last=False) for d in done[:-1]]
        self._new_rows[os.path.normpath(path)] = [d.row for d in done]
        for i, row in enumerate(done):
            self.totals.add(row.result, first=i == 0)
            for output in self.outputs:
                output.file_done(row)
        self._progress.file_done(self.totals)

    def _ordered_rows(self):
        """Results rows in the order of the files; kept rows of other paths after them."""
        rows, placed = [], set()
        for path in self.files:
            key = os.path.normpath(path)
            file_rows = self._new_rows.get(key, self.kept.get(key))
            if file_rows is not None and key not in placed:
                rows.extend(file_rows)
                placed.add(key)
        rows.extend(r for k, file_rows in self.kept.items() if k not in placed
                    for r in file_rows)
        return rows

    def _summary(self, rows, *, wall_s):
        t = self.totals
        locations = dict.fromkeys(STANDARD_LOCATIONS)
        for output in self.outputs:
            locations.update(output.locations())
        return {
            "files": len(self.files), "skipped": len(self.files) - len(self.todo),
            "processed": len(self.todo), "ok": t.ok, "errors": t.errors,
            "positives": t.positives, "windows": t.windows, "batches": self.backend.n_batches,
            "audio_s": t.audio_s, "audio_hours": t.audio_s / 3600, "wall_s": wall_s,
            "speed_x_realtime": t.audio_s / max(wall_s, 1e-9), "outputs": locations,
            "ignored_files": dict(sorted(self.ignored.items())),
            "channels": self.framing.channels, "provenance": self.provenance,
            "results": [FileResult.from_row(r).to_dict() for r in rows],
        }
