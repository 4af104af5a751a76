"""Build the development corpus for the bird detector from real recordings and synthetic sounds.

No public bird-detection dataset is reachable from the build machines, so the corpus the default
model is trained on is made from what is: the real bird and non-bird recordings of the Debian
package ``tuxpaint-stamps-default`` (fetched by ``fetch_tuxpaint_sounds.py``), placed into real
and synthetic backgrounds at a range of SNRs, plus synthetic bird-like vocalisations.

Each clip (default 5 s at 22.05 kHz, 16-bit WAV; two detector windows) is:

- a background of one or two layers: a real non-bird recording of the clip's split (tiled to the
  clip length) or a synthetic one (pink/brown noise, rain, wind, traffic, insects, babble; see
  ``dev_corpus_synth.py``), at -50 to -20 dBFS RMS; one clip in ten has a near-silent background
  (-75 to -55 dBFS) and one in five digital silence (exact zeros, as in recordings cut from
  sound archives), i.e. the sounds alone; over these two the events are placed at a call power
  of -45 to -3 dBFS (``alone_level_dbfs``), the range of recordings heard alone;
- for a *positive* clip (label 1, every other clip), one to four bird events: real bird recordings
  of the split (speed changed by up to 8 %) or, with probability 0.5, synthetic vocalisations
  (whistles, trills, harmonic stacks, chirps, quacks, coos, rattles, screeches, songs with
  repeated motifs; ``dev_corpus_synth.py``), each at an SNR drawn uniformly in [-5, 20] dB;
  three in ten positive clips also get one or two non-bird events;
- for a *negative* clip (label 0), zero to three non-bird events: real non-bird recordings of the
  split (mammals, frogs, insects, music, engines, household sounds, speech, ...; kind first,
  then recording, so that the 300 spoken numbers do not swamp the rest) or, with probability
  0.3, synthetic hard negatives (sirens, beeps, instrument notes, engines, frog croaks;
  ``dev_corpus_distractors.py``). Non-bird events in positive clips are drawn the same way.

The SNR of an event is the ratio of its power over its calls (found from short-time energy, see
``dev_corpus_sources.call_segments``) to the background's power over the same samples.

Splits: whole source recordings (with their duplicates, other takes of the same speaker and the same
animal under another name) are assigned to ``train``, ``val`` or ``test`` before anything is mixed
(``dev_corpus_sources.assign_splits``, stratified by kind, seeded); a clip of a split only uses
recordings of that split, so no window of a recording used in training is in validation or test.

Output folder (default ``~/.cache/symscatter/corpus``; never inside the repository):

- ``clips/<split>/<split>_NNNNN.wav``;
- ``labels.csv``: ``path`` (relative to the folder), ``label`` (1 bird, 0 no bird), ``split``,
  ``sources`` (real recording ids used, ``;``-separated), ``snr_db`` (lowest SNR of the clip's
  bird events; empty for negatives), ``calls`` (``onset:offset`` in seconds of the bird calls,
  overlapping calls merged, ``;``-separated), ``background`` (its layers);
  ``train.csv``, ``val.csv``, ``test.csv``: the same rows per split (what ``scatter train DATA
  --labels`` reads: ``path,label``, other columns ignored);
- ``events.csv``: one row per call of each placed event (clip, label, kind, source, onset_s,
  offset_s, snr_db);
- ``sources.csv``: every real recording with its kind, group and split;
- ``summary.json``: the configuration, counts and the held-out recordings.

A second run with the same configuration finds ``summary.json`` and returns at once; ``--force``
builds again. Every clip is drawn from its own generator seeded by ``(seed, split, index)``, so the
corpus is reproducible bit for bit (same library versions).

Command line::

    python data_scripts/build_dev_corpus.py [--out DIR] [--n-train 2000] [--n-val 300]
        [--n-test 200] [--seconds 5] [--sr 22050] [--seed 0] [--split-seed 0]
        [--silent-prob 0.2] [--alone-level -45 -3] [--manifest PATH] [--force] [--quiet]
        [--json]

(defaults: 2,000 / 300 / 200 clips of 5 s; version 1 of the corpus had 800 / 200 / 200 clips of
10 s, fewer synthetic kinds and no synthetic negatives; version 2 had one clip in twelve in
digital silence and sounds alone at -35 to -10 dBFS: ``--silent-prob 0.08 --alone-level -35
-10``. Version 3 has more of the sounds alone, at the levels of real recordings, for birds
and non-birds alike, so that "silence around it" is no cue either way.)
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import shutil
import sys
from pathlib import Path

import numpy as np

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))
from sibling_scripts import load_sibling  # noqa: E402

MARKER = ".symscatter-corpus"
LABEL_FIELDS = ("path", "label", "split", "sources", "snr_db", "calls", "background")
EVENT_FIELDS = ("path", "label", "kind", "source", "onset_s", "offset_s", "snr_db")
#: Config fields added after corpora were built, with the values those corpora were built with:
#: a ``summary.json`` without them still matches the same settings.
LEGACY_CONFIG = {"alone_level_dbfs": [-35.0, -10.0]}


def default_out_dir() -> Path:
    """``corpus`` in the package's cache (:mod:`scatter.cache`)."""
    from scatter.cache import cache_dir

    return Path(cache_dir("corpus"))


