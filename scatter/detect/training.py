"""``scatter train``: fit the detector's classifier to labelled clips, reproducibly.

Steps (:func:`train`):

1. read the labels CSV (:mod:`scatter.detect.data`) and split it, holding out whole source
   recordings for validation;
2. featurise every clip once: the clean clip plus ``copies`` augmented versions of each
   training clip (gain, time shift, mixing in bird-free training clips or synthetic noise,
   speed change, band-limiting, reverberation; :mod:`scatter.detect.augment`; optionally
   first a pitch shift and time stretch, ``pitch_shift`` and ``time_stretch``), as bags of
   windows (:mod:`scatter.detect.bags`); the features are cached beside the output so
   ``resume`` does not recompute them;
3. train the spline network, built from ``layers`` layers (:mod:`scatter.detect.network`),
   with AdamW on the class-balanced binary cross-entropy of the clip logit
   (multiple-instance pooling over all frames of the clip's windows,
   :func:`scatter.detect.network.bag_loss`); each epoch draws one copy of every training
   clip;
4. after each epoch, the validation AUC of the clip scores as ``scatter detect`` computes them
   (highest window probability, clean clips), a progress bar showing loss and AUC, and a
   checkpoint written atomically: ``OUT.ckpt.npz`` (:func:`symbolic.save`: every Variable of
   the trainer, i.e. the parameters, the optimizer's state, the dropout's random key, the
   best epoch's parameters and the epoch) and ``OUT.ckpt.json`` (the history);
5. early stopping when the AUC has not improved for ``patience`` epochs; the best epoch's
   parameters are saved with :func:`scatter.detect.io.save_model`, the decision threshold set
   to the one that maximises balanced accuracy on validation;
6. with ``filter_epochs > 0``, learnable filters: the first-order wavelets are fine-tuned
   jointly with the classifier, end to end through the scattering
   (:mod:`scatter.detect.finetune`), and saved in the model's feature settings.

A training step is one :func:`symbolic.function`: the loss of a batch, its gradients, and the
``layers`` optimizer's update of the trainable Variables and of its own state
(:func:`scatter.detect.network.classifier_updates`: ``optax.adamw`` after clipping the
gradients' global norm to 1), compiled once. The standardisation statistics are not
trainable Variables, so they never move. The trained Variables are written back as the
model's flat parameter dict (:func:`scatter.detect.network.model_params`,
:mod:`scatter.detect.model`). Every random draw (initialisation, batches, copies, dropout)
comes from ``seed``, so a run is reproducible on one machine, and an interrupted run resumed
with ``resume=True`` ends with the same parameters as an uninterrupted one.

Example
-------
>>> summary = train("corpus", labels="corpus/labels.csv", out="model.npz")  # doctest: +SKIP
>>> summary["best"]["val_auc"]                                              # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import os

import jax
import numpy as np

import layers as L
import symbolic as S
from layers.datasets import epoch_batches
from scatter.detect import model as M
from scatter.detect.augment import check_warp
from scatter.detect.bags import bags_fingerprint, extract_bags, load_bags, save_bags
from scatter.detect.batching import in_batches
from scatter.detect.data import read_labels, split_records
from scatter.detect.features import FeatureConfig, FeatureExtractor
from scatter.detect.io import default_model_path, read_metadata, save_model
from scatter.detect.metrics import balanced_threshold, roc_auc
from scatter.detect.network import (
    bag_loss,
    classifier_network,
    classifier_updates,
    model_params,
    model_variables,
    window_network,
)
from scatter.errors import ScatterError, check_int
from scatter.framing import LAST_POLICIES
from scatter.outputs import atomic_open

__all__ = ["TrainConfig", "background_noises", "default_settings", "fit", "train"]


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Training settings (stored in the model's sidecar).

    Parameters
    ----------
    epochs : int
        Maximum number of epochs.
    batch_size : int
        Clips per step.
    learning_rate, weight_decay : float
        AdamW settings.
    patience : int
        Epochs without a better validation AUC before stopping.
    seed : int
        Seeds the split, the augmentations, the initialisation and the shuffles.
    val_fraction : float
        Share of source recordings held out when the labels CSV has no ``val`` split.
    copies : int
        Augmented copies of each training clip.
    hidden : tuple of int
        Units of the max-affine layers.
    pieces : int
        Affine pieces per unit.
    max_windows : int
        Windows used per clip.
    dropout : float
        Share of standardised input features zeroed at random in each training step
        (``0 <= dropout < 1``; the rest are scaled by ``1 / (1 - dropout)``; a
        :class:`layers.Dropout` seeded by ``seed``).
    context : tuple of int
        Frame offsets the first layer sees side by side (:mod:`scatter.detect.model`); empty:
        each frame alone.
    filter_epochs : int
        Epochs of end-to-end fine-tuning after the classifier's training: the first-order
        filters learned jointly with the classifier (:mod:`scatter.detect.finetune`, the
        classifier at its default learning rate, ``batch_size``, ``weight_decay``,
        ``dropout`` and ``seed`` from here); 0 (the default): the designed filters.
    filter_learning_rate : float
        Learning rate of the filters' bounded parameters while fine-tuning.
    last_window : {"end", "pad"}
        How a clip's final window is filled (:mod:`scatter.framing`): ``"end"`` (default), as
        the detector frames files at inference, or ``"pad"`` (zero-padded), how the shipped
        model was trained.
    pitch_shift : float
        Largest pitch shift of an augmented copy, in semitones (``[0, 12)``): each copy is
        shifted by an amount drawn uniformly in ``[-pitch_shift, pitch_shift]``
        (:func:`scatter.detect.augment.warp`), birds and bird-free clips alike; 0 (the
        default): off.
    time_stretch : float
        Largest relative tempo change of an augmented copy (``[0, 1)``): a factor drawn
        log-uniformly in ``[1 / (1 + time_stretch), 1 + time_stretch]``, the pitch kept;
        0 (the default): off.
    """

    epochs: int = 40
    batch_size: int = 16
    learning_rate: float = 3e-3
    weight_decay: float = 1e-3
    patience: int = 8
    seed: int = 0
    val_fraction: float = 0.2
    copies: int = 2
    hidden: tuple = (48, 24)
    pieces: int = 3
    max_windows: int = 8
    dropout: float = 0.0
    context: tuple = ()
    filter_epochs: int = 0
    filter_learning_rate: float = 1e-2
    last_window: str = "end"
    pitch_shift: float = 0.0
    time_stretch: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "hidden", tuple(self.hidden))
        object.__setattr__(self, "context", tuple(int(c) for c in self.context))
        if len(set(self.context)) != len(self.context):
            raise ScatterError(f"context must be distinct frame offsets; got {self.context!r}")
        for name in ("epochs", "batch_size", "patience", "pieces", "max_windows"):
            check_int(getattr(self, name), name)
        for name in ("copies", "filter_epochs"):
            check_int(getattr(self, name), name, 0)
        for name in ("learning_rate", "weight_decay", "filter_learning_rate"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v >= 0):
                raise ScatterError(f"{name} must be a finite number >= 0; got {v!r}")
        if not (isinstance(self.dropout, (int, float)) and 0 <= self.dropout < 1):
            raise ScatterError(f"dropout must be in [0, 1); got {self.dropout!r}")
        if not 0 < self.val_fraction < 1:
            raise ScatterError(f"val_fraction must be in (0, 1); got {self.val_fraction!r}")
        if self.last_window not in LAST_POLICIES:
            raise ScatterError(f"last_window must be one of {LAST_POLICIES}; got "
                               f"{self.last_window!r}")
        check_warp(self.pitch_shift, self.time_stretch, names=("pitch_shift", "time_stretch"))

    def to_dict(self):
        """The settings as a model's sidecar records them (``training.config``).

        Tuples become lists. ``pitch_shift`` and ``time_stretch`` are left out while both are
        0 (off), so that a model trained without them records the same settings as one
        trained before they existed; :meth:`from_dict` reads their absence as off.

        Returns
        -------
        dict

        Examples
        --------
        >>> "pitch_shift" in TrainConfig().to_dict()
        False
        >>> TrainConfig(pitch_shift=1.0).to_dict()["pitch_shift"]
        1.0
        """
        d = dataclasses.asdict(self) | {"hidden": list(self.hidden),
                                         "context": list(self.context)}
        if not (self.pitch_shift or self.time_stretch):
            del d["pitch_shift"], d["time_stretch"]
        return d

    @classmethod
    def from_dict(cls, recorded):
        """The settings a model's sidecar records (``metadata["training"]["config"]``).

        Unknown keys are ignored; a sidecar written before ``last_window`` existed records a
        model trained on zero-padded final windows, so that key defaults to ``"pad"`` here.

        Parameters
        ----------
        recorded : dict

        Returns
        -------
        TrainConfig
        """
        names = {f.name for f in dataclasses.fields(cls)}
        given = {k: tuple(v) if isinstance(v, list) else v
                 for k, v in recorded.items() if k in names}
        given.setdefault("last_window", "pad")
        return cls(**given)


