import numpy as np
import optax
import pytest

import layers as L
import symbolic as S
from layers import schedules as sch


def _run(make, n):
    t = sch.step()
    f = S.function([], make(t), updates={t: t + 1})
    return np.array([float(f()) for _ in range(n)])


def test_schedules_vs_optax():
    n = 12
    counts = np.arange(n)
    np.testing.assert_allclose(_run(lambda t: sch.cosine(t, init=0.5, decay_steps=8, alpha=0.1), n),
                               [optax.cosine_decay_schedule(0.5, 8, 0.1)(c) for c in counts],
                               rtol=1e-6)
    np.testing.assert_allclose(
        _run(lambda t: sch.exponential(t, init=1.0, decay_rate=0.5, transition_steps=3,
                                       staircase=True), n),
        [0.5 ** (c // 3) for c in counts], rtol=1e-6)
    np.testing.assert_allclose(
        _run(lambda t: sch.piecewise(t, boundaries=[3, 7], values=[1.0, 0.1, 0.01]), n),
        [1.0 if c < 3 else 0.1 if c < 7 else 0.01 for c in counts], rtol=1e-6)
    np.testing.assert_allclose(_run(lambda t: sch.constant(t, value=0.3), 3), [0.3] * 3, rtol=1e-6)


def test_warmup_then_cosine():
    got = _run(lambda t: sch.warmup(t, peak=1.0, warmup_steps=4,
                                    then=lambda s: sch.cosine(s, init=1.0, decay_steps=4)), 10)
    ramp = [0.0, 0.25, 0.5, 0.75]
    cos = [0.5 * (1 + np.cos(np.pi * min(k, 4) / 4)) for k in range(6)]
    np.testing.assert_allclose(got, ramp + cos, rtol=1e-6, atol=1e-7)


def test_schedule_errors():
    t = sch.step()
    with pytest.raises(L.LayersError, match="step must be an integer scalar tensor"):
        sch.cosine(S.Variable(0.0), init=1.0, decay_steps=3)
    with pytest.raises(L.LayersError, match="need len\\(values\\) == len\\(boundaries\\) \\+ 1"):
        sch.piecewise(t, boundaries=[1, 2], values=[1.0])
    with pytest.raises(L.LayersError, match="boundaries must increase"):
        sch.piecewise(t, boundaries=[3, 2], values=[1.0, 2.0, 3.0])
    with pytest.raises(L.LayersError, match="cosine: decay_steps must be a positive int; got 0"):
        sch.cosine(t, init=1.0, decay_steps=0)
