"""Fixed windows with overlap, cut from a stream of blocks without holding the whole signal.

Windows start at ``0, hop, 2 hop, ...`` until one reaches the end of the signal, so every
sample lies in some window. How that final window is filled is the ``last`` policy:

- ``"end"`` (default): it is the last ``window`` samples of the signal (it starts at
  ``n - window`` and overlaps its predecessor more than the others do), so every window holds
  real samples only. A signal shorter than one window still gives one window, zero-padded.
- ``"pad"``: it starts at ``k * hop`` like the others and is zero-padded past the end.

A stretch of digital silence is not something a recorder produces; a classifier can read the
step from sound to zeros as an event, so the detector frames with ``"end"``.
:class:`Framer` keeps only about one window of samples between blocks, and its output equals
framing the whole signal at once (:func:`window_starts`).

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

__all__ = ["LAST_POLICIES", "Framer", "window_count", "window_starts"]

#: How the final window is filled: its last ``window`` samples, or zero-padded.
LAST_POLICIES = ("end", "pad")


def window_count(n, *, window, hop):
    """Number of windows :class:`Framer` cuts from ``n`` samples.

    Windows start at ``0, hop, 2 hop, ...``; the last one is the first that reaches the end
    (:func:`window_starts` says where it starts), so every sample lies in a window: ``0`` for
    ``n == 0``, ``1`` for ``n <= window``, else ``1 + ceil((n - window) / hop)``.

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


def window_starts(n, *, window, hop, last="end"):
    """First sample of each window :class:`Framer` cuts from ``n`` samples.

    Parameters
    ----------
    n : int
        Signal length in samples.
    window, hop : int
        Window length and hop in samples, ``0 < hop <= window``.
    last : {"end", "pad"}
        ``"end"``: the final window starts at ``n - window`` when the signal holds a whole
        window (so it ends at the signal's end); ``"pad"``: at ``k * hop`` like the others.

    Returns
    -------
    starts : numpy.ndarray [shape=(window_count(n),), dtype=int64]
        Non-decreasing; window ``k`` covers ``starts[k]`` to ``min(starts[k] + window, n)``.

    Raises
    ------
    ScatterError
        As :func:`window_count`, or for an unknown ``last``.

    Examples
    --------
    >>> window_starts(10, window=4, hop=3).tolist()
    [0, 3, 6]
    >>> window_starts(11, window=4, hop=3).tolist()
    [0, 3, 6, 7]
    >>> window_starts(11, window=4, hop=3, last="pad").tolist()
    [0, 3, 6, 9]
    """
    last = _check_last(last)
    count = window_count(n, window=window, hop=hop)
    starts = np.arange(count, dtype=np.int64) * hop
    if last == "end" and count and n >= window:
        starts[-1] = n - window
    return starts


def _check_last(last):
    if last not in LAST_POLICIES:
        raise ScatterError(f"last must be one of {LAST_POLICIES}; got {last!r}")
    return last


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
    ``k * hop`` to ``k * hop + window`` of the concatenated stream, except the final one, which
    :meth:`finish` returns filled as ``last`` says (module docstring; :func:`window_starts`).
    Only about one window of samples is kept between blocks.

    Parameters
    ----------
    window, hop : int
        Window length and hop in samples, ``0 < hop <= window``.
    last : {"end", "pad"}
        How the final window is filled: the last ``window`` samples of the stream (default),
        or zero-padded past its end.

    Attributes
    ----------
    n_samples : int
        Samples received so far.
    n_windows : int
        Windows emitted so far.

    Raises
    ------
    ScatterError
        For invalid ``window``/``hop``/``last``, a block that is not 1-D, or use after
        ``finish``.

    Examples
    --------
    >>> import numpy as np
    >>> fr = Framer(window=4, hop=2)
    >>> [(i, w.shape) for i, w in fr.push(np.arange(7, dtype="float32"))]
    [(0, (2, 4))]
    >>> [(i, w.tolist()) for i, w in fr.finish()]
    [(2, [[3.0, 4.0, 5.0, 6.0]])]
    """

    def __init__(self, *, window, hop, last="end"):
        self.window, self.hop = _check_window(window, hop)
        self.last = _check_last(last)
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
        keep_from = self.n_windows * self.hop
        if self.last == "end":  # the final window may reach back a whole window from the end
            keep_from = min(keep_from, max(end - self.window, 0))
        cut = keep_from - self._buf_start
        if cut > 0:
            self._buf_start += cut
            buf = buf[cut:]
        self._buf = buf
        return out

    def finish(self):
        """Return the final window: the stream's last ``window`` samples (``last="end"``, when
        the stream holds that many), else zero-padded past the end of the stream.

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
        if self.last == "end" and self.n_samples >= self.window:
            tail = self._buf[self._buf.shape[0] - self.window:]
            self._buf = np.zeros(0, dtype=np.float32)
            first = self.n_windows
            self.n_windows += 1
            return [(first, tail[None])]
        need = (total - 1) * self.hop + self.window - self._buf_start
        buf = np.zeros(need, dtype=np.float32)
        buf[:self._buf.shape[0]] = self._buf
        out = [self._emit(buf, count)]
        self._buf = np.zeros(0, dtype=np.float32)
        return out
