"""Detector quality on held-out real recordings: our detector against BirdNET, same clips, same run.

Two corpora (``--corpus``); each is read from one held-out split (``--split test``, the
reported figures, run once per shipped model; ``--split validation`` for model selection,
never the test split).

Corpus v4 (``--corpus v4``, the default)
----------------------------------------
Real recordings from Debian packages (``data_scripts/build_corpus_v4.py``, fetched into the
cache when missing), with reviewed labels and a split **by source**: the validation and test
splits are whole packages, no file of which is seen in training, and a recording found in two
packages is kept only in the most held-out one (``corpus_v4_sources.py`` names the packages;
the JSON's ``held_out_check`` says whether the manifest holds to that). The test packages hold
songbird soundscapes, single calls, night insects, frogs, speech and urban sound.

Clips: every kept file of the split with a ``bird`` or ``nonbird`` label, or, for a soundscape
labelled per segment, each of its ``bird`` and ``nonbird`` segments (``unsure`` ones and the
parts no segment covers are left out), cut into consecutive **9-s clips** (``--seconds``: three
BirdNET windows); an end piece shorter than 1 s (``--min-clip``) is dropped, and a file or
segment shorter than a clip is one clip of its own length. Clips are mono, at the file's own
rate, as recorded: nothing is mixed in (clips of denoised game files keep their digital
silence; the JSON counts them in ``silent_gap_clips``).

Figures, per scorer: clip ROC AUC (``scatter.detect.metrics.roc_auc``: Mann-Whitney, ties
counted half) with a 95 % bootstrap interval that resamples whole recordings; recall and
false-positive rate at the scorer's threshold (ours: the model's ``threshold``; BirdNET:
``--birdnet-threshold``, 0.1, BirdNET-Analyzer's default minimum confidence), a clip being
called a bird when its score is at least the threshold; and, **per kind** (``bird/call``,
``nonbird/insect``, ...) and **per source** (package), the clip counts, the recall on the
group's bird clips, the false-positive rate on its non-bird clips, and the AUC over the
bird/non-bird pairs with at least one clip in the group (:func:`pair_auc`: a negative kind's
clips against every bird clip, a positive kind's against every non-bird clip; ``auc_within``,
the AUC of a package's own clips, when it has both). ``goal_met`` checks :data:`GOAL`.

Development corpus (``--corpus dev``)
-------------------------------------
The recordings of the Debian package ``tuxpaint-stamps-default``
(``data_scripts/fetch_tuxpaint_sounds.py``), split by ``data_scripts/build_dev_corpus.py``: the
whole source recordings it held out (read from the corpus's ``sources.csv`` when the corpus is
there, ``--dev-corpus``, else recomputed with the same function and seed).

Evaluation clips (``--seconds`` long, default 9 s = three BirdNET windows, 44.1 kHz, written as
float WAV files):

- positives: each held-out bird recording *alone* (placed at two random offsets in digital
  silence), and mixed into real non-bird backgrounds (held-out recordings, tiled) at **10 dB and
  0 dB** SNR (``--backgrounds`` different backgrounds each);
- negatives: each held-out non-bird recording (mammals, frogs, insects, engines, thunder, music,
  household sounds, voices and speech; at most ``--max-per-kind`` per kind so that the spoken
  numbers do not dominate) alone, and mixed into another non-bird background at 10 dB and 0 dB,
  so that "a mixture" is not itself a cue.

The SNR is the call power (over the calls found by ``dev_corpus_sources.call_segments``) over the
background power on the same samples, as in the corpus. The package has no rain or applause
recordings; thunder, engines and household noise stand in for broadband backgrounds.

Scores: a clip's score is its **highest window score** (BirdNET's usual clip score; the same
rule for ours). Clip-level ROC AUC with a 95 % bootstrap interval over clips (stratified,
seeded); also per condition (positives of one condition against all negatives). Window-level
AUC: a window is positive when it overlaps the calls by at least ``min(0.2 s, half the call)``,
negative when it overlaps no call, and left out in between; windows of negative clips are
negative.

Scorers
-------
- ``ours`` (default ``--ours scatter``): ``scatter.detect.load_model(--model)`` run through the
  same pipeline as ``scatter detect``: ``Detector.detect(paths, on_file=...)`` on the WAV files
  (``scatter.runner.run_detection`` underneath), whose per-window scores it collects.
  ``--ours baseline`` is the sanity-check mode: a trivial band-energy score (energy above 1.5 kHz
  against energy below, per 1-s window), so the harness can be run before the model exists.
  ``--ours module:function`` plugs any callable ``f(clips) -> [(starts_s, ends_s, scores), ...]``
  (its ``threshold`` attribute, 0.5 without one, for the rates).
- ``birdnet``: BirdNET GLOBAL 6K V2.4 (``benchmarks/birdnet_peer.py``; benchmark only, its licence
  forbids shipping or training on it). When its packages are missing the JSON says so.

The last line printed is one JSON object: both scorers' figures, the clip AUCs' ``ratio`` and
``difference`` (ours minus BirdNET, with a paired bootstrap interval), the clip counts and what
they were cut from.

Run::

    python benchmarks/detector_quality.py --split validation   # corpus v4, model selection
    python benchmarks/detector_quality.py                      # corpus v4 test split, once
    python benchmarks/detector_quality.py --ours baseline --no-birdnet   # harness check
    python benchmarks/detector_quality.py --corpus dev --split validation --no-birdnet
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import importlib
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
CONDITIONS = ("alone", "snr10", "snr0")
#: ``--split`` choices and the corpus split (manifest or ``sources.csv``) each reads from.
SPLITS = {"test": "test", "validation": "val"}
CORPORA = ("v4", "dev")
#: BirdNET's decision threshold: BirdNET-Analyzer's default minimum confidence (``--min_conf``).
BIRDNET_THRESHOLD = 0.1
#: The detector's goal on corpus v4's test split: clip AUC at least ``auc`` and above BirdNET's,
#: a false-positive rate at the model's threshold of at most ``max_fpr`` on each of
#: ``fpr_kinds``, and a recall of at least ``min_recall`` over all bird clips.
GOAL = {"auc": 0.95, "max_fpr": 0.05, "fpr_kinds": ("insect", "frog", "speech"),
        "min_recall": 0.9}


def _load(path: Path, key: str):
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[key] = mod
        spec.loader.exec_module(mod)
    return sys.modules[key]


def script(name):
    """A ``data_scripts/`` module (same module object the scripts themselves use)."""
    return _load(ROOT / "data_scripts" / f"{name}.py", f"_symscatter_data_scripts_{name}")


def birdnet_module():
    return _load(HERE / "birdnet_peer.py", "_symscatter_benchmarks_birdnet_peer")


@dataclasses.dataclass
class Clip:
    """One evaluation clip.

    Attributes
    ----------
    name : str
    audio : numpy.ndarray [shape=(n,)]
        float32 mono.
    sr : int
    label : int
        1 when a bird is in it.
    condition : str
        ``alone``, ``snr10`` or ``snr0``.
    sources : list of str
        Recording ids (event first, then background).
    calls : list of (float, float)
        Bird call onsets/offsets (s).
    path : str or None
        The WAV file, once written.
    source : str
        Package the recording comes from (corpus v4).
    kind : str
        Reviewed kind of the clip (corpus v4: ``call``, ``insect``, ...).
    span : (float, float) or None
        Where in the recording the clip was cut from (s; corpus v4).
    """

    name: str
    audio: np.ndarray
    sr: int
    label: int
    condition: str
    sources: list
    calls: list
    path: str | None = None
    source: str = ""
    kind: str = ""
    span: tuple | None = None


# ---------------------------------------------------------------------------------------------
# metrics


def roc_auc(labels, scores):
    """:func:`scatter.detect.metrics.roc_auc` (Mann-Whitney, ties counted half), or None when
    one class is absent (a condition or a resample without positives or negatives).

    Parameters
    ----------
    labels : array-like [shape=(n,)]
        0/1.
    scores : array-like [shape=(n,)]
        Finite scores; higher means "bird".

    Returns
    -------
    float or None

    Examples
    --------
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    from scatter.detect import metrics

    y = np.asarray(labels).astype(bool)
    if y.all() or not y.any():
        return None
    return metrics.roc_auc(y.astype(np.int64), scores)


