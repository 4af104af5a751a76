"""Batch runner of the detector: files in, per-window and per-file scores out.

:func:`run_detection` streams every file through :mod:`scatter.audio` in worker threads
(decoding runs ahead of compute), batches the windows of all files together, calls a scorer
on each batch, turns each file's window scores into a file score, and writes the outputs of
:mod:`scatter.outputs` as files finish. The model is not part of this module: ``scorer`` is
any callable from a float32 batch of windows ``(batch, n_samples)`` to scores ``(batch,)``.
The run is assembled from the parts in :mod:`scatter.run` (a :class:`~scatter.run.DetectionRun`
with a :class:`~scatter.run.LocalThreads` backend and one :class:`~scatter.run.Output` per
output file); build one from them for other outputs or another backend.

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

import functools
import os

from scatter.errors import ScatterError
from scatter.run.aggregate import aggregate_scores
from scatter.run.backend import LocalThreads
from scatter.run.decode import Framing
from scatter.run.output import FileCallback, JsonSummary, RavenTables, ResultsCsv, SegmentsCsv
from scatter.run.run import DetectionRun
from scatter.run.settings import check_options, check_out, run_settings, settings_path

__all__ = ["aggregate_scores", "run_detection", "settings_path"]


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
    window, hop, band = check_options(
        sr=sr, window_s=window_s, hop_s=hop_s, batch_size=batch_size, workers=workers,
        threshold=threshold, aggregate=aggregate, scorer=scorer, on_file=on_file,
        raven_band_hz=raven_band_hz)
    sr = int(sr)
    out = check_out("out", out)
    segments_out = check_out("segments_out", segments_out)
    json_out = check_out("json_out", json_out)
    if resume and out is None:
        raise ScatterError("resume=True needs out=, the results CSV of the earlier run")
    settings = run_settings(sr=sr, window=window, hop=hop, threshold=threshold,
                            aggregate=aggregate, scorer_id=scorer_id)
    outputs = _outputs(out=out, segments_out=segments_out, raven_dir=raven_dir, band_hz=band,
                       json_out=json_out, batch_size=batch_size, on_file=on_file)
    run = DetectionRun(
        paths,
        backend=LocalThreads(scorer, batch_size=batch_size, workers=workers,
                             fixed_batch=fixed_batch),
        framing=Framing(sr=sr, window=window, hop=hop, block_frames=block_frames),
        threshold=threshold, aggregate=aggregate if callable(aggregate) else functools.partial(
            aggregate_scores, method=aggregate),
        settings=settings, outputs=outputs, resume_from=out if resume else None,
        recursive=recursive, quiet=quiet)
    return run.run()


def _outputs(*, out, segments_out, raven_dir, band_hz, json_out, batch_size, on_file):
    """The :class:`~scatter.run.Output` objects of a run, in the order they are called.

    Outputs written per file come first, then the results CSV (a results row is what resume
    trusts, so it is written once the file's other outputs are), then the outputs of the
    whole run and the caller's ``on_file``, which sees every row of the file written.
    """
    per_file, whole_run = [], []
    if segments_out is not None:
        per_file.append(SegmentsCsv(segments_out))
    if raven_dir is not None:
        per_file.append(RavenTables(os.fsdecode(raven_dir), band_hz=band_hz))
    if json_out is not None:
        whole_run.append(JsonSummary(json_out, batch_size=batch_size))
    results = [] if out is None else [ResultsCsv(out)]
    callback = [] if on_file is None else [FileCallback(on_file)]
    return per_file + results + whole_run + callback
