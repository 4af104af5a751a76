"""Denoising quality: scatter.denoise vs the oracle threshold, PyWavelets and noisereduce.

Real bird recordings (Debian package ``tuxpaint-stamps-default``, fetched and cached by
``data_scripts/fetch_tuxpaint_sounds.py``; silent clips excluded). From each clip (mono, own
sample rate) the loudest window of ``--samples`` samples (default 2**15, 0.74 s at 44.1 kHz) is
used, so the calls themselves and not the silence around them are measured; a clip shorter than
the window is zero-padded at its end. All windows have one length, so each transform is compiled
once per sample rate. Two noise conditions, each at 0, 5 and 10 dB input SNR:

* ``white``: seeded white Gaussian noise;
* ``real``: real field recordings (night insect choruses, rain, wind, city traffic, a market,
  a pump, a train, a fountain; ``data_scripts/fetch_field_sounds.py``, training-side packages
  only), mono, resampled to the clip's rate (soxr), from a seeded random offset (looped when
  shorter than the window) and scaled to the input SNR. Clip ``i`` at input SNR ``j`` gets
  background ``(3 i + j) mod n_backgrounds``, so every clip meets three backgrounds and every
  background several clips.

Measured in the same run, on the same noisy signals:

* ``default``: ``scatter.denoise(y, sr=sr)`` (nothing about the clean signal or the noise is
  given; Morlet, Q=8, soft rule, SURE, ``noise_estimate="auto"``);
* ``white_global``: ``denoise(y, sr=sr, noise_estimate="global", threshold_lowpass=False)``,
  the white-noise estimate (MAD of the finest band scaled by the filter norms) with the low-pass
  band kept: the method before the tracked noise estimate existed, for the white-noise
  comparison;
* ``oracle``: ``denoise(y, sr=sr, method="oracle", reference=x)``: the same transform and noise
  estimate, each band's threshold minimizing the actual error given the clean clip (the
  yardstick of the risk ratio);
* ``pywavelets``: ``db8``, 6 levels, soft universal threshold ``sigma sqrt(2 log n)`` with
  ``sigma`` = MAD of the finest detail level / 0.6745 (VisuShrink);
* ``noisereduce_stationary``, ``noisereduce_nonstationary``: spectral gating,
  ``reduce_noise(y=y, sr=sr, stationary=...)``.

Per condition: mean output SNR and mean SNR gain (output - input, dB) of every method, overall
and per input SNR; the mean gain on zero-mean signals (``gain_db_zero_mean``: the clean clip,
the noisy input and each output with their own mean over the window removed before the SNR),
which leaves out what a method gains or loses on the offset alone (real backgrounds carry
recorder offsets); the best peer (PyWavelets or either noisereduce mode) and the default's
margin over it; the risk ratio (mean squared error of ``default`` over that of ``oracle``,
pooled over clips and input SNRs). Goals: on ``real``, a mean gain >= 5 dB and >= 3 dB above
the best peer; on ``white``, a mean gain within 0.3 dB of ``white_global`` and a risk ratio
<= 1.15.

Prints progress on stderr and exactly one JSON line on stdout, last.
Usage: ``python benchmarks/denoising.py [--samples 32768] [--conditions white,real] [--cache DIR]
[--quiet]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SNRS_DB = (0.0, 5.0, 10.0)
SEED = 20240404


CONDITIONS = ("white", "real")
METHODS = ("default", "white_global", "oracle", "pywavelets", "noisereduce_stationary",
           "noisereduce_nonstationary")
PEERS = ("pywavelets", "noisereduce_stationary", "noisereduce_nonstationary")


def _load_fetch_module(name="fetch_tuxpaint_sounds"):
    path = ROOT / "data_scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def loudest_window(x, size, hop=256):
    """The ``size``-sample window of ``x`` with the most energy (zero-padded if ``x`` is short)."""
    if x.size <= size:
        return np.pad(x, (0, size - x.size))
    energy = np.convolve(x.astype(np.float64) ** 2, np.ones(size), mode="valid")[::hop]
    start = int(np.argmax(energy)) * hop
    return x[start:start + size]


def _bird_clips(cache, samples):
    import soundfile as sf

    fetch = _load_fetch_module()
    records = fetch.load_manifest(fetch.fetch(cache))
    clips = []
    for rec in records:
        if rec["label"] != "bird":
            continue
        x, sr = sf.read(rec["path"], dtype="float32", always_2d=True)
        x = loudest_window(x.mean(axis=1), samples)
        clips.append((Path(rec["path"]).stem, x, int(sr)))
    return clips


def _backgrounds():
    """Every field recording of ``data_scripts/fetch_field_sounds.py``: (name, kind, mono, sr)."""
    import soundfile as sf

    fetch = _load_fetch_module("fetch_field_sounds")
    out = []
    for rec in fetch.load_manifest(fetch.fetch(quiet=True)):
        x, sr = sf.read(rec["path"], dtype="float32", always_2d=True)
        out.append((f"{rec['package']}:{Path(rec['path']).stem}", rec["kind"], x.mean(axis=1),
                    int(sr)))
    return out


def background_excerpt(noise, noise_sr, sr, size, rng):
    """``size`` samples of a background at ``sr`` from a random offset (looped if short)."""
    import librosa

    if noise_sr != sr:
        noise = librosa.resample(noise, orig_sr=noise_sr, target_sr=sr, res_type="soxr_hq")
    if noise.size < size:
        noise = np.tile(noise, size // noise.size + 1)
    start = int(rng.integers(0, noise.size - size + 1))
    return noise[start:start + size].astype(np.float64)


def snr_db(clean, estimate):
    """``10 log10(|clean|^2 / |estimate - clean|^2)``."""
    err = np.sum((np.asarray(estimate, np.float64) - clean) ** 2)
    return 10.0 * np.log10(np.sum(np.asarray(clean, np.float64) ** 2) / max(err, 1e-30))


def pywavelets_visushrink(y):
    """db8, 6 levels, soft universal threshold with the MAD noise level of the finest details."""
    import pywt

    coeffs = pywt.wavedec(y, "db8", level=6)
    sigma = np.median(np.abs(coeffs[-1])) / 0.6745
    t = sigma * np.sqrt(2.0 * np.log(y.size))
    coeffs = [coeffs[0]] + [pywt.threshold(c, t, mode="soft") for c in coeffs[1:]]
    return pywt.waverec(coeffs, "db8")[: y.size]


def noisereduce_gating(y, sr, stationary):
    import noisereduce as nr

    return nr.reduce_noise(y=y, sr=sr, stationary=stationary)


def _methods(y, x, sr):
    from scatter.denoise import denoise

    return {
        "default": denoise(y, sr=sr),
        "white_global": denoise(y, sr=sr, noise_estimate="global", threshold_lowpass=False),
        "oracle": denoise(y, sr=sr, method="oracle", reference=x),
        "pywavelets": pywavelets_visushrink(y),
        "noisereduce_stationary": noisereduce_gating(y, sr, True),
        "noisereduce_nonstationary": noisereduce_gating(y, sr, False),
    }


def _summary(rows):
    def mean(key, sub=rows):
        return float(np.mean([r[key] for r in sub]))

    peers = {m: mean(m + "_gain") for m in PEERS}
    best_peer = max(peers, key=peers.get)
    gain = mean("default_gain")
    risk_ratio = sum(r["default_mse"] for r in rows) / sum(r["oracle_mse"] for r in rows)
    per_snr = {}
    for s in SNRS_DB:
        sub = [r for r in rows if r["snr_nominal"] == s]
        per_snr[f"{s:g}dB"] = {m: round(mean(m + "_gain", sub), 3) for m in METHODS}
    return {
        "cases": len(rows),
        "input_snr_db_mean": round(mean("snr_in"), 3),
        "output_snr_db": {m: round(mean(m + "_out"), 3) for m in METHODS},
        "gain_db": {m: round(mean(m + "_gain"), 3) for m in METHODS},
        "gain_db_zero_mean": {m: round(mean(m + "_gain_zero_mean"), 3) for m in METHODS},
        "per_input_snr_gain_db": per_snr,
        "best_peer": best_peer,
        "margin_over_best_peer_db": round(gain - peers[best_peer], 3),
        "default_minus_white_global_db": round(gain - mean("white_global_gain"), 3),
        "risk_ratio_default_over_oracle": round(risk_ratio, 4),
        "risk_ratio_worst_case": round(max(r["default_mse"] / r["oracle_mse"] for r in rows), 4),
    }


def run(samples, cache, quiet, conditions=CONDITIONS):
    clips = _bird_clips(cache, samples)
    backgrounds = _backgrounds() if "real" in conditions else []
    rng = np.random.default_rng(SEED)
    rows = {c: [] for c in conditions}
    start = time.perf_counter()
    for condition in conditions:
        for i, (name, x, sr) in enumerate(clips):
            power = float(np.mean(x.astype(np.float64) ** 2))
            for j, snr_in in enumerate(SNRS_DB):
                if condition == "white":
                    noise, noise_name = rng.standard_normal(x.size), "white"
                else:
                    noise_name, _, wave, wave_sr = backgrounds[(3 * i + j) % len(backgrounds)]
                    noise = background_excerpt(wave, wave_sr, sr, x.size, rng)
                noise *= np.sqrt(power / 10 ** (snr_in / 10) / np.mean(noise**2))
                y = (x + noise).astype(np.float32)
                snr0 = snr_db(x, y)
                row = {"clip": name, "noise": noise_name, "sr": sr, "snr_nominal": snr_in,
                       "snr_in": snr0}
                x0, y0 = (a.astype(np.float64) - a.astype(np.float64).mean() for a in (x, y))
                snr0_zero_mean = snr_db(x0, y0)
                for key, z in _methods(y, x, sr).items():
                    z = np.asarray(z, np.float64)
                    row[key + "_out"] = snr_db(x, z)
                    row[key + "_gain"] = row[key + "_out"] - snr0
                    row[key + "_gain_zero_mean"] = snr_db(x0, z - z.mean()) - snr0_zero_mean
                    row[key + "_mse"] = float(np.mean((z - x) ** 2))
                rows[condition].append(row)
                if not quiet:
                    peer = max(row[m + "_gain"] for m in PEERS)
                    print(f"{condition:5s} {name:>20s} {noise_name:>32s} {snr_in:4.0f} dB  "
                          f"default {row['default_gain']:+6.2f}  white_global "
                          f"{row['white_global_gain']:+6.2f}  oracle {row['oracle_gain']:+6.2f}"
                          f"  best peer {peer:+6.2f}", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - start
    result = {
        "benchmark": "denoising",
        "data": "tuxpaint-stamps-default animals/birds (non-silent), loudest "
                f"{samples}-sample window per clip; white Gaussian noise, and real field "
                "backgrounds of data_scripts/fetch_field_sounds.py",
        "clips": len(clips),
        "backgrounds": [b[0] for b in backgrounds],
        "input_snr_db": list(SNRS_DB),
        "conditions": {c: _summary(r) for c, r in rows.items()},
    }
    goals = {}
    if "real" in rows:
        real = result["conditions"]["real"]
        goals["real_gain_at_least_5db"] = real["gain_db"]["default"] >= 5.0
        goals["real_beats_best_peer_by_3db"] = real["margin_over_best_peer_db"] >= 3.0
    if "white" in rows:
        white = result["conditions"]["white"]
        goals["white_within_0.3db_of_white_global"] = (
            white["default_minus_white_global_db"] >= -0.3)
        goals["white_risk_within_1.15x_oracle"] = white["risk_ratio_default_over_oracle"] <= 1.15
    result["goals_met"] = goals
    result["seconds_total"] = round(elapsed, 1)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=2**15, help="window length per clip")
    parser.add_argument("--cache", type=Path, default=None, help="tuxpaint cache folder")
    parser.add_argument("--conditions", default=",".join(CONDITIONS),
                        help="comma-separated noise conditions: white, real")
    parser.add_argument("--quiet", action="store_true", help="no per-case lines on stderr")
    args = parser.parse_args(argv)
    conditions = tuple(c for c in args.conditions.split(",") if c)
    if not conditions or any(c not in CONDITIONS for c in conditions):
        parser.error(f"--conditions {args.conditions!r}: expected a comma-separated subset of "
                     f"{','.join(CONDITIONS)}")
    sys.path.insert(0, str(ROOT))
    result = run(args.samples, args.cache, args.quiet, conditions)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
