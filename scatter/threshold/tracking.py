r"""Noise levels that follow each band in time: low order statistics over a sliding span.

Field recordings have coloured noise (insects, rain, wind, traffic each fill their own bands)
whose level changes within a recording (a gust, a passing car, insects starting at dusk). This
module estimates the noise of every band at every instant from the noisy coefficients alone, in
a way that a signal such as a song cannot inflate as long as it leaves gaps in each span: it
reads the *quietest* part of each span and corrects for how quiet noise alone would have been
there. Two noise models, for the two kinds of coefficients the package thresholds:

**Zero-mean coefficients** (:func:`tracked_sigma`; wavelet bands, moduli of complex
coefficients). In band ``k``, ``c_k(t) = theta_k(t) + n_k(t)`` with ``n_k(t)`` Gaussian (circular
complex, ``dof = 2``, or real, ``dof = 1``), ``E|n_k(t)|^2 = sigma_k(t)^2`` changing slowly
compared with ``span``, possibly correlated between neighbouring coefficients, and the signal
``theta_k`` absent from some blocks of every span. Minimum statistics (R. Martin, "Noise power
spectral density estimation based on optimal smoothing and minimum statistics", IEEE Trans.
Speech Audio Process. 9(5), 2001), then a conditional average (I. Cohen, "Noise spectrum
estimation in adverse environments: improved minima controlled recursive averaging", IEEE
Trans. Speech Audio Process. 11(5), 2003):

1. short-time power: the mean of ``|c|^2`` over non-overlapping blocks of ``block`` samples;
2. in a window of ``D = span / block`` blocks centred on each estimation point (points ``hop``
   samples apart; windows shifted inward at the ends of the signal), the order statistic of rank
   ``r = floor(quantile * D)`` (0: the minimum, Martin's choice);
3. bias correction: in noise only a block power is approximately ``sigma^2 X`` with
   ``X ~ Gamma(nu, 1/nu)`` (mean 1), where the equivalent degrees of freedom
   ``nu = (dof / 2) block^2 / sum_{i,j} |rho(i - j)|^2`` follow from the noise's correlation
   ``rho`` between coefficients (Martin's ``Q_eq``; :func:`block_dof`). The order statistic is
   divided by ``E[X_(r+1:D)]``, the mean of the ``(r+1)``-th smallest of ``D`` independent such
   variables (:func:`order_statistic_mean`), which makes it unbiased for independent blocks;
4. with ``refine`` (the default), the blocks of the window whose power lies below the 99 % point
   of ``sigma^2 X`` (with the estimate of step 3) are taken as noise-only and averaged, divided
   by ``E[X | X <= x_99]``: Cohen's second, minimum-controlled stage, which uses every
   noise-only block instead of one and so has a fraction of the variance of the minimum. The
   pass is repeated three times, each with the cut-off of the previous estimate: a minimum
   that fell low by chance (it varies much more than the mean) then no longer drags the
   cut-off, and the estimate, down (the fixed point of the pass is the noise level);
5. ``sigma_k(t)^2``: linear interpolation of the estimates between points.

Martin and Cohen track causally, frame by frame; here the whole signal is available, so the
window is centred (no delay) and the smoothing is a block mean, whose equivalent degrees of
freedom are known exactly. Noise that is not Gaussian at the scale of a block (rain drops,
pulsed insect calls) has block powers spread wider than ``Gamma(nu)``: its quiet blocks sit
lower, and the estimate is then below its mean power.

**Averaged coefficients** (:func:`tracked_floor`; low-passed envelopes such as scattering
coefficients ``S``). In noise a path is a floor ``mu(t)`` plus a nearly Gaussian fluctuation of
standard deviation ``sigma(t)``; a signal only adds to it. Two low order statistics ``Q_1``,
``Q_2`` of the frames of a span have means ``mu + a_i sigma`` with ``a_i`` the means of the
standard normal order statistics of the same ranks, so ``sigma = (Q_2 - Q_1) / (a_2 - a_1)``
and ``mu = Q_1 - a_1 sigma`` are unbiased for independent frames (the best linear estimators of
location and scale from two order statistics: E. H. Lloyd, "Least-squares estimation of
location and scale parameters using order statistics", Biometrika 39, 1952). A signal present
in up to ``1 - quantiles[1]`` of a span's frames leaves both statistics noise-only; they then
read slightly higher quantiles of the noise (the ``(r+1)``-th smallest of fewer noise frames),
so the floor rises by a fraction of ``sigma`` instead of by the signal's level.

Everything that shapes the computation (block, span, hop, ranks, the bias factors) is static:
both estimators work under ``jax.jit`` with the coefficients traced.
"""

