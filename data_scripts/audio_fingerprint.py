"""A short audio fingerprint: the same recording under another name, rate, gain or format.

Games reuse each other's sounds, re-encoded (WAV to Ogg), resampled (44.1 to 22.05 kHz) or
turned down, so a byte hash finds few of the copies. The fingerprint here is a coarse
band-energy-difference hash (after Haitsma and Kalker's), at a fixed rate and band layout that
every copy shares:

1. mono, resampled to :data:`FP_SR` (8 kHz: every source keeps its 0-4 kHz band, including the
   11.025 kHz files), peak-normalised;
2. frames of 64 ms every 32 ms (Hann window), energies in :data:`N_BANDS` + 1 log-spaced bands
   from 250 Hz to 3.8 kHz;
3. one bit per band pair and frame: the sign of the change over time of the difference between
   adjacent bands' log energies. A gain cancels in the differences; resampling and lossy coding
   move few signs.

Two fingerprints match when, at the best offset within ±2 frames (a resampler's delay), their
bits differ in at most :data:`MAX_BIT_ERROR` of the frames where either has sound (frames more
than 50 dB under the recording's loudest are left out: two different clips with long digital
silences must not match on their silences), over at least :data:`MIN_FRAMES` such frames, and
their durations agree within 3 %. Different recordings differ in about half of their bits.

NumPy, with soxr (librosa's resampler) for the resampling and soundfile for decoding; the
grouping of matches is :class:`scatter.disjoint_sets.DisjointSets` (importing it loads JAX).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from scatter.disjoint_sets import DisjointSets

__all__ = [
    "FP_SR",
    "Fingerprint",
    "MAX_BIT_ERROR",
    "MIN_FRAMES",
    "N_BANDS",
    "bit_error",
    "fingerprint",
    "fingerprint_file",
    "group_duplicates",
]

FP_SR = 8000
N_BANDS = 16
FRAME = 512
HOP = 256
MAX_BIT_ERROR = 0.2
MIN_FRAMES = 4
_FLOOR_DB = 50.0
_MAX_SHIFT = 2
_DURATION_TOL = 0.03


@dataclasses.dataclass(frozen=True)
class Fingerprint:
    """Bits of a recording (``bits`` [shape=(n_frames - 1, N_BANDS)], bool), which frames have
    sound (``active`` [shape=(n_frames - 1,)], bool) and its duration in seconds."""

    bits: np.ndarray
    active: np.ndarray
    duration: float


def _band_edges():
    edges_hz = np.geomspace(250.0, 3800.0, N_BANDS + 2)
    return np.round(edges_hz * FRAME / FP_SR).astype(int)


def fingerprint(x, *, sr: int) -> Fingerprint:
    """The fingerprint of a mono signal.

    Parameters
    ----------
    x : array_like [shape=(n,)]
        Samples (any scale).
    sr : int
        Its sample rate (Hz); resampled to :data:`FP_SR` when different.

    Returns
    -------
    Fingerprint

    Raises
    ------
    ValueError
        If ``x`` is not one-dimensional or ``sr`` is not a positive integer.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"x must be a one-dimensional (mono) signal; got shape {x.shape}")
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ValueError(f"sr must be a positive integer sample rate in Hz; got {sr!r}")
    duration = x.size / sr
    if sr != FP_SR and x.size:
        import soxr

        x = soxr.resample(x, sr, FP_SR, quality="HQ")
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if x.size < FRAME + 2 * HOP or peak == 0.0:
        empty = np.zeros((0, N_BANDS), bool)
        return Fingerprint(empty, np.zeros(0, bool), duration)
    x = x / peak
    n = 1 + (x.size - FRAME) // HOP
    idx = np.arange(FRAME)[None, :] + HOP * np.arange(n)[:, None]
    spec = np.abs(np.fft.rfft(x[idx] * np.hanning(FRAME), axis=1)) ** 2
    edges = _band_edges()
    bands = np.stack([spec[:, a:max(b, a + 1)].sum(1) for a, b in zip(edges[:-1], edges[1:])], 1)
    energy = bands.sum(1)
    log_e = np.log10(bands + 1e-12)
    diff = log_e[:, 1:] - log_e[:, :-1]
    bits = (diff[1:] - diff[:-1]) > 0
    loud = 10 * np.log10(energy + 1e-20)
    on = loud > loud.max() - _FLOOR_DB
    active = on[1:] | on[:-1]
    return Fingerprint(bits, active, duration)


def fingerprint_file(path) -> Fingerprint:
    """The fingerprint of an audio file (mixed to mono, resampled to :data:`FP_SR`)."""
    import soundfile as sf

    x, sr = sf.read(str(path), dtype="float64", always_2d=True)
    return fingerprint(x.mean(1), sr=int(sr))


def bit_error(a: Fingerprint, b: Fingerprint) -> float:
    """Fraction of differing bits at the best offset (±2 frames), over frames where either
    has sound; 1.0 when fewer than :data:`MIN_FRAMES` such frames overlap."""
    best = 1.0
    for shift in range(-_MAX_SHIFT, _MAX_SHIFT + 1):
        if shift >= 0:
            ba, bb = a.bits[shift:], b.bits
            aa, ab = a.active[shift:], b.active
        else:
            ba, bb = a.bits, b.bits[-shift:]
            aa, ab = a.active, b.active[-shift:]
        m = min(len(ba), len(bb))
        if m == 0:
            continue
        use = aa[:m] | ab[:m]
        if use.sum() < MIN_FRAMES:
            continue
        err = float(np.mean(ba[:m][use] != bb[:m][use]))
        best = min(best, err)
    return best


def _same(a: Fingerprint, b: Fingerprint) -> bool:
    longer = max(a.duration, b.duration)
    if longer <= 0 or abs(a.duration - b.duration) > _DURATION_TOL * longer:
        return False
    return bit_error(a, b) <= MAX_BIT_ERROR


def group_duplicates(fingerprints) -> list[int]:
    """For each fingerprint, the index of the first fingerprint it matches (itself if none).

    Matching is made transitive (connected components); the representative of a component is
    its lowest index, so the caller chooses which copy is kept by the order it passes.

    Parameters
    ----------
    fingerprints : sequence of Fingerprint

    Returns
    -------
    list of int
    """
    fps = list(fingerprints)
    for fp in fps:
        if not isinstance(fp, Fingerprint):
            raise ValueError(f"fingerprints must hold Fingerprint objects; got {type(fp)}")
    sets = DisjointSets(len(fps))
    order = sorted(range(len(fps)), key=lambda i: fps[i].duration)
    for pos, i in enumerate(order):
        for j in order[pos + 1:]:
            if fps[j].duration > fps[i].duration * (1 + _DURATION_TOL) + 1e-9:
                break
            if not sets.connected(i, j) and _same(fps[i], fps[j]):
                sets.union(i, j)
    return sets.smallest()
