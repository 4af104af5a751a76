"""A disk cache of the detector's traced programs, so that a warm run skips tracing.

JAX's persistent compilation cache keeps compiled executables between runs, but each run still
builds the filter bank, traces the Python code and lowers it to StableHLO before it can look
the executable up: a few CPU seconds per run, most of the start-up of ``scatter detect``. This
cache keeps, per model and batch shape, the lowered program (:func:`jax.export.export`,
serialized) and the feature weights it is called with; a warm run deserializes both and goes
straight to the (cached) compilation.

An entry's key hashes everything the program depends on: the source of the ``scatter``
package, the JAX and jaxlib versions, the device platform and count, the feature settings, the
model section of the sidecar and the shapes of the classifier parameters. Entries are written
atomically; an unreadable or corrupt entry counts as a miss and is rewritten. The cache holds no
user data and any file in it can be deleted at any time.

Example
-------
>>> cache = ProgramCache("/tmp/programs")                   # doctest: +SKIP
>>> cache.load_arrays(key) is None                          # first run: a miss  # doctest: +SKIP
True
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["ProgramCache", "source_fingerprint"]


def source_fingerprint():
    """SHA-256 of every ``.py`` file of the ``scatter`` package (paths and contents), with the
    JAX and jaxlib versions: it changes whenever the traced code could.

    Returns
    -------
    str
        Hex digest.
    """
    import jax
    import jaxlib

    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256(f"jax {jax.__version__} jaxlib {jaxlib.__version__}".encode())
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _atomic_write(path, data):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class ProgramCache:
    """Serialized programs and weight arrays under one directory, keyed by content hashes.

    Parameters
    ----------
    directory : str or os.PathLike
        Created when the first entry is written.

    Examples
    --------
    >>> cache = ProgramCache(tmp)                                # doctest: +SKIP
    >>> key = cache.key({"features": {...}}, fingerprint="...")  # doctest: +SKIP
    """

    def __init__(self, directory):
        self.directory = Path(os.fspath(directory))

    @staticmethod
    def key(description, *, fingerprint):
        """Hex key of a JSON-serializable ``description`` and a source ``fingerprint``."""
        text = json.dumps(description, sort_keys=True, default=str)
        return hashlib.sha256((fingerprint + text).encode()).hexdigest()[:40]

    def load_arrays(self, key):
        """The dict of arrays saved under ``key``, or None when absent or unreadable."""
        path = self.directory / f"{key}.npz"
        try:
            with np.load(path, allow_pickle=False) as z:
                return {name: z[name] for name in z.files}
        except (OSError, ValueError, EOFError):
            return None

    def save_arrays(self, key, arrays):
        """Save a dict of arrays under ``key`` (atomically)."""
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        _atomic_write(self.directory / f"{key}.npz", buf.getvalue())

    def load_program(self, key):
        """The :class:`jax.export.Exported` saved under ``key``, or None when absent or
        unreadable."""
        from jax import export

        path = self.directory / f"{key}.jaxexport"
        try:
            blob = path.read_bytes()
        except OSError:
            return None
        try:
            return export.deserialize(bytearray(blob))
        except Exception:  # noqa: BLE001 - any corrupt entry is a miss, rewritten later
            return None

    def save_program(self, key, exported):
        """Serialize ``exported`` (a :class:`jax.export.Exported`) under ``key``."""
        _atomic_write(self.directory / f"{key}.jaxexport", bytes(exported.serialize()))
