"""The scattering computation in JAX, driven by a static plan (see :mod:`._plan`).

Only non-negligible frequency bins of each filter are touched: each filter's window of the input
spectrum is cut out with static slices (conjugated on negative frequencies, so real signals only
need an ``rfft``), weighted, periodized, zero-padded and inverse transformed. Band-pass outputs go
straight to a modulus, which is blind to the cyclic shift that the window placement would apply,
so no scatter is needed; low-pass outputs are rolled into place and inverted with ``irfft``.
Paths sharing FFT sizes are batched into one FFT call.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


@jax.custom_jvp
def modulus(z):
    """``|z|`` with derivative ``z / |z|`` (0 where ``z == 0``, instead of NaN)."""
    return jnp.abs(z)


@modulus.defjvp
def _modulus_jvp(primals, tangents):
    (z,), (dz,) = primals, tangents
    r = jnp.abs(z)
    unit = jnp.where(r > 0, z / jnp.where(r > 0, r, 1.0), 0.0)
    return r, jnp.real(jnp.conj(unit) * dz)


def _window_values(R, start, total, l_in):
    """Values of the full (Hermitian) spectrum at bins ``start .. start + total - 1`` (cyclic),
    from its rfft half ``R`` of shape ``(..., l_in // 2 + 1)``."""
    s = (start + np.arange(total)) % l_in
    neg = s > l_in // 2
    src = np.where(neg, l_in - s, s)
    pieces = []
    i = 0
    while i < total:
        step = -1 if neg[i] else 1
        j = i + 1
        while j < total and neg[j] == neg[i] and src[j] == src[j - 1] + step:
            j += 1
        if neg[i]:
            pieces.append(jnp.conj(jnp.flip(R[..., src[j - 1]:src[i] + 1], axis=-1)))
        else:
            pieces.append(R[..., src[i]:src[j - 1] + 1])
        i = j
    return pieces[0] if len(pieces) == 1 else jnp.concatenate(pieces, axis=-1)


def _folded(R, fold, weight):
    """Weighted, periodized window values, shape ``(..., F, width)``."""
    total = fold.n_pieces * fold.width
    vals = jnp.stack([_window_values(R, int(s), total, fold.l_in) for s in fold.start], axis=-2)
    vals = vals * weight
    if fold.n_pieces > 1:
        vals = vals.reshape(vals.shape[:-1] + (fold.n_pieces, fold.width)).sum(axis=-2)
    return vals


def band_modulus(R, fold, weight):
    """``|ifft(periodize(R * psi))|`` for each filter of ``fold``: shape ``(..., F, l_out)``."""
    vals = _folded(R, fold, weight)
    pad = [(0, 0)] * (vals.ndim - 1) + [(0, fold.l_out - fold.width)]
    return modulus(jnp.fft.ifft(jnp.pad(vals, pad), axis=-1))


def lowpass(R, fold, weight):
    """``Re(ifft(periodize(R * phi)))`` for the single (even) filter of ``fold``:
    shape ``(..., l_out)``."""
    vals = _folded(R, fold, weight)[..., 0, :]
    pad = [(0, 0)] * (vals.ndim - 1) + [(0, fold.l_out - fold.width)]
    full = jnp.roll(jnp.pad(vals, pad), int(fold.start[0]) % fold.l_out, axis=-1)
    return jnp.fft.irfft(full[..., : fold.l_out // 2 + 1], n=fold.l_out, axis=-1)


def forward(plan, weights, x):
    """Scattering coefficients of ``x`` (``(B, n)`` float32) in path order,
    shape ``(B, n_paths, n_frames)``."""
    g = plan.geometry
    padded = jnp.pad(x, [(0, 0), (g["pad_left"], g["pad_right"])], mode="reflect")
    R0 = jnp.fft.rfft(padded, axis=-1)
    outputs = [_unpad(lowpass(R0, plan.phi0.fold, weights["phi0"])[:, None, :], g,
                      plan.phi0.level)]
    for gi, group in enumerate(plan.groups):
        U1 = band_modulus(R0, group.psi.fold, weights[f"psi1_{gi}"])  # (B, F1, L1)
        R1 = jnp.fft.rfft(U1, axis=-1)
        outputs.append(_unpad(lowpass(R1, group.phi.fold, weights[f"phi1_{gi}"]), g,
                              group.phi.level))
        for si, sub in enumerate(group.subgroups):
            U2 = band_modulus(R1, sub.psi.fold, weights[f"psi2_{gi}_{si}"])  # (B, F1, F2, L2)
            U2 = U2.reshape((U2.shape[0], -1, U2.shape[-1]))
            if sub.pairs is not None:
                U2 = U2[:, sub.pairs, :]
            R2 = jnp.fft.rfft(U2, axis=-1)
            outputs.append(_unpad(lowpass(R2, sub.phi.fold, weights[f"phi2_{gi}_{si}"]), g,
                                  sub.phi.level))
    S = jnp.concatenate(outputs, axis=1)
    return S[:, plan.order, :] if plan.order is not None else S


def _unpad(S, geometry, level):
    return S[..., geometry["ind_start"][level]:geometry["ind_end"][level]]
