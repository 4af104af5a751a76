"""Synthetic non-bird sound events (hard negatives) for the development corpus.

Helper of ``build_dev_corpus.py`` (NumPy and SciPy only). The real non-bird recordings of the
package are few in some kinds (one frog, a handful of engines and instruments), so negatives also
get synthetic events that share some acoustic trait with bird calls (tonal, modulated, pulsed)
but come from machines, instruments or frogs. They are kept a minority of the non-bird events
(see ``CorpusConfig.synthetic_distractor_prob``) so that the detector does not learn "tonal means
not a bird": most tonal sounds it sees are still birds.

Every generator takes a NumPy ``Generator`` first and keyword-only ``sr`` (Hz) and returns
``(audio, segments)``: float32 audio with unit RMS over its segments and the segments' onsets and
offsets in seconds (the same contract as ``dev_corpus_synth.vocalisation``).

Kinds (:data:`DISTRACTORS`):

- ``siren``: a slow periodic frequency sweep (0.2-2 sweeps per s) between 450 and 1800 Hz, with
  a few harmonics, lasting 1.5-4 s;
- ``beep``: electronic beeps: one to six steady pure tones of 0.5-4 kHz with abrupt edges;
- ``note``: instrument notes on the equal-tempered scale (110-1760 Hz), piano-like (decaying
  harmonics) or organ-like (steady), two to six in a row;
- ``engine``: a harmonic series on a 20-150 Hz firing rate with slow speed changes, plus
  broadband noise;
- ``croak``: frog-like croaks: trains of low pulses (fundamental 80-400 Hz, 20-100 pulses per
  second), one to five croaks.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DISTRACTORS", "distractor"]

DISTRACTORS = ("siren", "beep", "note", "engine", "croak")


def _adsr(m, sr, attack_s, release_s):
    env = np.ones(m)
    a = min(m // 2, max(1, int(attack_s * sr)))
    r = min(m // 2, max(1, int(release_s * sr)))
    env[:a] = np.linspace(0.0, 1.0, a)
    env[m - r:] *= np.linspace(1.0, 0.0, r)
    return env


def _siren(rng, sr):
    m = int(rng.uniform(1.5, 4.0) * sr)
    t = np.arange(m) / sr
    lo = rng.uniform(450, 900)
    hi = lo * rng.uniform(1.3, 2.0)
    rate = rng.uniform(0.2, 2.0)
    if rng.random() < 0.5:
        sweep = 0.5 - 0.5 * np.cos(2 * np.pi * rate * t)
    else:
        sweep = (t * rate) % 1.0
    f = lo + (hi - lo) * sweep
    phase = 2 * np.pi * np.cumsum(f) / sr
    x = sum(rng.uniform(0.2, 1.0) / k * np.sin(k * phase) * (k * hi < 0.45 * sr)
            for k in range(1, 5))
    return x * _adsr(m, sr, 0.1, 0.2), [(0.0, m / sr)]


def _beep(rng, sr):
    notes, gaps = [], []
    f = rng.uniform(500, min(4000, 0.4 * sr))
    for _ in range(int(rng.integers(1, 7))):
        m = int(rng.uniform(0.08, 0.5) * sr)
        t = np.arange(m) / sr
        notes.append(np.sin(2 * np.pi * f * t) * _adsr(m, sr, 0.002, 0.002))
        gaps.append(rng.uniform(0.05, 0.4))
    return _join(notes, gaps, sr)


def _note(rng, sr):
    notes, gaps = [], []
    piano = rng.random() < 0.5
    for _ in range(int(rng.integers(2, 7))):
        f0 = 110.0 * 2 ** (int(rng.integers(0, 49)) / 12)
        m = int(rng.uniform(0.2, 1.0) * sr)
        t = np.arange(m) / sr
        x = np.zeros(m)
        for k in range(1, 13):
            if k * f0 >= 0.45 * sr:
                break
            amp = rng.uniform(0.3, 1.0) / k
            decay = np.exp(-t * k * rng.uniform(1.0, 4.0)) if piano else 1.0
            x += amp * decay * np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 2 * np.pi))
        notes.append(x * _adsr(m, sr, 0.005 if piano else 0.03, 0.03))
        gaps.append(rng.uniform(0.0, 0.2))
    return _join(notes, gaps, sr)


def _engine(rng, sr):
    m = int(rng.uniform(1.0, 4.0) * sr)
    t = np.arange(m) / sr
    f0 = rng.uniform(20, 150) * (1 + rng.uniform(-0.3, 0.3) * t / t[-1])
    phase = 2 * np.pi * np.cumsum(f0) / sr
    x = sum(rng.uniform(0.2, 1.0) / k ** 0.7 * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
            for k in range(1, 30))
    x = x / (np.std(x) + 1e-12) + rng.uniform(0.1, 0.8) * rng.standard_normal(m)
    return x * _adsr(m, sr, 0.2, 0.3), [(0.0, m / sr)]


def _croak(rng, sr):
    notes, gaps = [], []
    f0 = rng.uniform(80, 400)
    rate = rng.uniform(20, 100)
    for _ in range(int(rng.integers(1, 6))):
        m = int(rng.uniform(0.15, 0.8) * sr)
        t = np.arange(m) / sr
        carrier = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 12)
                      if k * f0 < 0.45 * sr)
        pulses = np.maximum(np.sin(2 * np.pi * rate * t), 0.0) ** rng.uniform(1.0, 6.0)
        notes.append(carrier * pulses * _adsr(m, sr, 0.01, 0.03))
        gaps.append(rng.uniform(0.1, 0.6))
    return _join(notes, gaps, sr)


def _join(notes, gaps, sr):
    parts, segs, at = [], [], 0
    for note, gap in zip(notes, gaps):
        segs.append((at / sr, (at + note.size) / sr))
        parts.append(note)
        g = int(gap * sr)
        parts.append(np.zeros(g))
        at += note.size + g
    return np.concatenate(parts[:-1]), segs


_FUNCS = {"siren": _siren, "beep": _beep, "note": _note, "engine": _engine, "croak": _croak}


def distractor(rng, kind, *, sr):
    """A synthetic non-bird sound event and its segments.

    Parameters
    ----------
    rng : numpy.random.Generator
    kind : str
        One of :data:`DISTRACTORS`.
    sr : int
        Sample rate (Hz), at least 8000.

    Returns
    -------
    audio : numpy.ndarray [shape=(m,)]
        float32, unit RMS over the segments, zero between them.
    segments : numpy.ndarray [shape=(k, 2)]
        Onsets/offsets in seconds, inside ``[0, m / sr]``.

    Raises
    ------
    ValueError
        If ``kind`` is unknown or ``sr`` is not an integer of at least 8000.

    Examples
    --------
    >>> x, segs = distractor(np.random.default_rng(0), "siren", sr=16000)
    >>> segs.shape, bool(segs[-1, 1] <= x.size / 16000)
    ((1, 2), True)
    """
    if kind not in _FUNCS:
        raise ValueError(f"kind must be one of {DISTRACTORS}; got {kind!r}")
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr < 8000:
        raise ValueError(f"sr must be an integer sample rate of at least 8000 Hz; got {sr!r}")
    x, segs = _FUNCS[kind](rng, int(sr))
    x = np.asarray(x, dtype=np.float64)
    segs = np.asarray(segs, dtype=np.float64).reshape(-1, 2)
    mask = np.zeros(x.size, dtype=bool)
    for a, b in segs:
        mask[int(a * sr):int(np.ceil(b * sr))] = True
    rms = float(np.sqrt(np.mean(np.square(x[mask])))) if mask.any() else 1.0
    return (x / max(rms, 1e-12)).astype(np.float32), segs
