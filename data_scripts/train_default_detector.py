"""Reproduce the default bird detector shipped in ``scatter/models/default.npz`` (+ ``.json``).

From scratch, on a machine that reaches the Debian archive::

    python data_scripts/train_default_detector.py            # corpus v4 (built if needed)
    python data_scripts/train_default_detector.py --synthetic   # quick synthetic-only model

Steps of the default run:

1. corpus v4 (``data_scripts/build_corpus_v4.py``: real recordings of Debian packages, reviewed
   labels, split by source package into ``train`` / ``val`` / ``test``), fetched into the cache
   when its manifest is missing;
2. the ``train`` and ``val`` splits cut into 9-s clips as ``data_scripts/train_v4_detector.py``
   cuts them (whole files, or the reviewed ``bird`` / ``nonbird`` segments of soundscapes; clips
   with digitally silent gaps placed into real training backgrounds), under ``--work``
   (default ``train_v4`` in the package's cache, shared with that script);
3. ``scatter.detect.training.train`` on the ``train`` clips, with the ``val`` clips for early
   stopping and for the decision threshold (the one of best balanced accuracy on validation);
   bird-free clips of the hard-negative kinds (night insects, frogs, speech) weigh
   ``--hard-negative-weight`` in the loss;
4. the model and its sidecar written to ``scatter/models/default.npz`` / ``.json`` (``--out``),
   atomically. The sidecar records the settings, the packages with their versions and
   licences, the command and the validation metrics; it holds no path of the machine that
   trained it.

The ``test`` split is never read here: ``python benchmarks/detector_quality.py --split test``
is run once per shipped model, and its figures go into the model card
(``scatter/models/README.md``). Nothing from BirdNET is used.

The defaults are the shipped model's settings, chosen on corpus v4's validation split
(``docs/experiments.md`` gives the figures of each choice and the commands that reproduce
them): scattering orders 1+2, ``J=8``, ``Q=(4, 1)``, 2.6-s windows at 22.05 kHz, SURE activity
mask, ``subsampling="coarse"``, one 16-bit step of dither, the top 40 dB of each window, level
channels by per-channel energy normalisation (PCEN, ``pcen=True``) instead of the log; a
max-affine classifier (64 and 32 units, 3 pieces) over five frames of context, trained on four
windows per clip framed as the detector frames files (``last_window="end"``), two augmented
copies per clip, input dropout 0.3, AdamW. Rerunning with the defaults on one machine gives the
same weights bit for bit.

Development-corpus tools (the figures of ``docs/experiments.md`` measured before corpus v4):
``--dev-corpus`` trains on the development corpus (``data_scripts/build_dev_corpus.py``, built
when missing, ``--corpus DIR``) with its ``test`` rows evaluated; its shipped settings were
``--max-windows 2 --last-window pad --context`` (no context).

Ablation (``--ablation N``, development corpus): what each design choice contributes, measured
on the corpus's **validation** split only. The first ``N`` training clips are featurised once per
feature variant (orders 1+2 with the SURE activity mask, the same without the mask, order 1
only) with ``--copies`` augmented copies, and the classifier is fitted on each
(``scatter.detect.training.fit``, seeds ``--ablation-seeds``), plus once on the clean copies
only (no augmentation); it prints one JSON line per variant and a table.

Learnable filters (``--finetune MODEL``, development corpus): the first-order wavelets of a
trained model are fine-tuned end to end (:mod:`scatter.detect.finetune`). Three variants run on
the same steps: ``filters`` (the filters with the classifier), ``classifier`` (the control) and
``filters-only``. The models are written to ``WORK/finetune-<variant>.npz``. The defaults keep
the designed filters (``TrainConfig.filter_epochs=0``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

from sibling_scripts import load_sibling  # noqa: E402

from scatter.detect.features import DITHER_16BIT, FeatureConfig  # noqa: E402
from scatter.detect.io import read_model, save_model  # noqa: E402
from scatter.detect.training import TrainConfig, fit, train  # noqa: E402
from scatter.errors import ScatterError  # noqa: E402


def default_corpus():
    """``corpus`` in the package's cache (:mod:`scatter.cache`), where build_dev_corpus.py
    writes it."""
    from scatter.cache import cache_dir

    return Path(cache_dir("corpus"))


def ensure_corpus(corpus, quiet):
    """Build the development corpus with build_dev_corpus.py (with its default settings); the
    script returns at once when the corpus there is complete and of the same settings."""
    summary = corpus / "summary.json"
    cmd = [sys.executable, str(HERE / "build_dev_corpus.py"), "--out", str(corpus)]
    if quiet:
        cmd.append("--quiet")
    subprocess.run(cmd, check=True)
    with open(summary, encoding="utf-8") as fh:
        return json.load(fh)


#: Variants of :func:`ablation`, by the name ``--ablation-variants`` takes.
VARIANTS = ("full", "no-augmentation", "no-mask", "other-order")


def ablation(corpus, features, config, *, n_train, seeds=(0,), quiet=True, cache_dir=None,
             variants=VARIANTS):
    """Validation AUC of design variants (module docstring); one dict per variant.

    Parameters
    ----------
    corpus : Path
        Development corpus folder (its ``labels.csv`` split column decides train and val).
    features : FeatureConfig
        The full feature settings; the variants change ``mask`` and ``max_order`` (order 1
        only when ``features`` has orders 1+2, orders 1+2 when it has order 1).
    config : TrainConfig
        Classifier and augmentation settings (``copies`` > 0 for the augmentation row).
    n_train : int
        Training clips used (the first ones of the split; balanced by construction).
    seeds : sequence of int
        Classifier seeds; the AUCs are averaged.
    quiet : bool
    cache_dir : Path or None
        Folder of feature caches: ``features.npz`` (what a training run with ``--work`` there
        and ``--keep-cache`` leaves) and ``ablation-<settings hash>.npz`` files, each used
        only when its fingerprint (clips, feature settings, seed, copies, windows) matches;
        new extractions are saved there.
    variants : sequence of str
        Which of :data:`VARIANTS` to run (``("full",)``: the classifier seeds on the full
        settings only, e.g. on the cache a training run left).

    Returns
    -------
    list of dict
        ``variant``, ``val_auc`` (mean), ``val_auc_per_seed``, ``best_epochs``, ``n_train``,
        ``n_val``, ``features``.
    """
    import dataclasses
    import hashlib

    import numpy as np

    from scatter.detect import training as TR
    from scatter.detect.bags import Bags, bags_fingerprint, extract_bags, load_bags, save_bags
    from scatter.detect.data import read_labels, split_records
    from scatter.detect.features import FeatureExtractor

    records = read_labels(corpus / "labels.csv", root=corpus)
    train_recs, val_recs = split_records(records, seed=config.seed)
    train_recs = train_recs[:n_train]
    other_order = ("order 1 only", 1) if features.max_order == 2 else ("orders 1+2", 2)
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        raise ScatterError(f"variants must be among {VARIANTS}; got {unknown}")
    table = {"full": ("full: " + _describe(features), features, True),
             "no-augmentation": ("no augmentation", features, False),
             "no-mask": ("no thresholding mask", dataclasses.replace(features, mask="none"),
                         True),
             "other-order": (other_order[0],
                             dataclasses.replace(features, max_order=other_order[1]), True)}
    rows, cache, noises = [], {}, None
    for name, fcfg, augmented in (table[v] for v in VARIANTS if v in variants):
        key = json.dumps(fcfg.to_dict(), sort_keys=True)
        if key not in cache:
            fingerprint = bags_fingerprint(train_recs + val_recs, fcfg, config)
            own = None
            if cache_dir is not None:
                digest = hashlib.sha256(key.encode()).hexdigest()[:12]
                own = Path(cache_dir) / f"ablation-{digest}.npz"
                found = (load_bags(str(Path(cache_dir) / "features.npz"), fingerprint)
                         or load_bags(str(own), fingerprint))
            else:
                found = None
            fx = FeatureExtractor(fcfg)
            if found is None:
                if noises is None:  # the bird-free clips training mixes in (as train() does)
                    noises = TR.background_noises(train_recs, sr=fcfg.sr)
                found = {"train": extract_bags(train_recs, fx, copies=config.copies,
                                               seed=config.seed, max_windows=config.max_windows,
                                               noises=noises, quiet=quiet,
                                               desc=f"{name}: train",
                                               last=config.last_window),
                         "val": extract_bags(val_recs, fx, copies=0, seed=config.seed,
                                             max_windows=config.max_windows, quiet=quiet,
                                             desc=f"{name}: val", last=config.last_window)}
                if own is not None:
                    save_bags(str(own), found, fingerprint)
            cache[key] = (fx.n_features, found["train"], found["val"])
        n_features, tb, vb = cache[key]
        if not augmented:
            tb = Bags(feats=tb.feats[:, :1], valid=tb.valid, labels=tb.labels, paths=tb.paths,
                      skipped=tb.skipped)
        aucs, epochs = [], []
        for seed in seeds:
            res = fit(tb, vb, n_features=n_features,
                      config=dataclasses.replace(config, seed=seed), quiet=quiet)
            best = max(res["history"], key=lambda h: h["val_auc"])
            aucs.append(round(best["val_auc"], 4))
            epochs.append(best["epoch"])
        rows.append({"variant": name, "val_auc": round(float(np.mean(aucs)), 4),
                     "val_auc_per_seed": aucs, "best_epochs": epochs,
                     "n_train": len(tb.labels), "n_val": len(vb.labels),
                     "features": fcfg.to_dict()})
    return rows


#: Variants of :func:`finetune_model`: first-order filters learned with the classifier, the
#: classifier alone on the same steps (the control), or the filters alone (classifier fixed).
FINETUNE_VARIANTS = ("filters", "classifier", "filters-only")


def finetune_model(model, corpus, ftcfg, *, copies, max_windows, seed, work,
                   variants=FINETUNE_VARIANTS, quiet=True, last_window="pad"):
    """Fine-tune a trained model end to end (:mod:`scatter.detect.finetune`) on the corpus's
    training split, selected on its validation split; one fine-tuned model per variant.

    Parameters
    ----------
    model : Path
        Trained model (``.npz`` with its sidecar).
    corpus : Path
        Development corpus (its ``labels.csv`` split column decides train and val).
    ftcfg : scatter.detect.finetune.FinetuneConfig
        ``filter_learning_rate`` is set to 0 for the ``"classifier"`` variant, the
        classifier's ``learning_rate`` to 0 for ``"filters-only"``.
    copies, max_windows, seed : int
        Augmented copies per training clip, windows per clip and the augmentation seed (the
        model's own training settings give the audio its classifier was trained on).
    last_window : {"pad", "end"}
        How a clip's final window is filled, as the model was trained.
    work : Path
        Where ``finetune-<variant>.npz`` (+ sidecar) are written.
    variants : sequence of str
        Among :data:`FINETUNE_VARIANTS`.
    quiet : bool

    Returns
    -------
    list of dict
        Per variant: ``variant``, ``out``, ``val_auc`` (best epoch, epoch 0 the start),
        ``best_epoch``, ``history``, ``threshold``.
    """
    import dataclasses

    from scatter.detect.bags import extract_windows
    from scatter.detect.data import read_labels, split_records
    from scatter.detect.features import FeatureConfig
    from scatter.detect.finetune import finetune
    from scatter.detect.training import background_noises

    unknown = sorted(set(variants) - set(FINETUNE_VARIANTS))
    if unknown:
        raise ScatterError(f"variants must be among {FINETUNE_VARIANTS}; got {unknown}")
    params, meta = read_model(model)
    features = FeatureConfig.from_dict(meta["features"])
    records = read_labels(corpus / "labels.csv", root=corpus)
    train_recs, val_recs = split_records(records, seed=seed)
    noises = background_noises(train_recs, sr=features.sr)
    tw = extract_windows(train_recs, features, copies=copies, seed=seed,
                         max_windows=max_windows, noises=noises, quiet=quiet,
                         desc="train windows", last=last_window)
    vw = extract_windows(val_recs, features, copies=0, seed=seed, max_windows=max_windows,
                         quiet=quiet, desc="val windows", last=last_window)
    rows = []
    for variant in variants:
        cfg = {"filters": ftcfg,
               "classifier": dataclasses.replace(ftcfg, filter_learning_rate=0.0),
               "filters-only": dataclasses.replace(ftcfg, learning_rate=0.0)}[variant]
        res = finetune(params, features, tw, vw, config=cfg, quiet=quiet)
        best = res["history"][res["best_epoch"]]
        side = json.loads(json.dumps(meta))
        side["features"] = res["features"].to_dict()
        side["model"]["threshold"] = res["threshold"]
        side["training"]["finetune"] = {
            "from": str(model), "variant": variant,
            "config": dataclasses.asdict(cfg), "copies": copies, "seed": seed,
            "history": res["history"], "best_epoch": res["best_epoch"]}
        side["metrics"] = {"val_auc": best["val_auc"],
                           "val_balanced_accuracy": res["val_balanced_accuracy"],
                           "before_finetune": meta.get("metrics", {})}
        out = Path(work) / f"finetune-{variant}.npz"
        save_model(out, res["params"], side)
        rows.append({"variant": variant, "out": str(out), "val_auc": round(best["val_auc"], 4),
                     "best_epoch": res["best_epoch"], "threshold": res["threshold"],
                     "history": res["history"]})
    return rows


def hard_negative_weight(corpus, kinds, weight):
    """``clip_weight`` for :func:`scatter.detect.training.train`: ``weight`` for a clip without
    birds that holds a source of one of ``kinds`` (the corpus's ``sources.csv`` kinds, e.g.
    ``mammal``), 1 otherwise."""
    import csv

    with open(Path(corpus) / "sources.csv", newline="", encoding="utf-8") as fh:
        kind = {r["id"]: r["kind"] for r in csv.DictReader(fh)}
    unknown = sorted(set(kinds) - set(kind.values()))
    if unknown:
        raise ScatterError(f"hard-negative kinds {unknown} are not in the corpus; it has "
                           f"{sorted(set(kind.values()))}")
    kinds = set(kinds)

    def clip_weight(record):
        hard = record.label == 0 and any(kind.get(s) in kinds for s in record.sources)
        return weight if hard else 1.0

    return clip_weight


def _describe(f):
    orders = "order 1" if f.max_order == 1 else "orders 1+2"
    return f"{orders}, Q={tuple(f.Q)}, {f.mask} mask, augmented"


def format_table(rows):
    """A plain-text table of :func:`ablation` rows, with the change against the first row."""
    base = rows[0]["val_auc"]
    lines = [f"{'variant (validation split)':56s} {'val AUC':>8s} {'change':>8s}  per seed"]
    for r in rows:
        lines.append(f"{r['variant']:56s} {r['val_auc']:8.4f} {r['val_auc'] - base:+8.4f}  "
                     f"{r['val_auc_per_seed']}")
    return "\n".join(lines)


def settings(argv=None):
    """``(args, features, config)`` of a command line: the parsed arguments, the
    :class:`FeatureConfig` and the :class:`TrainConfig` (the defaults: the shipped model's)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--manifest", type=Path, default=None,
                   help="corpus v4 manifest.json (default: the cache's, built when missing)")
    p.add_argument("--dev-corpus", action="store_true",
                   help="train on the development corpus instead of corpus v4")
    p.add_argument("--corpus", type=Path, default=None,
                   help="development corpus folder (--dev-corpus, --ablation, --finetune)")
    p.add_argument("--synthetic", action="store_true",
                   help="train on a generated synthetic corpus instead (quick placeholder)")
    p.add_argument("--synthetic-clips", type=int, default=160)
    p.add_argument("--out", type=Path, default=REPO / "scatter" / "models" / "default.npz")
    p.add_argument("--work", type=Path, default=None,
                   help="folder of the clips, checkpoints and the feature cache (default: "
                        "train_v4 in the package's cache for corpus v4, a temporary folder "
                        "otherwise)")
    # The defaults are the settings of the shipped model (its sidecar records them too).
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--copies", type=int, default=2, help="augmented copies per clip")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dropout", type=float, default=0.3,
                   help="input feature dropout during training")
    p.add_argument("--hidden", type=int, nargs="+", default=[64, 32])
    p.add_argument("--weight-decay", type=float, default=1e-2)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--pieces", type=int, default=3)
    p.add_argument("--max-windows", type=int, default=4,
                   help="windows per clip (four cover a 9-s clip of 2.6-s windows)")
    p.add_argument("--last-window", choices=["end", "pad"], default="end",
                   help="how a clip's final window is filled: the clip's last window of "
                        "samples (end, how the detector frames files) or zero-padded (pad)")
    p.add_argument("--context", type=int, nargs="*", default=[-2, -1, 0, 1, 2],
                   help="frame offsets the classifier's first layer sees side by side "
                        "(none: each frame alone)")
    # Q=(4, 1) and orders 1+2: the cheapest settings that kept the validation AUC
    # (docs/experiments.md).
    p.add_argument("--Q", type=int, nargs=2, default=[4, 1],
                   help="wavelets per octave at orders 1 and 2 of the features")
    p.add_argument("--mask", default=FeatureConfig().mask, help="activity-mask threshold")
    p.add_argument("--max-order", type=int, default=2)
    p.add_argument("--noise-floor", type=float, default=FeatureConfig().noise_floor,
                   help="activity noise floor relative to the window's mean envelope "
                        "(scatter.detect.features)")
    # No noise floor, "coarse" subsampling (about 1.4x faster scattering), 22.05 kHz, one
    # 16-bit step of dither and the top 40 dB per window: chosen on the validation split
    # (docs/experiments.md gives the figures of each alternative).
    p.add_argument("--dither", type=float, default=DITHER_16BIT,
                   help="amplitude of the fixed dither added to every window "
                        "(scatter.detect.features; 2**-15 = one 16-bit step)")
    p.add_argument("--top-db", type=float, default=40.0,
                   help="dynamic range kept per window and scattering order, in dB "
                        "(scatter.detect.features; 0: no limit)")
    p.add_argument("--pcen", action=argparse.BooleanOptionalAction, default=True,
                   help="level channels by per-channel energy normalisation of the scattering "
                        "coefficients instead of their log (scatter.detect.features)")
    p.add_argument("--subsampling", choices=("kymatio", "coarse"), default="coarse",
                   help="time subsampling of the scattering (scatter.Scattering1D)")
    p.add_argument("--sr", type=int, default=FeatureConfig().sr,
                   help="sample rate of the features (the corpus is resampled to it)")
    p.add_argument("--keep-cache", action="store_true",
                   help="keep (and reuse) the feature cache WORK/features.npz")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--ablation", type=int, default=0, metavar="N",
                   help="run the validation ablation on the first N training clips instead")
    p.add_argument("--ablation-seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--ablation-variants", nargs="+", choices=VARIANTS, default=list(VARIANTS),
                   help="which ablation variants to run")
    p.add_argument("--hard-negative-kinds", nargs="*", default=None,
                   help="kinds whose bird-free clips weigh more (default: insect frog speech "
                        "on corpus v4, none on the development corpus, whose kinds are its "
                        "sources.csv's)")
    p.add_argument("--hard-negative-weight", type=float, default=3.0,
                   help="loss weight of those clips")
    p.add_argument("--finetune", type=Path, default=None, metavar="MODEL",
                   help="fine-tune MODEL end to end (learnable first-order filters, "
                        "scatter.detect.finetune) instead of training; the models go to WORK")
    p.add_argument("--finetune-variants", nargs="+", choices=FINETUNE_VARIANTS,
                   default=list(FINETUNE_VARIANTS),
                   help="filters: filters and classifier; classifier: the control; "
                        "filters-only: the classifier fixed")
    p.add_argument("--finetune-epochs", type=int, default=2)
    p.add_argument("--finetune-lr", type=float, default=3e-4,
                   help="classifier learning rate while fine-tuning")
    p.add_argument("--filter-lr", type=float, default=1e-2,
                   help="learning rate of the filters' bounded parameters")
    p.add_argument("--filter-max-change", type=float, default=0.25,
                   help="bound on |log(xi/xi0)| and |log(sigma/sigma0)| of each wavelet")
    args = p.parse_args(argv)
    features = FeatureConfig(sr=args.sr, Q=tuple(args.Q), mask=args.mask,
                             max_order=args.max_order, noise_floor=args.noise_floor,
                             subsampling=args.subsampling, dither=args.dither,
                             top_db=args.top_db, pcen=args.pcen)
    config = TrainConfig(epochs=args.epochs, copies=args.copies, seed=args.seed,
                         dropout=args.dropout, hidden=tuple(args.hidden),
                         weight_decay=args.weight_decay, learning_rate=args.lr,
                         pieces=args.pieces, max_windows=args.max_windows,
                         context=tuple(args.context), last_window=args.last_window)
    return args, features, config


