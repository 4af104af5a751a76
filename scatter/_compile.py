"""Compiling the package's transforms for XLA:CPU, and the cores they may run on.

:func:`jit`, :func:`lower_now` and :func:`compile_now` compile with options that halve the
compile time of these transforms and make repeated calls bit-reproducible;
:func:`usable_cores` is the parallelism that the callers split batches over.
"""

from __future__ import annotations

import functools
import os

import jax


def usable_cores():
    """Number of CPU cores this process may run on (its affinity mask where the platform has
    one, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # no sched_getaffinity on this platform
        return os.cpu_count() or 1


# XLA's legacy CPU fusion emitters compile the many small fusions of these transforms about twice
# as fast as the default ones, with the same run time (measured on jaxlib 0.10). XLA:CPU's
# multithreaded FFT (and Eigen) runtime is turned off: with it, the same compiled program's complex
# FFTs of a batch differed in the last bits from call to call (seen in about one run in four of a
# test comparing two calls); single-threaded they are bit-identical, at the same CPU time. The
# callers get their parallelism from batch rows split over workers or devices.
_CPU_OPTIONS = {"xla_cpu_use_fusion_emitters": False, "xla_cpu_multi_thread_eigen": False}


def jit(fn, **kwargs):
    """``jax.jit(fn, **kwargs)`` compiled with XLA:CPU options that halve its compile time and
    make repeated calls bit-reproducible (each compiled program runs its FFTs on one thread).

    If the installed XLA does not know an option (it raises "No such compile option" at the
    first compilation), the call is compiled with the default options instead. Under a JAX
    transformation (an outer ``jit``, ``grad``, ``vmap``: traced arguments) the plain
    ``jax.jit`` is used, as JAX only takes compile options at the top level.
    """
    fast = jax.jit(fn, compiler_options=_CPU_OPTIONS, **kwargs)
    plain = jax.jit(fn, **kwargs)

    @functools.wraps(fn)
    def call(*args, **kw):
        if any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves((args, kw))):
            return plain(*args, **kw)
        try:
            return fast(*args, **kw)
        except jax.errors.JaxRuntimeError as error:
            if "No such compile option" not in str(error):
                raise
            return plain(*args, **kw)

    return call


def lower_now(fn, *args):
    """``fn`` traced and lowered now for arguments like ``args``, with :func:`jit`'s options;
    returns a function of no arguments that compiles it.

    Tracing holds the GIL and compiling does not: lowering one program before compiling it
    beside another lets the second one trace while the first one compiles.

    Parameters
    ----------
    fn : callable
        A JAX-traceable function.
    *args : jax.Array or jax.ShapeDtypeStruct
        Example arguments (shapes, dtypes and shardings are what count).

    Returns
    -------
    callable
        ``compile()`` -> :class:`jax.stages.Compiled`, called with arrays of those shapes,
        dtypes and shardings (compiled with the default options if the installed XLA does not
        know one of :func:`jit`'s).
    """
    lowered = jax.jit(fn, compiler_options=_CPU_OPTIONS).lower(*args)

    def compile_():
        try:
            return lowered.compile()
        except jax.errors.JaxRuntimeError as error:
            if "No such compile option" not in str(error):
                raise
            return jax.jit(fn).lower(*args).compile()

    return compile_


def compile_now(fn, *args):
    """``fn`` lowered and compiled now for arguments like ``args``, with :func:`jit`'s options:
    ``lower_now(fn, *args)()`` (same parameters).

    Compiling releases the GIL, so programs compiled from several threads build side by side.

    Returns
    -------
    jax.stages.Compiled
        Called with arrays of the shapes, dtypes and shardings of ``args``.
    """
    return lower_now(fn, *args)()
