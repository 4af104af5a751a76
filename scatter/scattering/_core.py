"""The scattering computation in JAX, driven by a static plan (see :mod:`._plan`).

Only non-negligible frequency bins of each filter are touched: each filter's window of the input
spectrum is read with one gather (conjugated on negative frequencies, so real signals only need
an ``rfft``), weighted and periodized. A band-pass output ``z`` only feeds a modulus, which is
blind to the cyclic shift that the window placement applies. For long transforms (``L`` above
:data:`SHORT`) ``|z|`` is computed from two *real* inverse transforms: ``Re z`` and ``Im z``
are the ``irfft`` s of the Hermitian and anti-Hermitian parts of ``z``'s spectrum (XLA's complex
FFTs are markedly slower than its real ones at these sizes on CPU); short ones use one complex
inverse FFT, which is cheaper there (about a quarter of the detector's CPU time). XLA:CPU's
complex FFT is not bit-reproducible when its multithreaded runtime splits a batch over threads
(results vary in the last bits from call to call); the package's own compiled entry points turn
that threading off (:func:`scatter._compile.jit`) and get their parallelism from batch rows split
over workers or devices instead. Low-pass outputs,
a few hundred bins, are a small matrix product (an ``irfft`` when they are large). Second-order
moduli feed nothing but the low-pass, so they are averaged in the time domain instead
(:func:`lowpass_time`: one matrix product over about 20 stride-long blocks per output frame),
which saves their forward FFT.

Rows sharing an FFT size run in a loop over chunks of about :data:`CHUNK` bins
(:data:`SHORT_CHUNK` for short transforms) (``lax.map``): large enough for the FFTs to vectorise
over rows, small enough that each stage's intermediates (window, inverse FFT, modulus, forward
FFT) stay in cache and are never allocated for all rows at once; only windows and low-pass
outputs go through memory in full.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from scatter.scattering._plan import window_sources

CHUNK = 2**21  # FFT bins per loop iteration for long FFTs (measured best of 2**18 .. 2**24)
SHORT = 2**15  # FFTs up to this length: one complex inverse FFT per row, chunks of SHORT_CHUNK
SHORT_CHUNK = 2**18  # (measured on XLA:CPU: c2c beats two real FFTs up to 2**15, loses beyond)


@jax.custom_jvp
def modulus(a, b):
    """``sqrt(a**2 + b**2)`` with derivative ``(a da + b db) / r`` (0 where ``r == 0``, instead
    of NaN)."""
    return jnp.sqrt(a * a + b * b)


@modulus.defjvp
def _modulus_jvp(primals, tangents):
    (a, b), (da, db) = primals, tangents
    r = jnp.sqrt(a * a + b * b)
    inv = jnp.where(r > 0, 1.0 / jnp.where(r > 0, r, 1.0), 0.0)
    return r, (a * da + b * db) * inv


def _gather(R, src, neg):
    """``R[..., src]``, conjugated where ``neg`` (static index arrays of one shape)."""
    vals = jnp.take(R, jnp.asarray(src, jnp.int32), axis=-1, mode="clip")
    if not neg.any():
        return vals
    return jnp.where(jnp.asarray(neg), jnp.conj(vals), vals)


def _periodize(vals, fold):
    """Sum the ``n_pieces`` periods of window values ``(..., n_pieces * width)``."""
    if fold.n_pieces == 1:
        return vals
    return vals.reshape(vals.shape[:-1] + (fold.n_pieces, fold.width)).sum(axis=-2)


def folded(R, fold, weight):
    """Weighted, periodized window values of every filter of ``fold``: ``(..., F, width)``."""
    src, neg = window_sources(fold)
    return _periodize(_gather(R, src, neg) * weight, fold)


def window_modulus(V, length):
    """``|ifft(Z)|`` for spectra ``Z`` of length ``length`` given by their non-zero cyclic window
    ``V`` (``(..., width)``, ``width <= length``; placed anywhere, as the modulus ignores the
    shift), shape ``(..., length)``.

    With ``h = length // 2 + 1`` bins per real spectrum, ``2 Re z = irfft(Z + conj(Z[-k]))``
    and ``2 Im z = irfft(-i (Z - conj(Z[-k])))``; a window that fits in bins ``1 .. h - 2`` has
    no mirror term, so ``Z`` and ``-i Z`` are inverted directly.
    """
    width = V.shape[-1]
    if length <= SHORT:
        # short transforms: one complex inverse FFT is cheaper than the real pair below
        z = jnp.fft.ifft(jnp.pad(V, [(0, 0)] * (V.ndim - 1) + [(0, length - width)]), axis=-1)
        return modulus(jnp.real(z), jnp.imag(z))
    h = length // 2 + 1
    lead = [(0, 0)] * V.ndim
    if width <= h - 2:
        HG = jnp.pad(jnp.stack([V, -1j * V]), lead + [(1, h - 1 - width)])
    else:
        full = jnp.pad(V, lead[1:] + [(0, length - width)])
        mirror = jnp.conj(jnp.concatenate(
            [full[..., :1], jnp.flip(full[..., length - h + 1:], axis=-1)], axis=-1))
        Z = full[..., :h]
        HG = jnp.stack([Z + mirror, -1j * (Z - mirror)])
    ab = jnp.fft.irfft(HG, n=length, axis=-1)
    return 0.5 * modulus(ab[0], ab[1])


def lowpass(R, stage, weight, geometry):
    """Low-pass ``stage`` applied to the spectra ``R`` (``(..., l_in // 2 + 1)``), subsampled
    and unpadded: ``(..., frames)``. ``weight`` is the stage's matrix (see
    :func:`._plan.lowpass_matrix`) or, without one, its fold weight."""
    if stage.matrix is not None:
        Rk = R[..., : weight.shape[0] // 2]
        return jnp.concatenate([jnp.real(Rk), jnp.imag(Rk)], axis=-1) @ weight
    fold = stage.fold
    vals = folded(R, fold, weight)[..., 0, :]
    pad = [(0, 0)] * (vals.ndim - 1) + [(0, fold.l_out - fold.width)]
    full = jnp.roll(jnp.pad(vals, pad), int(fold.start[0]) % fold.l_out, axis=-1)
    S = jnp.fft.irfft(full[..., : fold.l_out // 2 + 1], n=fold.l_out, axis=-1)
    return S[..., geometry["ind_start"][stage.level]:geometry["ind_end"][stage.level]]


def _chunk_rows(rows, length, short_chunk=SHORT_CHUNK):
    """Rows per loop iteration for FFTs of ``length``: about ``CHUNK / length`` (``short_chunk
    / length`` for short ones; at least 1), preferring a divisor of ``rows`` so that no
    padding rows are needed."""
    target = max(1, min(rows, (short_chunk if length <= SHORT else CHUNK) // length))
    best = max(d for d in range(1, target + 1) if rows % d == 0)
    return best if 2 * best >= target else target


def rowwise(fn, V, length, short_chunk=SHORT_CHUNK):
    """``fn`` applied to chunks of the rows of ``V`` (``(rows, width)``) in a loop; ``fn``
    returns a tuple of ``(chunk, ...)`` arrays, concatenated back to ``(rows, ...)``."""
    rows = V.shape[0]
    c = _chunk_rows(rows, length, short_chunk)
    n_chunks = -(-rows // c)
    if n_chunks * c != rows:
        V = jnp.pad(V, [(0, n_chunks * c - rows), (0, 0)])
    if n_chunks == 1:
        out = fn(V)
    else:
        out = jax.lax.map(fn, V.reshape((n_chunks, c) + V.shape[1:]))
        out = tuple(o.reshape((n_chunks * c,) + o.shape[2:]) for o in out)
    return tuple(o[:rows] for o in out)


def _second_order_sources(plan, group):
    """Index arrays of the group's flat second-order window array (all its blocks, in order)."""
    src, neg = zip(*(window_sources(plan.levels[li].blocks[bi].psi.fold)
                     for li, bi in group.blocks))
    return (np.concatenate([s.reshape(-1) for s in src]),
            np.concatenate([n.reshape(-1) for n in neg]))


def _first_order_stage(v, group, phi_w, sources, w2, geometry):
    """One chunk of first-order rows: low-pass outputs and (if any) second-order windows."""
    R1 = jnp.fft.rfft(window_modulus(v, group.psi.fold.l_out), axis=-1)
    S1 = lowpass(R1, group.phi, phi_w, geometry)
    if sources is None:
        return (S1,)
    return S1, _gather(R1, *sources) * w2


def lowpass_time(u, stage, kernel):
    """Low-pass ``stage`` applied in the time domain to real signals ``u`` (``(..., l_in)``),
    subsampled and unpadded: ``(..., frames)`` (see :func:`._plan.lowpass_kernel`)."""
    blocks = u.reshape(u.shape[:-1] + (stage.fold.l_out, kernel.shape[1]))
    G = jnp.einsum("...as,ds->...ad", blocks, kernel)
    return jnp.take(G.reshape(G.shape[:-2] + (-1,)),
                    jnp.asarray(stage.frames * kernel.shape[0]
                                + np.arange(kernel.shape[0])[None, :], jnp.int32),
                    axis=-1).sum(axis=-1)


def _second_order_stage(v, level, phi_w, geometry):
    """One chunk of second-order rows: their low-pass outputs."""
    U2 = window_modulus(v, level.blocks[0].psi.fold.l_out)
    if level.phi.kernel is not None:
        return (lowpass_time(U2, level.phi, phi_w),)
    return (lowpass(jnp.fft.rfft(U2, axis=-1), level.phi, phi_w, geometry),)


def _level_windows(plan, level, flats, B):
    """Second-order windows of ``level``, ``(B * rows, width)``: each block's segment of its
    group's flat window array, periodized, restricted to its kept pairs, padded to one width."""
    Vs = []
    for block in level.blocks:
        fold = block.psi.fold
        seg = flats[block.group][..., block.offset:block.offset + fold.weight.size]
        seg = _periodize(seg.reshape(seg.shape[:-1] + fold.weight.shape), fold)
        seg = seg.reshape((B, -1, fold.width))  # rows n1 * F2 + n2
        Vs.append(seg if block.pairs is None else seg[:, block.pairs, :])
    width = max(V.shape[-1] for V in Vs)
    V = jnp.concatenate([jnp.pad(V, [(0, 0), (0, 0), (0, width - V.shape[-1])]) for V in Vs],
                        axis=1)
    return V.reshape((-1, width))


def forward(plan, weights, x, *, short_chunk=None):
    """Scattering coefficients of ``x`` (``(B, n)`` float32) in path order,
    shape ``(B, n_paths, n_frames)``.

    ``short_chunk``: FFT bins per loop iteration for transforms up to :data:`SHORT` (None:
    :data:`SHORT_CHUNK`). A larger value trades memory for speed: with one iteration per row
    group, XLA neither loops nor zero-fills the loops' stacked outputs (the detector's small
    fixed batches: 15 % faster and 0.6 s less compilation). Results differ from the default's
    in the last bits only (FFTs batched differently)."""
    short_chunk = SHORT_CHUNK if short_chunk is None else int(short_chunk)
    g = plan.geometry
    B = x.shape[0]
    padded = jnp.pad(x, [(0, 0), (g["pad_left"], g["pad_right"])], mode="reflect")
    R0 = jnp.fft.rfft(padded, axis=-1)
    outputs = [lowpass(R0, plan.phi0, weights["phi0"], g)[:, None, :]]
    flats = []
    for gi, group in enumerate(plan.groups):
        V = folded(R0, group.psi.fold, weights[f"psi1_{gi}"])  # (B, F1, width)
        sources = w2 = None
        if group.blocks:
            sources = _second_order_sources(plan, group)
            w2 = jnp.concatenate([weights[f"psi2_{li}_{bi}"].reshape(-1)
                                  for li, bi in group.blocks])
        stage = partial(_first_order_stage, group=group, phi_w=weights[f"phi1_{gi}"],
                        sources=sources, w2=w2, geometry=g)
        out = rowwise(stage, V.reshape((-1, V.shape[-1])), group.psi.fold.l_out, short_chunk)
        outputs.append(out[0].reshape((B, -1, out[0].shape[-1])))
        flats.append(out[1].reshape((B, -1, out[1].shape[-1])) if group.blocks else None)
    for li, level in enumerate(plan.levels):
        stage = partial(_second_order_stage, level=level, phi_w=weights[f"phi2_{li}"],
                        geometry=g)
        (S2,) = rowwise(stage, _level_windows(plan, level, flats, B),
                         level.blocks[0].psi.fold.l_out, short_chunk)
        outputs.append(S2.reshape((B, -1, S2.shape[-1])))
    S = jnp.concatenate(outputs, axis=1)
    return S[:, plan.order, :] if plan.order is not None else S
