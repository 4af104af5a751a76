"""The field outputs fed from a real detection run (scatter.runner's on_file hook): what a run
hands over per file is what the writers take, and their files agree with the results."""

import csv
import os

import numpy as np
import soundfile as sf

from scatter.activity_table import ActivityTable, read_activity_table, site_names
from scatter.audio import find_audio
from scatter.clips import clip_prefixes, write_clips
from scatter.outputs import merge_detections, safe_name
from scatter.recorders import format_start_time, recording_start
from scatter.runner import run_detection
from scatter.selections import (
    RavenRunTable,
    audacity_label_paths,
    read_audacity_labels,
    write_audacity_labels,
)

SR = 8000


def loudness(batch):
    return np.tanh(4 * np.sqrt(np.mean(batch.astype(np.float64) ** 2, axis=1)))


def test_writers_take_what_a_run_hands_over(tmp_path):
    rng = np.random.default_rng(0)
    rec = tmp_path / "deployment"
    for site, name, seconds, sr in [("A", "20240601_045930.WAV", 4.0, 16000),
                                    ("A", "20240601_050000.WAV", 3.0, 8000),
                                    ("B", "S1_20240601$050010.wav", 2.0, 22050)]:
        n = int(seconds * sr)
        y = 0.01 * rng.standard_normal(n)
        y[n // 3:n // 2] += 0.5 * np.sin(2 * np.pi * 600 * np.arange(n // 2 - n // 3) / sr)
        (rec / site).mkdir(parents=True, exist_ok=True)
        sf.write(rec / site / name, y.astype(np.float32), sr)
    order = find_audio([str(rec)], recursive=True)
    sites = site_names(order)
    labels = audacity_label_paths(order, tmp_path / "labels")
    prefixes = clip_prefixes(order, tmp_path / "clips")
    raven = RavenRunTable(tmp_path / "run.txt", order=order)
    activity = ActivityTable(tmp_path / "activity.csv", threshold=0.5)
    seen = {}

    def on_file(result, starts_s, ends_s, scores):
        sels = merge_detections(starts_s, ends_s, scores, threshold=0.5)
        start = recording_start(result.path)
        seen[result.path] = (result, sels, format_start_time(start))
        write_audacity_labels(labels[result.path], sels)
        raven.add(result, sels)
        activity.add(result.path, site=sites[result.path], start=start,
                     duration_s=result.duration_s, starts_s=starts_s, scores=scores)
        write_clips(result.path, sels, prefix=prefixes[result.path], top=2)

    summary = run_detection([str(rec)], scorer=loudness, sr=SR, window_s=0.5, hop_s=0.25,
                            recursive=True, quiet=True, on_file=on_file, workers=1)
    raven.close()
    activity.close()
    assert summary["ok"] == 3 and set(seen) == set(order)
    assert [seen[p][2] for p in order] == ["2024-06-01T04:59:30+00:00",
                                           "2024-06-01T05:00:00+00:00",
                                           "2024-06-01T05:00:10+00:00"]
    for path in order:
        result, sels, _ = seen[path]
        assert sels, path  # the tone was found
        assert [(round(b, 6), round(e, 6)) for b, e, _ in read_audacity_labels(
            labels[path])] == [(round(b, 6), round(e, 6)) for b, e, _ in sels]
        clips = [n for n in os.listdir(os.path.dirname(prefixes[path]))
                 if n.startswith(safe_name(os.path.basename(prefixes[path])) + "_")]
        assert 1 <= len(clips) <= 2
        assert {sf.info(os.path.join(os.path.dirname(prefixes[path]), n)).samplerate
                for n in clips} == {result.sample_rate}
    with open(tmp_path / "run.txt", newline="", encoding="utf-8") as fh:
        table = list(csv.DictReader(fh, delimiter="\t"))
    assert len(table) == sum(len(seen[p][1]) for p in order)
    durations = [seen[p][0].duration_s for p in order]
    offsets = dict(zip(map(os.path.abspath, order), np.cumsum([0.0] + durations[:-1]),
                       strict=True))
    for row in table:
        assert float(row["Begin Time (s)"]) == \
            round(offsets[row["Begin Path"]] + float(row["File Offset (s)"]), 6)
    assert float(table[-1]["High Freq (Hz)"]) == 22050 / 2 > SR / 2
    rows = read_activity_table(tmp_path / "activity.csv")
    assert [(r["site"], r["hour_start"]) for r in rows] == [
        ("A", "2024-06-01T04:00:00+00:00"), ("A", "2024-06-01T05:00:00+00:00"),
        ("B", "2024-06-01T05:00:00+00:00")]
    assert sum(int(r["windows"]) for r in rows) == summary["windows"]
    assert sum(float(r["recorded_s"]) for r in rows) == sum(durations)
