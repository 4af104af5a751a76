"""Download the DCASE 2018 bird audio detection development datasets and write ``labels.csv``.

The three development sets of DCASE 2018 Task 3 ("Bird audio detection"; Stowell et al., "Automatic
acoustic detection of birds through deep learning: the first Bird Audio Detection challenge",
Methods in Ecology and Evolution 10(3), 2019) are 10-second, 44.1 kHz mono WAV clips with a binary
``hasbird`` label:

==================  =======  ==========================================================
name                clips    audio archive (labels CSV)
==================  =======  ==========================================================
freefield1010       7,690    https://archive.org/download/ff1010bird/ff1010bird_wav.zip
                             (5.8 GB; https://ndownloader.figshare.com/files/10853303)
warblrb10k          8,000    https://archive.org/download/warblrb10k_public/
                             warblrb10k_public_wav.zip
                             (4.3 GB; https://ndownloader.figshare.com/files/10853306)
BirdVox-DCASE-20k   20,000   https://zenodo.org/record/1208080/files/BirdVox-DCASE-20k.zip
                             (15.4 GB; https://ndownloader.figshare.com/files/10853300)
==================  =======  ==========================================================

(URLs as listed on https://dcase.community/challenge2018/task-bird-audio-detection.) Licences:
freefield1010 and warblrb10k are CC BY 4.0; for BirdVox-DCASE-20k read its Zenodo record
(third-party loaders disagree between CC BY 4.0 and CC BY-NC 4.0). Cite the challenge paper above
when you use them. Each archive holds ``wav/<itemid>.wav``; each labels CSV has the columns
``itemid,datasetid,hasbird``.

What the script does, per dataset, under ``ROOT/<name>/`` (default ROOT
``~/.cache/symscatter/bird_datasets``):

1. downloads the labels CSV and the audio archive over HTTP(S), into ``<file>.part`` first:
   an interrupted download resumes where it stopped (HTTP ``Range``; a server that ignores ranges
   makes it start again), transient errors are retried with back-off, and the finished file is
   checked against its expected size and, when known, its MD5 (none of the three providers
   publishes a checksum this script could pin, so by default the SHA-256 of each finished file is
   recorded in ``ROOT/<name>/downloads.json`` and checked on later runs);
2. extracts the ``.wav`` members of the archive into ``ROOT/<name>/wav/`` (members with absolute
   paths or ``..`` are refused; members already extracted with the right size are skipped, so an
   interrupted extraction resumes), then deletes the archive unless ``--keep-archives``;
3. writes ``ROOT/<name>/labels.csv`` (``path,label``; path relative to ``ROOT/<name>``), and, once
   all requested datasets are there, ``ROOT/labels.csv`` (``path,label,dataset``; path relative to
   ROOT), the layout ``scatter train DATA --labels CSV`` and ``scatter evaluate`` read. Items of the
   CSV whose audio is missing from the archive are counted and left out.

A second run finds the finished steps (``ROOT/<name>/done.json``) and does nothing more.

Command line::

    python data_scripts/download_bird_datasets.py [--root DIR] [--datasets freefield1010 ...]
        [--keep-archives] [--retries 5] [--quiet] [--json]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import http.client
import json
import os
import shutil
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

__all__ = [
    "DATASETS",
    "DatasetSpec",
    "DownloadError",
    "default_root",
    "download",
    "extract_wavs",
    "fetch_dataset",
    "main",
    "read_dcase_labels",
    "write_combined_labels",
]

_CHUNK = 1 << 16
_USER_AGENT = "symscatter-data-scripts/0.1 (+https://pypi.org/project/symscatter)"


class DownloadError(RuntimeError):
    """A download, checksum, extraction or label step failed; the message says which and why."""


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """Where one dataset's files are and what they should be.

    Attributes
    ----------
    name : str
        Folder name under the root and value of the ``dataset`` column.
    audio_url, labels_url : str
        HTTP(S) URLs of the zip archive and of the labels CSV.
    audio_file, labels_file : str
        File names to save them under.
    audio_md5, labels_md5 : str or None
        Expected MD5 (hex), when known.
    approx_bytes : int or None
        Approximate archive size, for messages only.
    """

    name: str
    audio_url: str
    audio_file: str
    labels_url: str
    labels_file: str
    audio_md5: str | None = None
    labels_md5: str | None = None
    approx_bytes: int | None = None


DATASETS = {
    "freefield1010": DatasetSpec(
        name="freefield1010",
        audio_url="https://archive.org/download/ff1010bird/ff1010bird_wav.zip",
        audio_file="ff1010bird_wav.zip",
        labels_url="https://ndownloader.figshare.com/files/10853303",
        labels_file="ff1010bird_metadata_2018.csv",
        approx_bytes=5_800_000_000,
    ),
    "warblrb10k": DatasetSpec(
        name="warblrb10k",
        audio_url="https://archive.org/download/warblrb10k_public/warblrb10k_public_wav.zip",
        audio_file="warblrb10k_public_wav.zip",
        labels_url="https://ndownloader.figshare.com/files/10853306",
        labels_file="warblrb10k_public_metadata_2018.csv",
        approx_bytes=4_300_000_000,
    ),
    "BirdVox-DCASE-20k": DatasetSpec(
        name="BirdVox-DCASE-20k",
        audio_url="https://zenodo.org/record/1208080/files/BirdVox-DCASE-20k.zip",
        audio_file="BirdVox-DCASE-20k.zip",
        labels_url="https://ndownloader.figshare.com/files/10853300",
        labels_file="BirdVoxDCASE20k_csvpublic.csv",
        approx_bytes=15_400_000_000,
    ),
}


def default_root() -> Path:
    """``bird_datasets`` in the package's cache (:mod:`scatter.cache`)."""
    from scatter.cache import cache_dir

    return Path(cache_dir("bird_datasets"))


