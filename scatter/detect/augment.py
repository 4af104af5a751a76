"""Augmentations of field audio for training the detector (NumPy, seeded).

Each is a function ``(y, rng, ...) -> y'`` on a mono float32 signal at ``sr`` that keeps the
length and the label:

- :func:`random_gain`: a gain in dB (the features are gain-invariant by design; this checks it
  and covers clipping-free level changes);
- :func:`time_shift`: a circular shift (a call moves within the clip);
- :func:`mix_background`: adds another clip without birds (or coloured noise) at a random SNR;
- :func:`speed_change`: resampling by a factor near 1 (a small pitch and time stretch together,
  as a slightly faster or slower bird), cropped or zero-padded to the length;
- :func:`band_filter`: a random high-pass or low-pass Butterworth filter (microphones, distance,
  vegetation);
- :func:`reverb`: convolution with a synthetic room or forest impulse response (exponentially
  decaying noise, reverberation time 0.1-1.2 s) mixed with the dry signal.

:func:`augment` draws a random combination.

Apart from that chain, :func:`warp` shifts the pitch and stretches the tempo independently
(a phase vocoder and a resampling, in one pass; :func:`pitch_shift` and :func:`time_stretch`
do one of the two): other carrier frequencies and pulse rates of the same sounds, for birds
and for the insects and frogs that resemble them. The trainer applies it to augmented copies
when :class:`scatter.detect.training.TrainConfig` asks for it (``pitch_shift``,
``time_stretch``; off by default).

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> y = np.random.default_rng(1).standard_normal(22050).astype("float32") * 0.1
>>> augment(y, rng, sr=22050).shape
(22050,)
"""

from __future__ import annotations

import numpy as np
from scipy import signal as sps

from scatter.detect.synth import background
from scatter.errors import ScatterError

__all__ = ["augment", "band_filter", "check_warp", "mix_background", "pitch_shift", "random_gain",
           "reverb", "speed_change", "time_shift", "time_stretch", "warp"]

#: STFT size and hop of the phase vocoder of :func:`warp` (11.6 ms and 2.9 ms at 22.05 kHz).
#: A phase vocoder moves whole frames: modulations faster than about one period per frame
#: keep their rate, so the frame is short enough that pulse trains up to about 20-40 per
#: second follow the stretch, while a bin (86 Hz) stays narrow against bird carriers.
WARP_N_FFT, WARP_HOP = 256, 64


def _as_signal(y):
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1 or y.size == 0:
        raise ScatterError(f"y must be a non-empty 1-D signal; got shape {y.shape}")
    return y


def random_gain(y, rng, *, low_db=-12.0, high_db=6.0):
    """Multiply by a gain drawn uniformly in ``[low_db, high_db]`` dB; peak kept <= 1."""
    y = _as_signal(y)
    g = 10 ** (rng.uniform(low_db, high_db) / 20)
    out = y * g
    peak = np.max(np.abs(out))
    return (out / peak if peak > 1 else out).astype(np.float32)


def time_shift(y, rng):
    """Roll by a uniformly drawn number of samples."""
    y = _as_signal(y)
    return np.roll(y, int(rng.integers(0, y.size))).astype(np.float32)


def mix_background(y, rng, *, noise=None, snr_db=(0.0, 20.0), sr=22050):
    """Add ``noise`` (or a synthetic background) so that the clip-to-noise ratio is in range.

    Parameters
    ----------
    y : numpy.ndarray [shape=(n,)]
    rng : numpy.random.Generator
    noise : numpy.ndarray [shape=(m,)] or None
        A clip without birds, tiled or cut to ``n``; None: pink, brown, rain or wind noise.
    snr_db : (float, float)
        Range of the ratio of the power of ``y`` to that of the added noise.
    sr : int

    Returns
    -------
    numpy.ndarray [shape=(n,), dtype=float32]
    """
    y = _as_signal(y)
    n = y.size
    if noise is None or np.asarray(noise).size == 0:
        kind = ("pink", "brown", "rain", "wind")[int(rng.integers(4))]
        noise = background(rng, kind, n, sr=sr)
    noise = np.asarray(noise, dtype=np.float64)
    noise = np.tile(noise, int(np.ceil(n / noise.size)))
    start = int(rng.integers(0, noise.size - n + 1))
    noise = noise[start:start + n]
    p_y, p_n = np.mean(y.astype(np.float64) ** 2), np.mean(noise**2)
    if p_n <= 0:
        return y
    if p_y <= 0:
        p_y = 1e-6
    scale = np.sqrt(p_y / p_n / 10 ** (rng.uniform(*snr_db) / 10))
    out = y + scale * noise
    peak = np.max(np.abs(out))
    return (out / peak if peak > 1 else out).astype(np.float32)


