"""Tests of scatter.recorders: start times from AudioMoth and Song Meter file names, from an
AudioMoth comment in a RIFF INFO chunk and a GUANO chunk (written here byte by byte), and from
a FLAC's comment tag; time zones."""

import datetime as dt
import io
import zoneinfo

import numpy as np
import pytest
import soundfile as sf

from scatter import ScatterError
from scatter.recorders import (
    RecordingStart,
    format_start_time,
    parse_audiomoth_comment,
    parse_guano_timestamp,
    parse_timezone,
    read_wav_info,
    recording_start,
    start_from_name,
)

UTC = dt.timezone.utc
COMMENT = ("Recorded at 19:22:55 21/07/2019 (UTC+1) by AudioMoth 24A04F085FDF2793 at medium "
           "gain setting while battery state was 4.2V.")


def _chunk(cid, body):
    return cid + len(body).to_bytes(4, "little") + body + (b"\x00" if len(body) % 2 else b"")


def _wav_bytes(sr=8000, frames=800):
    buf = io.BytesIO()
    sf.write(buf, np.zeros(frames, np.int16), sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def write_wav_with_chunks(path, chunks, *, after_data=False):
    """A real WAV written by soundfile, with extra RIFF chunks put in before (or after) its
    data chunk and the RIFF size fixed."""
    data = _wav_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    pos, parts = 12, []
    while pos < len(data):
        size = int.from_bytes(data[pos + 4:pos + 8], "little")
        parts.append(data[pos:pos + 8 + size + (size & 1)])
        pos += 8 + size + (size & 1)
    ids = [p[:4] for p in parts]
    at = ids.index(b"data") + (1 if after_data else 0)
    body = b"WAVE" + b"".join(parts[:at] + list(chunks) + parts[at:])
    path.write_bytes(b"RIFF" + len(body).to_bytes(4, "little") + body)
    return path


def info_chunk(**entries):
    body = b"INFO" + b"".join(_chunk(k.encode(), v.encode() + b"\x00")
                              for k, v in entries.items())
    return _chunk(b"LIST", body)


def _write(path, sr=8000, **kwargs):
    sf.write(path, np.zeros(400, np.float32), sr, **kwargs)
    return path


def test_audiomoth_names(tmp_path):
    for name in ("20190721_192255.WAV", "20190721_192255.wav", "20190721_192255.Flac"):
        start = recording_start(_write(tmp_path / name))
        assert start == RecordingStart(dt.datetime(2019, 7, 21, 19, 22, 55, tzinfo=UTC),
                                       "audiomoth-name")
        assert start.isoformat() == "2019-07-21T19:22:55+00:00"
    hexed = recording_start(_write(tmp_path / "5E90A4D4.WAV"))
    assert hexed.source == "audiomoth-hex-name"
    assert hexed.time == dt.datetime(2020, 4, 10, 16, 54, 44, tzinfo=UTC)
    assert start_from_name("5e90a4d4.wav").time == hexed.time
    # a Unix time is an instant: the timezone option does not move it
    assert start_from_name("5E90A4D4.WAV", timezone="Asia/Tokyo").time == hexed.time


def test_song_meter_names(tmp_path):
    ny = zoneinfo.ZoneInfo("America/New_York")
    for name in ("WALDEN_20240601_140505.wav", "SMM01234_20240601$140505.WAV",
                 "ARIZONA-1_0_20240601_140505.wav", "my_site_A_20240601_140505.flac"):
        start = recording_start(_write(tmp_path / name), timezone="America/New_York")
        assert start.source == "songmeter-name", name
        assert start.time == dt.datetime(2024, 6, 1, 14, 5, 5, tzinfo=ny)
        assert format_start_time(start) == "2024-06-01T14:05:05-04:00"
    winter = start_from_name("X_20240115_060000.wav", timezone="America/New_York")
    assert format_start_time(winter) == "2024-01-15T06:00:00-05:00"
    assert format_start_time(start_from_name("X_20240115_060000.wav", timezone="+05:30")) == \
        "2024-01-15T06:00:00+05:30"


@pytest.mark.parametrize("name", [
    "notes.wav", "20191321_192255.WAV", "20190721_246000.wav", "20190721.wav",  # not times
    "20190721_192255.txt", "5E90A4D4.csv",  # not audio
    "0000FFFF.WAV",  # a hexadecimal name before 2015 is no AudioMoth time
    "_20240601_140505.wav", "X_20240601-140505.wav", "20190721_192255_extra.wav",
])
def test_other_names_give_no_time(name):
    assert start_from_name(name) is None


def test_timezones():
    assert parse_timezone(None) is UTC and parse_timezone("utc") is UTC
    assert parse_timezone("Z") is UTC
    assert parse_timezone("+02:00") == dt.timezone(dt.timedelta(hours=2))
    assert parse_timezone("UTC-5") == dt.timezone(dt.timedelta(hours=-5))
    assert parse_timezone("-0930") == dt.timezone(-dt.timedelta(hours=9, minutes=30))
    assert parse_timezone("Europe/Berlin") == zoneinfo.ZoneInfo("Europe/Berlin")
    tz = dt.timezone(dt.timedelta(hours=3))
    assert parse_timezone(tz) is tz
    with pytest.raises(ScatterError, match=r"timezone must be an IANA time-zone name .* got "
                                           r"'Mars/Olympus', which is not a known time zone"):
        parse_timezone("Mars/Olympus")
    with pytest.raises(ScatterError, match="not a known time zone"):
        start_from_name("20190721_192255.WAV", timezone="../etc/passwd")
    with pytest.raises(ScatterError, match=r"within -14:00 and \+14:00; got '\+15:00'"):
        parse_timezone("+15:00")
    with pytest.raises(ScatterError, match="timezone must be .*; got 2"):
        parse_timezone(2)


def test_audiomoth_comment_in_a_riff_info_chunk(tmp_path):
    """The comment wins over the name, and carries its own zone."""
    path = write_wav_with_chunks(tmp_path / "20190721_000000.WAV",
                                 [info_chunk(ICMT=COMMENT, IART="AudioMoth 24A04F085FDF2793")])
    assert sf.info(path).frames == 800  # still a valid WAV
    assert read_wav_info(path) == {"ICMT": COMMENT, "IART": "AudioMoth 24A04F085FDF2793"}
    start = recording_start(path, timezone="Asia/Tokyo")
    assert start.source == "audiomoth-comment"
    assert format_start_time(start) == "2019-07-21T19:22:55+01:00"
    assert recording_start(path, metadata=False).source == "audiomoth-name"
    # after the data chunk, with an odd-sized entry before it (RIFF pads to even sizes)
    odd = write_wav_with_chunks(tmp_path / "clip.wav", [
        info_chunk(INAM="x", ICMT="Recorded at 04:05:06 01/12/2022 (UTC) by AudioMoth")],
        after_data=True)
    assert read_wav_info(odd)["INAM"] == "x"
    assert format_start_time(recording_start(odd)) == "2022-12-01T04:05:06+00:00"


def test_audiomoth_comment_forms():
    assert format_start_time(parse_audiomoth_comment(COMMENT)) == "2019-07-21T19:22:55+01:00"
    for text, want in [
        ("Recorded at 23:00:00 31/12/2020 (UTC) by AudioMoth", "2020-12-31T23:00:00+00:00"),
        ("Recorded at 06:00:00 02/03/2021 (UTC-5) by AudioMoth", "2021-03-02T06:00:00-05:00"),
        ("Recorded at 06:00:00 02/03/2021 (UTC+5:30) by AudioMoth",
         "2021-03-02T06:00:00+05:30"),
    ]:
        assert format_start_time(parse_audiomoth_comment(text)) == want
    for text in ("", None, "made by hand", "Recorded at 06:00:00 32/03/2021 (UTC) by x"):
        assert parse_audiomoth_comment(text) is None


def test_guano_timestamp(tmp_path):
    guano = "GUANO|Version: 1.0\nMake: Wildlife Acoustics, Inc.\nTimestamp: {}\n"
    path = write_wav_with_chunks(tmp_path / "take1.wav", [
        _chunk(b"guan", guano.format("2024-06-01T14:05:05-04:00").encode())])
    start = recording_start(path)
    assert start.source == "guano"
    assert format_start_time(start) == "2024-06-01T14:05:05-04:00"
    local = write_wav_with_chunks(tmp_path / "take2.wav", [
        _chunk(b"guan", guano.format("2024-06-01 14:05:05.250").encode())])
    assert format_start_time(recording_start(local, timezone="Europe/Paris")) == \
        "2024-06-01T14:05:05.250000+02:00"
    assert parse_guano_timestamp("Timestamp: soon") is None
    assert parse_guano_timestamp("GUANO|Version: 1.0") is None


def test_flac_comment_tag_and_unreadable_files(tmp_path):
    path = tmp_path / "converted.flac"
    with sf.SoundFile(path, "w", 8000, 1, format="FLAC") as f:
        f.comment = "Recorded at 05:10:00 01/06/2021 (UTC+2) by AudioMoth 1234"
        f.write(np.zeros(400, np.float32))
    assert format_start_time(recording_start(path)) == "2021-06-01T05:10:00+02:00"
    assert read_wav_info(path) == {}  # not a WAV
    plain = _write(tmp_path / "S1_20210601_051000.flac", format="FLAC")
    assert recording_start(plain).source == "songmeter-name"
    broken = tmp_path / "20210601_051000.wav"
    broken.write_bytes(b"RIFF\x04")  # not decodable: the name still gives the time
    assert recording_start(broken).source == "audiomoth-name"
    # a missing file: the name alone
    assert recording_start(tmp_path / "gone" / "5E90A4D4.WAV").source == "audiomoth-hex-name"
    assert recording_start(_write(tmp_path / "take.wav")) is None
    with pytest.raises(ScatterError, match="cannot read"):
        read_wav_info(tmp_path / "gone.wav")


def test_format_start_time():
    assert format_start_time(None) == ""
    t = dt.datetime(2024, 6, 1, 5, 0, 0, 5, tzinfo=UTC)
    assert format_start_time(t) == "2024-06-01T05:00:00.000005+00:00"
    with pytest.raises(ScatterError, match="timezone-aware datetime.*got datetime"):
        format_start_time(dt.datetime(2024, 6, 1))
