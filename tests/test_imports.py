"""Importing the packages starts nothing: JAX's backend stays down, so a program that imports
them can still choose its CPU device count (as ``python -m scatter detect`` does)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[1])

_CHILD = """
import symbolic, layers, layers.analysis, scatter, scatter.cli, scatter.outputs, scatter.detect
import scatter.run, scatter.threshold, scatter.runtime
import jax
jax.config.update("jax_num_cpu_devices", 3)  # refused once the backend runs
print(jax.device_count())
"""


def test_imports_leave_the_backend_down():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (ROOT, os.environ.get("PYTHONPATH")) if p), JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)
    res = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split()[-1] == "3"
