"""Control flow with symbolic bodies: scan, map, cond and while_loop.

Bodies are ordinary Python functions called once, at build time, on placeholders standing for
one step's values; the graph they return is compiled into :func:`jax.lax.scan`,
:func:`jax.vmap`, :func:`jax.lax.cond` or :func:`jax.lax.while_loop`. Tensors from outside the
body may be used freely inside it (they enter as constants of the loop). Random tensors created
inside a body are drawn once per call, not once per step: pass per-step noise as a sequence.
"""

from __future__ import annotations

import jax
import numpy as np

from symbolic.errors import SymbolicError, is_int
from symbolic.tensor import Tensor, as_tensor, format_shape, placeholder, shapes_compatible
from symbolic.traversal import subgraph
from symbolic.wrap import apply


def _as_tensor_list(items, what):
    if items is None:
        return []
    if isinstance(items, Tensor) or not isinstance(items, (list, tuple)):
        items = [items]
    return [as_tensor(x) for x in items]


def _stand_in(t, shape, what):
    return placeholder(shape, t.dtype, name=f"{what}_{t.name.rsplit('/', 1)[-1]}")


def _body_outputs(result, what):
    single = isinstance(result, Tensor) or not isinstance(result, (list, tuple))
    outs = [result] if single else list(result)
    return single, [as_tensor(o) for o in outs]


def _pack(result, single):
    result = list(result) if isinstance(result, (tuple, list)) else [result]
    return result[0] if single else result


def scan(fn, sequences=None, outputs_info=None, non_sequences=None, n_steps=None, *, reverse=False):
    """Loop ``fn`` over the leading axis of ``sequences``, carrying recurrent outputs.

    Theano's semantics: ``fn(*sequence_slices, *previous_outputs, *non_sequences)`` returns
    one tensor or a list; outputs with an initial value in ``outputs_info`` are fed back as
    ``previous_outputs``, those with ``None`` are not.

    Parameters
    ----------
    fn : callable
    sequences : Tensor or list of Tensor [shape=(n_steps, ...)], optional
    outputs_info : Tensor, None, or list of (Tensor or None), optional
        Initial values of the recurrent outputs; ``None`` for outputs not fed back. When
        omitted, no output is recurrent.
    non_sequences : Tensor or list of Tensor, optional
        Passed unchanged as the last arguments of ``fn``.
    n_steps : int, optional
        Required when there are no sequences.
    reverse : bool, default False
        Walk the sequences from the end.

    Returns
    -------
    Tensor or list of Tensor [shape=(n_steps, ...)]
        Every output of ``fn`` stacked over steps (same structure as ``fn``'s return).

    Raises
    ------
    SymbolicError
        When ``fn`` returns a recurrent output whose shape or dtype differs from its initial
        value, or the number of outputs does not match ``outputs_info``.

    Examples
    --------
    >>> import symbolic as S
    >>> x = S.placeholder((None,))
    >>> csum = S.scan(lambda xt, acc: acc + xt, sequences=x, outputs_info=S.constant(0.0))
    >>> S.function([x], csum)([1.0, 2.0, 3.0]).tolist()
    [1.0, 3.0, 6.0]
    """
    seqs = _as_tensor_list(sequences, "scan")
    for s in seqs:
        if s.ndim == 0:
            raise SymbolicError(
                f"scan: sequence {s.name!r} is 0-d; sequences need a leading step axis"
            )
    info_given = outputs_info is not None
    if outputs_info is None:
        infos = []
    elif isinstance(outputs_info, (list, tuple)):
        infos = [None if o is None else as_tensor(o) for o in outputs_info]
    else:
        infos = [as_tensor(outputs_info)]
    extra = _as_tensor_list(non_sequences, "scan")
    if not seqs and n_steps is None:
        raise SymbolicError("scan: give sequences or n_steps (got neither)")
    if n_steps is not None and (not is_int(n_steps) or n_steps < 0):
        raise SymbolicError(f"scan: n_steps must be a non-negative int; got {n_steps!r}")

    slices = [_stand_in(s, s.shape[1:], "scan_t") for s in seqs]
    carried = [(i, init) for i, init in enumerate(infos) if init is not None]
    carries = [_stand_in(init, init.shape, "scan_prev") for _, init in carried]
    single, outs = _body_outputs(fn(*slices, *carries, *extra), "scan")
    if info_given and len(outs) != len(infos):
        raise SymbolicError(
            f"scan: fn returned {len(outs)} outputs but outputs_info has {len(infos)} entries"
        )
    for i, init in carried:
        out = outs[i]
        if not shapes_compatible(out.shape, init.shape):
            raise SymbolicError(
                f"scan: recurrent output {i} has shape {format_shape(out.shape)} but its initial "
                f"value {init.name!r} has shape {format_shape(init.shape)}"
            )
        if np.dtype(out.dtype).kind != np.dtype(init.dtype).kind:
            raise SymbolicError(
                f"scan: recurrent output {i} has dtype {out.dtype} but its initial value has "
                f"dtype {init.dtype}"
            )
    frontier, body_fn, _ = subgraph(outs, [*slices, *carries])
    ns, nc = len(seqs), len(carries)
    carried_index = [i for i, _ in carried]
    carry_dtypes = [init.dtype for _, init in carried]

    def scan_fn(*values):
        seq_v, init_v, fixed = values[:ns], values[ns : ns + nc], values[ns + nc :]

        def body(carry, xs):
            step = body_fn([*xs, *carry], fixed)
            new_carry = tuple(step[i].astype(dt) for i, dt in zip(carried_index, carry_dtypes))
            return new_carry, tuple(step)

        _, ys = jax.lax.scan(body, tuple(init_v), tuple(seq_v), length=n_steps, reverse=reverse)
        return ys

    result = apply(scan_fn, [*seqs, *[init for _, init in carried], *frontier], name="scan")
    return _pack(result, single)


