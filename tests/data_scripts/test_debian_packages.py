"""Tests of the shared steps in data_scripts/debian_packages.py that need no apt: the manifest
check and the command line."""

import json

import pytest


@pytest.fixture(scope="module")
def deb(scripts):
    return scripts("debian_packages")


def _manifest(tmp_path, **fields):
    (tmp_path / "files").mkdir(exist_ok=True)
    (tmp_path / "files" / "a.ogg").write_bytes(b"x")
    data = {"version": 1, "sources": [{"package": "p"}],
            "files": [{"relpath": "files/a.ogg"}]} | fields
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(data))
    return path


def test_manifest_is_valid(deb, tmp_path):
    path = _manifest(tmp_path)
    assert deb.manifest_is_valid(path, version=1)
    assert deb.manifest_is_valid(path, version=1, sources=[{"package": "p"}])
    assert not deb.manifest_is_valid(path, version=1, sources=[{"package": "q"}])
    assert not deb.manifest_is_valid(path, version=2)
    assert not deb.manifest_is_valid(tmp_path / "none.json", version=1)
    (tmp_path / "files" / "a.ogg").unlink()
    assert not deb.manifest_is_valid(path, version=1)
    assert not deb.manifest_is_valid(_manifest(tmp_path, files=[]), version=1)
    path.write_text("{not json")
    assert not deb.manifest_is_valid(path, version=1)


def test_command_parses_fetches_and_reports(deb, tmp_path, capsys):
    seen = []

    def fetch(args):
        seen.append((args.cache, args.force, args.quiet, args.extra))
        return tmp_path / "manifest.json"

    def summarize(path, args):
        return {"files": 3}, "3 files"

    def options(parser):
        parser.add_argument("--extra", default="e")

    kw = dict(description="d", fetch=fetch, summarize=summarize, options=options)
    assert deb.command(["--cache", str(tmp_path), "--json"], **kw) == 0
    assert json.loads(capsys.readouterr().out) == {"manifest": str(tmp_path / "manifest.json"),
                                                   "files": 3}
    assert seen == [(tmp_path, False, False, "e")]
    assert deb.command(["--force", "--extra", "x"], **kw) == 0
    assert capsys.readouterr().out == f"3 files\nmanifest: {tmp_path / 'manifest.json'}\n"
    assert seen[-1] == (None, True, False, "x")
    assert deb.command(["--quiet"], **kw) == 0
    assert capsys.readouterr().out == ""


def test_command_reports_fetch_errors(deb, capsys):
    def fetch(args):
        raise deb.FetchError("apt-get download: no such package")

    assert deb.command([], description="d", fetch=fetch, summarize=None) == 1
    assert capsys.readouterr().err == "error: apt-get download: no such package\n"

    def fetch_bad_table(args):
        raise ValueError("bad table")

    assert deb.command([], description="d", fetch=fetch_bad_table, summarize=None,
                       errors=(deb.FetchError, ValueError)) == 1
    with pytest.raises(ValueError, match="bad table"):
        deb.command([], description="d", fetch=fetch_bad_table, summarize=None)
