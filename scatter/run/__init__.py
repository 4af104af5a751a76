"""The parts of a detection run, for building runs other than :func:`scatter.runner.run_detection`.

:func:`scatter.runner.run_detection` is the function to call; this package is how it is
built, and where new outputs and new scoring backends plug in::

    paths ─► DetectionRun ─► backend.score_files(files, framing) ─► FileScored / FileFailed
                  │                 (LocalThreads: DecoderPool ─► Chunk, FileDone,
                  │                  FileFailed ─► Batcher ─► scorer;
                  │                  DaskFiles: one task per file on a Dask cluster)
                  └─► for each finished row: output.file_done(FinishedFile) ─► ... ─► end, close

- :mod:`scatter.run.run`: :class:`DetectionRun` (find files, resume, score, finish each
  file, summary);
- :mod:`scatter.run.backend`: :class:`ScoringBackend` (one method, ``score_files``) and
  :class:`LocalThreads`, decoder threads and one batcher in this process;
- :mod:`scatter.run.dask`: :class:`~scatter.run.dask.DaskFiles`, files as tasks on a
  ``dask.distributed`` cluster (imported on use: Dask is an optional extra);
- :mod:`scatter.run.output`: :class:`Output` (hooks ``found``, ``resume``, ``begin``,
  ``file_done``, ``end``, ``close``), the results and segments CSV, per-file Raven tables,
  the JSON summary;
- :mod:`scatter.run.field`: Audacity labels, the whole-run Raven table, the activity table,
  review clips, feature files;
- :mod:`scatter.run.messages`: the message types between the parts;
- :mod:`scatter.run.decode`, :mod:`scatter.run.batching`: the local backend's two halves;
- :mod:`scatter.run.settings`, :mod:`scatter.run.aggregate`: option checks, the settings file
  that ``resume`` checks, file scores.

Example
-------
>>> from scatter.run import DetectionRun, Framing, LocalThreads, ResultsCsv
>>> run = DetectionRun(["recordings/"], backend=LocalThreads(scorer, batch_size=32),
...                    framing=Framing(sr=22050, window=22050, hop=11025), threshold=0.5,
...                    aggregate=max, settings={}, outputs=[ResultsCsv("results.csv")])
...                    # doctest: +SKIP
>>> run.run()["ok"]  # doctest: +SKIP
"""

from scatter.run.aggregate import aggregate_scores
from scatter.run.backend import LocalThreads, ScoringBackend, score_file
from scatter.run.decode import Framing
from scatter.run.field import (
    ActivityOutput,
    AudacityLabels,
    FeatureFiles,
    RavenRunTableOutput,
    ReviewClips,
)
from scatter.run.messages import (
    Chunk,
    FileDone,
    FileFailed,
    FileScored,
    FinishedFile,
    RunInfo,
    WorkerExit,
)
from scatter.run.output import (
    FileCallback,
    JsonSummary,
    Output,
    PerFileOutput,
    RavenTables,
    ResultsCsv,
    SegmentsCsv,
)
from scatter.run.run import DetectionRun
from scatter.run.settings import settings_path

__all__ = ["ActivityOutput", "AudacityLabels", "Chunk", "DetectionRun", "FeatureFiles",
           "FileCallback", "FileDone", "FileFailed", "FileScored", "FinishedFile", "Framing",
           "JsonSummary", "LocalThreads", "Output", "PerFileOutput", "RavenRunTableOutput",
           "RavenTables", "ResultsCsv", "ReviewClips", "RunInfo", "ScoringBackend",
           "SegmentsCsv", "WorkerExit", "aggregate_scores", "score_file", "settings_path"]
