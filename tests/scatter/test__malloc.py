"""Tests of scatter._malloc: large buffers reused instead of faulted in afresh (glibc)."""

import os
import subprocess
import sys
import textwrap

import pytest

from scatter._malloc import reuse_large_allocations


def _glibc():
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (AttributeError, ValueError, OSError):
        return False


# Mallocs, fills and frees a 96 MB buffer 6 times in a worker thread (as XLA's executor threads
# do with their scratch buffers) and prints the minor page faults of the last 5 rounds.
_PROBE = textwrap.dedent("""
    import ctypes, resource, sys, threading
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    if sys.argv[1] == "tuned":
        from scatter._malloc import reuse_large_allocations
        assert reuse_large_allocations()
    faults = []
    def work():
        for _ in range(6):
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            p = libc.malloc(96 * 2**20)
            ctypes.memset(p, 1, 96 * 2**20)
            libc.free(p)
            faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    t = threading.Thread(target=work)
    t.start(); t.join()
    print(sum(faults[1:]))
""")


def _faults(mode):
    env = {k: v for k, v in os.environ.items()
           if k not in ("GLIBC_TUNABLES", "SYMSCATTER_KEEP_MALLOC")}
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], env=env, capture_output=True,
                         text=True, check=True)
    return int(out.stdout.split()[-1])


@pytest.mark.skipif(not _glibc(), reason="the tuning applies to glibc's allocator only")
def test_tuned_process_reuses_large_buffers_without_page_faults():
    pages = 5 * 96 * 2**20 // os.sysconf("SC_PAGE_SIZE")  # every page of the 5 later rounds
    default = _faults("default")
    if default < 0.5 * pages:
        # transparent huge pages for every mapping (THP "always"): a fault maps 2 MB, and
        # counting faults says nothing about the reuse
        pytest.skip(f"only {default} page faults for {pages} pages: huge pages in use")
    tuned = _faults("tuned")
    assert default > 0.9 * pages  # glibc maps and unmaps each buffer: every page faults again
    assert tuned < 0.05 * pages  # the buffer stays in the heap and is reused


def test_skipped_when_the_user_chose():
    assert reuse_large_allocations({"SYMSCATTER_KEEP_MALLOC": "1"}) is False
    assert reuse_large_allocations(
        {"GLIBC_TUNABLES": "glibc.malloc.arena_max=4"}) is False
