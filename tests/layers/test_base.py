import numpy as np
import pytest

import layers as L
import symbolic as S
from layers.base import check_shape, format_shape, shapes_compatible


def test_names_unique_and_scoped():
    a = L.Dense((None, 3), 2)
    b = L.Dense((None, 3), 2)
    assert a.name == "dense" and b.name == "dense_1"
    assert [p.name for p in b.params] == ["dense_1/W", "dense_1/b"]
    with S.scope("enc"):
        c = L.Dense((None, 3), 2, name="proj")
    assert c.W.name == "enc/proj/W"


def test_tags_and_filters():
    d = L.Dense((None, 3), 2)
    bn = L.BatchNorm(d)
    net = L.Sequential([d, bn])
    assert L.get_params(net, regularizable=True) == [d.W]
    assert set(L.get_params(net, trainable=True)) == {d.W, d.b, bn.beta, bn.gamma}
    assert set(L.get_params(net, trainable=False)) == {bn.mean, bn.var}
    assert L.count_params(net) == 3 * 2 + 2 + 4 * 2
    assert L.count_params(net, trainable=True) == 3 * 2 + 2 + 2 * 2


def test_get_output_walks_the_chain(rng):
    inp = L.InputLayer((None, 4))
    d1 = L.Dense(inp, 3)
    d2 = L.Dense(d1, 2)
    x = S.placeholder((None, 4))
    value = rng.normal(size=(5, 4)).astype("float32")
    got = S.function([x], L.get_output(d2, x))(value)
    ref = (value @ d1.W.value + d1.b.value) @ d2.W.value + d2.b.value
    np.testing.assert_allclose(np.asarray(got), ref, rtol=1e-5, atol=1e-6)
    assert L.get_all_layers(d2) == [inp, d1, d2]


def test_shape_mismatch_and_bad_arguments():
    d = L.Dense((None, 4), 3)
    with pytest.raises(L.LayersError,
                       match=r"dense: input has shape \(None, 5\), expected \(None, 4\)"):
        d(S.placeholder((None, 5)))
    with pytest.raises(L.LayersError, match="incoming: a shape holds non-negative ints"):
        L.Dense((None, -1), 3)
    with pytest.raises(L.LayersError, match="name must be a non-empty string without '/'"):
        L.Dense((None, 4), 3, name="a/b")
    with pytest.raises(L.LayersError, match="seed must be an int or None; got 'x'"):
        L.Dense((None, 4), 3, seed="x")
    with pytest.raises(L.LayersError, match=r"parameter 'W' must have shape \(4, 3\)"):
        L.Dense((None, 4), 3, W=np.zeros((3, 3)))
    with pytest.raises(L.LayersError, match="get_output: layer must be a Layer"):
        L.get_output("dense", S.placeholder((None, 4)))


def test_seeded_initialisation_reproducible():
    a = L.Dense((None, 5), 4, seed=3)
    b = L.Dense((None, 5), 4, seed=3)
    c = L.Dense((None, 5), 4, seed=4)
    np.testing.assert_array_equal(a.W.value, b.W.value)
    assert not np.array_equal(a.W.value, c.W.value)
    with S.Graph(seed=1):
        d = L.Dense((None, 5), 4)
    with S.Graph(seed=1):
        e = L.Dense((None, 5), 4)
    np.testing.assert_array_equal(d.W.value, e.W.value)


def test_helpers():
    assert format_shape((None, 3)) == "(None, 3)" and format_shape((2,)) == "(2,)"
    assert check_shape(4) == (4,)
    assert shapes_compatible((None, 3), (5, 3)) and not shapes_compatible((None, 3), (5, 4))
    with pytest.raises(L.LayersError, match="expected a shape tuple"):
        check_shape(object())
