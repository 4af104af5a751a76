import numpy as np
import pytest

import layers as L
import symbolic as S


def test_sequential_equals_manual_chain(rng):
    d1 = L.Dense((None, 4), 5)
    a = L.MaxAffine(d1, init="relu", learnable=False)
    d2 = L.Dense(a, 2)
    net = L.Sequential([d1, a, d2])
    x = S.placeholder((None, 4))
    value = rng.normal(size=(3, 4)).astype("float32")
    got = np.asarray(S.function([x], net(x))(value))
    ref = np.maximum(value @ d1.W.value + d1.b.value, 0) @ d2.W.value + d2.b.value
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
    hs = net.get_intermediates(x)
    assert len(hs) == 4 and hs[0] is x
    assert len(net) == 3 and net[1] is a
    assert L.get_params(net) == [d1.W, d1.b, a.slopes, a.offsets, d2.W, d2.b]


def test_residual(rng):
    branch = L.Dense((None, 3), 3)
    res = L.Residual(branch)
    x = S.placeholder((None, 3))
    value = rng.normal(size=(2, 3)).astype("float32")
    ref = value @ branch.W.value + branch.b.value + value
    np.testing.assert_allclose(np.asarray(S.function([x], res(x))(value)), ref, rtol=1e-5,
                               atol=1e-6)


def test_composition_errors():
    d = L.Dense((None, 4), 5)
    with pytest.raises(L.LayersError, match="Sequential: layers is empty"):
        L.Sequential([])
    with pytest.raises(L.LayersError,
                       match=r"layers\[0\] \(dense\) outputs shape \(None, 5\) but layers\[1\]"):
        L.Sequential([d, L.Dense((None, 4), 2)])
    with pytest.raises(L.LayersError, match="Sequential: layers\\[0\\] is a int, not a Layer"):
        L.Sequential([3])
    with pytest.raises(L.LayersError, match="add a projection shortcut"):
        L.Residual(d)
    with pytest.raises(L.LayersError, match="Residual: branch must be a Layer"):
        L.Residual(None)
