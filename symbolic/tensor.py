"""Graph nodes: placeholders, variables, constants and the results of operations.

Every node holds a JAX-traceable callable ``fn`` and its ``inputs`` (other nodes); evaluating
``fn(*input_values)`` gives its value. A :class:`Tensor` also knows its static ``shape`` (with
``None`` for sizes known only when a function is called) and ``dtype``, inferred when the node
is built. An :class:`Apply` node computes several values at once (the flattened leaves of a
pytree); each leaf is exposed as a :class:`Tensor` that selects it.
"""

from __future__ import annotations

import operator

import jax
import jax.numpy as jnp
import numpy as np

from symbolic.errors import SymbolicError, is_int
from symbolic.graph import current_graph


def _ops():
    from symbolic import ops

    return ops


def format_shape(shape):
    """``(None, 64)`` -> ``'(None, 64)'``; used in messages."""
    return (
        "("
        + ", ".join("None" if d is None else str(d) for d in shape)
        + ("," if len(shape) == 1 else "")
        + ")"
    )


def shapes_compatible(a, b):
    """Whether two static shapes can describe the same array (``None`` matches any size)."""
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


class Node:
    """Base of all graph nodes.

    Attributes
    ----------
    fn : callable or None
        Computes the node's value from its inputs' values; ``None`` for leaves.
    inputs : tuple of Node
    name : str
    graph : Graph
    derivative : symbolic.plan.Derivative or None
        Set on the nodes built by :func:`symbolic.grad` and the other derivatives: what they
        differentiate, so that a compiled function computes it with the forward pass.
    """

    __slots__ = ("fn", "inputs", "name", "graph", "op_name", "op_key", "derivative",
                 "__weakref__")

    def __init__(self, fn, inputs, name, op_name=None):
        self.fn = fn
        self.op_key = None
        self.derivative = None
        self.inputs = tuple(inputs)
        self.graph = current_graph()
        self.op_name = op_name or (name or type(self).__name__.lower())
        self.name = self.graph.scoped(name or self.op_name)

    @property
    def is_leaf(self):
        return self.fn is None


