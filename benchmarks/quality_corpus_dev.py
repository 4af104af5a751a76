"""The development corpus in ``detector_quality.py``: held-out tuxpaint clips and their figures.

Helper of ``benchmarks/detector_quality.py`` (``--corpus dev``).

- :func:`load_dev_clips`: the held-out recordings of one split (:func:`held_out_splits`), made
  into clips (:func:`make_eval_clips`: alone, and mixed into non-bird backgrounds at 10 and
  0 dB), and the summary fields that describe them (:func:`leak_check` among them).
- :func:`evaluate`: one scorer's clip AUC, overall and per condition (:data:`CONDITIONS`), and
  its window AUC (:func:`window_labels`).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from quality_clips import Clip, data_script
from quality_metrics import roc_auc, rounded

__all__ = ["CONDITIONS", "evaluate", "held_out_splits", "leak_check", "load_dev_clips",
           "make_eval_clips", "window_labels"]

#: How a clip was made: a recording alone in digital silence, or mixed at 10 or 0 dB SNR.
CONDITIONS = ("alone", "snr10", "snr0")


def load_dev_clips(*, manifest=None, corpus=None, split, split_seed=0, sr=44100, seconds=9.0,
                   backgrounds=6, max_per_kind=6, seed=0, quiet=False):
    """The development corpus's clips of one held-out split and the summary fields that
    describe them.

    Parameters
    ----------
    manifest : path-like or None
        The tuxpaint ``manifest.json``; None: the one in the cache
        (``fetch_tuxpaint_sounds.fetch``, which fetches it when missing).
    corpus : path-like or None
        Development corpus folder whose ``sources.csv`` gives the splits; None: the default
        corpus (``build_dev_corpus.default_out_dir``) when built, else the split is
        recomputed (:func:`held_out_splits`).
    split : str
        ``test`` or ``val``.
    split_seed : int
        Seed of a recomputed split.
    sr : int
        Sample rate of the clips (Hz).
    seconds, backgrounds, max_per_kind, seed
        As :func:`make_eval_clips` takes them.
    quiet : bool
        No progress output.

    Returns
    -------
    clips : list of Clip
        :func:`make_eval_clips` of the split's recordings.
    described : dict
        ``held_out_birds`` (ids), ``held_out_non_birds`` (count), ``negative_kinds``,
        ``splits`` (where the split came from) and ``leak_check`` (:func:`leak_check`).

    Raises
    ------
    ValueError
        As :func:`make_eval_clips`.
    """
    fts = data_script("fetch_tuxpaint_sounds")
    S = data_script("dev_corpus_sources")
    B = data_script("build_dev_corpus")
    manifest = manifest or fts.fetch(quiet=quiet)
    records = fts.load_manifest(manifest)
    if corpus is None and (B.default_out_dir() / "sources.csv").is_file():
        corpus = B.default_out_dir()
    split_of, split_how = held_out_splits(records, corpus=corpus, split_seed=split_seed)
    held = [s for s in S.load_sources(records, sr=sr, quiet=quiet)
            if split_of.get(s.id) == split]
    clips = make_eval_clips(held, sr=sr, seconds=seconds, backgrounds=backgrounds,
                            max_per_kind=max_per_kind, seed=seed)
    return clips, {
        "held_out_birds": sorted(s.id for s in held if s.is_bird),
        "held_out_non_birds": len({s.id for s in held if not s.is_bird}),
        "negative_kinds": sorted({s.kind for s in held if not s.is_bird}),
        "splits": split_how,
        "leak_check": leak_check(corpus, {s.id for s in held}),
    }


def held_out_splits(records, *, corpus=None, split_seed=0):
    """``({id: split}, how)``: from ``corpus/sources.csv`` when given, else recomputed."""
    if corpus is not None and (Path(corpus) / "sources.csv").is_file():
        with open(Path(corpus) / "sources.csv", newline="", encoding="utf-8") as fh:
            return ({r["id"]: r["split"] for r in csv.DictReader(fh)},
                    f"{Path(corpus) / 'sources.csv'}")
    B = data_script("build_dev_corpus")
    cfg = B.CorpusConfig()
    sources = B.load_split_sources(records, sr=cfg.sr, split_seed=split_seed,
                                   val_fraction=cfg.val_fraction, test_fraction=cfg.test_fraction)
    return {s.id: s.split for s in sources}, f"recomputed (split seed {split_seed})"


def make_eval_clips(sources, *, sr, seconds=9.0, backgrounds=6, max_per_kind=6, seed=0):
    """The evaluation clips from held-out ``sources`` (``dev_corpus_sources.Source``, at ``sr``).

    Returns a list of :class:`Clip`, positives first. Raises ValueError without held-out bird
    or non-bird recordings.
    """
    S = data_script("dev_corpus_sources")
    B = data_script("build_dev_corpus")
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sr))
    birds = [s for s in sources if s.is_bird]
    others = [s for s in sources if not s.is_bird]
    if not birds or not others:
        raise ValueError(f"need held-out bird and non-bird recordings; got {len(birds)} birds "
                         f"and {len(others)} others")
    by_kind = {}
    for s in others:
        by_kind.setdefault(s.kind, []).append(s)
    kinds = sorted(by_kind)
    negatives = []
    for kind in kinds:
        group = by_kind[kind]
        pick = rng.permutation(len(group))[:max_per_kind]
        negatives.extend(group[i] for i in sorted(pick))
    segs = {s.id: S.call_segments(s.audio, sr=sr) for s in sources}

    def background_for(event):
        while True:
            group = by_kind[kinds[int(rng.integers(len(kinds)))]]
            bg = group[int(rng.integers(len(group)))]
            if bg.id != event.id or len(others) == 1:
                return bg

    def place(event, bg, snr, name, label, condition):
        x = event.audio.astype(np.float64)[:n]
        ev_segs = segs[event.id]
        ev_segs = np.clip(ev_segs[ev_segs[:, 0] < x.size / sr], 0, x.size / sr)
        at = int(rng.integers(0, n - x.size + 1))
        if bg is None:
            mix = np.zeros(n)
            mix[at:at + x.size] += x
            sources_ = [event.id]
        else:
            base = B.tile(bg.audio, n, rng, sr=sr)
            mix = base.copy()
            B.place_event(mix, base, x, ev_segs, at=at, snr_db=snr, sr=sr)
            sources_ = [event.id, bg.id]
        peak = np.max(np.abs(mix))
        if peak > 0.98:
            mix *= 0.98 / peak
        calls = [(at / sr + a, at / sr + b) for a, b in ev_segs] if label else []
        return Clip(name=name, audio=mix.astype(np.float32), sr=sr, label=label,
                    condition=condition, sources=sources_, calls=B.merge_intervals(calls))

    clips = []
    for label, pool, alone_copies in ((1, birds, 2), (0, negatives, 1)):
        for ev in pool:
            stem = ev.id.replace("/", "-")
            for k in range(alone_copies):
                clips.append(place(ev, None, None, f"{stem}-alone{k}", label, "alone"))
            for snr in (10, 0):
                for k in range(backgrounds if label else 1):
                    bg = background_for(ev)
                    clips.append(place(ev, bg, float(snr), f"{stem}-snr{snr}-{k}", label,
                                       f"snr{snr}"))
    return clips


def leak_check(corpus, held_ids):
    """Whether any held-out recording feeds a training clip of ``corpus/labels.csv``.

    Returns a sentence: ``skipped ...`` without that file, ``LEAK: ...`` naming the first
    training clip made from a recording in ``held_ids``, else ``ok: ...``.
    """
    labels = Path(corpus) / "labels.csv" if corpus is not None else None
    if labels is None or not labels.is_file():
        return "skipped (no corpus labels.csv)"
    with open(labels, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["split"] == "train" and set(row["sources"].split(";")) & held_ids:
                return f"LEAK: {row['path']} uses a held-out recording"
    return "ok: no held-out recording in any training clip"



def window_labels(starts, ends, calls, *, min_overlap_s=0.2):
    """1 (bird), 0 (no bird) or -1 (ambiguous, left out) for windows ``[start, end)``.

    A window is 1 when its overlap with some call is at least ``min(min_overlap_s, half that
    call)``, 0 when it overlaps no call.

    Examples
    --------
    >>> window_labels([0, 1, 2], [1, 2, 3], [(0.9, 1.8)]).tolist()
    [-1, 1, 0]
    """
    starts = np.asarray(starts, dtype=np.float64)
    ends = np.asarray(ends, dtype=np.float64)
    out = np.zeros(starts.size, dtype=np.int64)
    for i, (a, b) in enumerate(zip(starts, ends)):
        best, touched = 0.0, False
        for c0, c1 in calls:
            ov = min(b, c1) - max(a, c0)
            if ov > 0:
                touched = True
                need = min(min_overlap_s, 0.5 * (c1 - c0))
                best = max(best, ov / need if need > 0 else np.inf)
        out[i] = 1 if best >= 1.0 else (-1 if touched else 0)
    return out


def evaluate(clips, results):
    """Clip- and window-level metrics of one scorer's ``results`` on ``clips``."""
    labels = np.array([c.label for c in clips])
    clip_scores = []
    w_labels, w_scores, lengths = [], [], []
    for c, (starts, ends, scores) in zip(clips, results):
        scores = np.asarray(scores, dtype=np.float64)
        if scores.size == 0 or not np.all(np.isfinite(scores)):
            raise ValueError(f"scorer returned no or non-finite window scores for {c.name}")
        clip_scores.append(float(scores.max()))
        lab = window_labels(starts, ends, c.calls) if c.label else np.zeros(scores.size, int)
        keep = lab >= 0
        w_labels.append(lab[keep])
        w_scores.append(scores[keep])
        lengths.append(np.median(np.asarray(ends) - np.asarray(starts)))
    clip_scores = np.asarray(clip_scores)
    per_condition = {}
    for cond in CONDITIONS:
        sel = (labels == 0) | np.array([c.condition == cond for c in clips])
        per_condition[cond] = rounded(roc_auc(labels[sel], clip_scores[sel]))
    wl, ws = np.concatenate(w_labels), np.concatenate(w_scores)
    return {
        "clip_auc": rounded(roc_auc(labels, clip_scores)),
        "clip_auc_by_condition": per_condition,
        "window_auc": rounded(roc_auc(wl, ws)),
        "windows": {"positive": int(wl.sum()), "negative": int((wl == 0).sum())},
        "window_s": round(float(np.median(lengths)), 3),
        "_clip_scores": clip_scores,
    }


