import os

import numpy as np
import pytest

import symbolic as S
from symbolic.io import atomic_open


def test_save_load_roundtrip(tmp_path, rng):
    with S.scope("enc"):
        w = S.Variable(rng.normal(size=(3, 2)).astype("float32"), name="W")
    b = S.Variable(np.zeros(2, "float32"), name="b")
    path = tmp_path / "model.npz"
    assert S.save(path) == ["enc/W", "b"]
    saved = w.value
    w.value = np.zeros((3, 2))
    b.value = np.ones(2)
    assert S.load(path) == ["enc/W", "b"]
    np.testing.assert_array_equal(w.value, saved)
    np.testing.assert_array_equal(b.value, 0)
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]  # no temporary file left


def test_load_errors(tmp_path):
    a = S.Variable(np.zeros(2, "float32"), name="a")
    S.save(tmp_path / "a.npz", [a])
    b = S.Variable(np.zeros(2, "float32"), name="b")
    with pytest.raises(S.SymbolicError, match=r"has no values for \['b'\]"):
        S.load(tmp_path / "a.npz", [b])
    assert S.load(tmp_path / "a.npz", [a, b], strict=False) == ["a"]
    with S.Graph():
        wrong = S.Variable(np.zeros(3, "float32"), name="a")
        with pytest.raises(S.SymbolicError, match=r"'a' is stored with shape \(2,\)"):
            S.load(tmp_path / "a.npz", [wrong])


def test_failed_save_leaves_previous_file(tmp_path, monkeypatch):
    a = S.Variable(np.zeros(2, "float32"), name="a")
    path = tmp_path / "m.npz"
    S.save(path, [a])
    a.value = np.ones(2)

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        S.save(path, [a])
    monkeypatch.undo()
    with np.load(path) as data:
        np.testing.assert_array_equal(data["a"], 0)
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]


def test_saved_file_has_usual_permissions(tmp_path):
    a = S.Variable(np.zeros(2, "float32"), name="a")
    S.save(tmp_path / "m.npz", [a])
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "m.npz").stat().st_mode & 0o777 == 0o666 & ~mask


def test_atomic_open_replaces_or_keeps(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_open(target) as fh:
            fh.write("half")
            raise RuntimeError("crash")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]  # no temporary file left behind
    with atomic_open(target, "wb") as fh:
        fh.write("new é".encode())
    assert target.read_text(encoding="utf-8") == "new é"
    assert os.listdir(tmp_path) == ["out.txt"]
    with pytest.raises(S.SymbolicError, match="folder .*nowhere.* does not exist"):
        atomic_open(tmp_path / "nowhere" / "x.csv").__enter__()
    with pytest.raises(S.SymbolicError, match="mode must be 'w' or 'wb'; got 'a'"):
        atomic_open(target, "a").__enter__()
