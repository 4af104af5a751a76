"""The outputs field users ask of a detection run, as :class:`~scatter.run.output.Output` objects.

- :class:`AudacityLabels`: one Audacity label file per audio file (:mod:`scatter.selections`);
- :class:`RavenRunTableOutput`: one Raven Pro selection table for the whole run
  (:class:`scatter.selections.RavenRunTable`);
- :class:`ActivityOutput`: activity per site and clock hour
  (:class:`scatter.activity_table.ActivityTable`);
- :class:`ReviewClips`: WAV snippets of each file's best detections (:mod:`scatter.clips`);
- :class:`FeatureFiles`: the classifier's per-window features, one ``.npz`` per file
  (:mod:`scatter.feature_files`).

Each is written as files finish and resumes as the results CSV does (the module docstring of
:mod:`scatter.outputs` says how each writer survives an interruption); they go before
:class:`~scatter.run.output.ResultsCsv` in a run's outputs, since a file's results row is what
``resume`` trusts. Every scored file gets its per-file outputs, detections or not (an empty
label file, a feature file), except clips, which exist only for detections.

Example
-------
>>> from scatter.run import DetectionRun, ResultsCsv
>>> from scatter.run.field import AudacityLabels, RavenRunTableOutput
>>> outputs = [AudacityLabels("labels"), RavenRunTableOutput("run.selections.txt"),
...            ResultsCsv("results.csv")]
>>> DetectionRun(["recordings/"], outputs=outputs, ...).run()  # doctest: +SKIP
"""

from __future__ import annotations

import os

import numpy as np

from scatter.activity_table import ActivityTable, site_names
from scatter.clips import clip_prefixes, remove_clips, write_clips
from scatter.feature_files import write_features
from scatter.outputs import channel_output_path
from scatter.run.output import Output, PerFileOutput, file_selections
from scatter.selections import RavenRunTable, write_audacity_labels

__all__ = ["ActivityOutput", "AudacityLabels", "FeatureFiles", "RavenRunTableOutput",
           "ReviewClips"]


class AudacityLabels(PerFileOutput):
    """One Audacity label file per scored file (``<name>.txt``, mirroring the audio folders;
    ``<name>.ch2.txt`` for a channel scored on its own): a line ``begin<TAB>end<TAB>bird
    0.912`` per merged detection, an empty file when there is none.

    Parameters
    ----------
    folder : str
    label : str
        The text before each score.
    """

    location = "audacity"

    def __init__(self, folder, *, label="bird"):
        super().__init__(folder, suffix=".txt")
        self.label = label

    def write(self, path, done):
        write_audacity_labels(path, file_selections(done, self.threshold), label=self.label)


class RavenRunTableOutput(Output):
    """One Raven Pro selection table for the whole run (``Begin Path``, ``File Offset (s)``,
    ``Begin Time (s)`` cumulative over the run's scored files in the run's order, selections
    numbered from 1, the band below each file's Nyquist frequency; channels in Raven's
    ``Channel`` column).

    Parameters
    ----------
    path : str
        The table; its folder must exist.
    band_hz : (float, float) or None
        Band of every selection; None: 0 to each file's Nyquist frequency.
    """

    def __init__(self, path, *, band_hz=None):
        self.path = os.fsdecode(path)
        self.band_hz = band_hz
        self._order = []
        self._kept = None
        self._table = None
        self._threshold = None
        self._pending = []

    def locations(self):
        return {"raven_table": self.path}

    def found(self, paths):
        self._order = list(paths)

    def resume(self, kept):
        rows = [r for file_rows in kept.values() for r in file_rows]
        self._kept = RavenRunTable.read_kept(self.path, rows, order=self._order)

    def begin(self, run):
        self._threshold = run.threshold
        self._table = RavenRunTable(self.path, order=run.paths, band_hz=self.band_hz,
                                    kept=self._kept)
        self._kept = None

    def file_done(self, done):
        self._table.add(done.result, file_selections(done, self._threshold))

    def close(self):
        if self._table is not None:
            self._table.close()


