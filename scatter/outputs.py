"""Output files of the detector: results and segments CSV, JSON, Raven Pro selection tables.

This module also holds what every output writer of the package shares: :func:`atomic_open`
(the one atomic-write helper), :class:`CsvJournal` and :func:`read_rows` (append-only tables
that survive interruption, comma- or tab-separated), :func:`output_paths` (one output file per
audio file, mirroring the audio folders) and the Raven row format
(:func:`format_raven_rows`, :func:`raven_band`).

Every file is created atomically (written to a temporary file in the same folder, flushed,
then renamed over the target), so a reader never sees half a header. The results and segments
CSV files are then *journals*: each finished audio file adds its rows with one ``write`` call
and a flush, so an interrupted run (Ctrl-C, a crash) leaves a valid CSV holding every finished
file. :func:`read_rows` tolerates a torn last line, and :class:`CsvJournal` restarts a journal
from the rows worth keeping, which is how ``--resume`` avoids duplicates.

Paths are written as UTF-8; file names that are not valid UTF-8 (possible on Linux) are kept
byte for byte in CSV files (``surrogateescape``) and as ``\\udcXX`` escapes in JSON.

Results and segments carry ``start_time`` (the recording's start; for a segment, its window's)
and ``channel`` (1, 2, ... when each channel is scored on its own, else empty); a file's
per-file outputs of one channel are named :func:`channel_output_path` (``<name>.ch2.txt``).

The writers of a run and how each survives an interruption and resumes (``kept``: the results
rows of the files an earlier run finished, which a resumed run does not score again):

- results and segments CSV (here): journals, restarted from the kept rows;
- per-file Raven tables (here), Audacity labels (:mod:`scatter.selections`), review clips
  (:mod:`scatter.clips`) and feature files (:mod:`scatter.feature_files`): one atomic file
  per scored file; those of kept files are left as they are, a file scored again has them
  rewritten (its stale clips removed first);
- the whole-run Raven table (:class:`scatter.selections.RavenRunTable`): a journal in the
  order files finish, rewritten in the run's order at close; rebuilt from the kept rows (the
  durations) and its own rows (the selections);
- the activity table (:class:`scatter.activity_table.ActivityTable`): rewritten from memory
  (throttled); its state is the journal ``<table>.parts.csv``, of which the kept files' rows
  are kept.

For the rebuilt ones to be exact, a finished file's rows go to every other writer *before*
its results row is appended: a file whose results row is missing is scored again, and the
rows it left elsewhere are then dropped.

Example
-------
>>> res = FileResult("a.wav", score=0.9, label=1, duration_s=10.0, sample_rate=44100,
...                  channels=1, n_windows=19)
>>> res.to_row()["score"]
'0.9'
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import json
import math
import os

import symbolic.io
from scatter.errors import ScatterError

__all__ = [
    "ADDED_FIELDS",
    "RAVEN_FIELDS",
    "RESULT_FIELDS",
    "SEGMENT_FIELDS",
    "CsvJournal",
    "FileResult",
    "atomic_open",
    "channel_output_path",
    "format_raven_rows",
    "format_segment_rows",
    "merge_detections",
    "output_paths",
    "raven_band",
    "raven_table_paths",
    "read_results",
    "read_rows",
    "safe_name",
    "tsv_text",
    "write_json",
    "write_raven_table",
    "write_rows",
]

RESULT_FIELDS = ("path", "score", "label", "duration_s", "sample_rate", "channels",
                 "n_windows", "error", "start_time", "channel")
#: Columns added to the tables after files without them were written: :func:`read_rows` reads
#: a file lacking any of them with those columns empty, so that ``resume`` continues an older
#: run's CSV.
ADDED_FIELDS = ("start_time", "channel")
SEGMENT_FIELDS = ("path", "start_s", "end_s", "score", "start_time", "channel")
RAVEN_FIELDS = ("Selection", "View", "Channel", "Begin Time (s)", "End Time (s)",
                "Low Freq (Hz)", "High Freq (Hz)", "Score")

_ENCODING = {"encoding": "utf-8", "errors": "surrogateescape"}


def atomic_open(path, mode="w"):
    """Open a temporary file beside ``path``; rename it over ``path`` when the block succeeds.

    :func:`symbolic.io.atomic_open` with this package's errors: every file of a run is written
    through it, so that an interrupted run leaves each output whole or absent.

    Parameters
    ----------
    path : str or os.PathLike
        The final file; its folder must exist.
    mode : {"w", "wb"}
        Text (UTF-8 with ``surrogateescape``, ``newline=""``) or binary.

    Returns
    -------
    context manager
        Yields the open file object.

    Raises
    ------
    ScatterError
        For another mode or a missing folder. On an exception inside the block the temporary
        file is removed and ``path`` is left as it was.

    Examples
    --------
    >>> with atomic_open("out.txt") as fh:  # doctest: +SKIP
    ...     fh.write("hello\\n")
    """
    if mode not in ("w", "wb"):
        raise ScatterError(f"mode must be 'w' or 'wb'; got {mode!r}")
    folder = os.path.dirname(os.path.abspath(os.fsdecode(path)))
    if not os.path.isdir(folder):
        raise ScatterError(f"path {os.fsdecode(path)!r}: folder {folder!r} does not exist; "
                           "create it first")
    return symbolic.io.atomic_open(path, mode)


# --------------------------------------------------------------------------------------------
# rows


def _fmt(value, spec):
    return "" if value is None else format(value, spec)


def _parse(text, kind):
    return None if text == "" else kind(text)


@dataclasses.dataclass(frozen=True)
class FileResult:
    """One row of the results CSV: the outcome for one audio file.

    A decoded file has a ``score`` and ``label`` and an empty ``error``; a file that could not
    be decoded has ``score``, ``label`` (and whatever could not be known) as None and the
    reason in ``error``. ``start_time`` is the clock time the recording started, ISO 8601 with
    its UTC offset (:func:`scatter.recorders.format_start_time`), or None when unknown.
    ``channel`` is the channel the row scores (1 for the first) when each channel is scored on
    its own (``channels="each"``), None when the channels were mixed to mono (and for the one
    error row of a file that could not be scored).
    """

    path: str
    score: float | None = None
    label: int | None = None
    duration_s: float | None = None
    sample_rate: int | None = None
    channels: int | None = None
    n_windows: int | None = None
    error: str = ""
    start_time: str | None = None
    channel: int | None = None

    @property
    def ok(self):
        """True when the file was scored (no error)."""
        return self.error == "" and self.score is not None

    def to_row(self):
        """The CSV row: a dict of strings keyed by :data:`RESULT_FIELDS`."""
        return {
            "path": self.path,
            "score": _fmt(self.score, ".6g"),
            "label": _fmt(self.label, "d"),
            "duration_s": _fmt(self.duration_s, ".6f"),
            "sample_rate": _fmt(self.sample_rate, "d"),
            "channels": _fmt(self.channels, "d"),
            "n_windows": _fmt(self.n_windows, "d"),
            "error": " ".join(self.error.split()),
            "start_time": self.start_time or "",
            "channel": _fmt(self.channel, "d"),
        }

    def to_dict(self):
        """A JSON-ready dict with typed values (None for unknown)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_row(cls, row):
        """Parse a CSV row (dict of strings).

        Raises
        ------
        ScatterError
            If a field does not parse.
        """
        try:
            return cls(
                path=row["path"], score=_parse(row["score"], float),
                label=_parse(row["label"], int), duration_s=_parse(row["duration_s"], float),
                sample_rate=_parse(row["sample_rate"], int),
                channels=_parse(row["channels"], int),
                n_windows=_parse(row["n_windows"], int), error=row["error"],
                start_time=row.get("start_time") or None,
                channel=_parse(row.get("channel", ""), int),
            )
        except (KeyError, ValueError) as exc:
            raise ScatterError(f"row {row!r} is not a results row ({exc})") from exc


