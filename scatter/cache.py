"""The package's one cache folder: compiled programs, fetched datasets, benchmark audio.

Everything symscatter keeps between runs lives under one root, chosen in this order:

1. ``$SYMSCATTER_CACHE_DIR`` when it is set (tests point it at a temporary folder);
2. ``$XDG_CACHE_HOME/symscatter`` when ``XDG_CACHE_HOME`` is set;
3. ``~/.cache/symscatter``.

Each user of the cache takes one named subfolder (``programs``, ``jax``, ``corpus``,
``tuxpaint``, ...). Nothing in it is precious: any subfolder can be deleted at any time and is
rebuilt or refetched on demand.

Example
-------
>>> import os
>>> os.environ["SYMSCATTER_CACHE_DIR"] = "/tmp/symscatter-example"
>>> cache_dir("corpus")
'/tmp/symscatter-example/corpus'
>>> del os.environ["SYMSCATTER_CACHE_DIR"]
"""

from __future__ import annotations

import os

from scatter.errors import ScatterError

__all__ = ["ENV_VAR", "cache_dir", "cache_root"]

#: The environment variable that moves the whole cache.
ENV_VAR = "SYMSCATTER_CACHE_DIR"


def cache_root():
    """The cache root folder (not created).

    Returns
    -------
    str
        An absolute path: ``$SYMSCATTER_CACHE_DIR``, else ``$XDG_CACHE_HOME/symscatter``, else
        ``~/.cache/symscatter``.
    """
    explicit = os.environ.get(ENV_VAR, "").strip()
    if explicit:
        return os.path.abspath(os.path.expanduser(explicit))
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or os.path.join(
        os.path.expanduser("~"), ".cache")
    return os.path.abspath(os.path.join(base, "symscatter"))


def cache_dir(name, *, create=False):
    """The cache subfolder ``name`` under :func:`cache_root`.

    Parameters
    ----------
    name : str
        Subfolder name, one path component (``"programs"``, ``"corpus"``, ...).
    create : bool, keyword-only
        Create the folder (and the root) when missing.

    Returns
    -------
    str
        The folder's absolute path.

    Raises
    ------
    ScatterError
        When ``name`` is empty or not a single path component, or ``create=True`` and the folder
        cannot be created.
    """
    if (not isinstance(name, str) or not name or name in (".", "..")
            or os.sep in name or (os.altsep and os.altsep in name)):
        raise ScatterError(f"cache_dir: name must be one folder name such as 'programs'; "
                           f"got {name!r}")
    path = os.path.join(cache_root(), name)
    if create:
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as exc:
            raise ScatterError(f"cache_dir: cannot create the cache folder {path!r} ({exc}); "
                               f"set {ENV_VAR} to a writable folder") from None
    return path
