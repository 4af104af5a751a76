"""The pure function behind a compiled graph: ``(state, inputs) -> (outputs, new_state)``.

:class:`Program` resolves what a graph needs: the placeholders it is fed, the variables it
reads (constant state) and updates (mutable state, donated), the constants, the random keys to
advance, and the evaluation plan (:class:`symbolic.plan.Plan`: derivatives computed with the
forward pass they differentiate). :class:`symbolic.Function` compiles it with :func:`jax.jit`;
:func:`symbolic.to_jax` hands it to the user.
"""

from __future__ import annotations

import numpy as np

from symbolic.errors import SymbolicError
from symbolic.plan import Plan
from symbolic.random import advance
from symbolic.tensor import (
    Constant,
    Placeholder,
    Tensor,
    Variable,
    as_tensor,
    format_shape,
    shapes_compatible,
)
from symbolic.tools import clone, output_structure, restore_structure
from symbolic.traversal import toposort
from symbolic.wrap import apply


def _normalize_updates(updates):
    if updates is None:
        return []
    items = list(updates.items()) if isinstance(updates, dict) else list(updates)
    pairs = []
    seen = set()
    for i, item in enumerate(items):
        try:
            var, expr = item
        except (TypeError, ValueError):
            raise SymbolicError(
                f"updates[{i}] must be a (variable, expression) pair; got {item!r}"
            ) from None
        if not isinstance(var, Variable):
            raise SymbolicError(
                f"updates: keys must be Variables; got {type(var).__name__} "
                f"{getattr(var, 'name', var)!r}"
            )
        if var in seen:
            raise SymbolicError(f"updates: variable {var.name!r} is updated twice")
        seen.add(var)
        expr = as_tensor(expr)
        if not shapes_compatible(expr.shape, var.shape):
            raise SymbolicError(
                f"updates: the update of {var.name!r} has shape {format_shape(expr.shape)}, "
                f"expected the variable's shape {format_shape(var.shape)}"
            )
        if np.dtype(expr.dtype).kind != var.dtype.kind and not (
            var.dtype.kind == "c" and expr.dtype.kind == "f"
        ):
            raise SymbolicError(
                f"updates: the update of {var.name!r} has dtype {expr.dtype}, expected {var.dtype}"
            )
        pairs.append((var, expr))
    return pairs


class Program:
    """Everything needed to evaluate outputs and updates of a graph as a pure function.

    Attributes
    ----------
    inputs : list of Placeholder
    mutable : list of Variable
        Updated variables, in the order of ``updates`` (then random keys).
    constant : list of Node
        Variables read but not updated, and constants.
    """

    def __init__(self, inputs, outputs, updates=None, givens=None, *, hold_random=False):
        if isinstance(inputs, Tensor):
            inputs = [inputs]
        self.inputs = list(inputs or [])
        for i, x in enumerate(self.inputs):
            if not isinstance(x, Placeholder):
                raise SymbolicError(
                    f"function: inputs[{i}] must be a placeholder; got {type(x).__name__} "
                    f"{getattr(x, 'name', x)!r}"
                )
        if len(set(self.inputs)) != len(self.inputs):
            raise SymbolicError("function: a placeholder appears twice in inputs")
        self.kind, self.keys, outs = (("none", None, []) if outputs is None
                                      else output_structure(outputs))
        pairs = _normalize_updates(updates)
        n_out = len(outs)
        targets = outs + [expr for _, expr in pairs]
        if givens:
            if not isinstance(givens, dict):
                givens = dict(givens)
            targets = clone(targets, replace=givens)
        outs, exprs = targets[:n_out], targets[n_out:]
        pairs = [(var, expr) for (var, _), expr in zip(pairs, exprs)]

        order = toposort(targets)
        if not hold_random:
            updated = {var for var, _ in pairs}
            for node in order:
                key = getattr(node, "random_key", None)
                if key is not None and key not in updated:
                    updated.add(key)
                    pairs.append((key, apply(advance, [key], name="advance_key", key=(advance,))))
            order = toposort(outs + [expr for _, expr in pairs])
        self.outputs = outs
        self.updates = pairs
        self.mutable = [var for var, _ in pairs]
        mutable = set(self.mutable)
        fed = set(self.inputs)
        self.constant = []
        constants = []
        for node in order:
            if node.fn is not None:
                continue
            if isinstance(node, Placeholder):
                if node not in fed:
                    raise SymbolicError(
                        f"function: the outputs depend on placeholder {node.name!r} "
                        f"{format_shape(node.shape)}, which is neither in inputs nor replaced by "
                        "givens"
                    )
            elif isinstance(node, Variable):
                if node not in mutable:
                    self.constant.append(node)
            elif isinstance(node, Constant):
                constants.append(node)
            else:
                raise SymbolicError(
                    f"function: leaf {node.name!r} of unknown kind {type(node).__name__}"
                )
        self._constant_variables = list(self.constant)
        self._fixed = tuple(node.value for node in constants)
        self.constant += constants
        self.order = [node for node in order if node.fn is not None]
        self.plan = Plan(self.order)
        self.forwarded = [i for i, o in enumerate(outs) if o.fn is None]
        self.n_traces = 0

    def constant_values(self):
        """Values of the read-only state: variables (current values), then constants."""
        return tuple([v._value for v in self._constant_variables]) + self._fixed

    def check_inputs(self, inputs):
        """At trace time: the inputs' shapes and dtypes against the placeholders'."""
        for x, value in zip(self.inputs, inputs):
            shape = tuple(value.shape)
            if len(shape) != len(x.shape) or not all(
                d is None or d == g for d, g in zip(x.shape, shape)
            ):
                raise SymbolicError(
                    f"input {x.name!r}: got shape {format_shape(shape)}, expected "
                    f"{format_shape(x.shape)}"
                )
            if value.dtype != x.dtype:
                raise SymbolicError(
                    f"input {x.name!r}: got dtype {value.dtype}, expected {x.dtype}; convert it, "
                    "or compile with allow_input_downcast=True"
                )

    def pure(self, mutable, constant, inputs):
        """Evaluate outputs and new mutable state from state and input values (traceable)."""
        self.n_traces += 1
        self.check_inputs(inputs)
        env = dict(zip(self.mutable, mutable))
        env.update(zip(self.constant, constant))
        env.update(zip(self.inputs, inputs))
        self.plan.run(env)
        outs = [env[o] for o in self.outputs]
        new = []
        for var, expr in self.updates:
            value = env[expr]
            if tuple(value.shape) != var.shape:
                raise SymbolicError(
                    f"updates: the update of {var.name!r} has shape {tuple(value.shape)} at run "
                    f"time, expected {var.shape}"
                )
            new.append(value.astype(var.dtype) if value.dtype != var.dtype else value)
        return outs, tuple(new)

    def pack(self, outs):
        """Arrange a list of output values in the structure the outputs were given in."""
        if self.kind == "none":
            return None
        return restore_structure(self.kind, self.keys, outs)