def speed_change(y, rng, *, max_change=0.06):
    """Resample by a factor in ``[1 - max_change, 1 + max_change]`` (pitch and tempo together).

    The result is cut or zero-padded to the input length.
    """
    y = _as_signal(y)
    factor = 1 + rng.uniform(-max_change, max_change)
    up = 200
    down = max(1, int(round(up * factor)))
    out = sps.resample_poly(y, up, down)
    if out.size >= y.size:
        out = out[:y.size]
    else:
        out = np.pad(out, (0, y.size - out.size))
    return out.astype(np.float32)


def band_filter(y, rng, *, sr=22050):
    """A 4th-order Butterworth high-pass (100-1000 Hz) or low-pass (4-10 kHz, below Nyquist)."""
    y = _as_signal(y)
    nyq = sr / 2
    if rng.random() < 0.5:
        sos = sps.butter(4, rng.uniform(100, 1000) / nyq, btype="highpass", output="sos")
    else:
        cut = min(rng.uniform(4000, 10000), 0.9 * nyq)
        sos = sps.butter(4, cut / nyq, btype="lowpass", output="sos")
    return sps.sosfilt(sos, y).astype(np.float32)


def reverb(y, rng, *, sr=22050, rt60=(0.1, 1.2), wet=(0.2, 0.8)):
    """Add reverberation: ``(1 - w) y + w (h * y)`` with a random exponential-decay response.

    The impulse response ``h`` is white noise under the envelope ``10 ** (-3 t / rt60)``
    (60 dB of decay in ``rt60`` seconds; Schroeder's statistical model of a diffuse late
    reverberation), normalised to unit energy, so the wet part keeps the signal's power on
    average. The output keeps the length (the tail past the end is cut).

    Parameters
    ----------
    y : numpy.ndarray [shape=(n,)]
    rng : numpy.random.Generator
    sr : int
    rt60 : (float, float)
        Range of the reverberation time (s).
    wet : (float, float)
        Range of the wet share ``w``.

    Returns
    -------
    numpy.ndarray [shape=(n,), dtype=float32]

    Raises
    ------
    ScatterError
        For an empty or multi-dimensional ``y``.

    Examples
    --------
    >>> y = np.zeros(22050, "float32"); y[0] = 1.0
    >>> out = reverb(y, np.random.default_rng(0))
    >>> out.shape, bool(np.abs(out[2000:]).max() > 0)
    ((22050,), True)
    """
    y = _as_signal(y)
    t60 = rng.uniform(*rt60)
    m = max(2, int(t60 * sr))
    t = np.arange(m) / sr
    h = rng.standard_normal(m) * 10.0 ** (-3.0 * t / t60)
    h /= np.sqrt(np.sum(h**2))
    w = rng.uniform(*wet)
    out = (1 - w) * y + w * sps.fftconvolve(y.astype(np.float64), h)[:y.size]
    peak = np.max(np.abs(out))
    return (out / peak if peak > 1 else out).astype(np.float32)


def check_warp(max_semitones, max_stretch, *, names=("max_semitones", "max_stretch")):
    """Check the ranges of :func:`warp`.

    Parameters
    ----------
    max_semitones, max_stretch : float
        Largest pitch shift (``[0, 12)`` semitones) and relative tempo change (``[0, 1)``).
    names : (str, str)
        How the caller names the two, in the error message.

    Returns
    -------
    (float, float)

    Raises
    ------
    ScatterError
        For a value that is not a number in its interval.

    Examples
    --------
    >>> check_warp(2, 0.1)
    (2.0, 0.1)
    """
    out = []
    for value, name, upper in zip((max_semitones, max_stretch), names, (12, 1)):
        if not (isinstance(value, (int, float)) and not isinstance(value, bool)
                and np.isfinite(value) and 0 <= value < upper):
            raise ScatterError(f"{name} must be a number in [0, {upper:g}) (0: off); got "
                               f"{value!r}")
        out.append(float(value))
    return tuple(out)


def _warped(y, *, sr, semitones, rate):
    """``y`` with its frequencies times ``2 ** (semitones / 12)`` and its tempo times ``rate``
    (events ``1 / rate`` times as long), cut or continued circularly to ``y``'s length."""
    import librosa

    factor = 2.0 ** (semitones / 12.0)
    if (factor == 1.0 and rate == 1.0) or y.size < 2 * WARP_N_FFT:
        return y
    # stretch to n * factor / rate samples, then read them as sampled at sr * factor
    out = librosa.effects.time_stretch(y, rate=rate / factor, n_fft=WARP_N_FFT,
                                       hop_length=WARP_HOP)
    if factor != 1.0:
        out = librosa.resample(out, orig_sr=sr * factor, target_sr=sr, res_type="soxr_hq")
    out = out[:y.size] if out.size >= y.size else np.pad(out, (0, y.size - out.size),
                                                         mode="wrap")
    peak = np.max(np.abs(out))
    return (out / peak if peak > 1 else out).astype(np.float32)


