"""Write tests/scatter/kymatio_reference.npz: kymatio 0.3.0 Scattering1D outputs on seeded signals.

Run from the repository root with kymatio 0.3.0 installed:
    python tests/scatter/generate_kymatio_reference.py
The signals are a seeded mixture of a chirp, a few tones, clicks and noise (float32); kymatio's
NumPy frontend runs on them in float64 and the outputs are stored as float32 together with the
per-path metadata. The configurations cover odd lengths, T != 2**J, first order only,
oversampling and Q2 > 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import scipy.special

# kymatio 0.3.0 imports scipy.special.sph_harm, removed in SciPy 1.17; its 1-D code never uses it.
if not hasattr(scipy.special, "sph_harm"):
    scipy.special.sph_harm = None

CONFIGS = [
    {"J": 6, "shape": 1024, "Q": [8, 1], "T": None, "max_order": 2, "oversampling": 0},
    {"J": 5, "shape": 1001, "Q": [4, 2], "T": 40, "max_order": 2, "oversampling": 0},
    {"J": 4, "shape": 777, "Q": [1, 1], "T": None, "max_order": 1, "oversampling": 1},
    {"J": 6, "shape": 1500, "Q": [6, 3], "T": 100, "max_order": 2, "oversampling": 2},
    {"J": 3, "shape": 64, "Q": [2, 1], "T": 5, "max_order": 2, "oversampling": 0},
]
SEED = 20261127
OUT = Path(__file__).with_name("kymatio_reference.npz")


def signal(rng, n, batch):
    """Chirp + tones + clicks + noise, scaled to [-1, 1], float32."""
    t = np.arange(n) / n
    out = np.empty((batch, n))
    for b in range(batch):
        x = np.sin(2 * np.pi * (5 + 0.4 * n * t) * t + rng.uniform(0, 2 * np.pi))
        for f in rng.uniform(0.01, 0.45, size=3):
            x += rng.uniform(0.2, 1.0) * np.sin(2 * np.pi * f * np.arange(n))
        x[rng.integers(0, n, size=4)] += 3.0
        x += 0.3 * rng.standard_normal(n)
        out[b] = x / np.max(np.abs(x))
    return out.astype(np.float32)


def main():
    from kymatio.numpy import Scattering1D

    rng = np.random.default_rng(SEED)
    arrays = {}
    for i, cfg in enumerate(CONFIGS):
        x = signal(rng, cfg["shape"], 2 if i < 3 else 1)
        sc = Scattering1D(J=cfg["J"], shape=cfg["shape"], Q=tuple(cfg["Q"]), T=cfg["T"],
                          max_order=cfg["max_order"], oversampling=cfg["oversampling"])
        meta = sc.meta()
        arrays[f"x{i}"] = x
        arrays[f"S{i}"] = sc(x.astype(np.float64)).astype(np.float32)
        arrays[f"xi{i}"] = meta["xi"]
        arrays[f"j{i}"] = meta["j"]
        arrays[f"order{i}"] = meta["order"]
    arrays["configs"] = np.array(json.dumps(CONFIGS))
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
