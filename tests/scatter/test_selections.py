"""Tests of scatter.selections: Audacity label files and the whole-run Raven table (columns,
cumulative times, Nyquist band, journal while running, resume equal to an uninterrupted run)."""

import csv
import os

import pytest

from scatter import ScatterError
from scatter.outputs import FileResult, read_rows
from scatter.selections import (
    RAVEN_RUN_FIELDS,
    RavenRunTable,
    audacity_label_paths,
    read_audacity_labels,
    write_audacity_labels,
)


def test_audacity_labels_round_trip(tmp_path):
    assert audacity_label_paths(["rec/a.wav", "rec/s/b.WAV", "rec/s/b.flac"], "lab") == {
        "rec/a.wav": "lab/a.txt", "rec/s/b.WAV": "lab/s/b.WAV.txt",
        "rec/s/b.flac": "lab/s/b.flac.txt"}
    path = tmp_path / "deep" / "a.txt"
    write_audacity_labels(path, [(0.0, 2.6, 0.9123), (5.2, 7.8, 0.5)])
    assert path.read_text() == "0.000000\t2.600000\tbird 0.912\n5.200000\t7.800000\tbird 0.500\n"
    assert read_audacity_labels(path) == [(0.0, 2.6, "bird 0.912"), (5.2, 7.8, "bird 0.500")]
    write_audacity_labels(path, [(1, 2, 0.25)], label="")
    assert path.read_text() == "1.000000\t2.000000\t0.250\n"
    write_audacity_labels(path, [], label="wren\tsong")  # no detection: an empty file
    assert path.read_text() == "" and read_audacity_labels(path) == []
    assert sorted(os.listdir(path.parent)) == ["a.txt"]  # no temporary file left
    # Audacity's own spectral-selection lines are skipped
    path.write_text("1.5\t2.5\tcall\n\\\t1000\t4000\n3\t4\n")
    assert read_audacity_labels(path) == [(1.5, 2.5, "call"), (3.0, 4.0, "")]


def test_audacity_label_errors(tmp_path):
    path = tmp_path / "a.txt"
    with pytest.raises(ScatterError, match=r"selections must be \(begin_s, end_s, score\)"):
        write_audacity_labels(path, [(0.0, 1.0)])
    with pytest.raises(ScatterError, match="0 <= begin_s <= end_s.*got \\(2.0, 1.0, 0.5\\)"):
        write_audacity_labels(path, [(2.0, 1.0, 0.5)])
    with pytest.raises(ScatterError, match="label must be a string; got 3"):
        write_audacity_labels(path, [], label=3)
    assert not path.exists()
    path.write_text("1.0 2.0 x\n")
    with pytest.raises(ScatterError, match="line 1 is '1.0 2.0 x'; expected begin<TAB>end"):
        read_audacity_labels(path)


def _result(path, duration, sr=48000, error=""):
    if error:
        return FileResult(path, sample_rate=sr, error=error)
    return FileResult(path, score=0.8, label=1, duration_s=duration, sample_rate=sr,
                      channels=1, n_windows=10)


# the run: files in name order, different sample rates, one without detections, one error
RUN = [
    ("site/a.wav", 60.0, 48000, [(1.0, 3.6, 0.9), (10.0, 12.6, 0.7)]),
    ("site/b.wav", 30.0, 16000, []),
    ("site/c.flac", 45.5, 22050, [(0.0, 2.6, 0.95)]),
    ("site/d.wav", None, 48000, None),  # could not be decoded
    ("site/e.wav", 20.0, 8000, [(5.0, 7.6, 0.6), (17.4, 20.0, 0.99)]),
]
ORDER = [p for p, *_ in RUN]


def _add(table, item):
    path, duration, sr, sels = item
    if duration is None:
        table.add(_result(path, None, sr, error="cannot decode"), [])
    else:
        table.add(_result(path, duration, sr), sels)


def _read(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh, delimiter="\t"))