from __future__ import annotations

import math
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np

from scatter.errors import ScatterError
from scatter.threshold import _sortnet
from scatter.threshold._checks import as_coeffs, check_finite_concrete, real_dtype

__all__ = ["block_dof", "normal_order_statistic_mean", "order_statistic_mean", "tracked_floor",
           "tracked_sigma"]

#: Quadrature nodes of the order-statistic means (midpoint rule in the uniform quantile).
_NODES = 16384
#: Probability that a noise-only block lies below the refinement's cut-off.
_NOISE_LEVEL = 0.99
#: Passes of the refinement (each sets its cut-off from the previous estimate).
_REFINE_STEPS = 3


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ScatterError(f"{name}={value!r} must be an integer >= 1 (a number of samples)")
    return int(value)


def _fraction(name, value, upper):
    if isinstance(value, bool) or not (isinstance(value, (int, float, np.floating))
                                       and 0.0 <= float(value) <= upper):
        raise ScatterError(f"{name}={value!r} must be a number in [0, {upper}]")
    return float(value)


def _check_rank(count, rank):
    count = _positive_int("count", count)
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or not (
            0 <= rank < count):
        raise ScatterError(f"rank={rank!r} must be an integer in [0, {count - 1}]")
    return count, int(rank)


def block_dof(block: int, *, dof: int = 2, correlation=None) -> np.ndarray:
    """Equivalent degrees of freedom ``nu`` of a block mean of ``|c|^2`` in Gaussian noise.

    ``nu = E[P]^2 / Var[P]`` for ``P = mean_{i < block} |c_i|^2``: with correlation ``rho``
    between coefficients ``m`` apart, ``Var[P] = (2 / dof) sigma^4 sum_{i,j} |rho(i-j)|^2 /
    block^2`` (Isserlis' theorem), so ``nu = (dof / 2) block^2 / (block + 2 sum_{m >= 1}
    (block - m) |rho(m)|^2)``.

    Parameters
    ----------
    block : int
        Coefficients per block, ``>= 1``.
    dof : {1, 2}
        Real components per coefficient (2: circular complex).
    correlation : array_like [shape=(..., L)], optional
        ``|rho(m)|`` for lags ``m = 0, 1, ..., L - 1`` (``rho(0) = 1``); lags beyond ``L``
        count as uncorrelated. None: independent coefficients.

    Returns
    -------
    numpy.ndarray [shape=(...)]
        ``nu`` (float64); ``dof * block / 2`` for independent coefficients.

    Raises
    ------
    ScatterError
        ``block < 1`` or ``dof`` not 1 or 2.

    Examples
    --------
    >>> float(block_dof(8, dof=2))
    8.0
    >>> round(float(block_dof(2, dof=2, correlation=[1.0, 1.0])), 3)   # fully correlated pair
    1.0
    """
    block = _positive_int("block", block)
    if dof not in (1, 2) or isinstance(dof, bool):
        raise ScatterError(f"dof={dof!r} must be 1 (real) or 2 (complex)")
    if correlation is None:
        return np.asarray(dof * block / 2.0)
    rho = np.abs(np.asarray(correlation, np.float64))
    lags = np.arange(1, min(block, rho.shape[-1]))
    total = block + 2.0 * np.sum((block - lags) * rho[..., lags] ** 2, axis=-1)
    return (dof / 2.0) * block**2 / total


@lru_cache(maxsize=64)
def _uniform_order_statistics(count: int, rank: int) -> np.ndarray:
    """Quantiles ``B^-1(v)`` of the ``(rank+1)``-th smallest of ``count`` uniforms at the
    midpoints ``v`` of ``_NODES`` cells: ``E[g(U_(k))]`` is the mean of ``g`` over them.
    Cached (read-only): every band of a tracked estimate shares its window's count and rank."""
    from scipy import special

    v = (np.arange(_NODES) + 0.5) / _NODES
    out = special.betaincinv(rank + 1, count - rank, v)
    out.flags.writeable = False
    return out


@lru_cache(maxsize=4096)
def _gamma_order_mean(nu: float, count: int, rank: int) -> float:
    from scipy import special

    # X_(k) = F^-1(U_(k)): its mean is the integral of F^-1(B^-1(v)) over v in (0, 1)
    u = _uniform_order_statistics(count, rank)
    return float(np.mean(special.gammaincinv(nu, u)) / nu)


