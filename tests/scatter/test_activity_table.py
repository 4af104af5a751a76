"""Tests of scatter.activity_table: hours cut exactly (time zones, daylight saving), windows by
their start, files without a time, the table over sites, and resume from its journal."""

import datetime as dt
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from scatter import ScatterError
from scatter.activity_table import (
    ACTIVITY_FIELDS,
    PART_FIELDS,
    ActivityTable,
    diel_series,
    hourly_counts,
    parts_path,
    read_activity_table,
    site_names,
)
from scatter.outputs import read_rows
from scatter.recorders import recording_start

UTC = dt.timezone.utc


def test_hours_are_cut_at_clock_boundaries():
    start = dt.datetime(2024, 6, 1, 4, 30, tzinfo=UTC)
    starts = np.arange(0, 7200, 60.0)  # a window a minute, two hours
    scores = np.where(starts < 1800, 0.9, 0.1)
    scores[29] = 0.2  # the window at 04:59 crosses 05:00 and counts in 04:00
    got = hourly_counts(start=start, duration_s=7200.0, starts_s=starts, scores=scores,
                        threshold=0.5)
    assert got == [("2024-06-01T04:00:00+00:00", 1800.0, 30, 29),
                   ("2024-06-01T05:00:00+00:00", 3600.0, 60, 0),
                   ("2024-06-01T06:00:00+00:00", 1800.0, 30, 0)]
    # another clock: India's half-hour offset puts the boundaries at half past in UTC
    got = hourly_counts(start=dt.datetime(2024, 6, 1, 4, 0, tzinfo=UTC), duration_s=3600.0,
                        starts_s=starts[:60], scores=scores[:60], threshold=0.5,
                        timezone="Asia/Kolkata")
    assert got == [("2024-06-01T09:00:00+05:30", 1800.0, 30, 29),
                   ("2024-06-01T10:00:00+05:30", 1800.0, 30, 0)]
    # exactly one hour from a full hour: one entry; no windows: counts of zero
    assert hourly_counts(start=start.replace(minute=0), duration_s=3600.0, starts_s=[],
                         scores=[], threshold=0.5) == [
        ("2024-06-01T04:00:00+00:00", 3600.0, 0, 0)]


def test_daylight_saving_hours_stay_apart():
    """The clock goes back at 03:00 CEST in Berlin on 2024-10-27: 02:00-03:00 comes twice."""
    start = dt.datetime(2024, 10, 27, 0, 30, tzinfo=UTC)  # 02:30 CEST
    got = hourly_counts(start=start, duration_s=3600.0, starts_s=[0.0, 1800.0],
                        scores=[0.9, 0.9], threshold=0.5, timezone="Europe/Berlin")
    assert got == [("2024-10-27T02:00:00+02:00", 1800.0, 1, 1),
                   ("2024-10-27T02:00:00+01:00", 1800.0, 1, 1)]


def test_unknown_start_and_errors():
    assert hourly_counts(start=None, duration_s=90.0, starts_s=[0, 30, 60],
                         scores=[0.1, 0.6, 0.7], threshold=0.5) == [("", 90.0, 3, 2)]
    # a results row's start_time text does as well as the datetime
    assert hourly_counts(start="2024-06-01T05:10:00+02:00", duration_s=60.0, starts_s=[0.0],
                         scores=[0.9], threshold=0.5) == [
        ("2024-06-01T05:00:00+02:00", 60.0, 1, 1)]
    assert hourly_counts(start="", duration_s=1.0, starts_s=[], scores=[], threshold=0.5) == [
        ("", 1.0, 0, 0)]
    for bad in (dt.datetime(2024, 1, 1), "2024-06-01T05:10:00", "yesterday", 5):
        with pytest.raises(ScatterError, match="start must be a timezone-aware datetime"):
            hourly_counts(start=bad, duration_s=1.0, starts_s=[], scores=[], threshold=0.5)
    with pytest.raises(ScatterError, match="duration_s must be a finite number of seconds "
                                           ">= 0; got -1"):
        hourly_counts(start=None, duration_s=-1, starts_s=[], scores=[], threshold=0.5)
    with pytest.raises(ScatterError, match="one length; got 2 and 1"):
        hourly_counts(start=None, duration_s=1.0, starts_s=[0, 1], scores=[0.5], threshold=0)
    with pytest.raises(ScatterError, match="not a known time zone"):
        hourly_counts(start=None, duration_s=1.0, starts_s=[], scores=[], threshold=0,
                      timezone="Nowhere/Town")


def test_site_names():
    assert site_names(["rec/A/1.wav", "rec/B/2.wav"]) == {"rec/A/1.wav": "A",
                                                          "rec/B/2.wav": "B"}
    assert site_names(["d/rec/x.wav", "d/rec/y.wav"]) == {"d/rec/x.wav": "rec",
                                                          "d/rec/y.wav": "rec"}
    assert site_names(["r/A/2024/1.wav", "r/B/2024/1.wav"]) == {"r/A/2024/1.wav": "A/2024",
                                                                "r/B/2024/1.wav": "B/2024"}
    assert site_names([]) == {}