@dataclasses.dataclass(frozen=True)
class CorpusConfig:
    """Everything that decides the corpus content (stored in ``summary.json``)."""

    sr: int = 22050
    seconds: float = 5.0
    n_train: int = 2000
    n_val: int = 300
    n_test: int = 200
    seed: int = 0
    split_seed: int = 0
    val_fraction: float = 0.15
    test_fraction: float = 0.25
    snr_db: tuple = (-5.0, 20.0)
    background_dbfs: tuple = (-50.0, -20.0)
    quiet_background_prob: float = 0.1
    silent_background_prob: float = 0.2
    alone_level_dbfs: tuple = (-45.0, -3.0)
    real_background_prob: float = 0.35
    synthetic_bird_prob: float = 0.5
    synthetic_distractor_prob: float = 0.3
    max_bird_events: int = 4
    distractor_prob: float = 0.3
    speed_change: float = 0.08

    def check(self):
        """Raise ValueError naming the first bad field."""
        for name, least in (("sr", 1), ("n_train", 1), ("n_val", 0), ("n_test", 0),
                            ("max_bird_events", 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < least:
                raise ValueError(f"{name} must be an integer of at least {least}; got {v!r}")
        if self.sr < 8000:
            raise ValueError(f"sr must be at least 8000 Hz; got {self.sr!r}")
        if not 0.5 <= self.seconds <= 600:
            raise ValueError(f"seconds must be in [0.5, 600]; got {self.seconds!r}")
        for name in ("snr_db", "background_dbfs", "alone_level_dbfs"):
            lo, hi = getattr(self, name)
            if not lo <= hi:
                raise ValueError(f"{name} must be a (low, high) pair with low <= high; "
                                 f"got {getattr(self, name)!r}")
        for name in ("quiet_background_prob", "silent_background_prob", "real_background_prob",
                     "synthetic_bird_prob", "synthetic_distractor_prob", "distractor_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1]; "
                                 f"got {getattr(self, name)!r}")
        if self.quiet_background_prob + self.silent_background_prob > 1.0:
            raise ValueError("quiet_background_prob + silent_background_prob must be at most 1; "
                             f"got {self.quiet_background_prob + self.silent_background_prob!r}")
        if not 0.0 <= self.speed_change < 0.5:
            raise ValueError(f"speed_change must be in [0, 0.5); got {self.speed_change!r}")

    def as_json(self):
        return {k: list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(self).items()}


# ---------------------------------------------------------------------------------------------
# mixing


def _db_to_amp(db):
    return 10.0 ** (db / 20.0)


def tile(x, n, rng, *, sr, fade_s=0.05):
    """Loop ``x`` to ``n`` samples from a random start, with short cross-fades at the joins."""
    x = np.asarray(x, dtype=np.float64)
    if x.size >= n:
        start = int(rng.integers(0, x.size - n + 1))
        return x[start:start + n]
    fade = min(int(fade_s * sr), x.size // 4)
    out = np.zeros(n + x.size)
    at = -int(rng.integers(0, x.size))
    ramp = np.linspace(0.0, 1.0, fade) if fade > 0 else np.zeros(0)
    piece = x.copy()
    if fade > 0:
        piece[:fade] *= ramp
        piece[-fade:] *= ramp[::-1]
    while at < n:
        lo = max(at, 0)
        out[lo:at + x.size] += piece[lo - at:]
        at += x.size - fade
    return out[:n]


def place_event(mix, background, event, segments, *, at, snr_db, sr):
    """Add ``event`` to ``mix`` at sample ``at`` scaled to ``snr_db`` against ``background``.

    The SNR is ``10 log10(P_event / P_background)``, both powers over the event's call segments
    (shifted to ``at``). Returns the gain used.

    Parameters
    ----------
    mix : numpy.ndarray [shape=(n,)]
        Modified in place.
    background : numpy.ndarray [shape=(n,)]
    event : numpy.ndarray [shape=(m,)]
        With ``at + m <= n``.
    segments : numpy.ndarray [shape=(k, 2)]
        Call onsets/offsets in seconds relative to the event start.
    at : int
    snr_db : float
    sr : int

    Returns
    -------
    float
    """
    S = load_sibling("dev_corpus_sources")
    m = event.size
    p_sig = S.segments_power(event, segments, sr=sr)
    p_bg = S.segments_power(background[at:at + m], segments, sr=sr)
    gain = np.sqrt(max(p_bg, 1e-20) * 10.0 ** (snr_db / 10.0) / max(p_sig, 1e-20))
    mix[at:at + m] += gain * event
    return float(gain)


def _speed(x, factor, sr):
    """Play ``x`` ``factor`` times faster (pitch moves with it), by resampling."""
    if abs(factor - 1.0) < 1e-3:
        return x
    from scipy.signal import resample_poly

    up = 200
    down = int(round(up * factor))
    return resample_poly(x, up, down)


class _SplitPool:
    """The real recordings of one split, by kind, with their call segments (cached)."""

    def __init__(self, sources, sr):
        S = load_sibling("dev_corpus_sources")
        self.birds = [s for s in sources if s.is_bird]
        self.by_kind = {}
        for s in sources:
            if not s.is_bird:
                self.by_kind.setdefault(s.kind, []).append(s)
        self.kinds = sorted(self.by_kind)
        self.segments = {s.id: S.call_segments(s.audio, sr=sr) for s in sources}

    def non_bird(self, rng):
        kind = self.kinds[int(rng.integers(len(self.kinds)))]
        group = self.by_kind[kind]
        return group[int(rng.integers(len(group)))]


def _background(rng, cfg, pool, n):
    Y = load_sibling("dev_corpus_synth")
    layers, names, used = [], [], []
    for _ in range(1 if rng.random() < 0.7 else 2):
        if pool.kinds and rng.random() < cfg.real_background_prob:
            src = pool.non_bird(rng)
            layer = tile(src.audio, n, rng, sr=cfg.sr)
            names.append(f"real:{src.id}")
            used.append(src.id)
        else:
            kind = Y.BACKGROUNDS[int(rng.integers(len(Y.BACKGROUNDS)))]
            layer = Y.background(rng, kind, n=n, sr=cfg.sr).astype(np.float64)
            names.append(kind)
        rms = np.sqrt(np.mean(np.square(layer)))
        layers.append(layer / max(rms, 1e-12) * _db_to_amp(rng.uniform(-10.0, 0.0)))
    bg = np.sum(layers, axis=0)
    u = rng.random()
    if u < cfg.silent_background_prob:  # digital silence: the sounds alone, as in many archives
        return np.zeros(n), "silence", [], True
    quiet = u < cfg.silent_background_prob + cfg.quiet_background_prob
    level = rng.uniform(-75.0, -55.0) if quiet else rng.uniform(*cfg.background_dbfs)
    bg *= _db_to_amp(level) / max(np.sqrt(np.mean(np.square(bg))), 1e-12)
    return bg, "+".join(names) + (" (quiet)" if quiet else ""), used, quiet


def _event_audio(rng, cfg, pool, bird):
    """(audio, segments, kind, source_id) of one event; source_id None for synthetic ones."""
    if bird and (not pool.birds or rng.random() < cfg.synthetic_bird_prob):
        Y = load_sibling("dev_corpus_synth")
        kind = Y.VOCALISATIONS[int(rng.integers(len(Y.VOCALISATIONS)))]
        x, segs = Y.vocalisation(rng, kind, sr=cfg.sr)
        return x.astype(np.float64), segs, f"synthetic-{kind}", None
    if not bird and (not pool.kinds or rng.random() < cfg.synthetic_distractor_prob):
        D = load_sibling("dev_corpus_distractors")
        kind = D.DISTRACTORS[int(rng.integers(len(D.DISTRACTORS)))]
        x, segs = D.distractor(rng, kind, sr=cfg.sr)
        return x.astype(np.float64), segs, f"synthetic-{kind}", None
    src = pool.birds[int(rng.integers(len(pool.birds)))] if bird else pool.non_bird(rng)
    factor = 1.0 + rng.uniform(-cfg.speed_change, cfg.speed_change)
    x = _speed(src.audio.astype(np.float64), factor, cfg.sr)
    segs = pool.segments[src.id] * (x.size / max(src.audio.size, 1))
    return x, segs, src.kind, src.id


def make_clip(rng, cfg, pool, *, positive):
    """One clip: ``(audio float32 (n,), info dict)``; see the module docstring for the recipe."""
    n = int(round(cfg.seconds * cfg.sr))
    bg, bg_name, used, quiet = _background(rng, cfg, pool, n)
    mix = bg.copy()
    if positive:
        plan = [True] * int(rng.integers(1, cfg.max_bird_events + 1))
        if rng.random() < cfg.distractor_prob:
            plan += [False] * int(rng.integers(1, 3))
    else:
        plan = [False] * int(rng.integers(0, 4))
    rng.shuffle(plan)
    events, calls = [], []
    for bird in plan:
        x, segs, kind, sid = _event_audio(rng, cfg, pool, bird)
        if x.size > n:  # crop a long recording to a window starting at one of its calls
            j = int(rng.integers(len(segs))) if len(segs) else 0
            start = int(min(segs[j, 0] * cfg.sr, x.size - n)) if len(segs) else 0
            x = x[start:start + n]
            segs = np.clip(segs - start / cfg.sr, 0.0, n / cfg.sr)
            segs = segs[segs[:, 1] - segs[:, 0] > 0.01]
        at = int(rng.integers(0, n - x.size + 1))
        if quiet:  # sounds alone: set their level directly, report the resulting SNR
            snr = (float(rng.uniform(*cfg.alone_level_dbfs))
                   - 10 * np.log10(max(np.mean(bg ** 2), 1e-20)))
        else:
            snr = float(rng.uniform(*cfg.snr_db))
        place_event(mix, bg, x, segs, at=at, snr_db=snr, sr=cfg.sr)
        for a, b in segs:
            t0 = at / cfg.sr
            events.append({"label": int(bird), "kind": kind, "source": sid or "",
                           "onset_s": round(t0 + a, 4), "offset_s": round(t0 + b, 4),
                           "snr_db": round(snr, 2)})
            if bird:
                calls.append((at / cfg.sr + a, at / cfg.sr + b))
        if sid:
            used.append(sid)
    peak = float(np.max(np.abs(mix)))
    if peak > 0.98:
        mix *= 0.98 / peak
    bird_snrs = [e["snr_db"] for e in events if e["label"]]
    info = {
        "label": int(positive),
        "sources": sorted(set(used)),
        "snr_db": min(bird_snrs) if bird_snrs else None,
        "calls": merge_intervals(calls),
        "background": bg_name,
        "events": events,
    }
    return mix.astype(np.float32), info


# ---------------------------------------------------------------------------------------------
# building


def merge_intervals(intervals):
    """Union of ``(onset, offset)`` intervals as sorted, disjoint pairs.

    Examples
    --------
    >>> merge_intervals([(3.0, 4.0), (0.5, 1.0), (0.8, 2.0)])
    [(0.5, 2.0), (3.0, 4.0)]
    """
    out = []
    for a, b in sorted((float(a), float(b)) for a, b in intervals):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _fmt_calls(calls):
    return ";".join(f"{a:.3f}:{b:.3f}" for a, b in calls)


def parse_calls(text):
    """Inverse of the ``calls`` column: ``"0.5:1.2;3:4"`` -> ``[(0.5, 1.2), (3.0, 4.0)]``."""
    out = []
    for part in filter(None, (text or "").split(";")):
        a, b = part.split(":")
        out.append((float(a), float(b)))
    return out


def _write_csv(path, fields, rows):
    from scatter.outputs import atomic_open

    with atomic_open(path) as fh:
        w = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def read_labels(path):
    """Rows of a ``labels.csv`` as dicts (``label`` int, ``snr_db`` float or None, ``calls``
    list of pairs, ``sources`` list)."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r["label"] = int(r["label"])
        r["snr_db"] = float(r["snr_db"]) if r["snr_db"] else None
        r["calls"] = parse_calls(r["calls"])
        r["sources"] = [s for s in r["sources"].split(";") if s]
    return rows


def _prepare_out(out: Path, force: bool):
    """Return True when a complete corpus is there already (and not forced)."""
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ValueError(f"out: {out} exists, is not empty and is not a corpus built by this "
                         "script; choose an empty or new folder")
    return not force


def load_split_sources(records, *, sr, split_seed=0, val_fraction=0.15, test_fraction=0.25,
                       quiet=True):
    """Decode the manifest's sources and assign their splits (see ``dev_corpus_sources``)."""
    S = load_sibling("dev_corpus_sources")
    sources = S.load_sources(records, sr=sr, quiet=quiet)
    return S.assign_splits(sources, seed=split_seed, val=val_fraction, test=test_fraction)


def build(records, out=None, *, config=None, force=False, quiet=True):
    """Build the corpus into ``out`` from manifest ``records``; return the summary dict.

    Parameters
    ----------
    records : list of dict
        Clip records of ``fetch_tuxpaint_sounds.load_manifest()`` (or any manifest of the same
        fields: ``path``, ``relpath``, ``category``, ``label``).
    out : path, optional
        Output folder (default :func:`default_out_dir`). Must be new, empty, or a corpus folder.
    config : CorpusConfig, optional
    force : bool
        Build again even if a complete corpus of the same configuration is there.
    quiet : bool
        No progress bars when true.

    Returns
    -------
    dict
        The content of ``summary.json``.

    Raises
    ------
    ValueError
        For a bad configuration, a foreign non-empty ``out``, or a split without bird
        recordings.

    Examples
    --------
    >>> fts = load_sibling("fetch_tuxpaint_sounds")                 # doctest: +SKIP
    >>> summary = build(fts.load_manifest(fts.fetch()))              # doctest: +SKIP
    >>> summary["clips"]                                             # doctest: +SKIP
    {'train': 800, 'val': 200, 'test': 200}
    """
    from scatter.outputs import atomic_open

    cfg = config or CorpusConfig()
    cfg.check()
    out = Path(out) if out is not None else default_out_dir()
    summary_path = out / "summary.json"
    if _prepare_out(out, force) and summary_path.exists():
        try:
            old = json.loads(summary_path.read_text(encoding="utf-8"))
        except ValueError:
            old = {}
        if (LEGACY_CONFIG | (old.get("config") or {})) == cfg.as_json() and old.get(
                "complete") and all(
                (out / name).is_file() for name in ("labels.csv", "events.csv")):
            return old
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("built by symscatter data_scripts/build_dev_corpus.py\n")
    if summary_path.exists():
        summary_path.unlink()
    if (out / "clips").exists():
        shutil.rmtree(out / "clips")

    sources = load_split_sources(records, sr=cfg.sr, split_seed=cfg.split_seed,
                                 val_fraction=cfg.val_fraction, test_fraction=cfg.test_fraction,
                                 quiet=quiet)
    counts = {"train": cfg.n_train, "val": cfg.n_val, "test": cfg.n_test}
    rows, event_rows = [], []
    total = sum(counts.values())
    bar = None
    if not quiet:
        from tqdm import tqdm

        bar = tqdm(total=total, desc="building clips", unit="clip")
    import soundfile as sf

    for split_index, split in enumerate(("train", "val", "test")):
        if counts[split] == 0:
            continue
        pool = _SplitPool([s for s in sources if s.split == split], cfg.sr)
        if not pool.birds:
            raise ValueError(f"split {split!r} has no real bird recording; lower the held-out "
                             "fractions or add recordings")
        folder = out / "clips" / split
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(counts[split]):
            rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, split_index, i]))
            audio, info = make_clip(rng, cfg, pool, positive=(i % 2 == 0))
            rel = f"clips/{split}/{split}_{i:05d}.wav"
            sf.write(str(out / rel), audio, cfg.sr, subtype="PCM_16")
            rows.append({"path": rel, "label": info["label"], "split": split,
                         "sources": ";".join(info["sources"]),
                         "snr_db": "" if info["snr_db"] is None else f"{info['snr_db']:.2f}",
                         "calls": _fmt_calls(info["calls"]), "background": info["background"]})
            event_rows.extend({"path": rel, **e} for e in info["events"])
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()

    _write_csv(out / "labels.csv", LABEL_FIELDS, rows)
    for split in ("train", "val", "test"):
        _write_csv(out / f"{split}.csv", LABEL_FIELDS, [r for r in rows if r["split"] == split])
    _write_csv(out / "events.csv", EVENT_FIELDS, event_rows)
    _write_csv(out / "sources.csv", ("id", "kind", "group", "split", "seconds"),
               [{"id": s.id, "kind": s.kind, "group": s.group, "split": s.split,
                 "seconds": f"{s.audio.size / s.sr:.3f}"} for s in sources])
    held = {sp: sorted(s.id for s in sources if s.split == sp and s.is_bird)
            for sp in ("train", "val", "test")}
    summary = {
        "version": 3,
        "complete": True,
        "config": cfg.as_json(),
        "folder": str(out),
        "clips": {sp: sum(r["split"] == sp for r in rows) for sp in ("train", "val", "test")},
        "positives": {sp: sum(r["split"] == sp and r["label"] == 1 for r in rows)
                      for sp in ("train", "val", "test")},
        "hours": round(len(rows) * cfg.seconds / 3600.0, 3),
        "sources": {sp: sum(s.split == sp for s in sources) for sp in ("train", "val", "test")},
        "bird_sources": held,
        "source": "Debian package tuxpaint-stamps-default (GPL-2) + synthetic sounds",
    }
    with atomic_open(summary_path) as fh:
        json.dump(summary, fh, indent=1)
    return summary