def format_segment_rows(path, starts_s, ends_s, scores, *, start_time=None, channel=None):
    """Segments CSV rows (dicts of strings) for one file's windows.

    Parameters
    ----------
    path : str
        The audio file.
    starts_s, ends_s, scores : sequence of float [shape=(n_windows,)]
        Window start and end times in seconds and window scores.
    start_time : str or datetime.datetime or None
        When the recording started (timezone-aware; text: ISO 8601 with its UTC offset, a
        results row's ``start_time``): each row's ``start_time`` is then the clock time its
        window starts, ISO 8601 with the same offset (to the millisecond when the window does
        not start on a whole second). None or ``""``: empty.
    channel : int or None
        The channel scored (``channels="each"``), None when the channels were mixed.

    Returns
    -------
    rows : list of dict
        Keyed by :data:`SEGMENT_FIELDS`; ``start_time`` and ``channel`` only when given (a
        table writes them empty, see :func:`write_rows`).

    Raises
    ------
    ScatterError
        If the three sequences differ in length, or ``start_time`` is not a timezone-aware
        time.

    Examples
    --------
    >>> format_segment_rows("a.wav", [0.0, 2.5], [2.6, 5.1], [0.1, 0.9],
    ...                     start_time="2024-06-01T05:00:00+02:00")[1]["start_time"]
    '2024-06-01T05:00:02.500+02:00'
    """
    if not len(starts_s) == len(ends_s) == len(scores):
        raise ScatterError(f"starts_s, ends_s and scores must have one length; got "
                           f"{len(starts_s)}, {len(ends_s)}, {len(scores)}")
    t0 = _aware_time(start_time, "start_time")
    rows = [{"path": path, "start_s": format(float(a), ".6f"),
             "end_s": format(float(b), ".6f"), "score": format(float(s), ".6g")}
            for a, b, s in zip(starts_s, ends_s, scores, strict=True)]
    if t0 is not None:
        for row in rows:
            row["start_time"] = _clock_text(t0, float(row["start_s"]))
    if channel is not None:
        for row in rows:
            row["channel"] = str(int(channel))
    return rows