class Tensor(Node):
    """A symbolic array: the result of an operation, or a leaf.

    Tensors support Python operators (``+ - * / // % ** @``, comparisons ``< <= > >=``,
    unary ``- abs ~``), NumPy-style indexing and the usual methods (``sum``, ``mean``,
    ``reshape``, ``T``, ``astype``...). ``==`` compares identity (so tensors can be
    dictionary keys, as in Theano): use :func:`symbolic.equal` for element-wise equality.

    Attributes
    ----------
    shape : tuple of (int or None)
        Static shape; ``None`` where the size is known only at call time.
    dtype : numpy.dtype
    weak_type : bool
        Whether the value is weakly typed (a Python scalar); follows JAX's promotion rules.
    """

    __slots__ = ("shape", "dtype", "weak_type", "random_key")
    __array_priority__ = 1000
    __array_ufunc__ = None  # make NumPy defer to our reflected operators

    def __init__(self, fn, inputs, shape, dtype, *, name=None, op_name=None, weak_type=False):
        super().__init__(fn, inputs, name, op_name)
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self.weak_type = bool(weak_type)
        self.random_key = None

    # -- description --------------------------------------------------------------------
    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        """Number of elements, or ``None`` when a dimension is unknown."""
        if any(d is None for d in self.shape):
            return None
        return int(np.prod(self.shape, dtype=np.int64))

    def aval(self):
        """Abstract value used for shape inference (``None`` dims left in place)."""
        return self.shape, self.dtype, self.weak_type

    def __repr__(self):
        shape = format_shape(self.shape)
        return f"{type(self).__name__}(name={self.name!r}, shape={shape}, dtype={self.dtype})"

    def __len__(self):
        if not self.shape:
            raise SymbolicError(f"len() of the 0-d tensor {self.name!r}")
        if self.shape[0] is None:
            raise SymbolicError(
                f"len() of tensor {self.name!r}: its first dimension is unknown (None) until "
                "call time"
            )
        return self.shape[0]

    def __bool__(self):
        raise SymbolicError(
            f"the truth value of symbolic tensor {self.name!r} is unknown when the graph is built; "
            "use symbolic.cond / symbolic.where for data-dependent choices"
        )

    def __iter__(self):
        raise SymbolicError(
            f"symbolic tensor {self.name!r} is not iterable; index it (x[i]) or use "
            "symbolic.map / symbolic.scan"
        )

    def __array__(self, dtype=None, copy=None):
        raise SymbolicError(
            f"symbolic tensor {self.name!r} has no value yet; compile it with symbolic.function "
            "or call .eval()"
        )

    __hash__ = object.__hash__

    def eval(self, feed=None):
        """Compile and evaluate this tensor.

        Parameters
        ----------
        feed : dict, optional
            Maps placeholders to the arrays to feed.

        Returns
        -------
        jax.Array
        """
        from symbolic.function import function

        feed = dict(feed or {})
        return function(list(feed), self)(*feed.values())

    # -- arithmetic ---------------------------------------------------------------------
    def __add__(self, o):
        return _ops().add(self, o)

    def __radd__(self, o):
        return _ops().add(o, self)

    def __sub__(self, o):
        return _ops().subtract(self, o)

    def __rsub__(self, o):
        return _ops().subtract(o, self)

    def __mul__(self, o):
        return _ops().multiply(self, o)

    def __rmul__(self, o):
        return _ops().multiply(o, self)

    def __truediv__(self, o):
        return _ops().true_divide(self, o)

    def __rtruediv__(self, o):
        return _ops().true_divide(o, self)

    def __floordiv__(self, o):
        return _ops().floor_divide(self, o)

    def __rfloordiv__(self, o):
        return _ops().floor_divide(o, self)

    def __mod__(self, o):
        return _ops().mod(self, o)

    def __rmod__(self, o):
        return _ops().mod(o, self)

    def __pow__(self, o):
        return _ops().power(self, o)

    def __rpow__(self, o):
        return _ops().power(o, self)

    def __matmul__(self, o):
        return _ops().matmul(self, o)

    def __rmatmul__(self, o):
        return _ops().matmul(o, self)

    def __neg__(self):
        return _ops().negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops().abs(self)

    def __invert__(self):
        return _ops().invert(self)

    def __and__(self, o):
        return _ops().bitwise_and(self, o)

    def __rand__(self, o):
        return _ops().bitwise_and(o, self)

    def __or__(self, o):
        return _ops().bitwise_or(self, o)

    def __ror__(self, o):
        return _ops().bitwise_or(o, self)

    def __xor__(self, o):
        return _ops().bitwise_xor(self, o)

    def __rxor__(self, o):
        return _ops().bitwise_xor(o, self)

    def __lt__(self, o):
        return _ops().less(self, o)

    def __le__(self, o):
        return _ops().less_equal(self, o)

    def __gt__(self, o):
        return _ops().greater(self, o)

    def __ge__(self, o):
        return _ops().greater_equal(self, o)

    def __getitem__(self, index):
        return _ops().getitem(self, index)

    # -- methods ------------------------------------------------------------------------
    @property
    def T(self):
        return _ops().transpose(self)

    @property
    def real(self):
        return _ops().real(self)

    @property
    def imag(self):
        return _ops().imag(self)

    def conj(self):
        return _ops().conj(self)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _ops().reshape(self, shape)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _ops().transpose(self, axes or None)

    def astype(self, dtype):
        return _ops().astype(self, dtype)

    def flatten(self):
        return _ops().ravel(self)

    ravel = flatten

    def dot(self, other):
        return _ops().dot(self, other)

    def __getattr__(self, attr):
        # Reductions and other array methods: x.sum(axis=1), x.argmax(-1), x.clip(0, 1)...
        if attr in _METHODS:
            op = getattr(_ops(), attr)
            return lambda *args, **kwargs: op(self, *args, **kwargs)
        raise AttributeError(f"{type(self).__name__!s} object has no attribute {attr!r}")


_METHODS = frozenset(
    "sum mean prod max min std var argmax argmin any all cumsum cumprod clip squeeze "
    "swapaxes round take repeat sort argsort trace diagonal nonzero".split()
)


class Placeholder(Tensor):
    """An input fed when a compiled function is called; see :func:`placeholder`."""

    __slots__ = ()


class Constant(Tensor):
    """A fixed array baked into the graph; see :func:`constant`."""

    __slots__ = ("value",)


