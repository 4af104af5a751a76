"""Audio input for the detector: file discovery, streamed decoding, resampling and windowing.

A recording is never held in memory whole: :class:`AudioStream` decodes it with soundfile in
blocks, mixes it down to mono, resamples it with a streaming soxr resampler
(:class:`StreamResampler`) and :class:`Framer` cuts the blocks into fixed windows with overlap.
Memory is bounded by the block size and the window length, not by the file length, and the
result equals (to float tolerance, in practice exactly) reading the whole file with
``soundfile.read``, mixing with ``librosa.to_mono`` and resampling with
``librosa.resample(..., res_type="soxr_hq")``.

Example
-------
>>> from scatter.audio import AudioStream, Framer
>>> with AudioStream("clip.flac", sr=22050) as stream:  # doctest: +SKIP
...     framer = Framer(window=22050, hop=11025)
...     for block in stream:
...         for first, windows in framer.push(block):
...             ...                        # windows : (k, 22050) float32, index first..first+k-1
...     for first, windows in framer.finish():
...         ...                            # the last window: the file's last 22050 samples
"""

from __future__ import annotations

import dataclasses
import os
import stat

import numpy as np
import soundfile as sf

from scatter.errors import ScatterError, check_int
from scatter.framing import Framer, window_count  # re-exported: streams are framed with it

__all__ = [
    "AUDIO_EXTENSIONS",
    "AudioInfo",
    "AudioStream",
    "Framer",
    "StreamResampler",
    "audio_info",
    "check_readable",
    "find_audio",
    "load",
    "window_count",
]