def bootstrap_ci(labels, score_sets, *, n_boot=1000, seed=0, groups=None):
    """95 % percentile intervals of each AUC and of the first minus the second (paired).

    Without ``groups``, resamples clips with replacement within each class. With ``groups``
    (one recording id per clip), resamples whole recordings with replacement, since clips cut
    from one recording are not independent; a resample that lacks a class is left out.
    Returns ``(cis, diff_ci)``: a list of ``[lo, hi]`` per score set and ``[lo, hi]`` of
    ``auc0 - auc1`` (None with fewer than two sets).
    """
    y = np.asarray(labels).astype(bool)
    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
    rng = np.random.default_rng(seed)
    if groups is not None:
        _, inverse = np.unique(np.asarray(groups), return_inverse=True)
        members = [np.flatnonzero(inverse == g) for g in range(inverse.max() + 1)]
    aucs = np.full((n_boot, len(score_sets)), np.nan)
    for b in range(n_boot):
        if groups is None:
            idx = np.concatenate([rng.choice(pos, pos.size), rng.choice(neg, neg.size)])
        else:
            idx = np.concatenate([members[g] for g in rng.integers(0, len(members),
                                                                   len(members))])
        for k, s in enumerate(score_sets):
            auc = roc_auc(y[idx], np.asarray(s)[idx])
            aucs[b, k] = np.nan if auc is None else auc
    cis = [np.nanpercentile(aucs[:, k], [2.5, 97.5]).round(4).tolist()
           for k in range(len(score_sets))]
    diff = (np.nanpercentile(aucs[:, 0] - aucs[:, 1], [2.5, 97.5]).round(4).tolist()
            if len(score_sets) > 1 else None)
    return cis, diff


