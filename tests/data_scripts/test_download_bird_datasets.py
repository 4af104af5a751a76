"""Tests of data_scripts/download_bird_datasets.py against an HTTP server on 127.0.0.1.

The server runs in a thread of this process, bound to the loopback address only, serves archives
and label files this test generates (the layout of the DCASE 2018 sets: ``wav/<itemid>.wav`` in a
zip, ``itemid,datasetid,hasbird`` CSVs), and is shut down at the end of each test.
"""

import csv
import hashlib
import io
import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
import soundfile as sf


@pytest.fixture(scope="module")
def D(scripts):
    return scripts("download_bird_datasets")


class _Handler(BaseHTTPRequestHandler):
    timeout = 10  # seconds a connection may idle: a stuck client cannot hang the test

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        srv = self.server
        rng_header = self.headers.get("Range")
        srv.log.append((self.path, rng_header))
        if srv.fail_status and srv.fail_count > 0:
            srv.fail_count -= 1
            self.send_error(srv.fail_status)
            return
        body = srv.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        start = 0
        if rng_header and srv.ranges:
            start = int(rng_header.split("=")[1].split("-")[0])
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        payload = body[start:]
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if srv.drop.get(self.path, 0) > 0:  # promise everything, send a third, hang up
            srv.drop[self.path] -= 1
            self.wfile.write(payload[: len(payload) // 3])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(payload)


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.files, srv.log, srv.drop = {}, [], {}
    srv.ranges, srv.fail_status, srv.fail_count = True, None, 0
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    host, port = srv.server_address
    assert host == "127.0.0.1"
    srv.base = f"http://127.0.0.1:{port}"
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=10)


def _wav_bytes(seed):
    x = 0.1 * np.random.default_rng(seed).standard_normal(4410).astype(np.float32)
    buf = io.BytesIO()
    sf.write(buf, x, 44100, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def make_dataset(name, n=6, missing=1):
    """(zip bytes, csv bytes, {itemid: (label, wav bytes)}) in the DCASE layout."""
    items = {f"{name}-{i:04d}": (i % 2, _wav_bytes(i + 100 * len(name))) for i in range(n)}
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for item, (_, wav) in list(items.items())[: n - missing]:
            zf.writestr(f"wav/{item}.wav", wav)
        zf.writestr("wav/readme.txt", "not audio")
        zf.writestr("__MACOSX/wav/._x.wav", b"resource fork")
    rows = io.StringIO()
    w = csv.writer(rows, lineterminator="\n")
    w.writerow(["itemid", "datasetid", "hasbird"])
    for item, (label, _) in items.items():
        w.writerow([item, name, label])
    return zbuf.getvalue(), rows.getvalue().encode(), items


def serve_dataset(D, srv, name, **spec_kw):
    archive, labels, items = make_dataset(name)
    srv.files[f"/{name}/audio.zip"] = archive
    srv.files[f"/{name}/labels.csv"] = labels
    spec = D.DatasetSpec(name=name, audio_url=f"{srv.base}/{name}/audio.zip",
                         audio_file=f"{name}_wav.zip", labels_url=f"{srv.base}/{name}/labels.csv",
                         labels_file=f"{name}_metadata.csv", **spec_kw)
    return spec, archive, items


def test_main_end_to_end_and_idempotent(D, server, tmp_path, capsys):
    specs = {}
    items = {}
    for name in ("ffbird", "warblr"):
        specs[name], _, items[name] = serve_dataset(D, server, name)
    argv = ["--root", str(tmp_path), "--quiet", "--json"]
    assert D.main(argv, datasets=specs) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["failed"] == {}
    assert [s["clips"] for s in result["datasets"]] == [5, 5]
    assert all(s["missing_audio"] == 1 for s in result["datasets"])
    with open(tmp_path / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["path", "label", "dataset"]
    assert len(rows) == 10
    for r in rows:
        item = r["path"].rsplit("/", 1)[1][:-4]
        label, wav = items[r["dataset"]][item]
        assert int(r["label"]) == label
        assert (tmp_path / r["path"]).read_bytes() == wav
        x, sr = sf.read(str(tmp_path / r["path"]))
        assert sr == 44100 and x.shape == (4410,)
    with open(tmp_path / "ffbird" / "labels.csv", newline="") as fh:
        own = list(csv.DictReader(fh))
    assert list(own[0]) == ["path", "label"] and own[0]["path"].startswith("wav/")
    assert not (tmp_path / "ffbird" / "ffbird_wav.zip").exists()  # archive removed
    assert not list((tmp_path / "ffbird" / "wav").glob("*.txt"))
    assert not list(tmp_path.rglob("._*"))
    n_requests = len(server.log)
    assert D.main(argv, datasets=specs) == 0  # second run: nothing fetched again
    assert len(server.log) == n_requests
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == result


def test_download_resumes_a_part_file(D, server, tmp_path):
    spec, archive, _ = serve_dataset(D, server, "ffbird")
    dest = tmp_path / "a.zip"
    (tmp_path / "a.zip.part").write_bytes(archive[:1000])
    D.download(spec.audio_url, dest, retries=0)
    assert dest.read_bytes() == archive
    assert server.log == [("/ffbird/audio.zip", "bytes=1000-")]
    assert not (tmp_path / "a.zip.part").exists()


def test_download_retries_a_dropped_connection_and_resumes(D, server, tmp_path):
    spec, archive, _ = serve_dataset(D, server, "ffbird")
    server.drop["/ffbird/audio.zip"] = 1
    dest = D.download(spec.audio_url, tmp_path / "a.zip", retries=2, backoff_s=0.01, timeout=10)
    assert dest.read_bytes() == archive
    assert len(server.log) == 2
    assert server.log[0][1] is None
    assert server.log[1][1] == f"bytes={len(archive) // 3}-"


def test_download_restarts_when_ranges_are_ignored(D, server, tmp_path):
    spec, archive, _ = serve_dataset(D, server, "ffbird")
    server.ranges = False
    (tmp_path / "a.zip.part").write_bytes(b"x" * 700)  # not a prefix of the archive
    dest = D.download(spec.audio_url, tmp_path / "a.zip", retries=0)
    assert dest.read_bytes() == archive


def test_download_checks_md5(D, server, tmp_path):
    spec, archive, _ = serve_dataset(D, server, "ffbird")
    good = hashlib.md5(archive).hexdigest()
    assert D.download(spec.audio_url, tmp_path / "ok.zip", md5=good).read_bytes() == archive
    with pytest.raises(D.DownloadError, match=r"MD5 [0-9a-f]{32} does not match the expected 0+"):
        D.download(spec.audio_url, tmp_path / "bad.zip", md5="0" * 32)
    assert not (tmp_path / "bad.zip").exists() and not (tmp_path / "bad.zip.part").exists()


def test_download_http_errors(D, server, tmp_path):
    with pytest.raises(D.DownloadError, match="HTTP 404"):
        D.download(f"{server.base}/nothing.zip", tmp_path / "n.zip", retries=3, backoff_s=0.01)
    assert len(server.log) == 1  # a 404 is not retried
    serve_dataset(D, server, "ffbird")
    server.fail_status, server.fail_count = 503, 100
    with pytest.raises(D.DownloadError, match="gave up after 3 attempts; last error: HTTP Err"):
        D.download(f"{server.base}/ffbird/audio.zip", tmp_path / "f.zip", retries=2,
                   backoff_s=0.01)
    server.fail_count = 1  # one transient 503, then fine
    D.download(f"{server.base}/ffbird/audio.zip", tmp_path / "g.zip", retries=2, backoff_s=0.01)
    assert (tmp_path / "g.zip").read_bytes() == server.files["/ffbird/audio.zip"]
    with pytest.raises(D.DownloadError, match=r"url must be an http\(s\) URL; got 'ftp://x/y'"):
        D.download("ftp://x/y", tmp_path / "h")


def test_recorded_sha256_catches_a_changed_file(D, server, tmp_path):
    spec, _, _ = serve_dataset(D, server, "ffbird")
    D.fetch_dataset(spec, tmp_path, keep_archive=True)
    folder = tmp_path / "ffbird"
    record = json.loads((folder / "downloads.json").read_text())
    assert set(record) == {"ffbird_wav.zip", "ffbird_metadata.csv"}
    (folder / "done.json").unlink()
    (folder / "ffbird_metadata.csv").write_text("itemid,datasetid,hasbird\n")
    with pytest.raises(D.DownloadError, match="differs from .* recorded when it was downloaded"):
        D.fetch_dataset(spec, tmp_path)


def test_extract_wavs_refuses_unsafe_names(D, tmp_path):
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("wav/ok.wav", b"RIFF")
        zf.writestr("../../evil.wav", b"RIFF")
    with pytest.raises(D.DownloadError, match=r"refusing unsafe member name '../../evil.wav'"):
        D.extract_wavs(bad, tmp_path / "out")
    assert not (tmp_path.parent / "evil.wav").exists()
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(D.DownloadError, match="not a readable zip file"):
        D.extract_wavs(tmp_path / "junk.zip", tmp_path / "out")


def test_extract_wavs_resumes(D, tmp_path):
    archive, _, items = make_dataset("ffbird", missing=0)
    (tmp_path / "a.zip").write_bytes(archive)
    out = tmp_path / "wav"
    out.mkdir()
    first = next(iter(items))
    (out / f"{first}.wav").write_bytes(items[first][1])          # already complete: kept
    (out / "ffbird-0001.wav").write_bytes(b"truncated")          # wrong size: redone
    assert D.extract_wavs(tmp_path / "a.zip", out) == 6
    for item, (_, wav) in items.items():
        assert (out / f"{item}.wav").read_bytes() == wav


def test_read_dcase_labels(D, tmp_path):
    p = tmp_path / "l.csv"
    p.write_text("\ufeffitemid,datasetid,hasbird\na,x,1\nb,x,0\n", encoding="utf-8")
    assert D.read_dcase_labels(p) == {"a": 1, "b": 0}
    p.write_text("id,label\na,1\n")
    with pytest.raises(D.DownloadError, match="expected columns itemid and hasbird"):
        D.read_dcase_labels(p)
    p.write_text("itemid,datasetid,hasbird\na,x,yes\n")
    with pytest.raises(D.DownloadError, match="hasbird of 'a' is 'yes'; expected 0 or 1"):
        D.read_dcase_labels(p)


def test_main_usage_and_failures(D, server, tmp_path, capsys):
    assert D.main(["--datasets", "nope", "--quiet"]) == 2
    assert "unknown ['nope']" in capsys.readouterr().err
    spec, _, _ = serve_dataset(D, server, "ffbird")
    broken = D.DatasetSpec(**{**spec.__dict__, "name": "broken",
                              "audio_url": f"{server.base}/missing.zip"})
    rc = D.main(["--root", str(tmp_path), "--quiet", "--json", "--retries", "0"],
                datasets={"ffbird": spec, "broken": broken})
    assert rc == 1
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [s["name"] for s in out["datasets"]] == ["ffbird"]
    assert "HTTP 404" in out["failed"]["broken"]
    assert (tmp_path / "labels.csv").is_file()


def test_registry_urls_are_the_published_ones(D):
    assert set(D.DATASETS) == {"freefield1010", "warblrb10k", "BirdVox-DCASE-20k"}
    for spec in D.DATASETS.values():
        assert spec.audio_url.startswith("https://") and spec.audio_url.endswith(".zip")
        assert spec.labels_url.startswith("https://ndownloader.figshare.com/files/")
        assert spec.audio_url.rsplit("/", 1)[1] == spec.audio_file
