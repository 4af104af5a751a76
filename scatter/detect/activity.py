"""Activity and level channels of band envelopes: the second half of the detection features
(:mod:`scatter.detect.features`, steps 2-4).

For envelopes ``S`` of shape ``(..., n_bands, n_frames)`` (scattering coefficients), per band:
the background ``floor`` and noise level ``sigma`` of :func:`scatter.threshold.background`
(``floor = median_t S``, ``sigma = median_t |S - floor| / 0.6745``; with ``span``, a floor and
level that follow the background in time), the deviation ``c = S - floor``, and the mask
``m`` of :func:`scatter.threshold.activity_mask` (a risk-minimizing threshold per band, SURE by
default: Donoho & Johnstone 1995; ``m = gain(|c|, t) * [c > 0]``); then the *activity*
``log1p(m * c / sigma)`` and the *level* ``log(S + tiny) - mean_{p,t} log(S + tiny)``. The mask
is the package's one activity mask, with the same background estimator as every other user of
it.

Noise floor. In a window that is mostly exact zeros (digital silence), a band's median and MAD
are 0, so without a floor the activity ``log1p(c / 1e-8)`` is about 18 for any sound at all,
however faint the band's share of it (spectral leakage included). The floor ties the noise
level to a window-level scale instead: with ``noise_floor = 0.02`` a band's noise is taken to be
at least 2 % (-34 dB) of the mean envelope of its order in the window, so the activity is
bounded by ``log1p(n_paths_of_order * n_frames / noise_floor)`` and stays gain-invariant, while
bands of ordinary recordings (whose MAD noise is 1-30 % of that mean) are left alone. The
constant ``1e-8`` added to ``sigma`` and to ``S`` in the level stays as the absolute floor: it is
about the MAD of first-order coefficients of 16-bit quantisation noise at the detector's
settings (``J=8, Q=(4, 1)``, 22.05 kHz), so sounds below one quantisation step of a 16-bit
recording read as silence. ``noise_floor=0`` (the default) is no floor, as in the shipped model
(a floor did not raise its validation AUC: ``docs/experiments.md``); set it for recordings with
stretches of digital silence. Sidecars without the field load with 0.

Dynamic range. A sound in digital silence (or in dither) sits 70-100 dB above its
surroundings, far beyond the 20-60 dB of a sound in any real background, so its activity
(``log`` of that ratio) and its level channels lie outside what a model sees in field audio,
and they change with the sound's gain. ``top_db > 0`` keeps only the top ``top_db`` decibels of
each window, per scattering order: ``S <- max(S, 10**(-top_db/20) max_{order} S)`` and
``sigma >= 10**(-top_db/20) max_{order} S``, as ``librosa.power_to_db(top_db=80)`` clamps a
spectrogram below its peak. The activity is then at most ``log1p(10**(top_db/20))`` and the
features gain-invariant again for sounds in silence; recordings whose bands stay within
``top_db`` of the loudest are unchanged. The shipped model uses ``top_db=40`` (activity at most
4.6, about what a call 40 dB above a real background reaches) with ``dither=2**-15``: on
validation only (``benchmarks/detector_quality.py --split validation``) birds heard alone went
from chance (clip AUC 0.41) to 0.85-0.92 and the clip AUC from 0.75 to 0.79 (classifier seeds
0-2; ``top_db=60``: similar mean, one seed back at 0.70), corpus validation AUC 0.91
(``data_scripts/train_default_detector.py`` gives every figure).
"""

from __future__ import annotations

import numbers

import jax
import jax.numpy as jnp
import numpy as np

from scatter.errors import ScatterError
from scatter.threshold import activity_mask, background

__all__ = ["MASK_METHODS", "activity_features"]

#: Threshold selectors usable for the activity mask ("none": no mask, activity = log1p(c+/s)).
MASK_METHODS = ("sure", "universal", "bayes", "none")
RULES = ("soft", "garrote", "firm")
_TINY = 1e-8


def check_fraction(name, value):
    """Raise ScatterError unless ``value`` is a real number in [0, 1) (``name`` in the
    message); shared with the feature settings that take fractions."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not 0 <= value < 1):
        raise ScatterError(f"{name} must be a number in [0, 1); got {value!r}")


def check_top_db(value):
    """Raise ScatterError unless ``value`` is a dynamic range in decibels in [0, 200]."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not 0 <= value <= 200):
        raise ScatterError(f"top_db must be a number of decibels in [0, 200] (0: no limit); "
                           f"got {value!r}")