@lru_cache(maxsize=4096)
def _normal_order_mean(count: int, rank: int) -> float:
    from scipy import special

    return float(np.mean(special.ndtri(_uniform_order_statistics(count, rank))))


def order_statistic_mean(nu, count: int, rank: int) -> np.ndarray:
    """Mean of the ``(rank + 1)``-th smallest of ``count`` independent ``Gamma(nu, 1/nu)``.

    The bias of the order statistic of noise-only block powers (module docstring, step 3).
    Computed as the mean of ``F^-1(U_(rank+1))`` over the quantiles of the uniform order
    statistic (relative error about ``1e-5``).

    Parameters
    ----------
    nu : float or array_like [shape=(...)]
        Shape parameter(s) (equivalent degrees of freedom), ``> 0``.
    count : int
        Number of variables, ``>= 1``.
    rank : int
        0-based rank, ``0 <= rank < count`` (0: the minimum).

    Returns
    -------
    numpy.ndarray [shape=(...)]
        ``E[X_(rank+1:count)]`` (float64).

    Raises
    ------
    ScatterError
        ``nu <= 0``, ``count < 1`` or ``rank`` out of range.

    Examples
    --------
    >>> round(float(order_statistic_mean(1.0, 4, 0)), 4)   # minimum of 4 Exp(1): 1/4
    0.25
    """
    count, rank = _check_rank(count, rank)
    nu = np.asarray(nu, np.float64)
    if not np.all(np.isfinite(nu) & (nu > 0)):
        raise ScatterError(f"nu must be finite and > 0; received {nu.ravel()[:3].tolist()}")
    flat = [_gamma_order_mean(round(float(v), 9), count, rank) for v in nu.ravel()]
    return np.asarray(flat, np.float64).reshape(nu.shape)


def normal_order_statistic_mean(count: int, rank: int) -> float:
    """Mean of the ``(rank + 1)``-th smallest of ``count`` independent standard normals.

    Parameters
    ----------
    count : int
        Number of variables, ``>= 1``.
    rank : int
        0-based rank, ``0 <= rank < count``.

    Returns
    -------
    float

    Raises
    ------
    ScatterError
        ``count < 1`` or ``rank`` out of range.

    Examples
    --------
    >>> round(normal_order_statistic_mean(2, 0), 4)        # -1 / sqrt(pi)
    -0.5642
    """
    count, rank = _check_rank(count, rank)
    return _normal_order_mean(count, rank)


def _plan(n_units: int, count: int, hop: int):
    """Window starts (in units) and the position (centre of the hop cell, in units) each
    estimate stands for; windows of ``count`` units, shifted inward at the ends."""
    n_points = max(1, math.ceil(n_units / hop))
    if n_points == 1:
        centres = np.array([n_units / 2.0])
    else:
        centres = np.minimum((np.arange(n_points) + 0.5) * hop, n_units - 0.5)
    starts = np.clip(np.round(centres - count / 2.0).astype(np.int64), 0, n_units - count)
    return starts[:, None] + np.arange(count)[None, :], centres


def _interpolate(values, positions: np.ndarray, n: int):
    """Values at ``positions`` (samples, ascending) -> samples ``0..n-1``, linearly; constant
    beyond the ends. ``values``: (..., n_points)."""
    if values.shape[-1] == 1:
        return jnp.broadcast_to(values, values.shape[:-1] + (n,))
    t = np.arange(n) + 0.5
    right = np.clip(np.searchsorted(positions, t, side="right"), 1, positions.size - 1)
    left = right - 1
    w = np.clip((t - positions[left]) / (positions[right] - positions[left]), 0.0, 1.0)
    w = jnp.asarray(w, values.dtype)
    return values[..., left] * (1.0 - w) + values[..., right] * w


