"""Continuous wavelet transform by FFT, with per-band critical subsampling, and its inverse.

Coefficient layout (shared by :func:`cwt`, :func:`icwt` and the thresholding code): a Python list
of ``K + 1`` JAX arrays for a bank of ``K`` band-pass filters,

* ``coeffs[k]`` for ``k < K``: band ``k`` (same order as ``bank.xi``, high to low frequency),
  complex64, shape ``(..., n // d_k)``;
* ``coeffs[K]``: the low-pass (``phi``) output, shape ``(..., n // d_K)``, float32 for real input
  (complex64 for complex input),

where ``d = bank.decimations(n)`` when ``subsample=True`` and all ones otherwise. Sample ``m`` of
band ``k`` is the convolution ``(x * psi_k)`` at time ``m * d_k`` (circular boundary).
"""

from __future__ import annotations

from functools import partial

import jax.numpy as jnp
import numpy as np

from scatter._compile import jit
from scatter._signal import check_signal, fold, full_spectrum
from scatter.errors import ScatterError, check_int
from scatter.filters import FilterBank


def _check_bank(bank):
    if not isinstance(bank, FilterBank):
        raise ScatterError(f"bank must be a scatter.FilterBank (see scatter.filterbank), got "
                           f"{type(bank).__name__}")


def cwt(x, *, bank, subsample=True):
    """Continuous wavelet transform of ``x`` with ``bank``, computed by FFT.

    Each band is multiplied in the frequency domain, then subsampled by its critical dyadic
    factor (``bank.decimations(n)``: the largest that causes no aliasing, since the responses are
    exactly zero outside their windows). Boundaries are circular.

    Parameters
    ----------
    x : jax.Array [shape=(..., n)]
        Real or complex signal(s), time last.
    bank : FilterBank
        Filter bank from :func:`scatter.filterbank`.
    subsample : bool
        Subsample each band critically (default) or keep ``n`` samples per band.

    Returns
    -------
    list of jax.Array [length K + 1]
        ``coeffs[k]`` complex64 ``(..., n // d_k)`` for band ``k``; ``coeffs[K]`` the low-pass
        output (float32 for real ``x``). See the module docstring for the layout.

    Raises
    ------
    ScatterError
        ``bank`` is not a FilterBank, ``x`` has rank 0, or ``x`` holds NaN or inf.

    Examples
    --------
    >>> import numpy as np
    >>> from scatter import filterbank, cwt, icwt
    >>> bank = filterbank("morlet", J=4, Q=2)
    >>> x = np.sin(0.3 * np.arange(256)).astype("float32")
    >>> coeffs = cwt(x, bank=bank)
    >>> [c.shape for c in coeffs[:2]], coeffs[-1].shape
    ([(256,), (256,)], (16,))
    >>> y = icwt(coeffs, bank=bank, n=256)
    >>> bool(np.max(np.abs(np.asarray(y) - x)) < 1e-3)
    True
    """
    _check_bank(bank)
    return _cwt(check_signal(x), bank, bool(subsample))


@partial(jit, static_argnums=(2,))
def _cwt(x, bank, subsample):
    n = x.shape[-1]
    K = bank.n_filters
    dec = bank.decimations(n) if subsample else (1,) * (K + 1)
    spec = full_spectrum(x)
    responses = bank.frequency_response(n)
    out = [None] * K
    for d in sorted(set(dec[:K])):
        idx = [k for k in range(K) if dec[k] == d]
        ys = jnp.fft.ifft(fold(spec[..., None, :] * responses[np.array(idx)], d))
        for pos, k in enumerate(idx):
            out[k] = ys[..., pos, :]
    low = jnp.fft.ifft(fold(spec * bank.phi_response(n), dec[K]))
    out.append(low if jnp.iscomplexobj(x) else low.real)
    return out


