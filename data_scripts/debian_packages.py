"""Fetch and unpack Debian packages, the shared steps of the data scripts that read them.

``fetch_tuxpaint_sounds.py``, ``fetch_field_sounds.py`` and ``build_corpus_v4.py`` all take real
recordings out of Debian (bookworm) packages the same way: ``apt-get download`` (with one
``apt-get update`` and a retry when apt does not know a package yet), ``dpkg-deb -x`` (or only
some members, for packages of several GB), the package's version from its control file, and a
SHA-256 of each file taken; then a manifest of what was taken in a cache folder, and a command
line (``--cache DIR --force --quiet --json``). This module is that one way; the scripts load it with
``sibling_scripts.load_sibling("debian_packages")`` (``data_scripts`` is not a package), and
from elsewhere it loads from its file::

    import importlib.util
    spec = importlib.util.spec_from_file_location("debian_packages",
                                                  "data_scripts/debian_packages.py")
    deb = importlib.util.module_from_spec(spec); spec.loader.exec_module(deb)
    debs = deb.download(["ufoai-sound"], workdir)
    root, version = deb.extract(debs["ufoai-sound"], workdir / "root")

Everything here needs ``apt-get`` and ``dpkg-deb`` (and ``tar`` for partial extraction); a
missing command is a :class:`FetchError` that says so.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = [
    "FetchError",
    "command",
    "download",
    "extract",
    "manifest_is_valid",
    "matches",
    "package_version",
    "run",
    "sha256",
]


class FetchError(RuntimeError):
    """Downloading, unpacking or selecting files failed (the message says which step and why)."""


def run(cmd: list[str], cwd: Path | str, step: str) -> str:
    """Run a command; return its standard output.

    Parameters
    ----------
    cmd : list of str
        The command and its arguments.
    cwd : path
        Folder to run it in.
    step : str
        What the command is for, the start of any error message (``"apt-get download"``).

    Returns
    -------
    str
        Standard output.

    Raises
    ------
    FetchError
        If the command is not installed, cannot be started, or exits with a non-zero status
        (the message ends with the last 2,000 characters of its standard error).
    """
    if not shutil.which(cmd[0]):
        raise FetchError(f"{step}: command {cmd[0]!r} not found; this script needs a "
                         "Debian-based system with apt-get and dpkg-deb")
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise FetchError(f"{step}: could not run {' '.join(cmd)} in {cwd}: {exc}") from exc
    if proc.returncode != 0:
        raise FetchError(f"{step}: {' '.join(cmd)} exited with {proc.returncode}: "
                         f"{proc.stderr.strip()[-2000:]}")
    return proc.stdout


def _found(name: str, workdir: Path) -> Path | None:
    found = sorted(workdir.glob(f"{name}_*.deb"))
    return found[-1] if found else None


def download(packages, workdir: Path | str, quiet: bool = True, *,
             reuse: bool = False) -> dict[str, Path]:
    """``apt-get download`` packages into ``workdir``; return package -> ``.deb`` path.

    When apt does not know a package (its lists were never fetched), ``apt-get update`` runs
    once and the download is tried again.

    Parameters
    ----------
    packages : sequence of str
        Debian package names.
    workdir : path
        Folder the ``.deb`` files are written to (it must be readable by apt's sandbox user).
    quiet : bool
        No messages when true.
    reuse : bool
        Keep a ``<package>_*.deb`` already in ``workdir`` instead of downloading it again (for
        a folder kept as a download cache).

    Returns
    -------
    dict of str -> pathlib.Path

    Raises
    ------
    FetchError
        If apt fails (after the update and retry) or a ``.deb`` does not appear.
    """
    packages = list(packages)
    if not packages or not all(isinstance(p, str) and p for p in packages):
        raise FetchError(f"packages must be a non-empty list of package names; got {packages!r}")
    workdir = Path(workdir)
    todo = [p for p in packages if not (reuse and _found(p, workdir))]
    if todo:
        cmd = ["apt-get", "download", *todo]
        try:
            run(cmd, workdir, "apt-get download")
        except FetchError as first:
            if not quiet:
                print("apt-get download failed; running apt-get update once and retrying",
                      file=sys.stderr)
            try:
                run(["apt-get", "update"], workdir, "apt-get update")
            except FetchError as exc:
                raise FetchError(f"{first}; then {exc}") from exc
            run(cmd, workdir, "apt-get download (after update)")
    debs = {}
    for name in packages:
        deb = _found(name, workdir)
        if deb is None:
            raise FetchError(f"apt-get download: no {name}_*.deb appeared in {workdir}")
        debs[name] = deb
    return debs


def package_version(deb: Path | str) -> str:
    """The ``Version`` field of a ``.deb``'s control file."""
    deb = Path(deb)
    return run(["dpkg-deb", "-f", str(deb), "Version"], deb.parent, "dpkg-deb -f").strip()


def extract(deb: Path | str, dest: Path | str, members=None) -> tuple[Path, str]:
    """Unpack a ``.deb`` into ``dest``; return ``dest`` and the package version.

    Parameters
    ----------
    deb : path
        The package file.
    dest : path
        Folder to unpack into (created).
    members : sequence of str, optional
        Only these paths inside the package (``tar`` wildcards, no leading ``./`` or ``/``;
        ``*`` matches across ``/``): for packages of several GB of which a few files are used.
        Default: everything (``dpkg-deb -x``).

    Returns
    -------
    (pathlib.Path, str)

    Raises
    ------
    FetchError
        If ``dpkg-deb`` or ``tar`` fail, or a member pattern matches nothing.
    """
    deb, dest = Path(deb), Path(dest)
    if not deb.is_file():
        raise FetchError(f"dpkg-deb -x: no package file {deb}")
    dest.mkdir(parents=True, exist_ok=True)
    if members is None:
        run(["dpkg-deb", "-x", str(deb), str(dest)], dest, "dpkg-deb -x")
    else:
        members = list(members)
        if not members or any(not isinstance(m, str) or m.startswith("/") for m in members):
            raise FetchError(f"members must be relative paths or wildcards; got {members!r}")
        for cmd in ("dpkg-deb", "tar"):
            if not shutil.which(cmd):
                raise FetchError(f"dpkg-deb --fsys-tarfile: command {cmd!r} not found")
        patterns = [m if m.startswith("./") else f"./{m}" for m in members]
        # the context closes both of dpkg-deb's pipes and waits for it
        with subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) as feed:
            proc = subprocess.run(["tar", "-x", "-C", str(dest), "--wildcards", *patterns],
                                  stdin=feed.stdout, capture_output=True, text=True,
                                  check=False)
            feed.stdout.close()
            feed_err = feed.stderr.read().decode(errors="replace")
            feed.wait()
        if proc.returncode != 0:
            raise FetchError(f"tar -x of {deb.name} members {members}: exited with "
                             f"{proc.returncode}: {proc.stderr.strip()[-2000:]}")
        if feed.returncode not in (0, None) and "Broken pipe" not in feed_err:
            raise FetchError(f"dpkg-deb --fsys-tarfile {deb.name}: exited with "
                             f"{feed.returncode}: {feed_err.strip()[-2000:]}")
    return dest, package_version(deb)