def activity_features(S, *, mask="sure", rule="soft", noise_floor=0.0, groups=None,
                      top_db=0.0, span=None):
    """Activity and level channels of non-negative band envelopes (module docstring).

    Parameters
    ----------
    S : jax.Array [shape=(..., n_bands, n_frames)]
        Non-negative envelopes (scattering coefficients), finite.
    mask : {"sure", "universal", "bayes", "none"}
        Threshold selector of the activity mask.
    rule : {"soft", "garrote", "firm"}
        Thresholding rule.
    noise_floor : float
        Each band's noise level is at least ``noise_floor`` times the mean of ``S`` over the
        frames and the bands of its group (module docstring); 0: MAD only.
    groups : sequence of int [shape=(n_bands,)] or None
        Group of each band (the scattering order in :class:`FeatureExtractor`); None: one
        group. Concrete, not traced (a static argument under ``jax.jit``: pass a tuple).
    top_db : float
        Dynamic range kept (module docstring): ``S`` is raised to at least
        ``10**(-top_db / 20)`` times the largest ``S`` of the band's group, and each band's
        noise level to at least that floor; 0: no limit. Concrete (static).
    span : int or None
        Frames of the sliding span over which the background follows the recording
        (:func:`scatter.threshold.background`); None: median and MAD over all frames of the
        window. Concrete (static).

    Returns
    -------
    jax.Array [shape=(..., 2 * n_bands, n_frames), dtype=float32]
        Activity channels, then level channels.

    Raises
    ------
    ScatterError
        For an unknown ``mask`` or ``rule``, fewer than 2 dimensions, a ``noise_floor``
        outside [0, 1), a ``top_db`` outside [0, 200] or ``groups`` not of length
        ``n_bands``.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> S = jnp.ones((3, 8)).at[1, 4].set(5.0)       # band 1 rises at frame 4
    >>> A = activity_features(S, mask="none")
    >>> float(A[1, 4]) > 0 and float(A[0].max()) == 0.0
    True
    """
    if mask not in MASK_METHODS:
        raise ScatterError(f"mask must be one of {MASK_METHODS}; got {mask!r}")
    if rule not in RULES:
        raise ScatterError(f"rule must be one of {RULES}; got {rule!r}")
    S = jnp.asarray(S, jnp.float32)
    if S.ndim < 2:
        raise ScatterError(f"S must have shape (..., n_bands, n_frames); got {S.shape}")
    if not isinstance(noise_floor, jax.core.Tracer):  # a traced floor is the caller's care
        check_fraction("noise_floor", noise_floor)
    check_top_db(top_db)
    S = jnp.maximum(S, 0.0)
    range_floor = None
    if top_db > 0:
        range_floor = 10.0 ** (-top_db / 20.0) * _group_reduce(S, groups, "max")
        S = jnp.maximum(S, range_floor[..., None])
    floor, sigma = background(S, span=span)
    lower = noise_floor * _group_reduce(S, groups, "mean")
    if range_floor is not None:
        lower = jnp.maximum(lower, range_floor)
    if span is not None:
        lower = lower[..., None]
    sigma = jnp.maximum(sigma, lower)
    per_frame = sigma if span is not None else sigma[..., None]
    c = S - (floor if span is not None else floor[..., None])
    above = jnp.maximum(c, 0.0)
    if mask == "none":
        m = jnp.ones_like(c)
    else:
        m = activity_mask(S, method=mask, rule=rule, floor=floor, sigma=sigma)
    # sigma is 0 for a constant band (silence): c is 0 there too, so the ratio is 0.
    activity = jnp.log1p(m * above / (per_frame + _TINY))
    level = jnp.log(S + _TINY)
    level = level - jnp.mean(level, axis=(-2, -1), keepdims=True)
    return jnp.concatenate([activity, level], axis=-2)


def _group_reduce(S, groups, how):
    """Mean or max of ``S`` over frames and the bands of each band's group, per band:
    (..., n_bands)."""
    n_bands = S.shape[-2]
    if groups is None:
        groups = np.zeros(n_bands, np.int64)
    groups = np.asarray(groups)
    if groups.shape != (n_bands,):
        raise ScatterError(f"groups must have one entry per band, shape ({n_bands},); got "
                           f"shape {groups.shape}")
    ids, index = np.unique(groups, return_inverse=True)
    member = (index[:, None] == np.arange(ids.size)[None, :])          # (n_bands, n_groups)
    if how == "max":
        band = jnp.max(S, axis=-1)
        per_group = jnp.max(jnp.where(jnp.asarray(member), band[..., :, None], 0.0), axis=-2)
    else:
        band = jnp.mean(S, axis=-1)
        weights = member / member.sum(axis=0, keepdims=True)
        per_group = band @ jnp.asarray(weights.astype(np.float32))     # (..., n_groups)
    return jnp.take(per_group, jnp.asarray(index), axis=-1)
