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

__all__ = ["augment", "band_filter", "mix_background", "random_gain", "reverb", "speed_change",
           "time_shift"]


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
