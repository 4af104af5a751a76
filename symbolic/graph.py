"""Graphs: naming scopes, the registry of variables, seeds and the shape-inference cache.

A :class:`Graph` is a context. Nodes built while it is active belong to it: their names are
prefixed by its active scopes, variables are registered (weakly) so that
:func:`get_variables` can find them, and random tensors draw their default seeds from it.
Nothing is shared between two graphs. Outside any ``with Graph():`` block a default graph is
used, created on first use.
"""

from __future__ import annotations

import contextlib
import contextvars
import fnmatch
import itertools
import weakref

from symbolic.errors import SymbolicError

_ACTIVE: contextvars.ContextVar[tuple[Graph, ...]] = contextvars.ContextVar(
    "symbolic_active_graphs", default=()
)
_DEFAULT: list[Graph] = []


class Graph:
    """An isolated namespace for symbolic nodes.

    Parameters
    ----------
    name : str, optional
        A label shown in ``repr``.
    seed : int, default 0
        Base of the seeds given to random tensors created without an explicit ``seed``.

    Examples
    --------
    >>> import symbolic as S
    >>> with S.Graph() as g:
    ...     w = S.Variable([1.0, 2.0], name="w")
    >>> [v.name for v in g.variables()]
    ['w']
    """

    def __init__(self, name=None, *, seed=0):
        self.name = name
        self.seed = int(seed)
        self._scopes: list[str] = []
        self._variables: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
        self._order = itertools.count()
        self._name_counts: dict[str, int] = {}
        self._seed_counter = itertools.count()
        self.shape_cache: dict = {}

    def __repr__(self):
        return f"Graph(name={self.name!r}, n_variables={len(self._variables)})"

    def __enter__(self):
        self._token = _ACTIVE.set(_ACTIVE.get() + (self,))
        return self

    def __exit__(self, *exc):
        _ACTIVE.reset(self._token)
        return False

    # naming -----------------------------------------------------------------------------
    def scoped(self, name):
        """Return ``name`` prefixed by the active scopes (``"enc/dense/W"``)."""
        if not self._scopes:
            return name
        return "/".join(self._scopes) + "/" + name

    def unique_name(self, name):
        """Return ``scoped(name)``, suffixed with ``_1``, ``_2``... if already taken."""
        full = self.scoped(name)
        count = self._name_counts.get(full)
        if count is None:
            self._name_counts[full] = 0
            return full
        while True:
            count += 1
            candidate = f"{full}_{count}"
            if candidate not in self._name_counts:
                self._name_counts[full] = count
                self._name_counts[candidate] = 0
                return candidate

    def next_seed(self):
        """Return the next default seed (deterministic given the graph's ``seed``)."""
        return self.seed * 1_000_003 + next(self._seed_counter)

    # variables --------------------------------------------------------------------------
    def register(self, variable):
        variable._order = next(self._order)
        self._variables[variable.name] = variable

    def variables(self):
        """Live variables of this graph, in creation order."""
        return sorted(self._variables.values(), key=lambda v: v._order)


def current_graph():
    """Return the innermost active :class:`Graph`, or the default graph."""
    active = _ACTIVE.get()
    if active:
        return active[-1]
    if not _DEFAULT:
        _DEFAULT.append(Graph("default"))
    return _DEFAULT[0]


@contextlib.contextmanager
def scope(name):
    """Prefix the names of nodes built inside the block with ``name/``.

    Parameters
    ----------
    name : str
        A non-empty name without ``/``.

    Examples
    --------
    >>> import symbolic as S
    >>> with S.Graph(), S.scope("enc"):
    ...     S.Variable(0.0, name="W").name
    'enc/W'
    """
    if not isinstance(name, str) or not name or "/" in name:
        raise SymbolicError(f"scope: name must be a non-empty string without '/'; got {name!r}")
    graph = current_graph()
    graph._scopes.append(name)
    try:
        yield graph
    finally:
        graph._scopes.pop()


def get_variables(scope=None, *, trainable=None, tags=None, graph=None):
    """Return the live variables of a graph, filtered.

    Parameters
    ----------
    scope : str, optional
        Glob pattern on full names (``"enc/*"``); a pattern without wildcard also matches
        everything under that scope.
    trainable : bool, optional
        Keep only trainable (True) or only non-trainable (False) variables.
    tags : str or iterable of str, optional
        Keep variables carrying all these tags.
    graph : Graph, optional
        Defaults to the current graph.

    Returns
    -------
    list of Variable
        In creation order.
    """
    graph = current_graph() if graph is None else graph
    if isinstance(tags, str):
        tags = (tags,)
    wanted = set(tags or ())
    out = []
    for var in graph.variables():
        if scope is not None and not (
            fnmatch.fnmatchcase(var.name, scope) or var.name.startswith(scope.rstrip("/") + "/")
        ):
            continue
        if trainable is not None and var.trainable != bool(trainable):
            continue
        if not wanted <= var.tags:
            continue
        out.append(var)
    return out
