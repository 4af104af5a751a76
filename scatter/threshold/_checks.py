"""Argument checks shared by the thresholding modules (private)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from scatter.errors import ScatterError

RULES = ("hard", "soft", "garrote", "firm")


def check_rule(rule: str, firm_ratio: float) -> None:
    """Raise ScatterError unless ``rule`` is known and ``firm_ratio`` > 1."""
    if rule not in RULES:
        raise ScatterError(f"rule={rule!r} is not a thresholding rule; expected one of {RULES}")
    if rule == "firm":
        ratio = float(firm_ratio)
        if not np.isfinite(ratio) or ratio <= 1.0:
            raise ScatterError(
                f"firm_ratio={firm_ratio!r} must be a finite number > 1 (the firm rule keeps "
                "coefficients above firm_ratio * t unchanged)"
            )


def as_coeffs(c, name: str = "coeffs", min_ndim: int = 1) -> jnp.ndarray:
    """Convert to a floating or complex JAX array with at least ``min_ndim`` dimensions."""
    arr = jnp.asarray(c)
    inexact = jnp.issubdtype(arr.dtype, jnp.floating) or jnp.issubdtype(
        arr.dtype, jnp.complexfloating
    )
    if not inexact:
        arr = arr.astype(jnp.result_type(float))
    if arr.ndim < min_ndim:
        raise ScatterError(
            f"{name} has shape {tuple(arr.shape)}; expected at least {min_ndim} dimension(s), "
            "laid out as (..., n_bands, n_time)"
        )
    return arr


def real_dtype(dtype) -> jnp.dtype:
    """The real dtype matching a real or complex dtype."""
    return jnp.finfo(dtype).dtype


def check_finite_concrete(x, name: str) -> None:
    """Raise ScatterError if a concrete (non-traced) array holds NaN or inf; skip under jit."""
    if isinstance(x, jax.core.Tracer):  # under jax.jit values cannot be inspected
        return
    arr = np.asarray(x)
    if not np.all(np.isfinite(arr)):
        raise ScatterError(
            f"{name} contains NaN or infinite values; expected finite numbers (clean or drop "
            "the bad samples first)"
        )


def check_sigma_concrete(sigma, name: str = "sigma", *, allow_zero: bool = False) -> None:
    """Raise ScatterError if a concrete sigma is not finite or <= 0 (< 0 with ``allow_zero``)."""
    if isinstance(sigma, jax.core.Tracer):
        return
    arr = np.asarray(sigma)
    ok = np.isfinite(arr) & ((arr >= 0) if allow_zero else (arr > 0))
    if not np.all(ok):
        bad = arr[~ok].ravel()[:3]
        rule = ">= 0" if allow_zero else "> 0"
        raise ScatterError(
            f"{name} must be finite and {rule} (a noise standard deviation); received values "
            f"such as {bad.tolist()}"
        )


def check_lengths(lengths, coeffs):
    """Validate per-band valid lengths (ints in ``[1, n_time]``); None passes through."""
    if lengths is None:
        return None
    n = coeffs.shape[-1]
    if not isinstance(lengths, jax.core.Tracer):
        arr = np.asarray(lengths)
        if not np.issubdtype(arr.dtype, np.integer) or np.any(arr < 1) or np.any(arr > n):
            raise ScatterError(
                f"lengths must be integers in [1, {n}] (valid samples of each band); received "
                f"{arr.ravel()[:4].tolist()}"
            )
    return jnp.broadcast_to(jnp.asarray(lengths, jnp.int32), coeffs.shape[:-1])


def check_weights(weights, coeffs):
    """Per-coefficient weights broadcast to ``coeffs``' shape in its real dtype; None passes
    through.

    Raises
    ------
    ScatterError
        Weights not broadcastable to ``coeffs``, negative or non-finite (checked outside
        ``jax.jit``).
    """
    if weights is None:
        return None
    w = jnp.asarray(weights, real_dtype(coeffs.dtype))
    try:
        w = jnp.broadcast_to(w, coeffs.shape)
    except ValueError:
        raise ScatterError(f"weights has shape {tuple(jnp.shape(weights))}; expected one weight "
                           f"per coefficient, broadcastable to {tuple(coeffs.shape)}") from None
    check_finite_concrete(w, "weights")
    if not isinstance(w, jax.core.Tracer) and bool(jnp.any(w < 0)):
        raise ScatterError("weights must be >= 0 (they scale each coefficient's squared error)")
    return w
