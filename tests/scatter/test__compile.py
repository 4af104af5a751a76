"""Tests of scatter._compile (compile options, core counts) and the reproducibility it gives."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scatter import _compile
from scatter._compile import usable_cores


def test_usable_cores_is_the_affinity_mask(monkeypatch):
    if hasattr(os, "sched_getaffinity"):
        assert usable_cores() == len(os.sched_getaffinity(0))
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 7)
    assert usable_cores() == 7
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert usable_cores() == 1


@pytest.mark.parametrize("n", [1, 3])
def test_scattering_workers_default_follows_usable_cores(n, monkeypatch):
    from scatter.scattering import Scattering1D

    monkeypatch.setattr("scatter.scattering._frontend.usable_cores", lambda: n)
    sc = Scattering1D(J=3, shape=64, Q=(1, 1))
    assert sc.n_workers(10) == n
    assert sc.n_workers(2) == min(n, 2)


def test_compiled_scattering_is_bit_reproducible():
    """Repeated calls of the package's compiled programs give bit-identical results.

    Short band-pass transforms use XLA's complex inverse FFT; with XLA:CPU's multithreaded FFT
    runtime its results varied in the last bits between calls of one compiled program. The
    package compiles with that threading off (``scatter._compile.jit``); fresh programs, several
    calls each, on copies of the same input, must agree bit for bit (two fresh programs show
    it: each is compared with the first).
    """
    import numpy as np

    import scatter
    from scatter.detect import FeatureConfig
    from scatter.detect.features import FeatureExtractor

    x = (0.05 * np.random.default_rng(0).normal(size=(6, 2048))).astype(np.float32)
    outs = []
    for _ in range(2):
        S = scatter.Scattering1D(4, 2048, Q=(2, 1), subsampling="coarse", workers=1)
        fe = FeatureExtractor(FeatureConfig(sr=16000, window=2048, hop=1024, J=4, Q=(2, 1),
                                            pool=2))
        for _ in range(4):
            outs.append((np.asarray(S(x.copy())), np.asarray(fe(x.copy()))))
    for s, f in outs[1:]:
        np.testing.assert_array_equal(s, outs[0][0])
        np.testing.assert_array_equal(f, outs[0][1])


def test_compile_now_and_lower_now_match_jit():
    fn = lambda w, x: jnp.fft.irfft(jnp.fft.rfft(x) * w, n=x.shape[-1])  # noqa: E731
    x = np.random.default_rng(3).normal(size=(4, 64)).astype(np.float32)
    w = np.linspace(0, 1, 33).astype(np.float32)
    want = jax.jit(fn)(w, x)
    np.testing.assert_allclose(_compile.compile_now(fn, w, x)(w, x), want, rtol=1e-6, atol=1e-6)
    compile_ = _compile.lower_now(fn, jax.ShapeDtypeStruct(w.shape, w.dtype), x)
    np.testing.assert_allclose(compile_()(w, x), want, rtol=1e-6, atol=1e-6)


def test_unknown_compile_options_fall_back_to_the_defaults(monkeypatch):
    """An XLA that does not know one of the options still compiles (with its defaults)."""
    monkeypatch.setattr(_compile, "_CPU_OPTIONS",
                        dict(_compile._CPU_OPTIONS, xla_no_such_option_for_this_test=True))
    fn = lambda x: jnp.cumsum(x) * 2  # noqa: E731
    x = np.arange(10, dtype=np.float32)
    with pytest.raises(jax.errors.JaxRuntimeError, match="No such compile option"):
        jax.jit(fn, compiler_options=_compile._CPU_OPTIONS).lower(x).compile()
    np.testing.assert_array_equal(_compile.compile_now(fn, x)(x), 2 * np.cumsum(x))
    np.testing.assert_array_equal(_compile.jit(fn)(x), 2 * np.cumsum(x))
