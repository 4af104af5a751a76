"""Risk-minimizing thresholding of (overcomplete) frame coefficients.

Coefficient arrays are laid out ``(..., n_bands, n_time)``, real or complex; every function is
vectorized over bands and leading batch dimensions and works under ``jax.jit``.

- rules (:mod:`~scatter.threshold.rules`): :func:`hard`, :func:`soft`, :func:`garrote`,
  :func:`firm`, :func:`apply_threshold` — through the modulus, phase kept;
- noise level per band (:mod:`~scatter.threshold.noise`): :func:`mad_sigma`, :func:`band_sigma`,
  :func:`sigma_from_white`, :func:`sigma_from_excerpt`;
- risk estimates (:mod:`~scatter.threshold.stein`, :mod:`~scatter.threshold.oracle`) and
  threshold selection (:mod:`~scatter.threshold.select`): :func:`sure`, :func:`sure_threshold`,
  :func:`oracle_threshold`, :func:`threshold_error`, :func:`universal_threshold`,
  :func:`bayes_threshold`, :func:`select_thresholds`;
- activity mask on scattering coefficients (:mod:`~scatter.threshold.mask`):
  :func:`activity_mask`, :func:`reduce_mask`.
"""

from scatter.threshold.mask import activity_mask, reduce_mask
from scatter.threshold.noise import band_sigma, mad_sigma, sigma_from_excerpt, sigma_from_white
from scatter.threshold.oracle import oracle_threshold, threshold_error
from scatter.threshold.rules import apply_threshold, firm, gain, garrote, hard, soft
from scatter.threshold.select import (
    METHODS,
    bayes_threshold,
    select_thresholds,
    universal_threshold,
)
from scatter.threshold.stein import components, resolve_dof, sure, sure_threshold

__all__ = [
    "METHODS",
    "activity_mask",
    "apply_threshold",
    "band_sigma",
    "bayes_threshold",
    "components",
    "firm",
    "gain",
    "garrote",
    "hard",
    "mad_sigma",
    "oracle_threshold",
    "reduce_mask",
    "resolve_dof",
    "select_thresholds",
    "sigma_from_excerpt",
    "sigma_from_white",
    "soft",
    "sure",
    "sure_threshold",
    "threshold_error",
    "universal_threshold",
]
