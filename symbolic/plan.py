"""Evaluating a graph in one pass, derivatives sharing the forward pass they differentiate.

A derivative node (built by :func:`symbolic.grad`, :func:`~symbolic.vjp`,
:func:`~symbolic.jvp`, :func:`~symbolic.jacobian`) differentiates its *region*: the nodes that
depend on the tensors it differentiates with respect to (its *roots*) and that its
differentiated outputs depend on. Evaluated on its own (:meth:`Derivative.standalone`), it
recomputes the region inside a JAX transformation, so a graph that also needs the region's
values (the loss, the logits, batch statistics) would compute the region twice, and XLA does
not merge the copies. A :class:`Plan` evaluates a list of nodes as hand-written JAX would:

- derivative nodes whose regions overlap form one *group*, unless one of them treats as an
  input a tensor that another one differentiates through;
- a group's region is evaluated once, inside one :func:`jax.vjp` (:func:`jax.linearize` when a
  member is forward-mode) with respect to the union of its members' roots; the region's
  values leave as auxiliary outputs and serve every other node that needs them;
- each member is then one pullback (or push-forward) call; members with the same outputs and
  cotangents share the call (two ``grad`` nodes of one cost: one backward pass);
- a derivative inside another one's region is *nested*: it is grouped and evaluated the same
  way inside the outer group's function, so that grads of grads differentiate through it and
  its region is still computed once.

Plans are built once per compiled function (and lazily for the bodies of control flow and
for derivative nodes evaluated on their own); building one walks each group's region once.
Two cases fall back to evaluating derivative nodes on their own, which is correct but
recomputes their regions: a derivative with respect to a tensor whose value is computed from
its own region (``vjp`` with respect to ``a`` and ``b = f(a)``, which treats both as inputs),
and groups that would depend on each other in a cycle.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from symbolic.traversal import region as _region
from symbolic.traversal import toposort

_NODE, _FORWARD, _BACKWARD = 0, 1, 2
FORWARD_KINDS = ("jvp", "jacfwd")


class _Scope(dict):
    """Values of one evaluation; a node missing here is read from the enclosing one."""

    __slots__ = ("parent",)

    def __init__(self, parent):
        super().__init__()
        self.parent = parent

    def __missing__(self, node):
        return self.parent[node]


def _unique(items):
    return list(dict.fromkeys(items))


class Derivative:
    """What a derivative node computes; held by the node as ``node.derivative``.

    Parameters
    ----------
    kind : {"grad", "vjp", "jvp", "jacrev", "jacfwd"}
    outputs : list of Tensor
        The differentiated tensors (the cost of ``grad``).
    wrt : list of Tensor
        The tensors differentiated with respect to, in the order of the results.
    roots : list of Tensor
        Those of ``wrt`` that are inputs of the region (cut points).
    probes : list of Tensor
        Those of ``wrt`` inside the region (``grad`` with respect to a tensor computed from
        another one of ``wrt``): a zero is added to their value and differentiated.
    seeds : list of Tensor
        Cotangents (``vjp``, one per output) or tangents (``jvp``, one per ``wrt``).
    order : list of Node
        The region, inputs first (roots excluded, probes included).
    frontier : list of Node
        The other nodes the region reads.
    rebuild : callable
        ``rebuild(outputs, wrt, seeds)`` builds the same derivative of other tensors (used by
        :func:`symbolic.clone`).

    Notes
    -----
    The node's inputs are ``[*outputs, *wrt, *seeds, *frontier]``: every value the region
    needs is an input, so that walking the graph from the node finds the region and what it
    reads, and a node standing alone receives them all.
    """

    __slots__ = ("kind", "outputs", "wrt", "roots", "probes", "seeds", "order", "region",
                 "frontier", "rebuild", "inputs", "_solo")

    def __init__(self, kind, outputs, wrt, roots, probes, seeds, order, frontier, rebuild):
        self.kind = kind
        self.outputs = tuple(outputs)
        self.wrt = tuple(wrt)
        self.roots = tuple(roots)
        self.probes = tuple(probes)
        self.seeds = tuple(seeds)
        self.order = list(order)
        self.region = frozenset(self.order)
        self.frontier = tuple(frontier)
        self.rebuild = rebuild
        self.inputs = (*self.outputs, *self.wrt, *self.seeds, *self.frontier)
        self._solo = None

    def standalone(self, *values):
        """The node's value from its inputs' values alone (recomputing the region)."""
        if self._solo is None:
            self._solo = _Group([self], given_roots=True)
        group = self._solo
        env = dict(zip(self.inputs, values))
        state = group.forward(env, None, ())
        return group.backward(state, [self], env)[0]


def _value_free(node):
    """Whether a node's value depends only on its inputs' shapes (``zeros_like``...): no
    derivative flows through it, at any order."""
    key = node.op_key
    return isinstance(key, tuple) and bool(key) and any(key[0] is f for f in _VALUE_FREE)


_VALUE_FREE = (jnp.zeros_like, jnp.ones_like, jnp.empty_like)


def _reaching(starts, targets):
    """The ancestors of ``starts`` (themselves included) that read a node of ``targets``,
    directly or through others."""
    reach = set()
    for node in toposort(starts):
        if any(p in targets or p in reach for p in node.inputs):
            reach.add(node)
    return reach


class _Group:
    """Derivatives evaluated from one linearization of the union of their regions.

    Parameters
    ----------
    metas : list of Derivative
    given_roots : bool, default False
        The roots' values are given (a derivative node evaluated on its own). Otherwise a
        root computed from the region (a ``zeros_like`` probe of a layer's input, whose layer
        depends on an earlier probe) cannot be an input of the linearization: when its value
        does not depend on the region's values it is computed inside the region, with a zero
        probe; when it does, the group is not :attr:`shareable`.
    """

    def __init__(self, metas, *, given_roots=False):
        self.metas = list(metas)
        self.outputs = _unique(o for m in self.metas for o in m.outputs)
        self.roots = _unique(r for m in self.metas for r in m.roots)
        self.probes = _unique(p for m in self.metas for p in m.probes)
        if len(self.metas) == 1:
            self.region, self.order = self.metas[0].region, self.metas[0].order
        else:
            self.region = frozenset().union(*(m.region for m in self.metas))
            self.order = toposort(self.outputs, within=self.region)
        # a member takes as an input a tensor that another one differentiates through
        self.conflict = any(r in self.region for r in self.roots)
        self.shareable = not self.conflict
        while self.shareable and not given_roots:
            computed = [r for r in self.roots if r.fn is not None]
            if not computed:
                break
            targets = self.region | set(self.roots)
            reach = _reaching(computed, targets)
            late = [r for r in computed if any(p in targets or p in reach for p in r.inputs)]
            if not late:
                break
            if not all(_value_free(r) for r in late):
                self.shareable = False
                break
            late_set = set(late)
            self.roots = [r for r in self.roots if r not in late_set]
            self.probes += late
            self.order = _region(self.outputs, self.roots)[0]
            self.region = frozenset(self.order)
        self.forward_mode = any(m.kind in FORWARD_KINDS for m in self.metas)
        self._root_index = {r: i for i, r in enumerate(self.roots)}
        self._probe_index = {p: i for i, p in enumerate(self.probes)}
        self._out_index = {o: i for i, o in enumerate(self.outputs)}
        self._plan = None

    def needs(self):
        """Nodes the group reads: its roots and the region's other inputs."""
        region = self.region
        out = list(self.roots)
        out += [p for n in self.order for p in n.inputs if p not in region]
        out += [o for o in self.outputs if o not in region]
        return _unique(out)

    @property
    def plan(self):
        if self._plan is None:
            self._plan = Plan(self.order)
        return self._plan

    # -- evaluation -------------------------------------------------------------------------
    def _function(self, env, probes, exports):
        def region_fn(leaves, probe_values):
            scope = _Scope(env)
            scope.update(zip(self.roots, leaves))
            added = dict(probes) if probes else {}
            added.update(zip(self.probes, probe_values))
            self.plan.run(scope, added)
            return (tuple(scope[o] for o in self.outputs),
                    tuple(scope[n] for n in exports))
        return region_fn

    def _probe_zeros(self, env, leaves):
        if not self.probes:
            return ()
        if all(None not in p.shape for p in self.probes):
            specs = self.probes
        else:
            try:  # a value of the same node computed elsewhere has the same shape
                specs = [env[p] for p in self.probes]
            except KeyError:
                def probed(leaves):
                    scope = _Scope(env)
                    scope.update(zip(self.roots, leaves))
                    self.plan.run(scope, None)
                    return tuple(scope[p] for p in self.probes)

                specs = jax.eval_shape(probed, leaves)
        return tuple(jnp.zeros(tuple(s.shape), s.dtype) for s in specs)

    def forward(self, env, probes, exports):
        """Evaluate the region once; put the values of ``exports`` in ``env``.

        Returns the state the members' values are computed from.
        """
        region_fn = self._function(env, probes, exports)
        leaves = tuple(env[r] for r in self.roots)
        zeros = self._probe_zeros(env, leaves)
        if self.forward_mode:
            outs, linear, aux = jax.linearize(region_fn, leaves, zeros, has_aux=True)
        else:
            outs, linear, aux = jax.vjp(region_fn, leaves, zeros, has_aux=True)
        env.update(zip(exports, aux))
        return {"outs": outs, "linear": linear, "leaves": leaves, "zeros": zeros}

    def _pullback(self, state):
        if not self.forward_mode:
            return state["linear"]
        if "transpose" not in state:
            state["transpose"] = jax.linear_transpose(state["linear"], state["leaves"],
                                                      state["zeros"])
        return state["transpose"]

    def _slot(self, w):
        """Where the derivative with respect to ``w`` lives: (0, index) among the roots or
        (1, index) among the probes."""
        if w in self._root_index:
            return 0, self._root_index[w]
        return 1, self._probe_index[w]

    def _pick(self, meta, cotangents):
        out = []
        for w in meta.wrt:
            part, i = self._slot(w)
            out.append(cotangents[part][i])
        return tuple(out)

    def _cotangents(self, state, meta, env):
        outs = state["outs"]
        cts = [None] * len(outs)
        if meta.kind == "grad":
            (cost,) = meta.outputs
            i = self._out_index[cost]
            cts[i] = jnp.ones_like(outs[i])
        else:
            for o, seed in zip(meta.outputs, meta.seeds):
                i = self._out_index[o]
                cts[i] = env[seed] if cts[i] is None else cts[i] + env[seed]
        return tuple(jnp.zeros_like(v) if c is None else c for v, c in zip(outs, cts))

    def _inputs_with(self, state, placed):
        """Tangents of (roots, probes): ``placed`` maps slots to values, zeros elsewhere."""
        parts = []
        for part, values in enumerate((state["leaves"], state["zeros"])):
            parts.append(tuple(placed[part, i] if (part, i) in placed else jnp.zeros_like(v)
                               for i, v in enumerate(values)))
        return tuple(parts)

    def _jacobian(self, state, meta):
        (out,) = meta.outputs
        i = self._out_index[out]
        outs = state["outs"]
        y = outs[i]
        if meta.kind == "jacrev":
            pullback = self._pullback(state)
            basis = jnp.eye(y.size, dtype=y.dtype).reshape((y.size, *y.shape))

            def row(e):
                cts = tuple(e if j == i else jnp.zeros_like(v) for j, v in enumerate(outs))
                return pullback(cts)

            rows = self._pick(meta, jax.vmap(row)(basis))
            return tuple(r.reshape(y.shape + r.shape[1:]) for r in rows)
        linear = state["linear"]
        result = []
        for w in meta.wrt:
            slot = self._slot(w)
            x = (state["leaves"], state["zeros"])[slot[0]][slot[1]]
            basis = jnp.eye(x.size, dtype=x.dtype).reshape((x.size, *x.shape))

            def column(e, slot=slot):
                return linear(*self._inputs_with(state, {slot: e}))[i]

            cols = jax.vmap(column)(basis)  # (x.size, *y.shape)
            result.append(jnp.moveaxis(cols, 0, -1).reshape(y.shape + x.shape))
        return tuple(result)

    def backward(self, state, metas, env):
        """The values of members ``metas`` that share one key (see :func:`_key`)."""
        first = metas[0]
        if first.kind in ("jacrev", "jacfwd"):
            return [self._jacobian(state, first)]
        if first.kind == "jvp":
            placed = {}
            for w, seed in zip(first.wrt, first.seeds):
                slot = self._slot(w)
                placed[slot] = env[seed] if slot not in placed else placed[slot] + env[seed]
            outs = state["linear"](*self._inputs_with(state, placed))
            return [tuple(outs[self._out_index[o]] for o in first.outputs)]
        cotangents = self._pullback(state)(self._cotangents(state, first, env))
        return [self._pick(meta, cotangents) for meta in metas]


