"""Bird activity per site and clock hour over a whole run: one CSV for a deployment.

Each scored file contributes, for every clock hour it overlaps:

- ``recorded_s``: the seconds of audio recorded in that hour (the file's span
  ``[start, start + duration)`` cut at the hour boundaries);
- ``windows``: the detector windows that *start* in that hour (a window spanning an hour
  boundary counts in the hour it starts in);
- ``windows_above``: those of them scoring at or above the threshold.

The table (:data:`ACTIVITY_FIELDS`) sums them per ``site`` (the recording's folder,
:func:`site_names`) and hour, with ``fraction = windows_above / windows``; ``hour_start`` is
ISO 8601 with its UTC offset. Hours follow the clock of each file's start time
(:mod:`scatter.recorders`), or of ``timezone`` when it is given (times are converted to it),
daylight-saving changes included: around a change an hour is a clock hour of its own offset.

Files without a start time are not dropped: their seconds and windows go to one row per site
with an empty ``hour_start``, listed after the site's hours, so the table's totals are those of
the whole run and the rows with a time show how much of it could be placed on the clock.

Interruption and resume. The state of the table is a journal beside it,
``<table>.parts.csv`` (:data:`PART_FIELDS`, one row per file and hour,
:class:`scatter.outputs.CsvJournal`): each file's rows are appended in one write as the file
finishes, and the table itself is rewritten atomically from the state in memory at most every
``flush_s`` seconds and at :meth:`ActivityTable.close`. A resumed run keeps the journal rows
of the files an earlier run finished (:meth:`ActivityTable.read_kept`) and drops the others,
so a file whose rows were written but whose results row was not (the run stopped in between)
is counted once, when it is scored again. The runner adds a file here before it appends the
file's results row.

Example
-------
>>> import datetime as dt
>>> t0 = dt.datetime(2024, 6, 1, 4, 59, 0, tzinfo=dt.timezone.utc)
>>> hourly_counts(start=t0, duration_s=120.0, starts_s=[0, 60], scores=[0.9, 0.1],
...               threshold=0.5)
[('2024-06-01T04:00:00+00:00', 60.0, 1, 1), ('2024-06-01T05:00:00+00:00', 60.0, 1, 0)]
"""

from __future__ import annotations

import datetime as dt
import math
import os
import time

import numpy as np

from scatter.errors import ScatterError
from scatter.outputs import CsvJournal, read_rows, write_rows

__all__ = ["ACTIVITY_FIELDS", "PART_FIELDS", "ActivityTable", "diel_series", "hourly_counts",
           "parts_path", "read_activity_table", "site_names"]

#: Columns of the activity table.
ACTIVITY_FIELDS = ("site", "hour_start", "recorded_s", "windows", "windows_above", "fraction")
#: Columns of its journal (:func:`parts_path`): one row per file and hour.
PART_FIELDS = ("path", "site", "hour_start", "recorded_s", "windows", "windows_above")
_HOUR = dt.timedelta(hours=1)
_UTC = dt.timezone.utc


def site_names(paths):
    """The site of each recording: its folder, relative to the common parent of the folders.

    Files in ``rec/A/`` and ``rec/B/`` are sites ``A`` and ``B``; files of one folder are the
    site named by that folder; ``rec/A/2024/`` and ``rec/B/2024/`` give ``A/2024`` and
    ``B/2024``. The mapping depends only on the list of paths (a resumed run gives the same).

    Parameters
    ----------
    paths : sequence of str

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> site_names(["rec/A/1.wav", "rec/B/2.wav", "rec/B/3.wav"])
    {'rec/A/1.wav': 'A', 'rec/B/2.wav': 'B', 'rec/B/3.wav': 'B'}
    """
    if not paths:
        return {}
    folders = {p: os.path.dirname(os.path.abspath(p)) for p in paths}
    root = os.path.commonpath([os.path.dirname(f) for f in folders.values()])
    return {p: os.path.relpath(f, root).replace(os.sep, "/") for p, f in folders.items()}