def corpus_v4_clips(*, work, seed, manifest=None, quiet=True):
    """Corpus v4's ``train`` and ``val`` splits as clips and a labels CSV (module docstring,
    steps 1-2), through ``data_scripts/train_v4_detector.py``'s functions.

    Parameters
    ----------
    work : Path
        Folder of the clips and the labels CSV (existing clips are reused).
    seed : int
        Seeds the backgrounds of the gapped training clips.
    manifest : Path or None
        Corpus v4 manifest (None: the cache's, built when missing).
    quiet : bool

    Returns
    -------
    records : list of dict
        The manifest's file records.
    labels : Path
        The labels CSV (``path``, ``label``, ``split``, ``sources``, ``kind``, ``package``,
        ``mixed``).
    """
    V = load_sibling("train_v4_detector")
    B = load_sibling("build_corpus_v4")
    records = B.load_manifest(manifest or B.fetch(quiet=quiet))
    plan = V.plan_clips(records)
    labels = V.write_clips(plan, work=work, seed=seed,
                           backgrounds=V.background_records(records), quiet=quiet)
    return records, labels


def v4_provenance(records, labels):
    """What the model was trained on, in words and per package (name, version, licence,
    split, clips), for the sidecar: no path of the training machine.

    Parameters
    ----------
    records : list of dict
        Corpus v4 manifest records.
    labels : Path
        The clips' labels CSV (:func:`corpus_v4_clips`).

    Returns
    -------
    dict
    """
    import csv
    from collections import Counter

    with open(labels, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    clips = Counter((r["package"], r["split"]) for r in rows)
    birds = Counter((r["split"]) for r in rows if r["label"] == "1")
    info = {}
    for r in records:
        if r.get("split") in ("train", "val"):
            info.setdefault(r["package"], {"version": r.get("version", ""),
                                           "licence": r.get("licence", ""),
                                           "split": r["split"]})
    packages = [dict(package=name, clips=clips.get((name, d["split"]), 0), **d)
                for name, d in sorted(info.items())]
    return {
        "description": ("corpus v4 (data_scripts/build_corpus_v4.py): real recordings of Debian "
                        "packages with reviewed labels, split by source package; "
                        "trained on the 'train' split's 9-s clips (clips with digitally "
                        "silent gaps placed into real training backgrounds), early stopping "
                        "and threshold on the 'val' split; the 'test' split never read"),
        "corpus": {"kind": "corpus-v4", "clip_seconds": 9.0,
                   "train_clips": sum(r["split"] == "train" for r in rows),
                   "train_bird_clips": birds.get("train", 0),
                   "val_clips": sum(r["split"] == "val" for r in rows),
                   "val_bird_clips": birds.get("val", 0),
                   "packages": packages},
    }


def main(argv=None):
    args, features, config = settings(argv)
    if args.finetune is not None or args.ablation:
        work = args.work or Path(tempfile.mkdtemp(prefix="symscatter-train-"))
        work.mkdir(parents=True, exist_ok=True)
        corpus = args.corpus or default_corpus()
        ensure_corpus(corpus, args.quiet)
    if args.finetune is not None:
        from scatter.detect.finetune import FinetuneConfig

        ftcfg = FinetuneConfig(epochs=args.finetune_epochs, learning_rate=args.finetune_lr,
                               weight_decay=args.weight_decay,
                               filter_learning_rate=args.filter_lr,
                               max_change=args.filter_max_change, dropout=args.dropout,
                               seed=args.seed)
        rows = finetune_model(args.finetune, corpus, ftcfg, copies=args.copies,
                              max_windows=args.max_windows, seed=args.seed, work=work,
                              variants=args.finetune_variants, quiet=args.quiet,
                              last_window=args.last_window)
        for row in rows:
            print(json.dumps(row))
        return 0
    if args.ablation:
        rows = ablation(corpus, features, config, n_train=args.ablation,
                        seeds=args.ablation_seeds, quiet=args.quiet, cache_dir=args.work,
                        variants=args.ablation_variants)
        for row in rows:
            print(json.dumps(row))
        print(format_table(rows))
        return 0

    clip_weight, test_labels = None, None
    kinds = args.hard_negative_kinds
    if args.synthetic or args.dev_corpus:
        work = args.work or Path(tempfile.mkdtemp(prefix="symscatter-train-"))
    else:
        from scatter.cache import cache_dir

        work = args.work or Path(cache_dir("train_v4"))
    work.mkdir(parents=True, exist_ok=True)
    if args.synthetic:
        from scatter.detect.synth import write_synthetic_corpus

        data = work / "synthetic"
        labels = write_synthetic_corpus(data, n_clips=args.synthetic_clips, seconds=5.0,
                                        sr=features.sr, seed=args.seed)
        provenance = {
            "description": ("PLACEHOLDER trained on synthetic sounds only: generated "
                            "whistles, trills, harmonic stacks and songs in generated "
                            "backgrounds (scatter.detect.synth); no real recording was used."),
            "corpus": {"kind": "synthetic", "clips": args.synthetic_clips, "seconds": 5.0,
                       "seed": args.seed},
        }
    elif args.dev_corpus:
        corpus = args.corpus or default_corpus()
        summary = ensure_corpus(corpus, args.quiet)
        data, labels = corpus, corpus / "labels.csv"
        provenance = {
            "description": ("Development corpus of data_scripts/build_dev_corpus.py: real bird "
                            "and non-bird recordings of the Debian package "
                            "tuxpaint-stamps-default (GPL-2), synthetic bird-like calls "
                            "and synthetic non-bird events, mixed into real, synthetic, "
                            "near-silent or digitally silent backgrounds at -5 to 20 dB SNR; "
                            "trained on the 'train' split, model selected on 'val', "
                            "reported on 'test' (disjoint source recordings)."),
            "corpus": {"kind": "dev-corpus", **summary},
        }
        test_labels = corpus / "test.csv"
        if kinds and args.hard_negative_weight != 1:
            clip_weight = hard_negative_weight(corpus, kinds, args.hard_negative_weight)
    else:
        import csv
        import os

        V = load_sibling("train_v4_detector")
        records, labels = corpus_v4_clips(work=work, seed=args.seed, manifest=args.manifest,
                                          quiet=args.quiet)
        data = work
        provenance = v4_provenance(records, labels)
        kinds = list(V.HARD_NEGATIVE_KINDS) if kinds is None else kinds
        if kinds and args.hard_negative_weight != 1:
            with open(labels, newline="", encoding="utf-8") as fh:
                kind_by_path = {os.path.normpath(str(work / r["path"])): r["kind"]
                                for r in csv.DictReader(fh)}
            clip_weight = V.clip_weight_of(kind_by_path, kinds=kinds,
                                           weight=args.hard_negative_weight)
    if clip_weight is not None:
        provenance["hard_negatives"] = {"kinds": list(kinds),
                                        "weight": args.hard_negative_weight}
    provenance["command"] = " ".join(["python data_scripts/train_default_detector.py",
                                      *(argv if argv is not None else sys.argv[1:])])
    # the run's own model file, its checkpoint beside it (for --resume)
    tmp_out = work / "default-model.npz"
    result = train(data, labels=labels, out=tmp_out, features=features, config=config,
                   resume=args.resume, quiet=args.quiet, provenance=provenance,
                   keep_cache=args.keep_cache, cache=work / "features-default.npz",
                   clip_weight=clip_weight)
    params, metadata = read_model(tmp_out)
    # the data folder and labels file are paths of this machine; the provenance says
    # what they held
    metadata["training"]["data"] = "see provenance"
    metadata["training"]["labels"] = "see provenance"
    if test_labels is not None and test_labels.is_file():
        from scatter.detect.evaluation import evaluate

        report = evaluate(data, labels=test_labels, model=tmp_out, quiet=args.quiet)
        metadata["metrics"]["test"] = {k: report[k] for k in (
            "auc", "average_precision", "accuracy", "tpr", "fpr", "n", "positives",
            "errors")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_model(args.out, params, metadata)
    print(json.dumps({"out": str(args.out), "val_auc": result["best"]["val_auc"],
                      "best_epoch": result["best"]["epoch"],
                      "epochs_run": len(result["history"]),
                      "test": metadata["metrics"].get("test"),
                      "threshold": result["threshold"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
