"""Synthetic backgrounds and bird-like vocalisations for the development corpus.

Helper of ``build_dev_corpus.py`` (NumPy and SciPy only). Every generator takes a NumPy
``Generator`` first and keyword-only ``n`` (samples) and ``sr`` (Hz), and returns float32 audio
normalised to unit RMS (the caller sets the level), so a seed fixes the output exactly.

Backgrounds (:data:`BACKGROUNDS`, never contain a bird):

- ``pink`` / ``brown``: noise with a 1/f or 1/f^2 power spectrum above 20 Hz (shaped in the FFT
  domain);
- ``rain``: band-limited hiss with slow flutter plus a Poisson stream of droplet impacts (short
  decaying noise bursts, each through its own band-pass);
- ``wind``: low-passed brown noise whose level follows slow gusts (exponentiated low-pass noise);
- ``traffic``: a low rumble plus passing vehicles (engine harmonic series at 25-120 Hz, rising and
  falling in level and slightly in pitch as each passes);
- ``insects``: either cricket-like chirps (a 3-8 kHz carrier gated by pulse trains grouped into
  chirps) or a bee-like buzz (a 120-600 Hz sawtooth with amplitude wobble);
- ``babble``: several synthetic talkers, each a glottal pulse train (jittered f0 90-260 Hz)
  through syllable-wise formant resonators, with syllabic (about 4 Hz) envelopes.

Vocalisations (:data:`VOCALISATIONS`, bird-like positives) return ``(audio, segments)`` with the
note onsets/offsets in seconds:

- ``whistle``: one to three tonal notes at 1.5-8 kHz, swept up or down, or with vibrato;
- ``trill``: a fast series (8-25 per s) of short frequency-modulated notes;
- ``stack``: harmonic stacks (fundamental 300-1500 Hz, 3-10 harmonics with spectral tilt), the
  calls of crows, ducks, gulls;
- ``chirp``: a series of short, fast frequency sweeps (10-60 ms, 2-9.5 kHz) at 2-15 per second;
- ``quack``: nasal calls: a harmonic series (fundamental 200-700 Hz) through two or three
  formant resonances with a breathy noise part, repeated one to six times (ducks, geese,
  corvids);
- ``coo``: low hoots (300-900 Hz) with weak harmonics and soft envelopes (doves, owls);
- ``rattle``: a rapid train (10-40 per s) of short harmonic or noisy pulses (chatter, gobbles);
- ``screech``: a harsh, noisy harmonic call with a jittering fundamental of 0.7-3 kHz (gulls,
  jays, parrots);
- ``song``: a phrase of two to six elements of the kinds above, or a motif of two to four
  elements repeated two to four times (syllable structure).
"""

from __future__ import annotations

import numpy as np
from scipy import signal

__all__ = ["BACKGROUNDS", "VOCALISATIONS", "background", "vocalisation"]

BACKGROUNDS = ("pink", "brown", "rain", "wind", "traffic", "insects", "babble")
VOCALISATIONS = ("whistle", "trill", "stack", "chirp", "quack", "coo", "rattle", "screech",
                 "song")


def _unit(x):
    x = np.asarray(x, dtype=np.float64)
    rms = float(np.sqrt(np.mean(np.square(x)))) if x.size else 0.0
    return (x / rms if rms > 0 else x).astype(np.float32)


