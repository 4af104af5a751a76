"""Per-channel energy normalisation (PCEN) of band envelopes along their frames.

``M[t] = (1 - s) M[t-1] + s E[t]`` and ``PCEN[t] = ((E[t] / (eps + M[t])**alpha + delta)**r
- delta**r`` per channel (Wang et al. 2017, "Trainable frontend for robust and far-field
keyword spotting", ICASSP; Lostanlen et al. 2019, "Per-channel energy normalization: why and
how", IEEE Signal Processing Letters 26(1)). :class:`scatter.detect.features.FeatureExtractor`
uses it for its level channels with ``pcen=True``; its module docstring says how.
"""

from __future__ import annotations

import math
import numbers

import jax.numpy as jnp
import numpy as np

from scatter.errors import ScatterError
from scatter.threshold import background

__all__ = ["check_pcen", "pcen", "pcen_smoothing"]


def check_pcen(*, time, alpha, delta, r, eps, prefix=""):
    """Raise ScatterError unless the PCEN settings are in range (``time`` may be None: not
    checked); ``prefix`` is put before each name in the message."""
    def bad(v):
        return isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v)

    rules = ((f"{prefix}time", time, time is None or (not bad(time) and time > 0),
              "a number of seconds > 0"),
             (f"{prefix}alpha", alpha, not bad(alpha) and 0 <= alpha <= 1,
              "a number in [0, 1]"),
             (f"{prefix}delta", delta, not bad(delta) and delta > 0, "a number > 0"),
             (f"{prefix}r", r, not bad(r) and 0 < r <= 1, "a number in (0, 1]"),
             (f"{prefix}eps", eps, not bad(eps) and eps > 0, "a number > 0"))
    for name, value, ok, rule in rules:
        if not ok:
            raise ScatterError(f"{name} must be {rule}; got {value!r}")


def pcen_smoothing(time_constant, frame_rate):
    """Smoothing coefficient ``s`` of PCEN's low-pass for a time constant in seconds.

    ``s = (sqrt(1 + 4 T**2) - 1) / (2 T**2)`` with ``T = time_constant * frame_rate`` frames,
    the positive root of ``T**2 s**2 + s - 1 = 0``: about ``1 / T`` for ``T >> 1``, towards 1 (no
    smoothing) for time constants much shorter than a frame. It is the conversion ``librosa.pcen``
    uses, so that the two agree on a time constant.

    Parameters
    ----------
    time_constant : float
        Seconds, ``> 0``.
    frame_rate : float
        Frames per second, ``> 0``.

    Returns
    -------
    float
        ``s`` in (0, 1].

    Raises
    ------
    ScatterError
        For a time constant or frame rate that is not a positive number.

    Examples
    --------
    >>> round(pcen_smoothing(0.4, 22050 / 1024), 4)
    0.1096
    """
    for name, v in (("time_constant", time_constant), ("frame_rate", frame_rate)):
        if (isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v)
                or v <= 0):
            raise ScatterError(f"{name} must be a number > 0; got {v!r}")
    t = float(time_constant) * float(frame_rate)
    return min(1.0, (math.sqrt(1 + 4 * t * t) - 1) / (2 * t * t))


def pcen(E, *, smoothing, alpha=0.98, delta=2.0, r=0.5, eps=1e-6, init=None):
    """Per-channel energy normalisation of non-negative envelopes along their last axis.

    ``M[t] = (1 - s) M[t-1] + s E[t]`` from ``M[-1] = init`` and
    ``PCEN[t] = ((E[t] / (eps + M[t])**alpha + delta)**r - delta**r`` (Wang et al. 2017,
    "Trainable frontend for robust and far-field keyword spotting", ICASSP; Lostanlen et al.
    2019, "Per-channel energy normalization: why and how", IEEE Signal Processing Letters
    26(1)). The recursion is computed exactly as a causal FIR over the frames (one product
    with a lower-triangular ``(n_frames, n_frames)`` matrix), which is cheap for the tens of
    frames of a detector window. Pure JAX: works under ``jax.jit``, ``jax.vmap`` and
    ``jax.grad``.

    Parameters
    ----------
    E : jax.Array [shape=(..., n_frames)]
        Non-negative envelopes (one channel per leading index), finite.
    smoothing : float
        ``s`` in (0, 1] (:func:`pcen_smoothing` converts a time constant). Concrete.
    alpha : float
        Gain-control exponent in [0, 1].
    delta : float
        Compression bias, ``> 0``.
    r : float
        Compression exponent in (0, 1].
    eps : float
        Floor of the smoothed envelope, ``> 0``.
    init : jax.Array [shape=(...,)] or None
        ``M[-1]`` per channel; None: the channel's median over the frames (the choice of
        :class:`FeatureExtractor`, module docstring).

    Returns
    -------
    jax.Array [shape=(..., n_frames), dtype=float32]
        Non-negative; 0 where ``E`` is 0.

    Raises
    ------
    ScatterError
        For a setting out of range or ``E`` without a frame axis.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> E = jnp.ones((2, 16)).at[1, 8].set(10.0)       # channel 1 rises at frame 8
    >>> P = pcen(E, smoothing=0.2, alpha=1.0)
    >>> bool(P[1, 8] > 2 * P[1, 7]) and bool(jnp.allclose(P[0], P[0, 0]))
    True
    """
    if isinstance(smoothing, bool) or not isinstance(smoothing, numbers.Real) \
            or not 0 < smoothing <= 1:
        raise ScatterError(f"smoothing must be a number in (0, 1]; got {smoothing!r}")
    check_pcen(time=None, alpha=alpha, delta=delta, r=r, eps=eps)
    E = jnp.asarray(E, jnp.float32)
    if E.ndim < 1:
        raise ScatterError(f"E must have shape (..., n_frames); got {E.shape}")
    n = E.shape[-1]
    t = np.arange(n)
    lag = t[:, None] - t[None, :]                                   # (t, k)
    keep = 1.0 - float(smoothing)
    weights = np.where(lag >= 0, smoothing * keep ** np.maximum(lag, 0), 0.0)
    decay = keep ** (t + 1.0)                                       # weight of M[-1] at t
    if init is None:  # the median over the frames (background's sorting network: fast on CPU)
        init = background(E)[0]
    M = (E @ jnp.asarray(weights.T.astype(np.float32))
         + jnp.asarray(init, jnp.float32)[..., None] * jnp.asarray(decay.astype(np.float32)))
    gain = E * jnp.exp(-alpha * jnp.log(eps + M))
    return (delta ** r) * jnp.expm1(r * jnp.log1p(gain / delta))
