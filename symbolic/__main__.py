"""``python -m symbolic``: a short demonstration of the symbolic layer.

Trains a two-layer network on a synthetic two-spiral problem, first one compiled step per call,
then many steps fused in one call with ``Function.scan``, and prints what it did.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import symbolic as S


def spirals(n, *, seed=0):
    """Two interleaved spirals in the plane, labels 0 and 1."""
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.uniform(0.05, 1, size=n)) * 3 * np.pi
    label = rng.integers(0, 2, size=n)
    sign = np.where(label == 0, 1.0, -1.0)
    x = np.stack([sign * t * np.cos(t), sign * t * np.sin(t)], axis=1) / 10
    x += rng.normal(scale=0.05, size=x.shape)
    return x.astype("float32"), label.astype("int32")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m symbolic", description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="training steps (default 2000)")
    parser.add_argument("--json", action="store_true", help="print one JSON line instead of text")
    args = parser.parse_args(argv)

    x_train, y_train = spirals(2048, seed=0)
    x_test, y_test = spirals(1024, seed=1)
    rng = np.random.default_rng(0)
    with S.Graph(seed=0):
        x = S.placeholder((None, 2), name="x")
        y = S.placeholder((None,), "int32", name="y")
        with S.scope("hidden"):
            w1 = S.Variable(rng.normal(size=(2, 64)).astype("float32"), name="W")
            b1 = S.Variable(np.zeros(64, "float32"), name="b")
        with S.scope("out"):
            w2 = S.Variable((rng.normal(size=(64, 2)) / 8).astype("float32"), name="W")
            b2 = S.Variable(np.zeros(2, "float32"), name="b")
        logits = S.nn.relu(x @ w1 + b1) @ w2 + b2
        loss = -(S.nn.log_softmax(logits, axis=1) * S.nn.one_hot(y, 2)).sum(1).mean()
        accuracy = S.equal(logits.argmax(1), y).mean()
        params = S.get_variables(trainable=True)
        grads = S.grad(loss, params)
        train = S.function([x, y], loss, updates={p: p - 0.5 * g for p, g in zip(params, grads)})
        evaluate = S.function([x, y], [loss, accuracy])

        batch = 128
        order = np.random.default_rng(1).integers(0, len(x_train), size=(args.steps, batch))
        first = float(train(x_train[order[0]], y_train[order[0]]))
        start = time.perf_counter()
        losses = train.scan(x_train[order[1:]], y_train[order[1:]])
        elapsed = time.perf_counter() - start
        test_loss, test_acc = (float(v) for v in evaluate(x_test, y_test))
    result = {
        "example": "two spirals, MLP 2-64-2, SGD",
        "steps": args.steps,
        "first_loss": round(first, 4),
        "last_loss": round(float(losses[-1]), 4),
        "test_loss": round(test_loss, 4),
        "test_accuracy": round(test_acc, 4),
        "scan_seconds": round(elapsed, 3),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"symbolic demo: {result['example']}")
        print(f"  one compiled step:            loss {result['first_loss']}")
        print(
            f"  {args.steps - 1} steps in one scan call:  loss {result['last_loss']} "
            f"({result['scan_seconds']} s, compilation included)"
        )
        print(f"  held-out accuracy:            {result['test_accuracy']:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
