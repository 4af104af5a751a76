"""What a run writes as files finish: one :class:`Output` object per kind of output.

An output is told about the run through five hooks, always in this order:

1. :meth:`Output.resume` (only when ``resume=True`` finds an earlier results CSV): read what
   to keep of the earlier run; nothing may be written yet, so that a run refused here (another
   model, an unreadable file) leaves every output as it was;
2. :meth:`Output.begin`: create the files (atomically), with the kept part;
3. :meth:`Output.file_done`: once per file of this run, as it finishes, in the calling thread;
4. :meth:`Output.end`: when every file is done (not after an error or Ctrl-C);
5. :meth:`Output.close`: always, last; after an interruption the files must hold every
   finished file, whole.

The run calls the outputs in the order it was given. :class:`ResultsCsv` must come after every
other output that writes per-file files: a row in the results CSV is what ``resume`` trusts, so
it is written only when the file's other outputs are. An output that only needs the whole run
(a summary table, say) does its work in :meth:`Output.end`.

Today's outputs: :class:`SegmentsCsv`, :class:`RavenTables`, :class:`ResultsCsv` (and the
settings file), :class:`JsonSummary` and :class:`FileCallback` (the ``on_file`` hook). They
call the writers of :mod:`scatter.outputs`.

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

import os

from scatter.outputs import (
    RESULT_FIELDS,
    SEGMENT_FIELDS,
    CsvJournal,
    format_segment_rows,
    merge_detections,
    raven_table_paths,
    read_rows,
    write_json,
    write_raven_table,
)
from scatter.run.settings import settings_path

__all__ = ["STANDARD_LOCATIONS", "FileCallback", "JsonSummary", "Output", "RavenTables",
           "ResultsCsv", "SegmentsCsv"]

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

    def resume(self, kept):
        """Read what to keep of an earlier run; write nothing.

        Parameters
        ----------
        kept : Mapping of str to dict
            The results rows kept (scored files), keyed by ``os.path.normpath(path)``.

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
    """The results CSV (one row per file) and the settings file beside it.

    Rows are appended as files finish (:class:`scatter.outputs.CsvJournal`); at the end the
    file is rewritten in the order of the files.

    Parameters
    ----------
    path : str
    """

    def __init__(self, path):
        self.path = path
        self._journal = None

    def locations(self):
        return {"results": self.path, "settings": settings_path(self.path)}

    def begin(self, run):
        write_json(settings_path(self.path), {"settings": run.settings})
        self._journal = CsvJournal(self.path, RESULT_FIELDS, keep_rows=run.kept.values())

    def file_done(self, done):
        self._journal.append([done.row])

    def end(self, rows, summary):
        self._journal.rewrite(rows)

    def close(self):
        if self._journal is not None:
            self._journal.close()


class SegmentsCsv(Output):
    """The segments CSV: one row per window of every scored file.

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
            self._kept = [r for r in read_rows(self.path, SEGMENT_FIELDS)
                          if os.path.normpath(r["path"]) in kept]

    def begin(self, run):
        self._journal = CsvJournal(self.path, SEGMENT_FIELDS, keep_rows=self._kept)
        self._kept = []

    def file_done(self, done):
        if done.result.ok:
            self._journal.append(format_segment_rows(done.path, done.starts_s, done.ends_s,
                                                     done.scores))

    def close(self):
        if self._journal is not None:
            self._journal.close()


class RavenTables(Output):
    """One Raven Pro selection table per scored file (windows at or above the threshold,
    adjacent ones merged); an error row removes a table left by an earlier run.

    Parameters
    ----------
    folder : str
        Created if missing; tables mirror the folders of the audio files
        (:func:`scatter.outputs.raven_table_paths`).
    band_hz : (float, float)
        Frequency band of every selection.
    """

    def __init__(self, folder, *, band_hz):
        self.folder = folder
        self.band_hz = band_hz
        self._tables = {}
        self._threshold = None

    def locations(self):
        return {"raven": self.folder}

    def begin(self, run):
        os.makedirs(self.folder, exist_ok=True)
        self._tables = raven_table_paths(run.paths, self.folder)
        self._threshold = run.threshold

    def file_done(self, done):
        table = self._tables.get(done.path)
        if table is None:
            return
        if done.result.ok:
            low, high = self.band_hz
            write_raven_table(table, merge_detections(done.starts_s, done.ends_s, done.scores,
                                                      threshold=self._threshold),
                              low_hz=low, high_hz=high)
        elif os.path.exists(table):
            os.unlink(table)  # a stale table from an earlier run


class JsonSummary(Output):
    """A JSON file with the settings, the summary and every results row, written at the end.

    Parameters
    ----------
    path : str
    batch_size : int
        Recorded with the run's settings.
    """

    def __init__(self, path, *, batch_size):
        self.path = path
        self.batch_size = int(batch_size)
        self._settings = None

    def locations(self):
        return {"json": self.path}

    def begin(self, run):
        self._settings = {**run.settings, "batch_size": self.batch_size}

    def end(self, rows, summary):
        write_json(self.path, {
            "settings": self._settings,
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
