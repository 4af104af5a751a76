import numpy as np
import pytest

import symbolic as S


def test_streams_advance_and_are_reproducible():
    r = S.random.normal((1000,), seed=42)
    f = S.function([], r)
    a, b = np.asarray(f()), np.asarray(f())
    assert not np.allclose(a, b)
    assert abs(a.mean()) < 0.15 and abs(a.std() - 1) < 0.1
    r.random_key.reset()
    np.testing.assert_array_equal(np.asarray(f()), a)
    with S.Graph():
        g = S.function([], S.random.normal((1000,), seed=42))
        np.testing.assert_array_equal(np.asarray(g()), a)


def test_hold_random_keeps_samples_fixed():
    r = S.random.uniform((5,), low=-1.0, high=1.0, seed=1)
    f = S.function([], r, hold_random=True)
    np.testing.assert_array_equal(np.asarray(f()), np.asarray(f()))
    assert np.all(np.abs(np.asarray(f())) <= 1)


def test_like_takes_runtime_shape():
    x = S.placeholder((None, 4))
    mask = S.random.bernoulli(p=0.25, like=x, seed=0)
    assert mask.shape == (None, 4) and mask.dtype == np.bool_
    m = np.asarray(S.function([x], mask)(np.zeros((2000, 4), "float32")))
    assert m.shape == (2000, 4) and abs(m.mean() - 0.25) < 0.02


def test_default_seeds_differ_between_tensors():
    a, b = S.random.normal((50,)), S.random.normal((50,))
    va, vb = S.function([], [a, b])()
    assert not np.allclose(va, vb)


def test_samplers_ranges():
    i = S.random.randint((500,), low=2, high=5, seed=3)
    t = S.random.truncated_normal((500,), lower=-1.0, upper=1.0, seed=4)
    c = S.random.categorical(S.constant(np.log(np.array([0.1, 0.9], "float32"))), seed=5)
    p = S.random.permutation(6, seed=6)
    vi, vt, _, vp = S.function([], [i, t, c, p])()
    assert set(np.unique(vi)) == {2, 3, 4}
    assert np.all(np.abs(vt) <= 1)
    assert sorted(np.asarray(vp).tolist()) == list(range(6))


def test_grad_through_random_noise_uses_the_same_sample():
    w = S.Variable(2.0)
    noise = S.random.normal((), seed=0)
    y = w * noise
    f = S.function([], [noise, S.grad(y, w)])
    n, g = f()
    assert float(n) == pytest.approx(float(g))


def test_errors():
    with pytest.raises(S.SymbolicError, match="p must lie in"):
        S.random.bernoulli((2,), p=1.5)
    with pytest.raises(S.SymbolicError, match="need low < high"):
        S.random.randint((2,), low=3, high=3)
    with pytest.raises(S.SymbolicError, match="shape must be a tuple of ints"):
        S.random.normal((None, 3))
    with pytest.raises(S.SymbolicError, match="dtype must be floating"):
        S.random.normal((2,), dtype="int32")
