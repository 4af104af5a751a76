"""Synthetic bird-like vocalisations and backgrounds, for the demo, tests and quick models.

Nothing here is a recording: every sound is generated from a seed.

- vocalisations: frequency-modulated whistles (a smooth sweep with vibrato), trills (trains of
  short notes), harmonic stacks (a few harmonics of a modulated fundamental) and songs (a
  sequence of these), in the 1-9 kHz range of most songbirds;
- backgrounds: white, pink (1/f) and brown (1/f^2) noise, rain (dense random drops), wind
  (slowly modulated low-frequency noise), engine hum (a low fundamental and its harmonics) and
  insects (a steady amplitude-modulated high buzz: a hard negative).

:func:`write_demo_clips` writes the few labelled clips ``scatter detect --demo`` runs on;
:func:`write_synthetic_corpus` writes a labelled corpus (``labels.csv``: ``path,label,split,
sources``) that ``scatter train`` reads.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> y = mix(background(rng, "pink", 22050, sr=22050), vocalisation(rng, "whistle", sr=22050),
...         snr_db=10.0, rng=rng)
>>> y.shape, y.dtype
((22050,), dtype('float32'))
"""

from __future__ import annotations

import csv
import os

import numpy as np

from scatter.errors import ScatterError, check_int

__all__ = ["BACKGROUNDS", "VOCALISATIONS", "background", "make_clip", "mix", "vocalisation",
           "write_demo_clips", "write_synthetic_corpus"]

VOCALISATIONS = ("whistle", "trill", "harmonic", "song")
BACKGROUNDS = ("white", "pink", "brown", "rain", "wind", "hum", "insects")


def _envelope(n, attack=0.15):
    """A smooth rise and fall over ``n`` samples."""
    t = np.linspace(0.0, 1.0, n)
    a = max(attack, 1e-3)
    return (np.clip(t / a, 0, 1) * np.clip((1 - t) / a, 0, 1)) ** 2


def _fm_tone(freq, sr, phase0=0.0):
    """A unit sine following the instantaneous frequency ``freq`` (Hz, per sample)."""
    return np.sin(phase0 + 2 * np.pi * np.cumsum(freq) / sr)


def _whistle(rng, sr, seconds):
    n = max(int(seconds * sr), 8)
    f0, f1 = rng.uniform(1500, 7000, size=2)
    t = np.arange(n) / sr
    vib = rng.uniform(0, 0.06) * np.sin(2 * np.pi * rng.uniform(5, 40) * t)
    freq = np.geomspace(f0, f1, n) * (1 + vib)
    return _fm_tone(freq, sr, rng.uniform(0, 2 * np.pi)) * _envelope(n)


def _trill(rng, sr, seconds):
    n = max(int(seconds * sr), 8)
    out = np.zeros(n)
    rate = rng.uniform(8, 25)
    note = min(rng.uniform(0.02, 0.06), 0.8 / rate)
    f_top, f_bottom = rng.uniform(3000, 8000), rng.uniform(1500, 4000)
    start = 0.0
    while start + note < seconds:
        m = int(note * sr)
        i = int(start * sr)
        freq = np.linspace(f_top, f_bottom, m) * rng.uniform(0.97, 1.03)
        out[i:i + m] += _fm_tone(freq, sr) * _envelope(m, 0.3)
        start += 1.0 / rate
    return out


def _harmonic(rng, sr, seconds):
    n = max(int(seconds * sr), 8)
    t = np.arange(n) / sr
    f0 = rng.uniform(600, 2500) * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(1, 8) * t))
    y = np.zeros(n)
    for k in range(1, int(rng.integers(2, 5)) + 1):
        fk = k * f0
        if fk.max() < 0.45 * sr:
            y += rng.uniform(0.2, 1.0) / k * _fm_tone(fk, sr, rng.uniform(0, 2 * np.pi))
    return y * _envelope(n)


def _song(rng, sr, seconds):
    n = max(int(seconds * sr), 8)
    out = np.zeros(n)
    i = 0
    while i < n:
        d = rng.uniform(0.1, 0.5)
        kind = ("whistle", "trill", "harmonic")[int(rng.integers(3))]
        part = vocalisation(rng, kind, sr=sr, seconds=d)
        out[i:i + part.size] += part[:n - i]
        i += part.size + int(rng.uniform(0.03, 0.2) * sr)
    return out


