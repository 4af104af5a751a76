"""Decoder threads: files in, :mod:`~scatter.run.messages` out, running ahead of the scorer.

:class:`DecoderPool` starts ``workers`` threads that take files from a shared list, stream each
through :class:`scatter.audio.AudioStream` (mono, resampled to the run's rate) and
:class:`scatter.framing.Framer`, and put :class:`~scatter.run.messages.Chunk` messages of
windows on one bounded queue, then :class:`~scatter.run.messages.FileDone` or
:class:`~scatter.run.messages.FileFailed`. The bound keeps memory flat: a decoder waits while
the scorer is behind. A file's failure is its own message; it never stops a thread.

Example
-------
>>> framing = Framing(sr=8000, window=4000, hop=2000)
>>> with DecoderPool(["a.wav", "b.flac"], framing, workers=2) as pool:  # doctest: +SKIP
...     for message in pool.messages():
...         print(type(message).__name__, message.file_id)
"""

from __future__ import annotations

import dataclasses
import queue
import threading

import numpy as np

from scatter.audio import AudioStream
from scatter.errors import ScatterError
from scatter.framing import Framer, window_starts
from scatter.run.messages import Chunk, FileDone, FileFailed, WorkerExit, error_text

__all__ = ["DecoderPool", "Framing", "decode_file"]

#: Seconds a blocked decoder or the reader waits before looking at the stop flag again.
_POLL_S = 0.1


@dataclasses.dataclass(frozen=True)
class Framing:
    """How a run cuts audio into windows.

    Attributes
    ----------
    sr : int
        Sample rate of the windows, Hz (audio is resampled to it).
    window, hop : int
        Window length and hop in samples, ``0 < hop <= window``.
    block_frames : int
        Frames decoded per block at the file's rate; a decoder's memory is proportional to it.
    channels : {"mix", "each"}
        ``"mix"``: a file's channels are averaged to one mono track; ``"each"``: every channel
        is a track of its own, cut into the same windows (a call recorded out of phase on two
        microphones cancels in the mix, not in either channel).
    """

    sr: int
    window: int
    hop: int
    block_frames: int = 1 << 17
    channels: str = "mix"

    def window_times(self, n_windows, n_samples):
        """Start and end times of a file's windows, in seconds.

        Parameters
        ----------
        n_windows : int
        n_samples : int
            The file's length at ``sr``; the last window ends there (it holds the file's last
            ``window`` samples, or the whole file zero-padded when it is shorter than one window:
            :func:`scatter.framing.window_starts`).

        Returns
        -------
        starts_s, ends_s : numpy.ndarray [shape=(n_windows,), dtype=float64]
        """
        starts = window_starts(n_samples, window=self.window, hop=self.hop)
        if len(starts) != n_windows:
            raise ScatterError(f"{n_windows} windows do not frame {n_samples} samples "
                               f"(window {self.window}, hop {self.hop}: {len(starts)} windows)")
        return starts / self.sr, np.minimum(starts + self.window, n_samples) / self.sr


def decode_file(file_id, path, framing, send):
    """Stream one file into windows (of each track, :attr:`Framing.channels`); report its end
    or its error.

    Parameters
    ----------
    file_id : int
        Carried by every message.
    path : str
        The audio file.
    framing : Framing
    send : callable
        ``send(message) -> bool``; False means the run is stopping, and decoding ends there.

    Notes
    -----
    Any exception while decoding becomes one :class:`FileFailed` message (no score is made up
    for a file with zero frames either); nothing is raised.
    """
    info = None
    try:
        stream = AudioStream(path, sr=framing.sr, mono=True, block_frames=framing.block_frames)
        mono = framing.channels != "each" or stream.info.channels == 1
        if not mono:  # reopened to decode the channels apart (a mono file is read as mono)
            stream.close()
            stream = AudioStream(path, sr=framing.sr, mono=False,
                                 block_frames=framing.block_frames)
        with stream:
            info = stream.info
            framers = [Framer(window=framing.window, hop=framing.hop)
                       for _ in range(1 if mono else info.channels)]
            for block in stream:
                tracks = [block] if mono else block
                for track, (framer, y) in enumerate(zip(framers, tracks, strict=True)):
                    for first, windows in framer.push(y):
                        if not send(Chunk(file_id, first, windows, track)):
                            return
            for track, framer in enumerate(framers):
                for first, windows in framer.finish():
                    if not send(Chunk(file_id, first, windows, track)):
                        return
            framer = framers[0]
            if framer.n_windows == 0:
                raise ScatterError(f"{path!r}: contains no audio frames; nothing to score")
            send(FileDone(file_id, info, stream.frames_read, framer.n_samples, framer.n_windows,
                          len(framers)))
    except Exception as exc:  # one file's failure must not stop the run
        send(FileFailed(file_id, info, error_text(exc)))


class DecoderPool:
    """Threads decoding files ahead of the scorer into one bounded queue.

    Parameters
    ----------
    paths : sequence of str
        The files; a message's ``file_id`` is the index of its file here.
    framing : Framing
    workers : int
        Decoder threads (at most one per file).

    Notes
    -----
    Use it as a context manager: leaving the block (normally, on an error or on Ctrl-C) stops
    the threads, which drop what they were decoding.
    """

    def __init__(self, paths, framing, *, workers):
        self.paths = list(paths)
        self.framing = framing
        self.n_threads = min(int(workers), max(len(self.paths), 1))
        self._queue = queue.Queue(maxsize=4 * int(workers))
        self._stop = threading.Event()
        self._jobs = iter(enumerate(self.paths))
        self._jobs_lock = threading.Lock()
        self._threads = []

    def __enter__(self):
        for _ in range(self.n_threads):
            thread = threading.Thread(target=self._work, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        """Stop the threads and wait a little for them (idempotent)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5.0)

    def _send(self, message):
        """Queue ``message`` unless the run is stopping; return whether it went."""
        while not self._stop.is_set():
            try:
                self._queue.put(message, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _next_job(self):
        with self._jobs_lock:
            return next(self._jobs, None)

    def _work(self):
        try:
            while not self._stop.is_set():
                job = self._next_job()
                if job is None:
                    break
                decode_file(*job, self.framing, self._send)
        finally:
            self._send(WorkerExit())

    def messages(self):
        """The decoders' messages, in the order they arrive, until every thread has finished.

        Yields
        ------
        message : Chunk or FileDone or FileFailed
            A file's chunks come in window order, then its one FileDone or FileFailed.
        """
        running = len(self._threads)
        while running:
            try:
                message = self._queue.get(timeout=2 * _POLL_S)
            except queue.Empty:
                if not any(t.is_alive() for t in self._threads) and self._queue.empty():
                    return  # a thread died without saying so; the caller finds its files open
                continue
            if isinstance(message, WorkerExit):
                running -= 1
            else:
                yield message
