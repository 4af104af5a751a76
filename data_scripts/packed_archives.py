"""Readers of two packed sound archives of Debian game packages: C4Group and OpenTTD ``.cat``.

Pure Python (``gzip``, ``struct``); each returns the members as ``(name, bytes)`` pairs so that
a corpus builder can copy the sound files out like files of a zip.

**C4Group** (OpenClonk's ``.ocg``, ``.ocd``, ``.ocf``; e.g. ``openclonk-data``'s ``Sound.ocg``).
The file is one gzip stream whose first two bytes are ``1E 8C`` instead of gzip's ``1F 8B``.
Decompressed, a group is

- a 204-byte header, *scrambled*: every byte XOR 237, then bytes ``i`` and ``i + 2`` swapped for
  each ``i = 0, 3, 6, ...`` with ``i + 2 < 204`` (the scrambling is its own inverse). Unscrambled:
  bytes 0-24 the id ``RedWolf Design GrpFolder`` (NUL-padded), 28-31 and 32-35 the format
  version (1, 2) as little-endian int32, 36-39 the number of entries, 40-71 the author;
- one 316-byte entry per member, not scrambled: bytes 0-259 the file name (NUL-terminated),
  260-263 ``packed``, 264-267 ``child_group`` (non-zero: the member is itself a group), 268-271
  the size, 276-279 the offset of its data from the end of the entry table (int32 LE each);
- the members' data.

A member that is a group holds a group in the same layout (header, entries, data), not
compressed again (a gzip-magic child is also read).

**OpenTTD sound ``.cat``** (``openttd-opensfx``'s ``opensfx.cat``). A table of ``(offset,
size)`` pairs of little-endian uint32 starts the file; the first offset is the table's length
(8 bytes per sound), its top bit set in the "new" format (and cleared from every offset). At each
offset: one byte ``n``, ``n`` bytes of name (the sound's title and credits, NUL-terminated),
then the sound as a RIFF WAVE file filling the rest of ``size``. Sounds of size zero after the
name (placeholders such as "Unused/Nothing") are left out.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

__all__ = [
    "ArchiveError",
    "C4GROUP_ID",
    "c4group_members",
    "parse_c4group",
    "scramble",
    "sfx_cat_members",
]

C4GROUP_ID = b"RedWolf Design GrpFolder"
_C4_MAGIC = b"\x1e\x8c"
_HEADER = 204
_ENTRY = 316


class ArchiveError(ValueError):
    """An archive is not in the expected format (the message says which archive and where)."""


def scramble(data: bytes) -> bytes:
    """C4Group's header scrambling (XOR 237, then swap bytes ``i`` and ``i + 2``); its own
    inverse.

    Examples
    --------
    >>> scramble(scramble(b"RedWolf"))
    b'RedWolf'
    """
    out = bytearray(b ^ 237 for b in data)
    for i in range(0, len(out) - 2, 3):
        out[i], out[i + 2] = out[i + 2], out[i]
    return bytes(out)


def _gunzip(raw: bytes, where: str) -> bytes:
    try:
        return gzip.decompress(b"\x1f\x8b" + raw[2:])
    except (OSError, EOFError, zlib.error) as exc:
        raise ArchiveError(f"{where}: a C4Group starts with a gzip stream (magic 1E 8C) that "
                           f"could not be decompressed: {exc}") from exc


def parse_c4group(raw: bytes, *, where: str = "C4Group") -> list[tuple[str, bytes]]:
    """The files of a decompressed C4Group, child groups walked into.

    Parameters
    ----------
    raw : bytes
        The group after decompression (header, entries, data).
    where : str
        Name for error messages.

    Returns
    -------
    list of (str, bytes)
        ``("Animals.ocg/MosquitoBuzz.ogg", data)``: ``/``-joined names, in the group's order.

    Raises
    ------
    ArchiveError
        If the header id is wrong or an entry points outside the data.
    """
    if len(raw) < _HEADER:
        raise ArchiveError(f"{where}: {len(raw)} bytes is shorter than a C4Group header "
                           f"({_HEADER} bytes)")
    head = scramble(raw[:_HEADER])
    if head[:len(C4GROUP_ID)] != C4GROUP_ID:
        raise ArchiveError(f"{where}: header id is {head[:24]!r}; expected {C4GROUP_ID!r}")
    (count,) = struct.unpack_from("<i", head, 36)
    base = _HEADER + _ENTRY * count
    if count < 0 or base > len(raw):
        raise ArchiveError(f"{where}: header says {count} entries, which do not fit in "
                           f"{len(raw)} bytes")
    out = []
    for i in range(count):
        entry = raw[_HEADER + _ENTRY * i:_HEADER + _ENTRY * (i + 1)]
        name = entry[:260].split(b"\0", 1)[0].decode("latin-1")
        _packed, child, size, _reserved, offset = struct.unpack_from("<5i", entry, 260)
        if not name or "/" in name or name in (".", ".."):
            raise ArchiveError(f"{where}: entry {i} has an unusable name {name!r}")
        start = base + offset
        if size < 0 or offset < 0 or start + size > len(raw):
            raise ArchiveError(f"{where}/{name}: data at {offset}+{size} lies outside the "
                               f"group ({len(raw) - base} bytes of data)")
        data = raw[start:start + size]
        if child:
            if data[:2] == _C4_MAGIC:
                data = _gunzip(data, f"{where}/{name}")
            out.extend((f"{name}/{sub}", blob)
                       for sub, blob in parse_c4group(data, where=f"{where}/{name}"))
        else:
            out.append((name, data))
    return out


def c4group_members(path: Path | str) -> list[tuple[str, bytes]]:
    """The files of a C4Group file (e.g. OpenClonk's ``Sound.ocg``).

    Returns
    -------
    list of (str, bytes)
        ``/``-joined member names (child groups included in the path) and their bytes.

    Raises
    ------
    ArchiveError
        If the file does not start with the C4Group magic or is damaged.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] != _C4_MAGIC:
        raise ArchiveError(f"{path}: starts with {raw[:2].hex()}; a packed C4Group starts "
                           f"with {_C4_MAGIC.hex()}")
    return parse_c4group(_gunzip(raw, str(path)), where=str(path))