def pair_auc(labels, scores, member):
    """AUC over the positive-negative pairs that have at least one clip in ``member``.

    The per-source and per-kind AUC: for a group of negatives only (a night-insect package,
    the ``insect`` kind), it is the group's negatives ranked against every positive; for a
    group of positives only, the group's positives against every negative; for a group with
    both, every pair it takes part in. Ties count one half, as in :func:`roc_auc`.

    Parameters
    ----------
    labels : array-like [shape=(n,)]
        0/1.
    scores : array-like [shape=(n,)]
    member : array-like of bool [shape=(n,)]
        The group's clips.

    Returns
    -------
    float or None
        None when no such pair exists.

    Examples
    --------
    >>> pair_auc([1, 1, 0, 0], [0.9, 0.2, 0.5, 0.1], [False, False, True, False])
    0.5
    """
    y = np.asarray(labels).astype(bool)
    s = np.asarray(scores, dtype=np.float64)
    g = np.asarray(member).astype(bool)
    total, weight = 0.0, 0
    # pairs with the positive in the group (any negative), then those with only the negative
    for pos, neg in ((y & g, ~y), (y & ~g, ~y & g)):
        n = int(pos.sum()) * int(neg.sum())
        if n:
            sel = pos | neg
            total += roc_auc(y[sel], s[sel]) * n
            weight += n
    return total / weight if weight else None


def group_report(labels, scores, groups, *, threshold):
    """Per group: clip counts, :func:`pair_auc`, and the rates at ``threshold``.

    A clip is called a bird when its score is ``>= threshold``. ``recall`` is the fraction of
    the group's positives called birds and ``fpr`` the fraction of its negatives called birds;
    each is present only when the group has such clips. ``auc_within`` (the AUC of the group's
    own clips) is given for a group with both classes.

    Parameters
    ----------
    labels, scores : array-like [shape=(n,)]
    groups : sequence of str [shape=(n,)]
        The group of each clip (a package, a ``label/kind``).
    threshold : float

    Returns
    -------
    dict of str -> dict
        Sorted by group name.
    """
    y = np.asarray(labels).astype(bool)
    s = np.asarray(scores, dtype=np.float64)
    groups = np.asarray(groups)
    called = s >= threshold
    out = {}
    for name in sorted(set(groups.tolist())):
        g = groups == name
        pos, neg = int((g & y).sum()), int((g & ~y).sum())
        entry = {"clips": pos + neg, "positives": pos, "negatives": neg,
                 "auc": _round(pair_auc(y, s, g))}
        if pos and neg:
            entry["auc_within"] = _round(roc_auc(y[g], s[g]))
        if pos:
            entry["recall"] = _round(called[g & y].mean())
        if neg:
            entry["fpr"] = _round(called[g & ~y].mean())
        out[name] = entry
    return out


