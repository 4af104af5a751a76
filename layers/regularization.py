"""Weight penalties: L1, L2 and the template (filter) orthogonality penalty."""

from __future__ import annotations

import jax.numpy as jnp

import symbolic as S
from layers.errors import LayersError


def _as_list(params, what):
    if isinstance(params, S.Tensor):
        return [params]
    params = list(params)
    if not params:
        raise LayersError(f"{what}: params is empty; give at least one weight")
    return params


def l2(params):
    """``sum_p sum(p ** 2)`` over a list of weights (e.g. ``get_params(net, regularizable=True)``).

    Examples
    --------
    >>> import symbolic as S
    >>> with S.Graph():
    ...     float(l2([S.Variable([1.0, 2.0])]).eval())
    5.0
    """
    params = _as_list(params, "l2")
    total = (params[0] ** 2).sum()
    for p in params[1:]:
        total = total + (p ** 2).sum()
    return total


def l1(params):
    """``sum_p sum(|p|)`` over a list of weights."""
    params = _as_list(params, "l1")
    total = S.abs(params[0]).sum()
    for p in params[1:]:
        total = total + S.abs(p).sum()
    return total


def _ortho(w, filter_axis, normalize):
    f = jnp.moveaxis(w, filter_axis, 0).reshape(w.shape[filter_axis], -1)
    if normalize:
        f = f / jnp.maximum(jnp.linalg.norm(f, axis=1, keepdims=True), 1e-12)
    gram = f @ f.T
    off = gram - jnp.diag(jnp.diag(gram))
    return jnp.sum(off * off)


def orthogonality(weights, *, filter_axis=None, normalize=False):
    """Sum of squared inner products between distinct filters (templates) of a layer.

    ``sum_{k != k'} <w_k, w_k'>**2``: zero when the filters are orthogonal. Orthogonal
    templates make the layer's regions and VQ codes better conditioned (Balestriero &
    Baraniuk, "A Spline Theory of Deep Networks", ICML 2018, which proposes this penalty).

    Parameters
    ----------
    weights : Tensor, array, or list of them
        Dense weights ``(n_in, units)`` (filters along axis 1) or convolution weights
        ``(n_filters, ...)`` (filters along axis 0).
    filter_axis : int, optional
        Overrides the default axis above.
    normalize : bool, default False
        Use unit-norm filters (penalise only angles).

    Returns
    -------
    scalar, summed over the weights given

    Raises
    ------
    LayersError
        For a weight of fewer than 2 dims.
    """
    items = weights if isinstance(weights, (list, tuple)) else [weights]
    if not items:
        raise LayersError("orthogonality: weights is empty")
    total = None
    for w in items:
        ndim = len(w.shape)
        if ndim < 2:
            raise LayersError(
                f"orthogonality: weights need 2+ dims; got shape {tuple(w.shape)!r}"
            )
        axis = filter_axis if filter_axis is not None else (1 if ndim == 2 else 0)
        term = S.wrap(_ortho, name="orthogonality")(w, axis, bool(normalize))
        total = term if total is None else total + term
    return total