def default_settings():
    """The feature and training settings of the shipped default model, read from its sidecar:
    what :func:`train` and ``scatter train`` use unless told otherwise, so that a model
    trained with the defaults sees the same features as the default model.

    Two settings may differ from a shipped model's: its learned filters, if it has any
    (training starts from the designed wavelets, ``xi1 = sigma1 = ()``), and, for a model
    trained before the setting existed, zero-padded final windows (new models are trained on
    windows framed as the detector frames files, ``last_window="end"``, as the current
    shipped model was).

    Returns
    -------
    features : FeatureConfig
    config : TrainConfig

    Examples
    --------
    >>> features, config = default_settings()
    >>> features.J, config.hidden                             # doctest: +SKIP
    (8, (64, 32))
    """
    meta = read_metadata(default_model_path())
    features = dataclasses.replace(FeatureConfig.from_dict(meta["features"]), xi1=(), sigma1=())
    config = TrainConfig.from_dict(meta.get("training", {}).get("config", {}))
    return features, dataclasses.replace(config, last_window="end")


def _stats(bags):
    """Per-channel mean and standard deviation over the clean frames of real windows."""
    f = bags.feats[:, 0][bags.valid]  # (n_windows, C, T)
    f = np.swapaxes(f, 1, 2).reshape(-1, f.shape[1]).astype(np.float64)
    return f.mean(axis=0), np.maximum(f.std(axis=0), 1e-3)


