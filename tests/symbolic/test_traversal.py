import symbolic as S
from symbolic.traversal import region, subgraph, toposort


def test_toposort_inputs_first_and_each_once():
    x = S.placeholder(())
    a = x + 1.0
    b = a * a
    c = b + a
    order = toposort([c])
    assert order.index(x) < order.index(a) < order.index(b) < order.index(c)
    assert len(order) == len(set(order))
    assert S.ancestors(c) == order


def test_toposort_deep_chain_no_recursion_limit():
    x = S.placeholder(())
    y = x
    for _ in range(3000):
        y = y + 1.0
    assert len(toposort([y])) == 3001


def _graph():
    """x -> a -> b <- w, and c = b + a."""
    x = S.placeholder((), name="x")
    w = S.placeholder((), name="w")
    a = x * 2.0
    b = a * w
    return x, w, a, b, b + a


def test_toposort_stop_and_within():
    x, w, a, b, c = _graph()
    d = S.placeholder((), name="d")
    assert toposort([c]) == [x, a, w, b, c]
    # stop: a kept, its ancestors (x) not visited through it
    assert toposort([c], stop=[a]) == [a, w, b, c]
    # within: only paths inside the set; outputs outside it left out
    assert toposort([c, d], within={b, c, w}) == [w, b, c]
    assert toposort([d], within={b, c}) == []


def test_region_is_what_depends_on_the_inner_inputs():
    x, w, a, b, c = _graph()
    e = c * w
    order, frontier, depends = region([e, a], [w])
    assert order == [b, c, e]
    assert frontier == [a]
    assert depends == {w, b, c, e}
    assert toposort([e], within=depends - {w}) == order


def test_subgraph_frontier():
    x = S.placeholder((), name="x")
    w = S.placeholder((), name="w")
    pre = x * 3.0  # does not depend on w: computed outside
    y = pre * w + x
    frontier, fn, depends = subgraph([y], [w])
    assert pre in frontier and x in frontier and w not in frontier
    assert y in depends and pre not in depends
    values = {pre: 6.0, x: 2.0}
    assert fn([5.0], [values[n] for n in frontier])[0] == 32.0
