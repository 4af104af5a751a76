"""Learnable filters: fine-tune the first-order wavelets jointly with the classifier.

The detector's features (:mod:`scatter.detect.features`) start from a scattering transform whose
first-order filters are Morlet wavelets of designed centre frequencies ``xi1`` and widths
``sigma1`` (:class:`scatter.Scattering1D`). Here those parameters are learned with the
classifier, end to end through the scattering, the thresholding mask and the spline network
(filter banks learned this way: Balestriero, Cosentino, Glotin & Baraniuk 2018, "Spline filters
for end-to-end deep learning", ICML; Zeghidour et al. 2021, "LEAF: a learnable frontend for
audio classification", ICLR, with Gabor filters as here).

Each wavelet's parameters move within a bounded factor of their starting values,

``xi1 = xi1_0 * exp(b * tanh(u))``, ``sigma1 = sigma1_0 * exp(b * tanh(v))``,

with ``b = max_change`` (0.25: at most about -22 % / +28 %) and ``u, v`` starting at 0, so the
filters stay within the frequency windows the scattering's plan fixed for them (the weights
are rebuilt on those windows, :meth:`FeatureExtractor.filter_weights`). Only the first-order
wavelets are learned; the second-order ones and the low-pass stay designed.

One training step is one :func:`symbolic.function`: the features of the batch's raw windows
(the scattering, a JAX function of ``u, v`` brought into the graph with :func:`symbolic.wrap`)
feed the ``layers`` classifier (:mod:`scatter.detect.network`) and the trainer's loss
(:func:`scatter.detect.network.bag_loss`: class-balanced, multiple-instance pooling over a
clip's windows, input dropout); one backward pass gives the gradients of both groups. The
classifier is updated as :func:`scatter.detect.training.fit` updates it
(:func:`scatter.detect.network.classifier_updates`, AdamW), ``u, v`` with their own learning
rate (:func:`layers.adam`); the standardisation statistics are not trainable and never move.

Learned parameters change the weights, not the compute: the fine-tuned model's features cost
the same per window. They are stored in the model's feature settings (``xi1``, ``sigma1`` of
:class:`~scatter.detect.features.FeatureConfig`), so :func:`scatter.detect.load_model` and
``scatter detect`` use them.

Each step runs the scattering forward and backward on the batch's raw windows (about 4x the
feature extraction of the same windows), so this is a fine-tuning stage from a trained
classifier rather than a training from scratch.

On the development corpus's validation split, learning the filters with the classifier beat
fine-tuning the classifier alone at equal steps, but not the trained classifier across seeds
(``docs/experiments.md`` gives the figures and the command), so the shipped model keeps the
designed filters.
"""

from __future__ import annotations

import dataclasses
import math

import jax.numpy as jnp
import numpy as np

import layers as LL
import symbolic as S
from scatter.detect import model as M
from scatter.detect.batching import in_batches
from scatter.detect.features import FeatureConfig, FeatureExtractor
from scatter.detect.metrics import roc_auc
from scatter.detect.network import (
    bag_loss,
    classifier_network,
    classifier_updates,
    model_params,
    model_variables,
    window_network,
)
from scatter.errors import ScatterError, check_int

__all__ = ["FinetuneConfig", "bounded_filters", "finetune"]


@dataclasses.dataclass(frozen=True)
class FinetuneConfig:
    """Settings of :func:`finetune` (stored in the model's sidecar).

    Parameters
    ----------
    epochs : int
        Passes over the training clips (each draws one copy of every clip).
    batch_size : int
        Clips per step.
    learning_rate, weight_decay : float
        AdamW settings of the classifier.
    filter_learning_rate : float
        Adam learning rate of the filters' unbounded parameters ``u, v`` (module docstring);
        0 keeps the filters fixed (the control: the classifier fine-tuned alone on the same
        steps).
    max_change : float
        Bound ``b`` of ``|log(xi1 / xi1_0)|`` and ``|log(sigma1 / sigma1_0)|``, in ``(0, 1]``.
    dropout : float
        Share of standardised input features zeroed in each step, ``[0, 1)``.
    seed : int
        Seeds the order of the clips, the copies drawn and the dropout.
    """

    epochs: int = 2
    batch_size: int = 16
    learning_rate: float = 3e-4
    weight_decay: float = 1e-2
    filter_learning_rate: float = 1e-2
    max_change: float = 0.25
    dropout: float = 0.3
    seed: int = 0

    def __post_init__(self):
        for name in ("epochs", "batch_size"):
            check_int(getattr(self, name), name)
        for name in ("learning_rate", "weight_decay", "filter_learning_rate"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (
                    math.isfinite(v) and v >= 0):
                raise ScatterError(f"{name} must be a finite number >= 0; got {v!r}")
        if isinstance(self.max_change, bool) or not isinstance(self.max_change, (int, float)) \
                or not 0 < self.max_change <= 1:
            raise ScatterError(f"max_change must be a number in (0, 1]; got "
                               f"{self.max_change!r}")
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, (int, float)) \
                or not 0 <= self.dropout < 1:
            raise ScatterError(f"dropout must be in [0, 1); got {self.dropout!r}")