def _window_scores(probs, bags, batch=64):
    """Clip scores as ``scatter detect`` makes them: the highest window probability of a
    clip's real windows (``probs`` maps windows' features to probabilities)."""
    W = bags.feats.shape[2]
    windows = bags.feats[:, 0].reshape((-1,) + bags.feats.shape[3:]).astype(np.float32)
    p = in_batches(windows, batch * W, probs).reshape(bags.valid.shape)
    return np.where(bags.valid, p, -np.inf).max(axis=1)


def _augmentations(config):
    """Names of the augmentations of ``config``'s copies, as the sidecar lists them."""
    if not config.copies:
        return []
    warp = [n for n in ("pitch_shift", "time_stretch") if getattr(config, n)]
    return warp + ["speed_change", "time_shift", "mix_background", "band_filter", "reverb",
                   "random_gain"]


def _ckpt_path(out):
    return os.path.splitext(out)[0] + ".ckpt.npz"


def _cache_path(out):
    return os.path.splitext(out)[0] + ".features.npz"


def _save_checkpoint(path, variables, meta):
    """The Variables' values (``path``, :func:`symbolic.save`), then ``meta`` (the JSON
    sidecar beside it); both written atomically, the epoch in both."""
    S.save(path, variables)
    with atomic_open(os.path.splitext(path)[0] + ".json") as fh:
        json.dump(meta, fh)


