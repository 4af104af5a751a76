"""The detector's classifier: a compact spline (max-affine) network over feature frames.

Each feature frame ``x`` (``n_features`` channels, see :mod:`scatter.detect.features`) is
standardised with the training set's statistics, then goes through ``L`` max-affine spline
layers (Magnani & Boyd 2009, "Convex piecewise-linear fitting", Optim. Eng. 10; Balestriero &
Baraniuk 2018, "A spline theory of deep networks", ICML)

``h_k = max_{r = 1..R} (W[:, k, r] . x + b[k, r])``,

each unit a convex piecewise-affine function of its input with ``R`` pieces (``R = 2`` with one
piece fixed at zero would be a ReLU), and a linear read-out to one logit per frame. With
temporal *context* (``context=(-4, -2, 0, 2, 4)`` frames, say) the first layer sees the
standardised frames at those offsets side by side (edge frames repeated), a dilated temporal
convolution in the manner of time-delay networks (Waibel et al. 1989, "Phoneme recognition
using time-delay neural networks", IEEE TASSP 37(3)), so that a unit can respond to a sweep, a
note onset or a syllable rhythm rather than to one spectral slice. A window's
logit is the smooth maximum of its frame logits (log-mean-exp with a learned sharpness
``beta > 0``): a bird anywhere in the window raises it. Training with one label per clip pools
all frames of the clip's windows the same way (multiple-instance learning).

The parameters are a flat dict of arrays (what the ``.npz`` of a model holds):
``mean``, ``std`` (``(n_features,)``, fixed statistics), optionally ``context`` (``(K,)``,
fixed frame offsets, whole numbers stored as float32; absent means ``K = 1``, offset 0),
``w0``, ``b0``, ... ``w{L-1}``, ``b{L-1}`` (``(n_in, H, R)`` and ``(H, R)``, with
``n_in = K * n_features`` for the first layer, offsets outermost), ``w_out`` (``(H_last,)``),
``b_out`` (``()``), ``beta_raw`` (``()``). This module defines that dict (:func:`init_params`,
:func:`check_params`) and the classifier as pure JAX functions of it (:func:`frame_logits`,
:func:`window_logits`, :func:`bag_logits`), a reference in plain JAX. The trainer and the
detector use the same classifier built from ``layers`` layers on that dict
(:mod:`scatter.detect.network`): the trainer trains its Variables and writes them back as
this dict; the detector's program runs its :func:`symbolic.to_jax` export.

Example
-------
>>> import jax, numpy as np
>>> params = init_params(jax.random.PRNGKey(0), n_features=10, hidden=(8,), pieces=2)
>>> window_logits(params, np.zeros((3, 10, 5), "float32")).shape
(3,)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from scatter.errors import ScatterError, check_int, is_int

__all__ = ["MIN_BETA", "bag_logits", "check_params", "frame_logits", "init_params",
           "n_layers", "pool_logits", "window_logits"]

#: Lower bound of the pooling sharpness: ``beta = softplus(beta_raw) + MIN_BETA`` stays
#: positive, so the log-mean-exp pooling is never an average over a flat exponent.
MIN_BETA = 0.1


def init_params(key, *, n_features, hidden=(48, 24), pieces=3, mean=None, std=None,
                context=None):
    """Random initial parameters.

    Parameters
    ----------
    key : jax.Array
        PRNG key.
    n_features : int
        Channels per feature frame.
    hidden : sequence of int
        Units of each max-affine layer (at least one layer).
    pieces : int
        Affine pieces per unit, ``R >= 2``.
    mean, std : array_like [shape=(n_features,)] or None
        Standardisation statistics (None: 0 and 1).
    context : sequence of int or None
        Frame offsets the first layer sees (None: the frame alone).

    Returns
    -------
    params : dict of jax.Array

    Raises
    ------
    ScatterError
        For a non-positive size, ``pieces < 2`` or statistics of the wrong shape.

    Examples
    --------
    >>> p = init_params(jax.random.PRNGKey(0), n_features=4, hidden=(3,), pieces=2)
    >>> p["w0"].shape, p["w_out"].shape
    ((4, 3, 2), (3,))
    """
    sizes = [n_features, *hidden]
    if not hidden or any(not is_int(s) or s < 1 for s in sizes):
        raise ScatterError(f"n_features and hidden must be positive integers (at least one "
                           f"hidden layer); got n_features={n_features!r}, hidden={hidden!r}")
    check_int(pieces, "pieces", 2)
    if context is not None:
        ctx = np.asarray(context)
        if (ctx.ndim != 1 or ctx.size < 1 or not np.all(ctx == np.round(ctx))
                or np.unique(ctx).size != ctx.size):
            raise ScatterError(f"context must be distinct whole frame offsets, e.g. "
                               f"(-2, 0, 2); got {context!r}")
        sizes[0] = n_features * ctx.size
    params = {
        "mean": jnp.zeros(n_features) if mean is None else jnp.asarray(mean, jnp.float32),
        "std": jnp.ones(n_features) if std is None else jnp.asarray(std, jnp.float32),
    }
    for name in ("mean", "std"):
        if params[name].shape != (n_features,):
            raise ScatterError(f"{name} must have shape ({n_features},); "
                               f"got {params[name].shape}")
    if context is not None:
        params["context"] = jnp.asarray(ctx, jnp.float32)
    keys = jax.random.split(key, 2 * len(hidden) + 1)
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        params[f"w{i}"] = (jax.random.normal(keys[2 * i], (n_in, n_out, pieces))
                           / np.sqrt(n_in)).astype(jnp.float32)
        params[f"b{i}"] = 0.1 * jax.random.normal(keys[2 * i + 1], (n_out, pieces),
                                                  jnp.float32)
    params["w_out"] = (jax.random.normal(keys[-1], (sizes[-1],))
                       / np.sqrt(sizes[-1])).astype(jnp.float32)
    params["b_out"] = jnp.zeros((), jnp.float32)
    params["beta_raw"] = jnp.zeros((), jnp.float32)  # beta = softplus(0) + MIN_BETA ~ 0.79
    return {k: jnp.asarray(v, jnp.float32) for k, v in params.items()}


def n_layers(params):
    """Number of max-affine layers in ``params``."""
    n = 0
    while f"w{n}" in params:
        n += 1
    return n


def check_params(params, *, n_features=None):
    """Check that ``params`` is a complete, consistent parameter dict.

    Raises
    ------
    ScatterError
        For a missing array, inconsistent shapes, or non-finite values.
    """
    if not isinstance(params, dict):
        raise ScatterError(f"params must be a dict of arrays; got {type(params).__name__}")
    L = n_layers(params)
    need = ["mean", "std", "w_out", "b_out", "beta_raw"] + [
        f"{a}{i}" for i in range(L) for a in ("w", "b")]
    missing = [k for k in need if k not in params]
    if L == 0 or missing:
        raise ScatterError(f"params is missing {missing or ['w0', 'b0']}; a detector model "
                           f"needs {need or ['mean', 'std', 'w0', 'b0', 'w_out', 'b_out']}")
    n_in = params["w0"].shape[0]
    k = np.asarray(params["context"]).size if "context" in params else 1
    n_stat = np.asarray(params["mean"]).shape[0]
    if n_features is not None and (n_in != k * n_features or n_stat != n_features):
        expects = n_in // k if n_in % k == 0 else n_in
        raise ScatterError(f"the model expects {expects} feature channels but the features have "
                           f"{n_features}; the model and feature settings do not match")
    if n_in != k * n_stat:
        raise ScatterError(f"params w0 has {n_in} inputs but {k} context offsets of {n_stat} "
                           f"channels make {k * n_stat}; the parameters are inconsistent")
    for i in range(L):
        w, b = params[f"w{i}"], params[f"b{i}"]
        if w.ndim != 3 or w.shape[0] != n_in or b.shape != w.shape[1:]:
            raise ScatterError(f"params w{i} {w.shape} / b{i} {b.shape} are inconsistent: "
                               f"expected w{i} ({n_in}, H, R) and b{i} (H, R)")
        n_in = w.shape[1]
    if params["w_out"].shape != (n_in,):
        raise ScatterError(f"params w_out must have shape ({n_in},); "
                           f"got {params['w_out'].shape}")
    for k, v in params.items():
        if not np.all(np.isfinite(np.asarray(v))):
            raise ScatterError(f"params {k} holds NaN or infinite values")
    if np.any(np.asarray(params["std"]) <= 0):
        raise ScatterError("params std must be positive")


def frame_logits(params, feats):
    """Logit of every feature frame.

    Parameters
    ----------
    params : dict of jax.Array
    feats : jax.Array [shape=(..., n_features, n_frames)]

    Returns
    -------
    jax.Array [shape=(..., n_frames)]
    """
    x = jnp.swapaxes(jnp.asarray(feats, jnp.float32), -1, -2)
    mean = jax.lax.stop_gradient(params["mean"])
    std = jax.lax.stop_gradient(params["std"])
    h = (x - mean) / std
    if "context" in params:  # frames at the offsets side by side, edge frames repeated
        n = h.shape[-2]
        offsets = jax.lax.stop_gradient(params["context"]).astype(jnp.int32)
        idx = jnp.clip(jnp.arange(n)[:, None] + offsets[None, :], 0, n - 1)  # (n, K)
        h = jnp.take(h, idx, axis=-2)  # (..., n, K, C)
        h = h.reshape(h.shape[:-2] + (-1,))
    for i in range(n_layers(params)):
        h = jnp.einsum("...i,ihr->...hr", h, params[f"w{i}"]) + params[f"b{i}"]
        h = jnp.max(h, axis=-1)
    return h @ params["w_out"] + params["b_out"]


def pool_logits(params, logits, valid=None):
    """Smooth maximum (log-mean-exp, sharpness ``beta``) of logits over the last axis.

    Parameters
    ----------
    params : dict of jax.Array
        Holds ``beta_raw``; ``beta = softplus(beta_raw) + MIN_BETA``.
    logits : jax.Array [shape=(..., n)]
    valid : jax.Array [shape=(..., n), dtype=bool] or None
        Entries to pool (at least one per row); None: all.

    Returns
    -------
    jax.Array [shape=(...)]
        Between the mean and the max of the pooled logits.
    """
    beta = jax.nn.softplus(params["beta_raw"]) + MIN_BETA
    z = beta * logits
    if valid is None:
        n = logits.shape[-1]
        return (jax.nn.logsumexp(z, axis=-1) - jnp.log(n)) / beta
    z = jnp.where(valid, z, -jnp.inf)
    n = jnp.maximum(jnp.sum(valid, axis=-1), 1)
    return (jax.nn.logsumexp(z, axis=-1) - jnp.log(n)) / beta


def window_logits(params, feats):
    """Logit of each window from its feature frames.

    Parameters
    ----------
    params : dict of jax.Array
    feats : jax.Array [shape=(..., n_features, n_frames)]

    Returns
    -------
    jax.Array [shape=(...)]
        ``sigmoid`` of it is the window's probability of bird activity.
    """
    return pool_logits(params, frame_logits(params, feats))


def bag_logits(params, feats, valid):
    """Logit of each clip from the frames of all its windows (multiple-instance pooling).

    Parameters
    ----------
    params : dict of jax.Array
    feats : jax.Array [shape=(batch, n_windows, n_features, n_frames)]
        Windows of each clip, padded to a common count.
    valid : jax.Array [shape=(batch, n_windows), dtype=bool]
        Real (not padding) windows; at least one per clip.

    Returns
    -------
    jax.Array [shape=(batch,)]
    """
    z = frame_logits(params, feats)  # (batch, n_windows, n_frames)
    mask = jnp.broadcast_to(valid[..., None], z.shape)
    b = z.shape[0]
    return pool_logits(params, z.reshape(b, -1), mask.reshape(b, -1))
