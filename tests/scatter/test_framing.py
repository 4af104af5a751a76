"""Tests of scatter.framing: streamed windows equal framing the whole signal."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scatter import ScatterError
from scatter.framing import Framer, window_count, window_starts


def frames_reference(x, window, hop, last):
    """Windows at k * hop until one reaches the end; with last="end" and a signal of at least
    one window, that final one moved back to end at the signal's end."""
    n = len(x)
    starts = []
    while n and (not starts or starts[-1] + window < n):
        starts.append(len(starts) * hop)
    if last == "end" and starts and n >= window:
        starts[-1] = n - window
    padded = np.zeros(max(n, window) + window, np.float32)
    padded[:n] = x
    windows = [padded[s:s + window] for s in starts]
    return (np.stack(windows) if windows else np.zeros((0, window), np.float32)), starts


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 400), window=st.integers(1, 64), last=st.sampled_from(["end", "pad"]),
       data=st.data())
def test_framer_equals_full_framing(n, window, last, data):
    hop = data.draw(st.integers(1, window))
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=8)))
    x = np.arange(1, n + 1, dtype=np.float32)
    fr = Framer(window=window, hop=hop, last=last)
    got, index = [], 0
    for block in np.split(x, cuts):
        for first, w in fr.push(block):
            assert first == index
            got.append(w.copy())
            index += len(w)
    for first, w in fr.finish():
        assert first == index
        got.append(w)
        index += len(w)
    ref, starts = frames_reference(x, window, hop, last)
    out = np.concatenate(got) if got else np.zeros((0, window), np.float32)
    np.testing.assert_array_equal(out, ref)
    assert fr.n_windows == len(ref) == window_count(n, window=window, hop=hop)
    assert window_starts(n, window=window, hop=hop, last=last).tolist() == starts
    # every sample lies in a window, and no window starts past the end
    assert n == 0 or (len(ref) - 1) * hop < n <= (len(ref) - 1) * hop + window
    if last == "end" and n >= window:  # no window holds a sample from past the end
        assert (out > 0).all()


def test_last_window_ends_at_the_signal_end():
    x = np.arange(1, 12, dtype=np.float32)  # 11 samples, windows of 4 every 3
    fr = Framer(window=4, hop=3)
    got = [w for _, w in fr.push(x[:5])] + [w for _, w in fr.push(x[5:])]
    got += [w for _, w in fr.finish()]
    assert np.concatenate(got).tolist() == [[1, 2, 3, 4], [4, 5, 6, 7], [7, 8, 9, 10],
                                            [8, 9, 10, 11]]
    fr = Framer(window=4, hop=3, last="pad")
    got = [w for _, w in fr.push(x)] + [w for _, w in fr.finish()]
    assert np.concatenate(got)[-1].tolist() == [10, 11, 0, 0]
    # shorter than one window: one window, zero-padded under either policy
    for last in ("end", "pad"):
        fr = Framer(window=4, hop=3, last=last)
        fr.push(x[:2])
        assert [w.tolist() for _, w in fr.finish()] == [[[1, 2, 0, 0]]]


def test_window_count_and_framer_errors():
    assert [window_count(n, window=4, hop=2) for n in (0, 1, 4, 5, 6, 7)] == [0, 1, 1, 2, 2, 3]
    with pytest.raises(ScatterError, match="hop must be at most window=4 samples.*hop=5"):
        window_count(10, window=4, hop=5)
    with pytest.raises(ScatterError, match="n must be a non-negative integer; got -1"):
        window_count(-1, window=4, hop=2)
    fr = Framer(window=4, hop=2)
    with pytest.raises(ScatterError, match=r"block must be 1-D.*\(2, 2\)"):
        fr.push(np.zeros((2, 2)))
    fr.finish()
    with pytest.raises(ScatterError, match="after finish"):
        fr.push(np.zeros(3))
    with pytest.raises(ScatterError, match="called twice"):
        fr.finish()
    with pytest.raises(ScatterError, match=r"last must be one of \('end', 'pad'\); got 'zeros'"):
        Framer(window=4, hop=2, last="zeros")
