"""Compiled functions: Theano's ``function`` over :func:`jax.jit`.

A :class:`Function` evaluates outputs and applies updates simultaneously (every output and
every update sees the values from before the call) in one compiled call, with the buffers of
updated variables donated. ``Function.scan`` runs many steps in one call.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from symbolic.errors import SymbolicError, is_int
from symbolic.program import Program
from symbolic.tensor import format_shape


def _array_type():
    """The concrete class of JAX arrays (for exact-type fast paths). Found on first use, not
    at import: creating an array starts JAX's backend, after which a program can no longer
    choose its CPU device count."""
    global _ARRAY_TYPE
    if _ARRAY_TYPE is None:
        _ARRAY_TYPE = type(jnp.zeros(()))
    return _ARRAY_TYPE


_ARRAY_TYPE = None

#: Most primitive operations (jaxpr equations, nested ones included) in one fully unrolled
#: block of :meth:`Function.scan` steps on CPU when ``unroll=None``. About 1,000 keeps the
#: compilation of a block of small CNN steps within a few seconds (measured, JAX 0.10.2).
SCAN_UNROLL_BUDGET = 1024
# primitives that XLA:CPU runs several times slower inside a while loop (measured, see scan)
_SLOW_IN_LOOPS = ("conv_general_dilated",)


def _count_equations(jaxpr, names=()):
    """Number of equations of a jaxpr, those of nested jaxprs (jit, custom_vjp, ...)
    included, and how many of them are primitives named in ``names``."""
    total = found = 0
    for eqn in jaxpr.eqns:
        total += 1
        found += eqn.primitive.name in names
        for value in eqn.params.values():
            for sub in value if isinstance(value, (list, tuple)) else (value,):
                inner = getattr(sub, "jaxpr", sub)
                if hasattr(inner, "eqns"):
                    t, f = _count_equations(inner, names)
                    total, found = total + t, found + f
    return total, found


def _resolve_devices(devices):
    if devices is None:
        return None
    local = jax.local_devices()
    if isinstance(devices, str):
        if devices != "all":
            raise SymbolicError(
                f"function: devices must be 'all', an int or a list of devices; got {devices!r}"
            )
        return local
    if is_int(devices):
        if not 1 <= devices <= len(local):
            raise SymbolicError(
                f"function: devices={devices} but {len(local)} local device(s) are available"
            )
        return local[: int(devices)]
    devices = list(devices)
    if not devices:
        raise SymbolicError("function: devices is an empty list")
    return devices


class Function:
    """A compiled graph; see :func:`function`.

    Attributes
    ----------
    inputs : list of Placeholder
    n_compilations : int
        How many times the graph was traced (once per new input shape signature).
    """

    def __init__(self, program, *, allow_input_downcast=False, devices=None, name=None):
        self._program = program
        self.inputs = program.inputs
        self.name = name
        self._downcast = bool(allow_input_downcast)
        self._specs = [(x.name, x.shape, x.dtype) for x in program.inputs]
        self._n_inputs = len(self._specs)
        self._mutable = program.mutable
        self._devices = _resolve_devices(devices)
        self._forwarded = program.forwarded
        jit_kwargs = {}
        if self._devices is not None:
            mesh = Mesh(np.asarray(self._devices), ("batch",))
            self._replicated = NamedSharding(mesh, PartitionSpec())
            self._batch = NamedSharding(mesh, PartitionSpec("batch"))
            in_inputs = tuple(
                self._batch if len(shape) else self._replicated for _, shape, _ in self._specs
            )
            jit_kwargs = {
                "in_shardings": (self._replicated, self._replicated, in_inputs),
                "out_shardings": (None, self._replicated),
            }
        self._jit = jax.jit(program.pure, donate_argnums=(0,), **jit_kwargs)
        self._scan_jit = None
        self._block_jit = None
        self._step_size = None  # primitive operations in one step (for scan's unroll)

    @property
    def n_compilations(self):
        return self._program.n_traces

    # -- inputs ---------------------------------------------------------------------------
    def _convert(self, value, spec, lead=()):
        name, shape, dtype = spec
        kind = type(value)
        if (
            kind is not np.ndarray
            and not isinstance(value, (jax.Array, np.ndarray))
        ):
            try:
                value = np.asarray(value, dtype=dtype)
            except (TypeError, ValueError) as err:
                raise SymbolicError(
                    f"input {name!r}: cannot convert {type(value).__name__} to {dtype}: {err}"
                ) from None
        elif value.dtype != dtype:
            if self._downcast or np.can_cast(value.dtype, dtype, casting="safe"):
                value = value.astype(dtype)
            else:
                raise SymbolicError(
                    f"input {name!r}: got dtype {value.dtype}, expected {dtype}; convert it, "
                    "or compile with allow_input_downcast=True"
                )
        got = value.shape
        if lead:
            got = got[len(lead) :] if len(got) >= len(lead) else None
        if (
            got is None
            or len(got) != len(shape)
            or not all(d is None or d == g for d, g in zip(shape, got))
        ):
            raise SymbolicError(
                f"input {name!r}: got shape {format_shape(value.shape)}, expected "
                f"{format_shape(lead + shape)}"
            )
        return value

    def _gather(self, args, kwargs, lead=()):
        if kwargs:
            by_name = {spec[0]: i for i, spec in enumerate(self._specs)}
            args = list(args) + [None] * (len(self._specs) - len(args))
            for key, value in kwargs.items():
                if key not in by_name:
                    raise SymbolicError(
                        f"function: unknown input name {key!r}; inputs are {list(by_name)}"
                    )
                if args[by_name[key]] is not None:
                    raise SymbolicError(f"function: input {key!r} given twice")
                args[by_name[key]] = value
            missing = [self._specs[i][0] for i, a in enumerate(args) if a is None]
            if missing:
                raise SymbolicError(f"function: missing inputs {missing}")
        if len(args) != len(self._specs):  # also reached on the fast path below
            raise SymbolicError(
                f"function: expected {len(self._specs)} inputs {[s[0] for s in self._specs]}, "
                f"got {len(args)}"
            )
        convert = self._convert
        return tuple([convert(a, s, lead) for a, s in zip(args, self._specs)])

    def _place(self, values, lead_axis):
        """Shard the inputs' batch axis over the devices; replicate the state."""
        n = len(self._devices)
        batch = self._batch
        if lead_axis:
            batch = NamedSharding(self._batch.mesh, PartitionSpec(*([None] * lead_axis), "batch"))
        placed = []
        for value, (name, shape, _) in zip(values, self._specs):
            if len(shape) == 0:
                placed.append(jax.device_put(value, self._replicated))
                continue
            if value.shape[lead_axis] % n:
                raise SymbolicError(
                    f"input {name!r}: batch size {value.shape[lead_axis]} is not divisible by the "
                    f"{n} devices"
                )
            placed.append(jax.device_put(value, batch))
        return tuple(placed)

    def _state(self):
        mutable = tuple([v._value for v in self._mutable])
        constant = self._program.constant_values()
        if self._devices is not None:
            mutable = tuple(jax.device_put(v, self._replicated) for v in mutable)
            constant = tuple(jax.device_put(v, self._replicated) for v in constant)
        return mutable, constant

    def _finish(self, outs, new):
        for var, value in zip(self._mutable, new):
            var._value = value
        for i in self._forwarded:  # an output that is a state buffer must not alias it
            outs[i] = jnp.array(outs[i], copy=True)
        return self._program.pack(outs)

    # -- calls ----------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        """Run one step: evaluate the outputs, then apply the updates.

        Parameters
        ----------
        *args, **kwargs
            One value per input placeholder, positionally or by name.

        Returns
        -------
        jax.Array, list or dict of jax.Array, or None
            In the structure the outputs were given in.

        Raises
        ------
        SymbolicError
            For a missing input or one of the wrong shape or dtype.
        """
        array = _array_type()
        if kwargs or len(args) != self._n_inputs or not all([type(a) is array for a in args]):
            values = self._gather(args, kwargs)
        else:  # JAX arrays: shapes and dtypes are checked when a new signature is traced
            values = args
        if self._devices is not None:
            values = self._place(values, 0)
        mutable, constant = self._state()
        outs, new = self._jit(mutable, constant, values)
        return self._finish(list(outs), new)

    def scan(self, *stacked, n_steps=None, unroll=None):
        """Run several steps, updates applied between steps, in as few compiled calls as fit.

        Parameters
        ----------
        *stacked : array_like [shape=(K, ...)]
            For each input, the values of the K steps stacked on a leading axis.
        n_steps : int, optional
            K, required only when the function has no inputs.
        unroll : int, bool or None, default None
            ``None`` chooses from the backend and the step. By default the K steps run in one
            :func:`jax.lax.scan` call (a while loop). On CPU, XLA runs a step that holds
            convolutions several times slower inside a while loop than compiled as
            straight-line code (3-4x for a small CNN, measured with JAX 0.10.2; a small MLP
            is the other way round: the loop is 2.5x faster than unrolled blocks). So on CPU
            a step with convolutions runs as blocks of at most
            ``max(1, SCAN_UNROLL_BUDGET // n)`` steps written out one after the other, ``n``
            the number of primitive operations of one step (a block then compiles in
            seconds), one compiled call per block; the blocks share one compilation, a
            shorter last block a second one. An int or bool is :func:`jax.lax.scan`'s
            ``unroll`` for a single call over all K steps (``True``: fully unrolled), on any
            backend.

        Returns
        -------
        jax.Array, list or dict of jax.Array
            Each output stacked over the K steps.

        Raises
        ------
        SymbolicError
            For inputs with different numbers of steps, a missing or mismatched ``n_steps``,
            or an ``unroll`` that is not None, a bool or a positive int.

        Examples
        --------
        >>> import numpy as np, symbolic as S
        >>> c = S.Variable(0, name="c")
        >>> tick = S.function([], c, updates={c: c + 1})
        >>> np.asarray(tick.scan(n_steps=4)).tolist()
        [0, 1, 2, 3]
        """
        if not (unroll is None or isinstance(unroll, (bool, np.bool_))
                or (is_int(unroll) and unroll >= 1)):
            raise SymbolicError(
                f"Function.scan: unroll must be None, a bool or a positive int; got {unroll!r}"
            )
        if not self._specs:
            if n_steps is None:
                raise SymbolicError("Function.scan: this function has no inputs; give n_steps")
            length = int(n_steps)
            values = ()
        else:
            values = self._gather(stacked, {}, lead=(None,))
            lengths = {v.shape[0] for v in values}
            if len(lengths) != 1:
                raise SymbolicError(
                    f"Function.scan: inputs have different numbers of steps {sorted(lengths)}"
                )
            length = lengths.pop()
            if n_steps is not None and n_steps != length:
                raise SymbolicError(
                    f"Function.scan: n_steps={n_steps} but the inputs hold {length} steps"
                )
        if self._devices is not None:
            values = self._place(values, 1)
        mutable, constant = self._state()
        block = None
        if unroll is None and length:
            block = self._auto_block(mutable, constant, values, length)
        if block is None:  # one lax.scan call
            if self._scan_jit is None:
                self._scan_jit = self._compile_scan()
            unroll = bool(unroll) if isinstance(unroll, (bool, np.bool_)) else int(unroll or 1)
            outs, new = self._scan_jit(mutable, constant, values, length, unroll)
            return self._finish(list(outs), new)
        n_blocks = -(-length // block)
        block = -(-length // n_blocks)  # equal blocks but the last: at most two compilations
        if self._block_jit is None:
            self._block_jit = self._compile_scan(unrolled=True)
        pieces = []
        for start in range(0, length, block):
            part = tuple(v[start:start + block] for v in values) if block < length else values
            outs, mutable = self._block_jit(mutable, constant, part, min(block, length - start))
            pieces.append(outs)
        if len(pieces) == 1:
            outs = list(pieces[0])
        else:
            outs = [jnp.concatenate(parts) for parts in zip(*pieces)]
        return self._finish(outs, mutable)

    def _compile_scan(self, unrolled=False):
        """The jitted K-step call: a :func:`jax.lax.scan` (``unrolled=False``; static length
        and unroll), or straight-line code, one step after the other (static length)."""
        program = self._program

        def many(mutable, constant, xs, length, unroll):
            def body(state, x):
                outs, new = program.pure(state, constant, x)
                return new, tuple(outs)

            final, outs = jax.lax.scan(body, mutable, xs, length=length, unroll=unroll)
            return list(outs), final

        one = jax.jit(program.pure)  # traced once, inlined at every step of a block

        def block(mutable, constant, xs, length):
            # not lax.scan(unroll=True): a scan of length 1 still lowers to a while loop
            steps = []
            for i in range(length):
                outs, mutable = one(mutable, constant, tuple(x[i] for x in xs))
                steps.append(outs)
            return [jnp.stack(parts) for parts in zip(*steps)], mutable

        jit_kwargs = {}
        if self._devices is not None:
            rep = self._replicated
            stacked_sh = NamedSharding(self._batch.mesh, PartitionSpec(None, "batch"))
            in_inputs = tuple(stacked_sh if len(shape) else rep for _, shape, _ in self._specs)
            jit_kwargs = {"in_shardings": (rep, rep, in_inputs), "out_shardings": (None, rep)}
        if unrolled:
            return jax.jit(block, donate_argnums=(0,), static_argnums=(3,), **jit_kwargs)
        return jax.jit(many, donate_argnums=(0,), static_argnums=(3, 4), **jit_kwargs)

    def _auto_block(self, mutable, constant, values, length):
        """Steps per compiled call for ``unroll=None`` (see :meth:`scan`)."""
        platforms = {d.platform for d in (self._devices or jax.local_devices())}
        if platforms != {"cpu"}:
            return None
        if self._step_size is None:
            spec = lambda v: jax.ShapeDtypeStruct(v.shape, v.dtype)  # noqa: E731
            one = tuple(jax.ShapeDtypeStruct(v.shape[1:], v.dtype) for v in values)
            traces = self._program.n_traces
            try:  # a trace for counting only: not a compilation
                jaxpr = jax.make_jaxpr(self._program.pure)(
                    tuple(map(spec, mutable)), tuple(map(spec, constant)), one)
            finally:
                self._program.n_traces = traces
            size, convs = _count_equations(jaxpr.jaxpr, _SLOW_IN_LOOPS)
            self._step_size = (max(1, size), convs > 0)
        size, slow = self._step_size
        if not slow:
            return None
        return int(min(length, max(1, SCAN_UNROLL_BUDGET // size)))

    def export(self, *example_inputs):
        """Export the compiled step with :mod:`jax.export` (serializable StableHLO).

        Parameters
        ----------
        *example_inputs : array_like
            Arrays (or ``jax.ShapeDtypeStruct``) fixing the input shapes.

        Returns
        -------
        jax.export.Exported
            Called as ``exported.call(mutable_state, constant_state, inputs)`` with the tuples
            returned by :meth:`state`; returns ``(outputs, new_mutable_state)``.
        """
        from jax import export

        specs = tuple(
            e if isinstance(e, jax.ShapeDtypeStruct) else self._convert(e, s)
            for e, s in zip(example_inputs, self._specs)
        )
        specs = tuple(jax.ShapeDtypeStruct(np.shape(e), e.dtype) for e in specs)
        mutable, constant = self._state()
        as_spec = lambda vals: tuple(jax.ShapeDtypeStruct(v.shape, v.dtype) for v in vals)  # noqa: E731
        return export.export(jax.jit(self._program.pure))(
            as_spec(mutable), as_spec(constant), specs
        )

    def state(self):
        """Current ``(mutable, constant)`` state values, in the order the pure step takes them."""
        return self._state()


def function(
    inputs,
    outputs=None,
    updates=None,
    givens=None,
    *,
    allow_input_downcast=False,
    hold_random=False,
    devices=None,
    name=None,
):
    """Compile a graph into a callable.

    Parameters
    ----------
    inputs : list of Placeholder
        The values to feed at each call, in order.
    outputs : Tensor, list or dict of Tensor, optional
    updates : dict or list of (Variable, Tensor), optional
        New values of variables. All updates are simultaneous: outputs and updates see the
        values from before the call.
    givens : dict, optional
        Tensors of the graph to replace by other tensors (or arrays) before compiling, as
        :func:`symbolic.clone` does.
    allow_input_downcast : bool, default False
        Accept inputs whose dtype must be cast with loss (float64 into float32).
    hold_random : bool, default False
        Do not advance random keys: every call draws the same samples.
    devices : "all", int or list of jax.Device, optional
        Shard the leading (batch) axis of every input over these local devices; variables are
        replicated. The batch size must be divisible by the number of devices.
    name : str, optional

    Returns
    -------
    Function
        Compiled once per input shape signature (:func:`jax.jit`), state buffers donated.

    Raises
    ------
    SymbolicError
        When an output depends on a placeholder that is not an input, or an update does not
        match its variable's shape or dtype.

    Examples
    --------
    >>> import numpy as np, symbolic as S
    >>> x = S.placeholder((None,), name="x")
    >>> w = S.Variable(1.0, name="w")
    >>> step = S.function([x], (w * x).sum(), updates={w: w + 1})
    >>> float(step(np.ones(3, "float32"))), float(step(np.ones(3, "float32")))
    (3.0, 6.0)
    """
    program = Program(inputs, outputs, updates, givens, hold_random=hold_random)
    return Function(program, allow_input_downcast=allow_input_downcast, devices=devices, name=name)
