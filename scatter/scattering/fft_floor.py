"""The FFTs of a scattering plan alone: a floor on what the transform can take with XLA.

:func:`fft_only_program` builds a program that runs exactly the FFTs of a
:class:`scatter.Scattering1D`'s plan (same types, lengths, batch rows and loop chunks as the
transform) and nothing else. Timing it bounds from below the time of any transform that
computes these FFTs with XLA; ``benchmarks/scattering_vs_kymatio.py`` reports it next to the
transform. :func:`compiled_fft_only_program` compiles it with the options the transform's own
programs use.
"""

from __future__ import annotations

import jax.numpy as jnp

from scatter._compile import jit
from scatter.scattering import _core

__all__ = ["compiled_fft_only_program", "fft_only_program"]


def fft_only_program(sc, rows_per_call):
    """A program that runs only the FFTs of ``sc``'s plan, with the shapes and loop chunks of
    the real transform (``scatter.scattering._core.forward``) for ``rows_per_call``
    signals: the forward ``rfft`` of the padded signals; per first-order group the inverse
    FFTs of the wavelet outputs (two ``irfft`` s, or one ``ifft`` for short ones) and the
    ``rfft`` of their moduli; per second-order level the inverse FFTs (and the ``rfft`` where
    its low-pass is not in the time domain); the low-pass ``irfft`` s where a stage (the
    zeroth order's included) has no matrix. Gathers, weights, moduli and low-pass products
    are left out, and each loop iteration returns one number per FFT, so the time of this
    program bounds from below what any transform computing these FFTs with XLA can take
    (``tests/scatter/test_fft_floor.py`` checks that its FFTs are the
    transform's: same types, lengths and counts).

    Parameters
    ----------
    sc : scatter.Scattering1D
    rows_per_call : int
        Signals per call.

    Returns
    -------
    callable
        ``f(x)`` for ``x`` of shape ``(rows_per_call, n)``, traceable (``jax.jit``,
        ``jax.make_jaxpr``); returns one number per group of FFTs ``(n_groups,)``.
    """
    plan = sc.plan
    geo = plan.geometry
    B = rows_per_call

    def inverse(v, length):
        width = v.shape[-1]
        if length <= _core.SHORT:
            z = jnp.fft.ifft(jnp.pad(v, [(0, 0), (0, length - width)]), axis=-1)
            return jnp.real(z), jnp.real(z).sum(-1) + jnp.imag(z).sum(-1)
        h = length // 2 + 1
        hg = jnp.pad(jnp.stack([v, -1j * v]), [(0, 0), (0, 0), (1, max(h - 1 - width, 0))])
        ab = jnp.fft.irfft(hg[..., :h], n=length, axis=-1)
        return ab[0], ab.sum(axis=(0, 2))

    def stage(length, forward, lowpass_len):
        def fn(v):
            u, total = inverse(v, length)
            if forward:
                r = jnp.fft.rfft(u, axis=-1)
                total = total + jnp.abs(r).sum(-1)
                if lowpass_len:
                    total = total + jnp.fft.irfft(r[:, :lowpass_len // 2 + 1],
                                                  n=lowpass_len, axis=-1).sum(-1)
            return (total,)
        return fn

    def program(x):
        padded = jnp.pad(x, [(0, 0), (geo["pad_left"], geo["pad_right"])])
        R0 = jnp.fft.rfft(padded, axis=-1)
        seed = R0[:, 1].sum()
        totals = [jnp.abs(R0).sum()]
        if plan.phi0.matrix is None:  # the zeroth order's low-pass
            l_out = plan.phi0.fold.l_out
            totals[0] += jnp.fft.irfft(R0[:, :l_out // 2 + 1], n=l_out, axis=-1).sum()
        for group in plan.groups:
            fold = group.psi.fold
            rows = B * len(group.psi.filters)
            v = jnp.full((rows, fold.width), seed, jnp.complex64)
            lp = group.phi.fold.l_out if group.phi.matrix is None else 0
            (t,) = _core.rowwise(stage(fold.l_out, True, lp), v, fold.l_out)
            totals.append(t.sum())
        for level in plan.levels:
            fold = level.blocks[0].psi.fold
            rows = B * sum(len(b.pairs) if b.pairs is not None
                           else len(plan.groups[b.group].psi.filters) * len(b.psi.filters)
                           for b in level.blocks)
            width = max(b.psi.fold.width for b in level.blocks)
            v = jnp.full((rows, width), seed, jnp.complex64)
            time_domain = level.phi.kernel is not None
            lp = level.phi.fold.l_out if (not time_domain and level.phi.matrix is None) else 0
            (t,) = _core.rowwise(stage(fold.l_out, not time_domain, lp), v, fold.l_out)
            totals.append(t.sum())
        return jnp.stack(totals)

    return program


def compiled_fft_only_program(sc, rows_per_call):
    """:func:`fft_only_program` compiled as the transform's programs are (XLA:CPU options of
    :mod:`scatter`: its FFTs on one thread, parallelism from rows split over workers).

    Parameters
    ----------
    sc : scatter.Scattering1D
    rows_per_call : int
        Signals per call.

    Returns
    -------
    callable
        ``f(x)`` for ``x`` of shape ``(rows_per_call, n)``; returns one number per group of
        FFTs ``(n_groups,)``, so that no FFT is optimised away.
    """
    return jit(fft_only_program(sc, rows_per_call))
