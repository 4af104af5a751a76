"""When a recording started: from the recorder's file name or the metadata it writes.

Field recorders name each file by the clock time it started, and some write that time into
the file's metadata as well. :func:`recording_start` reads, in this order of preference:

1. the AudioMoth comment (``ICMT`` in the WAV's ``LIST``/``INFO`` chunk, or a FLAC's comment
   tag when the file was converted with its tags), e.g. ``Recorded at 19:22:55 21/07/2019
   (UTC) by AudioMoth 24A04F085FDF2793 ...``: date and time with their own zone (``(UTC)``,
   ``(UTC+1)``, ``(UTC-5:30)``);
2. the GUANO ``Timestamp`` (the ``guan`` chunk that Song Meters and other bat and bird
   recorders write), ISO 8601, with or without a UTC offset;
3. the file name (extension matched without regard to case, any audio extension of
   :data:`scatter.audio.AUDIO_EXTENSIONS`):

   - AudioMoth: ``YYYYMMDD_HHMMSS.WAV`` (e.g. ``20190721_192255.WAV``);
   - AudioMoth, older firmware: eight hexadecimal digits, the Unix time of the start
     (e.g. ``5E90A4D4.WAV``, 2020-04-10 16:54:44 UTC); names whose value lies before 2015
     (the first AudioMoth shipped in 2017) are not taken as times;
   - Song Meter (Wildlife Acoustics): ``PREFIX_YYYYMMDD_HHMMSS.wav``, the prefix being the
     recorder's name (which may itself hold underscores, as the SM3's channel part
     ``PREFIX_0_...`` does), and ``PREFIX_YYYYMMDD$HHMMSS.wav``, the form the SM3 family
     documents for recordings made with GPS time synchronisation.

Time zones. A Unix-time name is an instant (UTC); the AudioMoth comment and a GUANO timestamp
with an offset carry their own zone. The other names and a GUANO timestamp without offset
are clock readings with no zone: ``timezone`` says which (default UTC). AudioMoth writes UTC
unless it was configured with a local time offset (its comment then says ``(UTC+1)``, say,
and the names are in that local time); Song Meters write the local time of the zone set on
the recorder. A local time that a daylight-saving change makes ambiguous takes the first of
its two instants (``fold=0``).

Results are timezone-aware :class:`datetime.datetime` objects; :func:`format_start_time` gives
the ``start_time`` column of the results (ISO 8601 with the UTC offset, empty when unknown).

Example
-------
>>> start = start_from_name("20190721_192255.WAV")
>>> format_start_time(start)
'2019-07-21T19:22:55+00:00'
>>> format_start_time(start_from_name("SMM01234_20240601$140505.wav",
...                                   timezone="America/New_York"))
'2024-06-01T14:05:05-04:00'
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import zoneinfo

from scatter.errors import ScatterError

__all__ = ["RecordingStart", "format_start_time", "parse_audiomoth_comment",
           "parse_guano_timestamp", "parse_timezone", "read_wav_info", "recording_start",
           "start_from_name"]

_UTC = dt.timezone.utc
_EARLIEST_HEX = dt.datetime(2015, 1, 1, tzinfo=_UTC)
_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
_AUDIOMOTH_NAME = re.compile(r"^(\d{8})_(\d{6})$")
_HEX_NAME = re.compile(r"^[0-9A-Fa-f]{8}$")
_SONGMETER_NAME = re.compile(r"^(.+)_(\d{8})([_$])(\d{6})$")
_COMMENT = re.compile(
    r"Recorded at (\d{1,2}):(\d{2}):(\d{2}) (\d{1,2})/(\d{1,2})/(\d{4}) "
    r"\(UTC(?:([+-])(\d{1,2})(?::(\d{2}))?)?\)")
_MAX_METADATA = 1 << 20  # bytes of a metadata chunk read at most


@dataclasses.dataclass(frozen=True)
class RecordingStart:
    """The start of a recording and where it was read.

    Attributes
    ----------
    time : datetime.datetime
        Timezone-aware.
    source : str
        ``"audiomoth-comment"``, ``"guano"``, ``"audiomoth-name"``, ``"audiomoth-hex-name"``
        or ``"songmeter-name"``.
    """

    time: dt.datetime
    source: str

    def isoformat(self):
        """ISO 8601 with the UTC offset, to the second (or microsecond when it has them)."""
        return format_start_time(self.time)


def parse_timezone(timezone):
    """A :class:`datetime.tzinfo` from a time-zone option.

    Parameters
    ----------
    timezone : str or datetime.tzinfo or None
        An IANA name (``"Europe/Berlin"``, through :mod:`zoneinfo`), ``"UTC"`` (or ``"Z"``,
        ``"GMT"``), a fixed offset (``"+02:00"``, ``"-0530"``, ``"UTC+1"``), a tzinfo, or
        None for UTC.

    Returns
    -------
    datetime.tzinfo

    Raises
    ------
    ScatterError
        For a name that is not a known zone, an offset beyond 14 hours, or another type.

    Examples
    --------
    >>> parse_timezone("UTC+5:30")
    datetime.timezone(datetime.timedelta(seconds=19800))
    >>> parse_timezone("Europe/Berlin")
    zoneinfo.ZoneInfo(key='Europe/Berlin')
    """
    if timezone is None:
        return _UTC
    if isinstance(timezone, dt.tzinfo):
        return timezone
    expected = ("an IANA time-zone name such as 'Europe/Berlin', 'UTC', or a fixed offset "
                "such as '+02:00' or 'UTC-5'")
    if not isinstance(timezone, str):
        raise ScatterError(f"timezone must be {expected}; got {timezone!r}")
    text = timezone.strip()
    if text.upper() in ("UTC", "Z", "GMT"):
        return _UTC
    m = _OFFSET.match(text)
    if m:
        sign, hours, minutes = m.group(1), int(m.group(2)), int(m.group(3) or 0)
        if hours > 14 or minutes > 59 or hours * 60 + minutes > 14 * 60:
            raise ScatterError(f"timezone offset must lie within -14:00 and +14:00; "
                               f"got {timezone!r}")
        delta = dt.timedelta(hours=hours, minutes=minutes)
        return dt.timezone(-delta if sign == "-" else delta)
    try:
        return zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ScatterError(f"timezone must be {expected}; got {timezone!r}, which is not a "
                           f"known time zone") from None


def _clock(date, time, tz):
    """Aware datetime from ``YYYYMMDD`` and ``HHMMSS`` digits, or None if not a valid time."""
    try:
        return dt.datetime(int(date[:4]), int(date[4:6]), int(date[6:8]), int(time[:2]),
                           int(time[2:4]), int(time[4:6]), tzinfo=tz)
    except ValueError:
        return None


def _stem(path):
    from scatter.audio import AUDIO_EXTENSIONS

    name = os.path.basename(os.fsdecode(path))
    stem, ext = os.path.splitext(name)
    return stem if ext.lower() in AUDIO_EXTENSIONS else None


def start_from_name(path, *, timezone=None):
    """The start time a recorder wrote into the file name (see the module docstring).

    Parameters
    ----------
    path : str or os.PathLike
        File name or path (only the name is read; the file need not exist).
    timezone : str or datetime.tzinfo or None
        Zone of names that carry none (:func:`parse_timezone`; None: UTC).

    Returns
    -------
    RecordingStart or None
        None when the name is not one of the recorder patterns.

    Raises
    ------
    ScatterError
        For an invalid ``timezone``.

    Examples
    --------
    >>> start_from_name("5E90A4D4.WAV").time.isoformat()
    '2020-04-10T16:54:44+00:00'
    >>> start_from_name("notes.wav") is None
    True
    """
    tz = parse_timezone(timezone)
    stem = _stem(path)
    if stem is None:
        return None
    m = _AUDIOMOTH_NAME.match(stem)
    if m:
        t = _clock(m.group(1), m.group(2), tz)
        return None if t is None else RecordingStart(t, "audiomoth-name")
    if _HEX_NAME.match(stem):
        t = dt.datetime.fromtimestamp(int(stem, 16), _UTC)
        return RecordingStart(t, "audiomoth-hex-name") if t >= _EARLIEST_HEX else None
    m = _SONGMETER_NAME.match(stem)
    if m:
        t = _clock(m.group(2), m.group(4), tz)
        return None if t is None else RecordingStart(t, "songmeter-name")
    return None


def parse_audiomoth_comment(text):
    """The start time in an AudioMoth comment (``Recorded at HH:MM:SS DD/MM/YYYY (UTC±H)``).

    Parameters
    ----------
    text : str
        The comment.

    Returns
    -------
    RecordingStart or None
        None when the text holds no such phrase or an invalid date.

    Examples
    --------
    >>> parse_audiomoth_comment("Recorded at 05:10:00 01/06/2021 (UTC+1) by AudioMoth "
    ...                         "24A04F085FDF2793 at medium gain").time.isoformat()
    '2021-06-01T05:10:00+01:00'
    """
    m = _COMMENT.search(text or "")
    if not m:
        return None
    hh, mm, ss, day, month, year = (int(g) for g in m.groups()[:6])
    offset = dt.timedelta(hours=int(m.group(8) or 0), minutes=int(m.group(9) or 0))
    if offset > dt.timedelta(hours=14):
        return None
    tz = dt.timezone(-offset if m.group(7) == "-" else offset)
    try:
        return RecordingStart(dt.datetime(year, month, day, hh, mm, ss, tzinfo=tz),
                              "audiomoth-comment")
    except ValueError:
        return None


def parse_guano_timestamp(text, *, timezone=None):
    """The ``Timestamp`` field of GUANO metadata (``Key: value`` lines).

    Parameters
    ----------
    text : str
        The GUANO text.
    timezone : str or datetime.tzinfo or None
        Zone of a timestamp without UTC offset (:func:`parse_timezone`; None: UTC).

    Returns
    -------
    RecordingStart or None

    Raises
    ------
    ScatterError
        For an invalid ``timezone``.

    Examples
    --------
    >>> parse_guano_timestamp("GUANO|Version: 1.0\\nTimestamp: 2019-04-01T06:30:00-07:00\\n"
    ...                       ).time.isoformat()
    '2019-04-01T06:30:00-07:00'
    """
    tz = parse_timezone(timezone)
    for line in (text or "").splitlines():
        key, _, value = line.partition(":")
        if key.strip() != "Timestamp":
            continue
        try:
            t = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return RecordingStart(t if t.tzinfo is not None else t.replace(tzinfo=tz), "guano")
    return None


def _text(data):
    data = data.split(b"\x00", 1)[0]
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError:
        return data.decode("latin-1").strip()


def read_wav_info(path):
    """Text metadata of a WAV file: the ``LIST``/``INFO`` entries and the ``guan`` chunk.

    Only chunk headers and metadata chunks are read (the audio is skipped over), so this
    costs the same for a 10-second and a 10-hour file.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    dict of str to str
        INFO entries by their four-letter id (``"ICMT"`` comment, ``"IART"`` artist, ...)
        and ``"guan"`` for GUANO text; empty for a file that is not RIFF/WAVE.

    Raises
    ------
    ScatterError
        If the file cannot be opened.
    """
    return _read_riff(path) or {}


def _read_riff(path):
    """:func:`read_wav_info`, or None for a file that is not RIFF/WAVE."""
    path = os.fsdecode(path)
    out = {}
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise ScatterError(f"{path!r}: cannot read ({exc.strerror})") from exc
    with fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64", b"BW64") \
                or head[8:12] != b"WAVE":
            return None
        pos = 12
        while True:
            fh.seek(pos)
            header = fh.read(8)
            if len(header) < 8:
                break
            cid, size = header[:4], int.from_bytes(header[4:], "little")
            if size == 0xFFFFFFFF:
                break  # an RF64 size kept elsewhere (ds64): no metadata is sought past it
            if cid in (b"LIST", b"guan") and size <= _MAX_METADATA:
                body = fh.read(size)
                if cid == b"guan":
                    out["guan"] = _text(body)
                elif body[:4] == b"INFO":
                    i = 4
                    while i + 8 <= len(body):
                        sub, n = body[i:i + 4], int.from_bytes(body[i + 4:i + 8], "little")
                        out.setdefault(sub.decode("latin-1"), _text(body[i + 8:i + 8 + n]))
                        i += 8 + n + (n & 1)
            pos += 8 + size + (size & 1)
    return out


def _soundfile_comment(path):
    import soundfile as sf

    try:
        with sf.SoundFile(path) as f:
            return f.comment or ""
    except Exception:  # not decodable, no metadata: no comment
        return ""


def recording_start(path, *, timezone=None, metadata=True):
    """When the recording in ``path`` started, from its metadata or its name.

    Parameters
    ----------
    path : str or os.PathLike
        The audio file.
    timezone : str or datetime.tzinfo or None
        Zone of names and timestamps that carry none (:func:`parse_timezone`; None: UTC,
        AudioMoth's default).
    metadata : bool
        Read the AudioMoth comment and GUANO timestamp (module docstring); False: the name
        only (the file is not opened).

    Returns
    -------
    RecordingStart or None
        None when neither the metadata nor the name gives a time (or the file cannot be read
        and its name gives none).

    Raises
    ------
    ScatterError
        For an invalid ``timezone``.

    Examples
    --------
    >>> start = recording_start("site1/20190721_192255.WAV", timezone="UTC")  # doctest: +SKIP
    >>> format_start_time(start)                                            # doctest: +SKIP
    '2019-07-21T19:22:55+00:00'
    """
    tz = parse_timezone(timezone)
    if metadata:
        try:
            info = _read_riff(path)
        except ScatterError:  # unreadable: the name may still tell
            info = {}
        if info is None:  # not a WAV: FLAC and others keep the comment as a tag
            info = {"ICMT": _soundfile_comment(os.fsdecode(path))}
        start = parse_audiomoth_comment(info.get("ICMT", ""))
        if start is None and "guan" in info:
            start = parse_guano_timestamp(info["guan"], timezone=tz)
        if start is not None:
            return start
    return start_from_name(path, timezone=tz)


def format_start_time(start):
    """The ``start_time`` text of a results row: ISO 8601 with the UTC offset, or ``""``.

    Parameters
    ----------
    start : RecordingStart or datetime.datetime or None
        A timezone-aware time, or None when unknown.

    Returns
    -------
    str

    Raises
    ------
    ScatterError
        For a naive datetime (its zone would be a guess).

    Examples
    --------
    >>> import datetime as dt
    >>> format_start_time(dt.datetime(2024, 6, 1, 5, 0, tzinfo=dt.timezone.utc))
    '2024-06-01T05:00:00+00:00'
    >>> format_start_time(None)
    ''
    """
    if start is None:
        return ""
    t = start.time if isinstance(start, RecordingStart) else start
    if not isinstance(t, dt.datetime) or t.utcoffset() is None:
        raise ScatterError(f"start must be a timezone-aware datetime, a RecordingStart or "
                           f"None; got {start!r}")
    return t.isoformat(timespec="microseconds" if t.microsecond else "seconds")
