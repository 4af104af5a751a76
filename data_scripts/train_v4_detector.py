"""Train a bird detector on corpus v4's training split, selected on its validation split.

Corpus v4 (``data_scripts/build_corpus_v4.py``) holds real recordings from Debian and PyPI
packages with reviewed labels and a split by source package (``train`` / ``val`` / ``test``).
This script turns the ``train`` and ``val`` splits into clips that
``scatter.detect.training.train`` takes, and trains a detector with it::

    python data_scripts/train_v4_detector.py --out ~/.cache/symscatter/v4/model.npz
    python data_scripts/train_v4_detector.py --out m.npz --hidden 128 64 \\
        --hard-negative-kinds insect frog speech --hard-negative-weight 3
    python data_scripts/train_v4_detector.py --out m.npz --pcen --context -2 -1 0 1 2
    python data_scripts/train_v4_detector.py --out m.npz --pitch-shift 2 --time-stretch 0.15
    python data_scripts/train_v4_detector.py --rethreshold default --out shipped-v4thr.npz

Steps:

1. every kept, labelled file of the two splits (``corpus_v4.labelled_spans``: the whole file, or
   the reviewed ``bird`` and ``nonbird`` segments of a soundscape; ``unsure`` parts are left out)
   is cut into clips of ``--clip-seconds`` (9 s, as ``benchmarks/detector_quality.py`` cuts the
   held-out splits in ``benchmarks/quality_corpus_v4.py``; ``corpus_v4.cut_spans``), mono at
   22.05 kHz, written as WAV files under
   ``--work`` (once: existing files are reused) with a labels CSV (``path``, ``label``, ``split``,
   ``sources``, ``kind``, ``package``, ``mixed``);
2. a training clip with digitally silent gaps (at least 0.1 s, ``corpus_v4.silent_gaps``: the
   denoised game clips) is placed into a real background recording of the training split
   (wind, rain, water, insects, frogs, city; ``corpus_v4.mix_into_background`` at a seeded SNR),
   so that silence is never a cue for either label; validation clips are written as recorded,
   as the benchmark scores them;
3. the training rows list the background kinds first among the bird-free clips, so that the
   trainer's own augmentation (:func:`scatter.detect.training.background_noises`, the first 64
   bird-free training clips) mixes real ambience into its augmented copies;
4. ``scatter.detect.training.train`` on the ``train`` rows with the ``val`` rows for early
   stopping and the decision threshold (the one that maximises balanced accuracy on
   validation), optionally with more weight on bird-free clips of hard-negative kinds
   (``--hard-negative-kinds``, ``--hard-negative-weight``), and optionally with a pitch shift
   and time stretch of every augmented copy, birds and bird-free clips alike
   (``--pitch-shift SEMITONES``, ``--time-stretch FRACTION``: the trainer's
   ``TrainConfig.pitch_shift`` and ``time_stretch``; off by default). The feature cache is
   kept under ``--work`` (default: ``train_v4`` in the cache root of :mod:`scatter.cache`)
   per (copies, windows, seed, clip length, feature settings, warp), so runs that differ only
   in the classifier's settings featurise once.

The features are the shipped model's (``scatter.detect.training.default_settings``), with
``--pcen`` (and ``--pcen-time``, ``--pcen-alpha``, ``--pcen-delta``, ``--pcen-r``) for level
channels from per-channel energy normalisation (``scatter.detect.features``, *PCEN*) or
``--no-pcen`` for the log level channels.

``--extra-train-labels CSV`` adds the ``train`` rows of another labels CSV (e.g. the development
corpus's, ``data_scripts/build_dev_corpus.py``) to the training rows; validation stays corpus v4's.

``--rethreshold MODEL`` trains nothing: it scores the validation clips with an existing model and
writes a copy of it whose threshold maximises balanced accuracy on them.

The test split is never read. Nothing from BirdNET is used. The last line printed is one JSON
object: the model path, its validation AUC and threshold, clip counts and wall time.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sibling_scripts import load_sibling  # noqa: E402

__all__ = [
    "BACKGROUND_KINDS",
    "CSV_FIELDS",
    "HARD_NEGATIVE_KINDS",
    "SPLITS",
    "background_records",
    "clip_weight_of",
    "extra_training_rows",
    "feature_settings",
    "feature_tag",
    "main",
    "plan_clips",
    "rethreshold",
    "train_settings",
    "warp_tag",
    "work_dir",
    "write_clips",
]

#: Manifest splits used here and the names the labels CSV gives them (the trainer's ``val``).
SPLITS = {"train": "train", "val": "val"}
#: Bird-free kinds whose recordings serve as backgrounds (mixing and augmentation).
BACKGROUND_KINDS = ("wind", "rain", "water", "insect", "frog", "urban")
#: Bird-free kinds the detector confuses with birds.
HARD_NEGATIVE_KINDS = ("insect", "frog", "speech")
#: Columns of the labels CSV this script writes.
CSV_FIELDS = ("path", "label", "split", "sources", "kind", "package", "mixed")
#: Sample rate of the written clips (the detector's).
SR = 22050
#: Seconds of digital silence from which a clip counts as gapped.
GAP_S = 0.1


def plan_clips(records, *, clip_s=9.0, min_clip_s=1.0):
    """The clips to cut from the ``train`` and ``val`` splits of a corpus v4 manifest.

    Parameters
    ----------
    records : list of dict
        Manifest records (``split``, ``kept``, ``error``, ``package``, ``path_inside``,
        ``duration``, ``label``, ``kind``, ``segments``; ``path`` where the audio is read).
    clip_s, min_clip_s : float
        Clip length and shortest end piece kept (s), as ``corpus_v4.cut_spans`` takes them.

    Returns
    -------
    list of dict
        One per clip: ``split`` (``train`` or ``val``), ``package``, ``recording``
        (``package:path_inside``), ``path`` (the record's), ``start``, ``end`` (s), ``label``
        (1 bird, 0 not), ``kind`` and ``name`` (a file name unique in its split). Ordered by
        split (train first), then, within a split, bird-free clips of
        :data:`BACKGROUND_KINDS` first, then the rest, each group in (package, path, start)
        order.

    Examples
    --------
    >>> rec = {"split": "train", "kept": True, "error": "", "package": "p", "path": "/a.ogg",
    ...        "path_inside": "a.ogg", "duration": 12.0, "label": "bird", "kind": "song",
    ...        "segments": []}
    >>> [(c["start"], c["end"], c["label"]) for c in plan_clips([rec])]
    [(0.0, 9.0, 1), (9.0, 12.0, 1)]
    """
    C = load_sibling("corpus_v4")
    chosen = sorted((r for r in records if r.get("split") in SPLITS and r.get("kept")
                     and not r.get("error")), key=lambda r: (r["package"], r["path_inside"]))
    clips = []
    for rec in chosen:
        pieces = C.cut_spans(C.labelled_spans(rec), clip_s=clip_s, min_clip_s=min_clip_s)
        stem = "".join(ch if ch.isalnum() else "_" for ch in Path(rec["path_inside"]).stem)
        for start, end, label, kind in pieces:
            clips.append({"split": SPLITS[rec["split"]], "package": rec["package"],
                          "recording": f"{rec['package']}:{rec['path_inside']}",
                          "path": rec.get("path", ""), "start": float(start),
                          "end": float(end), "label": int(label == "bird"), "kind": kind,
                          "name": f"{rec['package']}-{stem}-{start:g}"})
    order = {s: i for i, s in enumerate(SPLITS.values())}
    seen: dict = {}
    for c in clips:  # names unique within a split (two paths may share a stem)
        key = (c["split"], c["name"])
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            c["name"] = f"{c['name']}-{seen[key]}"
    return sorted(clips, key=lambda c: (order[c["split"]],
                                        not (c["label"] == 0
                                             and c["kind"] in BACKGROUND_KINDS)))


def background_records(records, *, min_seconds=1.0):
    """Training records usable as real backgrounds for clips with silent gaps.

    Parameters
    ----------
    records : list of dict
        Manifest records.
    min_seconds : float
        Shortest background kept (s).

    Returns
    -------
    list of dict
        Kept, decodable ``train`` records labelled ``nonbird`` as a whole file, of a kind in
        :data:`BACKGROUND_KINDS`, without silent gaps, at least ``min_seconds`` long; in
        (package, path) order.
    """
    out = [r for r in records
           if r.get("split") == "train" and r.get("kept") and not r.get("error")
           and r.get("label") == "nonbird" and not r.get("segments")
           and r.get("kind") in BACKGROUND_KINDS and not r.get("silent_gaps")
           and float(r.get("duration") or 0) >= min_seconds]
    return sorted(out, key=lambda r: (r["package"], r["path_inside"]))


def clip_weight_of(kind_by_path, *, kinds=HARD_NEGATIVE_KINDS, weight=1.0):
    """A ``clip_weight`` for ``scatter.detect.training.train``: ``weight`` for a bird-free clip
    of one of ``kinds``, 1 for every other clip.

    Parameters
    ----------
    kind_by_path : dict
        Kind of each clip, keyed by its path as the trainer's records hold it.
    kinds : sequence of str
    weight : float
        Non-negative.

    Returns
    -------
    callable
        ``f(record) -> float`` for a ``scatter.detect.data.Record``.

    Raises
    ------
    ValueError
        If ``weight`` is negative or not finite.

    Examples
    --------
    >>> from scatter.detect.data import Record
    >>> f = clip_weight_of({"a.wav": "frog", "b.wav": "music"}, weight=3.0)
    >>> f(Record("a.wav", 0)), f(Record("b.wav", 0))
    (3.0, 1.0)
    """
    if not np.isfinite(weight) or weight < 0:
        raise ValueError(f"weight must be a finite number >= 0; got {weight!r}")
    kinds = frozenset(kinds)

    def clip_weight(record):
        hard = record.label == 0 and kind_by_path.get(os.path.normpath(record.path)) in kinds
        return float(weight) if hard else 1.0

    return clip_weight


def extra_training_rows(labels, *, kind="extra"):
    """The ``train`` rows of another labels CSV (e.g. the development corpus's), as rows of
    this script's labels CSV with absolute paths, to train on beside corpus v4's.

    Parameters
    ----------
    labels : str or os.PathLike
        A labels CSV (``path``, ``label``, ``split``; relative paths are relative to its folder).
    kind : str
        The ``kind`` (and ``package``) given to its rows.

    Returns
    -------
    list of dict
        Its rows whose ``split`` is ``train`` (the rest are never read), with ``split``
        ``train``, ``sources`` prefixed by ``kind`` and ``mixed`` 0.

    Raises
    ------
    ValueError
        If the CSV lacks the ``path``, ``label`` or ``split`` column.
    """
    labels = Path(labels)
    with open(labels, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"path", "label", "split"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"labels CSV {str(labels)!r} lacks the columns {sorted(missing)}")
        rows = []
        for row in reader:
            if (row["split"] or "").strip().lower() != "train":
                continue
            path = Path(row["path"])
            path = path if path.is_absolute() else labels.parent / path
            sources = ";".join(f"{kind}:{s}" for s in (row.get("sources") or "").split(";")
                               if s)
            rows.append({"path": str(path.resolve()), "label": int(row["label"]),
                         "split": "train", "sources": sources, "kind": kind,
                         "package": kind, "mixed": 0})
    return rows


def work_dir(work=None):
    """The ``--work`` folder: ``work``, or ``train_v4`` under the cache root of
    :mod:`scatter.cache` (``$SYMSCATTER_CACHE_DIR`` honoured) when None.

    Returns
    -------
    Path
    """
    if work is None:
        from scatter.cache import cache_dir

        return Path(cache_dir("train_v4"))
    return Path(os.path.expanduser(os.fspath(work)))


def feature_settings(base, args):
    """The feature settings of a run: ``base`` (the shipped model's) with the command line's
    ``--pcen`` / ``--no-pcen`` options (neither: ``base``'s).

    Parameters
    ----------
    base : scatter.detect.features.FeatureConfig
    args : argparse.Namespace
        Parsed command line (``pcen``, ``pcen_time``, ``pcen_alpha``, ``pcen_delta``,
        ``pcen_r``).

    Returns
    -------
    scatter.detect.features.FeatureConfig
    """
    import dataclasses

    changes = {} if args.pcen is None else {"pcen": bool(args.pcen)}
    for name in ("pcen_time", "pcen_alpha", "pcen_delta", "pcen_r"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    return dataclasses.replace(base, **changes)


def feature_tag(features, base):
    """Suffix of the feature cache's file name: empty for the ``base`` feature settings (the
    shipped model's), else ``-f`` and 8 hex digits of the settings' hash, so that runs with
    other features keep their own cache beside it.

    Parameters
    ----------
    features, base : scatter.detect.features.FeatureConfig

    Returns
    -------
    str

    Examples
    --------
    >>> import dataclasses
    >>> from scatter.detect.features import FeatureConfig
    >>> feature_tag(FeatureConfig(), FeatureConfig())
    ''
    >>> tag = feature_tag(dataclasses.replace(FeatureConfig(), pcen=True), FeatureConfig())
    >>> tag.startswith("-f"), len(tag)
    (True, 10)
    """
    if features == base:
        return ""
    text = json.dumps(features.to_dict(), sort_keys=True).encode()
    return "-f" + hashlib.sha256(text).hexdigest()[:8]


def train_settings(base, args):
    """The training settings of a run: ``base`` (the shipped model's) with the command line's
    options (``--seed``, ``--max-windows`` always; the others where given).

    Parameters
    ----------
    base : scatter.detect.training.TrainConfig
    args : argparse.Namespace
        Parsed command line.

    Returns
    -------
    scatter.detect.training.TrainConfig

    Raises
    ------
    scatter.ScatterError
        For a value the trainer refuses (e.g. a negative ``--pitch-shift``).
    """
    import dataclasses

    changes = {"max_windows": args.max_windows, "seed": args.seed}
    for name in ("epochs", "patience", "pieces", "copies", "dropout", "learning_rate",
                 "pitch_shift", "time_stretch"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    if args.hidden is not None:
        changes["hidden"] = tuple(args.hidden)
    if args.context is not None:
        changes["context"] = tuple(args.context)
    return dataclasses.replace(base, **changes)


def warp_tag(config):
    """Part of the feature cache's file name for the warp of the augmented copies: empty
    without one, else ``-p<semitones>-t<stretch>``.

    Parameters
    ----------
    config : scatter.detect.training.TrainConfig

    Returns
    -------
    str

    Examples
    --------
    >>> from scatter.detect.training import TrainConfig
    >>> warp_tag(TrainConfig()), warp_tag(TrainConfig(pitch_shift=2.0, time_stretch=0.15))
    ('', '-p2-t0.15')
    """
    if not (config.pitch_shift or config.time_stretch):
        return ""
    return f"-p{config.pitch_shift:g}-t{config.time_stretch:g}"


def _read_mono(path, sr):
    from scatter.audio import load

    y, _ = load(path, sr=sr)
    return np.asarray(y, np.float32)


def write_clips(plan, *, work, seed=0, snr_db=(3.0, 20.0), backgrounds=(), sr=SR,
                extra_rows=(), quiet=True):
    """Cut the planned clips into WAV files and write their labels CSV.

    Parameters
    ----------
    plan : list of dict
        :func:`plan_clips`'s clips.
    work : str or os.PathLike
        Folder of the clips (``clips/<split>/<name>.wav``) and of ``labels.csv``.
    seed : int
        Seeds the background and SNR of each mixed clip (by its place in ``plan``).
    snr_db : (float, float)
        Range of the SNR at which a gapped training clip is placed into its background.
    backgrounds : list of dict
        :func:`background_records`; none: gapped clips are written as they are.
    sr : int
    extra_rows : list of dict
        More training rows (:func:`extra_training_rows`), written after corpus v4's training
        rows and before its validation rows.
    quiet : bool

    Returns
    -------
    Path
        The labels CSV. An existing clip file is reused as it is.
    """
    import soundfile as sf
    from tqdm import tqdm

    C = load_sibling("corpus_v4")
    work = Path(work)
    cache: dict = {}

    def audio(path):
        if path not in cache:
            if len(cache) > 8:
                cache.clear()
            cache[path] = _read_mono(path, sr)
        return cache[path]

    bgs = list(backgrounds)
    rows = []
    for i, clip in enumerate(tqdm(plan, desc="clips", unit="clip", disable=quiet)):
        out = work / "clips" / clip["split"] / f"{clip['name']}.wav"
        mixed = False
        if not out.is_file():
            x = audio(clip["path"])
            a, b = int(round(clip["start"] * sr)), min(x.size, int(round(clip["end"] * sr)))
            y = x[a:b]
            if y.size == 0:
                continue
            if clip["split"] == "train" and bgs and C.silent_gaps(y, sr=sr) >= GAP_S \
                    and np.any(np.abs(y) > C.SILENCE_LEVEL):
                rng = np.random.default_rng([seed, i])
                bg = _read_mono(bgs[int(rng.integers(len(bgs)))]["path"], sr)
                y = C.mix_into_background(y, bg, snr_db=float(rng.uniform(*snr_db)), rng=rng,
                                          sr=sr)
                mixed = True
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_suffix(".tmp.wav")
            sf.write(tmp, y, sr, subtype="FLOAT")
            os.replace(tmp, out)
            if mixed:
                out.with_suffix(".mixed").write_text("1")
        else:
            mixed = out.with_suffix(".mixed").is_file()
        rows.append({"path": os.path.relpath(out, work), "label": clip["label"],
                     "split": clip["split"], "sources": clip["recording"],
                     "kind": clip["kind"], "package": clip["package"], "mixed": int(mixed)})
    n_train = sum(r["split"] == "train" for r in rows)
    rows = rows[:n_train] + list(extra_rows) + rows[n_train:]
    labels = work / ("labels.csv" if not extra_rows else "labels-extra.csv")
    tmp = labels.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, labels)
    return labels


def rethreshold(model, *, work, out, quiet=True):
    """Write a copy of ``model`` whose threshold maximises balanced accuracy on the validation
    clips of ``work/labels.csv``.

    Parameters
    ----------
    model : str
        ``"default"`` or a model path.
    work : str or os.PathLike
        The folder :func:`write_clips` wrote.
    out : str or os.PathLike
        The copy (``.npz``).
    quiet : bool

    Returns
    -------
    dict
        ``out``, ``threshold`` (new), ``old_threshold``, ``val_auc``,
        ``val_balanced_accuracy``.
    """
    from scatter.detect import load_model
    from scatter.detect.data import read_labels
    from scatter.detect.io import read_metadata, save_model
    from scatter.detect.metrics import balanced_threshold, roc_auc

    det = load_model(model)
    recs = [r for r in read_labels(Path(work) / "labels.csv", root=work) if r.split == "val"]
    summary = det.detect([r.path for r in recs], quiet=quiet)
    score = {os.path.normpath(r["path"]): r["score"] for r in summary["results"]
             if not r["error"] and r["score"] is not None}
    y = np.array([r.label for r in recs if os.path.normpath(r.path) in score])
    s = np.array([score[os.path.normpath(r.path)] for r in recs
                  if os.path.normpath(r.path) in score])
    thr, bal = balanced_threshold(y, s)
    meta = read_metadata(det.path)
    old = meta["model"]["threshold"]
    meta["model"]["threshold"] = float(thr)
    meta.setdefault("training", {})["threshold_from"] = (
        "balanced accuracy on corpus v4's validation clips (data_scripts/train_v4_detector.py)")
    with np.load(det.path, allow_pickle=False) as z:
        params = {k: z[k] for k in z.files}
    save_model(out, params, meta)
    return {"out": os.fsdecode(out), "threshold": float(thr), "old_threshold": old,
            "val_auc": float(roc_auc(y, s)), "val_balanced_accuracy": float(bal)}


def _parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="model file to write (.npz)")
    p.add_argument("--manifest", default=None,
                   help="corpus v4 manifest.json (default: the cache's, built when missing)")
    p.add_argument("--work", default=None,
                   help="folder of the clips, their labels CSV and the feature caches "
                        "(default: train_v4 under the cache root of scatter.cache)")
    p.add_argument("--clip-seconds", type=float, default=9.0)
    p.add_argument("--min-clip", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--patience", type=int, default=None)
    p.add_argument("--hidden", type=int, nargs="+", default=None)
    p.add_argument("--pieces", type=int, default=None)
    p.add_argument("--copies", type=int, default=None)
    p.add_argument("--max-windows", type=int, default=4,
                   help="windows per clip (4 covers a 9-s clip of 2.6-s windows)")
    p.add_argument("--dropout", type=float, default=None)
    p.add_argument("--learning-rate", type=float, default=None)
    p.add_argument("--context", type=int, nargs="*", default=None)
    p.add_argument("--pcen", action=argparse.BooleanOptionalAction, default=None,
                   help="level channels from per-channel energy normalisation "
                        "(FeatureConfig.pcen) instead of the log, or not (--no-pcen); "
                        "default: as the shipped model")
    p.add_argument("--pcen-time", type=float, default=None,
                   help="PCEN smoother's time constant in seconds (FeatureConfig.pcen_time)")
    p.add_argument("--pcen-alpha", type=float, default=None)
    p.add_argument("--pcen-delta", type=float, default=None)
    p.add_argument("--pcen-r", type=float, default=None)
    p.add_argument("--pitch-shift", type=float, default=None, metavar="SEMITONES",
                   help="shift the pitch of every augmented training copy by up to this many "
                        "semitones, drawn uniformly (TrainConfig.pitch_shift; default 0: off)")
    p.add_argument("--time-stretch", type=float, default=None, metavar="FRACTION",
                   help="change the tempo of every augmented training copy by a factor up to "
                        "1 + FRACTION, drawn log-uniformly, pitch kept "
                        "(TrainConfig.time_stretch; default 0: off)")
    p.add_argument("--hard-negative-kinds", nargs="*", default=list(HARD_NEGATIVE_KINDS))
    p.add_argument("--hard-negative-weight", type=float, default=1.0)
    p.add_argument("--extra-train-labels", default=None, metavar="CSV",
                   help="also train on the train rows of this labels CSV (e.g. the development "
                        "corpus's labels.csv)")
    p.add_argument("--rethreshold", default=None, metavar="MODEL",
                   help="train nothing: copy MODEL with its threshold set on validation")
    p.add_argument("--quiet", action="store_true")
    return p


def main(argv=None):
    """Run the script (module docstring); returns the exit status."""
    import dataclasses

    from scatter.detect.training import default_settings, train
    from scatter.errors import ScatterError

    parser = _parser()
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    features, config = default_settings()
    base_features = features
    features = feature_settings(base_features, args)
    try:
        config = train_settings(config, args)
    except ScatterError as err:
        parser.error(str(err))
    B = load_sibling("build_corpus_v4")
    manifest = args.manifest or B.fetch(quiet=args.quiet)
    records = B.load_manifest(manifest)
    work = work_dir(args.work)
    plan = plan_clips(records, clip_s=args.clip_seconds, min_clip_s=args.min_clip)
    extra = (extra_training_rows(os.path.expanduser(args.extra_train_labels))
             if args.extra_train_labels else [])
    labels = write_clips(plan, work=work, seed=args.seed, backgrounds=background_records(records),
                         extra_rows=extra, quiet=args.quiet)
    if args.rethreshold:
        result = rethreshold(args.rethreshold, work=work, out=args.out, quiet=args.quiet)
        print(json.dumps(result | {"seconds": round(time.perf_counter() - t0, 1)}))
        return 0

    with open(labels, newline="", encoding="utf-8") as fh:
        kind_by_path = {os.path.normpath(str(work / r["path"])): r["kind"]
                        for r in csv.DictReader(fh)}
    weight = None
    if args.hard_negative_weight != 1.0:
        weight = clip_weight_of(kind_by_path, kinds=args.hard_negative_kinds,
                                weight=args.hard_negative_weight)
    cache = work / (f"features-c{config.copies}-w{config.max_windows}-s{config.seed}"
                    f"-{args.clip_seconds:g}s{'-extra' if extra else ''}{warp_tag(config)}"
                    f"{feature_tag(features, base_features)}.npz")
    out = os.path.abspath(os.path.expanduser(args.out))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    provenance = {"description": "corpus v4 (real recordings from Debian and PyPI packages, "
                                 "reviewed labels): train split for training, val split for "
                                 "early stopping and the threshold; clips of "
                                 f"{args.clip_seconds:g} s; clips with silent gaps placed "
                                 "into real training backgrounds",
                  "extra_training_rows": len(extra),
                  "hard_negative_kinds": list(args.hard_negative_kinds) if weight else [],
                  "hard_negative_weight": args.hard_negative_weight}
    summary = train(work, labels=labels, out=out, features=features, config=config,
                    quiet=args.quiet, provenance=provenance, keep_cache=True, cache=cache,
                    clip_weight=weight)
    print(json.dumps({"out": summary["out"], "val_auc": summary["best"]["val_auc"],
                      "best_epoch": summary["best"]["epoch"],
                      "epochs_run": len(summary["history"]),
                      "threshold": summary["threshold"], "n_train": summary["n_train"],
                      "n_val": summary["n_val"], "skipped": len(summary["skipped"]),
                      "config": {k: v for k, v in dataclasses.asdict(config).items()},
                      "features": {k: v for k, v in features.to_dict().items()
                                   if k.startswith("pcen")},
                      "hard_negative_weight": args.hard_negative_weight,
                      "seconds": round(time.perf_counter() - t0, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
