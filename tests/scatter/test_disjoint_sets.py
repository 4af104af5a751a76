"""Tests of scatter.disjoint_sets: a partition, linked pairs together, the documented roots."""

import itertools

import numpy as np
import pytest

from scatter import ScatterError
from scatter.disjoint_sets import DisjointSets


def _reference_components(n, pairs):
    """Connected components by breadth-first search over an adjacency list."""
    adjacent = [set() for _ in range(n)]
    for a, b in pairs:
        adjacent[a].add(b)
        adjacent[b].add(a)
    seen, out = set(), []
    for start in range(n):
        if start in seen:
            continue
        comp, todo = [], [start]
        seen.add(start)
        while todo:
            i = todo.pop()
            comp.append(i)
            for j in adjacent[i] - seen:
                seen.add(j)
                todo.append(j)
        out.append(sorted(comp))
    return out


def _merged(n, pairs):
    sets = DisjointSets(n)
    for a, b in pairs:
        sets.union(a, b)
    return sets


@pytest.mark.parametrize("case", range(30))
def test_components_partition_the_items_and_match_a_graph_search(case):
    rng = np.random.default_rng(case)
    n = int(rng.integers(0, 40))
    pairs = rng.integers(0, n, size=(int(rng.integers(0, 2 * n + 1)), 2)).tolist() if n else []
    sets = _merged(n, pairs)
    comps = sets.components()
    flat = [i for c in comps for i in c]
    assert sorted(flat) == list(range(n))                         # disjoint and covering
    assert comps == _reference_components(n, pairs)               # exactly the linked groups
    roots, low = sets.roots(), sets.smallest()
    for a, b in pairs:                                            # linked pairs land together
        assert sets.connected(a, b) and roots[a] == roots[b] and low[a] == low[b]
    for c in comps:
        assert {roots[i] for i in c} == {roots[c[0]]} and roots[c[0]] in c
        assert {low[i] for i in c} == {c[0]}
    # distinct sets have distinct roots
    assert len({roots[c[0]] for c in comps}) == len(comps)


@pytest.mark.parametrize("case", range(10))
def test_components_and_smallest_do_not_depend_on_the_order_of_the_merges(case):
    rng = np.random.default_rng(100 + case)
    n = 25
    pairs = rng.integers(0, n, size=(20, 2)).tolist()
    first = _merged(n, pairs)
    for _ in range(5):
        shuffled = [p[::-1] if rng.random() < 0.5 else p for p in rng.permutation(pairs).tolist()]
        other = _merged(n, shuffled)
        assert other.components() == first.components()
        assert other.smallest() == first.smallest()


def test_union_makes_the_second_sets_root_the_root():
    sets = DisjointSets(6)
    assert sets.union(0, 1) and sets.find(0) == 1
    assert sets.union(1, 2) and sets.roots()[:3] == [2, 2, 2]
    assert sets.union(5, 0) and sets.find(5) == 2                  # 0's set keeps its root 2
    assert sets.union(2, 4) and sets.roots() == [4, 4, 4, 3, 4, 4]
    assert not sets.union(0, 5) and sets.roots() == [4, 4, 4, 3, 4, 4]  # already one set
    assert sets.smallest() == [0, 0, 0, 3, 0, 0]
    assert sets.components() == [[0, 1, 2, 4, 5], [3]]


def test_roots_follow_the_merge_order_alone():
    # Long chains: path halving inside find() must never move a root.
    for order in itertools.permutations(range(4)):
        sets = DisjointSets(5)
        for i in order:
            sets.union(i, i + 1)
            for j in range(5):
                sets.find(j)
        again = DisjointSets(5)
        for i in order:
            again.union(i, i + 1)
        assert sets.roots() == again.roots()


def test_empty_and_errors():
    sets = DisjointSets(0)
    assert len(sets) == 0 and sets.roots() == [] and sets.components() == []
    assert len(DisjointSets(np.int64(3))) == 3
    with pytest.raises(ScatterError, match=r"n must be .*got -1"):
        DisjointSets(-1)
    with pytest.raises(ScatterError, match=r"n must be .*got 2.5"):
        DisjointSets(2.5)
    with pytest.raises(ScatterError, match=r"item must be an integer in \[0, 3\); got 3"):
        DisjointSets(3).union(0, 3)
    with pytest.raises(ScatterError, match=r"item must be an integer in \[0, 3\); got -1"):
        DisjointSets(3).find(-1)