# ---------------------------------------------------------------------------------------------
# downloading


def _digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _total_from_headers(resp, offset):
    """Full size of the resource from a 200/206 response, or None when not said."""
    crange = resp.headers.get("Content-Range")
    if crange and "/" in crange:
        total = crange.rsplit("/", 1)[1].strip()
        if total.isdigit():
            return int(total)
    length = resp.headers.get("Content-Length")
    if length and length.isdigit():
        return int(length) + (offset if resp.status == 206 else 0)
    return None


def _attempt(url, part: Path, timeout, bar):
    """One request: append to ``part`` from its current size. Returns the expected total."""
    offset = part.stat().st_size if part.exists() else 0
    req = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    if offset:
        req.add_header("Range", f"bytes={offset}-")
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # range past the end: the file is complete
            exc.close()
            return offset
        raise
    with resp:
        if offset and resp.status != 206:  # the server ignored the range: start again
            offset = 0
        total = _total_from_headers(resp, offset)
        if bar is not None:
            bar.reset(total=total)
            bar.update(offset)
        with open(part, "ab" if offset else "wb") as fh:
            for block in iter(lambda: resp.read(_CHUNK), b""):
                fh.write(block)
                if bar is not None:
                    bar.update(len(block))
    size = part.stat().st_size
    if total is not None and size < total:
        raise ConnectionError(f"connection closed after {size} of {total} bytes")
    return total if total is not None else size


def download(url, dest, *, md5=None, retries=5, backoff_s=1.0, timeout=60.0, quiet=True):
    """Download ``url`` to ``dest``, resuming a previous ``dest.part``; return ``dest``.

    Parameters
    ----------
    url : str
        An ``http://`` or ``https://`` URL.
    dest : path
        Final file; written as ``dest.part`` and renamed when complete and verified.
    md5 : str or None
        Expected MD5 (hex) of the whole file.
    retries : int
        Further attempts after a network error, each resuming where the last stopped.
    backoff_s : float
        First wait between attempts (doubles each time).
    timeout : float
        Socket timeout (s) of each request.
    quiet : bool
        No progress bar when true.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    DownloadError
        On a bad URL, an HTTP error (4xx other than 408/429), too many failed attempts, a short
        file or an MD5 mismatch (the bad ``.part`` is deleted so the next run starts afresh).

    Examples
    --------
    >>> download("https://ndownloader.figshare.com/files/10853303",
    ...          "labels.csv")                                     # doctest: +SKIP
    PosixPath('labels.csv')
    """
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        raise DownloadError(f"url must be an http(s) URL; got {url!r}")
    dest = Path(dest)
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    bar = None
    if not quiet:
        from tqdm import tqdm

        bar = tqdm(desc=dest.name, unit="B", unit_scale=True, unit_divisor=1024)
    last = None
    try:
        for attempt in range(retries + 1):
            try:
                total = _attempt(url, part, timeout, bar)
                break
            except urllib.error.HTTPError as exc:
                exc.close()  # its socket
                if exc.code not in (408, 429) and exc.code < 500:
                    raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
                last = exc
            except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
                last = exc
            if attempt < retries:
                time.sleep(backoff_s * 2 ** attempt)
        else:
            raise DownloadError(f"{url}: gave up after {retries + 1} attempts; last error: {last}"
                                f" ({part.stat().st_size if part.exists() else 0} bytes kept in "
                                f"{part}; run again to resume)")
    finally:
        if bar is not None:
            bar.close()
    size = part.stat().st_size
    if total is not None and size != total:
        part.unlink()
        raise DownloadError(f"{url}: got {size} bytes, expected {total}; deleted {part.name}")
    if md5 is not None:
        got = _digest(part, "md5")
        if got.lower() != md5.lower():
            part.unlink()
            raise DownloadError(f"{url}: MD5 {got} does not match the expected {md5}; "
                                f"deleted {part.name}, run again to download afresh")
    os.replace(part, dest)
    return dest


