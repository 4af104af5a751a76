"""Tests of scatter.framing: streamed windows equal framing the whole signal."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scatter import ScatterError
from scatter.framing import Framer, window_count


def frames_reference(x, window, hop):
    n = window_count(len(x), window=window, hop=hop)
    padded = np.zeros(max((n - 1) * hop + window, 0), np.float32)
    padded[: len(x)] = x
    return np.stack([padded[k * hop: k * hop + window] for k in range(n)]) if n else \
        np.zeros((0, window), np.float32)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 400), window=st.integers(1, 64), data=st.data())
def test_framer_equals_full_framing(n, window, data):
    hop = data.draw(st.integers(1, window))
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=8)))
    x = np.arange(1, n + 1, dtype=np.float32)
    fr = Framer(window=window, hop=hop)
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
    ref = frames_reference(x, window, hop)
    out = np.concatenate(got) if got else np.zeros((0, window), np.float32)
    np.testing.assert_array_equal(out, ref)
    assert fr.n_windows == len(ref) == window_count(n, window=window, hop=hop)
    # every sample lies in a window, and no window starts past the end
    assert n == 0 or (len(ref) - 1) * hop < n <= (len(ref) - 1) * hop + window


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
