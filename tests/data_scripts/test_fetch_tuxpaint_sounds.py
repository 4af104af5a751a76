"""Tests of data_scripts/fetch_tuxpaint_sounds.py: manifest building, caching, CLI, real fetch."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def mod():
    spec = importlib.util.spec_from_file_location(
        "fetch_tuxpaint_sounds", ROOT / "data_scripts" / "fetch_tuxpaint_sounds.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def fake_cache(tmp_path, rng):
    """A cache laid out like the real one, with generated Ogg clips."""
    stamps = tmp_path / "stamps"
    sr = 22050
    t = np.arange(sr // 2) / sr
    clips = {
        "animals/birds/lark.ogg": 0.5 * np.sin(2 * np.pi * 3000 * t),
        "animals/birds/nandou.ogg": np.zeros(t.size),
        "animals/birds/lark_desc_fr.ogg": 0.3 * np.sin(2 * np.pi * 200 * t),
        "household/kettle.ogg": 0.1 * rng.standard_normal(t.size),
    }
    for rel, x in clips.items():
        (stamps / rel).parent.mkdir(parents=True, exist_ok=True)
        sf.write(stamps / rel, x.astype(np.float32), sr, format="OGG", subtype="VORBIS")
    return tmp_path


def test_is_description(mod):
    assert mod.is_description("crow_desc.ogg") and mod.is_description("crow_desc_fr.ogg")
    assert not mod.is_description("crow.ogg") and not mod.is_description("description.ogg")


def test_build_manifest_labels_and_fields(mod, fake_cache):
    path = mod.build_manifest(fake_cache)
    assert path == fake_cache / "manifest.json"
    records = {Path(r["relpath"]).name: r for r in mod.load_manifest(path)}
    assert set(records) == {"lark.ogg", "nandou.ogg", "kettle.ogg"}  # the _desc clip is skipped
    assert records["lark.ogg"]["label"] == "bird"
    assert records["lark.ogg"]["category"] == "animals/birds"
    assert records["nandou.ogg"]["label"] == "silence"  # never labelled bird
    assert records["kettle.ogg"]["label"] == "non-bird"
    lark = records["lark.ogg"]
    assert lark["sr"] == 22050 and lark["channels"] == 1
    assert lark["duration"] == pytest.approx(0.5, abs=0.01)
    assert lark["rms"] == pytest.approx(0.5 / np.sqrt(2), rel=0.05)
    assert Path(lark["path"]).is_file() and Path(lark["path"]).is_absolute()
    assert not list(fake_cache.glob("*.tmp"))


def test_fetch_uses_a_valid_cache_without_downloading(mod, fake_cache, monkeypatch):
    mod.build_manifest(fake_cache)

    def no_download(*args, **kwargs):
        raise AssertionError("fetch downloaded although the cache is valid")

    monkeypatch.setattr(mod, "_download_deb", no_download)
    assert mod.fetch(fake_cache) == fake_cache / "manifest.json"


def test_missing_tools_give_a_clear_error_and_exit_status(mod, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(mod.shutil, "which", lambda name: None)
    with pytest.raises(mod.FetchError, match=r"command 'apt-get' not found"):
        mod.fetch(tmp_path / "cache")
    assert mod.main(["--cache", str(tmp_path / "cache"), "--quiet"]) == 1
    assert "error: apt-get download" in capsys.readouterr().err


def test_cli_json_summary(mod, fake_cache, capsys):
    mod.build_manifest(fake_cache)
    assert mod.main(["--cache", str(fake_cache), "--json", "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["clips"] == 3
    assert summary["labels"] == {"bird": 1, "silence": 1, "non-bird": 1}


@pytest.mark.network
def test_real_package(mod):
    """The real Debian package (downloaded once, then cached): 17 bird clips, silences found."""
    records = mod.load_manifest(mod.fetch())
    birds = {Path(r["path"]).stem for r in records if r["label"] == "bird"}
    assert len(birds) == 17 and {"crow", "cuckoo", "lark", "owl"} <= birds
    silent = {Path(r["path"]).stem for r in records if r["label"] == "silence"}
    assert "nandou" in silent and not silent & birds
    assert all(not mod.is_description(Path(r["path"]).name) for r in records)
    assert all(r["rms"] > 0 for r in records if r["label"] != "silence")
