"""Tests of scatter.runtime: where the caches go, the CPU device count, and what configure()
does to a fresh process (in a subprocess: every setting there is process-wide)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import pytest

from scatter import ScatterError, runtime
from scatter.cache import cache_dir

ROOT = str(Path(__file__).resolve().parents[2])


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No cache variable set but the package's cache root, in ``tmp_path / "cache"``."""
    for name in ("SYMSCATTER_NO_JAX_CACHE", "JAX_COMPILATION_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SYMSCATTER_CACHE_DIR", str(tmp_path / "cache"))
    return monkeypatch


def test_cache_folders_follow_the_package_cache(clean_env, tmp_path):
    assert runtime.program_cache_dir() == str(tmp_path / "cache" / "programs")
    assert runtime.jax_cache_dir() == str(tmp_path / "cache" / "jax")
    assert not (tmp_path / "cache").exists()  # nothing is created by asking
    clean_env.delenv("SYMSCATTER_CACHE_DIR")
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert runtime.program_cache_dir() == str(tmp_path / "xdg" / "symscatter" / "programs")
    assert runtime.program_cache_dir() == cache_dir("programs")


def test_jax_cache_variable_holds_both_caches(clean_env, tmp_path):
    clean_env.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "jax"))
    assert runtime.jax_cache_dir() == str(tmp_path / "jax")
    assert runtime.program_cache_dir() == str(tmp_path / "jax" / "symscatter-programs")


def test_no_cache_variable_turns_both_off(clean_env, tmp_path):
    clean_env.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "jax"))
    clean_env.setenv("SYMSCATTER_NO_JAX_CACHE", "1")
    assert runtime.caches_disabled()
    assert runtime.program_cache_dir() is None and runtime.jax_cache_dir() is None


def test_cpu_device_count():
    assert runtime.cpu_device_count({"SYMSCATTER_CPU_DEVICES": "3"}) == 3
    assert runtime.cpu_device_count({"SYMSCATTER_CPU_DEVICES": " 1 "}) == 1
    assert runtime.cpu_device_count({"SYMSCATTER_CPU_DEVICES": "1000"}) == 64
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert runtime.cpu_device_count({}) == min(cores, 64)
    kept = {"XLA_FLAGS": "--xla_force_host_platform_device_count=5",
            "SYMSCATTER_CPU_DEVICES": "3"}
    assert runtime.cpu_device_count(kept) is None  # the user's XLA flag wins


@pytest.mark.parametrize("value", ["two", "0", "-1", "1.5"])
def test_cpu_device_count_refuses_a_bad_value(value):
    with pytest.raises(ScatterError, match="SYMSCATTER_CPU_DEVICES must be a positive "
                                           f"integer; got '{value}'"):
        runtime.cpu_device_count({"SYMSCATTER_CPU_DEVICES": value})


def test_use_every_core_once_jax_runs_changes_nothing():
    jnp.zeros(1).block_until_ready()  # JAX's backend is running
    before = jax.config.jax_num_cpu_devices, jax.local_device_count()
    other = jax.local_device_count() + 1
    assert runtime.use_every_core(other) is None
    assert (jax.config.jax_num_cpu_devices, jax.local_device_count()) == before
    for bad in (0, True, 2.0):
        with pytest.raises(ScatterError, match="n must be a positive integer"):
            runtime.use_every_core(bad)


_FRESH = r"""
import json, os
import jax
import scatter.runtime as rt

report = {}
os.environ["SYMSCATTER_NO_JAX_CACHE"] = "1"
report["off"] = [rt.enable_jax_cache(), jax.config.jax_enable_compilation_cache]
del os.environ["SYMSCATTER_NO_JAX_CACHE"]
report["configure"] = rt.configure()
report["enabled"] = jax.config.jax_enable_compilation_cache
jax.jit(lambda v: v * 2 + 1)(jax.numpy.arange(3.0)).block_until_ready()
report["devices"] = jax.local_device_count()
report["cached"] = len(os.listdir(report["configure"]["jax_cache"]))
print(json.dumps(report))
"""


def test_configure_sets_up_a_fresh_process(tmp_path):
    env = dict(os.environ, SYMSCATTER_CPU_DEVICES="2", SYMSCATTER_CACHE_DIR=str(tmp_path),
               JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0", JAX_PLATFORMS="cpu",
               PYTHONPATH=os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
    for name in ("XLA_FLAGS", "JAX_COMPILATION_CACHE_DIR", "SYMSCATTER_NO_JAX_CACHE",
                 "SYMSCATTER_KEEP_MALLOC"):
        env.pop(name, None)
    res = subprocess.run([sys.executable, "-c", _FRESH], env=env, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout.strip().splitlines()[-1])
    assert report["off"] == [None, False]  # SYMSCATTER_NO_JAX_CACHE: JAX's cache off
    done = report["configure"]
    assert done["cpu_devices"] == 2 and report["devices"] == 2
    assert done["jax_cache"] == str(tmp_path / "jax") and report["enabled"]
    assert report["cached"] >= 1  # the compiled program went to the cache
    assert isinstance(done["allocator"], bool)
