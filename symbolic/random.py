"""Random tensors whose keys are graph state.

Each random tensor owns a key :class:`~symbolic.Variable` (tagged ``"random_state"``, not
trainable). A compiled function that uses the tensor draws from a sub-key and, unless built
with ``hold_random=True``, advances the key as one of its updates, inside the compiled call.
Streams are reproducible from their ``seed``; without one, seeds come from the graph's
deterministic counter (see :class:`~symbolic.Graph`). ``tensor.key.reset()`` restarts a
stream.

Shapes are static tuples, or taken at run time from a tensor passed as ``like`` (so a dropout
mask can follow a batch of unknown size).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from symbolic.errors import SymbolicError, is_int
from symbolic.graph import current_graph
from symbolic.tensor import Tensor, Variable, as_tensor
from symbolic.wrap import apply

RANDOM_STATE_TAG = "random_state"


def _new_key(seed):
    graph = current_graph()
    if seed is None:
        seed = graph.next_seed()
    if not is_int(seed):
        raise SymbolicError(f"random: seed must be an int or None; got {seed!r}")
    data = np.asarray(jax.random.key_data(jax.random.key(int(seed))))
    return Variable(data, name="rng_key", trainable=False, tags=(RANDOM_STATE_TAG,))


def advance(key_data):
    """The next state of a key stream (the update applied after each call)."""
    return jax.random.key_data(jax.random.split(jax.random.wrap_key_data(key_data))[0])


def _subkey(key_data):
    return jax.random.split(jax.random.wrap_key_data(key_data))[1]


def _keyed(fn, inputs, seed, name):
    """A node computing ``fn(subkey, *input_values)`` from a fresh key stream."""
    key = _new_key(seed)
    node = apply(lambda k, *values: fn(_subkey(k), *values), [key, *inputs], name=name)
    node.random_key = key
    return node


def _random(sampler, shape, like, seed, name, extra=()):
    extra = [as_tensor(e) for e in extra]
    if like is not None:
        return _keyed(
            lambda k, ref, *args: sampler(k, ref.shape, *args),
            [as_tensor(like), *extra],
            seed,
            name,
        )
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    try:
        shape = tuple(int(d) for d in shape)
    except TypeError:
        raise SymbolicError(
            f"random.{name}: shape must be a tuple of ints (use like=tensor for sizes known "
            f"only at run time); got {shape!r}"
        ) from None
    return _keyed(lambda k, *args: sampler(k, shape, *args), extra, seed, name)


def _check_dtype(dtype, name):
    dt = np.dtype(dtype)
    if not np.issubdtype(dt, np.floating):
        raise SymbolicError(f"random.{name}: dtype must be floating; got {dt}")
    return dt


def normal(shape=(), *, mean=0.0, std=1.0, dtype="float32", like=None, seed=None):
    """Gaussian samples ``mean + std * N(0, 1)``.

    Parameters
    ----------
    shape : tuple of int, default ()
    mean, std : float or Tensor
    dtype : floating dtype, default "float32"
    like : Tensor, optional
        Take the shape from this tensor at run time instead of ``shape``.
    seed : int, optional

    Returns
    -------
    Tensor
        Carries ``.random_key``, the key variable of its stream.
    """
    dt = _check_dtype(dtype, "normal")
    return _random(
        lambda k, s, m, sd: m + sd * jax.random.normal(k, s, dt),
        shape,
        like,
        seed,
        "normal",
        (mean, std),
    )


def uniform(shape=(), *, low=0.0, high=1.0, dtype="float32", like=None, seed=None):
    """Uniform samples on ``[low, high)``; see :func:`normal` for the parameters."""
    dt = _check_dtype(dtype, "uniform")
    return _random(
        lambda k, s, lo, hi: jax.random.uniform(k, s, dt, lo, hi),
        shape,
        like,
        seed,
        "uniform",
        (low, high),
    )


def bernoulli(shape=(), *, p=0.5, like=None, seed=None):
    """Boolean samples, True with probability ``p``; see :func:`normal`."""
    if not isinstance(p, Tensor) and not 0.0 <= float(p) <= 1.0:
        raise SymbolicError(f"random.bernoulli: p must lie in [0, 1]; got {p!r}")
    return _random(
        lambda k, s, pp: jax.random.bernoulli(k, pp, s), shape, like, seed, "bernoulli", (p,)
    )


def randint(shape=(), *, low, high, dtype="int32", like=None, seed=None):
    """Integers uniform on ``[low, high)``; see :func:`normal`."""
    if not isinstance(low, Tensor) and not isinstance(high, Tensor) and int(high) <= int(low):
        raise SymbolicError(f"random.randint: need low < high; got low={low!r}, high={high!r}")
    dt = np.dtype(dtype)
    return _random(
        lambda k, s, lo, hi: jax.random.randint(k, s, lo, hi, dt),
        shape,
        like,
        seed,
        "randint",
        (low, high),
    )


def truncated_normal(shape=(), *, lower=-2.0, upper=2.0, dtype="float32", like=None, seed=None):
    """Standard normal samples truncated to ``[lower, upper]``; see :func:`normal`."""
    dt = _check_dtype(dtype, "truncated_normal")
    return _random(
        lambda k, s, lo, hi: jax.random.truncated_normal(k, lo, hi, s, dt),
        shape,
        like,
        seed,
        "truncated_normal",
        (lower, upper),
    )


def gumbel(shape=(), *, dtype="float32", like=None, seed=None):
    """Standard Gumbel samples; see :func:`normal`."""
    dt = _check_dtype(dtype, "gumbel")
    return _random(lambda k, s: jax.random.gumbel(k, s, dt), shape, like, seed, "gumbel")


def categorical(logits, *, axis=-1, seed=None):
    """Indices drawn from the softmax of ``logits`` along ``axis`` (that axis removed).

    Parameters
    ----------
    logits : Tensor
    axis : int, default -1
    seed : int, optional

    Returns
    -------
    Tensor
    """
    return _keyed(
        lambda k, lg: jax.random.categorical(k, lg, axis=axis),
        [as_tensor(logits)],
        seed,
        "categorical",
    )


def permutation(x, *, axis=0, seed=None):
    """A random permutation of ``x`` along ``axis`` (an int ``x`` permutes ``arange(x)``)."""
    if isinstance(x, (int, np.integer)):
        x = jnp.arange(int(x))
    return _keyed(
        lambda k, v: jax.random.permutation(k, v, axis=axis), [as_tensor(x)], seed, "permutation"
    )