#: File name endings (lower case) taken as audio when a folder is scanned.
AUDIO_EXTENSIONS = (".wav", ".wave", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff")

_DEFAULT_BLOCK_FRAMES = 1 << 17


# --------------------------------------------------------------------------------------------
# discovery


def _has_extension(name, extensions):
    return name.lower().endswith(extensions)


def _scan(folder, *, recursive, extensions, seen_dirs, found, ignored):
    """Append the audio files of ``folder`` (sorted by name) to ``found``; count the other
    regular files by extension in ``ignored`` (a dict, or None)."""
    try:
        real = os.path.realpath(folder)
        if real in seen_dirs:  # a symbolic link loop or a folder given twice
            return
        seen_dirs.add(real)
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        # An unreadable folder is reported as a path of its own, so the run gives it an error
        # row instead of silently losing the files inside.
        found.append(folder)
        return
    subfolders = []
    for entry in entries:
        path = os.path.join(folder, entry.name)
        try:
            is_dir = entry.is_dir()  # follows symbolic links
            is_file = entry.is_file()
            is_link = entry.is_symlink()
        except OSError:
            continue
        if is_dir:
            if recursive:
                subfolders.append(path)
        elif entry.name.startswith("._"):
            continue  # AppleDouble metadata copied from macOS volumes, never audio
        elif _has_extension(entry.name, extensions):
            broken_link = is_link and not os.path.exists(path)
            if is_file or broken_link:
                found.append(path)
        elif is_file and ignored is not None:
            ext = os.path.splitext(entry.name)[1].lower()
            ignored[ext] = ignored.get(ext, 0) + 1
    for sub in subfolders:
        _scan(sub, recursive=recursive, extensions=extensions, seen_dirs=seen_dirs, found=found,
              ignored=ignored)


def find_audio(paths, *, recursive=False, extensions=AUDIO_EXTENSIONS, ignored=None):
    """List the audio files named by ``paths``, in a stable order.

    A file named explicitly is listed whatever its extension (so a bad file gets an error row
    rather than vanishing); a broken symbolic link named explicitly is listed too. A folder
    contributes its regular files (symbolic links followed) whose name ends with one of
    ``extensions`` (case-insensitive), sorted by name; broken links with an audio extension are
    listed so that the run reports them. Other files (and ``._*`` AppleDouble files) are
    ignored. Subfolders are searched only with ``recursive=True``; links to folders are
    followed once (loops are cut). A folder that cannot be listed is itself listed, so its
    problem is reported per path. Paths are kept as given (joined with ``os.path.join``) and
    listed once each.

    Parameters
    ----------
    paths : str or os.PathLike or sequence of them
        Audio files and folders.
    recursive : bool
        Also search subfolders, at any depth.
    extensions : tuple of str
        Lower-case name endings taken as audio inside folders.
    ignored : dict or None
        If given, filled with the number of regular files of the searched folders that were
        not listed, by lower-case extension (``""`` for none), so that a caller can say what
        it skipped (``.m4a`` recordings, say, which soundfile cannot decode).

    Returns
    -------
    files : list of str
        Paths in argument order, each folder's files in sorted walk order.

    Raises
    ------
    ScatterError
        If a path does not exist at all (not even as a broken link), or ``paths`` is empty.

    Examples
    --------
    >>> find_audio(["recordings/"], recursive=True)  # doctest: +SKIP
    ['recordings/site1/0001.wav', 'recordings/site1/0002.flac', 'recordings/x.mp3']
    """
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    paths = [os.fsdecode(p) for p in paths]
    if not paths:
        raise ScatterError("paths must name at least one audio file or folder; got none")
    extensions = tuple(e.lower() for e in extensions)
    found, seen_dirs = [], set()
    for path in paths:
        if not os.path.lexists(path):
            raise ScatterError(
                f"paths: no such file or folder: {path!r}; expected existing audio files "
                "or folders"
            )
        if os.path.isdir(path):
            _scan(path, recursive=recursive, extensions=extensions, seen_dirs=seen_dirs,
                  found=found, ignored=ignored)
        else:
            found.append(path)
    unique, seen = [], set()
    for path in found:
        key = os.path.normpath(path)
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


# --------------------------------------------------------------------------------------------
# decoding


@dataclasses.dataclass(frozen=True)
class AudioInfo:
    """What the header of an audio file says.

    ``frames`` comes from the header and is not exact for every format (MP3 headers may be
    wrong, truncated files are shorter): :class:`AudioStream` counts the frames it decodes.
    """

    path: str
    sample_rate: int
    channels: int
    frames: int
    format: str
    subtype: str

    @property
    def duration_s(self):
        """Duration in seconds according to the header."""
        return self.frames / self.sample_rate


def check_readable(path):
    """Check that ``path`` is a readable, non-empty regular file before decoding it.

    Parameters
    ----------
    path : str or os.PathLike
        The file to check.

    Raises
    ------
    ScatterError
        With a message saying what is wrong: no such file, broken symbolic link, a folder,
        not a regular file (a pipe or device, which could block a reader), permission
        denied, or an empty file.

    Examples
    --------
    >>> check_readable("clip.wav")  # doctest: +SKIP
    """
    path = os.fsdecode(path)
    if not os.path.exists(path):
        if os.path.islink(path):
            target = os.readlink(path)
            raise ScatterError(f"{path!r}: broken symbolic link to {target!r}; expected audio")
        raise ScatterError(f"{path!r}: no such file; expected an audio file")
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ScatterError(f"{path!r}: cannot access the file ({exc.strerror})") from exc
    if stat.S_ISDIR(st.st_mode):
        raise ScatterError(f"{path!r}: is a folder, not an audio file")
    if not stat.S_ISREG(st.st_mode):
        raise ScatterError(f"{path!r}: not a regular file (a pipe, socket or device)")
    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except PermissionError as exc:
        raise ScatterError(f"{path!r}: permission denied; the file cannot be read") from exc
    except OSError as exc:
        raise ScatterError(f"{path!r}: cannot read the file ({exc.strerror})") from exc
    if st.st_size == 0:
        raise ScatterError(f"{path!r}: empty file (0 bytes); expected audio")


def _open_soundfile(path):
    check_readable(path)
    encoded = os.fsencode(path)  # bytes: names that are not valid UTF-8 open too
    try:
        return sf.SoundFile(encoded)
    except (sf.SoundFileError, RuntimeError, OSError) as exc:
        detail = str(exc).replace(f"Error opening {encoded!r}: ", "").rstrip(".")
        raise ScatterError(
            f"{path!r}: cannot decode audio ({detail}); expected WAV, FLAC, Ogg or MP3"
        ) from exc


def audio_info(path):
    """Read the header of an audio file.

    Parameters
    ----------
    path : str or os.PathLike
        An audio file soundfile can decode (WAV, FLAC, Ogg Vorbis/Opus, MP3, AIFF...).

    Returns
    -------
    info : AudioInfo

    Raises
    ------
    ScatterError
        If the file cannot be read or decoded (see :func:`check_readable`).

    Examples
    --------
    >>> audio_info("clip.flac").sample_rate  # doctest: +SKIP
    44100
    """
    path = os.fsdecode(path)
    with _open_soundfile(path) as f:
        return AudioInfo(path, int(f.samplerate), int(f.channels), int(f.frames), f.format,
                         f.subtype)


class StreamResampler:
    """Resample a signal given block by block, exactly as if it were resampled whole.

    Uses soxr's streaming resampler at the quality librosa calls ``"soxr_hq"``; the
    concatenated output equals ``librosa.resample(x, orig_sr=..., target_sr=...,
    res_type="soxr_hq")`` on the whole signal, including its length
    ``ceil(n * target_sr / orig_sr)`` (zero-padded or trimmed at the end, as librosa does).

    Parameters
    ----------
    orig_sr, target_sr : int
        Input and output sample rates in Hz.
    channels : int
        Channels per block; blocks are ``(n,)`` for 1, ``(channels, n)`` otherwise.
    quality : str
        soxr quality, one of ``"QQ", "LQ", "MQ", "HQ", "VHQ"``.

    Raises
    ------
    ScatterError
        For non-positive rates or channel counts, or a block given after the last one.

    Examples
    --------
    >>> import numpy as np
    >>> rs = StreamResampler(44100, 22050)
    >>> parts = [rs.process(np.zeros(1000, "float32")), rs.process(np.zeros(0, "float32"),
    ...                                                             last=True)]
    >>> sum(len(p) for p in parts)
    500
    """

    def __init__(self, orig_sr, target_sr, *, channels=1, quality="HQ"):
        import soxr  # imported here so that importing scatter stays light

        self.orig_sr = check_int(orig_sr, "orig_sr")
        self.target_sr = check_int(target_sr, "target_sr")
        self.channels = check_int(channels, "channels")
        self._stream = soxr.ResampleStream(self.orig_sr, self.target_sr, self.channels,
                                           dtype="float32", quality=quality)
        self.n_in = 0
        self.n_out = 0
        self._closed = False

    def process(self, x, *, last=False):
        """Resample one block.

        Parameters
        ----------
        x : numpy.ndarray [shape=(n,) or (channels, n)]
            The next block (float32; may be empty).
        last : bool
            True for the final block: flushes the resampler and fixes the total length.

        Returns
        -------
        y : numpy.ndarray [shape=(m,) or (channels, m)]
            float32 output; the lengths add up to ``ceil(n_total * target_sr / orig_sr)``.

        Raises
        ------
        ScatterError
            If called again after ``last=True`` or with the wrong number of channels.
        """
        if self._closed:
            raise ScatterError("StreamResampler.process: called after last=True; "
                               "create a new resampler for a new signal")
        x = np.asarray(x, dtype=np.float32)
        # (n,) for one channel; (channels, n) always, one channel included
        if not ((x.ndim == 1 and self.channels == 1)
                or (x.ndim == 2 and x.shape[0] == self.channels)):
            shape = "(n,) or (1, n)" if self.channels == 1 else f"({self.channels}, n)"
            raise ScatterError(f"x must have shape {shape} for channels={self.channels}; "
                               f"got shape {x.shape}")
        frames = np.ascontiguousarray(x.T)
        self.n_in += frames.shape[0]
        y = self._stream.resample_chunk(frames, last=last)
        if last:
            self._closed = True
            total = -(-self.n_in * self.target_sr // self.orig_sr)
            want = total - self.n_out
            if y.shape[0] > want:
                y = y[:max(want, 0)]
            elif y.shape[0] < want:
                pad = np.zeros((want - y.shape[0],) + y.shape[1:], dtype=np.float32)
                y = np.concatenate([y, pad])
        self.n_out += y.shape[0]
        return np.ascontiguousarray(y.T)


class AudioStream:
    """Decode an audio file block by block, optionally mixed to mono and resampled.

    Parameters
    ----------
    path : str or os.PathLike
        The audio file.
    sr : int or None
        Output sample rate in Hz; None keeps the file's rate.
    mono : bool
        Average the channels (as ``librosa.to_mono``) before resampling.
    block_frames : int
        Frames decoded per block (at the file's rate); memory use is proportional to it.
    check_finite : bool
        Raise :class:`ScatterError` on NaN or infinite samples (float WAV files can hold
        them) instead of passing them on.

    Attributes
    ----------
    info : AudioInfo
        The header.
    sr : int
        The output sample rate.
    frames_read : int
        Frames decoded so far, at the file's rate (exact, unlike ``info.frames``).
    samples_out : int
        Samples per channel yielded so far, at ``sr``.

    Yields
    ------
    block : numpy.ndarray [shape=(n,) if mono else (channels, n)]
        float32 samples in [-1, 1] for integer formats.

    Raises
    ------
    ScatterError
        When the file cannot be opened or decoded (also in the middle of it), or holds
        non-finite samples.

    Examples
    --------
    >>> with AudioStream("clip.wav", sr=22050) as s:  # doctest: +SKIP
    ...     n = sum(len(b) for b in s)
    """

    def __init__(self, path, *, sr=None, mono=True, block_frames=_DEFAULT_BLOCK_FRAMES,
                 check_finite=True):
        self.path = os.fsdecode(path)
        self.block_frames = check_int(block_frames, "block_frames")
        if sr is not None:
            sr = check_int(sr, "sr")
        self.mono = bool(mono)
        self.check_finite = bool(check_finite)
        self._file = _open_soundfile(self.path)
        f = self._file
        self.info = AudioInfo(self.path, int(f.samplerate), int(f.channels), int(f.frames),
                              f.format, f.subtype)
        self.sr = self.info.sample_rate if sr is None else sr
        self.frames_read = 0
        self.samples_out = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Close the file (also done at the end of iteration)."""
        self._file.close()

    @property
    def duration_s(self):
        """Duration decoded so far, in seconds."""
        return self.frames_read / self.info.sample_rate

    def _read(self):
        try:
            return self._file.read(self.block_frames, dtype="float32", always_2d=True)
        except (sf.SoundFileError, RuntimeError, OSError) as exc:
            raise ScatterError(
                f"{self.path!r}: cannot decode audio after {self.frames_read} frames ({exc})"
            ) from exc

    def __iter__(self):
        channels = self.info.channels
        out_channels = 1 if self.mono else channels
        resampler = None
        if self.sr != self.info.sample_rate:
            resampler = StreamResampler(self.info.sample_rate, self.sr, channels=out_channels)
        try:
            while True:
                data = self._read()
                if self.check_finite and not np.isfinite(data).all():
                    bad = int(np.argmin(np.isfinite(data).all(axis=1)))
                    raise ScatterError(
                        f"{self.path!r}: non-finite sample (NaN or infinity) at frame "
                        f"{self.frames_read + bad}; expected finite audio"
                    )
                self.frames_read += data.shape[0]
                last = data.shape[0] == 0
                if self.mono:
                    block = data[:, 0] if channels == 1 else data.mean(axis=1, dtype=np.float32)
                else:
                    block = np.ascontiguousarray(data.T)
                if resampler is not None:
                    block = resampler.process(block, last=last)
                if block.shape[-1]:
                    self.samples_out += block.shape[-1]
                    yield block
                if last:
                    return
        finally:
            self.close()


def load(path, *, sr=None, mono=True, block_frames=_DEFAULT_BLOCK_FRAMES):
    """Decode a whole file (through :class:`AudioStream`) into one array.

    Parameters
    ----------
    path : str or os.PathLike
        The audio file.
    sr : int or None
        Output sample rate; None keeps the file's.
    mono : bool
        Mix down to one channel.
    block_frames : int
        Decoding block size.

    Returns
    -------
    y : numpy.ndarray [shape=(n,) if mono else (channels, n)]
        float32 samples.
    sr : int
        Their sample rate.

    Raises
    ------
    ScatterError
        When the file cannot be decoded.

    Examples
    --------
    >>> y, sr = load("clip.ogg", sr=22050)  # doctest: +SKIP
    """
    with AudioStream(path, sr=sr, mono=mono, block_frames=block_frames) as stream:
        blocks = list(stream)
        channels = 1 if mono else stream.info.channels
        if not blocks:
            shape = (0,) if mono else (channels, 0)
            return np.zeros(shape, dtype=np.float32), stream.sr
        return np.concatenate(blocks, axis=-1), stream.sr
