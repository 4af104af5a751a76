"""The README's Python examples run as written (each in a fresh interpreter, as a user would).

A block that needs the user's own files (recordings/, a trained model) is listed in
``NEEDS_USER_FILES`` and only checked to compile.
"""

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
NEEDS_USER_FILES = ("recordings/",)


def _blocks():
    with open(README, encoding="utf-8") as f:
        text = f.read()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


BLOCKS = _blocks()
RUNNABLE = [b for b in BLOCKS if not any(m in b for m in NEEDS_USER_FILES)]


def test_readme_has_runnable_examples():
    # symbolic, scatter (wavelets/scattering), denoising and layers each have one.
    assert len(RUNNABLE) >= 4
    for block in BLOCKS:
        compile(block, "README.md", "exec")


@pytest.mark.parametrize("index", range(len(RUNNABLE)))
def test_readme_example_runs(index, tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", RUNNABLE[index]], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"README example {index} failed:\n{RUNNABLE[index]}\n{proc.stderr}"