class Variable(Tensor):
    """A named, persistent array: the state of a graph (weights, statistics, random keys).

    Parameters
    ----------
    value : array_like
        Initial value; its shape and dtype are fixed for the variable's life (dtypes follow
        JAX's canonicalisation: float64 becomes float32 unless x64 is enabled).
    name : str, optional
        Unique within the graph (a suffix is added when taken), prefixed by active scopes.
    trainable : bool, default True
        Adds the ``"trainable"`` tag; :func:`get_variables` filters on it.
    tags : iterable of str, optional
        Free-form labels (``"regularizable"``, ``"random_state"``...).
    dtype : dtype, optional
        Cast the initial value to this dtype.

    Attributes
    ----------
    value : numpy.ndarray
        A copy of the current value. Assigning checks shape and dtype.

    Examples
    --------
    >>> import symbolic as S
    >>> w = S.Variable([1.0, 2.0], name="w")
    >>> w.value = [3.0, 4.0]
    >>> w.reset(); w.value
    array([1., 2.], dtype=float32)
    """

    __slots__ = ("_value", "_initial", "trainable", "tags", "_order")

    def __init__(self, value, name=None, *, trainable=True, tags=(), dtype=None):
        array = _to_device_array(value, dtype, what="Variable value", copy=True)
        graph = current_graph()
        Node.__init__(self, None, (), None, "variable")
        self.name = graph.unique_name(name or "variable")
        self.shape = tuple(array.shape)
        self.dtype = np.dtype(array.dtype)
        self.weak_type = False
        self.random_key = None
        self._value = array
        self._initial = np.array(array, copy=True)
        self.trainable = bool(trainable)
        if isinstance(tags, str):
            tags = (tags,)
        self.tags = set(tags) | ({"trainable"} if trainable else set())
        graph.register(self)

    @property
    def value(self):
        return np.array(self._value, copy=True)

    @value.setter
    def value(self, new):
        self.assign(new)

    def assign(self, new):
        """Set the value; its shape must match and its dtype be castable without surprise.

        Raises
        ------
        SymbolicError
            When the shape differs or the dtype kind differs (float into int...).
        """
        array = np.asarray(new) if not isinstance(new, jax.Array) else new
        if tuple(array.shape) != self.shape:
            raise SymbolicError(
                f"Variable {self.name!r}: new value has shape {format_shape(array.shape)}, "
                f"expected {format_shape(self.shape)}"
            )
        if np.dtype(array.dtype) != self.dtype:
            if not np.can_cast(array.dtype, self.dtype, casting="same_kind"):
                raise SymbolicError(
                    f"Variable {self.name!r}: new value has dtype {array.dtype}, "
                    f"expected {self.dtype}"
                )
        self._value = jnp.array(array, dtype=self.dtype, copy=True)

    def reset(self):
        """Restore the initial value."""
        self._value = jnp.asarray(self._initial)

    @property
    def jax_value(self):
        """The current value as a JAX array (no copy; invalidated when a compiled function
        that updates this variable runs, since its buffer is donated)."""
        return self._value


class Apply(Node):
    """A node computing several arrays; its value is the tuple of their values."""

    __slots__ = ("outputs",)


def _to_device_array(value, dtype, *, what, copy=False):
    try:
        array = (
            jnp.array(value, dtype=dtype, copy=True) if copy else jnp.asarray(value, dtype=dtype)
        )
    except (TypeError, ValueError) as err:
        raise SymbolicError(
            f"{what} must be array-like; got {type(value).__name__}: {err}"
        ) from None
    return array


def placeholder(shape, dtype="float32", name=None):
    """Create an input of the graph, fed when a compiled function is called.

    Parameters
    ----------
    shape : tuple of (int or None)
        ``None`` marks a size known only at call time (a batch, a signal length).
    dtype : dtype, default "float32"
    name : str, optional

    Returns
    -------
    Placeholder

    Raises
    ------
    SymbolicError
        For a negative or non-integer size.

    Examples
    --------
    >>> import symbolic as S
    >>> x = S.placeholder((None, 3), name="x")
    >>> (x * 2).sum(1).shape
    (None,)
    """
    if isinstance(shape, int):
        shape = (shape,)
    try:
        shape = tuple(shape)
    except TypeError:
        raise SymbolicError(
            f"placeholder: shape must be a tuple of ints or None; got {shape!r}"
        ) from None
    for d in shape:
        if d is not None and (not is_int(d) or d < 0):
            raise SymbolicError(
                f"placeholder: shape must hold non-negative ints or None; got {shape!r}"
            )
    try:
        dt = jax.dtypes.canonicalize_dtype(np.dtype(dtype))
    except TypeError:
        raise SymbolicError(f"placeholder: unknown dtype {dtype!r}") from None
    graph = current_graph()
    node = Placeholder(None, (), shape, dt, name="placeholder")
    node.name = graph.unique_name(name or "placeholder")
    return node


def constant(value, dtype=None, name=None):
    """Wrap a fixed array as a graph node.

    Parameters
    ----------
    value : array_like
    dtype : dtype, optional
    name : str, optional

    Returns
    -------
    Constant
    """
    array = _to_device_array(value, dtype, what="constant value")
    weak = (
        isinstance(value, (int, float, complex)) and dtype is None and not isinstance(value, bool)
    )
    node = Constant(None, (), array.shape, array.dtype, name=name or "constant", weak_type=weak)
    node.value = array
    return node


def as_tensor(value, name=None):
    """Return ``value`` if it is a tensor, else a :func:`constant` holding it."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, Node):
        raise SymbolicError(f"{value.name!r} is a multi-output node, not a tensor")
    return constant(value, name=name)


def output_tensor(apply, index, shape, dtype, weak_type, name):
    """The tensor selecting leaf ``index`` of an :class:`Apply` node's value."""
    return Tensor(
        operator.itemgetter(index),
        (apply,),
        shape,
        dtype,
        name=name,
        op_name=f"{apply.op_name}[{index}]",
        weak_type=weak_type,
    )
