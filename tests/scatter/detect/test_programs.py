"""Tests of scatter.detect.programs: keys follow their inputs, entries round-trip, a missing or
corrupt entry is a miss, and writes leave no partial files."""

import jax
import jax.numpy as jnp
import numpy as np

from scatter.detect.programs import ProgramCache, host_fingerprint, source_fingerprint


def test_keys_follow_description_and_fingerprint():
    fp = source_fingerprint()
    assert fp == source_fingerprint() and len(fp) == 64
    a = ProgramCache.key({"features": {"J": 8}, "devices": ["cpu", 2]}, fingerprint=fp)
    assert a == ProgramCache.key({"devices": ["cpu", 2], "features": {"J": 8}}, fingerprint=fp)
    assert a != ProgramCache.key({"features": {"J": 7}, "devices": ["cpu", 2]}, fingerprint=fp)
    assert a != ProgramCache.key({"features": {"J": 8}, "devices": ["cpu", 2]},
                                 fingerprint=fp[::-1])


def test_arrays_round_trip_and_misses(tmp_path):
    cache = ProgramCache(tmp_path / "sub")
    assert cache.load_arrays("nothing") is None
    arrays = {"weights/psi": np.arange(6, dtype=np.float32).reshape(2, 3), "n": np.asarray(7)}
    cache.save_arrays("k", arrays)
    got = cache.load_arrays("k")
    assert set(got) == set(arrays)
    np.testing.assert_array_equal(got["weights/psi"], arrays["weights/psi"])
    assert got["weights/psi"].dtype == np.float32 and int(got["n"]) == 7
    (tmp_path / "sub" / "k.npz").write_bytes(b"not a zip file")
    assert cache.load_arrays("k") is None
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["k.npz"]  # no temp files


def test_executables_round_trip_and_corrupt_entries(tmp_path):
    cache = ProgramCache(tmp_path)
    fn = lambda w, x: jnp.tanh(x @ w)  # noqa: E731
    w, x = np.ones((3, 2), np.float32), np.arange(12, dtype=np.float32).reshape(4, 3)
    compiled = jax.jit(fn).lower(w, x).compile()
    devices = jax.local_devices()[:1]  # the program runs on the default device
    assert cache.load_executable("p", devices=devices) is None
    cache.save_executable("p", compiled)
    loaded = cache.load_executable("p", devices=devices)
    np.testing.assert_array_equal(loaded(w, x), compiled(w, x))
    np.testing.assert_allclose(loaded(w, x), np.tanh(x @ w), rtol=1e-6)
    path = tmp_path / "p.xla"
    blob = path.read_bytes()
    # one flipped byte in the payload fails the checksum: a miss, not a crash
    path.write_bytes(blob[:-10] + bytes([blob[-10] ^ 0xFF]) + blob[-9:])
    assert cache.load_executable("p", devices=devices) is None
    for bad in (b"", b"\x00garbage", blob[:40]):
        path.write_bytes(bad)
        assert cache.load_executable("p", devices=devices) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.xla"]  # no temp files


def test_host_fingerprint_is_stable_and_hex():
    fp = host_fingerprint()
    assert fp == host_fingerprint() and len(fp) == 64
    int(fp, 16)
