"""Output files of the detector: results and segments CSV, JSON, Raven Pro selection tables.

Every file is created atomically (written to a temporary file in the same folder, flushed,
then renamed over the target), so a reader never sees half a header. The results and segments
CSV files are then *journals*: each finished audio file adds its rows with one ``write`` call
and a flush, so an interrupted run (Ctrl-C, a crash) leaves a valid CSV holding every finished
file. :func:`read_rows` tolerates a torn last line, and :class:`CsvJournal` restarts a journal
from the rows worth keeping, which is how ``--resume`` avoids duplicates.

Paths are written as UTF-8; file names that are not valid UTF-8 (possible on Linux) are kept
byte for byte in CSV files (``surrogateescape``) and as ``\\udcXX`` escapes in JSON.

Example
-------
>>> res = FileResult("a.wav", score=0.9, label=1, duration_s=10.0, sample_rate=44100,
...                  channels=1, n_windows=19)
>>> res.to_row()["score"]
'0.9'
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import math
import os
import tempfile

from scatter.errors import ScatterError

__all__ = [
    "RAVEN_FIELDS",
    "RESULT_FIELDS",
    "SEGMENT_FIELDS",
    "CsvJournal",
    "FileResult",
    "atomic_open",
    "format_segment_rows",
    "merge_detections",
    "raven_table_paths",
    "read_results",
    "read_rows",
    "write_json",
    "write_raven_table",
]

RESULT_FIELDS = ("path", "score", "label", "duration_s", "sample_rate", "channels",
                 "n_windows", "error")
SEGMENT_FIELDS = ("path", "start_s", "end_s", "score")
RAVEN_FIELDS = ("Selection", "View", "Channel", "Begin Time (s)", "End Time (s)",
                "Low Freq (Hz)", "High Freq (Hz)", "Score")

_ENCODING = {"encoding": "utf-8", "errors": "surrogateescape"}


def _new_file_mode():
    """The mode ``open()`` would give a new file: 0o666 less the process umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_open(path, mode="w"):
    """Open a temporary file beside ``path``; rename it over ``path`` when the block succeeds.

    Parameters
    ----------
    path : str or os.PathLike
        The final file; its folder must exist.
    mode : {"w", "wb"}
        Text (UTF-8 with ``surrogateescape``, ``newline=""``) or binary.

    Yields
    ------
    fh : file object

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
    path = os.fsdecode(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ScatterError(f"path {path!r}: folder {folder!r} does not exist; create it first")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp")
    try:
        kwargs = {} if mode == "wb" else {"newline": "", **_ENCODING}
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _new_file_mode())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


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
    reason in ``error``.
    """

    path: str
    score: float | None = None
    label: int | None = None
    duration_s: float | None = None
    sample_rate: int | None = None
    channels: int | None = None
    n_windows: int | None = None
    error: str = ""

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
            )
        except (KeyError, ValueError) as exc:
            raise ScatterError(f"row {row!r} is not a results row ({exc})") from exc


def format_segment_rows(path, starts_s, ends_s, scores):
    """Segments CSV rows (dicts of strings) for one file's windows.

    Parameters
    ----------
    path : str
        The audio file.
    starts_s, ends_s, scores : sequence of float [shape=(n_windows,)]
        Window start and end times in seconds and window scores.

    Returns
    -------
    rows : list of dict

    Raises
    ------
    ScatterError
        If the three sequences differ in length.
    """
    if not len(starts_s) == len(ends_s) == len(scores):
        raise ScatterError(f"starts_s, ends_s and scores must have one length; got "
                           f"{len(starts_s)}, {len(ends_s)}, {len(scores)}")
    return [{"path": path, "start_s": format(float(a), ".6f"),
             "end_s": format(float(b), ".6f"), "score": format(float(s), ".6g")}
            for a, b, s in zip(starts_s, ends_s, scores, strict=True)]


def _encode_rows(fields, rows, *, header=False):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if header:
        writer.writerow(fields)
    for row in rows:
        writer.writerow([row[f] for f in fields])
    return buf.getvalue().encode(**_ENCODING)


