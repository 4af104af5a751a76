"""Graph tools: clone with replacement, text and DOT renderings."""

from __future__ import annotations

import io

from symbolic.errors import SymbolicError
from symbolic.tensor import (
    Apply,
    Node,
    Placeholder,
    Tensor,
    Variable,
    as_tensor,
    format_shape,
    shapes_compatible,
)
from symbolic.traversal import toposort
from symbolic.wrap import apply


def output_structure(outputs):
    """Flatten a tensor, a list/tuple or a dict of tensors.

    Returns
    -------
    kind : {"single", "list", "dict"}
    keys : list or None
        The dict's keys, in order, for ``kind == "dict"``.
    nodes : list of Node
        The tensors, in order; :func:`restore_structure` puts values back in that shape.
    """
    if isinstance(outputs, Node):
        return "single", None, [outputs]
    if isinstance(outputs, dict):
        keys = list(outputs)
        return "dict", keys, [as_tensor(outputs[k]) for k in keys]
    if isinstance(outputs, (list, tuple)):
        return "list", None, [as_tensor(o) for o in outputs]
    return "single", None, [as_tensor(outputs)]


def restore_structure(kind, keys, items):
    """``items`` in the structure :func:`output_structure` read: one item, a list or a dict."""
    if kind == "single":
        return items[0]
    if kind == "dict":
        return dict(zip(keys, items))
    return list(items)


def _rebuild(node, inputs, memo):
    meta = node.derivative
    if meta is not None:  # differentiate the copy: its region is that of the new inputs
        n_out, n_wrt, n_seed = len(meta.outputs), len(meta.wrt), len(meta.seeds)
        outs = meta.rebuild(inputs[:n_out], inputs[n_out:n_out + n_wrt],
                            inputs[n_out + n_wrt:n_out + n_wrt + n_seed])
        outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
        for old, new in zip(node.outputs, outs):
            memo[old] = new
        return outs[0].inputs[0]
    if isinstance(node, Apply):
        outs = apply(node.fn, inputs, name=node.op_name, key=node.op_key)
        outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
        new_apply = outs[0].inputs[0]
        for old, new in zip(node.outputs, outs):
            memo[old] = new
        return new_apply
    new = apply(node.fn, inputs, name=node.op_name, key=node.op_key)
    if isinstance(new, Tensor):
        new.random_key = node.random_key
    return new


def clone(outputs, replace=None):
    """Copy the graph of ``outputs`` with some nodes replaced.

    Parameters
    ----------
    outputs : Tensor, list of Tensor or dict of Tensor
    replace : dict, optional
        Maps tensors of the graph to their replacements (tensors or array-likes, of a
        compatible shape and the same dtype). Ancestors of a replaced tensor are not visited;
        replacements are used as they are. Nodes unaffected by the replacement are shared with
        the original graph, including variables. A derivative (``grad``, ``vjp``...) whose
        differentiated graph is affected is taken again of the copy: the gradient of the
        cloned cost with respect to the clones of its ``wrt``.

    Returns
    -------
    Tensor, list or dict
        Same structure as ``outputs``.

    Raises
    ------
    SymbolicError
        For a replacement of an incompatible shape or dtype.

    Examples
    --------
    >>> import symbolic as S
    >>> x = S.placeholder(())
    >>> y = S.clone(x * 2, replace={x: x + 1.0})
    >>> float(S.function([x], y)(1.0))
    4.0
    """
    kind, keys, items = output_structure(outputs)
    memo = {}
    for old, new in (replace or {}).items():
        if not isinstance(old, Tensor):
            raise SymbolicError(f"clone: replace keys must be tensors; got {type(old).__name__}")
        new = as_tensor(new)
        if not shapes_compatible(old.shape, new.shape):
            raise SymbolicError(
                f"clone: replacement for {old.name!r} has shape {format_shape(new.shape)}, "
                f"expected {format_shape(old.shape)}"
            )
        if new.dtype != old.dtype:
            raise SymbolicError(
                f"clone: replacement for {old.name!r} has dtype {new.dtype}, expected {old.dtype}"
            )
        memo[old] = new
    for node in toposort(items, stop=memo):
        if node in memo:
            continue
        if node.fn is None:
            memo[node] = node
            continue
        inputs = [memo.get(p, p) for p in node.inputs]
        if all(a is b for a, b in zip(inputs, node.inputs)):
            memo[node] = node
        else:
            memo[node] = _rebuild(node, inputs, memo)
    return restore_structure(kind, keys, [memo[i] for i in items])


def _label(node):
    if isinstance(node, Variable):
        kind = "Variable"
    elif isinstance(node, Placeholder):
        kind = "Placeholder"
    elif node.fn is None:
        kind = "Constant"
    else:
        kind = node.op_name
    if isinstance(node, Tensor):
        return f"{kind} '{node.name}' {format_shape(node.shape)} {node.dtype}"
    return f"{kind} '{node.name}' (multi-output)"


def debugprint(outputs, file=None):
    """Print the graph of ``outputs`` as an indented tree, one node a line.

    A node reached a second time is printed once more with ``*`` and not expanded again.

    Parameters
    ----------
    outputs : Tensor, list or dict of Tensor
    file : file-like, optional
        Where to write; by default the text is only returned.

    Returns
    -------
    str
    """
    _, _, items = output_structure(outputs)
    ids = {}
    lines = []
    stack = [(node, 0) for node in reversed(items)]
    while stack:
        node, depth = stack.pop()
        prefix = " |" * depth
        if node in ids:
            lines.append(f"{prefix}*{ids[node]} {_label(node)}")
            continue
        ids[node] = len(ids)
        lines.append(f"{prefix}#{ids[node]} {_label(node)}")
        for parent in reversed(node.inputs):
            stack.append((parent, depth + 1))
    text = "\n".join(lines)
    if file is not None:
        print(text, file=file)
    return text


def to_dot(outputs, name="symbolic"):
    """Render the graph of ``outputs`` in Graphviz DOT.

    Parameters
    ----------
    outputs : Tensor, list or dict of Tensor
    name : str, default "symbolic"

    Returns
    -------
    str
        A ``digraph`` with one node per graph node and an edge from each input to its user.
    """
    _, _, items = output_structure(outputs)
    order = toposort(items)
    index = {node: i for i, node in enumerate(order)}
    buf = io.StringIO()
    buf.write(f'digraph "{name}" {{\n  rankdir=BT;\n')
    for node in order:
        shape = "box" if node.fn is None else "ellipse"
        label = _label(node).replace('"', "'")
        buf.write(f'  n{index[node]} [label="{label}", shape={shape}];\n')
    for node in order:
        for parent in node.inputs:
            buf.write(f"  n{index[parent]} -> n{index[node]};\n")
    buf.write("}\n")
    return buf.getvalue()