def bounded_filters(start, raw, max_change):
    """Filter parameters from their unbounded parameters (module docstring).

    Parameters
    ----------
    start : dict of array_like [shape=(n_wavelets1,)]
        ``xi1``, ``sigma1`` at the start.
    raw : dict of jax.Array [shape=(n_wavelets1,)]
        ``xi1``, ``sigma1`` entries: the unbounded ``u``, ``v`` (0: the start).
    max_change : float

    Returns
    -------
    dict of jax.Array [shape=(n_wavelets1,)]
        ``start * exp(max_change * tanh(raw))`` per entry.

    Examples
    --------
    >>> out = bounded_filters({"xi1": [0.1]}, {"xi1": jnp.array([50.0])}, 0.25)
    >>> round(float(out["xi1"][0]), 4)  # at most exp(0.25) times the start
    0.1284
    """
    return {k: jnp.asarray(start[k], jnp.float32) * jnp.exp(max_change * jnp.tanh(raw[k]))
            for k in raw}


def _check_windows(name, wb, window):
    w = getattr(wb, "windows", None)
    if w is None or w.ndim != 4 or w.shape[-1] != window:
        raise ScatterError(f"{name} must be WindowBags (scatter.detect.bags.extract_windows) "
                           f"with windows of {window} samples; got "
                           f"{None if w is None else w.shape}")
    if len(set(np.asarray(wb.labels).tolist())) < 2:
        raise ScatterError(f"the {name} clips hold one label only; need both birds and no "
                           f"birds")


