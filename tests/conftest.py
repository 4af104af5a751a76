"""Shared fixtures and test-run settings.

- ``rng``: a seeded NumPy generator.
- Every cache of the package goes to one temporary folder per test session
  (``SYMSCATTER_CACHE_DIR``), so the suite never writes into the user's home and tests that
  compile the same detector program share it; PyTensor's compile folder too.
- Tests marked ``network`` need a package registry (``apt-get download``); they are skipped with
  the reason when it cannot be reached. Tests marked ``slow`` (long training runs, many
  subprocesses) and ``network`` are left out of the default run (``addopts`` in setup.cfg):
  ``python -m pytest -q -m slow`` and ``-m network`` run them, ``-m ""`` runs everything.
- Hypothesis: the ``ci`` profile (``HYPOTHESIS_PROFILE=ci``, used by ``.ci/run``) is
  derandomized, so a failure there reproduces.
"""

import functools
import os
import shutil
import socket
import tempfile
from urllib.parse import urlparse

import numpy as np
import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, deadline=None,
                          print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

_CACHE_VAR = "SYMSCATTER_CACHE_DIR"


def pytest_configure(config):
    # Before any test module is imported: the package's caches (and JAX's, through them) live
    # in a folder of this session's own, never under HOME. A cache folder set by the caller is
    # kept only when it is explicitly requested for tests.
    if not os.environ.get("SYMSCATTER_TEST_KEEP_CACHE_DIR"):
        folder = tempfile.mkdtemp(prefix="symscatter-test-cache-")
        config._symscatter_cache = folder
        os.environ[_CACHE_VAR] = folder
    # PyTensor, a peer some tests compare against, compiles into ~/.pytensor by default (its
    # numba cache too): into this session's folder instead (a pytest-xdist worker inherits
    # the folder its controller chose)
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    if "base_compiledir" not in flags:
        folder = tempfile.mkdtemp(prefix="symscatter-test-pytensor-")
        config._symscatter_pytensor = folder
        os.environ["PYTENSOR_FLAGS"] = ",".join(
            f for f in (flags, f"base_compiledir={folder}") if f)


def pytest_unconfigure(config):
    for name in ("_symscatter_cache", "_symscatter_pytensor"):
        folder = getattr(config, name, None)
        if folder:
            shutil.rmtree(folder, ignore_errors=True)


@functools.lru_cache(maxsize=1)
def _registry_unreachable():
    """Why Debian's package registry cannot be used here, or '' when it can."""
    if shutil.which("apt-get") is None:
        return "apt-get is not installed (not a Debian-like system)"
    hosts = set()
    for folder, names in (("/etc/apt", ["sources.list"]),
                          ("/etc/apt/sources.list.d", None)):
        try:
            names = names or os.listdir(folder)
        except OSError:
            continue
        for name in names:
            try:
                with open(os.path.join(folder, name), encoding="utf-8") as fh:
                    text = fh.read()
            except OSError:
                continue
            for word in text.split():
                if word.startswith(("http://", "https://")):
                    hosts.add(urlparse(word).hostname)
    hosts.discard(None)
    if not hosts:
        return "no apt source is configured"
    for host in sorted(hosts):
        try:
            socket.create_connection((host, 80), timeout=3).close()
            return ""
        except OSError:
            continue
    return f"the package registry cannot be reached ({', '.join(sorted(hosts))})"


#: JAX settings that a test (or the library code it calls in-process) must leave as it found
#: them: a change would silently alter every later test of the session.
_JAX_SETTINGS = ("jax_num_cpu_devices", "jax_enable_x64", "jax_compilation_cache_dir",
                 "jax_enable_compilation_cache", "jax_persistent_cache_min_compile_time_secs",
                 "jax_platforms", "jax_default_matmul_precision")


def _jax_settings():
    import sys

    jax = sys.modules.get("jax")
    if jax is None:
        return None
    return {name: getattr(jax.config, name, None) for name in _JAX_SETTINGS}


@pytest.fixture(autouse=True)
def _jax_state_is_kept():
    """Fail a test that leaves JAX's global configuration changed (and restore it)."""
    before = _jax_settings()
    yield
    after = _jax_settings()
    if before is None or after is None or before == after:
        return
    import jax

    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    for name, (old, _) in changed.items():
        try:
            jax.config.update(name, old)
        except Exception:  # noqa: BLE001 - some settings cannot change once JAX runs
            pass
    pytest.fail(f"the test changed JAX's global configuration: {changed}")


def pytest_runtest_setup(item):
    if item.get_closest_marker("network") is not None:
        reason = _registry_unreachable()
        if reason:
            pytest.skip(f"needs a package registry: {reason}")


@pytest.fixture
def rng():
    """A NumPy generator with a fixed seed, so every test is reproducible."""
    return np.random.default_rng(20261127)
