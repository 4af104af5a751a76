"""A disk cache of the detector's compiled programs, so that a warm run neither traces nor
compiles.

JAX's persistent compilation cache keeps compiled executables between runs, but each run still
builds the filter bank, traces the Python code and lowers it to StableHLO before it can look
the executable up: a few CPU seconds per run, most of the start-up of ``scatter detect``. This
cache keeps, per model and batch shape, each compiled stage of the scoring program
(:mod:`jax.experimental.serialize_executable`) and the feature weights it is called with; a
warm run loads both and scores at once.

An entry's key hashes everything the program depends on: the source of the ``scatter``
package, the JAX and jaxlib versions, the device platform and count, the host's CPU (machine
type, model and instruction-set flags: XLA:CPU compiles for the CPU it runs on, and a cache
folder may be shared by several machines), the feature settings, the model section of the
sidecar and the shapes of the classifier parameters. Entries are written atomically with a
SHA-256 checksum; an unreadable, corrupt or mismatched entry counts as a miss and is rewritten.
The cache holds no user data and any file in it can be deleted at any time.

A compiled entry is loaded with :mod:`pickle` (as JAX's own executable serialization does), so
the folder must be as trusted as the code itself: by default it is in the user's own cache
directory.

Example
-------
>>> cache = ProgramCache("/tmp/programs")                   # doctest: +SKIP
>>> cache.load_arrays(key) is None                          # first run: a miss  # doctest: +SKIP
True
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import pickle
import platform
from pathlib import Path

import numpy as np

from scatter.outputs import atomic_open

__all__ = ["ProgramCache", "host_fingerprint", "source_fingerprint", "watch_cache_hits"]

_MAGIC = b"symscatter-executable-1\n"


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


@functools.cache
def host_fingerprint():
    """SHA-256 of this machine's type, CPU model and CPU feature flags (from ``/proc/cpuinfo``
    where there is one): compiled CPU code is only reused on a CPU like the one it was built
    for.

    Returns
    -------
    str
        Hex digest.
    """
    h = hashlib.sha256(f"{platform.system()} {platform.machine()} {platform.processor()}"
                       .encode())
    try:
        with open("/proc/cpuinfo", "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError:
        text = ""
    keep = ("vendor_id", "cpu family", "model", "model name", "flags", "features",
            "cpu implementer", "cpu architecture", "cpu variant", "cpu part", "isa")
    for line in text.split("\n\n")[0].splitlines():  # the first processor's block
        name = line.split(":", 1)[0].strip().lower()
        if name in keep:
            h.update(line.encode())
    return h.hexdigest()


class watch_cache_hits:  # noqa: N801 - used as a context manager, like contextlib's
    """Context manager that tells whether JAX's persistent compilation cache served any
    compilation while it was open (in any thread).

    An executable that JAX loaded from its persistent cache cannot be serialized again: the
    copy lacks its compiled functions and fails when called ("Function ... not found", seen
    with jaxlib 0.10). So :class:`ProgramCache` only saves programs compiled while no cache
    hit happened. Where JAX cannot say (no ``jax.monitoring`` listener removal), a hit is
    assumed whenever JAX's persistent cache is configured.

    Examples
    --------
    >>> with watch_cache_hits() as watch:                       # doctest: +SKIP
    ...     compiled = jax.jit(f).lower(x).compile()
    >>> watch.hit                                               # doctest: +SKIP
    False
    """

    _EVENT = "/jax/compilation_cache/cache_hits"

    def __init__(self):
        self.hit = False
        self._listening = False

    def _listener(self, event, **kwargs):
        if event == self._EVENT:
            self.hit = True

    def __enter__(self):
        from jax import monitoring

        if hasattr(monitoring, "unregister_event_listener"):
            monitoring.register_event_listener(self._listener)
            self._listening = True
        else:  # pragma: no cover - older JAX
            import jax

            self.hit = bool(getattr(jax.config, "jax_compilation_cache_dir", None))
        return self

    def __exit__(self, *exc):
        if self._listening:
            from jax import monitoring

            monitoring.unregister_event_listener(self._listener)
            self._listening = False
        return False


def _write(path, data):
    """Write the bytes ``data`` to ``path`` atomically, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "wb") as f:
        f.write(data)


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
        _write(self.directory / f"{key}.npz", buf.getvalue())

    def load_executable(self, key, *, devices):
        """The compiled program saved under ``key``, loaded onto ``devices``, or None when
        absent, corrupt or not loadable here.

        Parameters
        ----------
        key : str
        devices : sequence of jax.Device
            The devices the program runs on (those it was compiled for).

        Returns
        -------
        jax.stages.Compiled or None
        """
        path = self.directory / f"{key}.xla"
        try:
            blob = path.read_bytes()
        except OSError:
            return None
        head = len(_MAGIC) + 32
        if len(blob) < head or not blob.startswith(_MAGIC) \
                or hashlib.sha256(blob[head:]).digest() != blob[len(_MAGIC):head]:
            return None
        from jax.experimental import serialize_executable

        try:
            payload, in_tree, out_tree = pickle.loads(blob[head:])
            return serialize_executable.deserialize_and_load(
                payload, in_tree, out_tree, execution_devices=list(devices))
        except Exception:  # noqa: BLE001 - any entry that does not load is a miss, rewritten
            return None

    def save_executable(self, key, compiled):
        """Save ``compiled`` (a :class:`jax.stages.Compiled`) under ``key`` (atomically).

        Raises
        ------
        OSError
            When the folder cannot be written.
        ValueError, NotImplementedError
            When the backend cannot serialize the program (the caller skips the cache).
        """
        from jax.experimental import serialize_executable

        data = pickle.dumps(serialize_executable.serialize(compiled),
                            protocol=pickle.HIGHEST_PROTOCOL)
        _write(self.directory / f"{key}.xla",
                      _MAGIC + hashlib.sha256(data).digest() + data)