def _key(meta):
    """Members with equal keys get their values from one backward (or forward) call."""
    if meta.kind == "grad":
        return ("grad", meta.outputs)
    if meta.kind in ("vjp", "jvp"):
        return (meta.kind, meta.outputs, meta.wrt if meta.kind == "jvp" else (), meta.seeds)
    return (meta.kind, id(meta))


class Plan:
    """How to evaluate a list of nodes in one pass (see the module docstring).

    Parameters
    ----------
    nodes : list of Node
        Non-leaf nodes, inputs before the nodes using them. Values of every other node they
        read must be in the environment given to :meth:`run`.
    """

    def __init__(self, nodes):
        nodes = list(nodes)
        steps = None
        if any(n.derivative is not None for n in nodes):
            steps = self._schedule(nodes)
        self.shared = steps is not None
        self.steps = steps if steps is not None else [(_NODE, n) for n in nodes]

    @staticmethod
    def _schedule(nodes):
        inside = set(nodes)
        derivs = [n for n in nodes if n.derivative is not None]
        nested = {e for d in derivs for e in derivs
                  if e is not d and e in d.derivative.region}
        top = [d for d in derivs if d not in nested]
        # groups: top-level derivatives whose regions overlap (union-find)
        parent = {d: d for d in top}

        def find(d):
            while parent[d] is not d:
                parent[d] = parent[parent[d]]
                d = parent[d]
            return d

        owner = {}
        for d in top:
            for n in d.derivative.order:
                o = owner.setdefault(n, d)
                if o is not d:
                    a, b = find(o), find(d)
                    if a is not b:
                        parent[b] = a
        clusters = {}
        for d in top:
            clusters.setdefault(find(d), []).append(d)
        groups = []
        for members in clusters.values():
            group = _Group([m.derivative for m in members])
            if len(members) > 1 and group.conflict:
                singles = [(_Group([m.derivative]), [m]) for m in members]
                groups += [(g, ms) for g, ms in singles if g.shareable]
            elif group.shareable:
                groups.append((group, members))
        # a derivative left out of every group is a node evaluated on its own

        # steps, each with the nodes it reads; step_of: the step that computes a node
        steps, reads, step_of = [], [], {}
        for group, members in groups:
            exports = [n for n in group.order if n in inside and n not in step_of]
            forward = len(steps)
            steps.append((_FORWARD, group, exports))
            reads.append(group.needs())
            for n in exports:
                step_of[n] = forward
            by_key = {}
            for m in members:
                by_key.setdefault(_key(m.derivative), []).append(m)
            for same in by_key.values():
                index = len(steps)
                steps.append((_BACKWARD, group, forward, same))
                reads.append([s for m in same for s in m.derivative.seeds])
                for m in same:
                    step_of[m] = index
        for n in nodes:
            if n not in step_of:
                step_of[n] = len(steps)
                steps.append((_NODE, n))
                reads.append(n.inputs)

        def deps(i):
            out = [step_of[p] for p in reads[i] if p in step_of]
            if steps[i][0] == _BACKWARD:
                out.append(steps[i][2])
            return out

        # depth-first topological order of the steps, in the order the nodes came
        order, state = [], [0] * len(steps)  # 0 new, 1 open, 2 done
        for start in [step_of[n] for n in nodes]:
            if state[start]:
                continue
            stack = [(start, iter(deps(start)))]
            state[start] = 1
            while stack:
                i, it = stack[-1]
                for j in it:
                    if state[j] == 1:
                        return None  # a cycle: evaluate derivatives on their own
                    if state[j] == 0:
                        state[j] = 1
                        stack.append((j, iter(deps(j))))
                        break
                else:
                    stack.pop()
                    state[i] = 2
                    order.append(i)
        return [steps[i] for i in order]

    def run(self, env, probes=None):
        """Evaluate the nodes into ``env`` (node -> value).

        Parameters
        ----------
        env : dict
            Values of the nodes read; filled with the values computed.
        probes : dict, optional
            Node -> value added to that node's value once computed (zero probes of ``grad``
            with respect to tensors inside the region).
        """
        states = {}
        for step in self.steps:
            kind = step[0]
            if kind == _NODE:
                node = step[1]
                value = node.fn(*[env[p] for p in node.inputs])
                if probes and node in probes:
                    value = value + probes[node]
                env[node] = value
            elif kind == _FORWARD:
                group, exports = step[1], step[2]
                states[group] = group.forward(env, probes, exports)
            else:
                group, same = step[1], step[3]
                values = group.backward(states[group], [m.derivative for m in same], env)
                for node, value in zip(same, values):
                    env[node] = value
        return env
