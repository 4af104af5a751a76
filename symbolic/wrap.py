"""Turning JAX functions into graph operations, with build-time shape inference.

:func:`wrap` is the one mechanism through which every operation of the package is made: the
NumPy-like namespace, ``nn``, ``linalg``, ``fft``, convolutions, and any function a user brings.
Arguments that are tensors (anywhere inside lists, tuples or dicts) become the node's inputs;
NumPy/JAX arrays become constants; everything else (Python numbers, axes, shapes, dtypes,
strings) is static and closed over, which keeps JAX's weak typing of Python scalars.

Shapes are inferred once, when the node is built, with :func:`jax.eval_shape`. Sizes marked
``None`` are replaced by two different stand-in sizes in two inference passes; an output size
that differs between the passes is reported as ``None``. Results are cached per graph by
operation, static arguments and input shapes, so building a large, repetitive graph costs a
dictionary look-up per node.
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from symbolic.errors import SymbolicError
from symbolic.graph import current_graph
from symbolic.tensor import Apply, Node, Tensor, constant, format_shape, output_tensor

# Stand-ins for unknown sizes: divisible by 1..10, 12, 14, 15, 16 so reshapes still work.
_PROBES = (5040, 10080)


def _static_key(leaf):
    if isinstance(leaf, slice):
        return ("slice", leaf.start, leaf.stop, leaf.step)
    hash(leaf)
    return (type(leaf), leaf)


def _describe(tensors):
    return ", ".join(f"{t.name!r}: {format_shape(t.shape)} {t.dtype}" for t in tensors)


def _eval(fn, tensors, sizes):
    """``jax.eval_shape`` with unknown dim ``(i, axis)`` set to ``sizes[(i, axis)]``."""
    specs = [
        jax.ShapeDtypeStruct(
            tuple(sizes[(i, a)] if d is None else d for a, d in enumerate(t.shape)),
            t.dtype,
            weak_type=t.weak_type,
        )
        for i, t in enumerate(tensors)
    ]
    return jax.eval_shape(fn, *specs)


def _infer(fn, tensors, op_name):
    """Return (treedef, [(shape, dtype, weak_type), ...]) of ``fn(*tensor_values)``.

    Unknown sizes are first all set to one stand-in. If the operation rejects that (an unknown
    size that must equal a known one, as in ``x[None-sized] + w[3]``), unknown sizes are pinned
    one at a time to sizes seen among the inputs until it succeeds. A second pass with another
    stand-in for the sizes left unpinned tells which output sizes depend on them.
    """
    unknown = [(i, a) for i, t in enumerate(tensors) for a, d in enumerate(t.shape) if d is None]
    sizes = dict.fromkeys(unknown, _PROBES[0])
    try:
        try:
            first = _eval(fn, tensors, sizes)
        except SymbolicError:
            raise
        except Exception as err:
            if not unknown:
                raise
            first = None
            candidates = sorted({d for t in tensors for d in t.shape if d is not None} | {1})
            free = list(unknown)
            while first is None and free:
                for dim, size in ((dim, c) for dim in free for c in candidates):
                    trial = dict(sizes)
                    trial[dim] = size
                    try:
                        first = _eval(fn, tensors, trial)
                    except Exception:
                        continue
                    sizes = trial
                    free.remove(dim)
                    break
                else:
                    raise err from None
        trials = [jax.tree_util.tree_flatten(first)]
        free = [dim for dim in unknown if sizes[dim] == _PROBES[0]]
        if free:
            second = dict(sizes)
            second.update(dict.fromkeys(free, _PROBES[1]))
            trials.append(jax.tree_util.tree_flatten(_eval(fn, tensors, second)))
    except SymbolicError:
        raise
    except Exception as err:  # any JAX error becomes a build-time error naming the inputs
        raise SymbolicError(
            f"cannot build {op_name!r} on inputs [{_describe(tensors)}]: "
            f"{type(err).__name__}: {err}"
        ) from None
    leaves, treedef = trials[0]
    if not leaves:
        raise SymbolicError(
            f"{op_name!r} returned no array (got {jax.tree_util.tree_unflatten(treedef, [])!r})"
        )
    avals = []
    for i, leaf in enumerate(leaves):
        if not hasattr(leaf, "shape") or not hasattr(leaf, "dtype"):
            raise SymbolicError(f"{op_name!r} returned a non-array output: {leaf!r}")
        shape = tuple(leaf.shape)
        if len(trials) > 1:
            other = trials[1][0][i].shape
            shape = tuple(d if d == e else None for d, e in zip(shape, other))
        avals.append((shape, np.dtype(leaf.dtype), bool(getattr(leaf, "weak_type", False))))
    return treedef, avals


def apply(fn, inputs, *, name, key=None, avals=None):
    """Build the node computing ``fn(*values_of(inputs))``.

    Parameters
    ----------
    fn : callable
        JAX-traceable; returns an array or a pytree of arrays.
    inputs : sequence of Tensor
    name : str
        Operation name shown by ``debugprint``.
    key : hashable, optional
        Identifies ``fn`` together with its static arguments; enables the shape cache.
    avals : tuple, optional
        ``(treedef, [(shape, dtype, weak_type), ...])`` of the result when the caller knows
        it (a gradient has its variable's): no shape inference is run.

    Returns
    -------
    Tensor or pytree of Tensor
    """
    inputs = tuple(inputs)
    graph = current_graph()
    cache_key = None
    if avals is not None:
        cached = avals
    elif key is not None:
        cache_key = (key, tuple(t.aval() for t in inputs))
        cached = graph.shape_cache.get(cache_key)
    else:
        cached = None
    if cached is None:  # not known, nor in the cache
        cached = _infer(fn, inputs, name)
        if cache_key is not None:
            graph.shape_cache[cache_key] = cached
    treedef, avals = cached
    if treedef.num_leaves == 1 and treedef.num_nodes == 1:
        shape, dtype, weak = avals[0]
        node = Tensor(fn, inputs, shape, dtype, name=name, op_name=name, weak_type=weak)
        node.op_key = key
        return node

    def flat_fn(*values):
        return tuple(jax.tree_util.tree_leaves(fn(*values)))

    node = Apply(flat_fn, inputs, name, op_name=name)
    node.op_key = None if key is None else ("flat", key)
    outs = [
        output_tensor(node, i, shape, dtype, weak, name=f"{name}[{i}]")
        for i, (shape, dtype, weak) in enumerate(avals)
    ]
    node.outputs = tuple(outs)
    return jax.tree_util.tree_unflatten(treedef, outs)


def call(fn, args, kwargs, *, name):
    """Apply ``fn(*args, **kwargs)`` where tensors may appear anywhere in the arguments.

    Without any tensor among the arguments, ``fn`` is called directly and its (concrete)
    result returned.
    """
    leaves, treedef = jax.tree_util.tree_flatten((args, kwargs))
    if not any(isinstance(leaf, Node) for leaf in leaves):
        return fn(*args, **kwargs)
    positions = []
    tensors = []
    static = list(leaves)
    for i, leaf in enumerate(leaves):
        if isinstance(leaf, Node):
            if not isinstance(leaf, Tensor):
                raise SymbolicError(
                    f"{name}: argument {leaf.name!r} is a multi-output node, not a tensor"
                )
            positions.append(i)
            tensors.append(leaf)
            static[i] = None
        elif isinstance(leaf, (np.ndarray, jax.Array)) and not isinstance(leaf, jax.core.Tracer):
            positions.append(i)
            tensors.append(constant(leaf))
            static[i] = None
    try:
        key = (
            fn,
            treedef,
            tuple(positions),
            tuple(None if i in positions else _static_key(v) for i, v in enumerate(static)),
        )
    except TypeError:
        key = None
    positions_t = tuple(positions)

    def node_fn(*values):
        full = list(static)
        for pos, value in zip(positions_t, values):
            full[pos] = value
        a, k = jax.tree_util.tree_unflatten(treedef, full)
        return fn(*a, **k)

    return apply(node_fn, tensors, name=name, key=key)


def wrap(fn, name=None):
    """Turn a JAX function into a symbolic operation.

    Parameters
    ----------
    fn : callable
        Any JAX-traceable function; it may return a pytree of arrays.
    name : str, optional
        Defaults to ``fn.__name__``.

    Returns
    -------
    callable
        Called with tensors anywhere among its arguments, it returns tensors (in the same
        pytree structure as ``fn``'s output); called without tensors, it calls ``fn``.

    Raises
    ------
    SymbolicError
        At build time, when ``fn`` cannot run on the inputs' shapes and dtypes.

    Examples
    --------
    >>> import jax.numpy as jnp, symbolic as S
    >>> def moments(x):
    ...     return {"mean": jnp.mean(x), "var": jnp.var(x)}
    >>> x = S.placeholder((None,))
    >>> out = S.wrap(moments)(x)
    >>> sorted(out), out["var"].shape
    (['mean', 'var'], ())
    """
    if not callable(fn):
        raise SymbolicError(f"wrap: fn must be callable; got {type(fn).__name__}")
    op_name = name or getattr(fn, "__name__", "op")

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        return call(fn, args, kwargs, name=op_name)

    wrapped.__wrapped_jax__ = fn
    return wrapped
