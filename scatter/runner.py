"""Batch runner of the detector: files in, per-window and per-file scores out.

:func:`run_detection` streams every file through :mod:`scatter.audio` in worker threads
(decoding runs ahead of compute), batches the windows of all files together, calls a scorer
on each batch, turns each file's window scores into a file score, and writes the outputs as
files finish: the results, segments and JSON files and the per-file Raven tables of
:mod:`scatter.outputs`, and the field outputs (Audacity labels, one Raven table for the whole
run, the activity table, review clips, feature files; :mod:`scatter.run.field`), each
resumable. The model is not part of this module: ``scorer`` is any callable from a float32
batch of windows ``(batch, n_samples)`` to scores ``(batch,)``. The run is assembled from the
parts in :mod:`scatter.run` (a :class:`~scatter.run.DetectionRun` with a
:class:`~scatter.run.LocalThreads` backend, or :class:`~scatter.run.dask.DaskFiles` with
``client=``, and one :class:`~scatter.run.Output` per output file); build one from them for
other outputs or another backend.

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

import numpy as np

from scatter.errors import ScatterError
from scatter.run.aggregate import aggregate_scores
from scatter.run.backend import LocalThreads
from scatter.run.decode import Framing
from scatter.run.field import (
    ActivityOutput,
    AudacityLabels,
    FeatureFiles,
    RavenRunTableOutput,
    ReviewClips,
)
from scatter.run.output import (
    FileCallback,
    JsonSummary,
    Output,
    RavenTables,
    ResultsCsv,
    SegmentsCsv,
)
from scatter.run.run import DetectionRun
from scatter.run.settings import (
    check_field_options,
    check_options,
    check_out,
    provenance,
    run_settings,
    settings_path,
)

__all__ = ["aggregate_scores", "run_detection", "settings_path"]


def run_detection(paths, *, scorer, sr, window_s, hop_s=None, batch_size=32, workers=2,
                  out=None, segments_out=None, raven_dir=None, json_out=None, threshold=0.5,
                  aggregate="max", resume=False, quiet=False, recursive=False,
                  raven_band_hz=None, block_frames=1 << 17, fixed_batch=True, on_file=None,
                  scorer_id=None, audacity_dir=None, raven_table=None, timezone=None,
                  activity_out=None, channels="mix", clips_dir=None, clips_top=10,
                  features_dir=None, feature_scorer=None, feature_layout=None,
                  feature_frame_s=None, features_pool="mean", client=None, outputs=()):
    """Score every audio file in ``paths`` and write the outputs as files finish.

    Parameters
    ----------
    paths : str or os.PathLike or sequence of them
        Audio files and folders, expanded with :func:`scatter.audio.find_audio`.
    scorer : callable
        Maps a float32 array ``(batch_size, round(window_s * sr))`` of windows to their
        scores ``(batch_size,)`` (NumPy or JAX). With ``fixed_batch`` the last batch is
        zero-padded to ``batch_size`` (one compiled shape); padding rows are discarded.
        Picklable when ``client`` is given (it runs on the workers).
    sr : int
        Sample rate (Hz) the scorer expects; audio is resampled to it.
    window_s : float
        Window length in seconds.
    hop_s : float or None
        Hop between windows in seconds, at most ``window_s``; None means ``window_s / 2``.
    batch_size : int
        Windows per scorer call; windows of several files share a batch (on a Dask worker, a
        batch holds one file's windows).
    workers : int
        Decoding threads running ahead of the scorer (local runs).
    out : str or os.PathLike or None
        Results CSV (:data:`scatter.outputs.RESULT_FIELDS`, one row per file, or per file
        and channel with ``channels="each"``).
    segments_out : str or os.PathLike or None
        Segments CSV (one row per window, with the window's clock time where the
        recording's start is known).
    raven_dir : str or os.PathLike or None
        Folder for one Raven Pro selection table per scored file
        (:func:`scatter.outputs.raven_table_paths`), its band below the file's Nyquist
        frequency.
    json_out : str or os.PathLike or None
        JSON file with the settings, the provenance, the summary and every results row,
        written at the end.
    threshold : float
        ``label = 1`` when the file score is ``>= threshold``; also the threshold of every
        selection (Raven, Audacity, clips) and of the activity table.
    aggregate : {"max", "mean", "smoothmax"} or callable
        File score from window scores (:func:`aggregate_scores`), or a callable taking the
        window scores (float64 array) and returning a float.
    resume : bool
        Keep the rows of ``out`` without error (and every other output's part of those
        files), skip those files and process the others; files with an error row are retried.
        The run that wrote ``out`` must have used the same ``sr``, ``window_s``, ``hop_s``,
        ``threshold``, ``aggregate``, ``channels`` and ``scorer_id`` (kept in
        :func:`settings_path`); if that file is missing, a warning says that the settings
        cannot be checked.
    quiet : bool
        No progress bar.
    recursive : bool
        Search folders recursively.
    raven_band_hz : (float, float) or None
        Frequency band of Raven selections; None means ``(0, sr / 2)`` for ``raven_dir``
        and 0 to each file's Nyquist frequency for ``raven_table``; always lowered to each
        file's Nyquist frequency.
    block_frames : int
        Decoding block size in frames; memory per worker is proportional to it.
    fixed_batch : bool
        Pad the last batch to ``batch_size`` (avoids a recompilation in JAX scorers).
    on_file : callable or None
        Called in the calling thread as each results row is written, as
        ``on_file(result, starts_s, ends_s, scores)``: a :class:`FileResult` and the window
        times and scores (float64 arrays, empty for an error row). For plots or live use.
    scorer_id : JSON-serialisable or None
        Identifies the scorer (:meth:`scatter.detect.Detector.detect` gives a hash of its
        weights): recorded in the settings file and in ``json_out``, so that ``resume`` does
        not mix the scores of two models. A callable ``aggregate`` is recorded as
        ``"custom"``.
    audacity_dir : str or os.PathLike or None
        Folder for one Audacity label file per scored file (``<name>.txt``, mirroring the
        audio folders): ``begin<TAB>end<TAB>bird <score>`` per merged detection
        (:mod:`scatter.selections`).
    raven_table : str or os.PathLike or None
        One Raven Pro selection table for the whole run (``Begin Path``, ``File Offset
        (s)``, ``Begin Time (s)`` cumulative over the files in the run's order;
        :class:`scatter.selections.RavenRunTable`).
    timezone : str or datetime.tzinfo or None
        Zone of the recorder file names that carry none (AudioMoth ``YYYYMMDD_HHMMSS``, Song
        Meter names; :func:`scatter.recorders.parse_timezone`); None: UTC, which AudioMoth
        writes unless it was set to local time. Also the clock of the activity table's hours
        (None: each file's own).
    activity_out : str or os.PathLike or None
        Activity per site (the recording's folder) and clock hour
        (:mod:`scatter.activity_table`), with its journal ``activity_out + ".parts.csv"``.
    channels : {"mix", "each"}
        ``"mix"``: a file's channels are averaged to mono, one results row per file;
        ``"each"``: every channel is scored on its own, one row per file and channel (the
        ``channel`` column, 1 for the first); per-file outputs are then named per channel
        (:func:`scatter.outputs.channel_output_path`: ``<name>.ch2.txt``).
    clips_dir : str or os.PathLike or None
        Folder for WAV clips of each file's best detections, padded by half a second
        (:mod:`scatter.clips`).
    clips_top : int
        Clips per file (per channel) at most.
    features_dir : str or os.PathLike or None
        Folder for the classifier's features of every window, one ``.npz`` per scored file
        (:mod:`scatter.feature_files`); needs ``feature_scorer`` and ``feature_layout``.
    feature_scorer : callable or None
        ``feature_scorer(batch) -> (scores, features)``, the features
        ``(batch, n_features, n_frames)`` (:meth:`scatter.detect.Detector.score_with_features`);
        with ``features_dir`` it scores instead of ``scorer``.
    feature_layout : list of dict or None
        :func:`scatter.feature_files.feature_layout` of the model.
    feature_frame_s : float or None
        Feature frame spacing in seconds (recorded in the feature files).
    features_pool : {"mean", "max", "none"}
        How each window's feature frames are pooled (:func:`scatter.feature_files.
        pool_features`).
    client : distributed.Client or None
        Score on a Dask cluster, one task per file (:class:`scatter.run.dask.DaskFiles`);
        outputs and resume are written here as for a local run. ``scorer`` (and
        ``feature_scorer``) must then be picklable.
    outputs : sequence of scatter.run.Output
        More outputs, called after the results CSV and the JSON summary and before
        ``on_file``.

    Returns
    -------
    summary : dict
        ``files`` (listed), ``skipped`` (kept from an earlier run), ``processed``, ``ok``,
        ``errors`` and ``positives`` (this run's results rows: with ``channels="each"``, one
        per file and channel), ``windows``, ``batches``, ``audio_s`` and ``audio_hours``
        (decoded this run), ``wall_s``, ``speed_x_realtime``, ``outputs`` (the paths
        written), ``ignored_files`` (files in the folders skipped for their extension,
        counted by extension; see :func:`scatter.audio.find_audio`), ``channels``,
        ``provenance`` (package version, model fingerprint, threshold) and ``results``
        (every row as :meth:`FileResult.to_dict`, in the order of ``paths``).

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
    ...                         raven_dir="raven", audacity_dir="labels",
    ...                         raven_table="run.selections.txt", activity_out="activity.csv",
    ...                         timezone="Europe/Berlin", resume=True)  # doctest: +SKIP
    >>> summary["errors"]  # doctest: +SKIP
    0
    """
    hop_s = window_s / 2 if hop_s is None and isinstance(window_s, (int, float)) else hop_s
    window, hop, band = check_options(
        sr=sr, window_s=window_s, hop_s=hop_s, batch_size=batch_size, workers=workers,
        threshold=threshold, aggregate=aggregate, scorer=scorer, on_file=on_file,
        raven_band_hz=raven_band_hz)
    check_field_options(channels=channels, clips_top=clips_top, timezone=timezone,
                        features_dir=features_dir, feature_scorer=feature_scorer,
                        feature_layout=feature_layout, features_pool=features_pool,
                        client=client)
    outputs = list(outputs)
    for output in outputs:
        if not isinstance(output, Output):
            raise ScatterError(f"outputs must hold scatter.run.Output objects; got {output!r}")
    sr = int(sr)
    out = check_out("out", out)
    segments_out = check_out("segments_out", segments_out)
    json_out = check_out("json_out", json_out)
    raven_table = check_out("raven_table", raven_table)
    activity_out = check_out("activity_out", activity_out)
    if resume and out is None:
        raise ScatterError("resume=True needs out=, the results CSV of the earlier run")
    settings = run_settings(sr=sr, window=window, hop=hop, threshold=threshold,
                            aggregate=aggregate, scorer_id=scorer_id, channels=channels)
    with_features = features_dir is not None
    if with_features:
        scorer = _PooledFeatures(feature_scorer, features_pool)
        features = FeatureFiles(os.fsdecode(features_dir), layout=feature_layout,
                                pool=features_pool, frame_s=feature_frame_s,
                                model=_model_id(scorer_id))
    per_file = [
        SegmentsCsv(segments_out) if segments_out is not None else None,
        RavenTables(os.fsdecode(raven_dir), band_hz=band) if raven_dir is not None else None,
        AudacityLabels(os.fsdecode(audacity_dir)) if audacity_dir is not None else None,
        RavenRunTableOutput(raven_table, band_hz=raven_band_hz)
        if raven_table is not None else None,
        ActivityOutput(activity_out, timezone=timezone) if activity_out is not None else None,
        ReviewClips(os.fsdecode(clips_dir), top=clips_top) if clips_dir is not None else None,
        features if with_features else None,
    ]
    if client is None:
        backend = LocalThreads(scorer, batch_size=batch_size, workers=workers,
                               fixed_batch=fixed_batch, with_features=with_features)
    else:
        from scatter.run.dask import DaskFiles

        backend = DaskFiles(client, scorer, batch_size=batch_size, fixed_batch=fixed_batch,
                            with_features=with_features)
    run = DetectionRun(
        paths, backend=backend,
        framing=Framing(sr=sr, window=window, hop=hop, block_frames=block_frames,
                        channels=channels),
        threshold=threshold, aggregate=aggregate if callable(aggregate) else functools.partial(
            aggregate_scores, method=aggregate),
        settings=settings,
        outputs=_outputs([o for o in per_file if o is not None], out=out, json_out=json_out,
                         batch_size=batch_size, extra=outputs, on_file=on_file),
        resume_from=out if resume else None, recursive=recursive, quiet=quiet,
        timezone=timezone, provenance=provenance(threshold=threshold, scorer_id=scorer_id))
    return run.run()


def _outputs(per_file, *, out, json_out, batch_size, extra, on_file):
    """The :class:`~scatter.run.Output` objects of a run, in the order they are called.

    Outputs written per file come first, then the results CSV (a results row is what resume
    trusts, so it is written once the file's other outputs are), then the outputs of the
    whole run, the caller's ``outputs`` and ``on_file``, which sees every row of the file
    written.
    """
    results = [] if out is None else [ResultsCsv(out)]
    whole_run = [] if json_out is None else [JsonSummary(json_out, batch_size=batch_size)]
    callback = [] if on_file is None else [FileCallback(on_file)]
    return [*per_file, *results, *whole_run, *extra, *callback]


def _model_id(scorer_id):
    """The model's SHA-256 in ``scorer_id``, else ``scorer_id`` itself (for feature files)."""
    if isinstance(scorer_id, dict) and "model_sha256" in scorer_id:
        return scorer_id["model_sha256"]
    return scorer_id


class _PooledFeatures:
    """A scorer returning ``(scores, pooled features)`` from a ``feature_scorer`` returning
    ``(scores, features)``; picklable when ``feature_scorer`` is (it runs on Dask workers).

    The features are pooled only when read (:class:`_Pooled`), so a JAX scorer's batch is
    still read one batch behind (:class:`scatter.run.batching.Batcher`).
    """

    def __init__(self, feature_scorer, pool):
        self.feature_scorer, self.pool = feature_scorer, pool

    def __call__(self, batch):
        scores, features = self.feature_scorer(batch)
        return scores, _Pooled(features, self.pool)


class _Pooled:
    """Features pooled on conversion to an array (:func:`scatter.feature_files.pool_features`)."""

    def __init__(self, features, pool):
        self.features, self.pool = features, pool

    def __array__(self, dtype=None, copy=None):
        from scatter.feature_files import pool_features

        out = pool_features(np.asarray(self.features), pool=self.pool)
        return out if dtype is None else out.astype(dtype)