def icwt(coeffs, *, bank, n, real=True, rcond=1e-6):
    """Inverse of :func:`cwt` with the canonical dual frame (least-squares reconstruction).

    With ``W`` the (subsampled) analysis operator, returns ``(W* W)^+ W* coeffs``. ``W* W`` is
    diagonal in frequency, ``A(f) = sum_k |psi_k(f)|**2 / d_k + |phi(f)|**2 / d_phi`` (symmetrised
    over ``+-f`` for real signals), so this is exact whenever ``coeffs`` came from ``cwt`` and
    ``A`` is above ``rcond * max(A)`` (frequencies below that are dropped: a pseudo-inverse). For
    modified coefficients (e.g. thresholded) it gives the signal whose transform is closest to
    them in the least-squares sense. Reference: Daubechies (1992), "Ten lectures on wavelets",
    section 3.2 (dual frames).

    Parameters
    ----------
    coeffs : list of jax.Array [length K + 1]
        Coefficients in the layout of :func:`cwt` (subsampled or not; the factors are read from
        the lengths).
    bank : FilterBank
        The bank used for the analysis.
    n : int
        Length of the reconstructed signal.
    real : bool
        Reconstruct a real signal (default) or a complex one.
    rcond : float
        Relative cut-off of the pseudo-inverse.

    Returns
    -------
    jax.Array [shape=(..., n)]
        float32 when ``real``, else complex64.

    Raises
    ------
    ScatterError
        Wrong number of coefficient arrays, a length that does not divide ``n``, mismatched
        batch shapes, or a bad ``n``.

    Examples
    --------
    >>> import numpy as np
    >>> from scatter import filterbank, cwt, icwt
    >>> bank = filterbank("morse", J=5, Q=4)
    >>> x = np.cos(0.2 * np.arange(512)).astype("float32")
    >>> bool(np.allclose(icwt(cwt(x, bank=bank), bank=bank, n=512), x, atol=1e-4))
    True
    """
    _check_bank(bank)
    check_int(n, "n")
    K = bank.n_filters
    if not isinstance(coeffs, (list, tuple)) or len(coeffs) != K + 1:
        got = len(coeffs) if isinstance(coeffs, (list, tuple)) else type(coeffs).__name__
        raise ScatterError(f"coeffs must be a list of K + 1 = {K + 1} arrays (bands then "
                           f"low-pass), got {got}")
    batch = None
    dec = []
    for k, c in enumerate(coeffs):
        length = c.shape[-1] if c.ndim else 0
        if length == 0 or n % length != 0:
            raise ScatterError(f"coeffs[{k}] has length {length}, which must divide n={n}")
        if batch is None:
            batch = c.shape[:-1]
        elif c.shape[:-1] != batch:
            raise ScatterError(f"coeffs[{k}] has batch shape {c.shape[:-1]}, expected {batch} "
                               "like coeffs[0]")
        dec.append(n // length)
    return _icwt([jnp.asarray(c) for c in coeffs], bank, n, bool(real), float(rcond),
                 tuple(dec), batch)


@partial(jit, static_argnums=(2, 3, 4, 5, 6))
def _icwt(coeffs, bank, n, real, rcond, dec, batch):
    K = bank.n_filters
    responses = bank.frequency_response(n)
    phi = bank.phi_response(n)
    acc = jnp.zeros(batch + (n,), jnp.complex64)
    weight = jnp.zeros((n,), jnp.float32)
    for k in range(K + 1):
        h = responses[k] if k < K else phi
        spec = jnp.fft.fft(jnp.asarray(coeffs[k]).astype(jnp.complex64))
        acc = acc + jnp.tile(spec, dec[k]) * h
        weight = weight + h**2 / dec[k]
    if real:
        weight = 0.5 * (weight + jnp.roll(jnp.flip(weight), 1))
    keep = weight > rcond * jnp.max(weight)
    inv = jnp.where(keep, 1.0 / jnp.where(keep, weight, 1.0), 0.0)
    y = jnp.fft.ifft(acc * inv)
    return y.real if real else y
