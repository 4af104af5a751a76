"""Learning-rate schedules driven by a step Variable.

A schedule is a symbolic scalar computed from an integer step Variable (see :func:`step`);
pass it as ``learning_rate`` to an optimizer and add ``{step: step + 1}`` to the updates. The
formulas are optax's (the schedule functions are wrapped with :func:`symbolic.wrap`).

Examples
--------
>>> import symbolic as S, layers as L
>>> with S.Graph():
...     t = L.schedules.step()
...     lr = L.schedules.cosine(t, init=1.0, decay_steps=4)
...     f = S.function([], lr, updates={t: t + 1})
...     [round(float(f()), 3) for _ in range(5)]
[1.0, 0.854, 0.5, 0.146, 0.0]
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import optax

import symbolic as S
from layers.errors import LayersError, check_int


def step(name="step"):
    """A new int32 step counter Variable (0), not trainable, tagged ``"step"``."""
    return S.Variable(np.int32(0), name=name, trainable=False, tags=("step",))


def _check_step(t, what):
    if not isinstance(t, S.Tensor) or t.shape != () or not np.issubdtype(t.dtype, np.integer):
        raise LayersError(f"{what}: step must be an integer scalar tensor (see "
                          f"schedules.step()); got {t!r}")
    return t


def _apply(schedule, t, name):
    return S.wrap(lambda c: schedule(c).astype("float32"), name=name)(t)


def constant(t, *, value):
    """The constant ``value`` (a schedule of the same type as the others)."""
    _check_step(t, "constant")
    v = np.float32(value)
    return S.wrap(lambda c: jnp.full((), v, jnp.float32), name="constant_schedule")(t)


def piecewise(t, *, boundaries, values):
    """``values[i]`` for ``boundaries[i-1] <= t < boundaries[i]``.

    Parameters
    ----------
    t : Tensor int [shape=()]
    boundaries : sequence of int, increasing
    values : sequence of float, one more than ``boundaries``

    Raises
    ------
    LayersError
        When the lengths do not match or boundaries are not increasing.
    """
    _check_step(t, "piecewise")
    boundaries, values = [int(b) for b in boundaries], [float(v) for v in values]
    if len(values) != len(boundaries) + 1:
        raise LayersError(f"piecewise: need len(values) == len(boundaries) + 1; got "
                          f"{len(values)} values and {len(boundaries)} boundaries")
    if any(b1 >= b2 for b1, b2 in zip(boundaries, boundaries[1:])):
        raise LayersError(f"piecewise: boundaries must increase; got {boundaries}")
    b = np.asarray(boundaries, "int32")
    v = np.asarray(values, "float32")

    def fn(c):
        return jnp.asarray(v)[jnp.searchsorted(jnp.asarray(b), c, side="right")]

    return S.wrap(fn, name="piecewise_schedule")(t)


def cosine(t, *, init, decay_steps, alpha=0.0):
    """Cosine decay from ``init`` to ``alpha * init`` over ``decay_steps``, then flat."""
    _check_step(t, "cosine")
    decay_steps = check_int(decay_steps, "cosine: decay_steps")
    return _apply(optax.cosine_decay_schedule(float(init), decay_steps, float(alpha)), t,
                  "cosine_schedule")


def exponential(t, *, init, decay_rate, transition_steps, staircase=False):
    """``init * decay_rate ** (t / transition_steps)`` (floored exponent when ``staircase``)."""
    _check_step(t, "exponential")
    transition_steps = check_int(transition_steps, "exponential: transition_steps")
    if not float(decay_rate) > 0:
        raise LayersError(f"exponential: decay_rate must be positive; got {decay_rate!r}")
    return _apply(optax.exponential_decay(float(init), transition_steps, float(decay_rate),
                                          staircase=bool(staircase)), t, "exponential_schedule")


def warmup(t, *, peak, warmup_steps, then=None, start=0.0):
    """Linear warm-up from ``start`` to ``peak`` over ``warmup_steps``, then ``then``.

    Parameters
    ----------
    t : Tensor int [shape=()]
    peak : float
    warmup_steps : int
    then : callable, optional
        ``then(t_after)`` giving the schedule after warm-up from the step count since its
        end (e.g. ``lambda s: cosine(s, init=peak, decay_steps=1000)``); constant ``peak``
        when omitted.
    start : float, default 0.0
    """
    _check_step(t, "warmup")
    warmup_steps = check_int(warmup_steps, "warmup: warmup_steps")
    ramp = _apply(optax.linear_schedule(float(start), float(peak), warmup_steps), t,
                  "warmup_schedule")
    if then is None:
        return ramp
    after = then(S.maximum(t - warmup_steps, 0).astype(t.dtype))
    return S.where(t < warmup_steps, ramp, after)
