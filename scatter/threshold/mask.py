"""Activity mask: which time-frequency (or scattering-path) coefficients carry signal above noise.

The mask is the gain of a risk-minimizing thresholding rule, ``m = g(|e|) in [0, 1]``: 0 where a
coefficient is explained by background noise, close to 1 where it is far above it. It is the local
mask the bird-activity detector applies to scattering coefficients before classification, and a
feature in its own right (reduced over paths, an activity curve over time).

Two noise models, for the two kinds of non-negative coefficients the scattering network makes:

* ``model="modulus"`` — unaveraged moduli ``U1 = |x * psi1|`` (or ``|cwt(x)|``) and, as an
  approximation, ``U2 = ||x * psi1| * psi2|`` (a band-pass of ``U1`` is close to Gaussian by the
  central limit theorem). In stationary Gaussian noise each value is the modulus of a circular
  complex Gaussian, Rayleigh distributed; every rule depends on the modulus only, so thresholds
  are chosen exactly as for the complex coefficients (``dof=2``, :mod:`scatter.threshold.stein`),
  with the per-path noise level from the Rayleigh MAD (``median U = sigma sqrt(ln 2)``).
* ``model="averaged"`` — low-passed coefficients ``S = U * phi`` (what :class:`scatter.Scattering1D`
  returns). Averaging makes the noise a floor ``mu`` plus a nearly Gaussian fluctuation; the
  excess ``e = S - mu`` (``mu``: median over time, or ``floor=``) is thresholded as real
  coefficients with noise ``sigma = MAD(e) / 0.6745`` (or ``sigma=``), and only positive
  excess counts as activity.

The background (floor and noise level of each path) comes from :func:`background`, the one
estimator of the package's activity masks (the bird detector's features use it too):

* without ``span``: the median over time and the MAD, one value per path. They assume the
  recording is mostly background (activity in less than about half of the frames of a path);
* with ``span`` (frames): a floor and a noise level that follow the background in time, from low
  order statistics over a sliding span (:func:`scatter.threshold.tracked_floor` for averaged
  coefficients, minimum statistics :func:`scatter.threshold.tracked_sigma` for moduli). A sound
  that leaves gaps in every span (an insect chorus does not, a song does) does not raise them,
  and a background that changes (a gust, dusk insects starting) is followed. Thresholds are
  then chosen in units of the local noise level (:func:`scatter.threshold.local_thresholds`).

For dense activity pass ``sigma`` (and ``floor``) measured on a noise-only excerpt.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from scatter.errors import ScatterError
from scatter.threshold import _sortnet
from scatter.threshold._checks import as_coeffs, check_finite_concrete, check_rule
from scatter.threshold.local import local_thresholds
from scatter.threshold.noise import mad_sigma
from scatter.threshold.rules import gain
from scatter.threshold.select import select_thresholds
from scatter.threshold.tracking import tracked_floor, tracked_sigma

__all__ = ["MODELS", "REDUCTIONS", "activity_mask", "background", "reduce_mask"]

MODELS = ("modulus", "averaged")
REDUCTIONS = (None, "mean", "max", "energy")


def reduce_mask(mask: jax.Array, coeffs: jax.Array, *, reduce: str) -> jax.Array:
    """Combine a mask over paths into one activity value per frame.

    Parameters
    ----------
    mask : jax.Array [shape=(..., n_paths, n_frames)]
        Per-coefficient mask in ``[0, 1]``.
    coeffs : jax.Array [shape=(..., n_paths, n_frames)]
        Weights of ``"energy"``: the coefficients the mask was computed on (for the
        ``"averaged"`` model, :func:`activity_mask` passes the positive excess over the floor).
    reduce : {"mean", "max", "energy"}
        ``"energy"``: fraction of the frame's energy kept, ``sum (m c)^2 / sum c^2`` (0 for a
        silent frame).

    Returns
    -------
    jax.Array [shape=(..., n_frames)]
        Values in ``[0, 1]``.

    Raises
    ------
    ScatterError
        Unknown ``reduce``.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> reduce_mask(jnp.array([[1.0, 0.0], [0.0, 0.0]]), jnp.ones((2, 2)), reduce="energy")
    Array([0.5, 0. ], dtype=float32)
    """
    if reduce == "mean":
        return jnp.mean(mask, axis=-2)
    if reduce == "max":
        return jnp.max(mask, axis=-2)
    if reduce == "energy":
        c2 = jnp.abs(jnp.asarray(coeffs)) ** 2
        total = jnp.sum(c2, axis=-2)
        kept = jnp.sum(mask**2 * c2, axis=-2)
        return jnp.where(total > 0, kept / jnp.where(total > 0, total, 1.0), 0.0)
    raise ScatterError(f"reduce={reduce!r} is not a reduction; expected one of {REDUCTIONS}")


def background(coeffs: jax.Array, *, model: str = "averaged", span: int | None = None,
               hop: int | None = None) -> tuple[jax.Array, jax.Array]:
    """Background floor and noise level of each path: constant, or following it in time.

    Parameters
    ----------
    coeffs : jax.Array [shape=(..., n_paths, n_frames)]
        Real scattering coefficients: averaged ``S`` or moduli ``U`` (module docstring).
    model : {"averaged", "modulus"}
        Noise model (module docstring).
    span : int, optional
        Frames of the sliding span of the estimate that follows the background in time; None:
        median and MAD over all frames.
    hop : int, optional
        Frames between estimation points with ``span`` (default a quarter of it).

    Returns
    -------
    floor : jax.Array [shape=(..., n_paths) or (..., n_paths, n_frames) with span]
        Background level (``"averaged"``: median, or the tracked floor; ``"modulus"``: 0).
    sigma : jax.Array [shape like floor]
        Noise standard deviation: of the fluctuation of ``S`` around the floor
        (``"averaged"``), or of the complex coefficients whose moduli are given
        (``"modulus"``, Rayleigh MAD or minimum statistics with ``dof=2``).

    Raises
    ------
    ScatterError
        Unknown model, complex or non-finite input, fewer than 2 dimensions, bad ``span`` or
        ``hop``.

    Examples
    --------
    >>> import numpy as np, jax.numpy as jnp
    >>> S = 1.0 + 0.1 * np.random.default_rng(0).standard_normal((2, 2000))
    >>> floor, sigma = background(jnp.asarray(S, jnp.float32))
    >>> np.round(np.asarray(floor), 1).tolist(), np.round(np.asarray(sigma), 1).tolist()
    ([1.0, 1.0], [0.1, 0.1])
    """
    if model not in MODELS:
        raise ScatterError(f"model={model!r} is not a noise model; expected one of {MODELS}")
    coeffs = as_coeffs(coeffs, "coeffs", min_ndim=2)
    if jnp.iscomplexobj(coeffs):
        raise ScatterError("coeffs must be real scattering coefficients; for complex CWT "
                           "coefficients pass their modulus with model='modulus'")
    check_finite_concrete(coeffs, "coeffs")
    if model == "averaged":
        if span is None:
            floor = _sortnet.median(coeffs)
            return floor, mad_sigma(coeffs - floor[..., None], dof=1)
        return tracked_floor(coeffs, span=span, hop=hop)
    if span is None:
        sigma = mad_sigma(coeffs, dof=2)
    else:
        sigma = tracked_sigma(coeffs, span=span, hop=hop, dof=2)
    return jnp.zeros_like(sigma), sigma


def activity_mask(
    coeffs: jax.Array,
    *,
    model: str = "averaged",
    method: str = "sure",
    rule: str = "soft",
    sigma=None,
    floor=None,
    span: int | None = None,
    hop: int | None = None,
    reduce: str | None = None,
    firm_ratio: float = 2.0,
) -> jax.Array:
    """Mask in ``[0, 1]`` of the coefficients that stand out of the background noise.

    Parameters
    ----------
    coeffs : jax.Array [shape=(..., n_paths, n_frames)]
        Scattering coefficients: unaveraged moduli ``U1``/``U2`` (``model="modulus"``) or
        averaged ``S`` (``model="averaged"``, e.g. the output of :class:`scatter.Scattering1D`).
    model : {"averaged", "modulus"}
        Noise model (module docstring).
    method : {"sure", "universal", "bayes"}
        Threshold selection per path.
    rule : {"soft", "garrote", "firm", "hard"}
        Rule whose gain is the mask (``"hard"`` gives a 0/1 mask; not with ``"sure"``).
    sigma : float or jax.Array [shape=(..., n_paths) or (..., n_paths, n_frames)], optional
        Noise standard deviation per path, or per coefficient when it has as many dimensions
        as ``coeffs`` (``"modulus"``: of the complex coefficients whose moduli are given;
        ``"averaged"``: of the fluctuation of ``S``). Default: :func:`background`.
    floor : float or jax.Array [shape=(..., n_paths) or (..., n_paths, n_frames)], optional
        Background level for ``"averaged"``, per path or per coefficient (same rule as
        ``sigma``). Default: :func:`background`.
    span : int, optional
        Frames of the sliding span of a background that follows the recording in time
        (:func:`background`); None: constant per path.
    hop : int, optional
        Frames between the background's estimation points with ``span``.
    reduce : {None, "mean", "max", "energy"}
        Combine over paths into one value per frame (:func:`reduce_mask`).
    firm_ratio : float
        ``mu > 1`` of the firm rule.

    Returns
    -------
    jax.Array [shape=(..., n_paths, n_frames)] or [shape=(..., n_frames)] with ``reduce``
        The mask; multiply it with ``coeffs`` to keep the active part. All-zero input gives a
        zero mask.

    Raises
    ------
    ScatterError
        Unknown model, method, rule or reduction; negative values with ``model="modulus"``;
        non-finite input; ``sigma`` negative; ``floor`` with ``model="modulus"``; bad ``span``.

    Examples
    --------
    >>> import numpy as np, jax.numpy as jnp
    >>> rng = np.random.default_rng(0)
    >>> S = 1.0 + 0.1 * rng.standard_normal((3, 400))
    >>> S[:, 200:220] += 2.0                                     # a burst in every path
    >>> act = activity_mask(jnp.asarray(S, jnp.float32), reduce="energy")
    >>> bool(act[200:220].min() > 0.8), bool(act[:150].max() < 0.2)
    (True, True)
    """
    if model not in MODELS:
        raise ScatterError(f"model={model!r} is not a noise model; expected one of {MODELS}")
    if method not in ("sure", "universal", "bayes"):
        raise ScatterError(f"method={method!r} is not usable for a mask; expected 'sure', "
                           "'universal' or 'bayes'")
    check_rule(rule, firm_ratio)
    if reduce not in REDUCTIONS:
        raise ScatterError(f"reduce={reduce!r} is not a reduction; expected one of {REDUCTIONS}")
    coeffs = as_coeffs(coeffs, "coeffs", min_ndim=2)
    if jnp.iscomplexobj(coeffs):
        raise ScatterError("coeffs must be real scattering coefficients; for complex CWT "
                           "coefficients pass their modulus with model='modulus'")
    check_finite_concrete(coeffs, "coeffs")
    if model == "modulus":
        if floor is not None:
            raise ScatterError("floor= applies to model='averaged' only; moduli have no floor "
                               "to remove")
        if not isinstance(coeffs, jax.core.Tracer) and bool(jnp.any(coeffs < 0)):
            raise ScatterError("model='modulus' needs moduli >= 0; got negative values (use "
                               "model='averaged' for signed or averaged coefficients)")
    if sigma is None or (floor is None and model == "averaged"):
        bg_floor, bg_sigma = background(coeffs, model=model, span=span, hop=hop)
        sigma = bg_sigma if sigma is None else sigma
        floor = bg_floor if floor is None else floor
    dof = 2 if model == "modulus" else 1
    if model == "modulus":
        excess = coeffs
    else:
        mu = jnp.asarray(floor, coeffs.dtype)
        check_finite_concrete(mu, "floor")
        if mu.ndim < coeffs.ndim:
            mu = jnp.broadcast_to(mu, coeffs.shape[:-1])[..., None]
        excess = coeffs - mu
    if jnp.ndim(sigma) == coeffs.ndim:  # a level per coefficient: thresholds follow it
        tau = local_thresholds(excess, sigma, method=method, rule=rule, firm_ratio=firm_ratio,
                               dof=dof)
        t = tau[..., None] * jnp.asarray(sigma, tau.dtype)
        mask = gain(jnp.abs(excess), t, rule=rule, firm_ratio=firm_ratio)
        mask = jnp.where(excess != 0, mask, 0.0)
    else:
        t = select_thresholds(excess, method=method, sigma=sigma, rule=rule,
                              firm_ratio=firm_ratio, dof=dof)
        mask = gain(jnp.abs(excess), t[..., None], rule=rule, firm_ratio=firm_ratio)
    if model == "averaged":
        mask = jnp.where(excess > 0, mask, 0.0)
    mask = mask.astype(np.float32)
    if reduce is None:
        return mask
    weights = coeffs if model == "modulus" else jnp.maximum(excess, 0.0)
    return reduce_mask(mask, weights, reduce=reduce)