def _load_checkpoint(path, variables, epoch):
    """Set ``variables`` from :func:`_save_checkpoint`'s files; return the sidecar.

    Raises
    ------
    ScatterError
        For a checkpoint without its sidecar (an older trainer's), of other Variables, or
        whose two files are of different epochs (a run stopped between the two writes).
    """
    side = os.path.splitext(path)[0] + ".json"
    if not os.path.isfile(side):
        raise ScatterError(f"checkpoint {path!r} has no sidecar {side!r} (written by an older "
                           f"trainer?); delete the checkpoint to start afresh")
    with open(side, encoding="utf-8") as fh:
        meta = json.load(fh)
    try:
        S.load(path, variables)
    except S.SymbolicError as err:
        raise ScatterError(f"checkpoint {path!r} does not fit this run ({err}); delete it to "
                           f"start afresh") from None
    if int(np.asarray(epoch.value)) != meta["epoch"]:
        raise ScatterError(f"checkpoint {path!r} (epoch {int(np.asarray(epoch.value))}) and "
                           f"its sidecar (epoch {meta['epoch']}) disagree; delete both to "
                           f"start afresh")
    return meta


def background_noises(records, *, sr, limit=64):
    """Bird-free clips to mix into augmented copies: the first ``limit`` decodable,
    non-silent clips labelled 0 of ``records``, at ``sr``.

    Parameters
    ----------
    records : sequence of scatter.detect.data.Record
        Training records (never validation ones).
    sr : int
    limit : int

    Returns
    -------
    list of numpy.ndarray [shape=(n,), dtype=float32]

    Examples
    --------
    >>> noises = background_noises(train_records, sr=22050)   # doctest: +SKIP
    """
    from scatter.audio import load

    noises = []
    for r in [r for r in records if r.label == 0][:limit]:
        try:
            y, _ = load(r.path, sr=sr)
        except ScatterError:
            continue
        if y.size and np.isfinite(y).all() and np.any(y):
            noises.append(y)
    return noises


