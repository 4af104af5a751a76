"""Denoising by thresholding wavelet coefficients: CWT -> per-band threshold -> dual frame.

The noisy signal ``y = x + n`` is analysed with :func:`scatter.cwt` (critically subsampled bands,
complex analytic filters); each band-pass band ``k`` is thresholded through the modulus, and the
low-pass band (below the lowest wavelet, about 40 Hz by default) around its mean; then
:func:`scatter.icwt` reconstructs with the canonical dual frame.

**Noise level.** Each coefficient's threshold is chosen from its noise standard deviation:

* ``"global"``: white Gaussian noise of standard deviation ``sigma_x``, so band ``k`` has
  ``sigma_k = sigma_x ||psi_k||``; ``sigma_x`` is read off the finest band by MAD
  (:mod:`scatter.threshold.noise`). Exact for white noise, and the most accurate then (one
  band of many samples, where birds rarely sing, sets every band); far too low for coloured
  noise, whose energy is in other bands.
* ``"band"``: the MAD of each band, constant in time; inflated in bands a song fills.
* ``"tracked"``: each band's own level, following it in time, by minimum statistics
  (:func:`scatter.threshold.tracked_sigma`: the quietest 20-ms blocks of a 1.5-s span, corrected
  for how quiet Gaussian noise alone would be there, then the mean of the blocks that this
  classifies as noise): coloured noise and a level that changes (a gust, a passing car), and a
  song that leaves gaps does not raise it. Thresholds then follow the noise:
  ``t_k(i) = tau_k sigma_k(i)``, with ``tau_k`` chosen by
  :func:`scatter.threshold.local_thresholds`; with ``method="sure"``, on the relative SURE
  risks of band ``k`` and its 3 neighbours on either side (``POOL_BANDS``, about 7/8 of an
  octave), which averages the band-to-band errors of the estimated levels and the variance of
  each band's minimiser (each band's estimate stays unbiased; the low-pass band is chosen
  alone).
* ``"auto"`` (default): ``"global"`` where the recording's noise is white, ``"tracked"``
  otherwise. The test compares, band by band, the tracked level (time RMS) with the white
  prediction: under white noise the bands without signal (at least a quarter of them) agree
  with it, and no band's noise is well below it; the noise counts as white when the first
  quartile of ``log(tracked / white)`` over the bands is at most ``log 2`` and its first decile
  at least ``-log 1.3``.

**Offset.** The low-pass band is thresholded around its mean over the signal (its offset). Where
the noise is white (a ``sigma``, a noise excerpt, ``"global"``, ``"band"``, or ``"auto"``
finding it white) the mean is added back: white noise brings no offset, so the offset is the
signal's own as recorded. Under a tracked level (``"tracked"``, or ``"auto"`` on coloured
noise) it is not: a sound has no constant component, and in a field recording the offset
mixes the recorder's with the background's (real backgrounds often carry one), so dropping it
removes noise that thresholding could not reach; a signal whose own offset matters should be
denoised with ``threshold_lowpass=False``.

**Which risk is minimized.** ``method="sure"`` picks each band's threshold by minimizing Stein's
unbiased estimate of that band's *coefficient-domain* risk ``E|T(W y)_k - (W x)_k|^2``
(:mod:`scatter.threshold.stein`; with a noise level that changes in time, the estimate of
``sum_i sigma_i^2 |h(z_i) - theta_i / sigma_i|^2`` for normalised ``z_i``, which is the same
risk). The signal-domain error is ``|W~ (T(W y) - W x)|^2`` with ``W~`` the dual frame: it lies
between ``1/B`` and ``1/A`` times the coefficient-domain error (``A``, ``B`` the frame bounds of
``W``). Because the total coefficient risk is a sum of per-band terms, and a per-band weighting
does not move a per-band minimizer, the per-band SURE thresholds are also the signal-domain
minimizers up to the cross-band correlations that the dual frame introduces;
``method="oracle"`` (which needs the clean ``reference``) minimizes the same per-band
coefficient-domain error exactly, and is the yardstick used in the tests and in
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
from scatter.threshold.local import apply_local_threshold, local_thresholds
from scatter.threshold.noise import MAD_REAL, mad_sigma
from scatter.threshold.rules import apply_threshold
from scatter.threshold.select import METHODS, select_thresholds
from scatter.threshold.tracking import tracked_sigma

__all__ = ["NOISE_ESTIMATES", "band_noise_gains", "default_octaves", "denoise",
           "noise_correlation", "threshold_bands"]

#: Lowest centre frequency the default number of octaves reaches down to, in Hz.
DEFAULT_FMIN_HZ = 40.0
#: Noise estimators of :func:`denoise` (module docstring).
NOISE_ESTIMATES = ("auto", "tracked", "global", "band")
#: Short-time power block and span of the tracked estimate, in seconds (Martin 2001 used
#: 1.5-s spans): a song that pauses at least once in 1.5 s does not raise the estimate. A
#: longer block averages more of a bursty background's fluctuation (rain drops, pulsed insect
#: choruses, splashes), so its quiet blocks sit closer to its mean power; a shorter one leaves
#: more song-free blocks in a span. 20 ms was chosen among 10, 15, 20, 30 and 40 ms on half of
#: the real-noise cases of ``benchmarks/denoising.py`` and checked on the other half
#: (docs/experiments.md, denoising).
TRACK_BLOCK_S = 0.02
TRACK_SPAN_S = 1.5
#: Neighbouring bands on either side whose relative SURE risks are pooled in the threshold
#: search under a tracked level (:func:`scatter.threshold.local_thresholds`): 3 with Q = 8
#: filters per octave, a window of 7 bands (about 7/8 of an octave). Chosen among 0, 1 and 3 on
#: half of the real-noise cases of ``benchmarks/denoising.py`` and checked on the other half
#: (docs/experiments.md, denoising).
POOL_BANDS = 3
#: The white-noise test of ``"auto"`` (module docstring): first quartile of log(tracked /
#: white) at most log 2, first decile at least -log 1.3.
WHITE_UPPER = math.log(2.0)
WHITE_LOWER = -math.log(1.3)
#: Lags of the noise correlation that set the tracked estimate's degrees of freedom.
_LAGS = 256


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


def noise_correlation(bank, n: int, *, lags: int = _LAGS) -> np.ndarray:
    """Correlation ``|rho_k(m)|`` of each band's coefficients for white noise, at lags ``m``
    of its own (subsampled) sample spacing; the low-pass band last.

    For white noise the coefficients of band ``k`` have ``E[c(t) c*(t + m)] proportional to
    sum_f |psi_k(f)|^2 exp(2 pi i f m d_k)`` (``d_k`` the band's subsampling factor); coloured
    noise that is smooth across a band's width gives nearly the same. It sets the equivalent
    degrees of freedom of the tracked estimate's block powers
    (:func:`scatter.threshold.block_dof`).

    Parameters
    ----------
    bank : scatter.FilterBank
        The filter bank (concrete parameters).
    n : int
        Signal length.
    lags : int
        Number of lags returned.

    Returns
    -------
    numpy.ndarray [shape=(K + 1, lags)]
        ``|rho_k(m)|`` with ``rho_k(0) = 1`` (float64).

    Examples
    --------
    >>> from scatter import filterbank
    >>> rho = noise_correlation(filterbank("morlet", J=2, Q=1), 256)
    >>> rho.shape, float(rho[0, 0])
    ((3, 256), 1.0)
    """
    with jax.ensure_compile_time_eval():
        h = np.concatenate([np.asarray(bank.frequency_response(n), np.float64),
                            np.asarray(bank.phi_response(n), np.float64)[None]])
    dec = bank.decimations(n)
    r = np.fft.ifft(h**2, axis=-1)
    out = np.empty((h.shape[0], lags))
    for k in range(h.shape[0]):
        out[k] = np.abs(r[k, (np.arange(lags) * dec[k]) % n]) / max(abs(r[k, 0]), 1e-30)
    return out


def threshold_bands(
    bands,
    sigmas,
    *,
    method: str = "sure",
    reference=None,
    rule: str = "soft",
    firm_ratio: float = 2.0,
    pool: int = 0,
):
    """Select and apply one threshold per band of a CWT coefficient list.

    The bands are zero-padded to the longest one and processed as one array (vectorized over
    bands and batch, one compiled search), with their valid ``lengths``.

    Parameters
    ----------
    bands : list of jax.Array [shape=(..., n_k)]
        Coefficients, one array per band (real bands, such as the low-pass, are detected).
    sigmas : jax.Array [shape=(..., K)] or list of jax.Array [shape=(..., n_k)]
        Noise standard deviation of each band's coefficients: one per band, or one per
        coefficient (a level that changes in time; the thresholds are then ``tau_k`` times it,
        :func:`scatter.threshold.local_thresholds`).
    method : {"sure", "universal", "bayes", "oracle"}
        Threshold selection.
    reference : list of jax.Array, optional
        Clean coefficients in the same layout (``"oracle"`` only).
    rule : {"hard", "soft", "garrote", "firm"}
        Thresholding rule.
    firm_ratio : float
        ``mu > 1`` of the firm rule.
    pool : int
        With per-coefficient ``sigmas`` and ``method="sure"``: each band's relative threshold
        is chosen on its own and its ``pool`` neighbours' relative risks on either side
        (:func:`scatter.threshold.local_thresholds`); 0 chooses each band alone.

    Returns
    -------
    thresholded : list of jax.Array
        Same layout as ``bands``.
    thresholds : jax.Array [shape=(..., K)]
        The thresholds used; with per-coefficient ``sigmas``, the relative thresholds
        ``tau_k``.

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
    if isinstance(sigmas, (list, tuple)):
        lead = stack.shape[:-2]
        local = padded([jnp.broadcast_to(s, lead + (c.shape[-1],))
                        for s, c in zip(sigmas, bands, strict=True)], stack.real.dtype)
        t = local_thresholds(stack, local, method=method, reference=ref, rule=rule,
                             firm_ratio=firm_ratio, lengths=lengths,
                             pool=pool if method == "sure" else 0)
        done = apply_local_threshold(stack, t, local, rule=rule, firm_ratio=firm_ratio)
    else:
        t = select_thresholds(stack, method=method, sigma=sigmas, reference=ref, rule=rule,
                              firm_ratio=firm_ratio, lengths=lengths)
        done = apply_threshold(stack, t, rule=rule, firm_ratio=firm_ratio)
    out = [done[..., k, : lengths[k]] for k in range(len(bands))]
    return out, t


def _tracked(bands, bank, n, sr, dof):
    """Per-coefficient tracked noise levels of ``bands`` (band-pass bands, then optionally
    the low-pass one), grouped by subsampling factor and kind (complex or real) so that each
    group is one call."""
    dec = bank.decimations(n)
    rho = noise_correlation(bank, n)
    out = [None] * len(bands)
    for d, kind in sorted({(dec[k], dof[k]) for k in range(len(bands))}):
        idx = [k for k in range(len(bands)) if dec[k] == d and dof[k] == kind]
        group = jnp.stack([bands[k] for k in idx], axis=-2)
        block = max(1, round(TRACK_BLOCK_S * sr / d))
        span = max(1, round(TRACK_SPAN_S * sr / d))
        sig = tracked_sigma(group, block=block, span=span, dof=kind,
                            correlation=rho[np.array(idx)])
        for pos, k in enumerate(idx):
            out[k] = sig[..., pos, :]
    return out


def _is_white(tracked, white):
    """The ``"auto"`` test (module docstring) from per-coefficient tracked levels and per-band
    white predictions ``(..., K)``; True where the noise counts as white, shape ``(...)``."""
    level = jnp.stack([jnp.sqrt(jnp.mean(s**2, axis=-1)) for s in tracked], axis=-1)
    ok = (level > 0) & (white > 0)
    ratio = jnp.log(jnp.where(ok, level, 1.0) / jnp.where(ok, white, 1.0))
    ratio = jnp.where(ok, ratio, jnp.inf)
    return ((jnp.quantile(ratio, 0.25, axis=-1) <= WHITE_UPPER)
            & (jnp.quantile(ratio, 0.1, axis=-1) >= WHITE_LOWER))


def _noise_levels(bands, low, bank, n, sr, sigma, noise, noise_estimate, lowpass):
    """Noise standard deviations of the bands to threshold (band-pass bands, then the
    centred low-pass band with ``lowpass``): ``(..., K [+ 1])`` constant per band, or a list
    of per-coefficient arrays (``"tracked"``, ``"auto"``); and, for ``"auto"``, where the
    noise was found white (``(...)`` booleans), else None."""
    lead = bands[0].shape[:-1]
    gains = band_noise_gains(bank, n)
    phi_gain = jnp.sqrt(jnp.mean(bank.phi_response(n) ** 2))
    if lowpass:
        gains = jnp.concatenate([gains, phi_gain[None]])
    todo = list(bands) + ([low] if lowpass else [])
    K = len(todo)
    if sigma is not None:
        return jnp.broadcast_to(sigma[..., None] * gains, lead + (K,)), None
    if noise is not None:
        coeffs = cwt(noise, bank=bank, subsample=False)
        coeffs = coeffs[:-1] + ([coeffs[-1] - jnp.mean(coeffs[-1], -1, keepdims=True)]
                                if lowpass else [])
        rms = jnp.stack([jnp.sqrt(jnp.mean(jnp.abs(c) ** 2, axis=-1)) for c in coeffs], -1)
        return jnp.broadcast_to(rms, lead + (K,)), None
    white = mad_sigma(bands[0][..., None, :])[..., 0] / gains[0]
    white = white[..., None] * gains
    if noise_estimate == "global":
        return white, None
    if noise_estimate == "band":
        mads = [mad_sigma(c[..., None, :])[..., 0] for c in bands]
        if lowpass:
            mads.append(jnp.median(jnp.abs(low), axis=-1) / MAD_REAL)
        return jnp.stack(mads, axis=-1), None
    dof = [2 if bank.analytic else 1] * len(bands) + [1]
    tracked = _tracked(todo, bank, n, sr, dof)
    if noise_estimate == "tracked":
        return tracked, jnp.zeros(lead, bool)
    white_here = _is_white(tracked[: len(bands)], white[..., : len(bands)])
    return ([jnp.where(white_here[..., None], white[..., k : k + 1], tracked[k])
             for k in range(K)], white_here)


def _pooled_where_tracked(todo, levels, white, n_bandpass, rule, firm_ratio):
    """SURE thresholds under per-coefficient levels: the band-pass bands pooled over
    ``POOL_BANDS`` neighbours where the level is tracked, each band alone where the noise was
    found white (its levels are then exact, one global level scaled by the filter gains); the
    low-pass band (if in ``todo``) alone."""
    kw = dict(method="sure", rule=rule, firm_ratio=firm_ratio)
    nb = n_bandpass
    out, t = threshold_bands(todo[:nb], levels[:nb], pool=POOL_BANDS, **kw)
    alone, t_alone = threshold_bands(todo[:nb], levels[:nb], **kw)
    w = white[..., None]
    out = [jnp.where(w, a, b) for a, b in zip(alone, out, strict=True)]
    t = jnp.where(w, t_alone, t)
    if len(todo) > nb:
        low, t_low = threshold_bands(todo[nb:], levels[nb:], **kw)
        out, t = out + low, jnp.concatenate([t, t_low], axis=-1)
    return out, t


@partial(jit, static_argnames=("wavelet", "J", "Q", "sr", "method", "rule", "firm_ratio",
                               "noise_estimate", "lowpass"))
def _denoise_core(y, reference, sigma, noise, *, wavelet, J, Q, sr, method, rule, firm_ratio,
                  noise_estimate, lowpass):
    """The whole transform -> threshold -> inverse chain as one compiled program per shape."""
    n = y.shape[-1]
    with jax.ensure_compile_time_eval():  # concrete filters: their correlations are static
        bank = filterbank(wavelet, J=J, Q=Q)  # the sample rate only labels frequencies in Hz
    coeffs = cwt(y, bank=bank, subsample=True)
    bands, low = coeffs[:-1], coeffs[-1]
    mean = jnp.mean(low, axis=-1, keepdims=True)
    centred = low - mean
    levels, white = _noise_levels(bands, centred, bank, n, sr, sigma, noise, noise_estimate,
                                  lowpass)
    if white is not None:  # tracked levels: the window's offset is not kept (module docstring)
        mean = jnp.where(white[..., None], mean, 0.0)
    todo = list(bands) + ([centred] if lowpass else [])
    ref = None
    if reference is not None:
        rc = cwt(reference, bank=bank, subsample=True)
        ref = rc[:-1] + ([rc[-1] - mean] if lowpass else [])
    if white is not None and method == "sure":
        out, thresholds = _pooled_where_tracked(todo, levels, white, len(bands), rule,
                                                firm_ratio)
    else:
        out, thresholds = threshold_bands(todo, levels, method=method, reference=ref, rule=rule,
                                          firm_ratio=firm_ratio)
    if isinstance(levels, list):
        levels = jnp.stack([jnp.sqrt(jnp.mean(jnp.broadcast_to(s, c.shape) ** 2, axis=-1))
                            for s, c in zip(levels, todo, strict=True)], axis=-1)
        thresholds = thresholds * levels
    levels = jnp.broadcast_to(levels, y.shape[:-1] + (len(todo),))
    new_low = out.pop() + mean if lowpass else low
    out = icwt(list(out) + [new_low], bank=bank, n=n)
    # an all-zero input has zero coefficients: the result is exactly zero (no NaN anywhere)
    out = jnp.where(jnp.all(y == 0, axis=-1, keepdims=True), 0.0, out).astype(jnp.float32)
    return out, thresholds, levels


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
    noise_estimate: str = "auto",
    threshold_lowpass: bool = True,
    firm_ratio: float = 2.0,
    return_thresholds: bool = False,
):
    """Remove background noise from a signal by thresholding its wavelet coefficients.

    CWT (:func:`scatter.cwt`, subsampled) -> one threshold per band, following each band's
    noise level -> inverse with the dual frame (:func:`scatter.icwt`). White, coloured and
    changing noise (field recordings: insects, rain, wind, traffic) are handled by the default
    ``noise_estimate="auto"``. See the module docstring for the noise estimators and for which
    risk each method minimizes.

    Parameters
    ----------
    y : jax.Array [shape=(..., n)]
        Real noisy signal(s), time last.
    sr : float
        Sample rate in Hz (sets the default number of octaves and the tracked estimate's
        20-ms blocks and 1.5-s spans).
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
        Known standard deviation of white noise in ``y``, ``> 0``.
    noise : jax.Array [shape=(..., m)], optional
        A noise-only excerpt (same recording conditions); each band's noise level is measured on
        its coefficients, which also covers coloured noise.
    noise_estimate : {"auto", "tracked", "global", "band"}
        Without ``sigma``/``noise``: how each band's noise level is estimated (module
        docstring). ``"auto"``: ``"global"`` for white noise, ``"tracked"`` otherwise.
    threshold_lowpass : bool
        Also threshold the low-pass band (below the lowest wavelet) around its mean, where wind,
        traffic and handling rumble lie, and, under a tracked level, drop that mean (the
        offset; module docstring); False keeps the band, offset included, as is.
    firm_ratio : float
        ``mu > 1`` of the firm rule.
    return_thresholds : bool
        Also return the thresholds and noise levels used, ``(..., K)`` (``(..., K + 1)`` with
        the low-pass band last when it is thresholded); for a level that changes in time, its
        RMS over time and the relative threshold times it.

    Returns
    -------
    jax.Array [shape=(..., n), dtype=float32]
        The denoised signal; an all-zero ``y`` returns zeros. With ``return_thresholds``, a tuple
        ``(signal, thresholds, sigmas)``.

    Raises
    ------
    ScatterError
        ``y`` complex, of rank 0, empty or non-finite; unknown method, rule, wavelet or noise
        estimate; ``method="oracle"`` without ``reference`` or with one of another shape;
        ``sigma <= 0`` or non-finite; both ``sigma`` and ``noise``; a silent noise excerpt;
        ``sr <= 0``.

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
    if noise_estimate not in NOISE_ESTIMATES:
        raise ScatterError(f"noise_estimate={noise_estimate!r} is not a noise estimator; "
                           f"expected one of {NOISE_ESTIMATES}: 'auto' (white or tracked), "
                           "'tracked' (each band's level over time), 'global' (white noise) "
                           "or 'band' (MAD per band)")
    if not isinstance(threshold_lowpass, (bool, np.bool_)):
        raise ScatterError(f"threshold_lowpass={threshold_lowpass!r} must be True or False")
    if J is None:
        J = default_octaves(float(sr), n, wavelet=wavelet, Q=Q)
    filterbank(wavelet, J=J, Q=Q, sr=float(sr))  # validates the bank options eagerly
    out, thresholds, sigmas = _denoise_core(
        y, reference if method == "oracle" else None, sigma, noise, wavelet=wavelet, J=int(J),
        Q=int(Q), sr=float(sr), method=method, rule=rule, firm_ratio=float(firm_ratio),
        noise_estimate=noise_estimate, lowpass=bool(threshold_lowpass),
    )
    if noise is not None and bool(jnp.any(sigmas <= 0)):
        raise ScatterError("noise excerpt is silent in some band; expected background noise")
    if return_thresholds:
        return out, thresholds, sigmas
    return out
