"""symbolic: Theano-style symbolic programming over JAX.

Build a graph from placeholders, variables and operations; compile it with
:func:`function` into a single :func:`jax.jit` call with simultaneous updates; differentiate
it symbolically with :func:`grad`; transform it with :func:`clone`; or leave for plain JAX with
:func:`to_jax`.

Examples
--------
>>> import numpy as np, symbolic as S
>>> x = S.placeholder((None, 3), name="x")
>>> w = S.Variable(np.zeros(3, "float32"), name="w")
>>> loss = ((x @ w - 1.0) ** 2).mean()
>>> train = S.function([x], loss, updates={w: w - 0.1 * S.grad(loss, w)})
>>> losses = [float(train(np.ones((4, 3), "float32"))) for _ in range(3)]
>>> losses[0] > losses[-1]
True
"""

from symbolic import fft, linalg, nn, random
from symbolic.control import cond, map, scan, while_loop
from symbolic.convolution import avg_pool, conv, conv_transpose, max_pool
from symbolic.errors import SymbolicError
from symbolic.function import Function, function
from symbolic.gradients import grad, hessian, jacobian, jvp, stop_gradient, vjp
from symbolic.graph import Graph, current_graph, get_variables, scope
from symbolic.interop import PureFunction, to_jax
from symbolic.io import load, save
from symbolic.ops import *  # noqa: F403 - the explicit list symbolic.ops.NAMES
from symbolic.ops import NAMES as _OP_NAMES
from symbolic.ops import astype, getitem
from symbolic.tensor import (
    Apply,
    Constant,
    Node,
    Placeholder,
    Tensor,
    Variable,
    as_tensor,
    constant,
    placeholder,
)
from symbolic.tools import clone, debugprint, to_dot
from symbolic.traversal import ancestors
from symbolic.wrap import wrap

__version__ = "0.1.0"

__all__ = [
    "Apply",
    "Constant",
    "Function",
    "Graph",
    "Node",
    "Placeholder",
    "PureFunction",
    "SymbolicError",
    "Tensor",
    "Variable",
    "ancestors",
    "as_tensor",
    "avg_pool",
    "clone",
    "cond",
    "constant",
    "conv",
    "conv_transpose",
    "current_graph",
    "debugprint",
    "fft",
    "function",
    "get_variables",
    "grad",
    "hessian",
    "jacobian",
    "jvp",
    "linalg",
    "load",
    "map",
    "max_pool",
    "nn",
    "placeholder",
    "random",
    "save",
    "scan",
    "scope",
    "stop_gradient",
    "to_dot",
    "to_jax",
    "vjp",
    "while_loop",
    "wrap",
    *_OP_NAMES,
    "getitem",
    "astype",
]
