"""Filter design and geometry of the 1-D scattering transform, compatible with kymatio 0.3.0.

The formulas are those of Andén & Mallat (2014), "Deep scattering spectrum", IEEE Trans. Signal
Process. 62(16), with the filter-bank layout of Lostanlen (2017, PhD thesis, "Convolutional
operators in the time-frequency domain") as used by kymatio 0.3.0: a constant-Q region of Morlet
wavelets above an elbow and ``Q - 1`` constant-bandwidth wavelets below it, alias-free dyadic
subsampling ``j`` for each wavelet, Gaussian low-pass of width ``sigma0 / T``, reflect padding to a
power of two. Everything here is NumPy float64 and runs once, at construction.
"""

from __future__ import annotations

import math

import numpy as np

from scatter.filters._families import constant_q_sigma

R_PSI = math.sqrt(0.5)
SIGMA0 = 0.1
ALPHA = 5.0


def n_periods(sigma, eps=1e-7):
    """Number ``P`` of frequency periods (``[1-P, P)``) summed to periodize a Gaussian of width
    ``sigma`` until its tails fall below ``eps``; capped at 5."""
    return min(int(math.ceil(math.sqrt(-2.0 * sigma**2 * math.log(eps)) + 1.0)), 5)


def periodize(h, k):
    """Mean of the ``k`` periods of ``h`` (length divisible by ``k``): the spectrum of ``h``'s
    impulse response sampled every ``k`` samples."""
    return h.reshape(k, h.shape[-1] // k).mean(axis=0)


_EXP_ZERO = 40.0  # exp(-u**2 / 2) is exactly 0.0 in float64 once |u| > 38.6


def _periodized_gaussian(n, centre, sigma, P):
    """Mean over ``2P - 1`` periods of ``exp(-(f - centre)**2 / (2 sigma**2))`` on the grid
    ``f = k / n``, ``k = (1 - P) n .. P n - 1`` (``fftfreq(n)`` when ``P == 1`` and
    ``centre == 0``), evaluated only where it is not exactly zero."""
    if P == 1 and centre == 0.0:
        f = np.fft.fftfreq(n)
        keep = np.abs(f) <= _EXP_ZERO * sigma
        out = np.zeros(n)
        out[keep] = np.exp(-(f[keep] ** 2) / (2.0 * sigma**2))
        return out
    out = np.zeros(n)
    for p in range(2 * P - 1):
        base = (1 - P + p) * n
        k0 = max(int(math.floor((centre - _EXP_ZERO * sigma) * n)) - base, 0)
        k1 = min(int(math.ceil((centre + _EXP_ZERO * sigma) * n)) - base + 1, n)
        if k1 > k0:
            f = np.arange(base + k0, base + k1, dtype=np.float64) / n
            out[k0:k1] += np.exp(-((f - centre) ** 2) / (2.0 * sigma**2))
    return out / (2 * P - 1)


def _l1_norms(h):
    """``sum_t |ifft(h)[t]|`` for real spectra ``h`` (rows): from ``rfft``, as the inverse
    transform of a real sequence is the conjugate of its forward transform over ``n``."""
    n = h.shape[-1]
    out = np.empty(h.shape[0])
    for i in range(0, h.shape[0], 8):
        F = np.abs(np.fft.rfft(h[i:i + 8], axis=-1))
        inner = F[:, 1:(n + 1) // 2].sum(axis=-1)
        out[i:i + 8] = (F[:, 0] + 2.0 * inner + (F[:, n // 2] if n % 2 == 0 else 0.0)) / n
    return out


def morlet_spectra(n, xis, sigmas, gabor=False):
    """Morlet (``xi > 0``) or Gaussian (``xi == 0``) spectra on ``n`` bins, L1-normalised in
    time, one row per ``(xi, sigma)``: ``(F, n)`` float64.

    The Gaussians are evaluated on ``2P - 1`` periods of the frequency axis and periodized; the
    Morlet subtracts ``kappa`` times the Gaussian so that its DC value is 0 (``gabor=True`` skips
    that correction). Only bins where a Gaussian is not exactly zero are computed.
    """
    h = np.zeros((len(xis), n))
    for row, (xi, sigma) in enumerate(zip(xis, sigmas)):
        P = n_periods(sigma)
        low = _periodized_gaussian(n, 0.0, sigma, P)
        if xi:
            band = _periodized_gaussian(n, xi, sigma, P)
            h[row] = band if gabor else band - (band[0] / low[0]) * low
        else:
            h[row] = low
    return h / _l1_norms(h)[:, None]


def morlet_spectrum(n, xi, sigma, gabor=False):
    """One row of :func:`morlet_spectra`: shape ``(n,)``."""
    return morlet_spectra(n, [xi], [sigma], gabor)[0]


def max_subsampling(xi, sigma, alpha=ALPHA):
    """Largest ``j`` with ``xi + alpha * sigma < 2**-(j+1)`` (alias-free subsampling by 2**j)."""
    return int(math.floor(-math.log2(min(xi + alpha * sigma, 0.5)))) - 1


def bank_params(J, q, sigma0=SIGMA0, alpha=ALPHA, r=R_PSI):
    """Centre frequencies, widths and subsampling exponents of one order's wavelets.

    Returns
    -------
    xis, sigmas : list of float
    js : list of int
    """
    sigma_min = sigma0 / 2.0**J
    xi_max = max(1.0 / (1.0 + 2.0 ** (3.0 / q)), 0.35)
    sigma_max = constant_q_sigma(xi_max, q, r)
    if sigma_max <= sigma_min:
        xis, sigmas, elbow = [], [], sigma_max
    else:
        xis, sigmas = [xi_max], [sigma_max]
        while sigmas[-1] > sigma_min * 2.0 ** (1.0 / q):
            xis.append(xis[-1] / 2.0 ** (1.0 / q))
            sigmas.append(sigmas[-1] / 2.0 ** (1.0 / q))
        elbow = xis[-1]
    for k in range(1, q):
        xis.append(elbow - k / q * elbow)
        sigmas.append(sigma_min)
    js = [max_subsampling(xi, s, alpha) for xi, s in zip(xis, sigmas)]
    return xis, sigmas, js


def half_support(h, criterion=1e-3):
    """Smallest ``s`` such that the L1 mass of the impulse response beyond ``s`` samples (on the
    first half of the circle) is at most ``criterion``; half the length if none is."""
    mag = np.abs(np.fft.ifft(h))
    half = mag.shape[-1] // 2
    tail = np.cumsum(mag[:half][::-1])[::-1]
    ok = np.flatnonzero(tail <= criterion)
    return int(ok[0]) + 1 if ok.size else half


def geometry(J, n, T):
    """Padded length, padding and per-level border indices.

    Returns
    -------
    dict with keys ``n_padded``, ``pad_left``, ``pad_right``, ``log2_T``, ``ind_start``,
    ``ind_end`` (lists indexed by subsampling exponent).
    """
    log2_T = int(math.floor(math.log2(T)))
    min_to_pad = 3 * half_support(morlet_spectrum(n, 0.0, SIGMA0 / T))
    j_max_support = int(math.floor(math.log2(3 * n - 2)))
    j_pad = min(int(math.ceil(math.log2(n + 2 * min_to_pad))), j_max_support)
    n_padded = 2**j_pad
    pad_left = (n_padded - n) // 2
    pad_right = n_padded - n - pad_left
    starts, ends = [pad_left], [pad_left + n]
    for _ in range(max(log2_T, J) + 1):
        starts.append(-(-starts[-1] // 2))
        ends.append(-(-ends[-1] // 2))
    return {"n_padded": n_padded, "pad_left": pad_left, "pad_right": pad_right,
            "log2_T": log2_T, "ind_start": starts, "ind_end": ends}


def paths(j1s, j2s, max_order):
    """Scattering paths in output order: ``()``, then ``(n1,)``, then ``(n1, n2)`` with
    ``j2 > j1``, n1-major."""
    out = [()] + [(n1,) for n1 in range(len(j1s))]
    if max_order == 2:
        out += [(n1, n2) for n1 in range(len(j1s)) for n2 in range(len(j2s)) if j2s[n2] > j1s[n1]]
    return out


def meta(paths_, order1, order2, max_order):
    """Per-path metadata like kymatio's ``meta()``: order, xi, sigma, j, n (NaN-padded to
    ``max_order`` columns) and key."""
    fields = {"order": [], "xi": [], "sigma": [], "j": [], "n": [], "key": []}
    for p in paths_:
        fields["order"].append(len(p))
        banks = (order1, order2)[: len(p)]
        for name in ("xi", "sigma", "j"):
            row = [banks[i][name][p[i]] for i in range(len(p))]
            fields[name].append(row + [math.nan] * (max_order - len(p)))
        fields["n"].append(list(p) + [math.nan] * (max_order - len(p)))
        fields["key"].append(p)
    out = {k: np.array(v) for k, v in fields.items() if k != "key"}
    out["key"] = fields["key"]
    return out