def _aware_time(value, name):
    """A timezone-aware datetime from a datetime or ISO 8601 text with its offset; None for
    None or ``""``."""
    if value is None or value == "":
        return None
    t = value
    if isinstance(value, str):
        try:
            t = datetime.datetime.fromisoformat(value)
        except ValueError:
            t = None
    if not isinstance(t, datetime.datetime) or t.utcoffset() is None:
        raise ScatterError(f"{name} must be a timezone-aware datetime or ISO 8601 text with a "
                           f"UTC offset; got {value!r}")
    return t


def _clock_text(t0, offset_s):
    """``t0 + offset_s`` as ISO 8601 with ``t0``'s offset, to the millisecond where needed."""
    utc = t0.astimezone(datetime.timezone.utc) + datetime.timedelta(seconds=round(offset_s, 3))
    t = utc.astimezone(t0.tzinfo)  # exact across a daylight-saving change of t0's zone
    return t.isoformat(timespec="milliseconds" if t.microsecond else "seconds")


def _dialect(delimiter):
    """csv options of a table: quoted CSV, or tab-separated text without quoting (Raven's
    format: its values hold no tab or line break, see :func:`tsv_text`)."""
    if delimiter == ",":
        return {"delimiter": ","}
    if delimiter == "\t":
        return {"delimiter": "\t", "quoting": csv.QUOTE_NONE, "quotechar": None}
    raise ScatterError(f"delimiter must be ',' or '\\t'; got {delimiter!r}")


def tsv_text(text):
    """``text`` as one value of a tab-separated table: tabs and line breaks become spaces.

    Examples
    --------
    >>> tsv_text("a\\tb\\nc")
    'a b c'
    """
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def _encode_rows(fields, rows, *, header=False, delimiter=","):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", **_dialect(delimiter))
    if header:
        writer.writerow(fields)
    for row in rows:
        writer.writerow([row.get(f, "") if f in ADDED_FIELDS else row[f] for f in fields])
    return buf.getvalue().encode(**_ENCODING)


def write_rows(path, fields, rows, *, delimiter=","):
    """Write a whole table (header and ``rows``) atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The file; its folder must exist.
    fields : sequence of str
        Column names.
    rows : iterable of dict
        Dicts of strings keyed by (at least) ``fields``; a column of :data:`ADDED_FIELDS`
        left out of a row is written empty.
    delimiter : {",", "\\t"}
        Comma-separated (quoted CSV) or tab-separated (no quoting: values must hold no tab
        or line break, see :func:`tsv_text`).

    Raises
    ------
    ScatterError
        For a missing folder or another delimiter.

    Examples
    --------
    >>> write_rows("table.csv", ("a", "b"), [{"a": "1", "b": "x"}])  # doctest: +SKIP
    """
    data = _encode_rows(fields, list(rows), header=True, delimiter=delimiter)
    with atomic_open(path, "wb") as fh:
        fh.write(data)