def _tz(timezone):
    from scatter.recorders import parse_timezone

    return None if timezone is None else parse_timezone(timezone)


def _check_start(start):
    from scatter.recorders import RecordingStart

    given = start
    if isinstance(start, RecordingStart):
        start = start.time
    elif isinstance(start, str):  # a results row's start_time
        try:
            start = dt.datetime.fromisoformat(start) if start else None
        except ValueError:
            start = given
    if start is not None and (not isinstance(start, dt.datetime) or start.utcoffset() is None):
        raise ScatterError(f"start must be a timezone-aware datetime, a RecordingStart, ISO "
                           f"8601 text with a UTC offset (a results row's start_time), or "
                           f"None; got {given!r}")
    return start


def hourly_counts(*, start, duration_s, starts_s, scores, threshold, timezone=None):
    """One file's contribution to the activity table, per clock hour.

    Parameters
    ----------
    start : datetime.datetime or scatter.recorders.RecordingStart or str or None
        When the recording started (timezone-aware; text: ISO 8601 with its UTC offset, as
        a results row's ``start_time``); None or ``""``: unknown.
    duration_s : float
        Length of the recording.
    starts_s : array_like [shape=(n_windows,)]
        Window starts, seconds from the start of the file.
    scores : array_like [shape=(n_windows,)]
        Window scores.
    threshold : float
        Windows scoring ``>= threshold`` count as above.
    timezone : str or datetime.tzinfo or None
        Clock of the hours (:func:`scatter.recorders.parse_timezone`); None: that of
        ``start``.

    Returns
    -------
    list of (str, float, int, int)
        ``(hour_start, recorded_s, windows, windows_above)`` in time order; ``hour_start`` is
        ISO 8601 with its offset, ``""`` for the single entry of an unknown ``start``.

    Raises
    ------
    ScatterError
        For a naive ``start``, a negative or non-finite ``duration_s``, ``starts_s`` and
        ``scores`` of different lengths, or an invalid ``timezone``.
    """
    start = _check_start(start)
    tz = _tz(timezone)
    if not (isinstance(duration_s, (int, float, np.number)) and math.isfinite(duration_s)
            and duration_s >= 0):
        raise ScatterError(f"duration_s must be a finite number of seconds >= 0; got "
                           f"{duration_s!r}")
    starts = np.asarray(starts_s, dtype=np.float64).reshape(-1)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if starts.shape != s.shape:
        raise ScatterError(f"starts_s and scores must have one length; got {starts.size} and "
                           f"{s.size}")
    above = s >= threshold
    if start is None:
        return [("", float(duration_s), int(starts.size), int(above.sum()))]
    zone = tz or start.tzinfo
    t0 = start.astimezone(_UTC)
    end = t0 + dt.timedelta(seconds=float(duration_s))
    hours, edges, t = [], [], t0  # edges: where each hour ends, seconds from the start
    while True:
        local = t.astimezone(zone)
        hour = local.replace(minute=0, second=0, microsecond=0)
        nxt = hour.astimezone(_UTC) + _HOUR
        hours.append((hour.isoformat(), (min(nxt, end) - t).total_seconds()))
        edges.append((nxt - t0).total_seconds())
        if nxt >= end:
            break
        t = nxt
    # the first hour takes windows before the file start too (none in practice), the last
    # those past its end (a last window may start within the final second)
    which = np.searchsorted(np.asarray(edges[:-1]), starts, side="right")
    n = np.bincount(which, minlength=len(hours))
    n_above = np.bincount(which, weights=above, minlength=len(hours))
    return [(h, rec, int(k), int(a)) for (h, rec), k, a in zip(hours, n, n_above, strict=True)]


def parts_path(path):
    """The journal beside an activity table: ``path + ".parts.csv"``."""
    return os.fsdecode(path) + ".parts.csv"