def read_rows(path, fields):
    """Read a CSV written by :class:`CsvJournal`, tolerating a torn last row.

    A last row that is incomplete (no final newline, or the wrong number of columns, as an
    interrupted write may leave) is dropped; anything else malformed is an error.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file.
    fields : sequence of str
        The expected header.

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
        records = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise ScatterError(f"{path!r}: not a valid CSV file ({exc})") from exc
    if not records:
        raise ScatterError(f"{path!r}: empty; expected the header {','.join(fields)}")
    if tuple(records[0]) != tuple(fields):
        raise ScatterError(f"{path!r}: header is {records[0]!r}; expected {list(fields)!r}")
    body = records[1:]
    if body and (torn or len(body[-1]) != len(fields)):
        body = body[:-1]
    for i, rec in enumerate(body, start=2):
        if len(rec) != len(fields):
            raise ScatterError(f"{path!r}: row {i} has {len(rec)} columns; expected "
                               f"{len(fields)}")
    return [dict(zip(fields, rec, strict=True)) for rec in body]


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

    def __init__(self, path, fields, *, keep_rows=()):
        self.path = os.fsdecode(path)
        self.fields = tuple(fields)
        self.rewrite(keep_rows)

    def rewrite(self, rows):
        """Atomically replace the whole file with the header and ``rows``."""
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)
            self._fd = None
        with atomic_open(self.path, "wb") as fh:
            fh.write(_encode_rows(self.fields, list(rows), header=True))
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
        data = memoryview(_encode_rows(self.fields, rows))
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


def raven_table_paths(paths, raven_dir):
    """Where the Raven table of each audio file goes.

    Tables mirror the folders of the audio files below their deepest common folder, named
    ``<name without extension>.Table.1.selections.txt`` (Raven's own convention); when two
    files would share a table (``x.wav`` and ``x.flac``), their extension is kept in the
    name. The mapping depends only on the list of paths, so a resumed run writes the same
    names.

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
    raven_dir = os.fsdecode(raven_dir)
    if not paths:
        return {}
    absolute = [os.path.abspath(p) for p in paths]
    root = os.path.commonpath([os.path.dirname(a) for a in absolute])
    stems = {p: os.path.splitext(os.path.relpath(a, root))[0]
             for p, a in zip(paths, absolute, strict=True)}
    counts = {}
    for stem in stems.values():
        counts[stem] = counts.get(stem, 0) + 1
    tables = {}
    for p, a in zip(paths, absolute, strict=True):
        stem = stems[p] if counts[stems[p]] == 1 else os.path.relpath(a, root)
        tables[p] = os.path.join(raven_dir, stem + ".Table.1.selections.txt")
    return tables


def write_raven_table(path, selections, *, low_hz, high_hz):
    """Write a Raven Pro selection table (tab-separated), atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The table file; missing folders are created.
    selections : sequence of (float, float, float)
        ``(begin_s, end_s, score)``, as from :func:`merge_detections`.
    low_hz, high_hz : float
        The frequency band given to every selection.

    Raises
    ------
    ScatterError
        If ``0 <= low_hz < high_hz`` does not hold.

    Examples
    --------
    >>> write_raven_table("a.Table.1.selections.txt", [(0.0, 2.0, 0.9)], low_hz=0,
    ...                   high_hz=11025)  # doctest: +SKIP
    """
    if not 0 <= low_hz < high_hz:
        raise ScatterError(f"low_hz, high_hz must satisfy 0 <= low_hz < high_hz; got "
                           f"{low_hz!r}, {high_hz!r}")
    path = os.fsdecode(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    lines = ["\t".join(RAVEN_FIELDS)]
    for i, (begin, end, score) in enumerate(selections, start=1):
        lines.append("\t".join([str(i), "Spectrogram 1", "1", format(begin, ".6f"),
                                format(end, ".6f"), format(low_hz, ".1f"),
                                format(high_hz, ".1f"), format(score, ".6g")]))
    with atomic_open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
