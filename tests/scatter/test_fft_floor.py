"""Tests of scatter.scattering.fft_floor: the FFT-only program runs exactly the transform's FFTs
(the floor that benchmarks/scattering_vs_kymatio.py reports)."""

from collections import Counter

import jax
import jax.extend.core
import jax.numpy as jnp
import numpy as np
import pytest

from scatter import Scattering1D
from scatter.scattering._core import forward
from scatter.scattering.fft_floor import compiled_fft_only_program, fft_only_program


def _ffts(jaxpr):
    """Every FFT of a jaxpr, nested ones (loop bodies) included, times the loop trip count:
    ``Counter`` of (type, lengths, transforms per call)."""
    out = Counter()

    def walk(jp, times):
        for eqn in jp.eqns:
            if eqn.primitive.name == "fft":
                shape = eqn.invars[0].aval.shape
                lengths = tuple(eqn.params["fft_lengths"])
                batch = int(np.prod(shape[:len(shape) - len(lengths)]))
                out[(str(eqn.params["fft_type"]), lengths, batch)] += times
            trips = eqn.params.get("length", 1) if eqn.primitive.name == "scan" else 1
            for sub in jax.extend.core.jaxprs_in_params(eqn.params):
                walk(sub, times * trips)

    walk(jaxpr.jaxpr, 1)
    return out


@pytest.mark.parametrize("J, n, Q, max_order", [(4, 1024, (8, 1), 2), (6, 40000, (4, 2), 2),
                                                (5, 70000, (8, 1), 1)])
def test_fft_floor_runs_the_transforms_ffts(J, n, Q, max_order):
    sc = Scattering1D(J, n, Q=Q, max_order=max_order)
    x = jnp.asarray(np.random.default_rng(0).standard_normal((3, n)), jnp.float32)
    weights = sc.as_function()[0]["weights"]  # the designed filters' weights
    real = _ffts(jax.make_jaxpr(lambda v: forward(sc.plan, weights, v))(x))
    floor = _ffts(jax.make_jaxpr(fft_only_program(sc, 3))(x))
    assert sum(real.values()) > 3  # the comparison below is not between two empty sets
    assert floor == real
    values = np.asarray(compiled_fft_only_program(sc, 3)(x))
    assert values.shape == (1 + len(sc.plan.groups) + len(sc.plan.levels),)
    assert np.all(np.isfinite(values))
