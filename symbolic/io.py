"""Saving and loading variable values (``.npz`` keyed by variable name, written atomically)."""

from __future__ import annotations

import os
import tempfile

import numpy as np

from symbolic.errors import SymbolicError
from symbolic.graph import get_variables
from symbolic.tensor import Variable


def _check(variables, what):
    if variables is None:
        variables = get_variables()
    variables = list(variables)
    for v in variables:
        if not isinstance(v, Variable):
            raise SymbolicError(f"{what}: expected Variables; got {type(v).__name__}")
    names = [v.name for v in variables]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise SymbolicError(f"{what}: several variables share the names {dup}")
    return variables


def save(path, variables=None):
    """Write variable values to ``path`` (``.npz``), atomically.

    The file appears complete or not at all: values go to a temporary file in the same folder,
    which is then renamed.

    Parameters
    ----------
    path : str or os.PathLike
    variables : list of Variable, optional
        Defaults to every variable of the current graph.

    Returns
    -------
    list of str
        The names written.
    """
    variables = _check(variables, "save")
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **{v.name: v.value for v in variables})
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return [v.name for v in variables]


def load(path, variables=None, *, strict=True):
    """Set variable values from a file written by :func:`save`.

    Parameters
    ----------
    path : str or os.PathLike
    variables : list of Variable, optional
        Defaults to every variable of the current graph.
    strict : bool, default True
        Require every variable to be found in the file.

    Returns
    -------
    list of str
        The names loaded.

    Raises
    ------
    SymbolicError
        For a missing name (when ``strict``) or a stored array of another shape.
    """
    variables = _check(variables, "load")
    loaded = []
    with np.load(os.fspath(path)) as data:
        missing = [v.name for v in variables if v.name not in data.files]
        if missing and strict:
            raise SymbolicError(f"load: {os.fspath(path)!r} has no values for {missing}")
        for v in variables:
            if v.name in data.files:
                value = data[v.name]
                if value.shape != v.shape:
                    raise SymbolicError(
                        f"load: {v.name!r} is stored with shape {value.shape}, "
                        f"the variable has {v.shape}"
                    )
                v.assign(value)
                loaded.append(v.name)
    return loaded
