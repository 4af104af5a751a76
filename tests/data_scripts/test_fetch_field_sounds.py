"""Tests of data_scripts/fetch_field_sounds.py on a fake unpacked package tree (no download),
and one real fetch (network)."""

import hashlib
import json
import zipfile

import numpy as np
import pytest
import soundfile as sf


@pytest.fixture(scope="module")
def mod(scripts):
    return scripts("fetch_field_sounds")


def _write(path, x, sr, fmt):
    path.parent.mkdir(parents=True, exist_ok=True)
    kwargs = {"format": "OGG", "subtype": "VORBIS"} if fmt == "ogg" else {"format": "WAV"}
    sf.write(str(path), np.asarray(x, np.float32), sr, **kwargs)


@pytest.fixture
def fake_roots(tmp_path, rng):
    """Two unpacked fake packages: plain files (one a byte copy, one a symbolic link) and a
    zip archive holding more files, like ufoai's .pk3."""
    sr = 16000
    a = tmp_path / "pkg-a"
    sounds = a / "usr/share/game-a/sounds"
    _write(sounds / "wind.ogg", 0.1 * rng.standard_normal(sr), sr, "ogg")
    (sounds / "wind_copy.ogg").write_bytes((sounds / "wind.ogg").read_bytes())
    (sounds / "link.ogg").symlink_to(sounds / "wind.ogg")
    _write(sounds / "market.wav", 0.2 * rng.standard_normal(sr // 2), 11025, "wav")
    b = tmp_path / "pkg-b"
    inner = tmp_path / "inner"
    _write(inner / "night.ogg", 0.05 * rng.standard_normal(2 * sr), sr, "ogg")
    pk3 = b / "usr/share/games/b/base/0snd.pk3"
    pk3.parent.mkdir(parents=True)
    with zipfile.ZipFile(pk3, "w") as zf:
        zf.write(inner / "night.ogg", "sound/ambience/night.ogg")
        zf.writestr("sound/other/readme.txt", "not audio")
    return {"pkg-a": a, "pkg-b": b}


def _table(mod):
    S = mod.Source
    return (
        S("pkg-a", "usr/share/game-a/sounds/wind*.ogg", "wind", "GPL-2+", "wind and its copy"),
        S("pkg-a", "usr/share/game-a/sounds/market.wav", "urban", "GPL-2+", "market"),
        S("pkg-b", "sound/ambience/*.ogg", "insect", "CC-BY-SA-3.0", "night",
          archive="usr/share/games/b/base/0snd.pk3"),
    )


def test_collect_copies_chosen_files_and_writes_the_manifest(mod, fake_roots, tmp_path):
    cache = tmp_path / "cache"
    versions = {"pkg-a": "1.0-1", "pkg-b": "2:3.4-5"}
    path = mod.collect(fake_roots, versions, cache, sources=_table(mod))
    assert path == cache / "manifest.json"
    records = {r["path_inside"]: r for r in mod.load_manifest(path)}
    # the byte copy is kept once, the symbolic link is not followed, the text file not taken
    assert set(records) == {"usr/share/game-a/sounds/wind.ogg",
                            "usr/share/game-a/sounds/market.wav",
                            "usr/share/games/b/base/0snd.pk3!sound/ambience/night.ogg"}
    night = records["usr/share/games/b/base/0snd.pk3!sound/ambience/night.ogg"]
    assert night["package"] == "pkg-b" and night["version"] == "2:3.4-5"
    assert night["kind"] == "insect" and night["licence"] == "CC-BY-SA-3.0"
    assert night["sr"] == 16000 and night["channels"] == 1
    assert night["duration"] == pytest.approx(2.0, abs=0.01)
    market = records["usr/share/game-a/sounds/market.wav"]
    assert market["sr"] == 11025 and market["duration"] == pytest.approx(8000 / 11025)
    for rec in records.values():
        data = (cache / rec["relpath"]).read_bytes()
        assert rec["sha256"] == hashlib.sha256(data).hexdigest()
        assert rec["path"] == str((cache / rec["relpath"]).resolve())
        assert rec["relpath"].startswith("files/" + rec["package"] + "/")
    x, _ = sf.read(cache / market["relpath"])
    assert market["rms"] == pytest.approx(np.sqrt(np.mean(x**2)), rel=1e-4)
    # only the chosen files are in the cache, and no staging leftovers
    assert sorted(p.name for p in (cache / "files").rglob("*") if p.is_file()) == [
        "market.wav", "night.ogg", "wind.ogg"]
    assert not list(cache.glob("*.tmp")) and not (cache / "files.new").exists()


def test_fetch_downloads_once_and_again_when_the_table_changes(mod, fake_roots, tmp_path,
                                                               monkeypatch):
    calls = []

    def download(packages, workdir, quiet):
        calls.append(tuple(packages))
        return {name: workdir / f"{name}.deb" for name in packages}

    def extract(deb, dest):
        return fake_roots[deb.stem], "9.9"

    monkeypatch.setattr(mod, "_download", download)
    monkeypatch.setattr(mod, "_extract", extract)
    cache = tmp_path / "cache"
    table = _table(mod)
    first = mod.fetch(cache, sources=table)
    assert calls == [("pkg-a", "pkg-b")]
    assert mod.fetch(cache, sources=table) == first and len(calls) == 1   # cached
    mod.fetch(cache, sources=table[:1])                # another table: fetched again
    assert calls[-1] == ("pkg-a",) and len(calls) == 2
    assert {r["kind"] for r in mod.load_manifest(first)} == {"wind"}
    mod.fetch(cache, sources=table[:1], force=True)
    assert len(calls) == 3
    # the command line reads the default table: point it at the small one
    monkeypatch.setattr(mod, "SOURCES", table[:1])
    assert mod.main(["--cache", str(cache), "--json"]) == 0


def test_command_line_json(mod, fake_roots, tmp_path, monkeypatch, capsys):
    cache = tmp_path / "cache"
    mod.collect(fake_roots, {}, cache, sources=_table(mod))
    monkeypatch.setattr(mod, "SOURCES", _table(mod))
    assert mod.main(["--cache", str(cache), "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["files"] == 3 and out["kinds"] == {"wind": 1, "urban": 1, "insect": 1}


def test_errors_name_the_row(mod, fake_roots, tmp_path):
    S = mod.Source
    with pytest.raises(mod.FetchError, match=r"nothing matches usr/share/game-a/sounds/rain"):
        mod.collect(fake_roots, {}, tmp_path / "c", sources=(
            S("pkg-a", "usr/share/game-a/sounds/rain*.ogg", "rain", "GPL-2+"),))
    with pytest.raises(mod.FetchError, match=r"nothing matches .*link.ogg \(symbolic links"):
        mod.collect(fake_roots, {}, tmp_path / "c", sources=(
            S("pkg-a", "usr/share/game-a/sounds/link.ogg", "wind", "GPL-2+"),))
    with pytest.raises(mod.FetchError, match=r"kind 'birdsong'; expected one of"):
        mod.collect(fake_roots, {}, tmp_path / "c", sources=(
            S("pkg-a", "usr/share/game-a/sounds/wind.ogg", "birdsong", "GPL-2+"),))
    with pytest.raises(mod.FetchError, match=r"package pkg-c was not unpacked"):
        mod.collect(fake_roots, {}, tmp_path / "c", sources=(
            S("pkg-c", "x.ogg", "wind", "GPL-2+"),))
    with pytest.raises(mod.FetchError, match=r"no archive usr/share/none.pk3"):
        mod.collect(fake_roots, {}, tmp_path / "c", sources=(
            S("pkg-b", "x.ogg", "wind", "GPL-2+", archive="usr/share/none.pk3"),))


def test_table_rows_are_valid(mod):
    assert len(mod.SOURCES) == len(set(mod.SOURCES))
    for src in mod.SOURCES:
        assert src.kind in mod.KINDS and src.licence and src.note
    # packages reserved for evaluation (shared/DATA.md) are never in the table
    reserved = {"gcompris-qt-data", "hawkears", "opensoundscape", "pykanto", "yaaat",
                "crowsetta", "vocalpy", "moove", "maui-software", "ambience", "btanks-data",
                "pyannote-audio"}
    assert not reserved & {src.package for src in mod.SOURCES}


@pytest.mark.network
def test_real_fetch_of_one_package(mod, tmp_path):
    table = tuple(s for s in mod.SOURCES if s.package == "ufoai-sound")[:1]
    path = mod.fetch(tmp_path, sources=table)
    (rec,) = mod.load_manifest(path)
    assert rec["package"] == "ufoai-sound" and rec["kind"] == "insect"
    assert rec["version"] and rec["sr"] == 44100 and rec["duration"] > 100