class ActivityOutput(Output):
    """Activity per site (the recording's folder, :func:`scatter.activity_table.site_names`)
    and clock hour: recorded seconds, windows and windows at or above the threshold.

    A file whose channels are scored one by one counts once: a window is active when any of
    its channels scores at or above the threshold.

    Parameters
    ----------
    path : str
        The CSV table; its folder must exist. Its journal is ``path + ".parts.csv"``.
    timezone : str or datetime.tzinfo or None
        Clock of the hours (:func:`scatter.recorders.parse_timezone`); None: each file's own.
    flush_s : float
        The table is rewritten at most this often while files finish, and at the end.
    """

    def __init__(self, path, *, timezone=None, flush_s=60.0):
        self.path = os.fsdecode(path)
        self.timezone = timezone
        self.flush_s = flush_s
        self._kept = ()
        self._table = None
        self._sites = {}
        self._scores = []

    def locations(self):
        return {"activity": self.path}

    def resume(self, kept):
        self._kept = ActivityTable.read_kept(self.path, kept.keys())

    def begin(self, run):
        self._sites = site_names(run.paths)
        self._table = ActivityTable(self.path, threshold=run.threshold, timezone=self.timezone,
                                    kept=self._kept, flush_s=self.flush_s)
        self._kept = ()

    def file_done(self, done):
        if done.result.ok:
            self._scores.append(done)
        if not done.last:
            return
        scored, self._scores = self._scores, []
        if not scored:
            return
        first = scored[0]  # a channel whose scores were not finite has no part here
        r = first.result
        self._table.add(r.path, site=self._sites.get(r.path, ""), start=r.start_time,
                        duration_s=r.duration_s, starts_s=first.starts_s,
                        scores=np.max(np.stack([d.scores for d in scored]), axis=0))

    def end(self, rows, summary):
        self._table.write()  # current for the outputs after this one (diel plots)

    def rows(self):
        """The table's rows so far (:meth:`scatter.activity_table.ActivityTable.rows`)."""
        return [] if self._table is None else self._table.rows()

    def close(self):
        if self._table is not None:
            self._table.close()


class ReviewClips(Output):
    """WAV clips of each scored file's ``top`` best detections, padded by ``pad_s``, cut from
    the source at its own rate and channels (:func:`scatter.clips.write_clips`), named
    ``<name>_<begin>s_<score>.wav`` (``<name>.ch2_...`` for a channel scored on its own). A
    file scored again has its earlier clips replaced; an error row removes them.

    Parameters
    ----------
    folder : str
    top : int
        Clips per file (per channel) at most.
    pad_s : float
    """

    def __init__(self, folder, *, top=10, pad_s=0.5):
        self.folder = os.fsdecode(folder)
        self.top, self.pad_s = top, pad_s
        self._prefixes = {}
        self._threshold = None

    def locations(self):
        return {"clips": self.folder}

    def begin(self, run):
        os.makedirs(self.folder, exist_ok=True)
        self._prefixes = clip_prefixes(run.paths, self.folder)
        self._threshold = run.threshold

    def file_done(self, done):
        prefix = self._prefixes.get(done.path)
        if prefix is None:
            return
        if not done.result.ok:
            remove_clips(prefix)
            return
        write_clips(done.path, file_selections(done, self._threshold),
                    prefix=channel_output_path(prefix, "", done.result.channel), top=self.top,
                    pad_s=self.pad_s)


class FeatureFiles(PerFileOutput):
    """The classifier's features of every window of each scored file: ``<name>.npz``
    (:func:`scatter.feature_files.write_features`) with the window starts and, in its
    metadata, the feature layout, the framing and the model.

    The run must keep features (:attr:`scatter.run.messages.FinishedFile.features`: a scorer
    that returns them, ``with_features`` of the backend).

    Parameters
    ----------
    folder : str
    layout : list of dict
        :func:`scatter.feature_files.feature_layout` of the model.
    pool : {"mean", "max", "none"}
        How the features were pooled over each window's frames.
    frame_s : float or None
        Feature frame spacing, seconds.
    model : JSON-serialisable or None
        The model's identifier (its SHA-256).
    """

    location = "features"

    def __init__(self, folder, *, layout, pool="mean", frame_s=None, model=None):
        super().__init__(folder, suffix=".npz")
        self.layout, self.pool, self.frame_s, self.model = layout, pool, frame_s, model
        self._framing = {}

    def begin(self, run):
        super().begin(run)
        self._framing = {"sr": run.sr, "window_s": run.window / run.sr,
                         "hop_s": run.hop / run.sr}

    def write(self, path, done):
        write_features(path, done.features, done.starts_s, layout=self.layout, pool=self.pool,
                       frame_s=self.frame_s, model=self.model, **self._framing)