def vocalisation(rng, kind="whistle", *, sr, seconds=None):
    """One synthetic bird-like call, peak-normalised to 1.

    Parameters
    ----------
    rng : numpy.random.Generator
    kind : {"whistle", "trill", "harmonic", "song"}
    sr : int
        Sample rate (Hz), at least 16000 so the calls fit below Nyquist.
    seconds : float or None
        Duration; None draws one (0.2-0.8 s, songs 1-3 s).

    Returns
    -------
    numpy.ndarray [shape=(n,), dtype=float32]

    Raises
    ------
    ScatterError
        For an unknown ``kind`` or ``sr < 16000``.
    """
    if kind not in VOCALISATIONS:
        raise ScatterError(f"kind must be one of {VOCALISATIONS}; got {kind!r}")
    check_int(sr, "sr", 16000, unit="Hz")
    if seconds is None:
        seconds = rng.uniform(1.0, 3.0) if kind == "song" else rng.uniform(0.2, 0.8)
    y = {"whistle": _whistle, "trill": _trill, "harmonic": _harmonic,
         "song": _song}[kind](rng, sr, seconds)
    peak = np.max(np.abs(y))
    return (y / peak if peak > 0 else y).astype(np.float32)


def _coloured(rng, n, exponent):
    """Noise with power spectrum ``1 / f**exponent``, unit RMS."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(spec.size, dtype=np.float64)
    f[0] = 1.0
    y = np.fft.irfft(spec / f ** (exponent / 2), n)
    return y / (np.std(y) + 1e-12)


def background(rng, kind, n, *, sr):
    """``n`` samples of a synthetic background at unit RMS.

    Parameters
    ----------
    rng : numpy.random.Generator
    kind : {"white", "pink", "brown", "rain", "wind", "hum", "insects"}
    n : int
        Length in samples (> 0).
    sr : int
        Sample rate (Hz).

    Returns
    -------
    numpy.ndarray [shape=(n,), dtype=float32]

    Raises
    ------
    ScatterError
        For an unknown ``kind`` or a non-positive ``n``.
    """
    if kind not in BACKGROUNDS:
        raise ScatterError(f"kind must be one of {BACKGROUNDS}; got {kind!r}")
    check_int(n, "n")
    t = np.arange(n) / sr
    if kind == "white":
        y = rng.standard_normal(n)
    elif kind == "pink":
        y = _coloured(rng, n, 1.0)
    elif kind == "brown":
        y = _coloured(rng, n, 2.0)
    elif kind == "rain":
        drops = (rng.random(n) < rng.uniform(0.002, 0.02)) * rng.standard_normal(n)
        kernel = np.exp(-np.arange(int(0.004 * sr)) / (0.0008 * sr))
        y = np.convolve(drops, kernel)[:n] + 0.3 * _coloured(rng, n, 0.5)
    elif kind == "wind":
        gust = 1 + 0.8 * np.sin(2 * np.pi * rng.uniform(0.1, 0.5) * t + rng.uniform(0, 6))
        y = _coloured(rng, n, 2.0) * gust
    elif kind == "hum":
        f0 = rng.uniform(40, 120)
        y = sum(np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 6)) / k for k in range(1, 8))
        y = y + 0.2 * _coloured(rng, n, 1.0)
    else:  # insects: a steady buzz, amplitude-modulated at a high rate
        fc = rng.uniform(3000, 8000)
        am = 0.5 * (1 + np.sin(2 * np.pi * rng.uniform(30, 200) * t))
        y = am * np.sin(2 * np.pi * fc * t) + 0.1 * rng.standard_normal(n)
    y = np.asarray(y, dtype=np.float64)
    return (y / (np.std(y) + 1e-12)).astype(np.float32)


def mix(noise, call, *, snr_db, rng, at=None):
    """Add ``call`` into ``noise`` at a signal-to-noise ratio, and scale to a safe level.

    The SNR is the power of the call over its own duration to the power of the noise.

    Parameters
    ----------
    noise : numpy.ndarray [shape=(n,)]
    call : numpy.ndarray [shape=(m,)]
        Placed at sample ``at`` (None: random), cut at the end of ``noise``.
    snr_db : float
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray [shape=(n,), dtype=float32]
        Peak at most 0.9.
    """
    y = np.array(noise, dtype=np.float64)
    call = np.asarray(call, dtype=np.float64)
    n, m = y.size, min(call.size, y.size)
    start = int(rng.integers(0, n - m + 1)) if at is None else int(at)
    m = min(m, n - start)
    p_call = np.mean(call[:m] ** 2) + 1e-12
    p_noise = np.mean(y**2) + 1e-12
    y[start:start + m] += call[:m] * np.sqrt(p_noise / p_call * 10 ** (snr_db / 10))
    peak = np.max(np.abs(y))
    return (y * (0.9 / peak if peak > 0.9 else 1.0)).astype(np.float32)


def make_clip(rng, *, sr, seconds, bird, snr_db=None, background_kind=None, level_db=None):
    """One labelled synthetic clip: a background, plus one to three calls when ``bird``.

    Parameters
    ----------
    rng : numpy.random.Generator
    sr : int
    seconds : float
    bird : bool
    snr_db : float or None
        SNR of each call; None draws one in [-5, 20] dB.
    background_kind : str or None
        One of :data:`BACKGROUNDS`; None draws one.
    level_db : float or None
        Background RMS in dBFS; None draws one in [-50, -20].

    Returns
    -------
    numpy.ndarray [shape=(round(seconds * sr),), dtype=float32]

    Raises
    ------
    ScatterError
        As :func:`background` and :func:`vocalisation`.
    """
    n = int(round(seconds * sr))
    kind = background_kind or BACKGROUNDS[int(rng.integers(len(BACKGROUNDS)))]
    level = rng.uniform(-50, -20) if level_db is None else level_db
    y = background(rng, kind, n, sr=sr) * 10 ** (level / 20)
    if bird:
        for _ in range(int(rng.integers(1, 4))):
            call = vocalisation(rng, VOCALISATIONS[int(rng.integers(len(VOCALISATIONS)))],
                                sr=sr)
            y = mix(y, call, snr_db=rng.uniform(-5, 20) if snr_db is None else snr_db,
                    rng=rng)
    return np.asarray(y, dtype=np.float32)


def _write(path, y, sr):
    import soundfile as sf

    sf.write(path, y, sr, subtype="PCM_16")


def write_demo_clips(folder, *, sr=22050, seconds=8.0, seed=0):
    """Write the demo clips: three with bird-like calls, three without.

    Parameters
    ----------
    folder : str or os.PathLike
        An existing folder.
    sr : int
    seconds : float
    seed : int

    Returns
    -------
    list of (str, int)
        ``(path, label)`` of each clip (1: bird-like calls present).

    Raises
    ------
    ScatterError
        If ``folder`` does not exist.

    Examples
    --------
    >>> import tempfile
    >>> clips = write_demo_clips(tempfile.mkdtemp(), seconds=3.0)
    >>> sorted(label for _, label in clips)
    [0, 0, 0, 1, 1, 1]
    """
    folder = os.fsdecode(folder)
    if not os.path.isdir(folder):
        raise ScatterError(f"folder {folder!r} does not exist")
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sr))
    plan = [("whistles_in_pink_noise", "pink", ["whistle", "whistle"], 12.0),
            ("trill_in_rain", "rain", ["trill"], 10.0),
            ("song_in_wind", "wind", ["song"], 8.0),
            ("pink_noise", "pink", [], 0.0),
            ("rain", "rain", [], 0.0),
            ("engine_hum", "hum", [], 0.0)]
    out = []
    for name, bg, calls, snr in plan:
        y = background(rng, bg, n, sr=sr) * 10 ** (-35 / 20)
        for kind in calls:
            y = mix(y, vocalisation(rng, kind, sr=sr), snr_db=snr, rng=rng)
        label = int(bool(calls))
        path = os.path.join(folder, f"{'bird' if label else 'nobird'}_{name}.wav")
        _write(path, y, sr)
        out.append((path, label))
    return out


def write_synthetic_corpus(folder, *, n_clips=200, seconds=5.0, sr=22050, seed=0,
                           val_fraction=0.25):
    """Write a labelled synthetic corpus that ``scatter train`` reads.

    Half the clips hold bird-like calls. Each clip is its own source recording (all
    synthetic); the last ``val_fraction`` of the clips form the validation split.

    Parameters
    ----------
    folder : str or os.PathLike
        Created if missing.
    n_clips : int
    seconds : float
    sr : int
    seed : int
    val_fraction : float

    Returns
    -------
    str
        Path of ``labels.csv`` (columns ``path,label,split,sources``; paths relative to
        ``folder``).

    Raises
    ------
    ScatterError
        For ``n_clips < 4`` or ``val_fraction`` outside (0, 1).
    """
    check_int(n_clips, "n_clips", 4)
    if not 0 < val_fraction < 1:
        raise ScatterError(f"val_fraction must be in (0, 1); got {val_fraction!r}")
    folder = os.fsdecode(folder)
    os.makedirs(os.path.join(folder, "clips"), exist_ok=True)
    n_val = max(2, int(round(n_clips * val_fraction)))
    rows = []
    for i in range(n_clips):
        rng = np.random.default_rng([seed, i])
        bird = i % 2 == 0
        y = make_clip(rng, sr=sr, seconds=seconds, bird=bird)
        rel = os.path.join("clips", f"synth_{i:05d}.wav")
        _write(os.path.join(folder, rel), y, sr)
        rows.append({"path": rel, "label": int(bird),
                     "split": "val" if i >= n_clips - n_val else "train",
                     "sources": f"synthetic:{seed}:{i}"})
    from scatter.outputs import atomic_open

    labels = os.path.join(folder, "labels.csv")
    with atomic_open(labels) as fh:
        w = csv.DictWriter(fh, fieldnames=["path", "label", "split", "sources"],
                           lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return labels
