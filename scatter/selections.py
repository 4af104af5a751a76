"""Detections for annotation tools: Audacity label files and one Raven Pro table per run.

Both take a file's *selections*, the merged detections ``(begin_s, end_s, score)`` of
:func:`scatter.outputs.merge_detections`, with the file's results row
(:class:`scatter.outputs.FileResult`) for what else they need.

- :func:`write_audacity_labels`: one label file per audio file (:func:`audacity_label_paths`),
  Audacity's label-track text format: a line ``begin<TAB>end<TAB>text`` per selection,
  seconds with six decimals, the text carrying the score (``bird 0.912``). In Audacity,
  *File > Import > Labels...* adds it as a label track under the recording. A file without
  detections gets an empty label file, so every scored file has one.
- :class:`RavenRunTable`: one Raven Pro selection table for a whole run (a deployment),
  with Raven's columns for a table over several files: ``Begin Path`` (the audio file,
  absolute), ``File Offset (s)`` (where the selection begins within it) and ``Begin Time (s)``
  counted from the start of the first file, as if the files were played one after the other.

Cumulative times. Raven places the selections of a multi-file table on the file sequence open
in it by ``Begin Time (s)``: each file starts at the summed durations of the files before it.
The closed table lists the files in the run's order (:func:`scatter.audio.find_audio` lists
folders sorted by name, which for recorders naming files by their start time is time order)
and counts *every scored file*, those without detections included, so that opening the run's
files in Raven as one sequence in that order lines the selections up with the sound. A file
that could not be decoded has no duration and is not counted. ``High Freq (Hz)`` never exceeds
a file's own Nyquist frequency (:func:`scatter.outputs.raven_band`). When each channel is
scored on its own (``channels="each"``), a file's selections carry their channel in Raven's
``Channel`` column, and the file is counted once in the times.

Interruption and resume. While the run goes on, the table is a journal
(:class:`scatter.outputs.CsvJournal`, tab-separated): each file's selections are appended in
one write as the file finishes, numbered on and timed on from the files before it in the order
they finished, so the file is a valid table at every moment; :meth:`RavenRunTable.close`
rewrites it atomically in the run's order, renumbered from 1. Appending costs time in
proportion to the file's own selections, never to the table's size. A resumed run rebuilds
the table (:meth:`RavenRunTable.read_kept`): each kept file's selections are read back from
the existing table (``Begin Path`` and ``File Offset (s)``, which do not depend on the order)
and its duration from its results row, so a file without detections counts too; rows of files
not kept (the run stopped before their results row was written) are dropped. The runner must
therefore add a file to the table *before* it appends the file's results row. A resumed run's
closed table is the same as an uninterrupted run's.

Example
-------
>>> from scatter.outputs import FileResult
>>> res = FileResult("rec/a.wav", score=0.9, label=1, duration_s=60.0, sample_rate=48000,
...                  channels=1, n_windows=46)
>>> with RavenRunTable("run.selections.txt", order=["rec/a.wav"]) as table:  # doctest: +SKIP
...     table.add(res, [(3.0, 5.6, 0.9)])
"""

from __future__ import annotations

import math
import os
import warnings

from scatter.errors import ScatterError
from scatter.outputs import (
    RAVEN_FIELDS,
    CsvJournal,
    FileResult,
    atomic_open,
    format_raven_rows,
    output_paths,
    raven_band,
    read_rows,
    tsv_text,
)

__all__ = ["RAVEN_RUN_FIELDS", "RavenRunTable", "audacity_label_paths", "read_audacity_labels",
           "write_audacity_labels"]

#: Columns of the whole-run Raven table.
RAVEN_RUN_FIELDS = RAVEN_FIELDS[:7] + ("Begin Path", "File Offset (s)") + RAVEN_FIELDS[7:]


def _check_selections(selections, name="selections"):
    out = []
    for sel in selections:
        try:
            begin, end, score = (float(v) for v in sel)
        except (TypeError, ValueError):
            raise ScatterError(f"{name} must be (begin_s, end_s, score) triples; got "
                               f"{sel!r}") from None
        if not (math.isfinite(begin) and math.isfinite(end) and math.isfinite(score)
                and 0 <= begin <= end):
            raise ScatterError(f"{name} must hold finite times with 0 <= begin_s <= end_s "
                               f"and a finite score; got {sel!r}")
        out.append((begin, end, score))
    return out


# --------------------------------------------------------------------------------------------
# Audacity


