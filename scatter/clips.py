"""Review clips: short WAV files of a file's highest-scoring detections, to listen through.

For each audio file, :func:`write_clips` takes the merged detections (``(begin_s, end_s,
score)`` from :func:`scatter.outputs.merge_detections`), keeps the ``top`` highest-scoring
(ties: the earlier first), and cuts each from the *source file* at its native sample rate and
channels, padded by ``pad_s`` on each side (cut at the start and end of the file). Only the
frames of each clip are read (a seek, then one read), never the whole recording. The clip
keeps the source's sample format when WAV can hold it (16/24/32-bit PCM, float), else 16-bit
PCM (MP3, Ogg Vorbis).

Clips of a file sit together under :func:`clip_prefixes` (the audio folders mirrored, as for
the Raven tables), named ``<stem>_<begin>s_<score>.wav`` with the detection's unpadded begin in
seconds and its score, three decimals each (``20190721_192255_123.450s_0.912.wav``), the stem
made file-system safe (:func:`scatter.outputs.safe_name`). Each clip is written atomically;
writing a file's clips first removes the clips an earlier run left for the same stem, so a
file scored again (a resumed run retrying an error) never keeps stale clips. A resumed run
leaves the clips of files it does not score again as they are.

Example
-------
>>> prefixes = clip_prefixes(paths, "clips")                              # doctest: +SKIP
>>> write_clips("rec/a.wav", selections, prefix=prefixes["rec/a.wav"])    # doctest: +SKIP
['clips/a_12.400s_0.981.wav', 'clips/a_3.000s_0.870.wav']
"""

from __future__ import annotations

import math
import os
import re

from scatter.errors import ScatterError, check_int
from scatter.outputs import atomic_open, output_paths, safe_name

__all__ = ["clip_name", "clip_prefixes", "remove_clips", "top_selections", "write_clips"]

_FALLBACK_SUBTYPE = "PCM_16"


def clip_prefixes(paths, folder):
    """Where each audio file's clips go: ``<folder>/<mirrored folders>/<stem>`` (a prefix: the
    clips are named ``<prefix>_<begin>s_<score>.wav``).

    Parameters
    ----------
    paths : sequence of str
        The run's audio files.
    folder : str or os.PathLike

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> clip_prefixes(["rec/a.wav", "rec/s/b.flac"], "clips")
    {'rec/a.wav': 'clips/a', 'rec/s/b.flac': 'clips/s/b'}
    """
    return output_paths(paths, folder, suffix="")


def clip_name(stem, begin_s, score):
    """A clip's file name: ``<safe stem>_<begin>s_<score>.wav`` (three decimals each).

    Examples
    --------
    >>> clip_name("20190721_192255", 123.45, 0.91234)
    '20190721_192255_123.450s_0.912.wav'
    """
    return f"{safe_name(stem)}_{begin_s:.3f}s_{score:.3f}.wav"


def _clip_pattern(stem, *, channels=False):
    """Clip names of ``stem`` (and, with ``channels``, of its channels ``<stem>.ch<k>``)."""
    tail = r"(\.ch\d+)?" if channels else ""
    return re.compile(re.escape(safe_name(stem)) + tail + r"_\d+\.\d{3}s_-?\d+\.\d{3}\.wav")


def remove_clips(prefix):
    """Delete the clips of an audio file: those of ``prefix`` and of its channels scored one
    by one (``<prefix>.ch2_...``), as a file that now fails to decode must not keep the clips
    of an earlier run.

    Parameters
    ----------
    prefix : str or os.PathLike
        The file's clip prefix (:func:`clip_prefixes`).

    Returns
    -------
    list of str
        The clips deleted.
    """
    folder, stem = os.path.split(os.fsdecode(prefix))
    folder = folder or "."
    pattern = _clip_pattern(stem, channels=True)
    try:
        names = os.listdir(folder)
    except OSError:  # no folder: no clips
        return []
    removed = []
    for name in names:
        if pattern.fullmatch(name):
            os.unlink(os.path.join(folder, name))
            removed.append(os.path.join(folder, name))
    return removed


def top_selections(selections, top):
    """The ``top`` highest-scoring selections, best first (ties: the earlier first).

    Parameters
    ----------
    selections : sequence of (float, float, float)
        ``(begin_s, end_s, score)``.
    top : int
        How many (at least 0).

    Returns
    -------
    list of (float, float, float)

    Raises
    ------
    ScatterError
        For a negative or non-integer ``top``.

    Examples
    --------
    >>> top_selections([(0, 1, 0.6), (2, 3, 0.9), (4, 5, 0.6)], 2)
    [(2, 3, 0.9), (0, 1, 0.6)]
    """
    top = check_int(top, "top", 0)
    return sorted(selections, key=lambda s: (-float(s[2]), float(s[0])))[:top]


def write_clips(audio_path, selections, *, prefix, top=10, pad_s=0.5):
    """Write WAV clips of the ``top`` best detections of one file (module docstring).

    Parameters
    ----------
    audio_path : str or os.PathLike
        The source recording.
    selections : sequence of (float, float, float)
        ``(begin_s, end_s, score)`` in seconds from the start of the file.
    prefix : str or os.PathLike
        The file's clip prefix (:func:`clip_prefixes`); its folder is created.
    top : int
        Clips per file at most.
    pad_s : float
        Seconds added before and after each detection (within the file).

    Returns
    -------
    paths : list of str
        The clips written, best first.

    Raises
    ------
    ScatterError
        For invalid options or selections, or a source that cannot be read.
    """
    import soundfile as sf

    if not (isinstance(pad_s, (int, float)) and math.isfinite(pad_s) and pad_s >= 0):
        raise ScatterError(f"pad_s must be a number of seconds >= 0; got {pad_s!r}")
    checked = []
    for sel in selections:
        try:
            begin, end, score = (float(v) for v in sel)
        except (TypeError, ValueError):
            raise ScatterError(f"selections must be (begin_s, end_s, score) triples; got "
                               f"{sel!r}") from None
        if not (0 <= begin <= end and math.isfinite(end) and math.isfinite(score)):
            raise ScatterError(f"selections must hold finite times with 0 <= begin_s <= "
                               f"end_s and a finite score; got {sel!r}")
        checked.append((begin, end, score))
    chosen = top_selections(checked, top)
    prefix = os.fsdecode(prefix)
    folder, stem = os.path.split(prefix)
    folder = folder or "."
    os.makedirs(folder, exist_ok=True)
    stale = _clip_pattern(stem)
    for name in os.listdir(folder):
        if stale.fullmatch(name):
            os.unlink(os.path.join(folder, name))
    if not chosen:
        return []
    audio_path = os.fsdecode(audio_path)
    written = []
    try:
        with sf.SoundFile(audio_path) as src:
            sr, frames = src.samplerate, src.frames
            subtype = src.subtype if sf.check_format("WAV", src.subtype) else _FALLBACK_SUBTYPE
            for begin, end, score in chosen:
                first = max(0, math.floor((begin - pad_s) * sr))
                last = min(frames, math.ceil((end + pad_s) * sr))
                src.seek(min(first, frames))
                data = src.read(max(last - first, 0), dtype="float64", always_2d=True)
                path = os.path.join(folder, clip_name(stem, begin, score))
                with atomic_open(path, "wb") as fh:
                    sf.write(fh, data, sr, format="WAV", subtype=subtype)
                written.append(path)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise ScatterError(f"{audio_path!r}: cannot cut clips ({exc})") from exc
    return written
