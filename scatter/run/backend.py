"""Scoring backends: the replaceable piece of a run that turns files into window scores.

A backend takes the list of files a run scores and yields, for each file exactly once, either
:class:`~scatter.run.messages.FileScored` (every window score, in window order) or
:class:`~scatter.run.messages.FileFailed`, in whatever order files complete. The run
(:class:`scatter.run.DetectionRun`) does everything else: the file score, the error rows for
non-finite scores, the outputs, the progress bar, the summary. So a backend that decodes and
scores somewhere else (a Dask cluster, say: one task per file or per group of files, results
taken as they complete) only implements :meth:`ScoringBackend.score_files`.

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

import numpy as np

from scatter.run.batching import Batcher
from scatter.run.decode import DecoderPool
from scatter.run.messages import Chunk, FileFailed, FileScored

__all__ = ["LocalThreads", "ScoringBackend"]


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
    """The local backend's book of files in flight: window scores collected per file, and
    the outcomes of the files that completed, waiting to be yielded."""

    def __init__(self, n_files):
        self._chunks = [[] for _ in range(n_files)]
        self._n_scored = [0] * n_files
        self._decoded = [None] * n_files  # FileDone once decoding reached the end
        self._finished = [False] * n_files  # outcome emitted; late windows are dropped
        self._ready = collections.deque()

    def finished(self, file_id):
        """Whether the file's outcome was already emitted."""
        return self._finished[file_id]

    def add_scores(self, file_id, first, scores):
        """Window scores from the batcher (in window order)."""
        if self._finished[file_id]:
            return  # the file already failed; its late windows are dropped
        self._chunks[file_id].append(scores)
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
        if done is not None and self._n_scored[file_id] == done.n_windows:
            self._finish(FileScored(file_id, done.info, done.frames_read, done.n_samples,
                                    np.concatenate(self._chunks[file_id])))
            self._chunks[file_id] = []

    def _finish(self, outcome):
        self._finished[outcome.file_id] = True
        self._ready.append(outcome)


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

    Examples
    --------
    >>> backend = LocalThreads(my_scorer, batch_size=32, workers=2)  # doctest: +SKIP
    """

    def __init__(self, scorer, *, batch_size, workers=2, fixed_batch=True):
        self.scorer = scorer
        self.batch_size, self.workers = int(batch_size), int(workers)
        self.fixed_batch = bool(fixed_batch)
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
        files = _FileTracker(len(paths))
        batcher = self._batcher = Batcher(
            self.scorer, batch_size=self.batch_size, window=framing.window,
            fixed_batch=self.fixed_batch, on_scores=files.add_scores)
        with DecoderPool(paths, framing, workers=self.workers) as pool:
            for message in pool.messages():
                if files.finished(message.file_id):
                    continue
                if isinstance(message, Chunk):
                    batcher.add(message.file_id, message.first, message.windows)
                else:
                    files.decoding_ended(message)
                yield from files.take_completed()
            batcher.flush()
            yield from files.take_completed()