def _slug(title: str) -> str:
    keep = "".join(c if c.isalnum() else "_" for c in title.lower())
    return "_".join(p for p in keep.split("_") if p)[:60] or "sound"


def sfx_cat_members(path: Path | str) -> list[tuple[str, bytes]]:
    """The sounds of an OpenTTD ``.cat`` sound archive, as WAV files.

    Returns
    -------
    list of (str, bytes)
        ``("NN_<title>.wav", riff_bytes)`` for each non-empty sound, ``NN`` its index in the
        archive (two digits) and ``<title>`` the quoted title from its name, lower case, with
        ``_`` for anything not alphanumeric.

    Raises
    ------
    ArchiveError
        If the table is damaged or a sound is not a RIFF WAVE file.
    """
    path = Path(path)
    raw = path.read_bytes()
    if len(raw) < 8:
        raise ArchiveError(f"{path}: {len(raw)} bytes is too short for a .cat table")
    (first,) = struct.unpack_from("<I", raw, 0)
    table = first & 0x7FFFFFFF
    if table == 0 or table % 8 or table > len(raw):
        raise ArchiveError(f"{path}: the first offset ({table}) is not the length of a table "
                           "of (offset, size) pairs")
    out = []
    for i in range(table // 8):
        offset, size = struct.unpack_from("<II", raw, 8 * i)
        offset &= 0x7FFFFFFF
        if offset + size > len(raw) or size < 1:
            raise ArchiveError(f"{path}: sound {i} at {offset}+{size} lies outside the file "
                               f"({len(raw)} bytes)")
        n = raw[offset]
        name = raw[offset + 1:offset + 1 + n].split(b"\0", 1)[0].decode("utf-8", "replace")
        data = raw[offset + 1 + n:offset + size]
        if not data:
            continue
        if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
            raise ArchiveError(f"{path}: sound {i} ({name[:40]!r}) is not a RIFF WAVE file "
                               f"(starts with {data[:12]!r})")
        title = name.split('"')[1] if name.count('"') >= 2 else name
        out.append((f"{i:02d}_{_slug(title)}.wav", data))
    return out
