"""Fetch real animal and household recordings from the Debian package ``tuxpaint-stamps-default``.

The package (GPL-2, about 160 MB) ships short Ogg Vorbis clips beside Tux Paint's stamps. Under
``usr/share/tuxpaint/stamps/animals/birds/`` they are real bird sounds; everything else (mammals,
frogs, insects, instruments, vehicles, household sounds, spoken numbers and letters under
``symbols/``) is a non-bird sound. Spoken descriptions (``*_desc*.ogg``) are skipped.

What this script does:

1. ``apt-get download tuxpaint-stamps-default`` into a temporary folder (running ``apt-get update``
   first when apt does not know the package yet), then ``dpkg-deb -x`` it there;
2. copies the Ogg clips (not the descriptions) into the cache, by default
   ``~/.cache/symscatter/tuxpaint/stamps/<category>/<name>.ogg``;
3. decodes each clip once and writes ``manifest.json`` in the cache: one record per clip with
   ``path`` (absolute), ``relpath`` (relative to the cache), ``category`` (e.g. ``animals/birds``),
   ``label`` (``"bird"``, ``"non-bird"``, or ``"silence"`` for clips that are pure digital silence,
   such as ``birds/nandou.ogg``: never label a silent clip), ``duration`` (s), ``sr`` (Hz),
   ``channels``, ``rms`` and ``peak`` (of the decoded float signal, all channels).

A second call finds the manifest and returns at once (``--force`` fetches again). Nothing is
written inside the repository.

Command line::

    python data_scripts/fetch_tuxpaint_sounds.py [--cache DIR] [--force] [--quiet] [--json]

``--json`` prints one JSON line with the manifest path and the counts per label.

From Python::

    import importlib.util
    spec = importlib.util.spec_from_file_location("fetch_tuxpaint_sounds",
                                                  "data_scripts/fetch_tuxpaint_sounds.py")
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    records = mod.load_manifest(mod.fetch())           # list of dicts
    birds = [r["path"] for r in records if r["label"] == "bird"]
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))
from sibling_scripts import load_sibling  # noqa: E402

PACKAGE = "tuxpaint-stamps-default"
STAMPS_SUBDIR = Path("usr/share/tuxpaint/stamps")
BIRD_CATEGORY = "animals/birds"
MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
#: A clip whose decoded peak amplitude is at or below this is pure digital silence.
SILENCE_PEAK = 1e-6

__all__ = [
    "FetchError",
    "build_manifest",
    "default_cache_dir",
    "extract_stamps",
    "fetch",
    "is_description",
    "load_manifest",
    "main",
]


_deb = load_sibling("debian_packages")
#: Downloading or unpacking the Debian package failed (``debian_packages.FetchError``).
FetchError = _deb.FetchError


def default_cache_dir() -> Path:
    """The default cache folder: ``tuxpaint`` in the package's cache (:mod:`scatter.cache`)."""
    from scatter.cache import cache_dir

    return Path(cache_dir("tuxpaint"))


def is_description(name: str) -> bool:
    """Whether an Ogg file name is a spoken description (``*_desc*.ogg``), which is skipped.

    Examples
    --------
    >>> is_description("crow_desc_fr.ogg"), is_description("crow.ogg")
    (True, False)
    """
    return "_desc" in Path(name).stem


def _download_deb(workdir: Path, quiet: bool) -> Path:
    """``apt-get download`` the package into ``workdir`` (``apt-get update`` first if needed)."""
    return _deb.download([PACKAGE], workdir, quiet)[PACKAGE]


def extract_stamps(deb: Path, dest: Path) -> Path:
    """Unpack a ``.deb`` with ``dpkg-deb -x`` into ``dest``; return its ``stamps`` folder.

    Raises
    ------
    FetchError
        If ``dpkg-deb`` fails or the package has no ``usr/share/tuxpaint/stamps`` folder.
    """
    dest.mkdir(parents=True, exist_ok=True)
    _deb.run(["dpkg-deb", "-x", str(deb), str(dest)], dest, "dpkg-deb -x")
    stamps = dest / STAMPS_SUBDIR
    if not stamps.is_dir():
        raise FetchError(f"dpkg-deb -x: {deb.name} has no {STAMPS_SUBDIR} folder")
    return stamps


def _copy_clips(stamps: Path, cache_dir: Path) -> list[Path]:
    """Copy the non-description Ogg clips under ``stamps`` to ``cache_dir/stamps``."""
    out = []
    for src in sorted(stamps.rglob("*.ogg")):
        if is_description(src.name):
            continue
        rel = src.relative_to(stamps)
        dst = cache_dir / "stamps" / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        out.append(dst)
    return out


