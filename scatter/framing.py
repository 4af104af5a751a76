"""Fixed windows with overlap, cut from a stream of blocks without holding the whole signal.

Window ``k`` covers samples ``k * hop`` to ``k * hop + window``; the last window is the first one
that reaches the end of the signal, zero-padded past it, so every sample lies in some window and
a signal shorter than one window still gives one. :class:`Framer` keeps only about one window of
samples between blocks, and its output equals framing the whole signal at once.

Example
-------
>>> import numpy as np
>>> fr = Framer(window=4, hop=2)
>>> [first for first, _ in fr.push(np.zeros(7, "float32"))], fr.n_windows
([0], 2)
"""

from __future__ import annotations

import numpy as np

from scatter.errors import ScatterError, check_int

__all__ = ["Framer", "window_count"]




def window_count(n, *, window, hop):
    """Number of windows :class:`Framer` cuts from ``n`` samples.

    Windows start at ``0, hop, 2 hop, ...``; the last one is the first that reaches the end
    (zero-padded past it), so every sample lies in a window: ``0`` for ``n == 0``, ``1`` for
    ``n <= window``, else ``1 + ceil((n - window) / hop)``.

    Parameters
    ----------
    n : int
        Signal length in samples.
    window, hop : int
        Window length and hop in samples, ``0 < hop <= window``.

    Returns
    -------
    count : int

    Raises
    ------
    ScatterError
        For a negative ``n`` or invalid ``window``/``hop``.

    Examples
    --------
    >>> window_count(10, window=4, hop=2)
    4
    """
    window, hop = _check_window(window, hop)
    check_int(n, "n", 0)
    if n == 0:
        return 0
    if n <= window:
        return 1
    return 1 + -(-(int(n) - window) // hop)


def _check_window(window, hop):
    window = check_int(window, "window")
    hop = check_int(hop, "hop")
    if hop > window:
        raise ScatterError(f"hop must be at most window={window} samples so that windows "
                           f"cover the signal; got hop={hop}")
    return window, hop


class Framer:
    """Cut a stream of 1-D blocks into fixed windows with overlap.

    Feed blocks with :meth:`push`, then call :meth:`finish`. Window ``k`` holds samples
    ``k * hop`` to ``k * hop + window`` of the concatenated stream; the final window is
    zero-padded past the end (see :func:`window_count`). Only about one window of samples is
    kept between blocks.

    Parameters
    ----------
    window, hop : int
        Window length and hop in samples, ``0 < hop <= window``.

    Attributes
    ----------
    n_samples : int
        Samples received so far.
    n_windows : int
        Windows emitted so far.

    Raises
    ------
    ScatterError
        For invalid ``window``/``hop``, a block that is not 1-D, or use after ``finish``.

    Examples
    --------
    >>> import numpy as np
    >>> fr = Framer(window=4, hop=2)
    >>> [(i, w.shape) for i, w in fr.push(np.arange(7, dtype="float32"))]
    [(0, (2, 4))]
    >>> [(i, w.tolist()) for i, w in fr.finish()]
    [(2, [[4.0, 5.0, 6.0, 0.0]])]
    """

    def __init__(self, *, window, hop):
        self.window, self.hop = _check_window(window, hop)
        self._buf = np.zeros(0, dtype=np.float32)
        self._buf_start = 0  # absolute index of self._buf[0]
        self.n_samples = 0
        self.n_windows = 0
        self._finished = False

    def _emit(self, buf, count):
        """Windows ``n_windows .. n_windows + count - 1`` from ``buf`` (a view, no copy)."""
        local = self.n_windows * self.hop - self._buf_start
        span = buf[local:local + (count - 1) * self.hop + self.window]
        views = np.lib.stride_tricks.sliding_window_view(span, self.window)[::self.hop]
        first = self.n_windows
        self.n_windows += count
        return first, views

    def push(self, block):
        """Add a block; return the windows it completes.

        Parameters
        ----------
        block : numpy.ndarray [shape=(n,)]
            The next samples.

        Returns
        -------
        windows : list of (int, numpy.ndarray [shape=(k, window)])
            ``(index of the first window, windows)``; at most one entry. The arrays are
            read-only views, valid after later calls.

        Raises
        ------
        ScatterError
            If ``block`` is not 1-D, or after :meth:`finish`.
        """
        if self._finished:
            raise ScatterError("Framer.push: called after finish(); create a new Framer")
        block = np.asarray(block, dtype=np.float32)
        if block.ndim != 1:
            raise ScatterError(f"block must be 1-D (mono samples); got shape {block.shape}")
        self.n_samples += block.shape[0]
        buf = np.concatenate([self._buf, block]) if self._buf.size else block
        end = self._buf_start + buf.shape[0]
        out = []
        if end >= self.window:
            count = (end - self.window) // self.hop + 1 - self.n_windows
            if count > 0:
                out.append(self._emit(buf, count))
        cut = self.n_windows * self.hop - self._buf_start
        if cut > 0:
            self._buf_start += cut
            buf = buf[cut:]
        self._buf = buf
        return out

    def finish(self):
        """Return the remaining window, zero-padded past the end of the stream.

        Returns
        -------
        windows : list of (int, numpy.ndarray [shape=(k, window)])
            At most one entry.

        Raises
        ------
        ScatterError
            If called twice.
        """
        if self._finished:
            raise ScatterError("Framer.finish: called twice; create a new Framer")
        self._finished = True
        total = window_count(self.n_samples, window=self.window, hop=self.hop)
        count = total - self.n_windows
        if count <= 0:
            return []
        need = (total - 1) * self.hop + self.window - self._buf_start
        buf = np.zeros(need, dtype=np.float32)
        buf[:self._buf.shape[0]] = self._buf
        out = [self._emit(buf, count)]
        self._buf = np.zeros(0, dtype=np.float32)
        return out
