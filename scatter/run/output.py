"""What a run writes as files finish: one :class:`Output` object per kind of output.

An output is told about the run through these hooks, always in this order:

0. :meth:`Output.found`: the run's audio files, once they are listed (reads nothing);
1. :meth:`Output.resume` (only when ``resume=True`` finds an earlier results CSV): read what
   to keep of the earlier run; nothing may be written yet, so that a run refused here (another
   model, an unreadable file) leaves every output as it was;
2. :meth:`Output.begin`: create the files (atomically), with the kept part;
3. :meth:`Output.file_done`: once per results row of this run, as its file finishes, in the
   calling thread: once per file, or once per channel (``done.result.channel`` 1, 2, ...,
   one after the other, ``done.last`` on the file's last) when each channel is scored;
4. :meth:`Output.end`: when every file is done (not after an error or Ctrl-C);
5. :meth:`Output.close`: always, last; after an interruption the files must hold every
   finished file, whole.

The run calls the outputs in the order it was given. :class:`ResultsCsv` must come after every
other output that writes per-file files: a row in the results CSV is what ``resume`` trusts, so
it is written only when the file's other outputs are. An output that only needs the whole run
(a summary table, say) does its work in :meth:`Output.end`.

The outputs here: :class:`SegmentsCsv`, :class:`RavenTables`, :class:`ResultsCsv` (and the
settings file), :class:`JsonSummary` and :class:`FileCallback` (the ``on_file`` hook); the
field outputs (Audacity labels, the whole-run Raven table, the activity table, review clips,
feature files) are in :mod:`scatter.run.field`. They call the writers of
:mod:`scatter.outputs` and the modules beside it.

Per-file outputs of a file's channels (``channels="each"``) are named
:func:`scatter.outputs.channel_output_path` (``<name>.ch2.txt``); an error row removes the
files an earlier run left for the file (:class:`PerFileOutput`).

Example
-------
An output that counts the positive files::

    class CountPositives(Output):
        def begin(self, run):
            self.n = 0

        def file_done(self, done):
            self.n += done.result.ok and done.result.label == 1
"""

from __future__ import annotations

import contextlib
import os
import re

from scatter.outputs import (
    RESULT_FIELDS,
    SEGMENT_FIELDS,
    CsvJournal,
    channel_output_path,
    format_segment_rows,
    merge_detections,
    output_paths,
    read_rows,
    write_json,
    write_raven_table,
)
from scatter.run.settings import settings_path

__all__ = ["STANDARD_LOCATIONS", "FileCallback", "JsonSummary", "Output", "PerFileOutput",
           "RavenTables", "ResultsCsv", "SegmentsCsv", "file_selections"]

#: The keys ``summary["outputs"]`` always holds (None for an output not written).
STANDARD_LOCATIONS = ("results", "settings", "segments", "raven", "json")


class Output:
    """Base class of a run's outputs: every hook does nothing (see the module docstring)."""

    def locations(self):
        """Where this output writes, for ``summary["outputs"]``.

        Returns
        -------
        dict of str to str
        """
        return {}

    def found(self, paths):
        """The run's audio files, listed before anything is resumed or written.

        Parameters
        ----------
        paths : list of str
            In the order of the results (as :attr:`RunInfo.paths`).
        """

    def resume(self, kept):
        """Read what to keep of an earlier run; write nothing.

        Parameters
        ----------
        kept : Mapping of str to sequence of dict
            The results rows kept (scored files), keyed by ``os.path.normpath(path)``: a
            file's row, or its rows of channels 1, 2, ... (:attr:`RunInfo.kept`).

        Raises
        ------
        ScatterError
            When the earlier output cannot be read: the run stops before any output is
            touched.
        """

    def begin(self, run):
        """Create the output for a run.

        Parameters
        ----------
        run : scatter.run.messages.RunInfo
        """

    def file_done(self, done):
        """Write one finished file (a scored file or an error row).

        Parameters
        ----------
        done : scatter.run.messages.FinishedFile
            One results row of the file (one per channel when each channel is scored).
        """

    def end(self, rows, summary):
        """Finish the output once every file is done.

        Parameters
        ----------
        rows : list of dict
            Every results row of the run, kept ones included, in the order of the files.
        summary : dict
            As returned by :func:`scatter.runner.run_detection` (with ``results``).
        """

    def close(self):
        """Release files; called once, also after an error or Ctrl-C (idempotent)."""


class ResultsCsv(Output):
    """The results CSV (one row per file, or per file and channel) and the settings file
    beside it.

    A file's rows are appended in one write when its last row is done
    (:class:`scatter.outputs.CsvJournal`); at the end the file is rewritten in the order of
    the files. The settings file holds the run's ``settings`` (what ``resume`` compares) and
    its ``provenance`` (package version, model fingerprint, threshold).

    Parameters
    ----------
    path : str
    """

    def __init__(self, path):
        self.path = path
        self._journal = None
        self._pending = []

    def locations(self):
        return {"results": self.path, "settings": settings_path(self.path)}

    def begin(self, run):
        write_json(settings_path(self.path), {"settings": run.settings,
                                              "provenance": run.provenance})
        self._journal = CsvJournal(self.path, RESULT_FIELDS,
                                   keep_rows=[r for rows in run.kept.values() for r in rows])

    def file_done(self, done):
        self._pending.append(done.row)
        if done.last:
            rows, self._pending = self._pending, []
            self._journal.append(rows)

    def end(self, rows, summary):
        self._journal.rewrite(rows)

    def close(self):
        if self._journal is not None:
            self._journal.close()