def evaluate_v4(clips, results, *, threshold):
    """Clip-level metrics of one scorer on corpus v4 clips.

    A clip's score is its highest window score. Returns the clip AUC, the recall and the
    false-positive rate at ``threshold`` over all clips, and :func:`group_report` per kind
    (``label/kind``) and per source (package); ``_clip_scores`` holds the scores.
    """
    labels = np.array([c.label for c in clips])
    scores = []
    for c, (_, _, window_scores) in zip(clips, results):
        window_scores = np.asarray(window_scores, dtype=np.float64)
        if window_scores.size == 0 or not np.all(np.isfinite(window_scores)):
            raise ValueError(f"scorer returned no or non-finite window scores for {c.name}")
        scores.append(float(window_scores.max()))
    scores = np.asarray(scores)
    called = scores >= threshold
    kinds = [f"{'bird' if c.label else 'nonbird'}/{c.kind}" for c in clips]
    return {
        "clip_auc": _round(roc_auc(labels, scores)),
        "threshold": _round(threshold, 6),
        "recall": _round(called[labels == 1].mean()) if labels.any() else None,
        "fpr": _round(called[labels == 0].mean()) if not labels.all() else None,
        "per_kind": group_report(labels, scores, kinds, threshold=threshold),
        "per_source": group_report(labels, scores, [c.source for c in clips],
                                   threshold=threshold),
        "_clip_scores": scores,
    }


def goal_met(ours, peer):
    """Whether ``ours`` (an :func:`evaluate_v4` result) meets :data:`GOAL` against ``peer``."""
    auc, other = ours.get("clip_auc"), peer.get("clip_auc")
    if auc is None or other is None or auc < GOAL["auc"] or auc <= other:
        return False
    for key, entry in ours["per_kind"].items():
        label, kind = key.split("/", 1)
        if label == "nonbird" and kind in GOAL["fpr_kinds"] and entry["fpr"] > GOAL["max_fpr"]:
            return False
    return ours["recall"] is not None and ours["recall"] >= GOAL["min_recall"]


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
        per_condition[cond] = _round(roc_auc(labels[sel], clip_scores[sel]))
    wl, ws = np.concatenate(w_labels), np.concatenate(w_scores)
    return {
        "clip_auc": _round(roc_auc(labels, clip_scores)),
        "clip_auc_by_condition": per_condition,
        "window_auc": _round(roc_auc(wl, ws)),
        "windows": {"positive": int(wl.sum()), "negative": int((wl == 0).sum())},
        "window_s": round(float(np.median(lengths)), 3),
        "_clip_scores": clip_scores,
    }


def _round(x, k=4):
    return None if x is None else round(float(x), k)


# ---------------------------------------------------------------------------------------------
# the held-out evaluation clips


def held_out_splits(records, *, corpus=None, split_seed=0):
    """``({id: split}, how)``: from ``corpus/sources.csv`` when given, else recomputed."""
    import csv

    if corpus is not None and (Path(corpus) / "sources.csv").is_file():
        with open(Path(corpus) / "sources.csv", newline="", encoding="utf-8") as fh:
            return ({r["id"]: r["split"] for r in csv.DictReader(fh)},
                    f"{Path(corpus) / 'sources.csv'}")
    B = script("build_dev_corpus")
    cfg = B.CorpusConfig()
    sources = B.load_split_sources(records, sr=cfg.sr, split_seed=split_seed,
                                   val_fraction=cfg.val_fraction, test_fraction=cfg.test_fraction)
    return {s.id: s.split for s in sources}, f"recomputed (split seed {split_seed})"


def make_eval_clips(sources, *, sr, seconds=9.0, backgrounds=6, max_per_kind=6, seed=0):
    """The evaluation clips from held-out ``sources`` (``dev_corpus_sources.Source``, at ``sr``).

    Returns a list of :class:`Clip`, positives first. Raises ValueError without held-out bird
    or non-bird recordings.
    """
    S = script("dev_corpus_sources")
    B = script("build_dev_corpus")
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


