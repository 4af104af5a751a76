"""Denoising by thresholding wavelet coefficients: CWT -> per-band threshold -> dual frame.

The noisy signal ``y = x + n`` (``n`` white Gaussian, standard deviation ``sigma_x``) is analysed
with :func:`scatter.cwt` (critically subsampled bands, complex analytic filters); each band-pass
band ``k`` is thresholded through the modulus with its own threshold, chosen from the band's noise
level ``sigma_k = sigma_x ||psi_k||`` (see :mod:`scatter.threshold.noise`); the low-pass band is
kept as is; :func:`scatter.icwt` reconstructs with the canonical dual frame.

**Which risk is minimized.** ``method="sure"`` picks each band's threshold by minimizing Stein's
unbiased estimate of that band's *coefficient-domain* risk ``E|T(W y)_k - (W x)_k|^2``
(:mod:`scatter.threshold.stein`). The signal-domain error is ``|W~ (T(W y) - W x)|^2`` with
``W~`` the dual frame: it lies between ``1/B`` and ``1/A`` times the coefficient-domain error
(``A``, ``B`` the frame bounds of ``W``). Because the total coefficient risk is a sum of per-band
terms, and a per-band weighting does not move a per-band minimizer, the per-band SURE thresholds
are also the signal-domain minimizers up to the cross-band correlations that the dual frame
introduces; ``method="oracle"`` (which needs the clean ``reference``) minimizes the same
per-band coefficient-domain error exactly, and is the yardstick used in the tests and in
``benchmarks/denoising.py``.
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from scatter._compile import jit
from scatter._signal import check_signal
from scatter.cwt import cwt, icwt
from scatter.errors import ScatterError
from scatter.filters import filterbank
from scatter.threshold._checks import check_rule, check_sigma_concrete
from scatter.threshold.noise import mad_sigma
from scatter.threshold.rules import apply_threshold
from scatter.threshold.select import METHODS, select_thresholds

__all__ = ["band_noise_gains", "default_octaves", "denoise", "threshold_bands"]

#: Lowest centre frequency the default number of octaves reaches down to, in Hz.
DEFAULT_FMIN_HZ = 40.0


def default_octaves(sr: float, n: int, *, wavelet: str = "morlet", Q: int = 8) -> int:
    """Number of octaves ``J`` reaching down to about 40 Hz, limited by the signal length.

    Parameters
    ----------
    sr : float
        Sample rate in Hz.
    n : int
        Signal length in samples.
    wavelet : str
        Filter family (its highest centre frequency depends on it).
    Q : int
        Filters per octave.

    Returns
    -------
    int
        ``J >= 1``.

    Examples
    --------
    >>> default_octaves(44100, 2**16)
    8
    """
    top = float(filterbank(wavelet, J=1, Q=Q).xi[0])
    j_freq = math.floor(math.log2(top * sr / DEFAULT_FMIN_HZ))
    j_len = math.floor(math.log2(max(n, 2))) - 5  # lowest filter a few dozen cycles in the signal
    return max(1, min(j_freq, j_len))


def band_noise_gains(bank, n: int) -> jax.Array:
    """Noise gain ``||psi_k||_2`` of each band-pass filter for signals of length ``n``.

    For white noise of variance ``s^2``, every coefficient of band ``k`` (subsampled or not) has
    ``E|c|^2 = s^2 ||psi_k||^2 = s^2 mean_f |psi_k(f)|^2`` (Parseval on the DFT grid).

    Parameters
    ----------
    bank : scatter.FilterBank
        The filter bank.
    n : int
        Signal length.

    Returns
    -------
    jax.Array [shape=(K,)]
        One gain per band-pass filter (the low-pass is not included).

    Examples
    --------
    >>> from scatter import filterbank
    >>> band_noise_gains(filterbank("morlet", J=2, Q=1), 256).shape
    (2,)
    """
    h = bank.frequency_response(n)
    return jnp.sqrt(jnp.mean(h**2, axis=-1))


def threshold_bands(
    bands,
    sigmas: jax.Array,
    *,
    method: str = "sure",
    reference=None,
    rule: str = "soft",
    firm_ratio: float = 2.0,
):
    """Select and apply one threshold per band of a CWT coefficient list.

    The bands are zero-padded to the longest one and processed as one array (vectorized over
    bands and batch, one compiled search), with their valid ``lengths``.

    Parameters
    ----------
    bands : list of jax.Array [shape=(..., n_k)]
        Band-pass coefficients (the ``K`` first entries of :func:`scatter.cwt`'s list).
    sigmas : jax.Array [shape=(..., K)]
        Noise standard deviation of each band's coefficients.
    method : {"sure", "universal", "bayes", "oracle"}
        Threshold selection.
    reference : list of jax.Array, optional
        Clean coefficients in the same layout (``"oracle"`` only).
    rule : {"hard", "soft", "garrote", "firm"}
        Thresholding rule.
    firm_ratio : float
        ``mu > 1`` of the firm rule.

    Returns
    -------
    thresholded : list of jax.Array
        Same layout as ``bands``.
    thresholds : jax.Array [shape=(..., K)]
        The thresholds used.

    Raises
    ------
    ScatterError
        As :func:`scatter.threshold.select_thresholds`.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> out, t = threshold_bands([jnp.ones(8) * 3.0, jnp.zeros(4)], jnp.array([1.0, 1.0]),
    ...                          method="universal")
    >>> t.shape
    (2,)
    """
    lengths = np.array([int(c.shape[-1]) for c in bands])
    n_max = int(lengths.max())

    def padded(arrays, dtype):
        return jnp.stack([jnp.pad(jnp.asarray(c).astype(dtype),
                                  [(0, 0)] * (jnp.ndim(c) - 1) + [(0, n_max - c.shape[-1])])
                          for c in arrays], axis=-2)

    dtype = jnp.result_type(*[c.dtype for c in bands])
    stack = padded(bands, dtype)
    ref = None if reference is None else padded(reference, dtype)
    t = select_thresholds(stack, method=method, sigma=sigmas, reference=ref, rule=rule,
                          firm_ratio=firm_ratio, lengths=lengths)
    done = apply_threshold(stack, t, rule=rule, firm_ratio=firm_ratio)
    out = [done[..., k, : lengths[k]] for k in range(len(bands))]
    return out, t


def _noise_sigmas(bands, gains, bank, sigma, noise, noise_estimate):
    """Per-band noise standard deviations ``(..., K)`` from one of the three sources."""
    if sigma is not None:
        return sigma[..., None] * gains
    if noise is not None:
        coeffs = cwt(noise, bank=bank, subsample=False)[:-1]
        return jnp.stack([jnp.sqrt(jnp.mean(jnp.abs(c) ** 2, axis=-1)) for c in coeffs], -1)
    if noise_estimate == "global":
        white = mad_sigma(bands[0][..., None, :])[..., 0] / gains[0]
        return white[..., None] * gains
    return jnp.stack([mad_sigma(c[..., None, :])[..., 0] for c in bands], axis=-1)


@partial(jit, static_argnames=("wavelet", "J", "Q", "method", "rule", "firm_ratio",
                               "noise_estimate"))
def _denoise_core(y, reference, sigma, noise, *, wavelet, J, Q, method, rule, firm_ratio,
                  noise_estimate):
    """The whole transform -> threshold -> inverse chain as one compiled program per shape."""
    n = y.shape[-1]
    bank = filterbank(wavelet, J=J, Q=Q)  # the sample rate only labels frequencies in Hz
    coeffs = cwt(y, bank=bank, subsample=True)
    bands, low = coeffs[:-1], coeffs[-1]
    gains = band_noise_gains(bank, n)
    sigmas = _noise_sigmas(bands, gains, bank, sigma, noise, noise_estimate)
    sigmas = jnp.broadcast_to(sigmas, y.shape[:-1] + (len(bands),))
    ref_bands = None if reference is None else cwt(reference, bank=bank, subsample=True)[:-1]
    out_bands, thresholds = threshold_bands(
        bands, sigmas, method=method, reference=ref_bands, rule=rule, firm_ratio=firm_ratio
    )
    out = icwt(list(out_bands) + [low], bank=bank, n=n)
    # an all-zero input has zero coefficients: the result is exactly zero (no NaN anywhere)
    out = jnp.where(jnp.all(y == 0, axis=-1, keepdims=True), 0.0, out).astype(jnp.float32)
    return out, thresholds, sigmas


def denoise(
    y,
    *,
    sr: float,
    method: str = "sure",
    reference=None,
    rule: str = "soft",
    wavelet: str = "morlet",
    J: int | None = None,
    Q: int = 8,
    sigma=None,
    noise=None,
    noise_estimate: str = "global",
    firm_ratio: float = 2.0,
    return_thresholds: bool = False,
):
    """Remove white Gaussian noise from a signal by thresholding its wavelet coefficients.

    CWT (:func:`scatter.cwt`, subsampled) -> one threshold per band-pass band -> inverse with the
    dual frame (:func:`scatter.icwt`). See the module docstring for which risk each method
    minimizes.

    Parameters
    ----------
    y : jax.Array [shape=(..., n)]
        Real noisy signal(s), time last.
    sr : float
        Sample rate in Hz (sets the default number of octaves).
    method : {"sure", "universal", "bayes", "oracle"}
        Threshold selection per band (``"oracle"`` needs ``reference``).
    reference : jax.Array [shape=(..., n)], optional
        The clean signal, for ``method="oracle"``.
    rule : {"hard", "soft", "garrote", "firm"}
        Thresholding rule (``method="sure"`` excludes ``"hard"``).
    wavelet : {"morlet", "gabor", "paul", "morse", "mexican_hat"}
        Filter family of :func:`scatter.filterbank`. The analytic families give complex
        coefficients with circular noise; the real ``"mexican_hat"`` gives real ones, which are
        detected and handled as real (:func:`scatter.threshold.components`).
    J : int, optional
        Octaves; default :func:`default_octaves` (down to about 40 Hz).
    Q : int
        Filters per octave.
    sigma : float or jax.Array [shape=(...)], optional
        Known standard deviation of the white noise in ``y``, ``> 0``.
    noise : jax.Array [shape=(..., m)], optional
        A noise-only excerpt (same recording conditions); each band's noise level is measured on
        its coefficients, which also covers coloured noise.
    noise_estimate : {"global", "band"}
        Without ``sigma``/``noise``: MAD of the finest band scaled to the others by the filter
        norms (``"global"``), or the MAD of each band (``"band"``).
    firm_ratio : float
        ``mu > 1`` of the firm rule.
    return_thresholds : bool
        Also return the thresholds ``(..., K)`` and noise levels ``(..., K)`` used.

    Returns
    -------
    jax.Array [shape=(..., n), dtype=float32]
        The denoised signal; an all-zero ``y`` returns zeros. With ``return_thresholds``, a tuple
        ``(signal, thresholds, sigmas)``.

    Raises
    ------
    ScatterError
        ``y`` complex, of rank 0, empty or non-finite; unknown method, rule or wavelet;
        ``method="oracle"`` without ``reference`` or with one of another shape; ``sigma <= 0``
        or non-finite; both ``sigma`` and ``noise``; a silent noise excerpt; ``sr <= 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from scatter.denoise import denoise
    >>> sr, t = 8000, np.arange(4096) / 8000
    >>> clean = np.sin(2 * np.pi * 440 * t).astype("float32")
    >>> noisy = clean + 0.3 * np.random.default_rng(0).normal(size=t.size).astype("float32")
    >>> out = denoise(noisy, sr=sr)
    >>> snr = lambda z: 10 * np.log10(np.sum(clean**2) / np.sum((np.asarray(z) - clean) ** 2))
    >>> bool(snr(out) > snr(noisy) + 10)
    True
    """
    if method not in METHODS:
        raise ScatterError(f"method={method!r} is not a threshold selector; expected one of "
                           f"{METHODS}")
    check_rule(rule, firm_ratio)
    if rule == "hard" and method == "sure":
        raise ScatterError("rule='hard' has no Stein unbiased risk estimate; with method='sure' "
                           "use rule='soft', 'garrote' or 'firm'")
    if not (isinstance(sr, (int, float, np.integer, np.floating)) and float(sr) > 0
            and math.isfinite(float(sr))):
        raise ScatterError(f"sr={sr!r} must be a positive sample rate in Hz")
    y = check_signal(y, "y")
    if jnp.iscomplexobj(y):
        raise ScatterError("y must be a real signal; got a complex array")
    n = y.shape[-1]
    if n < 2:
        raise ScatterError(f"y has {n} sample(s) on its last axis; expected at least 2")
    if method == "oracle":
        if reference is None:
            raise ScatterError("method='oracle' needs reference=, the clean signal (same shape "
                               "as y)")
        reference = check_signal(reference, "reference")
        if reference.shape != y.shape:
            raise ScatterError(f"reference has shape {tuple(reference.shape)} but y has shape "
                               f"{tuple(y.shape)}; expected the clean signal, same shape")
    if sigma is not None and noise is not None:
        raise ScatterError("pass either sigma= (known noise level) or noise= (a noise-only "
                           "excerpt), not both")
    if sigma is not None:
        check_sigma_concrete(sigma, "sigma")
        sigma = jnp.asarray(sigma, jnp.float32)
    if noise is not None:
        noise = check_signal(noise, "noise")
        if jnp.iscomplexobj(noise):
            raise ScatterError("noise must be a real signal (a noise-only excerpt of y)")
        if noise.shape[-1] < 64:
            raise ScatterError(f"noise has {noise.shape[-1]} samples; expected a noise-only "
                               "excerpt of at least 64 samples")
        if not isinstance(noise, jax.core.Tracer) and bool(jnp.any(jnp.all(noise == 0, -1))):
            raise ScatterError("noise excerpt is silent (all zeros); expected background noise")
    if noise_estimate not in ("global", "band"):
        raise ScatterError(f"noise_estimate={noise_estimate!r} is not a noise estimator; "
                           "expected 'global' (MAD of the finest band, scaled by filter norms) "
                           "or 'band'")
    if J is None:
        J = default_octaves(float(sr), n, wavelet=wavelet, Q=Q)
    filterbank(wavelet, J=J, Q=Q, sr=float(sr))  # validates the bank options eagerly
    out, thresholds, sigmas = _denoise_core(
        y, reference if method == "oracle" else None, sigma, noise, wavelet=wavelet, J=int(J),
        Q=int(Q), method=method, rule=rule, firm_ratio=float(firm_ratio),
        noise_estimate=noise_estimate,
    )
    if noise is not None and bool(jnp.any(sigmas <= 0)):
        raise ScatterError("noise excerpt is silent in some band; expected background noise")
    if return_thresholds:
        return out, thresholds, sigmas
    return out