class SegmentsCsv(Output):
    """The segments CSV: one row per window of every scored file (and channel), with the
    clock time the window starts where the recording's start is known.

    Parameters
    ----------
    path : str
    """

    def __init__(self, path):
        self.path = path
        self._kept = []
        self._journal = None

    def locations(self):
        return {"segments": self.path}

    def resume(self, kept):
        if os.path.exists(self.path):
            channels = {(p, r["channel"]) for p, rows in kept.items() for r in rows}
            self._kept = [r for r in read_rows(self.path, SEGMENT_FIELDS)
                          if (os.path.normpath(r["path"]), r["channel"]) in channels]

    def begin(self, run):
        self._journal = CsvJournal(self.path, SEGMENT_FIELDS, keep_rows=self._kept)
        self._kept = []

    def file_done(self, done):
        if done.result.ok:
            self._journal.append(format_segment_rows(
                done.path, done.starts_s, done.ends_s, done.scores,
                start_time=done.result.start_time, channel=done.result.channel))

    def close(self):
        if self._journal is not None:
            self._journal.close()


def file_selections(done, threshold):
    """A finished file's selections: windows at or above ``threshold``, adjacent ones merged
    (:func:`scatter.outputs.merge_detections`); empty for an error row.

    Parameters
    ----------
    done : scatter.run.messages.FinishedFile
    threshold : float

    Returns
    -------
    list of (float, float, float)
        ``(begin_s, end_s, score)``.
    """
    if not done.result.ok:
        return []
    return merge_detections(done.starts_s, done.ends_s, done.scores, threshold=threshold)


class PerFileOutput(Output):
    """Base of the outputs that write one file per audio file (and channel) in a folder.

    Names come from :func:`scatter.outputs.output_paths` over the run's files (so a resumed
    run writes the same ones) with ``suffix``, and :func:`scatter.outputs.channel_output_path`
    for a channel scored on its own. Subclasses implement :meth:`write`; an error row calls
    :meth:`remove`, which deletes what an earlier run left for the file (its mixed and its
    per-channel files), so that no output outlives its file's score.

    Parameters
    ----------
    folder : str
        Created when the run begins.
    suffix : str
        Appended to each output's stem (``".txt"``).
    """

    location = None  #: the key of ``summary["outputs"]``

    def __init__(self, folder, *, suffix):
        self.folder = os.fsdecode(folder)
        self.suffix = suffix
        self.threshold = None
        self._targets = {}

    def locations(self):
        return {} if self.location is None else {self.location: self.folder}

    def begin(self, run):
        os.makedirs(self.folder, exist_ok=True)
        self._targets = output_paths(run.paths, self.folder, suffix=self.suffix)
        self.threshold = run.threshold

    def target(self, done):
        """The output path of a finished row (None for a file outside the run's list)."""
        base = self._targets.get(done.path)
        return None if base is None else channel_output_path(base, self.suffix,
                                                             done.result.channel)

    def file_done(self, done):
        base = self._targets.get(done.path)
        if base is None:
            return
        if done.result.ok:
            self.write(self.target(done), done)
        else:
            self.remove(base)

    def write(self, path, done):
        """Write the output of one scored row to ``path`` (atomically)."""
        raise NotImplementedError

    def remove(self, base):
        """Delete the file's output ``base`` and its per-channel outputs, where they exist."""
        folder, name = os.path.split(base)
        stem = name[:len(name) - len(self.suffix)] if self.suffix else name
        pattern = re.compile(re.escape(stem) + r"(\.ch\d+)?" + re.escape(self.suffix))
        with contextlib.suppress(OSError):
            for entry in os.listdir(folder or "."):
                if pattern.fullmatch(entry):
                    os.unlink(os.path.join(folder, entry))


class RavenTables(PerFileOutput):
    """One Raven Pro selection table per scored file (windows at or above the threshold,
    adjacent ones merged), ``<name>.Table.1.selections.txt`` mirroring the audio folders
    (:func:`scatter.outputs.raven_table_paths`); a file without detections gets a table with
    its header only. The band stays below each file's Nyquist frequency; a channel scored on
    its own has its table ``<name>.ch2.Table.1.selections.txt``, its selections in Raven's
    ``Channel`` 2.

    Parameters
    ----------
    folder : str
        Created if missing.
    band_hz : (float, float)
        Frequency band of every selection (lowered to each file's Nyquist frequency).
    """

    location = "raven"

    def __init__(self, folder, *, band_hz):
        super().__init__(folder, suffix=".Table.1.selections.txt")
        self.band_hz = band_hz

    def write(self, path, done):
        low, high = self.band_hz
        write_raven_table(path, file_selections(done, self.threshold), low_hz=low, high_hz=high,
                          sample_rate=done.result.sample_rate,
                          channel=done.result.channel or 1)


class JsonSummary(Output):
    """A JSON file with the settings, the provenance (package version, model fingerprint,
    threshold), the summary and every results row, written at the end.

    Parameters
    ----------
    path : str
    batch_size : int
        Recorded with the run's settings.
    """

    def __init__(self, path, *, batch_size):
        self.path = path
        self.batch_size = int(batch_size)
        self._settings = self._provenance = None

    def locations(self):
        return {"json": self.path}

    def begin(self, run):
        self._settings = {**run.settings, "batch_size": self.batch_size}
        self._provenance = run.provenance

    def end(self, rows, summary):
        write_json(self.path, {
            "settings": self._settings,
            "provenance": self._provenance,
            "summary": {k: v for k, v in summary.items() if k != "results"},
            "files": summary["results"]})


class FileCallback(Output):
    """Calls ``on_file(result, starts_s, ends_s, scores)`` as each file finishes (plots,
    live use); put it last, so that the file's rows are written when it runs.

    Parameters
    ----------
    on_file : callable
    """

    def __init__(self, on_file):
        self.on_file = on_file

    def file_done(self, done):
        self.on_file(done.result, done.starts_s, done.ends_s, done.scores)
