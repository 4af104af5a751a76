"""Corpus v4: reviewed labels, silent gaps, mixing into backgrounds, duplicates, split coverage.

Helper of ``build_corpus_v4.py`` (which fetches the files and writes the manifest) and of the
training side that reads the manifest. Pure NumPy.

Labels (``corpus_v4_labels.csv`` beside this file; :func:`read_labels`, :func:`write_labels`)
were written by a person looking at the spectrogram sheets of ``review_corpus_v4.py``, one row
per reviewed file or per segment of a file, keyed by the file's SHA-256:

- ``sha256``: content hash of the file (the manifest's ``sha256``);
- ``start``, ``end``: seconds, both empty for the whole file; a segment row labels that span of
  a soundscape where birds come and go (spans of a file not covered by a segment row take the
  whole-file row's label, or ``unsure``);
- ``label``: ``bird``, ``nonbird`` or ``unsure`` (training leaves ``unsure`` out);
- ``kind``: one of :data:`KINDS`;
- ``name``: the file name it was reviewed under (for people reading the CSV; not a key);
- ``note``: what the spectrogram shows, and why the label is unsure where it is.

Denoised game clips keep digital silence between their calls: :func:`silent_gaps` measures it,
the manifest flags such files (``silent_gaps``), and :func:`mix_into_background` places them
into a real background recording before the model sees them, so that "silence around it" is
never a cue for "bird".

Evaluation and training read a record's labelled parts with :func:`labelled_spans` and cut them
into clips of one length with :func:`cut_spans`; :func:`check_split` checks that the manifest's
split is held out by source (whole packages, no recording in two splits).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

__all__ = [
    "BIRD_KINDS",
    "KINDS",
    "LABELS",
    "LABELS_PATH",
    "LABEL_FIELDS",
    "REQUIRED_TEST_KINDS",
    "SPLIT_ORDER",
    "check_split",
    "check_test_coverage",
    "cut_spans",
    "file_labels",
    "labelled_spans",
    "mix_into_background",
    "read_labels",
    "silent_gaps",
    "write_labels",
]

#: Splits from the most held out to the least: a recording kept in one is never used by a later.
SPLIT_ORDER = ("test", "val", "train")

LABELS = ("bird", "nonbird", "unsure")
#: Kinds of a bird label: a song, a single call (or a few), or a field soundscape with birds.
BIRD_KINDS = ("song", "call", "soundscape")
KINDS = BIRD_KINDS + (
    "insect", "frog", "rain", "wind", "water", "thunder", "fire", "urban", "machine", "speech",
    "voice", "music", "mammal", "reptile", "sfx", "other")
LABEL_FIELDS = ("sha256", "start", "end", "label", "kind", "name", "note")
LABELS_PATH = Path(__file__).resolve().parent / "corpus_v4_labels.csv"
#: (label, kinds) groups the test split must hold (see ``corpus_v4_sources``).
REQUIRED_TEST_KINDS = (
    ("bird", ("soundscape",)), ("bird", ("call",)), ("nonbird", ("insect",)),
    ("nonbird", ("frog",)), ("nonbird", ("speech",)), ("nonbird", ("urban",)))

#: Samples whose magnitude is at most this are digital silence (1.5 LSB of 16-bit audio).
SILENCE_LEVEL = 1.5 / 32768


def _check_row(row: dict, where: str) -> dict:
    sha = (row.get("sha256") or "").strip().lower()
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise ValueError(f"{where}: sha256 must be 64 hex digits; got {row.get('sha256')!r}")
    label, kind = (row.get("label") or "").strip(), (row.get("kind") or "").strip()
    if label not in LABELS:
        raise ValueError(f"{where}: label must be one of {LABELS}; got {label!r}")
    if kind not in KINDS:
        raise ValueError(f"{where}: kind must be one of {KINDS}; got {kind!r}")
    if label == "bird" and kind not in BIRD_KINDS:
        raise ValueError(f"{where}: a bird label needs a kind of {BIRD_KINDS}; got {kind!r}")
    start, end = (row.get("start") or "").strip(), (row.get("end") or "").strip()
    if bool(start) != bool(end):
        raise ValueError(f"{where}: start and end must both be given (a segment) or both "
                         f"empty (the whole file); got start={start!r}, end={end!r}")
    out = {"sha256": sha, "start": None, "end": None, "label": label, "kind": kind,
           "name": (row.get("name") or "").strip(), "note": (row.get("note") or "").strip()}
    if start:
        try:
            a, b = float(start), float(end)
        except ValueError as exc:
            raise ValueError(f"{where}: start and end must be seconds; got {start!r}, "
                             f"{end!r}") from exc
        if not (math.isfinite(a) and math.isfinite(b) and 0 <= a < b):
            raise ValueError(f"{where}: a segment needs 0 <= start < end; got {a}, {b}")
        out["start"], out["end"] = a, b
    return out


def read_labels(path: Path | str | None = None) -> list[dict]:
    """Read a label CSV (default :data:`LABELS_PATH`).

    Returns
    -------
    list of dict
        Rows with ``sha256``, ``start`` and ``end`` (float, or None for the whole file),
        ``label``, ``kind``, ``name``, ``note``.

    Raises
    ------
    ValueError
        If a column is missing, a value is not allowed (the message names the line), a file has
        two whole-file rows, or two segments of a file overlap.
    """
    path = Path(path) if path is not None else LABELS_PATH
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [f for f in LABEL_FIELDS if f not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path}: columns {missing} are missing; expected {LABEL_FIELDS}")
        rows = [_check_row(r, f"{path}:{i}") for i, r in enumerate(reader, start=2)]
    whole, segments = set(), {}
    for r in rows:
        if r["start"] is None:
            if r["sha256"] in whole:
                raise ValueError(f"{path}: file {r['sha256'][:12]}... has two whole-file rows")
            whole.add(r["sha256"])
        else:
            segments.setdefault(r["sha256"], []).append((r["start"], r["end"]))
    for sha, spans in segments.items():
        spans.sort()
        for (_, b), (c, _) in zip(spans[:-1], spans[1:]):
            if c < b:
                raise ValueError(f"{path}: segments of file {sha[:12]}... overlap at {c} s")
    return rows


def write_labels(rows, path: Path | str) -> Path:
    """Write label rows (as :func:`read_labels` returns them) to a CSV, sorted by name, hash
    and start; checked first, so what is written reads back the same."""
    path = Path(path)
    checked = []
    for i, r in enumerate(rows):
        r = dict(r)
        r["start"] = "" if r.get("start") is None else f"{float(r['start']):g}"
        r["end"] = "" if r.get("end") is None else f"{float(r['end']):g}"
        checked.append(_check_row(r, f"row {i}") | {"start": r["start"], "end": r["end"]})
    checked.sort(key=lambda r: (r["name"], r["sha256"],
                                float(r["start"]) if r["start"] else -1.0))
    from scatter.outputs import atomic_open

    with atomic_open(path) as fh:
        writer = csv.DictWriter(fh, fieldnames=LABEL_FIELDS, lineterminator="\n")
        writer.writeheader()
        for r in checked:
            writer.writerow({k: r[k] for k in LABEL_FIELDS})
    return path


def file_labels(rows) -> dict:
    """Label rows grouped per file: sha256 -> ``{"label", "kind", "note", "segments"}``.

    The file's label is its whole-file row's; without one, ``bird`` if a segment is, else the
    first segment's. ``segments`` lists ``(start, end, label, kind)`` in time order.
    """
    out: dict = {}
    for r in rows:
        entry = out.setdefault(r["sha256"], {"label": None, "kind": None, "note": "",
                                             "segments": []})
        if r["start"] is None:
            entry.update(label=r["label"], kind=r["kind"], note=r["note"])
        else:
            entry["segments"].append((r["start"], r["end"], r["label"], r["kind"]))
    for entry in out.values():
        entry["segments"].sort()
        if entry["label"] is None:
            birds = [s for s in entry["segments"] if s[2] == "bird"]
            first = birds[0] if birds else entry["segments"][0]
            entry["label"], entry["kind"] = first[2], first[3]
    return out


def silent_gaps(x, *, sr: int, min_gap_s: float = 0.05) -> float:
    """Seconds of digital silence in runs of at least ``min_gap_s`` (at the edges too).

    Parameters
    ----------
    x : array_like [shape=(n,)] or [shape=(channels, n)]
        Samples in [-1, 1]; a sample is silent when every channel is within
        :data:`SILENCE_LEVEL` of zero.
    sr : int
        Sample rate (Hz).
    min_gap_s : float
        Shortest run counted.

    Returns
    -------
    float

    Examples
    --------
    >>> x = np.r_[np.ones(800), np.zeros(1600), np.ones(800)]
    >>> silent_gaps(x, sr=8000)
    0.2
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim not in (1, 2):
        raise ValueError(f"x must have shape (n,) or (channels, n); got {x.shape}")
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ValueError(f"sr must be a positive integer sample rate in Hz; got {sr!r}")
    quiet = np.abs(x) <= SILENCE_LEVEL
    if quiet.ndim == 2:
        quiet = quiet.all(0)
    if not quiet.any():
        return 0.0
    edges = np.diff(np.r_[0, quiet.astype(np.int8), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    runs = ends - starts
    return float(runs[runs >= min_gap_s * sr].sum() / sr)


def mix_into_background(clip, background, *, snr_db: float, rng, sr: int):
    """Place a clip into a real background recording at a given SNR.

    The background is cut at a random offset (tiled with short cross-fades when shorter than
    the clip) to the clip's length; the SNR is the clip's power over its non-silent samples
    against the background's power over the same samples. The mixture is scaled down when its
    peak would pass 1. Digital silence in the clip is filled by the background.

    Parameters
    ----------
    clip : array_like [shape=(n,)]
        The clip (e.g. a denoised game recording with digitally silent gaps).
    background : array_like [shape=(m,)]
        A real recording without birds, same sample rate.
    snr_db : float
        Signal-to-noise ratio in dB.
    rng : numpy.random.Generator
    sr : int
        Sample rate of both (Hz).

    Returns
    -------
    numpy.ndarray [shape=(n,)], float32

    Raises
    ------
    ValueError
        If an input is not one-dimensional, empty, silent throughout or not finite, or
        ``snr_db`` is not a finite number.
    """
    clip = np.asarray(clip, dtype=np.float64)
    background = np.asarray(background, dtype=np.float64)
    for name, v in (("clip", clip), ("background", background)):
        if v.ndim != 1 or v.size == 0:
            raise ValueError(f"{name} must be a non-empty one-dimensional signal; got shape "
                             f"{v.shape}")
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{name} has non-finite samples")
    if isinstance(snr_db, bool) or not isinstance(snr_db, (int, float, np.floating)) \
            or not math.isfinite(snr_db):
        raise ValueError(f"snr_db must be a finite number of dB; got {snr_db!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ValueError(f"sr must be a positive integer sample rate in Hz; got {sr!r}")
    active = np.abs(clip) > SILENCE_LEVEL
    if not active.any():
        raise ValueError("clip is digitally silent throughout; there is nothing to place")
    if not np.any(np.abs(background) > SILENCE_LEVEL):
        raise ValueError("background is digitally silent throughout; expected a real recording")
    n = clip.size
    fade = max(1, min(int(0.05 * sr), background.size // 4))
    bg = background
    if bg.size < n:
        ramp = np.linspace(0.0, 1.0, fade)
        pieces, total = [bg], bg.size
        while total < n + bg.size:
            prev = pieces[-1]
            joined = prev[-fade:] * ramp[::-1] + bg[:fade] * ramp
            pieces[-1] = prev[:-fade]
            pieces.extend([joined, bg[fade:]])
            total = sum(p.size for p in pieces)
        bg = np.concatenate(pieces)
    start = int(rng.integers(0, bg.size - n + 1))
    bg = bg[start:start + n]
    p_clip = float(np.mean(clip[active] ** 2))
    p_bg = float(np.mean(bg[active] ** 2))
    if p_bg <= 0.0:
        bg = background[np.abs(background) > SILENCE_LEVEL]
        bg = np.resize(bg, n)
        p_bg = float(np.mean(bg[active] ** 2))
    gain = math.sqrt(p_clip / (p_bg * 10.0 ** (snr_db / 10.0)))
    mix = clip + gain * bg
    peak = float(np.max(np.abs(mix)))
    if peak > 1.0:
        mix = mix / peak
    return mix.astype(np.float32)


def check_test_coverage(records) -> list[str]:
    """What the test split lacks of :data:`REQUIRED_TEST_KINDS` (empty: all there).

    Parameters
    ----------
    records : list of dict
        Manifest records (``split``, ``kept``, ``label``, ``kind``).
    """
    have = {(r["label"], r["kind"]) for r in records
            if r.get("split") == "test" and r.get("kept", True)}
    return [f"{label} {'/'.join(kinds)}" for label, kinds in REQUIRED_TEST_KINDS
            if not any((label, k) in have for k in kinds)]


def check_split(records) -> list[str]:
    """What breaks the source split of a manifest (empty: nothing).

    The split is held out by source when (a) every package has all its files in one split, and
    (b) no recording of a held-out split is used by a less held-out one: a file that is a copy
    of another (``duplicate_of``) sits in the same split as its kept copy or in a less held-out
    one (copies are not used; the kept one is), and no two kept files of different splits have
    the same content hash.

    Parameters
    ----------
    records : list of dict
        Manifest records (``package``, ``path_inside``, ``split``, ``kept``, ``duplicate_of``,
        ``sha256``).

    Returns
    -------
    list of str
        One sentence per problem.
    """
    problems = []
    splits: dict = {}
    for r in records:
        splits.setdefault(r["package"], set()).add(r["split"])
    for package, found in sorted(splits.items()):
        if len(found) > 1:
            problems.append(f"package {package} has files in several splits: {sorted(found)}")
    rank = {s: i for i, s in enumerate(SPLIT_ORDER)}
    by_key = {f"{r['package']}:{r['path_inside']}": r for r in records}
    for r in records:
        kept = by_key.get(r.get("duplicate_of") or "")
        if kept is not None and rank[kept["split"]] > rank[r["split"]]:
            problems.append(f"{r['package']}:{r['path_inside']} ({r['split']}) is a copy of "
                            f"{r['duplicate_of']}, kept in {kept['split']}")
    first: dict = {}
    for r in records:
        if r.get("kept") and r.get("sha256"):
            other = first.setdefault(r["sha256"], r)
            if other["split"] != r["split"]:
                problems.append(f"{other['package']}:{other['path_inside']} ({other['split']}) "
                                f"and {r['package']}:{r['path_inside']} ({r['split']}) have "
                                "the same content")
    return problems


def labelled_spans(record) -> list[tuple[float, float, str, str]]:
    """The labelled parts of one manifest record: ``(start, end, label, kind)`` in seconds.

    A record labelled per segment gives its ``bird`` and ``nonbird`` segments (cut to the
    file's duration); ``unsure`` segments and the parts no segment covers are left out, since
    nobody said what is in them. Otherwise the whole file is one span with the file's label,
    when that label is ``bird`` or ``nonbird``; an ``unsure`` or ``unreviewed`` file gives
    nothing.

    Parameters
    ----------
    record : dict
        A manifest record (``duration``, ``label``, ``kind``, ``segments``).

    Returns
    -------
    list of tuple

    Examples
    --------
    >>> labelled_spans({"duration": 10.0, "label": "bird", "kind": "soundscape",
    ...                 "segments": [[0, 4, "bird", "soundscape"], [4, 6, "unsure", "other"],
    ...                              [6, 12, "nonbird", "wind"]]})
    [(0.0, 4.0, 'bird', 'soundscape'), (6.0, 10.0, 'nonbird', 'wind')]
    """
    duration = float(record["duration"])
    segments = record.get("segments") or []
    if not segments:
        if record.get("label") not in ("bird", "nonbird") or duration <= 0:
            return []
        return [(0.0, duration, record["label"], record["kind"])]
    out = []
    for start, end, label, kind in segments:
        start, end = float(start), min(float(end), duration)
        if label in ("bird", "nonbird") and end > start:
            out.append((start, end, label, kind))
    return out


def cut_spans(spans, *, clip_s: float, min_clip_s: float = 1.0):
    """Cut labelled spans into clips of a fixed length.

    Each span is cut from its start into consecutive clips of ``clip_s`` seconds; what is left
    at its end becomes a shorter clip when it lasts at least ``min_clip_s`` and is dropped
    otherwise. A span shorter than ``clip_s`` is one clip of its own length, however short:
    it is the whole labelled event. Clips never cross a span's end, so each has one label.

    Parameters
    ----------
    spans : sequence of (float, float, str, str)
        ``(start, end, label, kind)``, as :func:`labelled_spans` gives them.
    clip_s : float
        Clip length (s), positive.
    min_clip_s : float
        Shortest end piece kept (s).

    Returns
    -------
    list of (float, float, str, str)

    Raises
    ------
    ValueError
        If ``clip_s`` is not a positive number or ``min_clip_s`` is negative.

    Examples
    --------
    >>> cut_spans([(0.0, 20.5, "bird", "soundscape"), (30.0, 30.4, "bird", "call")],
    ...           clip_s=9.0)
    [(0.0, 9.0, 'bird', 'soundscape'), (9.0, 18.0, 'bird', 'soundscape'), \
(18.0, 20.5, 'bird', 'soundscape'), (30.0, 30.4, 'bird', 'call')]
    """
    if isinstance(clip_s, bool) or not isinstance(clip_s, (int, float)) \
            or not math.isfinite(clip_s) or clip_s <= 0:
        raise ValueError(f"clip_s must be a positive number of seconds; got {clip_s!r}")
    if not isinstance(min_clip_s, (int, float)) or not min_clip_s >= 0:
        raise ValueError(f"min_clip_s must be a number of seconds >= 0; got {min_clip_s!r}")
    out = []
    for start, end, label, kind in spans:
        start, end = float(start), float(end)
        if end - start <= clip_s:
            out.append((start, end, label, kind))
            continue
        n = int((end - start) // clip_s)
        out.extend((start + i * clip_s, start + (i + 1) * clip_s, label, kind)
                   for i in range(n))
        if end - (start + n * clip_s) >= max(min_clip_s, 1e-9):
            out.append((start + n * clip_s, end, label, kind))
    return out