def _describe(path: Path, cache_dir: Path) -> dict:
    import numpy as np
    import soundfile as sf

    x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    rel = path.relative_to(cache_dir)
    parts = rel.parts[1:-1]  # drop the leading "stamps" and the file name
    category = "/".join(parts) if parts else "."
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0
    if peak <= SILENCE_PEAK:
        label = "silence"
    elif category == BIRD_CATEGORY or category.startswith(BIRD_CATEGORY + "/"):
        label = "bird"
    else:
        label = "non-bird"
    return {
        "path": str(path.resolve()),
        "relpath": rel.as_posix(),
        "category": category,
        "label": label,
        "duration": x.shape[0] / sr,
        "sr": int(sr),
        "channels": int(x.shape[1]),
        "rms": rms,
        "peak": peak,
    }


def build_manifest(cache_dir: Path | str, *, quiet: bool = True) -> Path:
    """Decode every clip under ``cache_dir/stamps`` and write ``cache_dir/manifest.json``.

    The file is written to a temporary name and then renamed, so a reader never sees half of it.

    Parameters
    ----------
    cache_dir : path
        Folder holding ``stamps/<category>/<name>.ogg``.
    quiet : bool
        No progress bar when true.

    Returns
    -------
    pathlib.Path
        The manifest path.

    Raises
    ------
    FetchError
        If there is no Ogg clip under ``cache_dir/stamps``.
    """
    from scatter.outputs import atomic_open

    cache_dir = Path(cache_dir)
    clips = sorted(p for p in (cache_dir / "stamps").rglob("*.ogg") if not is_description(p.name))
    if not clips:
        raise FetchError(f"build_manifest: no Ogg clip under {cache_dir / 'stamps'}")
    if not quiet:
        from tqdm import tqdm

        clips = tqdm(clips, desc="decoding clips", unit="clip")
    records = [_describe(p, cache_dir) for p in clips]
    manifest = {
        "version": MANIFEST_VERSION,
        "source": f"Debian package {PACKAGE} (GPL-2)",
        "files": records,
    }
    path = cache_dir / MANIFEST_NAME
    with atomic_open(path) as fh:
        json.dump(manifest, fh, indent=1)
    return path


def load_manifest(path: Path | str | None = None) -> list[dict]:
    """Read a manifest written by :func:`build_manifest` (default: the default cache's).

    Returns the list of clip records (see the module docstring for the fields).
    """
    path = Path(path) if path is not None else default_cache_dir() / MANIFEST_NAME
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return data["files"]


def fetch(cache_dir: Path | str | None = None, *, force: bool = False, quiet: bool = True) -> Path:
    """Make sure the clips and their manifest are in the cache; return the manifest path.

    Parameters
    ----------
    cache_dir : path, optional
        Cache folder (default :func:`default_cache_dir`).
    force : bool
        Download and decode again even if a valid manifest is there.
    quiet : bool
        No messages or progress bars when true.

    Returns
    -------
    pathlib.Path
        ``cache_dir/manifest.json``.

    Raises
    ------
    FetchError
        If ``apt-get``/``dpkg-deb`` fail or the package lacks the expected folder.

    Examples
    --------
    >>> records = load_manifest(fetch())                      # doctest: +SKIP
    >>> sum(r["label"] == "bird" for r in records)            # doctest: +SKIP
    17
    """
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    manifest = cache_dir / MANIFEST_NAME
    if not force and _deb.manifest_is_valid(manifest, version=MANIFEST_VERSION):
        return manifest
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tuxpaint-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o755)  # apt's sandbox user must be able to write the download here
        if not quiet:
            print(f"downloading {PACKAGE} with apt-get", file=sys.stderr)
        deb = _download_deb(work, quiet)
        stamps = extract_stamps(deb, work / "root")
        if (cache_dir / "stamps").exists():
            shutil.rmtree(cache_dir / "stamps")
        _copy_clips(stamps, cache_dir)
    return build_manifest(cache_dir, quiet=quiet)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""

    def summarize(path, args):
        records = load_manifest(path)
        labels = dict(Counter(rec["label"] for rec in records))
        return {"clips": len(records), "labels": labels}, f"{len(records)} clips ({labels})"

    return _deb.command(argv, description=__doc__.split("\n\n")[0], summarize=summarize,
                        fetch=lambda args: fetch(args.cache, force=args.force,
                                                 quiet=args.quiet))


if __name__ == "__main__":
    sys.exit(main())