def fit(train_bags, val_bags, *, n_features, config=None, checkpoint=None, resume=False,
        quiet=True, weights=None):
    """Train the spline network on bags of window features; keep the best validation epoch.

    The core of :func:`train` (module docstring, steps 3-5), usable on features computed in
    other ways (ablations, other corpora).

    Parameters
    ----------
    train_bags, val_bags : Bags
        ``feats`` of shape ``(n_clips, n_copies, max_windows, n_features, n_frames)``; each
        epoch draws one copy of every training clip; validation uses copy 0.
    n_features : int
        Channels per feature frame.
    config : TrainConfig or None
    checkpoint : str or None
        Checkpoint written after every epoch (``.npz``, the JSON sidecar beside it with the
        same stem; module docstring, step 4); None: none.
    resume : bool
        Continue from ``checkpoint`` when it exists.
    quiet : bool
        No progress bar.
    weights : array_like [shape=(n_train_clips,)] or None
        Weight of each training clip in the loss (on top of the class balance), e.g. more
        for hard negatives; None: all 1.

    Returns
    -------
    dict
        ``params`` (the best epoch's), ``history``, ``threshold`` (maximising balanced accuracy
        on validation), ``val_balanced_accuracy``, ``stopped_early``.

    Raises
    ------
    ScatterError
        If either set holds one label only, ``weights`` is not one finite non-negative
        number per training clip, or ``resume`` finds a checkpoint it cannot continue
        (without its sidecar, of another network, or its two files of different epochs).

    Examples
    --------
    >>> result = fit(bags["train"], bags["val"], n_features=480)   # doctest: +SKIP
    >>> result["history"][-1]["val_auc"]                            # doctest: +SKIP
    """
    from tqdm import tqdm

    config = TrainConfig() if config is None else config
    tb, vb = train_bags, val_bags
    for name, b in (("training", tb), ("validation", vb)):
        if len(set(np.asarray(b.labels).tolist())) < 2:
            raise ScatterError(f"the decodable {name} clips hold one label only; "
                               f"need both birds and no birds")
    n = len(tb.labels)
    clip_w = np.ones(n, np.float32) if weights is None else np.asarray(weights, np.float32)
    if clip_w.shape != (n,) or not np.all(np.isfinite(clip_w)) or np.any(clip_w < 0):
        raise ScatterError(f"weights must be one finite number >= 0 per training clip, shape "
                           f"({n},); got shape {np.shape(weights)}")
    mean, std = _stats(tb)
    params = M.init_params(jax.random.PRNGKey(config.seed), n_features=n_features,
                           hidden=config.hidden, pieces=config.pieces, mean=mean, std=std,
                           context=config.context or None)
    n_pos = int(tb.labels.sum())
    pos_weight = (len(tb.labels) - n_pos) / max(n_pos, 1)
    B = min(config.batch_size, n)
    n_windows, n_frames = tb.feats.shape[2], tb.feats.shape[4]

    with S.Graph(name="detector-trainer"):
        net = classifier_network(params, n_frames=n_frames, dropout=config.dropout,
                                 seed=config.seed)
        pooled = window_network(net, params)
        # every batch has B rows (epoch_batches pads the last one with rows of weight 0)
        feats = S.placeholder((B, n_windows, n_features, n_frames), name="feats")
        valid = S.placeholder((B, n_windows), "bool", name="valid")
        labels = S.placeholder((B,), name="labels")
        clip_weights = S.placeholder((B,), name="weights")
        loss = bag_loss(pooled, feats, valid, labels, clip_weights, pos_weight=pos_weight)
        updates = classifier_updates(pooled, loss, learning_rate=config.learning_rate,
                                     weight_decay=config.weight_decay)
        step = S.function([feats, valid, labels, clip_weights], loss, updates=updates,
                          name="detector-train-step")
        windows = S.placeholder((None, n_features, n_frames), name="windows")
        probs = S.function([windows], S.nn.sigmoid(L.get_output(pooled, windows,
                                                                deterministic=True)))
        # the best epoch's parameters, and the epoch, are checkpointed with the rest
        best = {k: S.Variable(v, name=f"best/{k}", trainable=False)
                for k, v in model_params(pooled).items()}
        epoch_done = S.Variable(np.int32(0), name="trainer/epoch", trainable=False)
        # parameters, optimizer state, the dropout's random key, best parameters, epoch
        state = list(model_variables(pooled).values()) + S.get_variables()

    history, epoch0, stale = [], 0, 0
    ckpt = checkpoint
    if resume and ckpt is not None and os.path.isfile(ckpt):
        meta = _load_checkpoint(ckpt, state, epoch_done)
        history, epoch0, stale = meta["history"], meta["epoch"], meta["stale"]
    best_auc = max((h["val_auc"] for h in history), default=-1.0)
    n_copies = tb.feats.shape[1]
    stopped_early = stale >= config.patience
    bar = tqdm(total=config.epochs, initial=epoch0, desc="train", unit="epoch", disable=quiet)
    try:
        for epoch in range(epoch0, config.epochs):
            if stale >= config.patience:
                stopped_early = True
                break
            losses = []
            for idx, copy, w, _ in epoch_batches(n, batch_size=B, n_copies=n_copies,
                                                 seed=config.seed, epoch=epoch,
                                                 weights=clip_w):
                losses.append(step(tb.feats[idx, copy].astype(np.float32), tb.valid[idx],
                                   tb.labels[idx].astype(np.float32), w))
            losses = [float(v) for v in losses]
            auc = roc_auc(vb.labels, _window_scores(probs, vb))
            history.append({"epoch": epoch + 1, "loss": float(np.mean(losses)),
                            "val_auc": auc})
            if auc > best_auc:
                best_auc, stale = auc, 0
                for k, v in model_params(pooled).items():
                    best[k].assign(v)
            else:
                stale += 1
            epoch_done.assign(np.int32(epoch + 1))
            if ckpt is not None:
                _save_checkpoint(ckpt, state, {"epoch": epoch + 1, "stale": stale,
                                               "history": history})
            bar.set_postfix(loss=f"{np.mean(losses):.4f}", val_auc=f"{auc:.4f}",
                            best=f"{best_auc:.4f}")
            bar.update(1)
        else:
            stopped_early = False
    finally:
        bar.close()

    best = {k: v.value for k, v in best.items()}
    for k, var in model_variables(pooled).items():  # the best epoch's scores
        var.assign(np.reshape(best[k], var.shape))
    val_scores = _window_scores(probs, vb)
    threshold, bal_acc = balanced_threshold(vb.labels, val_scores)
    return {"params": best, "history": history, "threshold": threshold,
            "val_balanced_accuracy": bal_acc, "stopped_early": stopped_early}