class ActivityTable:
    """The activity table of a run, kept up to date as files finish (module docstring).

    Parameters
    ----------
    path : str or os.PathLike
        The CSV table; its folder must exist. Its journal is :func:`parts_path`.
    threshold : float
        Window scores ``>= threshold`` count as activity.
    timezone : str or datetime.tzinfo or None
        Clock of the hours; None: each file's own (that of its start time).
    kept : sequence of dict
        The journal rows a resumed run keeps, from :meth:`read_kept` (which reads and writes
        nothing, so that a run refused at that point leaves the table as it was); empty: a
        new table.
    flush_s : float
        The table is rewritten at most this often while files are added (0: at every file),
        and always by :meth:`close`.

    Raises
    ------
    ScatterError
        For a non-finite ``threshold``, a negative ``flush_s``, an invalid ``timezone`` or a
        missing folder.

    Examples
    --------
    >>> kept = ActivityTable.read_kept("activity.csv", kept_paths)  # doctest: +SKIP
    >>> table = ActivityTable("activity.csv", threshold=0.5, kept=kept)  # doctest: +SKIP
    >>> table.add("rec/A/20240601_050000.WAV", site="A", start=start, duration_s=3600.0,
    ...           starts_s=starts, scores=scores)                # doctest: +SKIP
    >>> table.close()                                            # doctest: +SKIP
    """

    def __init__(self, path, *, threshold, timezone=None, kept=(), flush_s=60.0):
        if not (isinstance(threshold, (int, float)) and math.isfinite(threshold)):
            raise ScatterError(f"threshold must be a finite number; got {threshold!r}")
        if not (isinstance(flush_s, (int, float)) and flush_s >= 0):
            raise ScatterError(f"flush_s must be a number of seconds >= 0; got {flush_s!r}")
        self.path = os.fsdecode(path)
        self.threshold = float(threshold)
        self.timezone = _tz(timezone)
        self.flush_s = float(flush_s)
        self._parts = {}  # normpath -> list of part rows
        for row in kept:
            self._parts.setdefault(os.path.normpath(row["path"]), []).append(row)
        self._journal = CsvJournal(parts_path(self.path), PART_FIELDS,
                                   keep_rows=[r for rows in self._parts.values() for r in rows])
        self._written = -math.inf
        self.write()

    @staticmethod
    def read_kept(path, keep_paths):
        """The journal rows of the files a resumed run keeps; reads only.

        Parameters
        ----------
        path : str or os.PathLike
            The activity table an earlier run wrote (its journal is :func:`parts_path`).
        keep_paths : iterable of str
            The files the earlier run finished (the kept results rows' paths); other journal
            rows are dropped (their files are scored again).

        Returns
        -------
        kept : list of dict
            For the ``kept`` parameter.

        Raises
        ------
        ScatterError
            If files are kept but the journal does not exist or is not an activity journal
            (their activity cannot be known: run without resume).
        """
        keep = {os.path.normpath(os.fsdecode(p)) for p in keep_paths}
        if not keep:
            return []
        journal = parts_path(path)
        if not os.path.exists(journal):
            raise ScatterError(f"cannot resume the activity table {os.fsdecode(path)!r}: its "
                               f"journal {journal!r} does not exist, so the activity of the "
                               f"{len(keep)} files finished earlier is unknown; run without "
                               f"resume")
        return [row for row in read_rows(journal, PART_FIELDS)
                if os.path.normpath(row["path"]) in keep]

    def add(self, path, *, site, start, duration_s, starts_s, scores):
        """Add one scored file (before its results row is written).

        Parameters
        ----------
        path : str
            The audio file (as in the results rows).
        site : str
            Its site (:func:`site_names`).
        start : datetime.datetime or scatter.recorders.RecordingStart or str or None
            When it started (as :func:`hourly_counts`; the results row's ``start_time`` will
            do); None or ``""``: unknown (counted under an empty ``hour_start``).
        duration_s : float
            Its duration (the results row's ``duration_s``).
        starts_s, scores : array_like [shape=(n_windows,)]
            Window starts (seconds from the file start) and scores.

        Raises
        ------
        ScatterError
            As :func:`hourly_counts`, for a ``site`` that is not a string, or after
            :meth:`close`.
        """
        if self._journal is None:
            raise ScatterError(f"ActivityTable {self.path!r}: add after close")
        if not isinstance(site, str):
            raise ScatterError(f"site must be a string; got {site!r}")
        counts = hourly_counts(start=start, duration_s=duration_s, starts_s=starts_s,
                               scores=scores, threshold=self.threshold,
                               timezone=self.timezone)
        rows = [{"path": path, "site": site, "hour_start": h, "recorded_s": format(rec, ".3f"),
                 "windows": str(n), "windows_above": str(a)} for h, rec, n, a in counts]
        self._journal.append(rows)
        self._parts[os.path.normpath(path)] = rows
        if time.monotonic() - self._written >= self.flush_s:
            self.write()

    def rows(self):
        """The table rows (dicts of strings keyed by :data:`ACTIVITY_FIELDS`): sites sorted,
        hours in time order, the unknown-time row of a site last."""
        sums = {}
        for rows in self._parts.values():
            for r in rows:
                acc = sums.setdefault((r["site"], r["hour_start"]), [0.0, 0, 0])
                acc[0] += float(r["recorded_s"])
                acc[1] += int(r["windows"])
                acc[2] += int(r["windows_above"])

        def order(key):
            site, hour = key
            if not hour:
                return (site, 1, 0.0)
            return (site, 0, dt.datetime.fromisoformat(hour).timestamp())

        out = []
        for site, hour in sorted(sums, key=order):
            rec, n, a = sums[(site, hour)]
            out.append({"site": site, "hour_start": hour, "recorded_s": format(rec, ".3f"),
                        "windows": str(n), "windows_above": str(a),
                        "fraction": format(a / n, ".6g") if n else ""})
        return out

    def write(self):
        """Rewrite the table atomically from the files added so far."""
        write_rows(self.path, ACTIVITY_FIELDS, self.rows())
        self._written = time.monotonic()

    def close(self):
        """Write the table and close the journal (idempotent)."""
        if self._journal is None:
            return
        self.write()
        self._journal.close()
        self._journal = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_activity_table(path):
    """Read an activity table back (for plots and checks).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    list of dict
        Rows keyed by :data:`ACTIVITY_FIELDS` (strings).

    Raises
    ------
    ScatterError
        If the file is not an activity table.
    """
    return read_rows(path, ACTIVITY_FIELDS)