def _older_header(header, fields):
    """Whether ``header`` is ``fields``, or ``fields`` less some of :data:`ADDED_FIELDS`
    (a table written before those columns existed), in the same order."""
    if header == fields:
        return True
    missing = [f for f in fields if f not in header]
    return all(f in ADDED_FIELDS for f in missing) and header == tuple(
        f for f in fields if f not in missing)


def read_rows(path, fields, *, delimiter=","):
    """Read a CSV written by :class:`CsvJournal`, tolerating a torn last row.

    A last row that is incomplete (no final newline, or the wrong number of columns, as an
    interrupted write may leave) is dropped; anything else malformed is an error. A file
    written before columns of :data:`ADDED_FIELDS` existed (its header is ``fields`` without
    them) is read with those columns empty.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file.
    fields : sequence of str
        The expected header.
    delimiter : {",", "\\t"}
        Comma-separated (quoted CSV) or tab-separated (no quoting).

    Returns
    -------
    rows : list of dict
        One dict of strings per complete row.

    Raises
    ------
    ScatterError
        If the file cannot be read, its header differs from ``fields``, or a row other than
        the last is malformed.

    Examples
    --------
    >>> rows = read_rows("results.csv", RESULT_FIELDS)  # doctest: +SKIP
    """
    path = os.fsdecode(path)
    try:
        with open(path, newline="", **_ENCODING) as fh:
            text = fh.read()
    except OSError as exc:
        raise ScatterError(f"{path!r}: cannot read ({exc.strerror})") from exc
    torn = not text.endswith("\n")
    try:
        records = list(csv.reader(io.StringIO(text), **_dialect(delimiter)))
    except csv.Error as exc:
        raise ScatterError(f"{path!r}: not a valid CSV file ({exc})") from exc
    if not records:
        raise ScatterError(f"{path!r}: empty; expected the header {delimiter.join(fields)}")
    fields = tuple(fields)
    header = tuple(records[0])
    if not _older_header(header, fields):
        raise ScatterError(f"{path!r}: header is {records[0]!r}; expected {list(fields)!r}")
    body = records[1:]
    if body and (torn or len(body[-1]) != len(header)):
        body = body[:-1]
    for i, rec in enumerate(body, start=2):
        if len(rec) != len(header):
            raise ScatterError(f"{path!r}: row {i} has {len(rec)} columns; expected "
                               f"{len(header)}")
    blank = dict.fromkeys(fields, "")
    return [blank | dict(zip(header, rec, strict=True)) for rec in body]


def read_results(path):
    """Read a results CSV into :class:`FileResult` objects (see :func:`read_rows`).

    Raises
    ------
    ScatterError
        If the file is not a results CSV.
    """
    return [FileResult.from_row(r) for r in read_rows(path, RESULT_FIELDS)]


class CsvJournal:
    """A CSV file that grows one finished audio file at a time and survives interruption.

    The file is first created atomically with the header and ``keep_rows``; :meth:`append`
    then adds rows with a single ``os.write`` per call and flushes them to the operating
    system, so after a crash the file holds every appended group whole (the rare torn last
    row after a power cut is dropped by :func:`read_rows`).

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file (replaced).
    fields : sequence of str
        Column names.
    keep_rows : iterable of dict
        Rows to start with (those kept from an earlier run).
    delimiter : {",", "\\t"}
        Comma-separated (quoted CSV) or tab-separated (no quoting: values must hold no tab
        or line break, see :func:`tsv_text`).

    Raises
    ------
    ScatterError
        If the folder does not exist.

    Examples
    --------
    >>> j = CsvJournal("segs.csv", SEGMENT_FIELDS)  # doctest: +SKIP
    >>> j.append(format_segment_rows("a.wav", [0.0], [1.0], [0.2]))  # doctest: +SKIP
    >>> j.close()  # doctest: +SKIP
    """

    def __init__(self, path, fields, *, keep_rows=(), delimiter=","):
        self.path = os.fsdecode(path)
        self.fields = tuple(fields)
        self.delimiter = delimiter
        _dialect(delimiter)
        self.rewrite(keep_rows)

    def rewrite(self, rows):
        """Atomically replace the whole file with the header and ``rows``."""
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)
            self._fd = None
        write_rows(self.path, self.fields, rows, delimiter=self.delimiter)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)

    def append(self, rows):
        """Append ``rows`` (dicts of strings) in one write.

        Raises
        ------
        ScatterError
            If the journal is closed.
        """
        if self._fd is None:
            raise ScatterError(f"CsvJournal {self.path!r}: append after close")
        data = memoryview(_encode_rows(self.fields, rows, delimiter=self.delimiter))
        while data:
            written = os.write(self._fd, data)
            data = data[written:]

    def close(self):
        """Flush to disk and close (idempotent)."""
        if self._fd is not None:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None


