"""Shared helpers of the detection tests: a corpus on which learning is certain."""

import csv
import os

import numpy as np
import pytest
import soundfile as sf

from scatter.detect.synth import make_clip


def write_separable_corpus(folder, *, n_train, n_val, seconds, sr=16000, seed=0):
    """A labelled corpus (``labels.csv``: ``path,label,split,sources``) whose two classes a
    tiny classifier separates: every even clip holds synthetic calls 20 dB above a white
    background at -30 dBFS, every odd clip the background alone. The first ``n_train`` clips
    are the training split, the next ``n_val`` the validation split (half of each are birds
    for even counts). Seeded: the same arguments write the same files."""
    folder = os.fspath(folder)
    os.makedirs(os.path.join(folder, "clips"), exist_ok=True)
    rows = []
    for i in range(n_train + n_val):
        bird = i % 2 == 0
        y = make_clip(np.random.default_rng([seed, i]), sr=sr, seconds=seconds, bird=bird,
                      snr_db=20.0, background_kind="white", level_db=-30.0)
        rel = os.path.join("clips", f"clip_{i:03d}.wav")
        sf.write(os.path.join(folder, rel), y, sr, subtype="FLOAT")
        rows.append({"path": rel, "label": int(bird),
                     "split": "train" if i < n_train else "val",
                     "sources": f"separable:{seed}:{i}"})
    labels = os.path.join(folder, "labels.csv")
    with open(labels, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["path", "label", "split", "sources"],
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return labels


@pytest.fixture(scope="session")
def separable_corpus():
    """``separable_corpus(folder, n_train=..., n_val=..., seconds=..., seed=...)`` writes a
    corpus on which learning is certain (:func:`write_separable_corpus`)."""
    return write_separable_corpus


def chance_auc_bound(n_pos, n_neg, p=0.01):
    """The smallest AUC that a scorer without information (its ranking of the clips uniform
    over all orderings) reaches or exceeds with probability at most ``p``: from the exact
    null distribution of the Mann-Whitney U (the count of orderings with each U, by the
    recurrence c(m, n, u) = c(m - 1, n, u - n) + c(m, n - 1, u))."""
    counts = {(0, 0): [1]}
    for m in range(n_pos + 1):
        for n in range(n_neg + 1):
            if m == n == 0:
                continue
            c = [0] * (m * n + 1)
            if m:  # the largest score belongs to a positive: it outranks all n negatives
                for u, k in enumerate(counts[m - 1, n]):
                    c[u + n] += k
            if n:
                for u, k in enumerate(counts[m, n - 1]):
                    c[u] += k
            counts[m, n] = c
    dist = counts[n_pos, n_neg]
    total, tail = sum(dist), 0
    for u in range(len(dist) - 1, -1, -1):
        if (tail + dist[u]) / total > p:
            break
        tail += dist[u]
    if u == len(dist) - 1:
        raise ValueError(f"with {n_pos} and {n_neg} clips even a perfect ranking happens by "
                         f"chance with probability above {p}: use more clips")
    return (u + 1) / (n_pos * n_neg)


@pytest.fixture(scope="session")
def learnt_auc():
    """``learnt_auc(n_pos, n_neg)``: the validation AUC a test requires to call a model
    learnt, :func:`chance_auc_bound` at p = 1 % (33/36 for 6 + 6 clips, 55/64 for
    8 + 8)."""
    return chance_auc_bound
