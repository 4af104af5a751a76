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
    # L1 norm of the impulse response: |ifft(h)| of a real h is |rfft(h)| / n, mirrored
    F = jnp.abs(jnp.fft.rfft(h))
    l1 = F[0] + 2.0 * jnp.sum(F[1:(n + 1) // 2]) + (F[n // 2] if n % 2 == 0 else 0.0)
    return h / (l1 / n)


def _bank_spectra(xis, sigmas, init_sigmas, n, gabor):
    """Level-0 spectra of every wavelet of one order, ``(F, n)``: one vmapped evaluation per
    number of periods (fixed by the initial widths)."""
    by_periods = {}
    for i, sigma in enumerate(init_sigmas):
        by_periods.setdefault(n_periods(sigma), []).append(i)
    parts, order = [], []
    for periods, ids in by_periods.items():
        ids = np.array(ids)
        parts.append(jax.vmap(lambda xi, s, P=periods: morlet_spectrum(n, xi, s, P, gabor))(
            xis[ids], sigmas[ids]))
        order.extend(ids)
    h = parts[0] if len(parts) == 1 else jnp.concatenate(parts)
    return h if order == sorted(order) else h[np.argsort(order)]


def _stage_weights(stage, h):
    """Fold weights of ``stage`` from the level-0 spectra ``h`` of its bank."""
    fold = stage.fold
    total = fold.weight.shape[1]
    k = fold.l_in // fold.l_out
    rows = h[np.array(stage.filters)]
    if stage.in_level:
        rows = rows.reshape(len(stage.filters), 2**stage.in_level, -1).mean(axis=1)
    pos = (fold.start[:, None] + np.arange(total)[None, :]) % fold.l_in
    valid = np.arange(total)[None, :] < fold.widths[:, None]
    w = jnp.where(valid, jnp.take_along_axis(rows, jnp.asarray(pos), axis=1) / k, 0.0)
    if stage.scale is not None:
        w = w * jnp.asarray(stage.scale, jnp.float32)[:, None]
    return w.astype(jnp.float32)


def weights_from_params(plan, params, gabor, init_sigma1, init_sigma2):
    """Band-pass fold weights computed from ``params`` (``xi1, sigma1, xi2, sigma2``)."""
    n = plan.geometry["n_padded"]
    h1 = _bank_spectra(params["xi1"], params["sigma1"], init_sigma1, n, gabor)
    out = {f"psi1_{gi}": _stage_weights(group.psi, h1) for gi, group in enumerate(plan.groups)}
    if plan.levels:
        h2 = _bank_spectra(params["xi2"], params["sigma2"], init_sigma2, n, gabor)
        for li, level in enumerate(plan.levels):
            for bi, block in enumerate(level.blocks):
                out[f"psi2_{li}_{bi}"] = _stage_weights(block.psi, h2)
    return out
