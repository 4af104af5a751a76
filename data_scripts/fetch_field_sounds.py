"""Fetch real field-noise recordings (insects, rain, wind, city, machines) from Debian packages.

The backgrounds of ``benchmarks/denoising.py``'s real-noise condition: recordings that no one on
the project made, shipped by Debian (bookworm) game packages. Every file in :data:`SOURCES` was
chosen by looking at its spectrogram over its whole length (no birds in it, no synthetic
content, what it is written in ``note``); its licence was read from the package's
``usr/share/doc/<package>/copyright``.

What this script does:

1. ``apt-get download`` of every package the table names, into a temporary folder (running
   ``apt-get update`` once first when apt does not know a package yet);
2. ``dpkg-deb -x`` of each package there;
3. copies the chosen files (paths or ``fnmatch`` globs inside the package, or inside a zip
   archive of the package such as ufoai's ``.pk3``) into the cache,
   ``scatter.cache.cache_dir("field_sounds")/files/<package>/<path inside>``, and drops the rest;
4. decodes each file once and writes ``manifest.json`` beside them: per file ``package``,
   ``version``, ``licence``, ``path_inside`` (``archive!member`` for a file inside an archive),
   ``relpath`` (in the cache), ``path`` (absolute), ``sha256``, ``duration`` (s), ``sr`` (Hz),
   ``channels``, ``rms``, ``peak``, ``kind`` (``insect``, ``rain``, ``wind``, ``urban``,
   ``machine``, ``water``, ``bird``, ...) and ``note``. Files with the same content (games reuse
   each other's sounds) are kept once.

A second call finds a complete manifest for the same table and returns at once (``--force``
fetches again). Nothing is written inside the repository; media are never committed.

Extending the table: add :class:`Source` rows (a glob takes every matching file; give each
row the kind you judged from the spectrograms). :func:`fetch` takes ``sources=`` for another
table, e.g. a corpus builder's.

Command line::

    python data_scripts/fetch_field_sounds.py [--cache DIR] [--force] [--quiet] [--json]

From Python::

    import importlib.util
    spec = importlib.util.spec_from_file_location("fetch_field_sounds",
                                                  "data_scripts/fetch_field_sounds.py")
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    records = mod.load_manifest(mod.fetch())          # list of dicts
    insects = [r["path"] for r in records if r["kind"] == "insect"]
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import zipfile
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))
from sibling_scripts import load_sibling  # noqa: E402

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
CACHE_NAME = "field_sounds"
KINDS = ("insect", "rain", "wind", "urban", "machine", "water", "bird", "other")

__all__ = [
    "KINDS",
    "SOURCES",
    "FetchError",
    "Source",
    "collect",
    "default_cache_dir",
    "fetch",
    "load_manifest",
    "main",
]


_deb = load_sibling("debian_packages")
#: Downloading, unpacking or selecting files failed (``debian_packages.FetchError``).
FetchError = _deb.FetchError


@dataclass(frozen=True)
class Source:
    """One row of the table: which files of which package, and what they are.

    Parameters
    ----------
    package : str
        Debian package name.
    path : str
        Path inside the package (no leading ``/``), an ``fnmatch`` glob allowed; with
        ``archive``, the member name (or glob) inside that archive.
    kind : str
        One of :data:`KINDS`, judged from the recording's spectrogram.
    licence : str
        Licence of the file as the package's copyright file states it.
    note : str
        What the spectrogram shows (free text, kept in the manifest).
    archive : str
        Path inside the package of a zip archive that holds the file (``""``: none).
    """

    package: str
    path: str
    kind: str
    licence: str
    note: str = ""
    archive: str = ""


_UFOAI_PK3 = "usr/share/games/ufoai/base/0snd.pk3"
_MEGAGLEST = "usr/share/games/megaglest/tilesets"

#: The reviewed field-noise recordings (spectrograms looked at over their whole length).
SOURCES = (
    Source("ufoai-sound", "sound/ambience/ufo_night_atm.ogg", "insect", "GPL-2+",
           "night insect chorus, steady bands at 2-4 kHz, faint clicks; 114 s", _UFOAI_PK3),
    Source("ufoai-sound", "sound/ambience/city_abnd_ufoai_atm.ogg", "urban", "GPL-2+",
           "city traffic below 3 kHz, passing cars change the level; 106 s", _UFOAI_PK3),
    Source("ufoai-sound", "sound/ambience/arcticwind.ogg", "wind", "CC-BY-SA-3.0",
           "wind, all energy below 4 kHz; 41 s", _UFOAI_PK3),
    Source("ufoai-sound", "sound/ambience/minepump03.ogg", "machine", "CC-BY-3.0",
           "pump: low hum and broadband clicks up to 19 kHz; 154 s, 48 kHz", _UFOAI_PK3),
    Source("ufoai-sound", "sound/ambience/waterfontain.ogg", "water", "CC-BY-SA-3.0",
           "water fountain, broadband splashes up to 12 kHz; 17.6 s", _UFOAI_PK3),
    Source("megaglest-data", f"{_MEGAGLEST}/fernland/sounds/night.ogg", "insect",
           "CC-BY-SA-3.0", "dense night chorus: insect bands 3-13 kHz and pulsed calls at "
           "1-2 kHz; 90 s"),
    Source("megaglest-data", f"{_MEGAGLEST}/dark_forest/sounds/night.ogg", "insect",
           "CC-BY-SA-3.0", "night insects at 4-6 and 15-16 kHz with short bursts at "
           "7-15 kHz; 51 s"),
    Source("megaglest-data", f"{_MEGAGLEST}/autumn/sounds/rain.ogg", "rain", "CC-BY-SA-3.0",
           "steady rain, broadband up to 15 kHz; 15.8 s"),
    Source("megaglest-data", f"{_MEGAGLEST}/winter/sounds/wind.ogg", "wind", "CC-BY-SA-3.0",
           "wind below 5 kHz, slow gusts; 31.8 s"),
    Source("wesnoth-1.16-data", "usr/share/games/wesnoth/1.16/data/core/sounds/ambient/"
           "night.ogg", "insect", "GPL-2+",
           "crickets: pulsed chirps at 4-6 kHz over a low chorus; 5.7 s"),
    Source("flare-game", "usr/share/games/flare/mods/empyrean_campaign/soundfx/environment/"
           "rain.ogg", "rain", "CC-BY-SA-3.0", "heavy rain, drops up to 22 kHz; 65 s, 48 kHz"),
    Source("lincity-ng-data", "usr/share/games/lincity-ng/sounds/MarketFull1.wav", "urban",
           "GPL-2+", "crowded market: voices and bustle below 10 kHz; 4 s"),
    Source("lincity-ng-data", "usr/share/games/lincity-ng/sounds/RailTrain2.wav", "machine",
           "GPL-2+", "passing train, rumble and wheel noise; 4 s, 11.025 kHz"),
)


def default_cache_dir() -> Path:
    """``scatter.cache.cache_dir("field_sounds")`` (``$SYMSCATTER_CACHE_DIR/field_sounds``)."""
    from scatter.cache import cache_dir

    return Path(cache_dir(CACHE_NAME))


def _check_sources(sources) -> tuple[Source, ...]:
    sources = tuple(sources)
    if not sources:
        raise FetchError("sources is empty; expected at least one Source row")
    for src in sources:
        if not isinstance(src, Source):
            raise FetchError(f"sources must hold Source rows; got {src!r}")
        if src.kind not in KINDS:
            raise FetchError(f"Source {src.package}:{src.path} has kind {src.kind!r}; expected "
                             f"one of {KINDS}")
        if src.path.startswith("/") or src.archive.startswith("/"):
            raise FetchError(f"Source {src.package}:{src.path}: paths are relative to the "
                             "package root (no leading '/')")
    return sources


def _download(packages: list[str], workdir: Path, quiet: bool) -> dict[str, Path]:
    """``debian_packages.download`` (a module name of its own so that tests can replace it)."""
    return _deb.download(packages, workdir, quiet)


def _extract(deb: Path, dest: Path) -> tuple[Path, str]:
    """``debian_packages.extract`` (a module name of its own so that tests can replace it)."""
    return _deb.extract(deb, dest)


def _select(src: Source, root: Path, out_dir: Path) -> list[tuple[Path, str]]:
    """Copy the files of one row from an unpacked package ``root`` into ``out_dir``; return
    (copied path, path inside the package) pairs."""
    copied = []
    if src.archive:
        archive = root / src.archive
        if not archive.is_file():
            raise FetchError(f"{src.package}: no archive {src.archive} in the package")
        with zipfile.ZipFile(archive) as zf:
            names = _deb.matches([i.filename for i in zf.infolist() if not i.is_dir()], src.path)
            for name in names:
                dst = out_dir / src.package / src.archive / name
                dst.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(name) as fin, open(dst, "wb") as fout:
                    shutil.copyfileobj(fin, fout)
                copied.append((dst, f"{src.archive}!{name}"))
    else:
        files = [p.relative_to(root).as_posix() for p in root.rglob("*")
                 if p.is_file() and not p.is_symlink()]
        for name in _deb.matches(files, src.path):
            dst = out_dir / src.package / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / name, dst)
            copied.append((dst, name))
    if not copied:
        where = f"{src.archive}!{src.path}" if src.archive else src.path
        raise FetchError(f"{src.package}: nothing matches {where} (symbolic links are not "
                         "followed: name the file they point to)")
    return copied


def _describe(path: Path, cache_dir: Path) -> dict:
    import numpy as np
    import soundfile as sf

    x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return {
        "path": str(path.resolve()),
        "relpath": path.relative_to(cache_dir).as_posix(),
        "duration": x.shape[0] / sr,
        "sr": int(sr),
        "channels": int(x.shape[1]),
        "rms": float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0,
        "peak": float(np.max(np.abs(x))) if x.size else 0.0,
    }


def _table_key(sources) -> list[dict]:
    return [asdict(s) for s in sources]


def collect(roots: dict, versions: dict, cache_dir: Path | str, *, sources=None) -> Path:
    """Copy the table's files from unpacked packages into the cache and write the manifest.

    Parameters
    ----------
    roots : dict of str -> path
        Package name -> folder it was unpacked into (``dpkg-deb -x``).
    versions : dict of str -> str
        Package name -> version.
    cache_dir : path
        Cache folder; ``files/`` in it is replaced.
    sources : sequence of Source, optional
        The table (default :data:`SOURCES`).

    Returns
    -------
    pathlib.Path
        ``cache_dir/manifest.json`` (written to a temporary name, then renamed).

    Raises
    ------
    FetchError
        A row's package is missing from ``roots``, or nothing in it matches the row.
    """
    from scatter.outputs import atomic_open

    sources = _check_sources(SOURCES if sources is None else sources)
    cache_dir = Path(cache_dir)
    staging = cache_dir / "files.new"
    if staging.exists():
        shutil.rmtree(staging)
    records, seen = [], {}
    for src in sources:
        if src.package not in roots:
            raise FetchError(f"package {src.package} was not unpacked (roots has "
                             f"{sorted(roots)})")
        for dst, inside in _select(src, Path(roots[src.package]), staging):
            sha = _deb.sha256(dst)
            if sha in seen:  # the same recording under another name: keep the first
                dst.unlink()
                continue
            seen[sha] = inside
            records.append({"package": src.package, "version": versions.get(src.package, ""),
                            "licence": src.licence, "path_inside": inside, "sha256": sha,
                            "kind": src.kind, "note": src.note, "staged": dst})
    final = cache_dir / "files"
    if final.exists():
        shutil.rmtree(final)
    staging.rename(final)
    for rec in records:
        staged = rec.pop("staged")
        rec.update(_describe(final / staged.relative_to(staging), cache_dir))
    manifest = {"version": MANIFEST_VERSION, "sources": _table_key(sources), "files": records}
    path = cache_dir / MANIFEST_NAME
    with atomic_open(path) as fh:
        json.dump(manifest, fh, indent=1)
    return path


def load_manifest(path: Path | str | None = None) -> list[dict]:
    """The file records of a manifest written by :func:`collect` (default: the default
    cache's)."""
    path = Path(path) if path is not None else default_cache_dir() / MANIFEST_NAME
    return json.loads(Path(path).read_text(encoding="utf-8"))["files"]


def fetch(cache_dir: Path | str | None = None, *, sources=None, force: bool = False,
          quiet: bool = True) -> Path:
    """Make sure the table's files and their manifest are in the cache; return the manifest.

    Parameters
    ----------
    cache_dir : path, optional
        Cache folder (default :func:`default_cache_dir`).
    sources : sequence of Source, optional
        The table (default :data:`SOURCES`).
    force : bool
        Download and unpack again even if a complete manifest for this table is there.
    quiet : bool
        No messages when true.

    Returns
    -------
    pathlib.Path
        ``cache_dir/manifest.json``.

    Raises
    ------
    FetchError
        If ``apt-get`` or ``dpkg-deb`` fail, or a row matches no file.
    """
    sources = _check_sources(SOURCES if sources is None else sources)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    manifest = cache_dir / MANIFEST_NAME
    if not force and _deb.manifest_is_valid(manifest, version=MANIFEST_VERSION,
                                            sources=_table_key(sources)):
        return manifest
    cache_dir.mkdir(parents=True, exist_ok=True)
    packages = sorted({s.package for s in sources})
    with tempfile.TemporaryDirectory(prefix="field-sounds-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o755)  # apt's sandbox user must be able to write the download here
        if not quiet:
            print(f"downloading {', '.join(packages)} with apt-get", file=sys.stderr)
        debs = _download(packages, work, quiet)
        roots, versions = {}, {}
        for name, deb in debs.items():
            roots[name], versions[name] = _extract(deb, work / "root" / name)
        return collect(roots, versions, cache_dir, sources=sources)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""

    def summarize(path, args):
        records = load_manifest(path)
        kinds = dict(Counter(rec["kind"] for rec in records))
        return {"files": len(records), "kinds": kinds}, f"{len(records)} files ({kinds})"

    return _deb.command(argv, description=__doc__.split("\n\n")[0], summarize=summarize,
                        fetch=lambda args: fetch(args.cache, force=args.force,
                                                 quiet=args.quiet))


if __name__ == "__main__":
    sys.exit(main())