def v4_clips(records, *, split, clip_s=9.0, min_clip_s=1.0):
    """The evaluation clips of one split of corpus v4.

    Every kept, decodable file of the split (``split``: ``test`` or ``val``) is read once
    (mono: the mean of its channels, at its own rate); its labelled parts
    (``corpus_v4.labelled_spans``: the whole file, or the reviewed ``bird`` and ``nonbird``
    segments of a soundscape) are cut into ``clip_s``-second clips
    (``corpus_v4.cut_spans``: an end piece shorter than ``min_clip_s`` is dropped; a labelled
    part shorter than ``clip_s`` is one clip). Files are taken in (package, path) order, so the
    clips are the same on every run.

    Parameters
    ----------
    records : list of dict
        Manifest records, with ``path`` (``build_corpus_v4.load_manifest``).
    split : str
        Manifest split.
    clip_s, min_clip_s : float
        Clip length and shortest end piece (s).

    Returns
    -------
    list of Clip
        ``label`` 1 for ``bird``; ``source`` the package, ``kind`` the reviewed kind,
        ``sources`` the recording (``package:path_inside``), ``span`` where it was cut.

    Raises
    ------
    ValueError
        If the split holds no bird or no non-bird clip.
    """
    import soundfile as sf

    C = script("corpus_v4")
    chosen = sorted((r for r in records if r["split"] == split and r.get("kept")
                     and not r.get("error")), key=lambda r: (r["package"], r["path_inside"]))
    clips = []
    for rec in chosen:
        pieces = C.cut_spans(C.labelled_spans(rec), clip_s=clip_s, min_clip_s=min_clip_s)
        if not pieces:
            continue
        x, sr = sf.read(rec["path"], dtype="float32", always_2d=True)
        x = x.mean(axis=1)
        recording = f"{rec['package']}:{rec['path_inside']}"
        stem = "".join(ch if ch.isalnum() else "_" for ch in Path(rec["path_inside"]).stem)
        for start, end, label, kind in pieces:
            a, b = int(round(start * sr)), min(x.size, int(round(end * sr)))
            if b <= a:
                continue
            clips.append(Clip(
                name=f"{len(clips):05d}-{rec['package']}-{stem}-{start:g}", sr=int(sr),
                audio=np.ascontiguousarray(x[a:b]), label=int(label == "bird"),
                condition="recording", sources=[recording], calls=[], source=rec["package"],
                kind=kind, span=(start, end)))
    n_pos = sum(c.label for c in clips)
    if n_pos == 0 or n_pos == len(clips):
        raise ValueError(f"the {split} split of corpus v4 gave {n_pos} bird and "
                         f"{len(clips) - n_pos} non-bird clips; need both")
    return clips


def held_out_check(records, *, split):
    """A sentence: whether ``split`` of a corpus v4 manifest is held out by source
    (``corpus_v4.check_split``, and no package of the split has files in training)."""
    C = script("corpus_v4")
    problems = C.check_split(records)
    packages = {r["package"] for r in records if r["split"] == split}
    trained = packages & {r["package"] for r in records if r["split"] == "train"}
    if trained:
        problems.append(f"packages also in training: {sorted(trained)}")
    if problems:
        return "NOT HELD OUT: " + "; ".join(problems)
    return (f"ok: {len(packages)} packages, none with a file in training; no recording in two "
            "splits")


# ---------------------------------------------------------------------------------------------
# scorers: each maps a list of clips to [(starts_s, ends_s, scores), ...]


