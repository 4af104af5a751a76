"""Risk-minimizing thresholding of (overcomplete) frame coefficients.

Coefficient arrays are laid out ``(..., n_bands, n_time)``, real or complex; every function is
vectorized over bands and leading batch dimensions and works under ``jax.jit``.

- rules (:mod:`~scatter.threshold.rules`): :func:`hard`, :func:`soft`, :func:`garrote`,
  :func:`firm`, :func:`apply_threshold` — through the modulus, phase kept;
- noise level per band (:mod:`~scatter.threshold.noise`): :func:`mad_sigma`, :func:`band_sigma`,
  :func:`sigma_from_white`, :func:`sigma_from_excerpt`;
- noise level per band that follows it in time, for coloured and changing field noise
  (:mod:`~scatter.threshold.tracking`, minimum statistics): :func:`tracked_sigma`,
  :func:`tracked_floor`, :func:`block_dof`, :func:`order_statistic_mean`,
  :func:`normal_order_statistic_mean`;
- risk estimates (:mod:`~scatter.threshold.stein`, :mod:`~scatter.threshold.oracle`) and
  threshold selection (:mod:`~scatter.threshold.select`): :func:`sure`, :func:`sure_curve`,
  :func:`sure_threshold`, :func:`oracle_threshold`, :func:`threshold_error`,
  :func:`universal_threshold`, :func:`bayes_threshold`, :func:`select_thresholds`; and
  thresholds in units of a noise level that changes from coefficient to coefficient
  (:mod:`~scatter.threshold.local`): :func:`local_thresholds`, :func:`apply_local_threshold`;
- activity mask on scattering coefficients (:mod:`~scatter.threshold.mask`):
  :func:`activity_mask`, :func:`background`, :func:`reduce_mask`.
"""

from scatter.threshold.local import apply_local_threshold, local_thresholds
from scatter.threshold.mask import activity_mask, background, reduce_mask
from scatter.threshold.noise import band_sigma, mad_sigma, sigma_from_excerpt, sigma_from_white
from scatter.threshold.oracle import oracle_threshold, threshold_error
from scatter.threshold.rules import apply_threshold, firm, gain, garrote, hard, soft
from scatter.threshold.select import (
    METHODS,
    bayes_threshold,
    select_thresholds,
    universal_threshold,
)
from scatter.threshold.stein import components, resolve_dof, sure, sure_curve, sure_threshold
from scatter.threshold.tracking import (
    block_dof,
    normal_order_statistic_mean,
    order_statistic_mean,
    tracked_floor,
    tracked_sigma,
)

__all__ = [
    "METHODS",
    "activity_mask",
    "apply_local_threshold",
    "apply_threshold",
    "background",
    "band_sigma",
    "bayes_threshold",
    "block_dof",
    "components",
    "firm",
    "gain",
    "garrote",
    "hard",
    "local_thresholds",
    "mad_sigma",
    "normal_order_statistic_mean",
    "oracle_threshold",
    "order_statistic_mean",
    "reduce_mask",
    "resolve_dof",
    "select_thresholds",
    "sigma_from_excerpt",
    "sigma_from_white",
    "soft",
    "sure",
    "sure_curve",
    "sure_threshold",
    "threshold_error",
    "tracked_floor",
    "tracked_sigma",
    "universal_threshold",
]
