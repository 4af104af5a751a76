"""The documentation's Python examples run as written, and the front page keeps its shape.

Every fenced ```python block of ``README.md``, ``docs/*.md`` and the model card
``scatter/models/README.md`` runs in a fresh interpreter, as a user would run it: working
folder a temporary folder, the repository first on ``PYTHONPATH``. The folder holds what the
examples' users are told to bring: ``recordings/`` with a few short WAV files (one in a
subfolder, one stereo at 44.1 kHz), so that examples over "your recordings" run instead of only
compiling. A block holding the comment ``# test: slow`` is marked ``slow`` (left out of the
default run; ``python -m pytest -q -m slow tests/test_docs.py`` runs it).

Also checked: the README stays a front page (at most 12 KB), its Quick start section keeps the
two commands CI runs, its links into ``docs/`` resolve, and ``docs/cli.md`` names every option of
``scatter detect``, ``scatter train`` and ``scatter evaluate``.
"""

import glob
import os
import re
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
PAGES = [README, *sorted(glob.glob(os.path.join(ROOT, "docs", "*.md"))),
         os.path.join(ROOT, "scatter", "models", "README.md")]
SLOW_MARK = "# test: slow"
README_MAX_BYTES = 12 * 1024
QUICK_START = ('pip install . && scatter detect --demo',
               'pip install ".[test]" && python -m pytest -q')
BLOCK_TIMEOUT_S = 600


def _python_blocks(path):
    """``(line, code)`` of every ```python block of a Markdown file (line: the fence's)."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    return [(text.count("\n", 0, m.start()) + 1, m.group(1))
            for m in re.finditer(r"^```python[ \t]*\n(.*?)^```", text, flags=re.S | re.M)]


def _cases():
    cases = []
    for path in PAGES:
        rel = os.path.relpath(path, ROOT)
        for line, code in _python_blocks(path):
            marks = [pytest.mark.slow] if SLOW_MARK in code else []
            cases.append(pytest.param(rel, line, code, marks=marks, id=f"{rel}:{line}"))
    return cases


CASES = _cases()


def _write_recordings(folder):
    """A user's folder of recordings: short WAVs, one bird-like whistle among them."""
    import soundfile as sf

    rng = np.random.default_rng(0)
    os.makedirs(os.path.join(folder, "site2"))
    for name, sr, channels, call in (("dawn.wav", 22050, 1, True),
                                     ("noon.wav", 16000, 1, False),
                                     (os.path.join("site2", "dusk.wav"), 44100, 2, False)):
        t = np.arange(int(3.0 * sr)) / sr
        y = 0.01 * rng.standard_normal(t.size)
        if call:
            y += 0.3 * np.sin(2 * np.pi * (3000 + 500 * np.sin(2 * np.pi * 5 * t)) * t) * (
                (t > 1.0) & (t < 1.5))
        data = np.stack([y] * channels, axis=1) if channels > 1 else y
        sf.write(os.path.join(folder, name), data.astype(np.float32), sr)


def test_docs_have_examples():
    # the README's examples (detection, scattering and thresholding, symbolic and layers) and
    # at least one on each package page
    assert len(_python_blocks(README)) >= 3
    for page in ("symbolic", "layers", "analysis", "scatter"):
        assert _python_blocks(os.path.join(ROOT, "docs", f"{page}.md")), page
    for _, code in (c.values[1:] for c in CASES):
        compile(code, "<example>", "exec")


@pytest.mark.parametrize("page, line, code", CASES)
def test_example_runs(page, line, code, tmp_path):
    _write_recordings(tmp_path / "recordings")
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=BLOCK_TIMEOUT_S)
    assert proc.returncode == 0, (
        f"the example at {page}:{line} failed (exit {proc.returncode}):\n{code}\n"
        f"--- stdout ---\n{proc.stdout[-3000:]}\n--- stderr ---\n{proc.stderr[-6000:]}")


def _readme():
    with open(README, encoding="utf-8") as fh:
        return fh.read()


def test_readme_is_a_front_page():
    size = os.path.getsize(README)
    assert size <= README_MAX_BYTES, f"README.md is {size} bytes; keep it <= {README_MAX_BYTES}"


def test_quick_start_keeps_the_two_commands_ci_runs():
    # .ci/run runs the second fenced block after "## Quick start"
    section = _readme().split("## Quick start", 1)[1]
    blocks = re.findall(r"```[a-z]*\n(.*?)```", section, flags=re.S)
    assert [b.strip() for b in blocks[:2]] == list(QUICK_START)


def test_readme_links_resolve():
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", _readme())
    local = [link for link in links if "://" not in link and not link.startswith("mailto:")]
    assert any(link.startswith("docs/") for link in local)
    missing = [link for link in local if not os.path.exists(os.path.join(ROOT, link))]
    assert not missing, f"README.md links to missing files: {missing}"


def test_cli_page_names_every_option():
    from scatter.cli import build_parser

    with open(os.path.join(ROOT, "docs", "cli.md"), encoding="utf-8") as fh:
        page = fh.read()
    parser = build_parser()
    (commands,) = [a for a in parser._actions if a.choices and isinstance(a.choices, dict)]
    missing = []
    for name, sub in commands.choices.items():
        assert f"scatter {name}" in page, f"docs/cli.md does not describe scatter {name}"
        for action in sub._actions:
            for option in action.option_strings:
                if option.startswith("--") and option != "--help" and (
                        f"`{option}" not in page):
                    missing.append(f"scatter {name} {option}")
    assert not missing, f"docs/cli.md does not explain: {missing}"
