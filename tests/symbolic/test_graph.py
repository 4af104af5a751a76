import gc

import pytest

import symbolic as S


def test_graphs_are_isolated():
    with S.Graph() as g1:
        a = S.Variable(1.0, name="w")
    with S.Graph() as g2:
        b = S.Variable(2.0, name="w")
    assert a.name == "w" and b.name == "w"
    assert g1.variables() == [a]
    assert g2.variables() == [b]


def test_unique_names_and_scopes(graph):
    w1 = S.Variable(0.0, name="W")
    w2 = S.Variable(0.0, name="W")
    with S.scope("enc"):
        w3 = S.Variable(0.0, name="W")
        with S.scope("dense"):
            w4 = S.Variable(0.0, name="W")
            h = S.placeholder((2,), name="h") * 2
    assert [w1.name, w2.name, w3.name, w4.name] == ["W", "W_1", "enc/W", "enc/dense/W"]
    assert h.name == "enc/dense/multiply"


def test_get_variables_filters(graph):
    with S.scope("enc"):
        a = S.Variable(0.0, name="a")
        b = S.Variable(0.0, name="b", trainable=False, tags=("stats",))
    c = S.Variable(0.0, name="c", tags=["regularizable"])
    assert S.get_variables() == [a, b, c]
    assert S.get_variables("enc") == [a, b]
    assert S.get_variables("enc/*") == [a, b]
    assert S.get_variables(trainable=True) == [a, c]
    assert S.get_variables(trainable=False) == [b]
    assert S.get_variables(tags="regularizable") == [c]
    assert S.get_variables(tags=["trainable", "regularizable"]) == [c]
    assert S.get_variables("enc", trainable=False, tags="stats") == [b]


def test_registry_does_not_keep_dead_variables(graph):
    S.Variable(0.0, name="gone")
    gc.collect()
    assert S.get_variables() == []


def test_bad_scope_name():
    with pytest.raises(S.SymbolicError, match="scope: name must be a non-empty string"):
        with S.scope("a/b"):
            pass


def test_default_seeds_are_deterministic():
    with S.Graph(seed=3) as g:
        first = [g.next_seed() for _ in range(3)]
    with S.Graph(seed=3) as g:
        second = [g.next_seed() for _ in range(3)]
    assert first == second and len(set(first)) == 3