def matches(names, pattern: str) -> list[str]:
    """The names that match an ``fnmatch`` pattern (``*`` matches across ``/``), sorted."""
    return sorted(n for n in names if fnmatch.fnmatchcase(n, pattern))


def sha256(path: Path | str) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_is_valid(path: Path | str, *, version: int, sources=None) -> bool:
    """Whether a cache's manifest is complete, so that fetching again can be skipped.

    Parameters
    ----------
    path : path
        The manifest (JSON with ``version``, ``files`` and, for a table-driven script,
        ``sources``); each file record's ``relpath`` is relative to its folder.
    version : int
        The manifest format the script writes.
    sources : list, optional
        The table as the manifest's JSON holds it; ``None``: not compared.

    Returns
    -------
    bool
        True when the file reads, has this ``version``, at least one file record, the same
        ``sources`` (when given) and every recorded file is in the cache.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if data.get("version") != version or not data.get("files"):
        return False
    if sources is not None and data.get("sources") != sources:
        return False
    return all((path.parent / rec["relpath"]).is_file() for rec in data["files"])


def command(argv, *, description, fetch, summarize, options=None,
            errors=(FetchError,)) -> int:
    """The command line of a script that fills a cache folder from Debian packages.

    Options ``--cache DIR``, ``--force``, ``--quiet`` and ``--json``, and those of ``options``.
    With ``--json``, one line is printed: ``{"manifest": path, **summary}``; without, unless
    ``--quiet``, the summary's text and the manifest path.

    Parameters
    ----------
    argv : list of str or None
        The arguments (``None``: ``sys.argv[1:]``).
    description : str
        The ``--help`` text.
    fetch : callable
        ``fetch(args) -> path``: fills the cache as the parsed ``args`` say and returns the
        manifest's path.
    summarize : callable
        ``summarize(path, args) -> (dict, str)``: the summary of the manifest, for the JSON
        line and as text.
    options : callable, optional
        ``options(parser)`` adds the script's own options.
    errors : tuple of type
        Exceptions of ``fetch`` reported as ``error: <message>`` on stderr, exit status 1.

    Returns
    -------
    int
        The exit status.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--cache", type=Path, default=None, help="cache folder")
    if options is not None:
        options(parser)
    parser.add_argument("--force", action="store_true", help="fetch again even if cached")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.add_argument("--json", action="store_true", help="print one JSON summary line")
    args = parser.parse_args(argv)
    try:
        path = fetch(args)
    except errors as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    summary, text = summarize(path, args)
    if args.json:
        print(json.dumps({"manifest": str(path), **summary}))
    elif not args.quiet:
        print(f"{text}\nmanifest: {path}")
    return 0