def baseline_scorer(clips, *, window_s=1.0, split_hz=1500.0):
    """Sanity-check scorer: per 1-s window, the log ratio of energy above ``split_hz`` to
    energy below it (80 Hz - ``split_hz``), squashed to (0, 1). No training, no birds known."""
    out = []
    for c in clips:
        n = int(window_s * c.sr)
        k = max(1, c.audio.size // n)
        frames = np.zeros((k, n))
        flat = c.audio[: k * n].astype(np.float64)
        frames.reshape(-1)[: flat.size] = flat
        spec = np.abs(np.fft.rfft(frames * np.hanning(n), axis=1)) ** 2
        f = np.fft.rfftfreq(n, 1.0 / c.sr)
        hi = spec[:, f >= split_hz].sum(axis=1)
        lo = spec[:, (f >= 80) & (f < split_hz)].sum(axis=1)
        energy = 10 * np.log10(hi + lo + 1e-12)
        ratio = np.log10((hi + 1e-12) / (lo + 1e-12))
        score = 1.0 / (1.0 + np.exp(-2.0 * ratio)) * (energy > energy.max() - 40)
        starts = np.arange(k) * window_s
        out.append((starts, starts + window_s, score))
    return out


def scatter_scorer(model="default", *, batch_size=32, hop_s=None):
    """Our detector on the clip files, through the ``scatter detect`` pipeline.

    Uses ``det.detect(paths, on_file=...)`` of the loaded ``scatter.detect.Detector`` (its own
    windows, hop and batching); a detector without ``detect`` is run through
    :func:`scatter.runner.run_detection` with ``det.scorer`` (or ``det`` itself) on
    ``(batch, window)`` arrays and ``sr``/``window_s``/``hop_s`` from ``det.config``.
    ``hop_s`` (None: the model's) overlaps the windows, as ``scatter detect --hop`` does.

    Raises RuntimeError (with the reason) when ``scatter.detect`` or the model is not usable.
    """
    try:
        detect = importlib.import_module("scatter.detect")
        det = detect.load_model(model)
    except Exception as exc:  # report any failure to load in the JSON
        raise RuntimeError(f"scatter.detect.load_model({model!r}) failed: "
                           f"{type(exc).__name__}: {exc}") from exc
    if callable(getattr(det, "detect", None)):  # scatter.detect.Detector: its own pipeline
        def run_files(paths, on_file):
            extra = {} if hop_s is None else {"hop_s": hop_s}
            det.detect(paths, batch_size=batch_size, quiet=True, on_file=on_file, **extra)
    else:
        cfg = getattr(det, "config", det)
        scorer = getattr(det, "scorer", det)
        try:
            sr, window_s = int(cfg.sr), float(cfg.window_s)
            hop = float(getattr(cfg, "hop_s", window_s / 2)) if hop_s is None else hop_s
        except AttributeError as exc:
            raise RuntimeError(f"loaded detector has no detect() and lacks sr/window_s: "
                               f"{exc}") from exc
        if not callable(scorer):
            raise RuntimeError("loaded detector has no detect() and is not callable on a "
                               "(batch, window) array")
        from scatter.runner import run_detection

        def run_files(paths, on_file):
            run_detection(paths, scorer=scorer, sr=sr, window_s=window_s, hop_s=hop,
                          batch_size=batch_size, quiet=True, on_file=on_file)

    def score(clips):
        got = {}

        def on_file(result, starts, ends, scores):
            got[str(result.path)] = (np.asarray(starts), np.asarray(ends), np.asarray(scores))

        run_files([c.path for c in clips], on_file)
        missing = [c.path for c in clips if c.path not in got]
        if missing:
            raise RuntimeError(f"the detector returned no windows for {missing[:3]}")
        return [got[c.path] for c in clips]

    score.description = (f"scatter.detect.load_model({model!r}), max over its windows"
                         + ("" if hop_s is None else f", hop {hop_s} s"))
    score.model_path = str(getattr(det, "path", model))
    score.threshold = float(getattr(det, "threshold", 0.5))
    return score


def plugin_scorer(spec):
    """``module:function`` -> that callable."""
    module, _, func = spec.partition(":")
    if not module or not func:
        raise RuntimeError(f"--ours must be 'scatter', 'baseline' or 'module:function'; "
                           f"got {spec!r}")
    return getattr(importlib.import_module(module), func)


def _run_scorer(name, make, clips, measure):
    """``(metrics dict, clip scores or None)``; failures become ``available: false``."""
    t0 = time.perf_counter()
    try:
        scorer = make()
        results = scorer(clips)
    except (RuntimeError, ImportError, OSError, ValueError) as exc:
        return {"name": name, "available": False, "reason": str(exc)}, None
    metrics = measure(clips, results, scorer)
    scores = metrics.pop("_clip_scores")
    metrics = {"name": name, "available": True,
               "description": getattr(scorer, "description", name), **metrics,
               "seconds": round(time.perf_counter() - t0, 2)}
    for attr in ("model_path", "excluded"):
        if hasattr(scorer, attr):
            value = getattr(scorer, attr)
            metrics[attr if attr != "excluded" else "non_bird_classes_excluded"] = (
                len(value) if attr == "excluded" else value)
    return metrics, scores


def _measure_dev(clips, results, scorer):
    return evaluate(clips, results)


def _measure_v4(clips, results, scorer):
    return evaluate_v4(clips, results, threshold=float(getattr(scorer, "threshold", 0.5)))


def run(clips, ours, peer, *, n_boot=1000, seed=0, corpus="dev"):
    """Score ``clips`` with both scorers (``(name, factory)`` pairs); the result dict.

    ``corpus="v4"`` measures with :func:`evaluate_v4` (each scorer's ``threshold``
    attribute, 0.5 without one) and bootstraps by recording; ``"dev"`` with :func:`evaluate`.
    """
    labels = [c.label for c in clips]
    measure = _measure_v4 if corpus == "v4" else _measure_dev
    m_ours, s_ours = _run_scorer(*ours, clips, measure)
    m_peer, s_peer = _run_scorer(*peer, clips, measure)
    sets = [s for s in (s_ours, s_peer) if s is not None]
    if sets:
        groups = [c.sources[0] for c in clips] if corpus == "v4" else None
        cis, diff_ci = bootstrap_ci(labels, sets, n_boot=n_boot, seed=seed, groups=groups)
        for m, s in ((m_ours, s_ours), (m_peer, s_peer)):
            if s is not None:
                m["clip_auc_ci95"] = cis[0 if s is sets[0] else 1]
    out = {"ours": m_ours, "birdnet": m_peer}
    a, b = m_ours.get("clip_auc"), m_peer.get("clip_auc")
    out["ratio"] = round(a / b, 4) if a is not None and b else None
    out["difference"] = round(a - b, 4) if a is not None and b is not None else None
    out["difference_ci95"] = diff_ci if len(sets) == 2 else None
    if corpus == "v4":
        out["goal_met"] = bool(m_ours.get("available") and goal_met(m_ours, m_peer))
    else:
        out["goal_met"] = (a is not None and a >= 0.95 and b is not None and a > b)
    return out


def _birdnet_factory(threshold=BIRDNET_THRESHOLD):
    peer = birdnet_module().BirdNET()
    peer.description = "BirdNET GLOBAL 6K V2.4 (FP32 tflite via ai_edge_litert), max over 3-s"
    peer.threshold = float(threshold)
    return peer


def _leak_check(corpus, held_ids):
    """Whether any held-out recording feeds a training clip of ``corpus/labels.csv``."""
    import csv

    labels = Path(corpus) / "labels.csv" if corpus is not None else None
    if labels is None or not labels.is_file():
        return "skipped (no corpus labels.csv)"
    with open(labels, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["split"] == "train" and set(row["sources"].split(";")) & held_ids:
                return f"LEAK: {row['path']} uses a held-out recording"
    return "ok: no held-out recording in any training clip"


def _parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", choices=CORPORA, default="v4",
                   help="v4: corpus v4's source-held-out split (the benchmark); dev: the "
                        "development corpus's held-out tuxpaint recordings")
    p.add_argument("--split", choices=tuple(SPLITS), default="test",
                   help="held-out split the clips come from: test (the reported benchmark, "
                        "once per shipped model) or validation (model selection)")
    p.add_argument("--ours", default="scatter",
                   help="'scatter' (scatter.detect model), 'baseline' (sanity check) or "
                        "'module:function'")
    p.add_argument("--model", default="default", help="scatter.detect model name or path")
    p.add_argument("--hop", type=float, default=None,
                   help="seconds between our windows (default: the model's); as scatter "
                        "detect --hop")
    p.add_argument("--peer", choices=("birdnet", "none"), default="birdnet")
    p.add_argument("--no-birdnet", action="store_true",
                   help="score ours only (same as --peer none; quick, for model selection)")
    p.add_argument("--birdnet-threshold", type=float, default=BIRDNET_THRESHOLD,
                   help="BirdNET's decision threshold for its recall and false-positive rates")
    p.add_argument("--manifest", type=Path, default=None,
                   help="the corpus's manifest.json (default: corpus v4's or tuxpaint's in the "
                        "cache, fetched when missing)")
    p.add_argument("--seconds", type=float, default=9.0, help="clip length (s)")
    p.add_argument("--min-clip", type=float, default=1.0,
                   help="v4: shortest end piece of a recording kept as a clip (s)")
    p.add_argument("--dev-corpus", type=Path, default=None,
                   help="dev: development corpus folder whose sources.csv gives the splits "
                        "(default: the default corpus if built, else recomputed)")
    p.add_argument("--split-seed", type=int, default=0, help="dev: split seed")
    p.add_argument("--sr", type=int, default=44100, help="dev: sample rate of the clips")
    p.add_argument("--backgrounds", type=int, default=6,
                   help="dev: backgrounds per bird recording and SNR")
    p.add_argument("--max-per-kind", type=int, default=6, help="dev: negatives per kind")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--boot", type=int, default=1000, help="bootstrap resamples")
    p.add_argument("--clips-dir", type=Path, default=None,
                   help="keep the evaluation WAVs here (default: a temporary folder)")
    p.add_argument("--quiet", action="store_true")
    return p


def _dev_clips(args):
    """The development corpus's clips and the summary fields that describe them."""
    fts = script("fetch_tuxpaint_sounds")
    S = script("dev_corpus_sources")
    B = script("build_dev_corpus")
    manifest = args.manifest or fts.fetch(quiet=args.quiet)
    records = fts.load_manifest(manifest)
    corpus = args.dev_corpus
    if corpus is None and (B.default_out_dir() / "sources.csv").is_file():
        corpus = B.default_out_dir()
    split_of, split_how = held_out_splits(records, corpus=corpus, split_seed=args.split_seed)
    held = [s for s in S.load_sources(records, sr=args.sr, quiet=args.quiet)
            if split_of.get(s.id) == SPLITS[args.split]]
    clips = make_eval_clips(held, sr=args.sr, seconds=args.seconds,
                            backgrounds=args.backgrounds, max_per_kind=args.max_per_kind,
                            seed=args.seed)
    return clips, {
        "held_out_birds": sorted(s.id for s in held if s.is_bird),
        "held_out_non_birds": len({s.id for s in held if not s.is_bird}),
        "negative_kinds": sorted({s.kind for s in held if not s.is_bird}),
        "splits": split_how,
        "leak_check": _leak_check(corpus, {s.id for s in held}),
    }


def _v4_clips(args):
    """Corpus v4's clips of the chosen split and the summary fields that describe them."""
    B = script("build_corpus_v4")
    C = script("corpus_v4")
    manifest = args.manifest or B.fetch(quiet=args.quiet)
    records = B.load_manifest(manifest)
    split = SPLITS[args.split]
    clips = v4_clips(records, split=split, clip_s=args.seconds, min_clip_s=args.min_clip)
    kinds: dict = {}
    gaps = {"bird": 0, "nonbird": 0}
    for c in clips:
        key = f"{'bird' if c.label else 'nonbird'}/{c.kind}"
        kinds[key] = kinds.get(key, 0) + 1
        if C.silent_gaps(c.audio, sr=c.sr) >= 0.1:
            gaps["bird" if c.label else "nonbird"] += 1
    return clips, {
        "recordings": len({c.sources[0] for c in clips}),
        "packages": sorted({c.source for c in clips}),
        "clip_kinds": dict(sorted(kinds.items())),
        "min_clip_seconds": args.min_clip,
        "silent_gap_clips": gaps,
        "held_out_check": held_out_check(records, split=split),
    }


def main(argv=None):
    """Build the held-out clips, score them with both detectors, print one JSON line."""
    if str(ROOT) not in sys.path:  # measure this working tree, not an installed copy
        sys.path.insert(0, str(ROOT))
    args = _parser().parse_args(argv)
    t0 = time.perf_counter()
    clips, described = (_v4_clips if args.corpus == "v4" else _dev_clips)(args)

    if args.ours == "baseline":
        ours = ("band-energy baseline (sanity check)",
                lambda: _described(baseline_scorer, "band-energy ratio >1.5 kHz, 1-s windows"))
    elif args.ours == "scatter":
        ours = ("scatter.detect", lambda: scatter_scorer(args.model, hop_s=args.hop))
    else:
        ours = (args.ours, lambda: plugin_scorer(args.ours))
    if args.no_birdnet:
        args.peer = "none"
    peer = (("birdnet", lambda: _birdnet_factory(args.birdnet_threshold))
            if args.peer == "birdnet" else
            ("none", lambda: (_ for _ in ()).throw(RuntimeError("peer disabled (--peer none)"))))

    import soundfile as sf

    with tempfile.TemporaryDirectory(prefix="detector-quality-") as tmp:
        folder = args.clips_dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for c in clips:
            c.path = str(folder / f"{c.name}.wav")
            sf.write(c.path, c.audio, c.sr, subtype="FLOAT")
        result = run(clips, ours, peer, n_boot=args.boot, seed=args.seed, corpus=args.corpus)

    summary = {
        "benchmark": "detector_quality",
        "corpus": args.corpus,
        **result,
        "clips": len(clips),
        "positives": sum(c.label for c in clips),
        "negatives": sum(1 - c.label for c in clips),
        "split": args.split,
        "clip_seconds": args.seconds,
        **described,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    print(json.dumps(summary))
    return 0


def _described(fn, text):
    wrapped = functools.partial(fn)  # a new object: the module's function stays untouched
    wrapped.description = text
    return wrapped


if __name__ == "__main__":
    sys.exit(main())