def audacity_label_paths(paths, folder):
    """Where the Audacity label file of each audio file goes: ``<name>.txt`` in ``folder``,
    mirroring the audio folders (:func:`scatter.outputs.output_paths`).

    Parameters
    ----------
    paths : sequence of str
        Audio file paths (the run's file list, so that a resumed run gives the same names).
    folder : str or os.PathLike

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> audacity_label_paths(["rec/a.wav", "rec/s1/b.flac"], "labels")
    {'rec/a.wav': 'labels/a.txt', 'rec/s1/b.flac': 'labels/s1/b.txt'}
    """
    return output_paths(paths, folder, suffix=".txt")


def write_audacity_labels(path, selections, *, label="bird"):
    """Write one file's selections as an Audacity label file, atomically.

    Each line is ``begin<TAB>end<TAB>text`` in seconds from the start of the file (six
    decimals, as Audacity writes them), ``text`` being ``"<label> <score>"`` with the score to
    three decimals. No selections give an empty file.

    Parameters
    ----------
    path : str or os.PathLike
        The label file; missing folders are created.
    selections : sequence of (float, float, float)
        ``(begin_s, end_s, score)``, as from :func:`scatter.outputs.merge_detections`.
    label : str
        Text before the score (tabs and line breaks become spaces); ``""``: the score alone.

    Raises
    ------
    ScatterError
        For a selection that is not three finite numbers with ``0 <= begin <= end``, or a
        ``label`` that is not a string.

    Examples
    --------
    >>> write_audacity_labels("labels/a.txt", [(1.5, 4.1, 0.912)])  # doctest: +SKIP
    >>> open("labels/a.txt").read()                                  # doctest: +SKIP
    '1.500000\\t4.100000\\tbird 0.912\\n'
    """
    if not isinstance(label, str):
        raise ScatterError(f"label must be a string; got {label!r}")
    selections = _check_selections(selections)
    prefix = tsv_text(label).strip()
    prefix = prefix + " " if prefix else ""
    lines = "".join(f"{begin:.6f}\t{end:.6f}\t{prefix}{score:.3f}\n"
                    for begin, end, score in selections)
    path = os.fsdecode(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_open(path, "w") as fh:
        fh.write(lines)


def read_audacity_labels(path):
    """Read an Audacity label file: ``(begin_s, end_s, text)`` per label.

    Lines of spectral selections (starting with a backslash, as Audacity adds for labels with
    a frequency range) are skipped.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    labels : list of (float, float, str)

    Raises
    ------
    ScatterError
        If the file cannot be read or a line is not ``begin<TAB>end[<TAB>text]``.
    """
    path = os.fsdecode(path)
    try:
        with open(path, encoding="utf-8", errors="surrogateescape", newline="") as fh:
            lines = fh.read().splitlines()
    except OSError as exc:
        raise ScatterError(f"{path!r}: cannot read ({exc.strerror})") from exc
    out = []
    for i, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("\\"):
            continue
        parts = line.split("\t")
        try:
            begin, end = float(parts[0]), float(parts[1])
        except (IndexError, ValueError):
            raise ScatterError(f"{path!r}: line {i} is {line!r}; expected "
                               f"begin<TAB>end<TAB>text") from None
        out.append((begin, end, parts[2] if len(parts) > 2 else ""))
    return out


# --------------------------------------------------------------------------------------------
# Raven, one table per run


def _key(path):
    """How a path is matched between the run and the table (``Begin Path`` is absolute)."""
    return tsv_text(os.path.normpath(os.path.abspath(os.fsdecode(path))))


def _as_result(result):
    if isinstance(result, FileResult):
        return result
    if isinstance(result, dict):
        return FileResult.from_row(result)
    raise ScatterError(f"result must be a FileResult or a results row (dict); got "
                       f"{type(result).__name__}")


def _ranks(order):
    rank = {}
    for i, p in enumerate(order):
        rank.setdefault(_key(p), i)
    return rank


class RavenRunTable:
    """One Raven Pro selection table for every file of a run (see the module docstring).

    Parameters
    ----------
    path : str or os.PathLike
        The table (``.txt``, tab-separated); its folder must exist. Replaced.
    order : sequence of str
        The run's file list: the closed table lists files in this order (files added that
        are not in it come after, in the order they were added).
    band_hz : (float, float) or None
        Frequency band of every selection, kept below each file's Nyquist frequency; None:
        from 0 to the Nyquist frequency of each file.
    kept : dict or None
        What a resumed run keeps of the earlier table, from :meth:`read_kept` (which reads
        and writes nothing, so that a run refused at that point leaves the table as it was);
        None: a new table.

    Raises
    ------
    ScatterError
        For an invalid band or a folder that does not exist.

    Examples
    --------
    >>> kept = RavenRunTable.read_kept("run.txt", kept_rows, order=paths)  # doctest: +SKIP
    >>> table = RavenRunTable("run.txt", order=paths, kept=kept)           # doctest: +SKIP
    >>> table.add(result, selections)                                      # doctest: +SKIP
    >>> table.close()                                                      # doctest: +SKIP
    """

    def __init__(self, path, *, order=(), band_hz=None, kept=None):
        self.path = os.fsdecode(path)
        if band_hz is not None:
            try:
                low, high = (float(v) for v in band_hz)
            except (TypeError, ValueError):
                raise ScatterError(f"band_hz must be (low, high) in Hz or None; got "
                                   f"{band_hz!r}") from None
            raven_band(low, high)
            band_hz = (low, high)
        self.band_hz = band_hz
        self._rank = _ranks(order)
        self._files = {}  # key -> (path, duration_s, [(begin, end, score, low, high)])
        self._total_s = 0.0
        self._count = 0
        self._last = None  # the file added last: another channel of it is appended
        for key, (p, duration, sels, channels) in (kept or {}).items():
            self._files[key] = (p, duration, list(sels), set(channels))
        self._journal = CsvJournal(self.path, RAVEN_RUN_FIELDS, keep_rows=self._rows(),
                                   delimiter="\t")

    @staticmethod
    def read_kept(path, keep_rows, *, order=()):
        """What a resumed run keeps of the table at ``path``; reads only.

        Each kept file's selections are read back from the table (``Begin Path``, ``File
        Offset (s)``, length, band and score, which do not depend on the order of the files)
        and its duration is taken from its results row, so a kept file without detections
        still counts in the times. Rows of other files are dropped (they are scored again).

        Parameters
        ----------
        path : str or os.PathLike
            The table an earlier run wrote.
        keep_rows : iterable of dict or FileResult
            Results rows of the files the earlier run finished; rows with an error are
            ignored.
        order : sequence of str
            The run's file list (rows of files neither kept nor listed, as a table written
            from another working folder would have, give a warning).

        Returns
        -------
        kept : dict
            For the ``kept`` parameter.

        Raises
        ------
        ScatterError
            If scored files are kept while ``path`` does not exist or is not a whole-run
            Raven table (their selections cannot be known: run without resume), or a kept
            row has no ``duration_s``.

        Warns
        -----
        UserWarning
            When the table holds files neither kept nor in ``order``.
        """
        path = os.fsdecode(path)
        results = [r for r in map(_as_result, keep_rows) if r.ok]
        if not results:
            return {}
        if not os.path.exists(path):
            raise ScatterError(f"cannot resume the Raven table {path!r}: it does not exist, "
                               f"so the selections of the {len(results)} files finished "
                               f"earlier are unknown; run without resume, or write the table "
                               f"to its first run's path")
        entries = {}
        for res in results:
            if res.duration_s is None:
                raise ScatterError(f"keep_rows: the row of {res.path!r} has no duration_s; "
                                   f"expected a scored file's results row")
            entry = entries.setdefault(_key(res.path), (res.path, res.duration_s, [], set()))
            entry[3].add(res.channel)
        rows = read_rows(path, RAVEN_RUN_FIELDS, delimiter="\t")
        rank = _ranks(order)
        strangers = set()
        for i, row in enumerate(rows, start=2):
            entry = entries.get(row["Begin Path"])
            if entry is None:  # a file not finished in the earlier run: scored again
                if row["Begin Path"] not in rank:
                    strangers.add(row["Begin Path"])
                continue
            try:
                begin = float(row["File Offset (s)"])
                length = float(row["End Time (s)"]) - float(row["Begin Time (s)"])
                sel = (begin, begin + length, float(row["Score"]),
                       float(row["Low Freq (Hz)"]), float(row["High Freq (Hz)"]),
                       int(row["Channel"]))
            except ValueError:
                raise ScatterError(f"{path!r}: row {i} holds a value that is not a "
                                   f"number: {row!r}") from None
            entry[2].append(sel)
        if strangers:
            warnings.warn(f"{path!r}: dropped the selections of {len(strangers)} files that "
                          f"are neither finished earlier nor in this run (such as "
                          f"{min(strangers)!r}); if the run was started from another "
                          f"folder, the table's absolute Begin Path values do not match "
                          f"the files", stacklevel=2)
        return entries

    def _ordered(self):
        last = len(self._rank)
        added = {k: i for i, k in enumerate(self._files)}
        return sorted(self._files, key=lambda k: (self._rank.get(k, last), added[k]))

    def _rows(self, keys=None):
        """Table rows of the files ``keys`` (default: all, in the run's order), numbered and
        timed from the start; sets the running totals."""
        rows, total = [], 0.0
        for key in self._ordered() if keys is None else keys:
            path, duration, sels, _ = self._files[key]
            rows.extend(self._file_rows(path, sels, first=len(rows) + 1, offset_s=total))
            total += duration
        self._total_s, self._count = total, len(rows)
        return rows

    @staticmethod
    def _file_rows(path, sels, *, first, offset_s):
        rows = []
        for i, (begin, end, score, low, high, channel) in enumerate(sels):
            row = format_raven_rows([(begin, end, score)], low_hz=low, high_hz=high,
                                    first=first + i, offset_s=offset_s, channel=channel)[0]
            row["Begin Path"] = _key(path)
            rows.append(row)
        return rows

    def add(self, result, selections):
        """Add one finished file: its selections are appended to the table in one write.

        Call it before the file's results row is written (see the module docstring). A file
        added again replaces its earlier selections (the table is then rewritten), except
        that the rows of a file's channels scored one by one (``result.channel`` 1, 2, ...)
        each add theirs to the file, in Raven's ``Channel`` column, the file counted once in
        the times.

        Parameters
        ----------
        result : FileResult or dict
            The file's results row: ``path``, ``duration_s`` and ``sample_rate`` (the band is
            kept below its Nyquist frequency), ``channel`` (None: the channels were mixed,
            Raven's channel 1). A row with an error adds nothing.
        selections : sequence of (float, float, float)
            ``(begin_s, end_s, score)`` within the file (may be empty).

        Raises
        ------
        ScatterError
            For a malformed row or selection, or a closed table.
        """
        result = _as_result(result)
        selections = _check_selections(selections)
        if self._journal is None:
            raise ScatterError(f"RavenRunTable {self.path!r}: add after close")
        if not result.ok:
            return
        if result.duration_s is None:
            raise ScatterError(f"result of {result.path!r} has no duration_s; the table's "
                               f"times need every scored file's duration")
        low, high = self.band_hz or (0.0, math.inf)
        if result.sample_rate is not None:
            low, high = raven_band(low, high, sample_rate=result.sample_rate)
        elif math.isinf(high):
            raise ScatterError(f"result of {result.path!r} has no sample_rate; band_hz=None "
                               f"needs it for the Nyquist frequency")
        channel = result.channel
        sels = [(b, e, s, low, high, 1 if channel is None else int(channel))
                for b, e, s in selections]
        key = _key(result.path)
        entry = self._files.get(key)
        if entry is not None and channel is not None and not entry[3] & {channel, None}:
            path, duration, earlier, channels = entry  # another channel of a file in the table
            self._files[key] = (path, duration, earlier + sels, channels | {channel})
            if key != self._last:
                self._journal.rewrite(self._rows(list(self._files)))
                return
            rows = self._file_rows(path, sels, first=self._count + 1,
                                   offset_s=self._total_s - duration)
            self._journal.append(rows)
            self._count += len(rows)
            return
        self._files[key] = (result.path, float(result.duration_s), sels, {channel})
        self._last = key
        if entry is not None:  # keeps its place in the table
            self._journal.rewrite(self._rows(list(self._files)))
            self._last = key if next(reversed(self._files)) == key else None
            return
        rows = self._file_rows(result.path, sels, first=self._count + 1,
                               offset_s=self._total_s)
        self._journal.append(rows)
        self._total_s += float(result.duration_s)
        self._count += len(rows)

    @property
    def n_selections(self):
        """Selections in the table."""
        return sum(len(entry[2]) for entry in self._files.values())

    @property
    def n_files(self):
        """Scored files counted in the table's times."""
        return len(self._files)

    def close(self):
        """Rewrite the table atomically in the run's order, numbered from 1; idempotent."""
        if self._journal is None:
            return
        self._journal.rewrite(self._rows())
        self._journal.close()
        self._journal = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