def map(fn, sequences, non_sequences=None):  # noqa: A001 - Theano's name
    """Apply ``fn`` to every slice along the leading axis of ``sequences`` (vectorized).

    Parameters
    ----------
    fn : callable
        ``fn(*slices, *non_sequences)`` returns a tensor or a list.
    sequences : Tensor or list of Tensor [shape=(n, ...)]
    non_sequences : Tensor or list of Tensor, optional

    Returns
    -------
    Tensor or list of Tensor [shape=(n, ...)]
    """
    seqs = _as_tensor_list(sequences, "map")
    if not seqs:
        raise SymbolicError("map: needs at least one sequence")
    extra = _as_tensor_list(non_sequences, "map")
    slices = [_stand_in(s, s.shape[1:], "map_t") for s in seqs]
    single, outs = _body_outputs(fn(*slices, *extra), "map")
    frontier, body_fn, _ = subgraph(outs, slices)
    ns = len(seqs)

    def map_fn(*values):
        seq_v, fixed = values[:ns], values[ns:]
        return jax.vmap(lambda *xs: tuple(body_fn(list(xs), fixed)))(*seq_v)

    return _pack(apply(map_fn, [*seqs, *frontier], name="map"), single)


def cond(pred, true_fn, false_fn, *operands):
    """Evaluate one of two symbolic branches, chosen at run time.

    Parameters
    ----------
    pred : Tensor [shape=()]
        Boolean (or number, compared with zero).
    true_fn, false_fn : callable
        Called with ``*operands`` (placeholders standing for them); return tensors of the same
        shapes and dtypes.
    *operands : Tensor

    Returns
    -------
    Tensor or list of Tensor

    Raises
    ------
    SymbolicError
        When ``pred`` is not a scalar or the branches' outputs differ in number, shape or dtype.
    """
    pred = as_tensor(pred)
    if pred.shape != ():
        raise SymbolicError(
            f"cond: pred {pred.name!r} must be a scalar; got shape {format_shape(pred.shape)}"
        )
    ops = [as_tensor(o) for o in operands]
    stand = [_stand_in(o, o.shape, "cond_arg") for o in ops]
    single_t, outs_t = _body_outputs(true_fn(*stand), "cond")
    _, outs_f = _body_outputs(false_fn(*stand), "cond")
    if len(outs_t) != len(outs_f):
        raise SymbolicError(f"cond: true_fn returned {len(outs_t)} outputs, false_fn {len(outs_f)}")
    for i, (a, b) in enumerate(zip(outs_t, outs_f)):
        if not shapes_compatible(a.shape, b.shape) or a.dtype != b.dtype:
            raise SymbolicError(
                f"cond: output {i} differs between branches: {format_shape(a.shape)} {a.dtype} "
                f"vs {format_shape(b.shape)} {b.dtype}"
            )
    front_t, fn_t, _ = subgraph(outs_t, stand)
    front_f, fn_f, _ = subgraph(outs_f, stand)
    no, nt = len(ops), len(front_t)

    def cond_fn(p, *values):
        op_v, ft, ff = values[:no], values[no : no + nt], values[no + nt :]
        return jax.lax.cond(
            p.astype(bool) if p.dtype != bool else p,
            lambda args: tuple(fn_t(list(args[0]), args[1])),
            lambda args: tuple(fn_f(list(args[0]), args[2])),
            (tuple(op_v), tuple(ft), tuple(ff)),
        )

    return _pack(apply(cond_fn, [pred, *ops, *front_t, *front_f], name="cond"), single_t)


