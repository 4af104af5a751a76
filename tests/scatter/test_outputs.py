"""Tests of scatter.outputs: rows, atomic writes, torn journals (comma- and tab-separated),
JSON, output paths and Raven tables."""

import csv
import json
import os

import numpy as np
import pytest

from scatter import ScatterError
from scatter.outputs import (
    RAVEN_FIELDS,
    RESULT_FIELDS,
    SEGMENT_FIELDS,
    CsvJournal,
    FileResult,
    atomic_open,
    format_raven_rows,
    format_segment_rows,
    merge_detections,
    output_paths,
    raven_band,
    raven_table_paths,
    read_results,
    read_rows,
    tsv_text,
    write_json,
    write_raven_table,
)

ODD_PATHS = ["plain.wav", "comma, and \"quotes\".wav", "line\nbreak.flac",
             "été/鳥のさえずり.ogg", os.fsdecode(b"bad-\xff\xfe-utf8.mp3")]


def sample_results():
    return [FileResult(p, score=0.25 * i, label=int(i > 1), duration_s=10.5 + i,
                       sample_rate=44100, channels=i + 1, n_windows=20 + i,
                       start_time=None if i % 2 else f"2024-05-0{i + 1}T04:30:00+02:00")
            for i, p in enumerate(ODD_PATHS)] + [
        FileResult("broken.wav", sample_rate=None, error="cannot decode audio\n(bad header)")]


def test_file_result_rows_round_trip():
    for res in sample_results():
        row = res.to_row()
        assert list(row) == list(RESULT_FIELDS)
        back = FileResult.from_row(row)
        assert back.to_row() == row
        if res.ok:
            assert back == res
    err = sample_results()[-1].to_row()
    assert err["score"] == err["label"] == err["duration_s"] == ""
    assert err["error"] == "cannot decode audio (bad header)"
    assert not FileResult.from_row(err).ok
    with pytest.raises(ScatterError, match="is not a results row"):
        FileResult.from_row({**err, "score": "x"})


def test_atomic_open_replaces_or_keeps(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_open(target) as fh:
            fh.write("half")
            raise RuntimeError("crash")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]  # no temporary file left behind
    with atomic_open(target) as fh:
        fh.write("new é")
    assert target.read_text(encoding="utf-8") == "new é"
    assert os.listdir(tmp_path) == ["out.txt"]
    with pytest.raises(ScatterError, match="folder .*nowhere.* does not exist"):
        atomic_open(tmp_path / "nowhere" / "x.csv").__enter__()
    with pytest.raises(ScatterError, match="mode must be 'w' or 'wb'; got 'a'"):
        atomic_open(target, "a").__enter__()


def test_journal_matches_csv_module(tmp_path):
    path = tmp_path / "results.csv"
    rows = [r.to_row() for r in sample_results()]
    j = CsvJournal(path, RESULT_FIELDS, keep_rows=rows[:2])
    j.append(rows[2:4])
    j.append(rows[4:])
    j.close()
    assert read_rows(path, RESULT_FIELDS) == rows
    with open(path, newline="", encoding="utf-8", errors="surrogateescape") as fh:
        assert list(csv.DictReader(fh)) == rows
    assert [r.path for r in read_results(path)] == [r["path"] for r in rows]
    with pytest.raises(ScatterError, match="append after close"):
        j.append(rows)


def test_torn_journal_keeps_every_complete_row(tmp_path):
    """Cut the file at every byte: reading gives exactly the rows that were complete."""
    path = tmp_path / "r.csv"
    rows = [r.to_row() for r in sample_results()]
    j = CsvJournal(path, RESULT_FIELDS)
    ends = []
    for row in rows:
        j.append([row])
        ends.append(os.path.getsize(path))
    j.close()
    data = path.read_bytes()
    header_end = data.index(b"\n") + 1
    cut_path = tmp_path / "cut.csv"
    for cut in range(header_end, len(data) + 1):
        cut_path.write_bytes(data[:cut])
        complete = sum(end <= cut for end in ends)
        assert read_rows(cut_path, RESULT_FIELDS) == rows[:complete], cut
    cut_path.write_bytes(data[:5])
    with pytest.raises(ScatterError, match="header is"):
        read_rows(cut_path, RESULT_FIELDS)


def test_read_rows_errors(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ScatterError, match=r"header is \['a', 'b'\]; expected \['path'"):
        read_rows(path, SEGMENT_FIELDS)
    path.write_text("path,start_s,end_s,score\na,1\na,0,1,0.5\n")
    with pytest.raises(ScatterError, match="row 2 has 2 columns; expected 4"):
        read_rows(path, SEGMENT_FIELDS)
    path.write_text("")
    with pytest.raises(ScatterError, match="empty; expected the header"):
        read_rows(path, SEGMENT_FIELDS)
    with pytest.raises(ScatterError, match="cannot read"):
        read_rows(tmp_path / "missing.csv", SEGMENT_FIELDS)