def diel_series(rows):
    """Activity by hour of day, one series per site and day: what a diel plot draws.

    Parameters
    ----------
    rows : iterable of dict
        Activity table rows (:meth:`ActivityTable.rows`, :func:`read_activity_table`); rows
        without ``hour_start`` are left out.

    Returns
    -------
    dict
        ``{site: {day: fraction}}``: ``day`` is the local date (ISO text) of the hours,
        ``fraction`` a float array of shape ``(24,)`` indexed by the local hour of day, NaN
        where no window started. An hour that occurs twice (the clock set back for daylight
        saving) counts the windows of both.

    Examples
    --------
    >>> rows = [{"site": "A", "hour_start": "2024-06-01T05:00:00+02:00", "recorded_s": "3600",
    ...          "windows": "4", "windows_above": "1", "fraction": "0.25"}]
    >>> float(diel_series(rows)["A"]["2024-06-01"][5])
    0.25
    """
    counts = {}
    for r in rows:
        if not r["hour_start"]:
            continue
        t = dt.datetime.fromisoformat(r["hour_start"])
        day = counts.setdefault(r["site"], {}).setdefault(t.date().isoformat(),
                                                          np.zeros((2, 24)))
        day[0, t.hour] += int(r["windows"])
        day[1, t.hour] += int(r["windows_above"])
    out = {}
    for site in sorted(counts):
        out[site] = {}
        for day in sorted(counts[site]):
            n, above = counts[site][day]
            with np.errstate(invalid="ignore", divide="ignore"):
                out[site][day] = np.where(n > 0, above / np.maximum(n, 1), np.nan)
    return out