def _finetune_filters(params, features, config, train_recs, val_recs, quiet):
    """Step 6 of :func:`train` (``config.filter_epochs``): the filters learned with the
    classifier on the raw windows of the same clips and augmented copies."""
    from scatter.detect.bags import extract_windows
    from scatter.detect.finetune import FinetuneConfig, finetune

    noises = background_noises(train_recs, sr=features.sr)
    tw = extract_windows(train_recs, features, copies=config.copies, seed=config.seed,
                         max_windows=config.max_windows, noises=noises, quiet=quiet,
                         desc="train windows", last=config.last_window,
                         pitch_shift=config.pitch_shift, time_stretch=config.time_stretch)
    vw = extract_windows(val_recs, features, copies=0, seed=config.seed,
                         max_windows=config.max_windows, quiet=quiet, desc="val windows",
                         last=config.last_window)
    ftcfg = FinetuneConfig(epochs=config.filter_epochs, batch_size=config.batch_size,
                           weight_decay=config.weight_decay, dropout=config.dropout,
                           filter_learning_rate=config.filter_learning_rate, seed=config.seed)
    res = finetune(params, features, tw, vw, config=ftcfg, quiet=quiet)
    return (res["features"], res["params"], res["threshold"], res["val_balanced_accuracy"],
            res)


