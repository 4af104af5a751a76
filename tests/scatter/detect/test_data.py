"""Tests of scatter.detect.data: labels CSVs and splits that hold out whole recordings."""

import os

import pytest

from scatter import ScatterError
from scatter.detect.data import Record, read_labels, split_records


def _write(path, text):
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return str(path)


def test_read_corpus_layout(tmp_path):
    csv = _write(tmp_path / "labels.csv",
                 "path,label,split,sources,snr_db\n"
                 "clips/a.wav,1,train,s1;s2,3.0\nclips/b.wav,0,val,s3,\n")
    recs = read_labels(csv)
    assert recs[0] == Record(os.path.join(str(tmp_path), "clips/a.wav"), 1, "train",
                             ("s1", "s2"))
    assert recs[1].split == "val" and recs[1].label == 0


def test_read_dcase_layout(tmp_path):
    csv = _write(tmp_path / "ff.csv", "itemid,datasetid,hasbird\n64486,ff1010bird,0\n")
    recs = read_labels(csv, root="/data/ff")
    assert recs[0].path == os.path.join("/data/ff", "wav", "64486.wav")


@pytest.mark.parametrize("text, match", [
    ("file,y\na.wav,1\n", "must have columns"),
    ("path,label\na.wav,2\n", "line 2: label must be 0 or 1"),
    ("path,label\n,1\n", "empty path"),
    ("path,label\n", "no rows"),
])
def test_read_errors(tmp_path, text, match):
    with pytest.raises(ScatterError, match=match):
        read_labels(_write(tmp_path / "l.csv", text))


def test_missing_csv(tmp_path):
    with pytest.raises(ScatterError, match="does not exist"):
        read_labels(tmp_path / "nope.csv")


def test_split_column_is_used_and_test_rows_left_out():
    recs = [Record(f"{i}", i % 2, split) for i, split in
            enumerate(["train", "train", "val", "val", "test", "test"])]
    train, val = split_records(recs)
    assert [r.path for r in train] == ["0", "1"] and [r.path for r in val] == ["2", "3"]


def test_groups_never_straddle_the_split(rng):
    # 60 clips made from 40 recordings, some from two; clips sharing any recording must stay
    # together
    recs = []
    for i in range(60):
        a, b = rng.integers(0, 40, size=2)
        recs.append(Record(str(i), i % 2, "", (f"r{a}", f"r{b}") if i % 5 == 0 else (f"r{a}",)))
    for seed in range(5):
        train, val = split_records(recs, val_fraction=0.3, seed=seed)
        assert len(train) + len(val) == 60
        train_src = {s for r in train for s in r.sources}
        val_src = {s for r in val for s in r.sources}
        assert not train_src & val_src


def test_split_is_seeded():
    recs = [Record(str(i), i % 2) for i in range(40)]
    a = split_records(recs, seed=3)
    b = split_records(recs, seed=3)
    c = split_records(recs, seed=4)
    assert a == b and a != c


def test_split_errors():
    recs = [Record(str(i), 1) for i in range(10)]
    with pytest.raises(ScatterError, match="must hold both labels"):
        split_records(recs)
    with pytest.raises(ScatterError, match="val_fraction"):
        split_records(recs, val_fraction=1.5)
