"""Scoring backends: the replaceable piece of a run that turns files into window scores.

A backend takes the list of files a run scores and yields, for each file exactly once, either
:class:`~scatter.run.messages.FileScored` (every window score, in window order) or
:class:`~scatter.run.messages.FileFailed`, in whatever order files complete. The run
(:class:`scatter.run.DetectionRun`) does everything else: the file score, the error rows for
non-finite scores, the outputs, the progress bar, the summary. So a backend that decodes and
scores somewhere else only implements :meth:`ScoringBackend.score_files`:
:class:`scatter.run.dask.DaskFiles` sends one task per file to a Dask cluster, each running
:func:`score_file` (a file decoded and scored at once, in batches of its own windows).

:class:`LocalThreads` is the backend of :func:`scatter.runner.run_detection`: decoder threads
(:class:`~scatter.run.decode.DecoderPool`) run ahead of a :class:`~scatter.run.batching.Batcher`
that batches the windows of all files together and calls the scorer in the calling thread (a
JAX scorer then uses every local device).

Example
-------
>>> import numpy as np
>>> from scatter.run import Framing
>>> backend = LocalThreads(lambda b: np.sqrt((b ** 2).mean(axis=1)), batch_size=32)
>>> framing = Framing(sr=8000, window=4000, hop=2000)
>>> for outcome in backend.score_files(["a.wav"], framing):  # doctest: +SKIP
...     print(outcome)
"""

from __future__ import annotations

import collections
import dataclasses

import numpy as np

from scatter.run.batching import Batcher
from scatter.run.decode import DecoderPool, decode_file
from scatter.run.messages import Chunk, FileDone, FileFailed, FileScored

__all__ = ["LocalThreads", "ScoringBackend", "score_file"]


class ScoringBackend:
    """What a run needs from a backend (subclass it, or provide the same two members).

    Attributes
    ----------
    n_batches : int
        Scorer calls made by the last :meth:`score_files` (``summary["batches"]``).
    """

    @property
    def n_batches(self):
        return 0

    def score_files(self, paths, framing):
        """Decode and score every file.

        Parameters
        ----------
        paths : sequence of str
            The files; an outcome's ``file_id`` is the index of its file here.
        framing : scatter.run.decode.Framing
            Sample rate, window and hop of the run.

        Yields
        ------
        outcome : FileScored or FileFailed
            One per file, as each completes. The run closes the iterator when it stops early
            (an exception, Ctrl-C): the backend then stops its work (a generator's
            ``finally``).

        Raises
        ------
        Exception
            A fault of the scorer itself (not of one file) passes through and stops the run.
        """
        raise NotImplementedError


class _FileTracker:
    """The local backend's book of files in flight: window scores (and features) collected per
    file and track, and the outcomes of the files that completed, waiting to be yielded.

    Parameters
    ----------
    n_files : int
    each : bool
        Each channel is scored (scores of a file are then ``(n_tracks, n_windows)``).
    """

    def __init__(self, n_files, *, each=False):
        self.each = bool(each)
        self._chunks = [{} for _ in range(n_files)]  # track -> [scores, ...] in window order
        self._extras = [{} for _ in range(n_files)]
        self._n_scored = [0] * n_files
        self._decoded = [None] * n_files  # FileDone once decoding reached the end
        self._finished = [False] * n_files  # outcome emitted; late windows are dropped
        self._ready = collections.deque()

    def finished(self, file_id):
        """Whether the file's outcome was already emitted."""
        return self._finished[file_id]

    def add_scores(self, owner, first, scores, extra=None):
        """Window scores (and their extra rows) from the batcher, in window order per track;
        ``owner`` is ``(file_id, track)``."""
        file_id, track = owner
        if self._finished[file_id]:
            return  # the file already failed; its late windows are dropped
        self._chunks[file_id].setdefault(track, []).append(scores)
        if extra is not None:
            self._extras[file_id].setdefault(track, []).append(extra)
        self._n_scored[file_id] += len(scores)
        self._finish_if_complete(file_id)

    def decoding_ended(self, message):
        """A :class:`FileDone` or :class:`FileFailed` from the decoders."""
        if isinstance(message, FileFailed):
            self._finish(message)
        else:
            self._decoded[message.file_id] = message
            self._finish_if_complete(message.file_id)

    def take_completed(self):
        """Yield (and forget) the outcomes completed since the last call."""
        while self._ready:
            yield self._ready.popleft()

    def _finish_if_complete(self, file_id):
        done = self._decoded[file_id]
        if done is None or self._n_scored[file_id] != done.n_windows * done.n_tracks:
            return
        tracks = range(done.n_tracks)
        scores = [np.concatenate(self._chunks[file_id][t]) for t in tracks]
        extras = self._extras[file_id]
        features = [np.concatenate(extras[t]) for t in tracks] if extras else None
        if self.each:
            scores = np.stack(scores)
            features = None if features is None else np.stack(features)
        else:
            scores = scores[0]
            features = None if features is None else features[0]
        self._finish(FileScored(file_id, done.info, done.frames_read, done.n_samples, scores,
                                features))
        self._chunks[file_id], self._extras[file_id] = {}, {}

    def _finish(self, outcome):
        self._finished[outcome.file_id] = True
        self._ready.append(outcome)