def warp(y, rng, *, sr=22050, max_semitones=0.0, max_stretch=0.0):
    """Shift the pitch and stretch the tempo by independently drawn amounts, in one pass.

    The shift is drawn uniformly in ``[-max_semitones, max_semitones]`` semitones, the tempo
    factor log-uniformly in ``[1 / (1 + max_stretch), 1 + max_stretch]``; a range of 0 draws
    nothing and leaves that property as it is. A phase vocoder (STFT of
    :data:`WARP_N_FFT` samples, hop :data:`WARP_HOP`; :func:`librosa.effects.time_stretch`)
    changes the length by ``shift / tempo``, and a resampling (soxr) by the shift's inverse
    moves every frequency by the shift. A longer result is cut, a shorter one continued
    circularly from its start (no digital silence), to the input's length; the peak is kept
    <= 1. Signals shorter than two STFT frames are returned as they are.

    Parameters
    ----------
    y : numpy.ndarray [shape=(n,)]
    rng : numpy.random.Generator
    sr : int
        Sample rate (Hz).
    max_semitones : float
        Largest pitch shift, in ``[0, 12)`` semitones.
    max_stretch : float
        Largest relative tempo change, in ``[0, 1)``.

    Returns
    -------
    numpy.ndarray [shape=(n,), dtype=float32]

    Raises
    ------
    ScatterError
        For an empty or multi-dimensional ``y`` or a range outside its interval.

    Examples
    --------
    >>> t = np.arange(22050) / 22050
    >>> y = (0.3 * np.sin(2 * np.pi * 2000 * t)).astype("float32")
    >>> out = warp(y, np.random.default_rng(0), max_semitones=2.0, max_stretch=0.1)
    >>> out.shape, out.dtype
    ((22050,), dtype('float32'))
    """
    y = _as_signal(y)
    max_semitones, max_stretch = check_warp(max_semitones, max_stretch)
    semitones = rng.uniform(-max_semitones, max_semitones) if max_semitones else 0.0
    rate = float(np.exp(rng.uniform(-1, 1) * np.log1p(max_stretch))) if max_stretch else 1.0
    return _warped(y, sr=sr, semitones=float(semitones), rate=rate)


def pitch_shift(y, rng, *, sr=22050, max_semitones=2.0):
    """Shift every frequency by a number of semitones drawn uniformly in
    ``[-max_semitones, max_semitones]``, keeping the tempo and the length (:func:`warp`
    without a stretch).

    Parameters
    ----------
    y : numpy.ndarray [shape=(n,)]
    rng : numpy.random.Generator
    sr : int
    max_semitones : float
        In ``[0, 12)``.

    Returns
    -------
    numpy.ndarray [shape=(n,), dtype=float32]

    Raises
    ------
    ScatterError
        For an empty or multi-dimensional ``y`` or ``max_semitones`` outside ``[0, 12)``.
    """
    return warp(y, rng, sr=sr, max_semitones=max_semitones)


def time_stretch(y, rng, *, max_change=0.15):
    """Play faster or slower by a factor drawn log-uniformly in
    ``[1 / (1 + max_change), 1 + max_change]``, keeping the pitch (:func:`warp` without a
    shift); the result is cut or continued circularly to the input's length.

    Parameters
    ----------
    y : numpy.ndarray [shape=(n,)]
    rng : numpy.random.Generator
    max_change : float
        In ``[0, 1)``.

    Returns
    -------
    numpy.ndarray [shape=(n,), dtype=float32]

    Raises
    ------
    ScatterError
        For an empty or multi-dimensional ``y`` or ``max_change`` outside ``[0, 1)``.
    """
    return warp(y, rng, max_stretch=max_change)


def augment(y, rng, *, sr=22050, noises=(), p=0.5):
    """A random chain of the augmentations, each applied with probability ``p``.

    Parameters
    ----------
    y : numpy.ndarray [shape=(n,)]
    rng : numpy.random.Generator
    sr : int
    noises : sequence of numpy.ndarray
        Clips without birds to mix in (one drawn at random); empty: synthetic noise.
    p : float

    Returns
    -------
    numpy.ndarray [shape=(n,), dtype=float32]

    Raises
    ------
    ScatterError
        For an empty or multi-dimensional ``y``.
    """
    y = _as_signal(y)
    if rng.random() < p:
        y = speed_change(y, rng)
    if rng.random() < p:
        y = time_shift(y, rng)
    if rng.random() < p:
        noise = noises[int(rng.integers(len(noises)))] if len(noises) else None
        y = mix_background(y, rng, noise=noise, sr=sr)
    if rng.random() < p:
        y = band_filter(y, rng, sr=sr)
    if rng.random() < p / 2:
        y = reverb(y, rng, sr=sr)
    if rng.random() < p:
        y = random_gain(y, rng)
    return y
