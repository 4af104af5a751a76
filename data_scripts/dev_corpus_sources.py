"""Real source recordings for the development corpus: kinds, duplicates, splits, call segments.

Helper of ``build_dev_corpus.py`` and ``benchmarks/detector_quality.py`` (pure NumPy, plus
:func:`scatter.audio.load` for decoding). It turns the manifest written by
``fetch_tuxpaint_sounds.py`` into :class:`Source` records:

- every clip gets a *kind* from its folder (:func:`source_kind`): ``bird`` (the positives) and the
  non-bird kinds ``mammal``, ``frog``, ``insect``, ``music``, ``engine``, ``household``, ``speech``,
  ``voice``, ``weather`` and ``other``;
- clips that are digitally silent (manifest label ``silence``, or a decoded RMS below
  :data:`MIN_RMS`) are dropped;
- clips with the same decoded content (the package ships byte-identical or re-encoded copies, e.g.
  the four spellings of each spoken letter, or badger/beaver) share a *group*, and so do recordings
  of one speaker (the spoken numbers and letters of one language) and of one animal under two
  names (drake/duck, hen/rooster, ...), so that
- :func:`assign_splits` puts whole groups into ``train``, ``val`` or ``test``, stratified by
  kind and seeded: no recording, nor a copy of it, nor another take of its speaker or animal, is
  in two splits;
- :func:`call_segments` finds where the sound is (onsets/offsets of the calls in a recording) from
  its short-time energy, for window-level labels and for SNRs measured over the calls only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections import defaultdict

import numpy as np

from scatter.disjoint_sets import DisjointSets

__all__ = [
    "MIN_RMS",
    "NON_BIRD_KINDS",
    "SPLITS",
    "Source",
    "assign_splits",
    "call_segments",
    "load_sources",
    "segments_power",
    "source_kind",
]

SPLITS = ("train", "val", "test")
#: Decoded clips whose RMS is below this (about -80 dBFS) are treated as digital silence.
MIN_RMS = 1e-4
NON_BIRD_KINDS = ("mammal", "frog", "insect", "music", "engine", "household", "speech", "voice",
                  "weather", "other")

# (folder prefix, kind), first match wins; folders are the manifest's "category".
_KIND_RULES = (
    ("animals/birds", "bird"),
    ("animals/mammals", "mammal"),
    ("animals/marsupials", "mammal"),
    ("animals/amphibians", "frog"),
    ("animals/insects", "insect"),
    ("hobbies/music", "music"),
    ("military", "music"),          # a bugle call
    ("vehicles", "engine"),
    ("space", "engine"),            # a rocket engine
    ("town/flags", "engine"),       # race cars at the chequered flag
    ("household", "household"),
    ("hobbies", "household"),       # a camera shutter
    ("symbols/math", "speech"),     # spoken numbers and signs, many languages
    ("symbols/alphabets", "speech"),  # spoken letters
    ("symbols/faces", "voice"),     # laughing, crying, grumbling
    ("naturalforces", "weather"),   # thunder
)


def source_kind(category: str) -> str:
    """The kind of a clip from its manifest category (folder under ``stamps/``).

    Examples
    --------
    >>> source_kind("animals/mammals/bovines"), source_kind("animals/birds")
    ('mammal', 'bird')
    """
    for prefix, kind in _KIND_RULES:
        if category == prefix or category.startswith(prefix + "/"):
            return kind
    return "other"


# Recordings of the same animal (or breed) under two names: kept in one split.
_SAME_ANIMAL = (
    ("animals/birds/drake", "animals/birds/duck"),
    ("animals/birds/hen", "animals/birds/rooster"),
    ("animals/mammals/bovines/goat", "animals/mammals/bovines/mountaingoat",
     "animals/mammals/bovines/ram"),
    ("animals/mammals/bovines/sheep", "animals/mammals/bovines/sheep_lamb"),
    ("animals/mammals/bovines/cow", "animals/mammals/bovines/cow_white",
     "animals/mammals/bovines/bull"),
    ("animals/mammals/pig", "animals/mammals/pig_golden", "animals/mammals/pig_golden2"),
    ("animals/mammals/deer/deer", "animals/mammals/deer/doe"),
    ("animals/mammals/camel/camel", "animals/mammals/camel/dromedary"),
)


def _animal(sid: str) -> str | None:
    for names in _SAME_ANIMAL:
        if sid in names:
            return names[0]
    return None


def _speaker(relpath: str, kind: str) -> str | None:
    """A speaker key for spoken clips (language suffix), None for everything else."""
    if kind != "speech":
        return None
    stem = relpath.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    if "/alphabets/" in relpath:
        lang = relpath.split("/alphabets/")[1].split("/")[0]  # english / german
        return f"alphabet-{lang}"
    m = re.search(r"_([a-z]{2}(?:_[A-Za-z]{2})?)$", stem)
    return f"speech-{m.group(1) if m else 'default'}"


@dataclasses.dataclass
class Source:
    """One real recording, decoded to mono at the corpus sample rate.

    Attributes
    ----------
    id : str
        Stable identifier: the path under ``stamps/`` without ``.ogg`` (``animals/birds/crow``).
    kind : str
        ``"bird"`` or one of :data:`NON_BIRD_KINDS`.
    group : str
        Recordings sharing a group (same content, same speaker) always share a split.
    audio : numpy.ndarray [shape=(n,)]
        float32 samples at ``sr``.
    sr : int
        Sample rate (Hz).
    path : str
        The decoded file.
    split : str or None
        Set by :func:`assign_splits`.
    """

    id: str
    kind: str
    group: str
    audio: np.ndarray
    sr: int
    path: str
    split: str | None = None

    @property
    def is_bird(self) -> bool:
        return self.kind == "bird"


def _content_key(x: np.ndarray) -> str:
    q = np.round(np.clip(x, -1.0, 1.0) * 32767.0).astype("<i2")
    return hashlib.sha1(q.tobytes()).hexdigest()


def _group(sources):
    """Set ``group``: connected components of "same decoded content", "same speaker" and
    "same animal"."""
    sets = DisjointSets(len(sources))
    first = {}
    for i, s in enumerate(sources):
        for key in (("content", _content_key(s.audio)), ("speaker", _speaker(s.id, s.kind)),
                    ("animal", _animal(s.id))):
            if key[1] is None:
                continue
            sets.union(i, first.setdefault(key, i))
    for members in sets.components():
        name = min(sources[i].id for i in members)  # the group's name: its smallest id
        for i in members:
            sources[i].group = name


def load_sources(records, *, sr, quiet=True):
    """Decode the manifest's usable clips into :class:`Source` records.

    Parameters
    ----------
    records : list of dict
        ``fetch_tuxpaint_sounds.load_manifest()`` records (``path``, ``relpath``, ``category``,
        ``label``).
    sr : int
        Sample rate to resample to (soxr, through :func:`scatter.audio.load`).
    quiet : bool
        No progress bar when true.

    Returns
    -------
    list of Source
        Sorted by id; silent clips left out; duplicates grouped.

    Raises
    ------
    ValueError
        If ``sr`` is not a positive integer or no record is usable.
    """
    from scatter.audio import load

    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ValueError(f"sr must be a positive integer sample rate in Hz; got {sr!r}")
    usable = [r for r in records if r.get("label") in ("bird", "non-bird")]
    if not quiet:
        from tqdm import tqdm

        usable = tqdm(usable, desc="decoding sources", unit="clip")
    out = []
    for rec in usable:
        x, _ = load(rec["path"], sr=int(sr), mono=True)
        x = np.asarray(x, dtype=np.float32)
        if x.size == 0 or float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) < MIN_RMS:
            continue
        rel = rec["relpath"]
        rel = rel[len("stamps/"):] if rel.startswith("stamps/") else rel
        kind = "bird" if rec["label"] == "bird" else source_kind(rec["category"])
        if kind == "bird" and rec["label"] != "bird":
            kind = "other"  # the manifest is the authority on what is a bird
        out.append(Source(id=rel.rsplit(".", 1)[0], kind=kind, group="", audio=x, sr=int(sr),
                          path=rec["path"]))
    if not out:
        raise ValueError("records: no usable (non-silent bird or non-bird) clip in the manifest")
    _group(out)
    return sorted(out, key=lambda s: s.id)


def assign_splits(sources, *, seed=0, val=0.15, test=0.25):
    """Put whole groups of recordings into ``train``/``val``/``test``, stratified by kind.

    Within each kind the groups are shuffled with ``seed`` and the first ``round(test * n)`` go to
    test, the next ``round(val * n)`` to val, the rest to train (with at least one group in each
    split when the kind has three or more; a kind with fewer groups goes to train only). A group
    with members of several kinds is placed with its first member's kind. The assignment depends
    only on the set of (id, kind, group) and the seed, never on the audio.

    Parameters
    ----------
    sources : list of Source
        Modified in place (``split`` set) and returned.
    seed : int
        Seed of the shuffle.
    val, test : float
        Fractions of each kind's groups held out, each in [0, 0.5).

    Returns
    -------
    list of Source

    Raises
    ------
    ValueError
        If a fraction is outside [0, 0.5) or their sum is 0.75 or more.
    """
    for name, frac in (("val", val), ("test", test)):
        if not 0.0 <= frac < 0.5:
            raise ValueError(f"{name} must be a fraction in [0, 0.5); got {frac!r}")
    if val + test >= 0.75:
        raise ValueError(f"val + test must be below 0.75 to leave training data; got {val + test}")
    kind_of_group, members = {}, defaultdict(list)
    for s in sorted(sources, key=lambda s: s.id):
        kind_of_group.setdefault(s.group, s.kind)
        members[s.group].append(s)
    by_kind = defaultdict(list)
    for group, kind in kind_of_group.items():
        by_kind[kind].append(group)
    split_of = {}
    for kind in sorted(by_kind):
        groups = sorted(by_kind[kind])
        digest = hashlib.sha256(f"{seed}/{kind}".encode()).digest()
        order = np.random.default_rng(int.from_bytes(digest[:8], "little")).permutation(len(groups))
        n = len(groups)
        if n < 3:
            n_test = n_val = 0
        else:
            n_test = max(1, int(round(test * n))) if test > 0 else 0
            n_val = max(1, int(round(val * n))) if val > 0 else 0
        for rank, idx in enumerate(order):
            split_of[groups[idx]] = ("test" if rank < n_test else
                                     "val" if rank < n_test + n_val else "train")
    for s in sources:
        s.split = split_of[s.group]
    return sources


def call_segments(x, *, sr, rel_db=-25.0, frame_s=0.02, min_gap_s=0.15, min_len_s=0.03):
    """Onsets and offsets (s) of the sound events in a recording, from short-time energy.

    Frames (``frame_s`` long, half-overlapping) whose RMS is within ``rel_db`` dB of the loudest
    frame are active; active runs closer than ``min_gap_s`` are merged, runs shorter than
    ``min_len_s`` (counted as active frames times the hop) dropped. A run spans its frames, so
    onsets may be up to one hop early and offsets one hop late.

    Parameters
    ----------
    x : numpy.ndarray [shape=(n,)]
        Mono signal.
    sr : int
        Sample rate (Hz).
    rel_db : float
        Threshold relative to the loudest frame, negative (dB).

    Returns
    -------
    numpy.ndarray [shape=(k, 2)]
        Rows ``(onset_s, offset_s)``, sorted, inside ``[0, n / sr]``; empty for silence.

    Raises
    ------
    ValueError
        If ``x`` is not 1-D or ``rel_db`` is not negative.

    Examples
    --------
    >>> sr = 8000; t = np.arange(sr) / sr
    >>> x = np.where((t > 0.25) & (t < 0.5), np.sin(2 * np.pi * 1000 * t), 0.0)
    >>> np.round(call_segments(x, sr=sr), 2)
    array([[0.24, 0.51]])
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"x must be a 1-D signal; got shape {x.shape}")
    if not rel_db < 0:
        raise ValueError(f"rel_db must be negative (dB below the loudest frame); got {rel_db!r}")
    frame = max(2, int(round(frame_s * sr)))
    hop = frame // 2
    n = x.size
    if n < frame:
        x = np.pad(x, (0, frame - n))
    n_frames = 1 + (x.size - frame) // hop
    idx = np.arange(frame)[None, :] + hop * np.arange(n_frames)[:, None]
    power = np.mean(np.square(x[idx]), axis=1)
    peak = float(power.max())
    if peak <= 0.0:
        return np.zeros((0, 2))
    active = power >= peak * 10.0 ** (rel_db / 10.0)
    runs, start = [], None
    for i, a in enumerate(active):
        if a and start is None:
            start = i
        elif not a and start is not None:
            runs.append([start * hop, (i - 1) * hop + frame])
            start = None
    if start is not None:
        runs.append([start * hop, (n_frames - 1) * hop + frame])
    merged = []
    for a, b in runs:
        if merged and a - merged[-1][1] < min_gap_s * sr:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    # a run of k active frames spans (k - 1) * hop + frame samples; its length is k * hop
    segs = [[a, min(n, b)] for a, b in merged if b - a - (frame - hop) >= min_len_s * sr]
    return np.asarray(segs, dtype=np.float64).reshape(-1, 2) / sr


def segments_power(x, segments, *, sr):
    """Mean power of ``x`` over the union of ``segments`` (s); the whole signal if none.

    Parameters
    ----------
    x : numpy.ndarray [shape=(n,)]
    segments : array-like [shape=(k, 2)]
        ``(onset_s, offset_s)`` rows.
    sr : int
        Sample rate (Hz).

    Returns
    -------
    float
    """
    x = np.asarray(x, dtype=np.float64)
    mask = np.zeros(x.size, dtype=bool)
    for a, b in np.asarray(segments, dtype=np.float64).reshape(-1, 2):
        mask[max(0, int(a * sr)):min(x.size, int(np.ceil(b * sr)))] = True
    sel = x[mask] if mask.any() else x
    return float(np.mean(np.square(sel))) if sel.size else 0.0