def main(argv=None):
    """Command line entry point; returns the exit status."""
    d = CorpusConfig()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=None, help="output folder "
                   "(default ~/.cache/symscatter/corpus)")
    p.add_argument("--manifest", type=Path, default=None,
                   help="tuxpaint manifest.json (default: fetch_tuxpaint_sounds.fetch())")
    p.add_argument("--n-train", type=int, default=d.n_train)
    p.add_argument("--n-val", type=int, default=d.n_val)
    p.add_argument("--n-test", type=int, default=d.n_test)
    p.add_argument("--seconds", type=float, default=d.seconds, help="clip length (s)")
    p.add_argument("--sr", type=int, default=d.sr, help="sample rate (Hz)")
    p.add_argument("--seed", type=int, default=d.seed, help="seed of the mixing")
    p.add_argument("--split-seed", type=int, default=d.split_seed,
                   help="seed of the train/val/test assignment of source recordings")
    p.add_argument("--silent-prob", type=float, default=d.silent_background_prob,
                   help="share of clips whose background is digital silence (sounds alone)")
    p.add_argument("--alone-level", type=float, nargs=2, default=list(d.alone_level_dbfs),
                   metavar=("LOW", "HIGH"),
                   help="range of the call power (dBFS) of sounds over silent or near-silent "
                        "backgrounds")
    p.add_argument("--force", action="store_true", help="build again even if up to date")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--json", action="store_true", help="print one JSON summary line")
    args = p.parse_args(argv)
    cfg = dataclasses.replace(d, n_train=args.n_train, n_val=args.n_val, n_test=args.n_test,
                              seconds=args.seconds, sr=args.sr, seed=args.seed,
                              split_seed=args.split_seed,
                              silent_background_prob=args.silent_prob,
                              alone_level_dbfs=tuple(args.alone_level))
    fts = load_sibling("fetch_tuxpaint_sounds")
    try:
        cfg.check()
        manifest = args.manifest or fts.fetch(quiet=args.quiet)
        summary = build(fts.load_manifest(manifest), args.out, config=cfg, force=args.force,
                        quiet=args.quiet)
    except (ValueError, fts.FetchError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ValueError) else 1
    if args.json:
        print(json.dumps(summary))
    elif not args.quiet:
        print(f"{sum(summary['clips'].values())} clips ({summary['hours']} h) in "
              f"{summary['folder']}; held-out birds: val {summary['bird_sources']['val']}, "
              f"test {summary['bird_sources']['test']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
