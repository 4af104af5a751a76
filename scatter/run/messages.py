"""The values that pass between the parts of a detection run.

Three hops, each with its own small types:

- decoder threads to the local backend (:mod:`scatter.run.decode`, on one bounded queue):
  :class:`Chunk` (consecutive windows of one file), :class:`FileDone` (a file decoded to its
  end), :class:`FileFailed` (a file that cannot be decoded) and :class:`WorkerExit` (a decoder
  thread has no more files);
- a backend to the run (:meth:`scatter.run.backend.ScoringBackend.score_files`):
  :class:`FileScored` (every window score of one file) or :class:`FileFailed`;
- the run to its outputs (:class:`scatter.run.output.Output`): :class:`RunInfo` once when the run
  begins and :class:`FinishedFile` as each file finishes.

Files are named by ``file_id``, their index in the list of files the backend was given. A file
is scored as one *track* (its channels mixed to mono, ``channels="mix"``) or as one track per
channel (``channels="each"``, :class:`scatter.run.decode.Framing`); a file's outcome always
holds all its tracks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np

from scatter.audio import AudioInfo
from scatter.errors import ScatterError
from scatter.outputs import FileResult

__all__ = ["Chunk", "FileDone", "FileFailed", "FileScored", "FinishedFile", "RunInfo",
           "WorkerExit", "error_text"]


def error_text(exc):
    """The ``error`` text of a file that failed with ``exc``: the package's own messages as
    they are, any other exception prefixed with its type."""
    return str(exc) if isinstance(exc, ScatterError) else f"{type(exc).__name__}: {exc}"


@dataclasses.dataclass(frozen=True)
class Chunk:
    """Windows ``first, first + 1, ...`` of track ``track`` of file ``file_id``.

    Attributes
    ----------
    file_id : int
    first : int
        Index of the first window in the file.
    windows : numpy.ndarray [shape=(n, window), dtype=float32]
    track : int
        0 for the mono mix; the channel index (from 0) when each channel is scored.
    """

    file_id: int
    first: int
    windows: np.ndarray
    track: int = 0


@dataclasses.dataclass(frozen=True)
class FileDone:
    """File ``file_id`` was decoded to its end: ``n_windows`` windows were sent.

    Attributes
    ----------
    file_id : int
    info : scatter.audio.AudioInfo
        The file's header.
    frames_read : int
        Frames decoded at the file's own rate (its exact length).
    n_samples : int
        Samples at the run's rate (after resampling).
    n_windows : int
        Windows cut from them (at least one), per track.
    n_tracks : int
        Tracks sent: 1 (the mono mix), or the file's channels when each is scored.
    """

    file_id: int
    info: AudioInfo
    frames_read: int
    n_samples: int
    n_windows: int
    n_tracks: int = 1


@dataclasses.dataclass(frozen=True)
class FileFailed:
    """File ``file_id`` gets an error row: it could not be decoded or scored.

    Attributes
    ----------
    file_id : int
    info : scatter.audio.AudioInfo or None
        The header, when it could be read.
    error : str
        The reason, as written in the results row.
    """

    file_id: int
    info: AudioInfo | None
    error: str


@dataclasses.dataclass(frozen=True)
class WorkerExit:
    """A decoder thread has finished (no more files to take, or the run is stopping)."""


@dataclasses.dataclass(frozen=True)
class FileScored:
    """Every window of file ``file_id`` has its score.

    Attributes
    ----------
    file_id : int
    info : scatter.audio.AudioInfo
    frames_read : int
        Frames decoded at the file's own rate.
    n_samples : int
        Samples at the run's rate.
    scores : numpy.ndarray [shape=(n_windows,) or (n_tracks, n_windows), dtype=float64]
        Window scores in window order, as the scorer returned them (not yet checked to be
        finite); one row per channel when each channel is scored.
    features : numpy.ndarray [shape=(n_windows, ...) or (n_tracks, n_windows, ...)] or None
        The classifier's input per window, when the run keeps features; None otherwise.
    """

    file_id: int
    info: AudioInfo
    frames_read: int
    n_samples: int
    scores: np.ndarray
    features: np.ndarray | None = None

    @property
    def tracks(self):
        """The window scores as ``(n_tracks, n_windows)``."""
        scores = np.asarray(self.scores)
        return scores if scores.ndim == 2 else scores[None]


@dataclasses.dataclass(frozen=True)
class RunInfo:
    """What every output may need to know when a run begins.

    Attributes
    ----------
    paths : list of str
        Every audio file of the run, in the order of the results (kept ones included).
    todo : list of str
        The files this run scores (``paths`` less those kept from an earlier run).
    kept : Mapping of str to sequence of dict
        Results rows kept from an earlier run (``resume=True``), keyed by
        ``os.path.normpath(path)``: a file's one row, or its rows of channels 1, 2, ... when
        each channel is scored; empty otherwise.
    settings : dict
        The run's settings as recorded for ``resume`` (:func:`scatter.runner.settings_path`):
        ``sr``, ``window_s``, ``hop_s``, ``threshold``, ``aggregate``, ``scorer``.
    sr : int
        Sample rate of the windows, Hz.
    window, hop : int
        Window length and hop in samples.
    threshold : float
        ``label = 1`` at or above it.
    channels : {"mix", "each"}
        Channels mixed to one results row per file, or one row per file and channel.
    provenance : dict
        What made the results (:func:`scatter.run.settings.provenance`): ``package_version``,
        ``model_sha256``, ``threshold``, ``scorer``.
    """

    paths: Sequence[str]
    todo: Sequence[str]
    kept: Mapping[str, Sequence[dict]]
    settings: dict
    sr: int
    window: int
    hop: int
    threshold: float
    channels: str = "mix"
    provenance: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class FinishedFile:
    """One file's outcome, handed to every output as the file finishes.

    Attributes
    ----------
    result : scatter.outputs.FileResult
        The results row (``result.ok`` is False for an error row).
    row : dict of str
        ``result.to_row()``, as written to the results CSV.
    starts_s, ends_s : numpy.ndarray [shape=(n_windows,), dtype=float64]
        Window start and end times in seconds (the last window ends at the end of the audio);
        empty for an error row.
    scores : numpy.ndarray [shape=(n_windows,), dtype=float64]
        Window scores, all finite; empty for an error row.
    features : numpy.ndarray [shape=(n_windows, ...)] or None
        The classifier's input per window (the run keeps features), else None.
    last : bool
        Whether this is the file's last row: a file scored channel by channel has one
        :class:`FinishedFile` per channel (``result.channel`` 1, 2, ...), handed over one after
        the other; an output that needs the whole file waits for ``last``.
    """

    result: FileResult
    row: dict
    starts_s: np.ndarray
    ends_s: np.ndarray
    scores: np.ndarray
    features: np.ndarray | None = None
    last: bool = True

    @property
    def path(self):
        """The audio file."""
        return self.result.path
