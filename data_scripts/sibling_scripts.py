"""Load a module of ``data_scripts/`` from another one, as one module object per file.

``data_scripts`` is a folder of scripts, not a package: each is run as
``python data_scripts/<name>.py`` or loaded from its file by a test or a benchmark. The helpers
they share (``debian_packages.py``, ``corpus_v4.py``, ...) are loaded with :func:`load_sibling`,
which registers each file once in ``sys.modules`` under ``_symscatter_data_scripts_<name>``.
A test that loads the same name (and monkeypatches it) therefore changes the module the
scripts use. A script finds this module by putting its own folder on ``sys.path``::

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from sibling_scripts import load_sibling

    corpus = load_sibling("corpus_v4")
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

__all__ = ["MODULE_PREFIX", "SCRIPTS_DIR", "load_sibling"]

#: ``sys.modules`` key of ``data_scripts/<name>.py``: this prefix and ``name``.
MODULE_PREFIX = "_symscatter_data_scripts_"
#: The folder of the scripts.
SCRIPTS_DIR = Path(__file__).resolve().parent


def load_sibling(name: str):
    """Import ``data_scripts/<name>.py`` (once per process) and return the module.

    Parameters
    ----------
    name : str
        File name without ``.py``, e.g. ``"debian_packages"``.

    Returns
    -------
    module
        The module, registered in ``sys.modules`` under ``MODULE_PREFIX + name``.

    Raises
    ------
    FileNotFoundError
        If there is no ``data_scripts/<name>.py``.
    """
    key = MODULE_PREFIX + name
    if key not in sys.modules:
        path = SCRIPTS_DIR / f"{name}.py"
        if not path.is_file():
            raise FileNotFoundError(f"load_sibling: no script {path}; name is the file name "
                                    f"without .py, got {name!r}")
        spec = importlib.util.spec_from_file_location(key, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[key] = mod
        try:
            spec.loader.exec_module(mod)
        except BaseException:
            del sys.modules[key]
            raise
    return sys.modules[key]
