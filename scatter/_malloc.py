"""Keep large allocations in the C heap for the ``scatter`` command (glibc only).

Each call of a compiled XLA:CPU program allocates its scratch buffer afresh: about 100 MB per
device for the detector's batches. glibc serves an allocation that large with ``mmap`` and
returns it with ``munmap`` when it is freed, so every call faults in ~25,000 fresh zeroed pages
per device. On the 2-core development machine that was a third of the CPU time of
``scatter detect`` (2.4 million page faults, 8 s of kernel time for one hour of audio).

:func:`reuse_large_allocations` tells glibc (``mallopt``) to serve every thread from the main
arena, never to use ``mmap`` for an allocation, and to return freed memory to the system only
past 2 GiB at the top of the heap: a freed buffer is then reused by the next call, already
mapped. (Non-main arenas fall back to ``mmap`` for requests larger than their 64 MiB heaps
whatever the settings, hence the single arena.) The process keeps its peak heap until it exits,
which is the right trade for a batch command and the wrong one for a library, so only a
program's entry point calls it: the ``scatter`` command (:func:`scatter.cli.run_program`), or
a script through :func:`scatter.runtime.configure` (the public name of this function is
:func:`scatter.runtime.reuse_large_allocations`).
"""

from __future__ import annotations

import ctypes
import os

__all__ = ["reuse_large_allocations"]

# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_M_ARENA_MAX = -8
_TRIM_BYTES = 2**31 - 1  # the largest value mallopt takes (an int)


def reuse_large_allocations(environ=None):
    """Configure glibc's allocator as described in the module docstring (process-wide).

    Skipped (returns False) off glibc, when ``SYMSCATTER_KEEP_MALLOC`` is set, or when
    ``GLIBC_TUNABLES`` already sets malloc options (the user's choice wins).

    Parameters
    ----------
    environ : mapping or None
        Environment to read (None: ``os.environ``).

    Returns
    -------
    bool
        True when every setting was applied.
    """
    env = os.environ if environ is None else environ
    if env.get("SYMSCATTER_KEEP_MALLOC") or "glibc.malloc." in env.get("GLIBC_TUNABLES", ""):
        return False
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"):
            return False
    except (AttributeError, ValueError, OSError):  # not glibc (musl, macOS, Windows)
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok = [mallopt(_M_ARENA_MAX, 1), mallopt(_M_MMAP_MAX, 0),
          mallopt(_M_TRIM_THRESHOLD, _TRIM_BYTES)]
    return all(r == 1 for r in ok)
