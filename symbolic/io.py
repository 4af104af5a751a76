"""Saving and loading variable values (``.npz`` keyed by variable name), and the atomic file
write that every package of the project uses (:func:`atomic_open`)."""

from __future__ import annotations

import contextlib
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


def _new_file_mode():
    """The mode ``open()`` would give a new file: 0o666 less the process umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_open(path, mode="w"):
    """Open a temporary file beside ``path``; rename it over ``path`` when the block succeeds.

    The file appears complete or not at all, so that a reader, or a run resumed after a crash,
    never sees half of it. The temporary file is flushed to disk before the rename and gets the
    permissions ``open()`` would give a new file.

    Parameters
    ----------
    path : str or os.PathLike
        The final file; its folder must exist.
    mode : {"w", "wb"}
        Text (UTF-8 with ``surrogateescape``, ``newline=""``) or binary.

    Yields
    ------
    fh : file object

    Raises
    ------
    SymbolicError
        For another mode or a missing folder. On an exception inside the block the temporary
        file is removed and ``path`` is left as it was.

    Examples
    --------
    >>> with atomic_open("out.txt") as fh:  # doctest: +SKIP
    ...     fh.write("hello\\n")
    """
    if mode not in ("w", "wb"):
        raise SymbolicError(f"mode must be 'w' or 'wb'; got {mode!r}")
    path = os.fsdecode(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise SymbolicError(f"path {path!r}: folder {folder!r} does not exist; create it first")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp")
    try:
        kwargs = {} if mode == "wb" else {"newline": "", "encoding": "utf-8",
                                          "errors": "surrogateescape"}
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _new_file_mode())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


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
    with atomic_open(path, "wb") as f:
        np.savez(f, **{v.name: v.value for v in variables})
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
