"""Leaving the symbolic world: a graph as a plain, pure JAX function."""

from __future__ import annotations

from symbolic.errors import SymbolicError
from symbolic.program import Program


class PureFunction:
    """A graph as ``f(state, *inputs) -> (outputs, new_state)``; see :func:`to_jax`.

    Attributes
    ----------
    variables : list of Variable
        Every variable the graph reads or updates; ``state`` is keyed by their names.
    """

    def __init__(self, program):
        self._program = program
        self.variables = list(program.mutable) + [
            node for node in program.constant if hasattr(node, "_value")
        ]
        self._constants = [node for node in program.constant if not hasattr(node, "_value")]
        names = [v.name for v in self.variables]
        if len(set(names)) != len(names):
            raise SymbolicError(f"to_jax: variable names are not unique: {names}")

    def state(self):
        """The variables' current values, as a dict name -> jax.Array."""
        return {v.name: v._value for v in self.variables}

    def __call__(self, state, *inputs):
        """Evaluate outputs and the new state.

        Parameters
        ----------
        state : dict
            name -> array for every variable (as :meth:`state` returns).
        *inputs : array_like
            One per input placeholder.

        Returns
        -------
        outputs : array, list or dict
        new_state : dict
            ``state`` with the updated variables replaced.
        """
        program = self._program
        if len(inputs) != len(program.inputs):
            raise SymbolicError(f"to_jax: expected {len(program.inputs)} inputs, got {len(inputs)}")
        missing = [v.name for v in self.variables if v.name not in state]
        if missing:
            raise SymbolicError(f"to_jax: state lacks variables {missing}")
        mutable = tuple(state[v.name] for v in program.mutable)
        constant = tuple(
            state[node.name] if hasattr(node, "_value") else node.value for node in program.constant
        )
        outs, new = program.pure(mutable, constant, tuple(inputs))
        new_state = dict(state)
        new_state.update({v.name: value for v, value in zip(program.mutable, new)})
        return program.pack(outs), new_state


def to_jax(outputs, inputs, updates=None, givens=None, *, hold_random=False):
    """Turn a graph into a pure JAX function, for ``jax.jit``, ``jax.vmap``, ``jax.grad``...

    Parameters
    ----------
    outputs : Tensor, list or dict of Tensor
    inputs : list of Placeholder
    updates, givens, hold_random
        As for :func:`symbolic.function`.

    Returns
    -------
    PureFunction
        ``f(state, *inputs) -> (outputs, new_state)``; ``f.state()`` gives the current state.

    Examples
    --------
    >>> import jax, symbolic as S
    >>> x = S.placeholder(())
    >>> w = S.Variable(3.0, name="w")
    >>> f = S.to_jax(w * x, [x])
    >>> float(jax.grad(lambda s: f(s, 2.0)[0])(f.state())["w"])
    2.0
    """
    return PureFunction(Program(inputs, outputs, updates, givens, hold_random=hold_random))
