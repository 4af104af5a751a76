"""Denoising quality: scatter.denoise (SURE) vs the oracle threshold, PyWavelets and noisereduce.

Real bird recordings (Debian package ``tuxpaint-stamps-default``, fetched and cached by
``data_scripts/fetch_tuxpaint_sounds.py``; silent clips excluded) plus seeded white Gaussian noise
at 0, 5 and 10 dB input SNR. From each clip (mono, own sample rate) the loudest window of
``--samples`` samples (default 2**15, 0.74 s at 44.1 kHz) is used, so the calls themselves and not
the silence around them are measured; a clip shorter than the window is zero-padded at its end.
All windows have one length, so each transform is compiled once per sample rate. Measured in the
same run, on the same noisy signals:

* ``sure``: ``scatter.denoise(y, sr=sr, method="sure")`` (Morlet, Q=8, soft rule, noise level by
  MAD of the finest band; nothing about the clean signal or the noise level is given);
* ``oracle``: the same transform with each band's threshold minimizing the actual error given
  the clean clip (the yardstick for the risk ratio);
* ``pywavelets``: ``db8``, 6 levels, soft universal threshold ``sigma sqrt(2 log n)`` with
  ``sigma`` = MAD of the finest detail level / 0.6745 (VisuShrink);
* ``noisereduce``: spectral gating, ``reduce_noise(y=y, sr=sr)`` with its default
  (non-stationary) mode and with ``stationary=True``; the better of the two is its figure.

SNR gain = output SNR - input SNR (dB), averaged over clips and input SNRs. Risk ratio = mean
squared error of ``sure`` over that of ``oracle`` (signal domain), pooled over all clips and SNRs.
Goals (issue 4): mean SURE gain >= 5 dB, >= 3 dB above the best peer, risk ratio <= 1.15.

Prints progress on stderr and exactly one JSON line on stdout, last.
Usage: ``python benchmarks/denoising.py [--samples 32768] [--cache DIR] [--quiet]``.
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


def _load_fetch_module():
    path = ROOT / "data_scripts" / "fetch_tuxpaint_sounds.py"
    spec = importlib.util.spec_from_file_location("fetch_tuxpaint_sounds", path)
    mod = importlib.util.module_from_spec(spec)
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


def run(samples, cache, quiet):
    from scatter.denoise import denoise

    clips = _bird_clips(cache, samples)
    rng = np.random.default_rng(SEED)
    rows = []
    start = time.perf_counter()
    for name, x, sr in clips:
        power = float(np.mean(x.astype(np.float64) ** 2))
        for snr_in in SNRS_DB:
            sigma = np.sqrt(power / 10 ** (snr_in / 10))
            y = (x + sigma * rng.standard_normal(x.size)).astype(np.float32)
            snr0 = snr_db(x, y)
            out = {
                "sure": np.asarray(denoise(y, sr=sr, method="sure")),
                "oracle": np.asarray(denoise(y, sr=sr, method="oracle", reference=x)),
                "pywavelets": pywavelets_visushrink(y),
                "noisereduce_nonstationary": noisereduce_gating(y, sr, False),
                "noisereduce_stationary": noisereduce_gating(y, sr, True),
            }
            row = {"clip": name, "sr": sr, "snr_nominal": snr_in, "snr_in": snr0}
            for key, z in out.items():
                row[key] = snr_db(x, z) - snr0
                row[key + "_mse"] = float(np.mean((np.asarray(z, np.float64) - x) ** 2))
            rows.append(row)
            if not quiet:
                nr_best = max(row["noisereduce_nonstationary"], row["noisereduce_stationary"])
                print(f"{name:>24s} {snr_in:4.0f} dB  sure {row['sure']:+6.2f}  oracle "
                      f"{row['oracle']:+6.2f}  pywt {row['pywavelets']:+6.2f}  nr "
                      f"{nr_best:+6.2f}", file=sys.stderr)
    elapsed = time.perf_counter() - start

    def mean(key, rows=rows):
        return float(np.mean([r[key] for r in rows]))

    nr_key = max(("noisereduce_nonstationary", "noisereduce_stationary"), key=mean)
    peers = {"pywavelets_db8_visushrink": mean("pywavelets"), "noisereduce": mean(nr_key)}
    best_peer = max(peers, key=peers.get)
    sure_gain = mean("sure")
    risk_ratio = sum(r["sure_mse"] for r in rows) / sum(r["oracle_mse"] for r in rows)
    per_case_ratio = [r["sure_mse"] / r["oracle_mse"] for r in rows]
    per_snr = {}
    for s in SNRS_DB:
        sub = [r for r in rows if r["snr_nominal"] == s]
        per_snr[f"{s:g}dB"] = {"sure": mean("sure", sub), "oracle": mean("oracle", sub),
                               "pywavelets": mean("pywavelets", sub),
                               "noisereduce": mean(nr_key, sub)}
    return {
        "benchmark": "denoising",
        "data": "tuxpaint-stamps-default animals/birds (non-silent), loudest "
                f"{samples}-sample window per clip, white Gaussian noise",
        "clips": len(clips),
        "cases": len(rows),
        "input_snr_db": list(SNRS_DB),
        "sure_gain_db": round(sure_gain, 3),
        "oracle_gain_db": round(mean("oracle"), 3),
        "peer_gain_db": {k: round(v, 3) for k, v in peers.items()},
        "noisereduce_mode": nr_key.split("_")[1],
        "best_peer": best_peer,
        "margin_over_best_peer_db": round(sure_gain - peers[best_peer], 3),
        "risk_ratio_sure_over_oracle": round(risk_ratio, 4),
        "risk_ratio_worst_case": round(max(per_case_ratio), 4),
        "per_input_snr_gain_db": {k: {m: round(v, 3) for m, v in d.items()}
                                  for k, d in per_snr.items()},
        "goals_met": {
            "gain_at_least_5db": sure_gain >= 5.0,
            "beats_best_peer_by_3db": sure_gain - peers[best_peer] >= 3.0,
            "risk_within_1.15x_oracle": risk_ratio <= 1.15,
        },
        "seconds_total": round(elapsed, 1),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=2**15, help="window length per clip")
    parser.add_argument("--cache", type=Path, default=None, help="tuxpaint cache folder")
    parser.add_argument("--quiet", action="store_true", help="no per-case lines on stderr")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    result = run(args.samples, args.cache, args.quiet)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