def _colored(rng, n, sr, exponent, f_low=20.0):
    """Noise with power spectrum ~ 1/f**exponent above ``f_low`` Hz (nothing below)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / sr)
    keep = f >= f_low
    spec[keep] *= f[keep] ** (-exponent / 2.0)
    spec[~keep] = 0.0
    return np.fft.irfft(spec, n)


def _lowpass_noise(rng, n, sr, cutoff):
    """A smooth random curve: white noise low-passed at ``cutoff`` Hz (zero phase)."""
    sos = signal.butter(2, min(cutoff / (sr / 2), 0.99), btype="low", output="sos")
    y = signal.sosfiltfilt(sos, rng.standard_normal(n))
    return y / (np.std(y) + 1e-12)


def _band(x, sr, lo, hi, order=4):
    nyq = sr / 2
    lo, hi = max(lo, 1.0) / nyq, min(hi, 0.95 * nyq) / nyq
    if hi <= lo:
        return np.zeros_like(x)
    return signal.sosfilt(signal.butter(order, [lo, hi], btype="band", output="sos"), x)


def _pink(rng, n, sr):
    return _colored(rng, n, sr, 1.0)


def _brown(rng, n, sr):
    return _colored(rng, n, sr, 2.0)


def _rain(rng, n, sr):
    hiss = _band(rng.standard_normal(n), sr, rng.uniform(600, 1500), rng.uniform(6000, 10000))
    hiss *= np.exp(0.3 * _lowpass_noise(rng, n, sr, 2.0))
    drops = np.zeros(n)
    rate = rng.uniform(20, 300)  # impacts per second
    n_drops = rng.poisson(rate * n / sr)
    length = max(8, int(0.02 * sr))
    t = np.arange(length) / sr
    for _ in range(n_drops):
        at = int(rng.integers(0, max(1, n - length)))
        decay = np.exp(-t / rng.uniform(0.001, 0.006))
        burst = rng.standard_normal(length) * decay * rng.lognormal(0.0, 0.8)
        drops[at:at + length] += burst[: n - at]
    drops = _band(drops, sr, rng.uniform(800, 2500), rng.uniform(5000, 11000))
    mix = rng.uniform(0.3, 1.5)
    return _unit(hiss) + mix * _unit(drops)


def _wind(rng, n, sr):
    base = _colored(rng, n, sr, 2.0)
    sos = signal.butter(2, min(rng.uniform(150, 900) / (sr / 2), 0.99), output="sos")
    base = signal.sosfilt(sos, base)
    gust = np.exp(rng.uniform(0.4, 1.0) * _lowpass_noise(rng, n, sr, rng.uniform(0.1, 0.8)))
    return _unit(base) * gust


def _traffic(rng, n, sr):
    t = np.arange(n) / sr
    out = 0.5 * _unit(_band(_colored(rng, n, sr, 2.0), sr, 20, rng.uniform(150, 400), order=2))
    for _ in range(int(rng.integers(1, 5))):
        centre = rng.uniform(-0.2, 1.2) * n / sr
        width = rng.uniform(1.0, 4.0)
        env = np.exp(-0.5 * ((t - centre) / width) ** 2)
        f0 = rng.uniform(25, 120) * (1 + 0.03 * np.tanh((centre - t) / width))  # Doppler-ish
        phase = 2 * np.pi * np.cumsum(f0) / sr
        tone = sum(rng.uniform(0.2, 1.0) / k * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
                   for k in range(1, 9))
        road = _band(rng.standard_normal(n), sr, 200, rng.uniform(1500, 4000))
        out = out + env * (_unit(tone) + rng.uniform(0.3, 1.0) * _unit(road))
    return out


def _insects(rng, n, sr):
    t = np.arange(n) / sr
    if rng.random() < 0.5:  # cricket chirps
        carrier = np.sin(2 * np.pi * rng.uniform(3000, min(8000, 0.4 * sr)) * t)
        pulse_rate = rng.uniform(20, 60)
        pulses = (np.sin(2 * np.pi * pulse_rate * t) > rng.uniform(-0.2, 0.5)).astype(float)
        chirp_rate = rng.uniform(1.0, 5.0)
        duty = rng.uniform(0.3, 1.0)
        chirps = ((t * chirp_rate) % 1.0 < duty).astype(float)
        env = signal.sosfiltfilt(signal.butter(2, min(400 / (sr / 2), 0.99), output="sos"),
                                 pulses * chirps)
        return carrier * env
    f0 = rng.uniform(120, 600) * (1 + 0.02 * _lowpass_noise(rng, n, sr, 3.0))
    saw = 2.0 * ((np.cumsum(f0) / sr) % 1.0) - 1.0
    wobble = 1 + 0.4 * _lowpass_noise(rng, n, sr, rng.uniform(2, 10))
    return _band(saw, sr, 100, 6000, order=2) * np.clip(wobble, 0.1, None)


def _formant_filter(x, sr, freqs, bw=120.0):
    y = x
    for f in freqs:
        if f >= 0.45 * sr:
            continue
        r = np.exp(-np.pi * bw / sr)
        theta = 2 * np.pi * f / sr
        y = signal.lfilter([1 - r], [1, -2 * r * np.cos(theta), r * r], y)
    return y


def _talker(rng, n, sr):
    out = np.zeros(n)
    at = int(rng.integers(0, int(0.3 * sr)))
    f0_base = rng.uniform(90, 260)
    while at < n:
        dur = int(rng.uniform(0.12, 0.35) * sr)
        seg = min(dur, n - at)
        f0 = f0_base * (1 + 0.1 * rng.standard_normal()) * np.linspace(1.0, rng.uniform(0.85, 1.15),
                                                                         seg)
        phase = np.cumsum(f0) / sr
        pulses = np.diff(np.floor(phase), prepend=0.0)
        formants = (rng.uniform(300, 900), rng.uniform(900, 2400), rng.uniform(2400, 3300))
        voiced = _formant_filter(pulses, sr, formants)
        env = np.hanning(seg) if seg > 2 else np.ones(seg)
        out[at:at + seg] += voiced * env
        at += seg + int(rng.exponential(0.08) * sr)
        if rng.random() < 0.12:
            at += int(rng.uniform(0.2, 0.8) * sr)  # a pause between phrases
    return out


def _babble(rng, n, sr):
    return sum(_unit(_talker(rng, n, sr)) for _ in range(int(rng.integers(3, 9))))


_BACKGROUND_FUNCS = {"pink": _pink, "brown": _brown, "rain": _rain, "wind": _wind,
                     "traffic": _traffic, "insects": _insects, "babble": _babble}


def background(rng, kind, *, n, sr):
    """A synthetic background of ``n`` samples at ``sr`` Hz, unit RMS.

    Parameters
    ----------
    rng : numpy.random.Generator
    kind : str
        One of :data:`BACKGROUNDS`.
    n : int
        Number of samples (positive).
    sr : int
        Sample rate (Hz), at least 8000.

    Returns
    -------
    numpy.ndarray [shape=(n,)]
        float32, unit RMS.

    Raises
    ------
    ValueError
        If ``kind`` is unknown, ``n`` is not positive or ``sr`` is below 8000.

    Examples
    --------
    >>> x = background(np.random.default_rng(0), "rain", n=22050, sr=22050)
    >>> x.shape, round(float(np.sqrt(np.mean(x ** 2))), 3)
    ((22050,), 1.0)
    """
    if kind not in _BACKGROUND_FUNCS:
        raise ValueError(f"kind must be one of {BACKGROUNDS}; got {kind!r}")
    _check_n_sr(n, sr)
    return _unit(_BACKGROUND_FUNCS[kind](rng, int(n), int(sr)))


def _check_n_sr(n, sr):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
        raise ValueError(f"n must be a positive number of samples; got {n!r}")
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr < 8000:
        raise ValueError(f"sr must be an integer sample rate of at least 8000 Hz; got {sr!r}")


# ---------------------------------------------------------------------------------------------
# vocalisations: each note function returns a float array (one note) at sr


def _envelope(m, rng):
    attack = max(1, int(m * rng.uniform(0.05, 0.3)))
    release = max(1, int(m * rng.uniform(0.1, 0.5)))
    env = np.ones(m)
    env[:attack] = np.sin(0.5 * np.pi * np.arange(attack) / attack) ** 2
    env[m - release:] *= np.cos(0.5 * np.pi * np.arange(release) / release) ** 2
    return env


def _fmax(sr):
    return min(8000.0, 0.42 * sr)


def _whistle_note(rng, sr, dur):
    m = max(8, int(dur * sr))
    t = np.arange(m) / sr
    lo, hi = 1500.0, _fmax(sr)
    f_start = rng.uniform(lo, hi)
    style = rng.integers(0, 3)
    if style == 0:  # sweep
        f_end = np.clip(f_start * rng.uniform(0.5, 2.0), lo * 0.8, hi)
        f = f_start * (f_end / f_start) ** (t / t[-1] if t[-1] > 0 else t)
    elif style == 1:  # vibrato
        f = f_start + rng.uniform(50, 500) * np.sin(2 * np.pi * rng.uniform(5, 30) * t)
    else:  # up-down arch
        f = f_start * (1 + rng.uniform(-0.3, 0.3) * np.sin(np.pi * t / max(t[-1], 1e-9)))
    f = np.clip(f, 300.0, 0.45 * sr)
    phase = 2 * np.pi * np.cumsum(f) / sr
    x = np.sin(phase)
    if rng.random() < 0.5:
        second = 2 * f < 0.45 * sr
        x = x + rng.uniform(0.05, 0.3) * np.sin(2 * phase) * second
    return x * _envelope(m, rng)


def _trill_note(rng, sr, dur, f_centre, sweep):
    m = max(8, int(dur * sr))
    t = np.arange(m) / sr
    f = np.clip(f_centre * (1 + sweep * (0.5 - t / max(t[-1], 1e-9))), 300.0, 0.45 * sr)
    return np.sin(2 * np.pi * np.cumsum(f) / sr) * np.hanning(m)


def _stack_note(rng, sr, dur):
    m = max(8, int(dur * sr))
    t = np.arange(m) / sr
    f0 = rng.uniform(300, 1500) * (1 + rng.uniform(-0.15, 0.15) * t / max(t[-1], 1e-9))
    f0 = f0 * (1 + 0.01 * np.sin(2 * np.pi * rng.uniform(3, 12) * t))
    phase = 2 * np.pi * np.cumsum(f0) / sr
    tilt = rng.uniform(0.5, 2.0)
    x = np.zeros(m)
    for k in range(1, int(rng.integers(3, 11)) + 1):
        x += (k ** -tilt) * np.sin(k * phase) * (k * f0 < 0.45 * sr)
    if rng.random() < 0.4:  # harsh, noisy calls (crows, gulls)
        x += rng.uniform(0.05, 0.4) * _band(rng.standard_normal(m), sr, 500, _fmax(sr)) * 3
    return x * _envelope(m, rng)


def _place(notes, sr, gaps):
    """Concatenate notes with gaps (s); return signal and segments."""
    parts, segs, at = [], [], 0
    for note, gap in zip(notes, gaps):
        segs.append((at / sr, (at + note.size) / sr))
        parts.append(note)
        g = int(gap * sr)
        parts.append(np.zeros(g))
        at += note.size + g
    return np.concatenate(parts[:-1]) if parts else np.zeros(0), segs


def _whistle(rng, sr):
    k = int(rng.integers(1, 4))
    notes = [_whistle_note(rng, sr, rng.uniform(0.08, 0.7)) for _ in range(k)]
    return _place(notes, sr, rng.uniform(0.05, 0.4, size=k))


def _trill(rng, sr):
    rate = rng.uniform(8, 25)
    count = int(rng.integers(5, 30))
    period = 1.0 / rate
    f_centre = rng.uniform(2000, _fmax(sr))
    sweep = rng.uniform(-0.6, 0.6)
    dur = period * rng.uniform(0.4, 0.8)
    notes = [_trill_note(rng, sr, dur, f_centre * (1 + 0.02 * rng.standard_normal()), sweep)
             for _ in range(count)]
    x, _ = _place(notes, sr, [period - dur] * count)
    return x, [(0.0, x.size / sr)]


def _stack(rng, sr):
    k = int(rng.integers(1, 4))
    notes = [_stack_note(rng, sr, rng.uniform(0.1, 0.6)) for _ in range(k)]
    return _place(notes, sr, rng.uniform(0.08, 0.5, size=k))


def _chirp(rng, sr):
    count = int(rng.integers(2, 13))
    period = 1.0 / rng.uniform(2.0, 15.0)
    f_hi = rng.uniform(3000.0, max(3001.0, min(9500.0, 0.44 * sr)))
    f_lo = f_hi * rng.uniform(0.3, 0.8)
    up = rng.random() < 0.3
    notes = []
    for _ in range(count):
        m = max(8, int(rng.uniform(0.01, min(0.06, 0.8 * period)) * sr))
        t = np.linspace(0.0, 1.0, m)
        a, b = (f_lo, f_hi) if up else (f_hi, f_lo)
        f = a * (b / a) ** (t ** rng.uniform(0.5, 2.0))
        notes.append(np.sin(2 * np.pi * np.cumsum(f) / sr) * np.hanning(m))
    gaps = [max(0.0, period - n.size / sr) for n in notes]
    return _place(notes, sr, gaps)


def _quack_note(rng, sr, dur, f0):
    m = max(8, int(dur * sr))
    t = np.arange(m) / sr
    f = f0 * (1 + rng.uniform(-0.2, 0.1) * t / max(t[-1], 1e-9))
    f = f * (1 + 0.02 * np.sin(2 * np.pi * rng.uniform(5, 20) * t))
    phase = 2 * np.pi * np.cumsum(f) / sr
    x = np.zeros(m)
    for k in range(1, 25):
        x += np.sin(k * phase + rng.uniform(0, 2 * np.pi)) * (k * f < 0.45 * sr) / k ** 0.5
    x = x / (np.std(x) + 1e-12) + rng.uniform(0.0, 0.6) * rng.standard_normal(m)
    formants = sorted(rng.uniform(700, min(4000, 0.4 * sr), size=int(rng.integers(2, 4))))
    x = _formant_filter(x, sr, formants, bw=rng.uniform(150, 500))
    return x * _envelope(m, rng)


def _quack(rng, sr):
    k = int(rng.integers(1, 7))
    f0 = rng.uniform(200, 700)
    notes = [_quack_note(rng, sr, rng.uniform(0.08, 0.35), f0 * rng.uniform(0.9, 1.1))
             for _ in range(k)]
    return _place(notes, sr, rng.uniform(0.05, 0.3, size=k))


def _coo_note(rng, sr, dur):
    m = max(8, int(dur * sr))
    t = np.arange(m) / sr
    f0 = rng.uniform(300, 900)
    f = f0 * (1 + rng.uniform(-0.15, 0.15) * np.sin(np.pi * t / max(t[-1], 1e-9)))
    phase = 2 * np.pi * np.cumsum(f) / sr
    x = np.sin(phase) + sum(rng.uniform(0.0, 0.25) * np.sin(k * phase) for k in (2, 3))
    env = np.sin(np.pi * np.arange(m) / m) ** rng.uniform(0.5, 2.0)
    return x * env


def _coo(rng, sr):
    k = int(rng.integers(1, 6))
    notes = [_coo_note(rng, sr, rng.uniform(0.15, 0.8)) for _ in range(k)]
    return _place(notes, sr, rng.uniform(0.1, 0.6, size=k))


def _rattle(rng, sr):
    rate = rng.uniform(10.0, 40.0)
    count = int(rng.integers(4, 40))
    period = 1.0 / rate
    f0 = rng.uniform(300, 2500)
    noisy = rng.uniform(0.0, 1.0)
    notes = []
    for _ in range(count):
        m = max(8, int(period * rng.uniform(0.3, 0.8) * sr))
        t = np.arange(m) / sr
        ff = f0 * rng.uniform(0.95, 1.05)
        x = sum(np.sin(2 * np.pi * k * ff * t) / k for k in range(1, 6) if k * ff < 0.45 * sr)
        x = (1 - noisy) * x + noisy * _band(rng.standard_normal(m), sr, 0.7 * ff, 4 * ff)
        notes.append(x * np.hanning(m))
    x, _ = _place(notes, sr, [period - n.size / sr for n in notes])
    return x, [(0.0, x.size / sr)]


def _screech_note(rng, sr, dur):
    m = max(8, int(dur * sr))
    t = np.arange(m) / sr
    f0 = rng.uniform(700, 3000) * (1 + rng.uniform(-0.3, 0.2) * t / max(t[-1], 1e-9))
    f0 = f0 * (1 + rng.uniform(0.01, 0.05) * _lowpass_noise(rng, m, sr, rng.uniform(20, 80)))
    phase = 2 * np.pi * np.cumsum(f0) / sr
    x = sum(np.sin(k * phase) / k for k in range(1, 8)) * (f0 < 0.2 * sr)
    x = x / (np.std(x) + 1e-12)
    x = x + rng.uniform(0.3, 1.5) * _band(rng.standard_normal(m), sr, 800, _fmax(sr))
    return x * _envelope(m, rng)


def _screech(rng, sr):
    k = int(rng.integers(1, 4))
    notes = [_screech_note(rng, sr, rng.uniform(0.15, 0.9)) for _ in range(k)]
    return _place(notes, sr, rng.uniform(0.1, 0.5, size=k))


_ELEMENTS = (_whistle, _trill, _stack, _chirp, _quack, _coo, _rattle, _screech)


def _song(rng, sr):
    if rng.random() < 0.5:  # a motif of 2-4 elements, repeated
        motif = [_ELEMENTS[int(rng.integers(len(_ELEMENTS)))](rng, sr)
                 for _ in range(int(rng.integers(2, 5)))]
        pieces = motif * int(rng.integers(2, 5))
    else:
        pieces = [_ELEMENTS[int(rng.integers(len(_ELEMENTS)))](rng, sr)
                  for _ in range(int(rng.integers(2, 7)))]
    parts, segs, at = [], [], 0.0
    for x, s in pieces:
        parts.append(x)
        segs.extend((a + at, b + at) for a, b in s)
        gap = rng.uniform(0.03, 0.3)
        parts.append(np.zeros(int(gap * sr)))
        at += x.size / sr + int(gap * sr) / sr
    return np.concatenate(parts[:-1]), segs


_VOCAL_FUNCS = {"whistle": _whistle, "trill": _trill, "stack": _stack, "chirp": _chirp,
                "quack": _quack, "coo": _coo, "rattle": _rattle, "screech": _screech,
                "song": _song}


def vocalisation(rng, kind, *, sr):
    """A synthetic bird-like vocalisation and its note segments.

    Parameters
    ----------
    rng : numpy.random.Generator
    kind : str
        One of :data:`VOCALISATIONS`.
    sr : int
        Sample rate (Hz), at least 8000.

    Returns
    -------
    audio : numpy.ndarray [shape=(m,)]
        float32, unit RMS over the notes.
    segments : numpy.ndarray [shape=(k, 2)]
        Note onsets/offsets in seconds, inside ``[0, m / sr]``.

    Raises
    ------
    ValueError
        If ``kind`` is unknown or ``sr`` is below 8000.

    Examples
    --------
    >>> x, segs = vocalisation(np.random.default_rng(1), "trill", sr=22050)
    >>> bool(segs[-1, 1] <= x.size / 22050)
    True
    """
    if kind not in _VOCAL_FUNCS:
        raise ValueError(f"kind must be one of {VOCALISATIONS}; got {kind!r}")
    _check_n_sr(1, sr)
    x, segs = _VOCAL_FUNCS[kind](rng, int(sr))
    segs = np.asarray(segs, dtype=np.float64).reshape(-1, 2)
    mask = np.zeros(x.size, dtype=bool)
    for a, b in segs:
        mask[int(a * sr):int(np.ceil(b * sr))] = True
    rms = float(np.sqrt(np.mean(np.square(x[mask])))) if mask.any() else 1.0
    return (x / max(rms, 1e-12)).astype(np.float32), segs
