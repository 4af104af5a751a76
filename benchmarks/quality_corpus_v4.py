"""Corpus v4 in ``detector_quality.py``: the clips of a source-held-out split and their figures.

Helper of ``benchmarks/detector_quality.py`` (``--corpus v4``, the default).

- :func:`load_v4_clips`: fetch the manifest when missing, cut the split's clips, and the
  summary fields that describe them (kinds, packages, silent gaps, :func:`held_out_check`).
- :func:`v4_clips`: every labelled file or soundscape segment of one split, cut into clips.
- :func:`held_out_check`: whether the split is held out by source.
- :func:`evaluate_v4`: one scorer's clip AUC, recall and false-positive rate at its threshold,
  per kind and per source (``quality_metrics.group_report``).
- :func:`goal_met` and :data:`GOAL`: the detector's goal on the test split.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from quality_clips import Clip, data_script
from quality_metrics import group_report, roc_auc, rounded

__all__ = ["GOAL", "evaluate_v4", "goal_met", "held_out_check", "load_v4_clips", "v4_clips"]

#: The detector's goal on corpus v4's test split: clip AUC at least ``auc`` and above BirdNET's,
#: a false-positive rate at the model's threshold of at most ``max_fpr`` on each of
#: ``fpr_kinds``, and a recall of at least ``min_recall`` over all bird clips.
GOAL = {"auc": 0.95, "max_fpr": 0.05, "fpr_kinds": ("insect", "frog", "speech"),
        "min_recall": 0.9}


def load_v4_clips(*, manifest=None, split, clip_s=9.0, min_clip_s=1.0, quiet=False):
    """Corpus v4's clips of one split and the summary fields that describe them.

    Parameters
    ----------
    manifest : path-like or None
        The corpus's ``manifest.json``; None: corpus v4's in the cache
        (``build_corpus_v4.fetch``, which builds it when missing).
    split : str
        Manifest split: ``test`` or ``val``.
    clip_s, min_clip_s : float
        Clip length and shortest end piece kept (s), as :func:`v4_clips` takes them.
    quiet : bool
        No progress output while fetching.

    Returns
    -------
    clips : list of Clip
        :func:`v4_clips`.
    described : dict
        ``recordings``, ``packages``, ``clip_kinds`` (clips per ``label/kind``),
        ``min_clip_seconds``, ``silent_gap_clips`` (bird and non-bird clips with at least
        0.1 s of digital silence, ``corpus_v4.silent_gaps``) and ``held_out_check``.

    Raises
    ------
    ValueError
        As :func:`v4_clips`.
    """
    B = data_script("build_corpus_v4")
    C = data_script("corpus_v4")
    manifest = manifest or B.fetch(quiet=quiet)
    records = B.load_manifest(manifest)
    clips = v4_clips(records, split=split, clip_s=clip_s, min_clip_s=min_clip_s)
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
        "min_clip_seconds": min_clip_s,
        "silent_gap_clips": gaps,
        "held_out_check": held_out_check(records, split=split),
    }



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

    C = data_script("corpus_v4")
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
    C = data_script("corpus_v4")
    problems = C.check_split(records)
    packages = {r["package"] for r in records if r["split"] == split}
    trained = packages & {r["package"] for r in records if r["split"] == "train"}
    if trained:
        problems.append(f"packages also in training: {sorted(trained)}")
    if problems:
        return "NOT HELD OUT: " + "; ".join(problems)
    return (f"ok: {len(packages)} packages, none with a file in training; no recording in two "
            "splits")


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
        "clip_auc": rounded(roc_auc(labels, scores)),
        "threshold": rounded(threshold, 6),
        "recall": rounded(called[labels == 1].mean()) if labels.any() else None,
        "fpr": rounded(called[labels == 0].mean()) if not labels.all() else None,
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


