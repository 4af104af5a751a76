"""Windows of any files packed into batches of one shape, scored one batch behind.

:class:`Batcher` copies windows into a preallocated ``(batch_size, window)`` buffer; when it is
full, the batch goes to the scorer. A JAX scorer returns before its result is computed, so the
batcher reads a batch's scores only after the *next* batch has been handed over: the device
computes while the host decodes and packs. Each batch remembers which windows of which files it
holds, and the scores go back to their files through ``on_scores``.

Example
-------
>>> import numpy as np
>>> got = []
>>> b = Batcher(lambda x: x.sum(axis=1), batch_size=2, window=3,
...             on_scores=lambda owner, first, s: got.append((owner, first, s.tolist())))
>>> b.add("a", 0, np.ones((3, 3), np.float32))
>>> b.flush()
>>> got
[('a', 0, [3.0, 3.0]), ('a', 2, [3.0])]
"""

from __future__ import annotations

import numpy as np

from scatter.errors import ScatterError

__all__ = ["Batcher"]


class Batcher:
    """Pack windows into fixed batches; score each batch while the next one fills.

    Parameters
    ----------
    scorer : callable
        ``scorer(batch) -> scores``: float32 ``(n, window)`` to ``(n,)`` (NumPy or JAX).
    batch_size : int
        Windows per batch.
    window : int
        Samples per window.
    on_scores : callable
        ``on_scores(owner, first, scores)`` for each run of consecutive windows of one owner
        (as given to :meth:`add`), with their float64 scores ``(count,)``, in the order the
        windows were added.
    fixed_batch : bool
        Hand the last batch over zero-padded to ``batch_size`` (one shape: no recompilation
        in a JAX scorer); the padding rows' scores are discarded.
    with_extra : bool
        The scorer returns ``(scores, extra)``, ``extra`` an array with one row per window
        (the classifier's features, say): ``on_scores`` then gets a fourth argument, the rows
        of ``extra`` of its windows (``numpy.ndarray``).

    Attributes
    ----------
    n_batches : int
        Batches handed to the scorer so far.

    Raises
    ------
    ScatterError
        From :meth:`add` or :meth:`flush`, when the scorer returns another shape than
        ``(n,)``. Exceptions of ``scorer`` and ``on_scores`` pass through.
    """

    def __init__(self, scorer, *, batch_size, window, on_scores, fixed_batch=True,
                 with_extra=False):
        self.scorer, self.batch_size, self.window = scorer, int(batch_size), int(window)
        self.on_scores, self.fixed_batch = on_scores, bool(fixed_batch)
        self.with_extra = bool(with_extra)
        self.n_batches = 0
        self._pending = None  # (raw scores, owners, n) of the batch handed over last
        self._new_buffer()

    def _new_buffer(self):
        self._buf = np.zeros((self.batch_size, self.window), dtype=np.float32)
        self._fill, self._owners = 0, []

    def add(self, owner, first, windows):
        """Add windows ``first, first + 1, ...`` of ``owner``.

        Parameters
        ----------
        owner : object
            Handed back to ``on_scores`` with the scores of these windows.
        first : int
            Index of the first window in its file.
        windows : numpy.ndarray [shape=(n, window)]
        """
        i = 0
        while i < len(windows):
            take = min(self.batch_size - self._fill, len(windows) - i)
            self._buf[self._fill:self._fill + take] = windows[i:i + take]
            self._owners.append((owner, first + i, take))
            self._fill += take
            i += take
            if self._fill == self.batch_size:
                self._hand_over()

    def flush(self):
        """Score what is left (a partial batch) and deliver every outstanding score."""
        if self._fill:
            self._hand_over()
        if self._pending is not None:
            previous, self._pending = self._pending, None
            self._deliver(previous)

    def _hand_over(self):
        batch = self._buf if self.fixed_batch else self._buf[:self._fill]
        raw = self.scorer(batch)  # may still be computing (JAX): read after the next batch
        self.n_batches += 1
        previous, self._pending = self._pending, (raw, self._owners, len(batch))
        self._new_buffer()
        if previous is not None:
            self._deliver(previous)

    def _deliver(self, pending):
        raw, owners, n = pending
        extra = None
        if self.with_extra:
            if not (isinstance(raw, tuple) and len(raw) == 2):
                raise ScatterError(f"scorer must return (scores, extra) with with_extra=True; "
                                   f"got {type(raw).__name__}")
            raw, extra = raw
            extra = np.asarray(extra)
            if extra.ndim < 1 or extra.shape[0] != n:
                raise ScatterError(f"scorer must return one row of extra per window, "
                                   f"{n} rows; got shape {extra.shape}")
        scores = np.asarray(raw, dtype=np.float64)
        if scores.shape != (n,):
            raise ScatterError(f"scorer must return one score per window, shape ({n},); "
                               f"got shape {scores.shape}")
        offset = 0
        for owner, first, count in owners:
            if extra is None:
                self.on_scores(owner, first, scores[offset:offset + count])
            else:
                self.on_scores(owner, first, scores[offset:offset + count],
                               extra[offset:offset + count])
            offset += count