# ---------------------------------------------------------------------------------------------
# extraction and labels


def _safe_member(name: str) -> PurePosixPath | None:
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts or (p.parts and ":" in p.parts[0]):
        return None
    return p


def extract_wavs(archive, dest, *, quiet=True):
    """Extract the ``.wav`` members of a zip archive into ``dest`` (flat, by file name).

    Members already present with the right size are skipped (resumable). Members whose names
    are absolute or contain ``..`` are refused.

    Parameters
    ----------
    archive : path
        The zip file.
    dest : path
        Folder for the WAV files.
    quiet : bool

    Returns
    -------
    int
        Number of WAV files in ``dest`` from this archive.

    Raises
    ------
    DownloadError
        If the archive is not a valid zip, holds no WAV, or holds an unsafe member name.
    """
    from scatter.outputs import atomic_open

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DownloadError(f"archive {archive}: not a readable zip file ({exc})") from exc
    with zf:
        members = [m for m in zf.infolist()
                   if not m.is_dir() and m.filename.lower().endswith(".wav")
                   and not PurePosixPath(m.filename).name.startswith("._")]
        if not members:
            raise DownloadError(f"archive {archive}: no .wav file inside")
        for m in members:
            if _safe_member(m.filename) is None:
                raise DownloadError(f"archive {archive}: refusing unsafe member name "
                                    f"{m.filename!r}")
        if not quiet:
            from tqdm import tqdm

            members = tqdm(members, desc=f"extracting {Path(archive).name}", unit="file")
        for m in members:
            out = dest / PurePosixPath(m.filename).name
            if out.exists() and out.stat().st_size == m.file_size:
                continue
            with zf.open(m) as src, atomic_open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
        return len(members)


def read_dcase_labels(path):
    """``{itemid: 0 or 1}`` from a DCASE labels CSV (``itemid,datasetid,hasbird``).

    Raises
    ------
    DownloadError
        If the CSV lacks an ``itemid`` or ``hasbird`` column or holds a label other than 0/1.
    """
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        fields = {f.strip().lower(): f for f in (reader.fieldnames or [])}
        if "itemid" not in fields or "hasbird" not in fields:
            raise DownloadError(f"labels {path}: expected columns itemid and hasbird; got "
                                f"{reader.fieldnames}")
        out = {}
        for row in reader:
            item = row[fields["itemid"]].strip()
            value = row[fields["hasbird"]].strip()
            if value not in ("0", "1"):
                raise DownloadError(f"labels {path}: hasbird of {item!r} is {value!r}; "
                                    "expected 0 or 1")
            out[item] = int(value)
    return out


def _write_csv(path: Path, fields, rows):
    from scatter.outputs import atomic_open

    with atomic_open(path) as fh:
        w = csv.writer(fh)
        w.writerow(fields)
        w.writerows(rows)


def _load_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _verified(path: Path, record: dict, quiet: bool) -> Path:
    """Check a finished download against the SHA-256 recorded when it was first fetched."""
    want = record.get(path.name)
    got = _digest(path, "sha256")
    if want is not None and want != got:
        raise DownloadError(f"{path}: SHA-256 {got} differs from {want} recorded when it was "
                            "downloaded; delete it and run again")
    record[path.name] = got
    return path


