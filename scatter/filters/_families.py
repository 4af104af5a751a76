"""Frequency responses of the wavelet families, written once for NumPy and JAX.

Every function takes frequencies ``f`` in cycles per sample (the grid of ``numpy.fft.fftfreq``),
broadcasts over its parameters, and returns a real response whose peak is 1. ``xp`` is the array
module (``numpy`` for design-time metadata, ``jax.numpy`` for differentiable evaluation).
"""

from __future__ import annotations

import math

FAMILIES = ("morlet", "gabor", "paul", "morse", "mexican_hat")
ANALYTIC = {"morlet": True, "gabor": True, "paul": True, "morse": True, "mexican_hat": False}


def gaussian(xp, f, sigma):
    """Gaussian low-pass ``exp(-f**2 / (2 sigma**2))`` (peak 1 at ``f = 0``)."""
    return xp.exp(-(f**2) / (2.0 * sigma**2))


def morlet(xp, f, xi, sigma):
    """Morlet: a Gaussian at ``xi`` minus ``kappa`` times a Gaussian at 0, so the DC value is 0.

    ``kappa = exp(-xi**2 / (2 sigma**2))`` is the corrective term of Grossmann & Morlet (1984),
    "Decomposition of Hardy functions into square integrable wavelets of constant shape".
    """
    kappa = xp.exp(-(xi**2) / (2.0 * sigma**2))
    return xp.exp(-((f - xi) ** 2) / (2.0 * sigma**2)) - kappa * gaussian(xp, f, sigma)


def gabor(xp, f, xi, sigma):
    """Analytic Gabor: a Gaussian at ``xi`` restricted to positive frequencies (exact zero mean)."""
    return xp.where(f > 0, xp.exp(-((f - xi) ** 2) / (2.0 * sigma**2)), 0.0)


def morse(xp, f, xi, beta, gamma):
    """Generalized Morse wavelet ``(f/xi)**beta * exp((beta/gamma) (1 - (f/xi)**gamma))``, f > 0.

    Lilly & Olhede (2009), "Higher-order properties of analytic wavelets", IEEE Trans. Signal
    Process. 57(1); normalised so that the peak (at ``f = xi``) equals 1.
    """
    u = xp.where(f > 0, f, 1.0) / xi
    value = xp.exp(beta * xp.log(u) + (beta / gamma) * (1.0 - u**gamma))
    return xp.where(f > 0, value, 0.0)


def paul(xp, f, xi, m):
    """Paul wavelet of order ``m``: the Morse wavelet with ``gamma = 1``, ``beta = m``.

    Torrence & Compo (1998), "A practical guide to wavelet analysis", BAMS 79(1), Table 1.
    """
    return morse(xp, f, xi, m, 1.0)


def mexican_hat(xp, f, xi):
    """Real Mexican hat (second derivative of a Gaussian, DoG m=2): ``(f/xi)**2 exp(1-(f/xi)**2)``.

    Even in frequency; its peak is at ``|f| = xi`` (Torrence & Compo 1998, Table 1).
    """
    u = f / xi
    return u**2 * xp.exp(1.0 - u**2)


_HALF_POWER = math.sqrt(0.5)


def constant_q_sigma(xi, q, r=_HALF_POWER):
    """Gaussian width of a constant-Q wavelet: neighbours ``2**(1/q)`` apart cross at amplitude
    ``r``.

    The rule of Lostanlen (2017), "Convolutional operators in the time-frequency domain", PhD
    thesis, as kymatio uses it; the filter banks of :mod:`scatter.filters` and the scattering
    design of :mod:`scatter.scattering` both take their widths from here.

    Parameters
    ----------
    xi : float or numpy.ndarray
        Centre frequency in cycles per sample.
    q : int
        Wavelets per octave.
    r : float
        Amplitude at which neighbouring wavelets cross (half power by default).

    Returns
    -------
    float or numpy.ndarray
        The Gaussian width ``sigma``, like ``xi``.
    """
    factor = 2.0 ** (-1.0 / q)
    return xi * (1.0 - factor) / (1.0 + factor) / math.sqrt(2.0 * math.log(1.0 / r))


def response(xp, family, f, params):
    """Evaluate ``family`` at ``f``; ``params`` holds arrays shaped ``(K, 1)`` or scalars."""
    if family == "morlet":
        return morlet(xp, f, params["xi"], params["sigma"])
    if family == "gabor":
        return gabor(xp, f, params["xi"], params["sigma"])
    if family == "paul":
        return paul(xp, f, params["xi"], params["m"])
    if family == "morse":
        return morse(xp, f, params["xi"], params["beta"], params["gamma"])
    return mexican_hat(xp, f, params["xi"])