def test_segment_rows():
    rows = format_segment_rows("a.wav", [0.0, 0.5], [1.0, 1.25], np.float32([0.1, 0.7]))
    assert rows == [{"path": "a.wav", "start_s": "0.000000", "end_s": "1.000000",
                     "score": "0.1"},
                    {"path": "a.wav", "start_s": "0.500000", "end_s": "1.250000",
                     "score": "0.7"}]
    with pytest.raises(ScatterError, match="one length; got 2, 1, 2"):
        format_segment_rows("a.wav", [0, 1], [1], [0, 1])


def test_write_json_round_trip(tmp_path):
    path = tmp_path / "r.json"
    payload = {"files": [r.to_dict() for r in sample_results()], "summary": {"ok": 5}}
    write_json(path, payload)
    text = path.read_bytes().decode("utf-8")  # valid UTF-8 even with undecodable names
    assert "鳥のさえずり" in text and "\\udcff" in text
    assert json.loads(text) == payload
    with pytest.raises(ScatterError, match=r"payload\['summary'\]\['x'\] is nan"):
        write_json(path, {"summary": {"x": float("nan")}})
    assert json.loads(path.read_text(encoding="utf-8")) == payload  # left as it was


def test_merge_detections_examples():
    starts, ends = [0, 0.5, 1.0, 1.5, 2.0], [1, 1.5, 2.0, 2.5, 2.7]
    assert merge_detections(starts, ends, [0.6, 0.9, 0.1, 0.2, 0.5], threshold=0.5) == [
        (0.0, 1.5, 0.9), (2.0, 2.7, 0.5)]
    # overlapping windows across a low one merge into one selection (no overlaps)
    assert merge_detections(starts, ends, [0.9, 0.1, 0.8, 0.0, 0.0], threshold=0.5) == [
        (0.0, 2.0, 0.9)]
    assert merge_detections([0, 1, 2], [1, 2, 3], [0.7, 0.7, 0.7], threshold=0.5) == [
        (0.0, 3.0, 0.7)]
    assert merge_detections([], [], [], threshold=0.5) == []
    with pytest.raises(ScatterError, match="one length"):
        merge_detections([0], [1, 2], [0.5], threshold=0.5)


def test_merge_detections_properties(rng):
    for _ in range(50):
        n, hop, window = int(rng.integers(1, 40)), float(rng.uniform(0.1, 1)), 1.0
        starts = np.arange(n) * hop
        ends = starts + window
        scores = rng.uniform(size=n)
        sel = merge_detections(starts, ends, scores, threshold=0.6)
        above = scores >= 0.6
        for (_, e0, _), (b1, _, _) in zip(sel, sel[1:], strict=False):
            assert e0 < b1  # disjoint, not touching
        for i in np.flatnonzero(above):  # each detection inside exactly one selection
            inside = [s for s in sel if s[0] <= starts[i] and ends[i] <= s[1]]
            assert len(inside) == 1
        for b, e, s in sel:  # bounds are window bounds, score is the best window inside
            members = above & (starts >= b) & (ends <= e)
            assert b in starts[members] and e in ends[members]
            assert s == scores[members].max()
        assert sum(above) == 0 or sel


def test_raven_table_paths(tmp_path):
    paths = ["rec/a.wav", "rec/a.flac", "rec/site/b.mp3", "rec/site/c.wav"]
    tables = raven_table_paths(paths, "out")
    assert tables == {
        "rec/a.wav": "out/a.wav.Table.1.selections.txt",
        "rec/a.flac": "out/a.flac.Table.1.selections.txt",
        "rec/site/b.mp3": "out/site/b.Table.1.selections.txt",
        "rec/site/c.wav": "out/site/c.Table.1.selections.txt",
    }
    assert raven_table_paths(["only.wav"], "o") == {"only.wav": "o/only.Table.1.selections.txt"}
    assert raven_table_paths([], "o") == {}


def test_write_raven_table(tmp_path):
    path = tmp_path / "deep" / "x.Table.1.selections.txt"
    write_raven_table(path, [(0.0, 1.5, 0.9), (2.0, 2.75, 0.51)], low_hz=500, high_hz=11025)
    with open(path, newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh, delimiter="\t"))
    assert tuple(table[0]) == RAVEN_FIELDS
    assert table[1:] == [
        ["1", "Spectrogram 1", "1", "0.000000", "1.500000", "500.0", "11025.0", "0.9"],
        ["2", "Spectrogram 1", "1", "2.000000", "2.750000", "500.0", "11025.0", "0.51"]]
    write_raven_table(path, [], low_hz=0, high_hz=4000)
    assert path.read_text().splitlines() == ["\t".join(RAVEN_FIELDS)]
    with pytest.raises(ScatterError, match="0 <= low_hz < high_hz; got 5000, 4000"):
        write_raven_table(path, [], low_hz=5000, high_hz=4000)