def train(data, *, labels, out, features=None, config=None, resume=False, quiet=False,
          provenance=None, keep_cache=False, cache=None, clip_weight=None):
    """Train a detector on labelled clips and save it (module docstring).

    Parameters
    ----------
    data : str or os.PathLike
        Folder the CSV's relative paths are relative to.
    labels : str or os.PathLike
        Labels CSV (:func:`scatter.detect.data.read_labels`).
    out : str or os.PathLike
        Model file to write (``.npz``; the sidecar goes beside it).
    features : FeatureConfig or None
        Feature settings (None: the shipped model's, :func:`default_settings`).
    config : TrainConfig or None
        Training settings (None: the shipped model's, :func:`default_settings`).
    resume : bool
        Continue from ``OUT.ckpt.npz`` and ``OUT.ckpt.json`` (and reuse
        ``OUT.features.npz``) when present.
    quiet : bool
        No progress bars.
    provenance : dict or None
        Extra facts about the data, stored under ``training.provenance`` in the sidecar.
    keep_cache : bool
        Keep the feature cache after a successful run (it is deleted otherwise).
    cache : str or os.PathLike or None
        Feature cache file (default ``OUT.features.npz``). It is read when its fingerprint
        (clips, their sizes and times, feature settings, seed, copies, max_windows) matches,
        with ``resume=True`` or when ``keep_cache`` is set, so runs that differ only in the
        classifier's settings share it.
    clip_weight : callable or None
        ``clip_weight(record) -> float``: weight of a training clip
        (:class:`scatter.detect.data.Record`) in the loss, e.g. more for hard negatives
        (:func:`fit`'s ``weights``); None: all 1.

    Returns
    -------
    summary : dict
        ``out``, ``sidecar``, ``history`` (one dict per epoch: ``epoch``, ``loss``,
        ``val_auc``), ``best`` (the best epoch's dict), ``threshold``, ``n_train``, ``n_val``,
        ``skipped`` (clips that could not be decoded, with reasons), ``stopped_early``.

    Raises
    ------
    ScatterError
        For a missing ``data`` folder, an invalid labels CSV or split, an output path not
        ending in ``.npz`` or in a missing folder, or no decodable clip.
    """
    if features is None or config is None:
        shipped = default_settings()
        features = shipped[0] if features is None else features
        config = shipped[1] if config is None else config
    if not isinstance(features, FeatureConfig) or not isinstance(config, TrainConfig):
        raise ScatterError("features must be a FeatureConfig and config a TrainConfig")
    data = os.fsdecode(data)
    if not os.path.isdir(data):
        raise ScatterError(f"data folder {data!r} does not exist")
    out = os.fsdecode(out)
    if not out.lower().endswith(".npz"):
        raise ScatterError(f"out must end with .npz; got {out!r}")
    if not os.path.isdir(os.path.dirname(os.path.abspath(out))):
        raise ScatterError(f"out {out!r}: folder does not exist")
    records = read_labels(labels, root=data)
    train_recs, val_recs = split_records(records, val_fraction=config.val_fraction,
                                         seed=config.seed)
    extractor = FeatureExtractor(features)

    fingerprint = bags_fingerprint(train_recs + val_recs, features, config)
    cache = _cache_path(out) if cache is None else os.fsdecode(cache)
    bags = load_bags(cache, fingerprint) if (resume or keep_cache) else None
    if bags is None:
        noises = background_noises(train_recs, sr=features.sr)
        bags = {"train": extract_bags(train_recs, extractor, copies=config.copies,
                                      seed=config.seed, max_windows=config.max_windows,
                                      noises=noises, quiet=quiet, desc="train features",
                                      last=config.last_window,
                                      pitch_shift=config.pitch_shift,
                                      time_stretch=config.time_stretch),
                "val": extract_bags(val_recs, extractor, copies=0, seed=config.seed,
                                    max_windows=config.max_windows, quiet=quiet,
                                    desc="val features", last=config.last_window)}
        save_bags(cache, bags, fingerprint)
    tb, vb = bags["train"], bags["val"]

    weights = None
    if clip_weight is not None:
        by_path = {r.path: r for r in train_recs}
        weights = [float(clip_weight(by_path[p])) for p in tb.paths]
    fitted = fit(tb, vb, n_features=extractor.n_features, config=config,
                 checkpoint=_ckpt_path(out), resume=resume, quiet=quiet, weights=weights)
    best, history, threshold, bal_acc, stopped_early = (
        fitted["params"], fitted["history"], fitted["threshold"],
        fitted["val_balanced_accuracy"], fitted["stopped_early"])
    best_entry = max(history, key=lambda h: h["val_auc"])
    finetuned = None
    if config.filter_epochs:
        features, best, threshold, bal_acc, finetuned = _finetune_filters(
            best, features, config, train_recs, val_recs, quiet)
        best_entry = dict(best_entry, val_auc=finetuned["history"][finetuned["best_epoch"]]
                          ["val_auc"])
    metadata = {
        "features": features.to_dict(),
        "model": {"hidden": list(config.hidden), "pieces": config.pieces,
                  "context": list(config.context), "threshold": threshold,
                  "aggregate": "max"},
        "training": {
            "data": os.path.abspath(data), "labels": os.path.abspath(os.fsdecode(labels)),
            "config": config.to_dict(),
            "n_train": int(len(tb.labels)), "n_train_positive": int(tb.labels.sum()),
            "n_val": int(len(vb.labels)), "n_val_positive": int(vb.labels.sum()),
            "validation_split": ("labels CSV split column" if any(r.split == "val"
                                                                   for r in records)
                                 else "held-out source recordings (seeded)"),
            "skipped": len(tb.skipped) + len(vb.skipped),
            "augmentations": _augmentations(config),
            "trainer": "layers network, symbolic.function step (AdamW, optax)",
            "provenance": provenance or {},
        },
        "metrics": {"val_auc": best_entry["val_auc"], "best_epoch": best_entry["epoch"],
                    "val_balanced_accuracy": bal_acc, "epochs_run": len(history),
                    "stopped_early": stopped_early, "history": history},
    }
    if finetuned is not None:
        metadata["metrics"]["val_auc_before_finetune"] = max(h["val_auc"] for h in history)
        metadata["metrics"]["finetune"] = {"history": finetuned["history"],
                                           "best_epoch": finetuned["best_epoch"]}
        metadata["training"]["finetune"] = "first-order filters and classifier, end to end " \
                                           "(scatter.detect.finetune)"
    path, side = save_model(out, best, metadata)
    if not keep_cache and os.path.exists(cache):
        os.unlink(cache)
    return {"out": path, "sidecar": side, "history": history, "best": best_entry,
            "threshold": threshold, "n_train": int(len(tb.labels)),
            "n_val": int(len(vb.labels)), "skipped": tb.skipped + vb.skipped,
            "stopped_early": stopped_early}