def _deployment(tmp_path):
    """Real WAV files named as AudioMoths name them (UTC), at two sites, and one without a
    time in its name; their window scores."""
    files = []
    for site, name, seconds, level in [
        ("A", "20240601_043000.WAV", 3600, 0.8),
        ("A", "20240601_053000.WAV", 1800, 0.2),
        ("B", "20240601_050000.WAV", 1200, 0.6),
        ("B", "take7.wav", 600, 0.9),
        ("A", "20240602_043000.WAV", 900, 0.4),
    ]:
        path = tmp_path / site / name
        path.parent.mkdir(exist_ok=True)
        sf.write(path, np.zeros(100, np.int16), 8000)  # the name holds the time
        starts = np.arange(0, seconds, 30.0)
        scores = np.full(starts.size, level)
        files.append((str(path), seconds, starts, scores))
    return files


def _add(table, sites, item):
    path, seconds, starts, scores = item
    table.add(path, site=sites[path], start=recording_start(path), duration_s=float(seconds),
              starts_s=starts, scores=scores)


def test_activity_table_over_a_deployment(tmp_path):
    files = _deployment(tmp_path)
    sites = site_names([f[0] for f in files])
    out = tmp_path / "activity.csv"
    with ActivityTable(out, threshold=0.5, flush_s=0) as table:
        for item in files:
            _add(table, sites, item)
    rows = read_activity_table(out)
    assert list(rows[0]) == list(ACTIVITY_FIELDS)
    assert [(r["site"], r["hour_start"], r["recorded_s"], r["windows"], r["windows_above"],
             r["fraction"]) for r in rows] == [
        ("A", "2024-06-01T04:00:00+00:00", "1800.000", "60", "60", "1"),
        ("A", "2024-06-01T05:00:00+00:00", "3600.000", "120", "60", "0.5"),
        ("A", "2024-06-02T04:00:00+00:00", "900.000", "30", "0", "0"),
        ("B", "2024-06-01T05:00:00+00:00", "1200.000", "40", "40", "1"),
        ("B", "", "600.000", "20", "20", "1"),  # no start time: counted, last
    ]
    series = diel_series(rows)
    assert sorted(series) == ["A", "B"] and sorted(series["A"]) == ["2024-06-01", "2024-06-02"]
    day = series["A"]["2024-06-01"]
    assert day.shape == (24,) and (day[4], day[5]) == (1.0, 0.5)
    assert np.isnan(day[[0, 6, 23]]).all()
    assert list(series["B"]) == ["2024-06-01"]
    # the journal: one row per file and hour
    parts = read_rows(parts_path(out), PART_FIELDS)
    assert len(parts) == 6 and {p["path"] for p in parts} == {f[0] for f in files}


def test_activity_table_resume_counts_each_file_once(tmp_path):
    files = _deployment(tmp_path)
    sites = site_names([f[0] for f in files])
    full = tmp_path / "full.csv"
    with ActivityTable(full, threshold=0.5) as table:
        for item in files:
            _add(table, sites, item)
    out = tmp_path / "run.csv"
    table = ActivityTable(out, threshold=0.5, flush_s=3600)
    for item in files[:3]:
        _add(table, sites, item)
    assert read_activity_table(out) == []  # not rewritten yet (flush_s): the journal holds all
    table._journal.close()  # the run stops; files[2] had no results row written yet
    keep = [f[0] for f in files[:2]]
    journal = Path(parts_path(out)).read_bytes()  # as the stopped run left it
    kept = ActivityTable.read_kept(out, keep)
    assert Path(parts_path(out)).read_bytes() == journal  # reading writes nothing
    with ActivityTable(out, threshold=0.5, kept=kept) as table:
        assert len(table.rows()) == 2  # files[2]'s journal rows were dropped
        for item in files[2:]:
            _add(table, sites, item)
    assert out.read_bytes() == full.read_bytes()
    with pytest.raises(ScatterError, match="journal .*parts.csv.* does not exist"):
        ActivityTable.read_kept(tmp_path / "new.csv", keep)
    assert ActivityTable.read_kept(tmp_path / "new.csv", []) == []


def test_activity_table_options(tmp_path):
    out = tmp_path / "a.csv"
    with pytest.raises(ScatterError, match="threshold must be a finite number; got nan"):
        ActivityTable(out, threshold=float("nan"))
    with pytest.raises(ScatterError, match="flush_s must be a number of seconds >= 0"):
        ActivityTable(out, threshold=0.5, flush_s=-1)
    table = ActivityTable(out, threshold=0.5, timezone="+02:00")
    assert out.read_text() == ",".join(ACTIVITY_FIELDS) + "\n"  # a header from the start
    table.add("x.wav", site="S", start=dt.datetime(2024, 6, 1, 23, 30, tzinfo=UTC),
              duration_s=60.0, starts_s=[0.0], scores=[0.7])
    with pytest.raises(ScatterError, match="site must be a string; got None"):
        table.add("y.wav", site=None, start=None, duration_s=1.0, starts_s=[], scores=[])
    table.close()
    assert read_activity_table(out)[0]["hour_start"] == "2024-06-02T01:00:00+02:00"
    with pytest.raises(ScatterError, match="add after close"):
        table.add("y.wav", site="S", start=None, duration_s=1.0, starts_s=[], scores=[])
    assert sorted(os.listdir(tmp_path)) == ["a.csv", "a.csv.parts.csv"]