# --------------------------------------------------------------------------------------------
# JSON


def _finite_floats(obj, where="payload"):
    if isinstance(obj, float) and not math.isfinite(obj):
        raise ScatterError(f"{where} is {obj!r}; JSON output must be finite")
    if isinstance(obj, dict):
        for k, v in obj.items():
            _finite_floats(v, f"{where}[{k!r}]")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _finite_floats(v, f"{where}[{i}]")


def write_json(path, payload):
    """Write ``payload`` as indented JSON, atomically; non-ASCII text is kept readable.

    Parameters
    ----------
    path : str or os.PathLike
        The JSON file.
    payload : dict
        JSON-serialisable data (floats must be finite).

    Raises
    ------
    ScatterError
        If a float is NaN or infinite.

    Examples
    --------
    >>> write_json("results.json", {"files": [FileResult("a.wav").to_dict()]})  # doctest: +SKIP
    """
    _finite_floats(payload)
    text = json.dumps(payload, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    # A lone surrogate (an undecodable file name byte) becomes the JSON escape \udcXX.
    with atomic_open(path, "wb") as fh:
        fh.write(text.encode("utf-8", errors="backslashreplace"))


# --------------------------------------------------------------------------------------------
# Raven Pro selection tables


def merge_detections(starts_s, ends_s, scores, *, threshold):
    """Selections from windows at or above ``threshold``, adjacent windows merged.

    Windows are taken in order of start; a window above threshold that starts at or before the
    end of the current selection (overlapping or touching it) extends it, else it starts a new
    one, so selections never overlap. A selection's score is the highest of its windows.

    Parameters
    ----------
    starts_s, ends_s, scores : sequence of float [shape=(n_windows,)]
        Window times in seconds (sorted by start) and scores.
    threshold : float
        Scores ``>= threshold`` count as detections.

    Returns
    -------
    selections : list of (float, float, float)
        ``(begin_s, end_s, score)`` per selection.

    Raises
    ------
    ScatterError
        If the sequences differ in length.

    Examples
    --------
    >>> merge_detections([0, 1, 2, 4], [2, 3, 4, 6], [0.9, 0.7, 0.1, 0.8], threshold=0.5)
    [(0.0, 3.0, 0.9), (4.0, 6.0, 0.8)]
    """
    if not len(starts_s) == len(ends_s) == len(scores):
        raise ScatterError(f"starts_s, ends_s and scores must have one length; got "
                           f"{len(starts_s)}, {len(ends_s)}, {len(scores)}")
    out = []
    for a, b, s in zip(starts_s, ends_s, scores, strict=True):
        a, b, s = float(a), float(b), float(s)
        if not s >= threshold:
            continue
        if out and a <= out[-1][1]:
            begin, end, best = out[-1]
            out[-1] = (begin, max(end, b), max(best, s))
        else:
            out.append((a, b, s))
    return out


def output_paths(paths, folder, *, suffix):
    """Where the output file of each audio file goes: one file per audio file, in ``folder``.

    Outputs mirror the folders of the audio files below their deepest common folder, named
    ``<name without extension><suffix>``; when two files would share an output (``x.wav`` and
    ``x.flac``), their extension is kept in the name. The mapping depends only on the list of
    paths, so a resumed run writes the same names. Raven tables, Audacity labels, review
    clips, feature files and figures all use it, so one audio file's outputs share a stem.

    Parameters
    ----------
    paths : sequence of str
        Audio file paths.
    folder : str or os.PathLike
        Output folder.
    suffix : str
        Appended to the stem (``".txt"``, ``".npz"``, ``""``).

    Returns
    -------
    outputs : dict of str to str
        Audio path to output path.

    Examples
    --------
    >>> output_paths(["d/a.wav", "d/e/b.flac"], "labels", suffix=".txt")
    {'d/a.wav': 'labels/a.txt', 'd/e/b.flac': 'labels/e/b.txt'}
    """
    folder = os.fsdecode(folder)
    if not paths:
        return {}
    absolute = [os.path.abspath(p) for p in paths]
    root = os.path.commonpath([os.path.dirname(a) for a in absolute])
    stems = {p: os.path.splitext(os.path.relpath(a, root))[0]
             for p, a in zip(paths, absolute, strict=True)}
    counts = {}
    for stem in stems.values():
        counts[stem] = counts.get(stem, 0) + 1
    outputs = {}
    for p, a in zip(paths, absolute, strict=True):
        stem = stems[p] if counts[stems[p]] == 1 else os.path.relpath(a, root)
        outputs[p] = os.path.join(folder, stem + suffix)
    return outputs


def channel_output_path(path, suffix, channel):
    """The output file of one channel of an audio file: ``<stem>.ch<channel><suffix>``.

    With ``channels="each"`` every channel of a file has its own per-file outputs (labels,
    Raven table, clips, features, figures); they take the file's output name
    (:func:`output_paths`) with ``.ch1``, ``.ch2``, ... before the suffix, so that the
    outputs of one channel sort together and the mono run's names are never reused.

    Parameters
    ----------
    path : str
        The file's output path, ending with ``suffix``.
    suffix : str
        As given to :func:`output_paths`.
    channel : int or None
        1 for the first channel; None: ``path`` unchanged (channels mixed).

    Returns
    -------
    str

    Examples
    --------
    >>> channel_output_path("labels/a.txt", ".txt", 2)
    'labels/a.ch2.txt'
    >>> channel_output_path("labels/a.txt", ".txt", None)
    'labels/a.txt'
    """
    if channel is None:
        return path
    stem = path[:len(path) - len(suffix)] if suffix and path.endswith(suffix) else path
    return f"{stem}.ch{int(channel)}{suffix}"


def safe_name(text):
    """``text`` as a file name that any file system takes: letters and digits (of any script),
    ``-``, ``_`` and ``.`` are kept, every other character becomes ``_``; no leading dot (no
    hidden file, no ``..``), never empty.

    Parameters
    ----------
    text : str

    Returns
    -------
    str

    Examples
    --------
    >>> safe_name("SITE 1/2024: été$")
    'SITE_1_2024__été_'
    >>> safe_name("..")
    '_'
    """
    out = "".join(c if c.isalnum() or c in "-_." else "_" for c in text).lstrip(".")
    return out or "_"


def raven_table_paths(paths, raven_dir):
    """Where the Raven table of each audio file goes: :func:`output_paths` with Raven's own
    name, ``<name without extension>.Table.1.selections.txt``.

    Parameters
    ----------
    paths : sequence of str
        Audio file paths.
    raven_dir : str or os.PathLike
        Output folder.

    Returns
    -------
    tables : dict of str to str
        Audio path to table path.

    Examples
    --------
    >>> raven_table_paths(["d/a.wav", "d/e/b.flac"], "raven")
    {'d/a.wav': 'raven/a.Table.1.selections.txt', 'd/e/b.flac': 'raven/e/b.Table.1.selections.txt'}
    """
    return output_paths(paths, raven_dir, suffix=".Table.1.selections.txt")


def raven_band(low_hz, high_hz, *, sample_rate=None):
    """The frequency band of a file's Raven selections, kept below its Nyquist frequency.

    A selection box above half the file's own sample rate would lie outside its spectrogram
    in Raven (the detector's band is set at its sample rate, the file may have a lower one),
    so ``high_hz`` (and ``low_hz``, for a band that lies above) is lowered to
    ``sample_rate / 2``.

    Parameters
    ----------
    low_hz, high_hz : float
        The band, ``0 <= low_hz < high_hz``.
    sample_rate : int or None
        The audio file's native sample rate; None: no limit.

    Returns
    -------
    (float, float)

    Raises
    ------
    ScatterError
        If ``0 <= low_hz < high_hz`` does not hold or ``sample_rate`` is not positive.

    Examples
    --------
    >>> raven_band(0, 11025, sample_rate=16000)
    (0.0, 8000.0)
    """
    if not 0 <= low_hz < high_hz:
        raise ScatterError(f"low_hz, high_hz must satisfy 0 <= low_hz < high_hz; got "
                           f"{low_hz!r}, {high_hz!r}")
    low, high = float(low_hz), float(high_hz)
    if sample_rate is not None:
        if not (isinstance(sample_rate, (int, float)) and sample_rate > 0):
            raise ScatterError(f"sample_rate must be a positive number of Hz or None; got "
                               f"{sample_rate!r}")
        nyquist = sample_rate / 2
        low, high = min(low, nyquist), min(high, nyquist)
    return low, high


def format_raven_rows(selections, *, low_hz, high_hz, first=1, offset_s=0.0, channel=1):
    """Raven Pro selection-table rows (dicts of strings) of one file's selections.

    Parameters
    ----------
    selections : sequence of (float, float, float)
        ``(begin_s, end_s, score)`` within the file, as from :func:`merge_detections`.
    low_hz, high_hz : float
        The band of every selection (see :func:`raven_band`).
    first : int
        Number of the first selection.
    offset_s : float
        Added to ``Begin Time (s)`` and ``End Time (s)``: where the file starts in a table of
        several files (0 for a table of one file).
    channel : int
        Raven's ``Channel`` of every selection (1 for the first channel, or a mono mix).

    Returns
    -------
    rows : list of dict
        Keyed by :data:`RAVEN_FIELDS` and ``"File Offset (s)"`` (the begin within the file).

    Examples
    --------
    >>> format_raven_rows([(1.0, 2.0, 0.9)], low_hz=0, high_hz=8000, first=3, offset_s=60)[0]
    ... # doctest: +NORMALIZE_WHITESPACE
    {'Selection': '3', 'View': 'Spectrogram 1', 'Channel': '1', 'Begin Time (s)': '61.000000',
     'End Time (s)': '62.000000', 'Low Freq (Hz)': '0.0', 'High Freq (Hz)': '8000.0',
     'Score': '0.9', 'File Offset (s)': '1.000000'}
    """
    return [{"Selection": str(i), "View": "Spectrogram 1", "Channel": str(int(channel)),
             "Begin Time (s)": format(offset_s + begin, ".6f"),
             "End Time (s)": format(offset_s + end, ".6f"),
             "Low Freq (Hz)": format(low_hz, ".1f"), "High Freq (Hz)": format(high_hz, ".1f"),
             "Score": format(score, ".6g"), "File Offset (s)": format(begin, ".6f")}
            for i, (begin, end, score) in enumerate(selections, start=first)]


def write_raven_table(path, selections, *, low_hz, high_hz, sample_rate=None, channel=1):
    """Write a Raven Pro selection table (tab-separated) of one file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The table file; missing folders are created.
    selections : sequence of (float, float, float)
        ``(begin_s, end_s, score)``, as from :func:`merge_detections`.
    low_hz, high_hz : float
        The frequency band given to every selection.
    sample_rate : int or None
        The audio file's native sample rate: the band is kept below its Nyquist frequency
        (:func:`raven_band`); None: the band as given.
    channel : int
        Raven's ``Channel`` of every selection (the channel scored, 1 for a mono mix).

    Raises
    ------
    ScatterError
        If ``0 <= low_hz < high_hz`` does not hold.

    Examples
    --------
    >>> write_raven_table("a.Table.1.selections.txt", [(0.0, 2.0, 0.9)], low_hz=0,
    ...                   high_hz=11025)  # doctest: +SKIP
    """
    low_hz, high_hz = raven_band(low_hz, high_hz, sample_rate=sample_rate)
    path = os.fsdecode(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_rows(path, RAVEN_FIELDS, format_raven_rows(selections, low_hz=low_hz,
                                                     high_hz=high_hz, channel=channel),
               delimiter="\t")