def finetune(params, features, train, val, *, config=None, quiet=True):
    """Fine-tune the first-order filters and the classifier of a trained detector.

    Parameters
    ----------
    params : dict of array_like
        The trained classifier (:mod:`scatter.detect.model`); its ``mean`` and ``std`` stay.
    features : FeatureConfig
        Its feature settings; learned ``xi1``, ``sigma1`` there are the starting point.
    train, val : scatter.detect.bags.WindowBags
        Raw windows (:func:`scatter.detect.bags.extract_windows`): training clips with their
        augmented copies; validation clips (copy 0 is scored).
    config : FinetuneConfig or None
    quiet : bool
        No progress bar.

    Returns
    -------
    dict
        ``params`` and ``features`` (a :class:`FeatureConfig` holding the learned ``xi1``,
        ``sigma1``; ``features`` itself when ``filter_learning_rate`` is 0 or the start is
        best) of the best
        validation epoch, epoch 0 (the start) included;
        ``history``: one dict per epoch (``epoch``, ``loss``, ``val_auc``,
        ``max_change_xi1``, ``max_change_sigma1``: largest relative change of a wavelet's
        parameter), epoch 0 first; ``best_epoch``; ``threshold`` (maximising balanced
        accuracy on validation) and ``val_balanced_accuracy``.

    Raises
    ------
    ScatterError
        For settings that are not a :class:`FeatureConfig` / :class:`FinetuneConfig`,
        windows of the wrong length, a set with one label only, or parameters that do not
        fit the features.
    """
    from tqdm import tqdm

    from layers.datasets import epoch_batches
    from scatter.detect.metrics import balanced_threshold

    config = FinetuneConfig() if config is None else config
    if not isinstance(config, FinetuneConfig):
        raise ScatterError(f"config must be a FinetuneConfig; got {type(config).__name__}")
    if not isinstance(features, FeatureConfig):
        raise ScatterError(f"features must be a FeatureConfig; got "
                           f"{type(features).__name__}")
    for name, wb in (("train", train), ("val", val)):
        _check_windows(name, wb, features.window)
    fx = FeatureExtractor(features)
    params = {k: np.asarray(v, np.float32) for k, v in params.items()}
    M.check_params(params, n_features=fx.n_features)
    start = fx.filter_params()
    n_pos = int(np.sum(train.labels))
    pos_weight = (len(train.labels) - n_pos) / max(n_pos, 1)
    n, W, L = train.windows.shape[0], train.windows.shape[2], features.window
    B = min(config.batch_size, n)
    learn = config.filter_learning_rate > 0

    def feats_of(xi1, sigma1, x):
        """Features of windows ``(..., L)`` -> ``(..., n_features, n_frames)`` from the
        filters' unbounded parameters."""
        filt = bounded_filters(start, {"xi1": xi1, "sigma1": sigma1}, config.max_change)
        f = fx.apply(fx.filter_weights(filt["xi1"], filt["sigma1"]), x.reshape(-1, L))
        return f.reshape(x.shape[:-1] + f.shape[1:])

    with S.Graph(name="detector-finetune"):
        net = classifier_network(params, n_frames=fx.n_frames, dropout=config.dropout,
                                 seed=config.seed)
        pooled = window_network(net, params)
        raw = [S.Variable(np.zeros_like(np.asarray(start[k], np.float32)),
                          name=f"filters/{k}_raw", trainable=learn) for k in ("xi1", "sigma1")]
        windows = S.placeholder((B, W, L), name="windows")
        valid = S.placeholder((B, W), "bool", name="valid")
        labels = S.placeholder((B,), name="labels")
        weights = S.placeholder((B,), name="weights")
        feats = S.wrap(feats_of, name="features")(*raw, windows)
        loss = bag_loss(pooled, feats, valid, labels, weights, pos_weight=pos_weight)
        clf = LL.get_params(pooled, trainable=True)
        if learn:  # one backward pass, through the scattering, for both groups
            grads = S.grad(loss, clf + raw)
            updates = classifier_updates(pooled, grads[:len(clf)],
                                         learning_rate=config.learning_rate,
                                         weight_decay=config.weight_decay)
            updates.update(LL.adam(grads[len(clf):], raw,
                                   learning_rate=config.filter_learning_rate))
        else:
            updates = classifier_updates(pooled, loss, learning_rate=config.learning_rate,
                                         weight_decay=config.weight_decay)
        step = S.function([windows, valid, labels, weights], loss, updates=updates,
                          name="finetune-step")
        x = S.placeholder((32, L), name="val_windows")
        logits = LL.get_output(pooled, S.wrap(feats_of, name="features")(*raw, x),
                               deterministic=True)
        probs = S.function([x], S.nn.sigmoid(logits))

    def raw_values():
        return {k: v.value for k, v in zip(("xi1", "sigma1"), raw)}

    def val_scores():
        x = val.windows[:, 0].reshape(-1, L)
        s = in_batches(x, 32, probs).reshape(val.valid.shape)
        return np.where(val.valid, s, -np.inf).max(axis=1)

    def changes(raw):
        filt = bounded_filters(start, raw, config.max_change)
        return {f"max_change_{k}": float(np.max(np.abs(np.asarray(filt[k]) / start[k] - 1)))
                for k in filt}

    auc0 = roc_auc(val.labels, val_scores())
    history = [{"epoch": 0, "loss": None, "val_auc": auc0} | changes(raw_values())]
    best = (auc0, 0, model_params(pooled), raw_values())
    n_copies = train.windows.shape[1]
    steps = -(-n // B)
    bar = tqdm(total=config.epochs * steps, desc="fine-tune", unit="step", disable=quiet)
    try:
        for epoch in range(config.epochs):
            losses = []
            for idx, copy, w, _ in epoch_batches(n, batch_size=B, n_copies=n_copies,
                                                 seed=config.seed, epoch=epoch):
                losses.append(float(step(train.windows[idx, copy], train.valid[idx],
                                         train.labels[idx].astype(np.float32), w)))
                bar.update(1)
            auc = roc_auc(val.labels, val_scores())
            history.append({"epoch": epoch + 1, "loss": float(np.mean(losses)),
                            "val_auc": auc} | changes(raw_values()))
            bar.set_postfix(loss=f"{np.mean(losses):.4f}", val_auc=f"{auc:.4f}")
            if auc > best[0]:
                best = (auc, epoch + 1, model_params(pooled), raw_values())
    finally:
        bar.close()
    _, best_epoch, p, best_raw = best
    filt = bounded_filters(start, best_raw, config.max_change)
    tuned = features if not learn or best_epoch == 0 else dataclasses.replace(
        features, xi1=np.asarray(filt["xi1"]), sigma1=np.asarray(filt["sigma1"]))
    for k, var in model_variables(pooled).items():  # the best epoch's scores
        var.assign(np.reshape(p[k], var.shape))
    for var, k in zip(raw, ("xi1", "sigma1")):
        var.assign(best_raw[k])
    threshold, bal_acc = balanced_threshold(val.labels, val_scores())
    return {"params": p, "features": tuned,
            "history": history, "best_epoch": best_epoch, "threshold": threshold,
            "val_balanced_accuracy": bal_acc}
