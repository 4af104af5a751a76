"""Disjoint sets (union-find): the groups of items linked to each other, directly or through others.

What it is for: keeping related things together, such as the clips cut from one source recording
(the validation split of :func:`scatter.detect.data.split_records`) or the copies of one sound
when a corpus is built.

Example
-------
>>> sets = DisjointSets(5)
>>> sets.union(0, 3), sets.union(3, 4), sets.union(4, 0)
(True, True, False)
>>> sets.components()
[[0, 3, 4], [1], [2]]
>>> sets.smallest()
[0, 1, 2, 0, 0]
"""

from __future__ import annotations

from scatter.errors import ScatterError, check_int

__all__ = ["DisjointSets"]


class DisjointSets:
    """A partition of the items ``0 .. n-1``, merged pair by pair (union-find).

    Every set has a root, one of its items, which :meth:`find` returns. The root is a
    documented function of the order of the merges, because callers may use roots as group
    ids whose order matters (for instance a seeded draw over the sorted ids): ``union(a, b)``
    makes the root of ``b``'s set the root of the merged set. Nothing else moves a root (the
    path halving inside :meth:`find` only shortens paths), so the same sequence of ``union``
    calls always gives the same roots. Labels that do not depend on the order of the merges
    are :meth:`smallest` and :meth:`components`.

    Parameters
    ----------
    n : int
        Number of items (``>= 0``); each starts in a set of its own.

    Raises
    ------
    ScatterError
        For an ``n`` that is not a non-negative integer.

    Examples
    --------
    >>> sets = DisjointSets(3)
    >>> sets.union(0, 2)
    True
    >>> sets.find(0), sets.roots()
    (2, [2, 1, 2])
    """

    def __init__(self, n):
        self._parent = list(range(check_int(n, "n", 0)))

    def __len__(self):
        return len(self._parent)

    def find(self, i):
        """The root of item ``i``'s set.

        Parameters
        ----------
        i : int
            An item, ``0 <= i < n``.

        Returns
        -------
        int

        Raises
        ------
        ScatterError
            For an item outside ``0 .. n-1``.
        """
        parent = self._parent
        if not 0 <= i < len(parent):
            raise ScatterError(f"item must be an integer in [0, {len(parent)}); got {i!r}")
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, a, b):
        """Merge the sets of items ``a`` and ``b``; the root of ``b``'s set becomes the root.

        Parameters
        ----------
        a, b : int
            Items, ``0 <= a, b < n``.

        Returns
        -------
        bool
            Whether two different sets were merged (False: they were one set already).

        Raises
        ------
        ScatterError
            For an item outside ``0 .. n-1``.
        """
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        self._parent[ra] = rb
        return True

    def connected(self, a, b):
        """Whether items ``a`` and ``b`` are in one set.

        Returns
        -------
        bool
        """
        return self.find(a) == self.find(b)

    def roots(self):
        """The root of every item's set (see the class docstring for which item is the root).

        Returns
        -------
        list of int [length n]
        """
        return [self.find(i) for i in range(len(self._parent))]

    def smallest(self):
        """The lowest item of every item's set: a label independent of the order of the merges.

        Returns
        -------
        list of int [length n]
        """
        roots = self.roots()
        low = {}
        for i, r in enumerate(roots):
            low.setdefault(r, i)  # items come in increasing order: the first seen is the lowest
        return [low[r] for r in roots]

    def components(self):
        """The sets, each as its sorted items, ordered by their lowest item.

        Returns
        -------
        list of list of int
            Disjoint, together holding every item once; independent of the order of the
            merges.
        """
        members = {}
        for i, r in enumerate(self.roots()):
            members.setdefault(r, []).append(i)  # a set is first met at its lowest item
        return list(members.values())
