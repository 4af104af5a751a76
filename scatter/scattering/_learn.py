"""Fold weights rebuilt in JAX from filter parameters, for learnable scattering filters."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from scatter.scattering._design import n_periods


def morlet_spectrum(n, xi, sigma, periods, gabor=False):
    """JAX twin of :func:`._design.morlet_spectrum` (``periods`` fixed at construction)."""
    P = periods
    freqs = np.arange((1 - P) * n, P * n, dtype=np.float64) / n
    low_freqs = np.fft.fftfreq(n) if P == 1 else freqs
    low_freqs = jnp.asarray(low_freqs, jnp.float32)
    freqs = jnp.asarray(freqs, jnp.float32)
    low = jnp.exp(-(low_freqs**2) / (2.0 * sigma**2)).reshape(2 * P - 1, n).mean(axis=0)
    band = jnp.exp(-((freqs - xi) ** 2) / (2.0 * sigma**2)).reshape(2 * P - 1, n).mean(axis=0)
    h = band if gabor else band - (band[0] / low[0]) * low
    return h / jnp.sum(jnp.abs(jnp.fft.ifft(h)))


def _stage_weights(stage, xis, sigmas, init_sigmas, n, gabor):
    fold = stage.fold
    total = fold.weight.shape[1]
    k = fold.l_in // fold.l_out
    rows = [None] * len(stage.filters)
    by_periods = {}
    for f, idx in enumerate(stage.filters):
        by_periods.setdefault(n_periods(init_sigmas[idx]), []).append(f)
    for periods, fs in by_periods.items():
        ids = np.array([stage.filters[f] for f in fs])
        h = jax.vmap(lambda xi, s, P=periods: morlet_spectrum(n, xi, s, P, gabor))(
            xis[ids], sigmas[ids])
        if stage.in_level:
            h = h.reshape(len(fs), 2**stage.in_level, -1).mean(axis=1)
        pos = (fold.start[fs][:, None] + np.arange(total)[None, :]) % fold.l_in
        valid = np.arange(total)[None, :] < fold.widths[fs][:, None]
        w = jnp.where(valid, jnp.take_along_axis(h, jnp.asarray(pos), axis=1) / k, 0.0)
        for row, f in enumerate(fs):
            rows[f] = w[row]
    return jnp.stack(rows).astype(jnp.float32)


def weights_from_params(plan, params, gabor, init_sigma1, init_sigma2):
    """Band-pass fold weights computed from ``params`` (``xi1, sigma1, xi2, sigma2``)."""
    n = plan.geometry["n_padded"]
    out = {}
    for gi, group in enumerate(plan.groups):
        out[f"psi1_{gi}"] = _stage_weights(group.psi, params["xi1"], params["sigma1"],
                                           init_sigma1, n, gabor)
    for li, level in enumerate(plan.levels):
        for bi, block in enumerate(level.blocks):
            out[f"psi2_{li}_{bi}"] = _stage_weights(block.psi, params["xi2"], params["sigma2"],
                                                    init_sigma2, n, gabor)
    return out
