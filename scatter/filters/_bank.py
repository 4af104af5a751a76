"""The :class:`FilterBank` pytree and the :func:`filterbank` constructor."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from scatter.errors import ScatterError, check_int
from scatter.filters import _families as fam

_GRID = 2**17 + 1  # dense design grid on [-0.5, 0.5] for windows and bandwidths


@jax.tree_util.register_pytree_node_class
class FilterBank:
    """A bank of wavelets designed in the frequency domain, plus a Gaussian low-pass ``phi``.

    The numerical parameters live in :attr:`params` (a dict of float32 JAX arrays: ``xi`` the
    centre frequencies in cycles per sample, ``sigma`` the Gaussian widths for Morlet and Gabor,
    ``m`` for Paul, ``beta`` and ``gamma`` for Morse, ``sigma_phi`` the low-pass width). The bank
    is a JAX pytree whose leaves are these arrays, so it can be passed through ``jax.jit`` and
    differentiated with ``jax.grad``. Supports (frequency windows outside which a response is
    set to exactly zero, where it is below ``eps`` of its peak) are fixed when the bank is built.

    Build one with :func:`filterbank`.
    """

    def __init__(self, family, params, *, Q, J, sr, windows, phi_window):
        self.family = family
        self.params = params
        self.Q = Q
        self.J = J
        self.sr = sr
        self.windows = windows
        self.phi_window = phi_window

    # -- pytree -------------------------------------------------------------------------------
    def tree_flatten(self):
        keys = tuple(sorted(self.params))
        aux = (keys, self.family, self.Q, self.J, self.sr, self.windows, self.phi_window)
        return tuple(self.params[k] for k in keys), aux

    @classmethod
    def tree_unflatten(cls, aux, children):
        keys, family, Q, J, sr, windows, phi_window = aux
        return cls(family, dict(zip(keys, children)), Q=Q, J=J, sr=sr, windows=windows,
                   phi_window=phi_window)

    def replace(self, **params):
        """Return a copy with some parameters replaced (e.g. after a gradient step)."""
        new = dict(self.params)
        for key, value in params.items():
            if key not in new:
                raise ScatterError(f"unknown parameter {key!r}; expected one of {sorted(new)}")
            new[key] = jnp.asarray(value, jnp.float32)
        return FilterBank(self.family, new, Q=self.Q, J=self.J, sr=self.sr,
                          windows=self.windows, phi_window=self.phi_window)

    # -- sizes and metadata -------------------------------------------------------------------
    @property
    def n_filters(self):
        """Number of band-pass filters ``K``."""
        return len(self.windows)

    @property
    def analytic(self):
        """True when every band-pass filter vanishes on negative frequencies (up to Morlet's tiny
        DC-correction lobe)."""
        return fam.ANALYTIC[self.family]

    @property
    def xi(self):
        """numpy.ndarray [shape=(K,)]: centre frequencies in cycles per sample."""
        return np.asarray(self.params["xi"], dtype=np.float64)

    @property
    def xi_hz(self):
        """numpy.ndarray [shape=(K,)]: centre frequencies in Hz (needs ``sr``)."""
        return self.xi * self._sr("xi_hz")

    def _sr(self, what):
        if self.sr is None:
            raise ScatterError(f"{what} needs the sample rate: build the bank with sr=..., "
                               "got sr=None")
        return float(self.sr)

    def _np_params(self):
        out = {}
        for key, value in self.params.items():
            arr = np.asarray(value, dtype=np.float64)
            out[key] = arr[:, None] if arr.ndim == 1 else arr
        return out

    def _dense(self):
        f = np.linspace(-0.5, 0.5, _GRID)
        return f, fam.response(np, self.family, f[None, :], self._np_params())

    @property
    def bandwidths(self):
        """numpy.ndarray [shape=(K,)]: half-power (-3 dB) full widths in cycles per sample."""
        f, resp = self._dense()
        out = np.empty(self.n_filters)
        for k, row in enumerate(resp):
            above = f[row**2 >= 0.5 * np.max(row**2)]
            if self.analytic:
                out[k] = above.max() - above.min()
            else:  # even response: measure the positive lobe
                pos = above[above > 0]
                out[k] = pos.max() - pos.min()
        return out

    @property
    def bandwidths_hz(self):
        """numpy.ndarray [shape=(K,)]: half-power bandwidths in Hz (needs ``sr``)."""
        return self.bandwidths * self._sr("bandwidths_hz")

    def time_supports(self, n, *, criterion=1e-3):
        """Half-lengths ``s`` (samples) with at most ``criterion`` of each filter's L1 mass
        outside ``[-s, s]``.

        Parameters
        ----------
        n : int
            Length of the discrete grid on which the filters are sampled.
        criterion : float
            Allowed fraction of the L1 norm outside the support.

        Returns
        -------
        numpy.ndarray [shape=(K,)]
            Supports in samples (divide by ``sr`` for seconds).
        """
        n = check_int(n, "n", 2)
        h = np.abs(np.fft.fftshift(np.fft.ifft(np.asarray(self.frequency_response(n),
                                                          np.float64), axis=-1), axes=-1))
        centre = n // 2
        total = h.sum(axis=-1, keepdims=True)
        out = np.empty(self.n_filters, dtype=np.int64)
        for k in range(self.n_filters):
            for s in range(centre + 1):
                inside = h[k, max(centre - s, 0):centre + s + 1].sum()
                if total[k, 0] - inside <= criterion * total[k, 0]:
                    out[k] = s
                    break
            else:
                out[k] = centre
        return out

    def decimations(self, n):
        """Per-band critical dyadic subsampling factors for signals of length ``n``.

        Band ``k`` is subsampled by the largest ``d = 2**j`` dividing ``n`` such that its whole
        frequency window lies strictly inside ``(-1/(2d), 1/(2d))``: no aliasing, and no overlap
        when the spectrum is folded. The last entry is the low-pass factor.

        Returns
        -------
        tuple of int [length K + 1]
        """
        n = check_int(n, "n")
        return tuple(_dyadic_factor(lo, hi, n) for lo, hi in self.windows + (self.phi_window,))

    # -- responses ----------------------------------------------------------------------------
    def frequency_response(self, n):
        """Band-pass responses on the ``numpy.fft.fftfreq(n)`` grid (Nyquist bin read as +0.5).

        Returns
        -------
        jax.Array [shape=(K, n), dtype=float32]
            Real responses (peak 1), exactly zero outside each filter's window.
        """
        n = check_int(n, "n")
        f = _grid(n)
        lo = np.array([w[0] for w in self.windows])[:, None]
        hi = np.array([w[1] for w in self.windows])[:, None]
        mask = (f[None, :] >= lo) & (f[None, :] <= hi)
        params = {k: (v[:, None] if v.ndim == 1 else v) for k, v in self.params.items()}
        resp = fam.response(jnp, self.family, jnp.asarray(f, jnp.float32)[None, :], params)
        return jnp.where(jnp.asarray(mask), resp, 0.0).astype(jnp.float32)

    def phi_response(self, n):
        """Gaussian low-pass on the ``numpy.fft.fftfreq(n)`` grid.

        Returns
        -------
        jax.Array [shape=(n,), dtype=float32]
        """
        n = check_int(n, "n")
        f = _grid(n)
        mask = (f >= self.phi_window[0]) & (f <= self.phi_window[1])
        resp = fam.gaussian(jnp, jnp.asarray(f, jnp.float32), self.params["sigma_phi"])
        return jnp.where(jnp.asarray(mask), resp, 0.0).astype(jnp.float32)

    def littlewood_paley(self, n, *, symmetric=False):
        """Littlewood-Paley sum ``sum_k |psi_k(f)|**2 + |phi(f)|**2`` on ``fftfreq(n)``.

        Parameters
        ----------
        n : int
            Grid length.
        symmetric : bool
            Average ``f`` and ``-f`` (the relevant sum for real signals analysed with analytic
            wavelets).

        Returns
        -------
        jax.Array [shape=(n,), dtype=float32]
        """
        lp = jnp.sum(self.frequency_response(n) ** 2, axis=0) + self.phi_response(n) ** 2
        if symmetric:
            lp = 0.5 * (lp + jnp.roll(jnp.flip(lp), 1))
        return lp

    def __repr__(self):
        sr = "" if self.sr is None else f", sr={self.sr}"
        return f"FilterBank({self.family!r}, K={self.n_filters}, Q={self.Q}, J={self.J}{sr})"


def _grid(n):
    """``fftfreq(n)`` with the Nyquist bin (even ``n``) at +0.5, where analytic filters live."""
    f = np.fft.fftfreq(n)
    if n % 2 == 0:
        f[n // 2] = 0.5
    return f


def _dyadic_factor(lo, hi, n):
    j = 0
    while n % (2 ** (j + 1)) == 0 and max(hi, -lo) < 2.0 ** -(j + 2):
        j += 1
    return 2**j


def _window(f, row, eps):
    keep = np.flatnonzero(np.abs(row) >= eps * np.max(np.abs(row)))
    step = f[1] - f[0]
    return (float(max(f[keep[0]] - step, -0.5)), float(min(f[keep[-1]] + step, 0.5)))


_DEFAULT_XI_MAX = {"morlet": None, "gabor": None, "paul": 0.4, "morse": 0.4, "mexican_hat": 0.25}


def filterbank(family="morlet", *, J, Q=8, sr=None, xi_max=None, sigma_phi=None, m=4.0,
               beta=3.0, gamma=3.0, eps=1e-6):
    """Build a constant-Q wavelet filter bank designed in the frequency domain.

    Centre frequencies are ``xi_k = xi_max * 2**(-k/Q)`` for ``k = 0 .. J*Q - 1`` (high to low).
    Morlet and Gabor widths follow the constant-Q rule of Lostanlen (2017) so neighbours cross at
    amplitude ``sqrt(1/2)``; Paul and Morse widths follow from ``m`` or ``(beta, gamma)``
    (Lilly & Olhede 2009); the Mexican hat is a real DoG wavelet. The Gaussian low-pass ``phi``
    covers the frequencies below the lowest wavelet.

    Parameters
    ----------
    family : {"morlet", "gabor", "paul", "morse", "mexican_hat"}
        Wavelet family.
    J : int
        Number of octaves, >= 1.
    Q : int
        Filters per octave, >= 1.
    sr : float or None
        Sample rate in Hz, only for the Hz metadata (``xi_hz``, ``bandwidths_hz``).
    xi_max : float or None
        Highest centre frequency in cycles per sample, in (0, 0.5). The default puts the top
        Morlet/Gabor filter two widths below Nyquist, 0.4 for Paul/Morse, 0.25 for Mexican hat.
    sigma_phi : float or None
        Low-pass width in cycles per sample; default half the lowest centre frequency.
    m : float
        Paul order.
    beta, gamma : float
        Morse parameters (``gamma = 3`` gives the Airy family; ``gamma = 1`` is Paul).
    eps : float
        Relative amplitude below which responses are truncated to exactly zero.

    Returns
    -------
    FilterBank

    Raises
    ------
    ScatterError
        Unknown family, ``J`` or ``Q`` not integers >= 1, ``xi_max`` outside (0, 0.5), the lowest
        centre frequency below one cycle per 2**20 samples, or a non-positive shape parameter.

    Examples
    --------
    >>> from scatter import filterbank
    >>> bank = filterbank("morlet", J=6, Q=4, sr=22050)
    >>> bank.n_filters, round(float(bank.xi_hz[0]))
    (24, 10474)
    """
    if family not in fam.FAMILIES:
        raise ScatterError(f"family must be one of {fam.FAMILIES}, got {family!r}")
    J = check_int(J, "J")
    Q = check_int(Q, "Q")
    if xi_max is None:
        xi_max = _DEFAULT_XI_MAX[family]
        if xi_max is None:
            c = fam.constant_q_sigma(1.0, Q)
            xi_max = 0.5 / (1.0 + 2.0 * c)
    if not 0.0 < float(xi_max) < 0.5:
        raise ScatterError(f"xi_max must be in (0, 0.5) cycles per sample, got {xi_max!r}")
    for name, value in (("m", m), ("beta", beta), ("gamma", gamma), ("eps", eps)):
        if not float(value) > 0.0:
            raise ScatterError(f"{name} must be > 0, got {value!r}")
    xi = float(xi_max) * 2.0 ** (-np.arange(J * Q) / Q)
    if xi[-1] < 2.0**-20:
        raise ScatterError(f"J={J}, Q={Q} put the lowest centre frequency at {xi[-1]:.3g} cycles "
                           "per sample (below 2**-20): lower J or raise xi_max")
    if sigma_phi is None:
        sigma_phi = 0.5 * xi[-1]
    if not float(sigma_phi) > 0.0:
        raise ScatterError(f"sigma_phi must be > 0, got {sigma_phi!r}")
    params = {"xi": xi, "sigma_phi": float(sigma_phi)}
    if family in ("morlet", "gabor"):
        params["sigma"] = np.array([fam.constant_q_sigma(v, Q) for v in xi])
    elif family == "paul":
        params["m"] = float(m)
    elif family == "morse":
        params["beta"], params["gamma"] = float(beta), float(gamma)
    np_params = {k: (np.asarray(v)[:, None] if np.ndim(v) == 1 else v) for k, v in params.items()}
    f = np.linspace(-0.5, 0.5, _GRID)
    resp = fam.response(np, family, f[None, :], np_params)
    windows = tuple(_window(f, row, eps) for row in resp)
    phi_half = float(sigma_phi) * math.sqrt(2.0 * math.log(1.0 / eps))
    phi_window = (max(-phi_half, -0.5), min(phi_half, 0.5))
    jparams = {k: jnp.asarray(v, jnp.float32) for k, v in params.items()}
    return FilterBank(family, jparams, Q=Q, J=J, sr=sr, windows=windows, phi_window=phi_window)