def fetch_dataset(spec, root=None, *, keep_archive=False, retries=5, backoff_s=1.0,
                  timeout=60.0, quiet=True):
    """Download, verify and extract one dataset; write its ``labels.csv``; return a summary.

    Parameters
    ----------
    spec : DatasetSpec
        One of :data:`DATASETS` (or your own, e.g. a mirror).
    root : path, optional
        Default :func:`default_root`.
    keep_archive : bool
        Keep the zip after extraction.
    retries, backoff_s, timeout : see :func:`download`.
    quiet : bool

    Returns
    -------
    dict
        ``name``, ``folder``, ``labels`` (path of its labels.csv), ``clips``, ``positives``,
        ``missing_audio`` (items of the CSV without a WAV).

    Raises
    ------
    DownloadError
        From :func:`download`, :func:`extract_wavs` or :func:`read_dcase_labels`.
    """
    from scatter.outputs import atomic_open

    root = Path(root) if root is not None else default_root()
    folder = root / spec.name
    done_path = folder / "done.json"
    done = _load_json(done_path)
    if done.get("complete") and (folder / "labels.csv").is_file():
        return done["summary"]
    folder.mkdir(parents=True, exist_ok=True)
    record_path = folder / "downloads.json"
    record = _load_json(record_path)
    labels_src = download(spec.labels_url, folder / spec.labels_file, md5=spec.labels_md5,
                          retries=retries, backoff_s=backoff_s, timeout=timeout, quiet=quiet)
    _verified(labels_src, record, quiet)
    archive = download(spec.audio_url, folder / spec.audio_file, md5=spec.audio_md5,
                       retries=retries, backoff_s=backoff_s, timeout=timeout, quiet=quiet)
    _verified(archive, record, quiet)
    with atomic_open(record_path) as fh:
        json.dump(record, fh, indent=1)
    extract_wavs(archive, folder / "wav", quiet=quiet)
    labels = read_dcase_labels(labels_src)
    rows, missing = [], 0
    for item in sorted(labels):
        name = item if item.lower().endswith(".wav") else f"{item}.wav"
        if (folder / "wav" / name).is_file():
            rows.append((f"wav/{name}", labels[item]))
        else:
            missing += 1
    if not rows:
        raise DownloadError(f"{spec.name}: none of the {len(labels)} items of {labels_src.name} "
                            "has a WAV in the archive")
    _write_csv(folder / "labels.csv", ("path", "label"), rows)
    summary = {"name": spec.name, "folder": str(folder), "labels": str(folder / "labels.csv"),
               "clips": len(rows), "positives": sum(r[1] for r in rows),
               "missing_audio": missing}
    if not keep_archive:
        archive.unlink()
    with atomic_open(done_path) as fh:
        json.dump({"complete": True, "summary": summary}, fh, indent=1)
    return summary


def write_combined_labels(root, names):
    """Write ``root/labels.csv`` (``path,label,dataset``) from the datasets' own labels."""
    root = Path(root)
    rows = []
    for name in names:
        with open(root / name / "labels.csv", newline="", encoding="utf-8") as fh:
            rows.extend((f"{name}/{r['path']}", r["label"], name) for r in csv.DictReader(fh))
    _write_csv(root / "labels.csv", ("path", "label", "dataset"), rows)
    return root / "labels.csv"


def main(argv=None, *, datasets=None):
    """Command line entry point; returns the exit status (0 ok, 1 failed, 2 usage)."""
    registry = datasets if datasets is not None else DATASETS
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--root", type=Path, default=None,
                   help="where to put the datasets (default ~/.cache/symscatter/bird_datasets)")
    p.add_argument("--datasets", nargs="+", default=list(registry), metavar="NAME",
                   help=f"which ones (default all: {', '.join(registry)})")
    p.add_argument("--keep-archives", action="store_true", help="keep the zips after extraction")
    p.add_argument("--retries", type=int, default=5, help="attempts after a network error")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--json", action="store_true", help="print one JSON summary line")
    args = p.parse_args(argv)
    unknown = [n for n in args.datasets if n not in registry]
    if unknown:
        p.print_usage(sys.stderr)
        print(f"error: --datasets: unknown {unknown}; choose from {list(registry)}",
              file=sys.stderr)
        return 2
    root = args.root or default_root()
    summaries, failed = [], {}
    for name in args.datasets:
        try:
            summaries.append(fetch_dataset(registry[name], root, keep_archive=args.keep_archives,
                                           retries=args.retries, quiet=args.quiet))
        except (DownloadError, OSError) as exc:
            failed[name] = str(exc)
            print(f"error: {name}: {exc}", file=sys.stderr)
    result = {"root": str(root), "datasets": summaries, "failed": failed}
    if summaries:
        result["labels"] = str(write_combined_labels(root, [s["name"] for s in summaries]))
    if args.json:
        print(json.dumps(result))
    elif not args.quiet:
        for s in summaries:
            print(f"{s['name']}: {s['clips']} clips ({s['positives']} with birds) in {s['folder']}")
        if summaries:
            print(f"labels: {result['labels']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