def while_loop(cond_fn, body_fn, init_vals):
    """Repeat ``body_fn`` while ``cond_fn`` holds (forward-differentiable only, as in JAX).

    Parameters
    ----------
    cond_fn : callable
        ``cond_fn(*vals)`` returns a boolean scalar tensor.
    body_fn : callable
        ``body_fn(*vals)`` returns new values of the same shapes and dtypes.
    init_vals : Tensor or list of Tensor

    Returns
    -------
    Tensor or list of Tensor
        The values when ``cond_fn`` first fails.
    """
    single = isinstance(init_vals, Tensor) or not isinstance(init_vals, (list, tuple))
    inits = _as_tensor_list(init_vals, "while_loop")
    stand = [_stand_in(v, v.shape, "loop_var") for v in inits]
    c = as_tensor(cond_fn(*stand))
    if c.shape != ():
        raise SymbolicError(
            f"while_loop: cond_fn must return a scalar; got shape {format_shape(c.shape)}"
        )
    _, new = _body_outputs(body_fn(*stand), "while_loop")
    if len(new) != len(inits):
        raise SymbolicError(
            f"while_loop: body_fn returned {len(new)} values, expected {len(inits)}"
        )
    for i, (a, b) in enumerate(zip(new, inits)):
        if not shapes_compatible(a.shape, b.shape):
            raise SymbolicError(
                f"while_loop: value {i} changes shape from {format_shape(b.shape)} to "
                f"{format_shape(a.shape)}"
            )
    front_c, fc, _ = subgraph([c], stand)
    front_b, fb, _ = subgraph(new, stand)
    dtypes = [v.dtype for v in inits]
    ni, ncf = len(inits), len(front_c)

    def loop_fn(*values):
        init_v, vc, vb = values[:ni], values[ni : ni + ncf], values[ni + ncf :]
        return jax.lax.while_loop(
            lambda vs: fc(list(vs), vc)[0].astype(bool),
            lambda vs: tuple(o.astype(dt) for o, dt in zip(fb(list(vs), vb), dtypes)),
            tuple(init_v),
        )

    return _pack(apply(loop_fn, [*inits, *front_c, *front_b], name="while_loop"), single)
