"""Symbolic differentiation: gradients, Jacobians, Hessians, JVPs and VJPs.

Each function builds one node that differentiates its *region*, the part of the graph that
depends on the differentiated tensors (found with :func:`symbolic.traversal.region`);
everything else enters as a constant. The node records what it differentiates
(:class:`symbolic.plan.Derivative`), and its inputs are the differentiated outputs, the
tensors differentiated with respect to, the seeds (cotangents, tangents) and whatever the
region reads. A compiled function evaluates the region once, inside the one ``jax.vjp`` (or
``jax.linearize``) that gives every derivative of it, as hand-written JAX would
(:class:`symbolic.plan.Plan`); on its own, the node recomputes the region. The results are
ordinary tensors: they can be differentiated again (grads of grads), cloned and compiled.
"""

from __future__ import annotations

import warnings

import jax
import numpy as np

from symbolic.errors import SymbolicError
from symbolic.plan import Derivative
from symbolic.tensor import Tensor, as_tensor, format_shape
from symbolic.traversal import region, toposort
from symbolic.wrap import apply


def _as_list(wrt, what):
    single = isinstance(wrt, Tensor)
    items = [wrt] if single else list(wrt)
    for i, w in enumerate(items):
        if not isinstance(w, Tensor):
            raise SymbolicError(
                f"{what}: wrt[{i}] must be a symbolic tensor; got {type(w).__name__}"
            )
        if not np.issubdtype(w.dtype, np.inexact):
            raise SymbolicError(
                f"{what}: cannot differentiate with respect to {w.name!r} of dtype {w.dtype}; "
                "only floating and complex tensors have gradients"
            )
    return single, items


def _check_connected(outputs, wrt, disconnected_inputs, what):
    if disconnected_inputs not in ("raise", "warn", "ignore"):
        raise SymbolicError(
            f"{what}: disconnected_inputs must be 'raise', 'warn' or 'ignore'; "
            f"got {disconnected_inputs!r}"
        )
    reachable = set(toposort(outputs))
    missing = [w.name for w in wrt if w not in reachable]
    if not missing or disconnected_inputs == "ignore":
        return
    message = (
        f"{what}: the output does not depend on {missing}; their gradient is zero. Pass "
        "disconnected_inputs='ignore' to accept that."
    )
    if disconnected_inputs == "raise":
        raise SymbolicError(message)
    warnings.warn(message, stacklevel=3)


def _derivative(kind, outputs, wrt, seeds, rebuild, *, probes=(), name):
    """Build the node of one derivative; return its result tensors (one per value).

    A gradient has the shape, dtype and weak type of the tensor it is taken with respect
    to, so its node is built without shape inference: inference would trace the backward
    pass twice, and with unknown sizes it may fail where the graph is sound (unknown sizes
    related by a reshape, a batch ``B`` and ``B * n``, take independent stand-in sizes)."""
    probe_set = set(probes)
    roots = [w for w in wrt if w not in probe_set]
    order, frontier, _ = region(outputs, roots)
    meta = Derivative(kind, outputs, wrt, _unique(roots), probes, seeds, order, frontier,
                      rebuild)
    avals = None
    if kind == "grad":
        avals = (jax.tree_util.tree_structure(tuple(wrt)),
                 [(w.shape, w.dtype, w.weak_type) for w in wrt])
    res = apply(meta.standalone, meta.inputs, name=name, avals=avals)
    res = list(res) if isinstance(res, (tuple, list)) else [res]
    res[0].inputs[0].derivative = meta
    return res


def _unique(items):
    return list(dict.fromkeys(items))


def grad(cost, wrt, *, disconnected_inputs="raise"):
    """Gradient of a scalar cost with respect to one or several tensors.

    Parameters
    ----------
    cost : Tensor [shape=()]
        A real scalar.
    wrt : Tensor or list of Tensor
        Variables, placeholders or any intermediate tensors of the graph.
    disconnected_inputs : {"raise", "warn", "ignore"}, default "raise"
        What to do when ``cost`` does not depend on one of ``wrt`` (its gradient is zero).

    Returns
    -------
    Tensor or list of Tensor
        Same structure as ``wrt``, each gradient of the shape and dtype of its tensor.

    Raises
    ------
    SymbolicError
        For a non-scalar or complex cost, a non-float ``wrt``, or a disconnected input.

    Examples
    --------
    >>> import symbolic as S
    >>> x = S.placeholder(())
    >>> (gx,) = S.grad(x ** 3, [x])
    >>> float(S.function([x], S.grad(gx, x))(2.0))
    12.0
    """
    cost = as_tensor(cost)
    single, wrt = _as_list(wrt, "grad")
    if cost.shape != ():
        raise SymbolicError(
            f"grad: cost {cost.name!r} must be a scalar; got shape {format_shape(cost.shape)}. "
            "Reduce it first (.sum() or .mean())"
        )
    if not np.issubdtype(cost.dtype, np.floating):
        raise SymbolicError(
            f"grad: cost {cost.name!r} must be real floating; got dtype {cost.dtype}"
        )
    _check_connected([cost], wrt, disconnected_inputs, "grad")
    # A tensor of wrt computed from another one is not a cut point: the gradient with respect
    # to the earlier tensor must include the paths through it. It gets a zero probe instead.
    others = set(wrt)
    downstream = _unique(w for w in wrt if any(a in others and a is not w
                                               for a in toposort([w])))
    grads = _derivative("grad", [cost], wrt, (), _rebuild_grad, probes=downstream,
                        name="grad")
    return grads[0] if single else grads


