"""Fixed-shape batches for inference: rows zero-padded so that one compiled program serves any
count of rows."""

from __future__ import annotations

import numpy as np

__all__ = ["in_batches", "pad_rows"]


def pad_rows(x, rows):
    """``x`` with zero rows appended up to ``rows`` rows (``x`` itself when it has as many).

    Parameters
    ----------
    x : numpy.ndarray [shape=(n, ...)]
    rows : int
        At least ``n``.

    Returns
    -------
    numpy.ndarray [shape=(rows, ...)]
        Of ``x``'s dtype.

    Examples
    --------
    >>> pad_rows(np.ones((2, 3), np.float32), 4).sum(axis=1).tolist()
    [3.0, 3.0, 0.0, 0.0]
    """
    n = x.shape[0]
    if n == rows:
        return x
    return np.concatenate([x, np.zeros((rows - n,) + x.shape[1:], x.dtype)])


def in_batches(x, batch_size, fn):
    """``fn`` over the rows of ``x`` in batches of exactly ``batch_size`` rows (the last one
    zero-padded), the padding rows' results dropped.

    Parameters
    ----------
    x : numpy.ndarray [shape=(n, ...)]
    batch_size : int
    fn : callable
        Maps ``(batch_size, ...)`` to an array with one leading row per input row.

    Returns
    -------
    numpy.ndarray [shape=(n, ...)] or None
        The results concatenated on the host; None when ``x`` has no rows.

    Examples
    --------
    >>> in_batches(np.arange(5.0)[:, None], 2, lambda b: 2 * b).ravel().tolist()
    [0.0, 2.0, 4.0, 6.0, 8.0]
    """
    out = []
    for i in range(0, len(x), batch_size):
        chunk = x[i:i + batch_size]
        n = len(chunk)
        out.append(np.asarray(fn(pad_rows(chunk, batch_size)))[:n])
    return np.concatenate(out) if out else None