def test_raven_run_table_columns_times_and_band(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run.selections.txt"
    with RavenRunTable(out, order=ORDER) as table:
        for i in (4, 0, 2, 1, 3):  # files finish out of order
            _add(table, RUN[i])
        assert (table.n_files, table.n_selections) == (4, 5)
    rows = _read(out)
    assert tuple(rows[0]) == RAVEN_RUN_FIELDS == (
        "Selection", "View", "Channel", "Begin Time (s)", "End Time (s)", "Low Freq (Hz)",
        "High Freq (Hz)", "Begin Path", "File Offset (s)", "Score")
    body = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert [r["Selection"] for r in body] == ["1", "2", "3", "4", "5"]
    assert [os.path.relpath(r["Begin Path"], tmp_path) for r in body] == [
        "site/a.wav", "site/a.wav", "site/c.flac", "site/e.wav", "site/e.wav"]
    assert all(os.path.isabs(r["Begin Path"]) for r in body)
    # each file starts at the summed durations of the scored files before it (b counts, d not)
    offsets = {"site/a.wav": 0.0, "site/c.flac": 90.0, "site/e.wav": 135.5}
    for r in body:
        rel = os.path.relpath(r["Begin Path"], tmp_path)
        begin = float(r["File Offset (s)"])
        assert float(r["Begin Time (s)"]) == pytest.approx(offsets[rel] + begin)
        assert float(r["End Time (s)"]) - float(r["Begin Time (s)"]) == pytest.approx(2.6)
        sr = {"site/a.wav": 48000, "site/c.flac": 22050, "site/e.wav": 8000}[rel]
        assert float(r["High Freq (Hz)"]) == sr / 2 and float(r["Low Freq (Hz)"]) == 0
    assert [r["Score"] for r in body] == ["0.9", "0.7", "0.95", "0.6", "0.99"]


def test_raven_run_table_band_and_empty_run(tmp_path):
    out = tmp_path / "t.txt"
    with RavenRunTable(out, order=ORDER, band_hz=(1000, 12000)) as table:
        _add(table, RUN[0])
        _add(table, RUN[4])
    body = _read(out)[1:]
    assert [(r[5], r[6]) for r in body] == [("1000.0", "12000.0")] * 2 + [("1000.0",
                                                                           "4000.0")] * 2
    RavenRunTable(out).close()  # nothing detected: the header alone
    assert out.read_text() == "\t".join(RAVEN_RUN_FIELDS) + "\n"
    with pytest.raises(ScatterError, match=r"band_hz must satisfy|low_hz, high_hz must"):
        RavenRunTable(out, band_hz=(5000, 100))
    with pytest.raises(ScatterError, match="band_hz must be \\(low, high\\) in Hz"):
        RavenRunTable(out, band_hz="wide")
    table = RavenRunTable(out)
    with pytest.raises(ScatterError, match="has no duration_s"):
        table.add(FileResult("x.wav", score=0.5, label=1, sample_rate=8000), [])
    with pytest.raises(ScatterError, match="result must be a FileResult or a results row"):
        table.add("x.wav", [])
    table.close()
    table.close()
    with pytest.raises(ScatterError, match="add after close"):
        _add(table, RUN[0])


def test_raven_run_table_is_a_valid_table_while_running(tmp_path):
    """Before close, the file holds every added file in the order added, numbered and timed
    on (a crash leaves a valid table); a file added again replaces its selections."""
    out = tmp_path / "t.txt"
    table = RavenRunTable(out, order=ORDER)
    _add(table, RUN[2])
    _add(table, RUN[0])
    rows = read_rows(out, RAVEN_RUN_FIELDS, delimiter="\t")
    assert [r["Selection"] for r in rows] == ["1", "2", "3"]
    assert [float(r["Begin Time (s)"]) for r in rows] == [0.0, 46.5, 55.5]  # c, then a
    table.add(_result("site/c.flac", 45.5, 22050), [(1.0, 2.0, 0.5)])
    rows = read_rows(out, RAVEN_RUN_FIELDS, delimiter="\t")
    assert [(r["Selection"], r["Begin Time (s)"], r["Score"]) for r in rows][0] == (
        "1", "1.000000", "0.5")
    table.close()
    assert [r["Score"] for r in read_rows(out, RAVEN_RUN_FIELDS, delimiter="\t")] == [
        "0.9", "0.7", "0.5"]


def _closed_table(path, items, keep_rows=()):
    kept = RavenRunTable.read_kept(path, keep_rows, order=ORDER)
    with RavenRunTable(path, order=ORDER, kept=kept) as table:
        for item in items:
            _add(table, item)
    return path.read_bytes()


@pytest.mark.parametrize("cut_tail", [False, True])
def test_raven_run_table_resume_equals_an_uninterrupted_run(tmp_path, cut_tail):
    full = _closed_table(tmp_path / "full.txt", RUN)
    # an interrupted run: a, e and b finished; c was being written when it stopped, so its
    # results row is missing (and with cut_tail, its last line is torn)
    out = tmp_path / "run.txt"
    table = RavenRunTable(out, order=ORDER)
    for i in (0, 4, 1, 2):
        _add(table, RUN[i])
    table._journal.close()  # stopped without close(): the journal as it was
    if cut_tail:
        out.write_bytes(out.read_bytes()[:-7])
    kept = [_result(p, d, sr).to_row() for p, d, sr, _ in (RUN[0], RUN[4], RUN[1])]
    kept.append(_result("site/d.wav", None, error="cannot decode").to_row())  # ignored
    before = out.read_bytes()
    assert RavenRunTable.read_kept(out, kept, order=ORDER)  # reading writes nothing
    assert out.read_bytes() == before
    resumed = _closed_table(out, [RUN[2], RUN[3]], keep_rows=kept)
    assert resumed == full


def test_raven_run_table_resume_errors(tmp_path, monkeypatch):
    kept = [_result("site/a.wav", 60.0).to_row()]
    with pytest.raises(ScatterError, match="cannot resume the Raven table .* does not exist"):
        RavenRunTable.read_kept(tmp_path / "missing.txt", kept, order=ORDER)
    assert RavenRunTable.read_kept(tmp_path / "missing.txt", []) == {}  # nothing kept: fine
    other = tmp_path / "other.txt"
    other.write_text("Selection\tBegin Time (s)\n")
    with pytest.raises(ScatterError, match="header is"):
        RavenRunTable.read_kept(other, kept, order=ORDER)
    with pytest.raises(ScatterError, match="has no duration_s"):
        RavenRunTable.read_kept(other, [{**kept[0], "duration_s": ""}], order=ORDER)
    # a table written from another folder: its absolute paths match no file of this run
    out = tmp_path / "t.txt"
    _closed_table(out, RUN[:1])
    monkeypatch.chdir(tmp_path)
    os.makedirs("elsewhere")
    monkeypatch.chdir("elsewhere")
    with pytest.warns(UserWarning, match="dropped the selections of 1 files .* another folder"):
        RavenRunTable.read_kept(out, kept, order=ORDER)
