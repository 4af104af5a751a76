"""Tests of data_scripts/packed_archives.py on small C4Group and .cat archives built here."""

import gzip
import io
import struct

import numpy as np
import pytest
import soundfile as sf


@pytest.fixture(scope="module")
def P(scripts):
    return scripts("packed_archives")


def _scramble(data):
    # written from the format's description, independently of the module under test
    out = bytearray(data)
    for i in range(0, len(out) - 2, 3):
        out[i], out[i + 2] = out[i + 2], out[i]
    return bytes(b ^ 237 for b in out)


def _group(entries):
    """A raw (decompressed) C4Group of (name, bytes or list-of-entries) pairs."""
    head = bytearray(204)
    head[:24] = b"RedWolf Design GrpFolder"
    struct.pack_into("<iii", head, 28, 1, 2, len(entries))
    table, blobs, offset = b"", b"", 0
    for name, content in entries:
        child = isinstance(content, list)
        data = _group(content) if child else content
        entry = bytearray(316)
        entry[:len(name)] = name.encode()
        struct.pack_into("<5i", entry, 260, 0, int(child), len(data), 0, offset)
        table += bytes(entry)
        blobs += data
        offset += len(data)
    return _scramble(bytes(head)) + table + blobs


def _c4file(path, entries):
    packed = gzip.compress(_group(entries))
    path.write_bytes(b"\x1e\x8c" + packed[2:])
    return path


def _wav(seconds=0.1, sr=8000):
    buf = io.BytesIO()
    sf.write(buf, 0.1 * np.sin(np.arange(int(seconds * sr)) / 3.0), sr, format="WAV")
    return buf.getvalue()


def test_c4group_members_walks_child_groups(P, tmp_path):
    wav = _wav()
    path = _c4file(tmp_path / "Sound.ocg", [
        ("Environment.ocg", [("BirdsLoop.ogg", b"OggS-bird"),
                             ("Lightning.ocg", [("Thunder1.ogg", b"OggS-thunder")])]),
        ("Animals.ocg", [("Chirp.wav", wav)]),
        ("Version.txt", b"8.0"),
    ])
    members = P.c4group_members(path)
    assert [n for n, _ in members] == [
        "Environment.ocg/BirdsLoop.ogg", "Environment.ocg/Lightning.ocg/Thunder1.ogg",
        "Animals.ocg/Chirp.wav", "Version.txt"]
    got = dict(members)
    assert got["Environment.ocg/Lightning.ocg/Thunder1.ogg"] == b"OggS-thunder"
    x, sr = sf.read(io.BytesIO(got["Animals.ocg/Chirp.wav"]))
    assert sr == 8000 and x.size == 800
    assert P.scramble(P.scramble(b"any header bytes")) == b"any header bytes"


def test_c4group_errors(P, tmp_path):
    plain = tmp_path / "plain.ocg"
    plain.write_bytes(gzip.compress(b"x" * 300))
    with pytest.raises(P.ArchiveError, match=r"starts with 1f8b; a packed C4Group starts with "
                                             r"1e8c"):
        P.c4group_members(plain)
    broken = tmp_path / "broken.ocg"
    broken.write_bytes(b"\x1e\x8c" + b"\0" * 40)
    with pytest.raises(P.ArchiveError, match=r"could not be decompressed"):
        P.c4group_members(broken)
    raw = bytearray(_group([("a.wav", b"abc")]))
    struct.pack_into("<i", raw, 204 + 268, 999)           # size past the end
    with pytest.raises(P.ArchiveError, match=r"a.wav: data at 0\+999 lies outside"):
        P.parse_c4group(bytes(raw))
    with pytest.raises(P.ArchiveError, match=r"header id is"):
        P.parse_c4group(b"\0" * 204)


def _cat(path, sounds):
    """An OpenTTD .cat of (name, data) pairs, new format (top bit of the offsets set)."""
    table_len = 8 * len(sounds)
    bodies, table, offset = b"", b"", table_len
    for name, data in sounds:
        raw_name = name.encode() + b"\0"
        body = bytes([len(raw_name)]) + raw_name + data
        table += struct.pack("<II", offset | 0x80000000, len(body))
        bodies += body
        offset += len(body)
    path.write_bytes(table + bodies)
    return path


def test_sfx_cat_members(P, tmp_path):
    wav = _wav(0.2)
    path = _cat(tmp_path / "opensfx.cat", [
        ('"Good Year". By someone. License: CC-BY-3.0.', wav),
        ('"Unused/Nothing". Trivial empty sound file.', b""),
        ('"Tropical: Bird (1)". Edited.', wav),
    ])
    members = P.sfx_cat_members(path)
    assert [n for n, _ in members] == ["00_good_year.wav", "02_tropical_bird_1.wav"]
    x, sr = sf.read(io.BytesIO(members[1][1]))
    assert sr == 8000 and x.size == 1600


def test_sfx_cat_errors(P, tmp_path):
    bad = _cat(tmp_path / "bad.cat", [('"x"', b"not a wave file at all")])
    with pytest.raises(P.ArchiveError, match=r"sound 0 \('\"x\"'\) is not a RIFF WAVE"):
        P.sfx_cat_members(bad)
    short = tmp_path / "short.cat"
    short.write_bytes(b"\x07\0\0\0")
    with pytest.raises(P.ArchiveError, match=r"too short"):
        P.sfx_cat_members(short)
    odd = tmp_path / "odd.cat"
    odd.write_bytes(struct.pack("<II", 12, 4) + b"\0" * 8)
    with pytest.raises(P.ArchiveError, match=r"first offset \(12\) is not the length"):
        P.sfx_cat_members(odd)