def test_atomic_open_gives_usual_permissions(tmp_path):
    target = tmp_path / "results.csv"
    with atomic_open(target) as fh:
        fh.write("path,score\n")
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask


def test_older_results_csv_reads_with_start_time_empty(tmp_path):
    """A results CSV written before the start_time column existed resumes: the column reads
    empty, and a journal restarted from its rows writes the current header."""
    path = tmp_path / "old.csv"
    older = [f for f in RESULT_FIELDS if f != "start_time"]
    rows = [{**r.to_row(), "start_time": ""} for r in sample_results()]
    with open(path, "w", newline="", encoding="utf-8", errors="surrogateescape") as fh:
        writer = csv.DictWriter(fh, older, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    assert read_rows(path, RESULT_FIELDS) == rows
    assert all(r.start_time is None for r in read_results(path))
    CsvJournal(path, RESULT_FIELDS, keep_rows=rows).close()
    assert path.read_text(encoding="utf-8", errors="surrogateescape").startswith(
        ",".join(RESULT_FIELDS) + "\n")
    path.write_text("path,score\n")  # other missing columns are still an error
    with pytest.raises(ScatterError, match="header is"):
        read_rows(path, RESULT_FIELDS)


def test_tab_separated_journal_round_trip_and_torn(tmp_path):
    fields = ("a", "b")
    rows = [{"a": tsv_text(p), "b": str(i)} for i, p in enumerate(ODD_PATHS)]
    assert rows[1]["a"] == 'comma, and "quotes".wav' and rows[2]["a"] == "line break.flac"
    path = tmp_path / "t.txt"
    j = CsvJournal(path, fields, delimiter="\t")
    ends = []
    for row in rows:
        j.append([row])
        ends.append(os.path.getsize(path))
    j.close()
    data = path.read_bytes()
    assert data.split(b"\n")[2] == b'comma, and "quotes".wav\t1'  # no quoting
    assert read_rows(path, fields, delimiter="\t") == rows
    for cut in range(data.index(b"\n") + 1, len(data) + 1):
        path.write_bytes(data[:cut])
        assert read_rows(path, fields, delimiter="\t") == rows[:sum(e <= cut for e in ends)]
    with pytest.raises(ScatterError, match=r"delimiter must be ',' or '\\t'; got ';'"):
        CsvJournal(tmp_path / "x", fields, delimiter=";")


def test_output_paths_share_the_raven_layout():
    paths = ["rec/a.wav", "rec/a.flac", "rec/site/b.mp3"]
    assert output_paths(paths, "out", suffix=".npz") == {
        "rec/a.wav": "out/a.wav.npz", "rec/a.flac": "out/a.flac.npz",
        "rec/site/b.mp3": "out/site/b.npz"}
    assert output_paths(paths, "o", suffix="") == {
        p: t[:-len(".Table.1.selections.txt")] for p, t in raven_table_paths(paths, "o").items()}
    assert output_paths([], "o", suffix=".txt") == {}


def test_raven_band_and_rows():
    assert raven_band(0, 11025, sample_rate=16000) == (0.0, 8000.0)
    assert raven_band(500, 11025, sample_rate=44100) == (500.0, 11025.0)
    assert raven_band(9000, 10000, sample_rate=16000) == (8000.0, 8000.0)
    assert raven_band(0, 4000) == (0.0, 4000.0)
    with pytest.raises(ScatterError, match="sample_rate must be a positive number"):
        raven_band(0, 4000, sample_rate=0)
    with pytest.raises(ScatterError, match="0 <= low_hz < high_hz; got 5, 5"):
        raven_band(5, 5)
    rows = format_raven_rows([(1.0, 2.0, 0.9), (4.0, 5.5, 0.7)], low_hz=0, high_hz=8000,
                             first=3, offset_s=60.0)
    assert [r["Selection"] for r in rows] == ["3", "4"]
    assert [(r["Begin Time (s)"], r["End Time (s)"], r["File Offset (s)"]) for r in rows] == [
        ("61.000000", "62.000000", "1.000000"), ("64.000000", "65.500000", "4.000000")]


def test_write_raven_table_keeps_below_the_file_nyquist(tmp_path):
    path = tmp_path / "x.Table.1.selections.txt"
    write_raven_table(path, [(0.0, 1.5, 0.9)], low_hz=0, high_hz=11025, sample_rate=16000)
    with open(path, newline="", encoding="utf-8") as fh:
        table = list(csv.DictReader(fh, delimiter="\t"))
    assert table[0]["High Freq (Hz)"] == "8000.0" and table[0]["Low Freq (Hz)"] == "0.0"
