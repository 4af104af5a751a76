"""Walking graphs: topological order, ancestors, and sub-graphs as pure JAX functions."""

from __future__ import annotations

from symbolic.errors import SymbolicError
from symbolic.tensor import Node


def toposort(outputs, stop=(), *, within=None):
    """Return every node the ``outputs`` depend on, inputs before the nodes using them.

    Depth first from the outputs in their order, a node's inputs in theirs; iterative, linear
    in the number of nodes and edges.

    Parameters
    ----------
    outputs : iterable of Node
    stop : collection of Node, optional
        Nodes included but whose ancestors are not visited through them.
    within : collection of Node, optional
        Only these nodes are visited: an output outside it is left out, and so is every path
        that leaves it (the order of a region: the nodes of ``within`` that the outputs depend
        on through nodes of ``within``). Default: every node.

    Returns
    -------
    list of Node
    """
    order = []
    seen = set()
    stop = set(stop)
    stack = [(node, False) for node in reversed(list(outputs))
             if within is None or node in within]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        if node in stop:
            continue
        for parent in reversed(node.inputs):
            if parent not in seen and (within is None or parent in within):
                stack.append((parent, False))
    return order


def ancestors(outputs):
    """Return the nodes that ``outputs`` (a node or a list of nodes) depend on, themselves
    included, in topological order."""
    if isinstance(outputs, Node):
        outputs = [outputs]
    for node in outputs:
        if not isinstance(node, Node):
            raise SymbolicError(f"ancestors: expected symbolic nodes; got {type(node).__name__}")
    return toposort(outputs)


def region(outputs, inner_inputs):
    """The part of the graph of ``outputs`` that depends on ``inner_inputs``.

    Parameters
    ----------
    outputs : list of Node
    inner_inputs : list of Node

    Returns
    -------
    order : list of Node
        The nodes that depend on an inner input and that an output depends on, inputs first
        (inner inputs excluded).
    frontier : list of Node
        Nodes read by ``order`` (or among ``outputs``) that do not depend on an inner input.
    depends : set of Node
        The nodes of ``order`` and the inner inputs.
    """
    depends = set(inner_inputs)
    order = []
    for node in toposort(outputs, stop=depends):
        if node not in depends and any(p in depends for p in node.inputs):
            depends.add(node)
            order.append(node)
    frontier = []
    fset = set()
    for node in order:
        for parent in node.inputs:
            if parent not in depends and parent not in fset:
                fset.add(parent)
                frontier.append(parent)
    for node in outputs:
        if node not in depends and node not in fset:
            fset.add(node)
            frontier.append(node)
    return order, frontier, depends


def subgraph(outputs, inner_inputs, probes=()):
    """Split the graph of ``outputs`` at ``inner_inputs``.

    Nodes that depend on an inner input are recomputed by the returned function; the others
    (the *frontier*) are passed in as values. The function evaluates them with a
    :class:`symbolic.plan.Plan` (built on its first call), so derivative nodes among them
    share the forward pass they differentiate.

    Parameters
    ----------
    outputs : list of Node
    inner_inputs : list of Node
    probes : list of Node, optional
        Recomputed nodes to which ``fn`` adds a given value (a zero "probe": differentiating
        with respect to it gives the derivative with respect to that node, all paths through
        it included).

    Returns
    -------
    frontier : list of Node
        Nodes whose values the function needs besides the inner inputs.
    fn : callable
        ``fn(inner_values, frontier_values, probe_values=()) -> list of output values``.
    depends : set of Node
        The nodes recomputed (those depending on an inner input), inner inputs included.
    """
    inner = list(inner_inputs)
    outputs = list(outputs)
    order, frontier, depends = region(outputs, inner)
    probes = list(probes)
    plans = []

    def fn(inner_values, frontier_values, probe_values=()):
        if not plans:
            from symbolic.plan import Plan

            plans.append(Plan(order))
        env = dict(zip(inner, inner_values))
        env.update(zip(frontier, frontier_values))
        plans[0].run(env, dict(zip(probes, probe_values)) if probes else None)
        return [env[o] for o in outputs]

    return frontier, fn, depends