def _rebuild_grad(outputs, wrt, seeds):
    return grad(outputs[0], list(wrt), disconnected_inputs="ignore")


def _outputs_list(outputs, what):
    single = isinstance(outputs, Tensor)
    items = [outputs] if single else [as_tensor(o) for o in outputs]
    return single, items


def jacobian(expression, wrt, *, mode="reverse", disconnected_inputs="raise"):
    """Jacobian of a tensor with respect to one or several tensors.

    Parameters
    ----------
    expression : Tensor [shape=S]
    wrt : Tensor [shape=W] or list of Tensor
    mode : {"reverse", "forward"}, default "reverse"
        Reverse mode (``jax.jacrev``) suits fewer outputs than inputs; forward the converse.
    disconnected_inputs : {"raise", "warn", "ignore"}

    Returns
    -------
    Tensor [shape=S + W] or list of Tensor
    """
    expression = as_tensor(expression)
    single, wrt = _as_list(wrt, "jacobian")
    if mode not in ("reverse", "forward"):
        raise SymbolicError(f"jacobian: mode must be 'reverse' or 'forward'; got {mode!r}")
    _check_connected([expression], wrt, disconnected_inputs, "jacobian")
    kind = "jacrev" if mode == "reverse" else "jacfwd"
    jacs = _derivative(kind, [expression], wrt, (),
                       lambda o, w, s: jacobian(o[0], list(w), mode=mode,
                                                disconnected_inputs="ignore"),
                       name="jacobian")
    return jacs[0] if single else jacs


def hessian(cost, wrt, *, disconnected_inputs="raise"):
    """Hessian of a scalar cost: for each tensor of ``wrt`` its own block.

    Parameters
    ----------
    cost : Tensor [shape=()]
    wrt : Tensor [shape=W] or list of Tensor

    Returns
    -------
    Tensor [shape=W + W] or list of Tensor
        The diagonal blocks, as Theano's ``hessian`` returns them.
    """
    single, wrt = _as_list(wrt, "hessian")
    blocks = [
        jacobian(
            grad(cost, w, disconnected_inputs=disconnected_inputs), w, disconnected_inputs="ignore"
        )
        for w in wrt
    ]
    return blocks[0] if single else blocks


def _check_pairs(primals, tangents, what, label):
    if len(primals) != len(tangents):
        raise SymbolicError(
            f"{what}: got {len(primals)} tensors in wrt but {len(tangents)} {label}"
        )
    out = []
    for w, t in zip(primals, tangents):
        t = as_tensor(t)
        if t.ndim != w.ndim or any(
            a is not None and b is not None and a != b for a, b in zip(t.shape, w.shape)
        ):
            raise SymbolicError(
                f"{what}: {label} for {w.name!r} has shape {format_shape(t.shape)}, "
                f"expected {format_shape(w.shape)}"
            )
        out.append(t)
    return out


def jvp(outputs, wrt, tangents):
    """Forward-mode product of the Jacobian of ``outputs`` with ``tangents``.

    Parameters
    ----------
    outputs : Tensor or list of Tensor
    wrt : Tensor or list of Tensor
    tangents : Tensor or list of Tensor
        One per ``wrt``, of the same shape.

    Returns
    -------
    Tensor or list of Tensor
        The directional derivative of each output, shaped like the output.
    """
    single, outs = _outputs_list(outputs, "jvp")
    _, wrt = _as_list(wrt, "jvp")
    tangents = _check_pairs(
        wrt, [tangents] if isinstance(tangents, Tensor) else list(tangents), "jvp", "tangent"
    )
    res = _derivative("jvp", outs, wrt, tangents,
                      lambda o, w, s: jvp(list(o), list(w), list(s)), name="jvp")
    return res[0] if single else res


def vjp(outputs, wrt, cotangents):
    """Reverse-mode product of ``cotangents`` with the Jacobian of ``outputs``.

    Parameters
    ----------
    outputs : Tensor or list of Tensor
    wrt : Tensor or list of Tensor
    cotangents : Tensor or list of Tensor
        One per output, of the same shape.

    Returns
    -------
    Tensor or list of Tensor
        One per ``wrt``, shaped like it.
    """
    _, outs = _outputs_list(outputs, "vjp")
    single, wrt = _as_list(wrt, "vjp")
    cts = _check_pairs(
        outs,
        [cotangents] if isinstance(cotangents, Tensor) else list(cotangents),
        "vjp",
        "cotangent",
    )
    res = _derivative("vjp", outs, wrt, cts,
                      lambda o, w, s: vjp(list(o), list(w), list(s)), name="vjp")
    return res[0] if single else res


def _stop_gradient(x):
    return jax.lax.stop_gradient(x)


def stop_gradient(x):
    """Treat ``x`` as a constant when differentiating (its gradient is not propagated).

    Parameters
    ----------
    x : Tensor

    Returns
    -------
    Tensor
    """
    x = as_tensor(x)
    return apply(_stop_gradient, [x], name="stop_gradient", key=(_stop_gradient,))