def _spans(n_units, span, hop, unit):
    """Window length and hop in units of ``unit`` samples (defaults: everything, a quarter)."""
    count = n_units if span is None else min(max(1, round(_positive_int("span", span) / unit)),
                                             n_units)
    if hop is None:
        return count, max(1, count // 4)
    return count, max(1, round(_positive_int("hop", hop) / unit))


def tracked_sigma(
    coeffs: jax.Array,
    *,
    block: int = 1,
    span: int | None = None,
    hop: int | None = None,
    quantile: float = 0.0,
    refine: bool = True,
    dof: int | None = None,
    correlation=None,
) -> jax.Array:
    """Noise standard deviation of every coefficient, per band, following its level in time.

    Minimum statistics and its minimum-controlled average (module docstring, zero-mean
    coefficients): a low order statistic of block powers over a span centred on each point,
    divided by its noise-only mean, then the mean of the blocks it classifies as noise.

    Parameters
    ----------
    coeffs : jax.Array [shape=(..., n_bands, n_time)]
        Noisy coefficients of bands sampled at the same rate (real or complex; moduli of
        complex coefficients with ``dof=2``).
    block : int
        Samples per block (the short-time power's averaging), ``>= 1``; at most ``n_time``.
    span : int, optional
        Samples per window (longer than the longest stretch of signal without a gap);
        default: the whole signal (a level constant in time).
    hop : int, optional
        Samples between estimation points; default a quarter of the span (at least a block).
    quantile : float
        Rank of the order statistic as a fraction of the window's blocks, in ``[0, 0.5]``;
        0 takes the minimum.
    refine : bool
        Average the blocks the order statistic classifies as noise (module docstring, step 4).
    dof : {None, 1, 2}
        Real components per coefficient; None: 2 for complex ``coeffs``, 1 for real ones.
    correlation : array_like [shape=(n_bands, L) or (L,)], optional
        ``|rho(m)|`` of each band's noise for lags ``0..L-1`` (:func:`block_dof`); None:
        independent coefficients. Concrete (static).

    Returns
    -------
    jax.Array [shape=(..., n_bands, n_time)]
        ``sigma_k(t) >= 0`` in the real dtype of ``coeffs``, with the convention of
        :mod:`scatter.threshold.stein` (``E|n|^2 = sigma^2``).

    Raises
    ------
    ScatterError
        Fewer than 2 dimensions, non-finite values, ``block``/``span``/``hop`` not positive
        integers, ``quantile`` outside ``[0, 0.5]``, ``dof`` not 1 or 2, ``correlation`` of
        the wrong shape.

    Examples
    --------
    >>> import numpy as np, jax.numpy as jnp
    >>> rng = np.random.default_rng(0)
    >>> level = np.where(np.arange(40000) < 20000, 1.0, 4.0)         # the noise steps up
    >>> c = level * (rng.standard_normal(40000) + 1j * rng.standard_normal(40000)) / np.sqrt(2)
    >>> s = tracked_sigma(jnp.asarray(c[None], jnp.complex64), block=16, span=4000)
    >>> np.round(np.asarray(s[0, [5000, 35000]]), 1).tolist()
    [1.0, 4.0]
    """
    coeffs = as_coeffs(coeffs, "coeffs", min_ndim=2)
    check_finite_concrete(coeffs, "coeffs")
    n = coeffs.shape[-1]
    if n < 1:
        raise ScatterError(f"coeffs has shape {tuple(coeffs.shape)}; expected n_time >= 1")
    block = min(_positive_int("block", block), n)
    n_blocks = n // block
    count, hop_blocks = _spans(n_blocks, span, hop, block)
    quantile = _fraction("quantile", quantile, 0.5)
    if dof is None:
        dof = 2 if jnp.iscomplexobj(coeffs) else 1
    if dof not in (1, 2) or isinstance(dof, bool):
        raise ScatterError(f"dof={dof!r} must be None (detect), 1 (real) or 2 (complex)")
    n_bands = coeffs.shape[-2]
    if correlation is not None:
        correlation = np.asarray(correlation, np.float64)
        if correlation.ndim == 1:
            correlation = np.broadcast_to(correlation, (n_bands, correlation.size))
        if correlation.ndim != 2 or correlation.shape[0] != n_bands:
            raise ScatterError(f"correlation has shape {correlation.shape}; expected (L,) or "
                               f"({n_bands}, L): |rho(lag)| of each band's noise")
    rank = min(int(math.floor(quantile * count)), count - 1)
    nu = np.broadcast_to(block_dof(block, dof=dof, correlation=correlation), (n_bands,))
    rdt = real_dtype(coeffs.dtype)

    power = jnp.abs(coeffs[..., : n_blocks * block]).astype(rdt) ** 2
    power = power.reshape(power.shape[:-1] + (n_blocks, block)).mean(axis=-1)
    index, centres = _plan(n_blocks, count, hop_blocks)
    windows = power[..., jnp.asarray(index)]                  # (..., bands, points, count)
    if rank == 0:
        stat = jnp.min(windows, axis=-1)
    else:
        stat = _sortnet.sort(windows)[..., rank]
    var = stat / jnp.asarray(order_statistic_mean(nu, count, rank), rdt)[:, None]
    if refine:
        from scipy import special

        level = special.gammaincinv(nu, _NOISE_LEVEL) / nu          # 99 % point of X
        kept_mean = special.gammainc(nu + 1.0, nu * level) / _NOISE_LEVEL  # E[X | X <= it]
        level, kept_mean = jnp.asarray(level, rdt)[:, None], jnp.asarray(kept_mean, rdt)[:, None]
        def refine_once(_, var):
            noise = windows <= (var * level)[..., None]
            total = jnp.sum(jnp.where(noise, windows, 0.0), axis=-1)
            kept = jnp.maximum(jnp.sum(noise, axis=-1), 1)
            return total / kept / kept_mean

        # a loop, not unrolled: XLA compiles the pass once instead of once per step
        var = jax.lax.fori_loop(0, _REFINE_STEPS, refine_once, var)
    return jnp.sqrt(_interpolate(var, centres * block, n))


def tracked_floor(
    coeffs: jax.Array,
    *,
    span: int | None = None,
    hop: int | None = None,
    quantiles: tuple = (0.1, 0.3),
) -> tuple[jax.Array, jax.Array]:
    """Floor and fluctuation of averaged coefficients in noise, following them in time.

    Two low order statistics of the frames of a span centred on each point, turned into the
    unbiased location and scale of Gaussian noise (module docstring, averaged coefficients).

    Parameters
    ----------
    coeffs : jax.Array [shape=(..., n_paths, n_frames)]
        Real averaged coefficients (e.g. scattering coefficients).
    span : int, optional
        Frames per window; default: all (a floor constant in time).
    hop : int, optional
        Frames between estimation points; default a quarter of the span.
    quantiles : tuple of two floats
        Ranks of the two order statistics as fractions of the window, ``0 <= q1 < q2 <= 0.5``.

    Returns
    -------
    floor : jax.Array [shape=(..., n_paths, n_frames)]
        ``mu(t)``, the noise's mean level.
    sigma : jax.Array [shape=(..., n_paths, n_frames)]
        ``sigma(t) >= 0``, the standard deviation of its fluctuation.

    Raises
    ------
    ScatterError
        Fewer than 2 dimensions, complex or non-finite values, ``span``/``hop`` not positive
        integers, ``quantiles`` not two increasing numbers in ``[0, 0.5]``, or a window of
        fewer than 2 frames.

    Examples
    --------
    >>> import numpy as np, jax.numpy as jnp
    >>> rng = np.random.default_rng(0)
    >>> S = 2.0 + 0.1 * rng.standard_normal((1, 4000))
    >>> S[0, 1000:1800] += 3.0                       # a call over 20 % of the frames
    >>> floor, sigma = tracked_floor(jnp.asarray(S, jnp.float32))
    >>> round(float(floor[0, 0]), 1), round(float(sigma[0, 0]), 1)
    (2.0, 0.1)
    """
    coeffs = as_coeffs(coeffs, "coeffs", min_ndim=2)
    if jnp.iscomplexobj(coeffs):
        raise ScatterError("coeffs must be real averaged coefficients; got a complex array")
    check_finite_concrete(coeffs, "coeffs")
    n = coeffs.shape[-1]
    if (not isinstance(quantiles, (tuple, list)) or len(quantiles) != 2):
        raise ScatterError(f"quantiles={quantiles!r} must be two numbers 0 <= q1 < q2 <= 0.5")
    q1, q2 = (_fraction("quantiles", q, 0.5) for q in quantiles)
    if not q1 < q2:
        raise ScatterError(f"quantiles={quantiles!r} must be two numbers 0 <= q1 < q2 <= 0.5")
    count, hop = _spans(n, span, hop, 1)
    if count < 2:
        raise ScatterError(f"a window of {count} frame(s) cannot separate floor from "
                           "fluctuation; expected span >= 2 and at least 2 frames")
    r1 = min(int(math.floor(q1 * count)), count - 2)
    r2 = min(max(int(math.floor(q2 * count)), r1 + 1), count - 1)
    a1, a2 = normal_order_statistic_mean(count, r1), normal_order_statistic_mean(count, r2)
    index, centres = _plan(n, count, hop)
    ordered = _sortnet.sort(coeffs[..., jnp.asarray(index)])          # (..., paths, points, D)
    low, high = ordered[..., r1], ordered[..., r2]
    sigma = jnp.maximum(high - low, 0.0) / (a2 - a1)
    floor = low - a1 * sigma
    return _interpolate(floor, centres, n), _interpolate(sigma, centres, n)