def score_file(file_id, path, framing, scorer, *, batch_size, fixed_batch=True,
               with_features=False):
    """Decode and score one file here and now: what a remote worker does with a file.

    The windows are those of the local backend (:func:`~scatter.run.decode.decode_file`) and
    are scored in batches of ``batch_size`` (the last zero-padded with ``fixed_batch``), so
    the scores equal the local backend's up to float rounding (a batch holds only this file's
    windows).

    Parameters
    ----------
    file_id : int
        Carried by the outcome.
    path : str
    framing : scatter.run.decode.Framing
    scorer : callable
        As :class:`LocalThreads`'s; with ``with_features``, returns ``(scores, features)``.
    batch_size : int
    fixed_batch : bool
    with_features : bool

    Returns
    -------
    outcome : FileScored or FileFailed
    n_batches : int
        Scorer calls made.

    Raises
    ------
    ScatterError
        When the scorer returns another shape than ``(batch,)``; exceptions of the scorer
        pass through (a fault of the model, not of the file).
    """
    files = _FileTracker(1, each=framing.channels == "each")
    batcher = Batcher(scorer, batch_size=batch_size, window=framing.window,
                      fixed_batch=fixed_batch, on_scores=files.add_scores,
                      with_extra=with_features)
    ends = []

    def send(message):
        if isinstance(message, Chunk):
            batcher.add((0, message.track), message.first, message.windows)
        else:
            ends.append(message)
        return True

    decode_file(0, path, framing, send)
    (end,) = ends
    if isinstance(end, FileDone):  # a file that failed midway is not scored further
        batcher.flush()
    files.decoding_ended(end)
    (outcome,) = files.take_completed()
    return dataclasses.replace(outcome, file_id=file_id), batcher.n_batches


class LocalThreads(ScoringBackend):
    """Decoder threads feeding one batcher; the scorer runs in the calling thread.

    Parameters
    ----------
    scorer : callable
        float32 ``(batch_size, window)`` to scores ``(batch_size,)`` (NumPy or JAX).
    batch_size : int
        Windows per scorer call; the windows of several files share a batch.
    workers : int
        Decoder threads.
    fixed_batch : bool
        Zero-pad the last batch to ``batch_size`` (see :class:`~scatter.run.batching.Batcher`).
    with_features : bool
        The scorer returns ``(scores, features)``, features one row per window: the outcomes
        carry them (:attr:`FileScored.features`).

    Examples
    --------
    >>> backend = LocalThreads(my_scorer, batch_size=32, workers=2)  # doctest: +SKIP
    """

    def __init__(self, scorer, *, batch_size, workers=2, fixed_batch=True, with_features=False):
        self.scorer = scorer
        self.batch_size, self.workers = int(batch_size), int(workers)
        self.fixed_batch = bool(fixed_batch)
        self.with_features = bool(with_features)
        self._batcher = None

    @property
    def n_batches(self):
        """Scorer calls made by the last :meth:`score_files`."""
        return 0 if self._batcher is None else self._batcher.n_batches

    def score_files(self, paths, framing):
        """Decode and score every file (see :meth:`ScoringBackend.score_files`).

        Raises
        ------
        ScatterError
            When the scorer returns another shape than ``(batch,)``.
        """
        files = _FileTracker(len(paths), each=framing.channels == "each")
        batcher = self._batcher = Batcher(
            self.scorer, batch_size=self.batch_size, window=framing.window,
            fixed_batch=self.fixed_batch, on_scores=files.add_scores,
            with_extra=self.with_features)
        with DecoderPool(paths, framing, workers=self.workers) as pool:
            for message in pool.messages():
                if files.finished(message.file_id):
                    continue
                if isinstance(message, Chunk):
                    batcher.add((message.file_id, message.track), message.first,
                                message.windows)
                else:
                    files.decoding_ended(message)
                yield from files.take_completed()
            batcher.flush()
            yield from files.take_completed()
