"""Region-wise affine maps, templates and vector-quantisation (VQ) codes.

Inside the region of the input partition that contains ``x``, a MASO network is the affine map
``f(x') = A x' + b`` [1]_; the rows of ``A`` are the class *templates* matched against the input.
The region is identified by the per-layer VQ codes (which piece of every unit is active) [2]_.

References
----------
.. [1] R. Balestriero and R. Baraniuk, "A Spline Theory of Deep Networks", ICML 2018.
.. [2] R. Balestriero and R. Baraniuk, "Mad Max: Affine Spline Insights into Deep Learning",
   Proceedings of the IEEE, 2021 (arXiv:1805.06576).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from layers.analysis.spec import as_spline_net, is_network
from layers.errors import LayersError

__all__ = [
    "forward",
    "affine_map",
    "templates",
    "vq_codes",
    "vq_distance",
    "preactivation_maps",
]


def check_points(x, d, name="x"):
    """Points ``x`` of a ``d``-dimensional input space as a floating JAX array.

    Parameters
    ----------
    x : array_like [shape=(..., d)]
    d : int
    name : str
        The argument's name for messages.

    Returns
    -------
    jax.Array [shape=(..., d)]
        ``x``, cast to the default float type when it is not floating.

    Raises
    ------
    LayersError
        When the last axis is not of length ``d``.
    """
    x = jnp.asarray(x)
    if x.ndim < 1 or x.shape[-1] != d:
        raise LayersError(f"{name}: expected shape (..., {d}), got {tuple(x.shape)}")
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    return x


def _layer_codes(layer, pre):
    """Code and post-activation of one layer given its pre-activation ``pre (..., n)``."""
    act = layer.activation
    if act.kind == "identity":
        return jnp.zeros(pre.shape[:-1] + (0,), jnp.int32), pre
    if act.kind == "max_pool":
        g = jnp.asarray(act.groups)
        vals = pre[..., g]  # (..., G, k)
        code = jnp.argmax(vals, axis=-1).astype(jnp.int32)
        return code, jnp.max(vals, axis=-1)
    code = (pre > 0).astype(jnp.int32)
    return code, jnp.where(code == 1, pre, act.negative_slope() * pre)


def _pre(layer, h):
    out = h if layer.W is None else h @ jnp.asarray(layer.W)
    return out if layer.b is None else out + jnp.asarray(layer.b)


def forward(net, x):
    """Evaluate a piecewise-affine network and record every layer's code.

    Parameters
    ----------
    net : SplineNet or list of (W, b)
    x : jax.Array [shape=(..., d)]

    Returns
    -------
    y : jax.Array [shape=(..., out)]
    codes : list of jax.Array [shape=(..., n_codes_l), dtype=int32]
    pres : list of jax.Array [shape=(..., n_pre_l)]
        Pre-activations of every layer.

    Raises
    ------
    LayersError
        If ``net`` is not a piecewise-affine description or ``x`` has the wrong last axis.

    Examples
    --------
    >>> import numpy as np
    >>> y, codes, _ = forward([(np.eye(2), np.zeros(2)), (np.ones((2, 1)), np.zeros(1))],
    ...                       np.array([1.0, -2.0]))
    >>> float(y[0]), codes[0].tolist()
    (1.0, [1, 0])
    """
    net = as_spline_net(net)
    return _forward_jit(net, check_points(x, net.in_dim))


def forward_raw(net, h):
    """:func:`forward` without its input check and ``jit``, to be traced inside other analyses.

    Parameters
    ----------
    net : SplineNet
    h : jax.Array [shape=(..., d)]

    Returns
    -------
    y, codes, pres
        As :func:`forward`.
    """
    codes, pres = [], []
    for layer in net.layers:
        pre = _pre(layer, h)
        code, h = _layer_codes(layer, pre)
        codes.append(code)
        pres.append(pre)
    return h, codes, pres


_forward_jit = jax.jit(forward_raw)


def _select_columns(layer, code, M):
    """Apply the active-piece selection of ``layer`` to the columns of ``M (..., r, n_pre)``."""
    act = layer.activation
    if act.kind == "identity":
        return M
    if act.kind == "max_pool":
        g = jnp.asarray(act.groups)
        idx = jnp.take_along_axis(
            jnp.broadcast_to(g, code.shape + g.shape[-1:]), code[..., None], axis=-1
        )[..., 0]  # (..., G) indices of the active unit per group
        idx = jnp.broadcast_to(idx[..., None, :], M.shape[:-1] + idx.shape[-1:])
        return jnp.take_along_axis(M, idx, axis=-1)
    s = jnp.where(code == 1, 1.0, act.negative_slope()).astype(M.dtype)
    return M * s[..., None, :]


def select_rows_transpose(layer, code, T, n_pre):
    """Back-propagate ``T (..., o, n_out)`` through the active selection to ``(..., o, n_pre)``.

    ``code`` is the layer's VQ code (as :func:`forward` returns it) and ``n_pre`` its number of
    pre-activations.
    """
    act = layer.activation
    if act.kind == "identity":
        return T
    if act.kind == "max_pool":
        g = jnp.asarray(act.groups)
        idx = jnp.take_along_axis(
            jnp.broadcast_to(g, code.shape + g.shape[-1:]), code[..., None], axis=-1
        )[..., 0]
        onehot = (idx[..., :, None] == jnp.arange(n_pre)).astype(T.dtype)  # (..., G, n_pre)
        return T @ onehot
    s = jnp.where(code == 1, 1.0, act.negative_slope()).astype(T.dtype)
    return T * s[..., None, :]


def _jacobian_fallback(f, x):
    flat = x.reshape((-1, x.shape[-1]))

    def one(v):
        y = jnp.atleast_1d(f(v))
        return jax.jacrev(lambda u: jnp.atleast_1d(f(u)))(v), y

    A, y = jax.vmap(one)(flat)
    if A.ndim != 3:
        raise LayersError(
            f"net: the callable must map one input of shape ({x.shape[-1]},) to a vector, "
            f"its Jacobian has shape {A.shape[1:]}"
        )
    b = y - jnp.einsum("nod,nd->no", A, flat)
    return A.reshape(x.shape[:-1] + A.shape[1:]), b.reshape(x.shape[:-1] + b.shape[1:])


def affine_map(net, x):
    """The affine map ``(A, b)`` with ``net(x') = A @ x' + b`` for every ``x'`` in x's region.

    Parameters
    ----------
    net : SplineNet, list of (W, b), or callable
        A piecewise-affine description (exact, computed from the activation codes), or any
        JAX function mapping one input of shape ``(d,)`` to ``(out,)`` (autodiff fallback:
        ``A`` is the Jacobian at ``x`` and ``b = f(x) - A x``; exact for any piecewise-affine
        function at points where it is differentiable).
    x : jax.Array [shape=(..., d)]

    Returns
    -------
    A : jax.Array [shape=(..., out, d)]
    b : jax.Array [shape=(..., out)]

    Raises
    ------
    LayersError
        If ``x`` does not match the network's input dimension.

    Examples
    --------
    >>> import numpy as np
    >>> net = [(np.array([[1.0, -1.0]]), np.zeros(2)), (np.ones((2, 1)), np.zeros(1))]
    >>> A, b = affine_map(net, np.array([2.0]))   # relu(x) + relu(-x) = |x|
    >>> float(A[0, 0]), float(b[0])
    (1.0, 0.0)
    """
    if callable(net) and not is_network(net):
        x = jnp.asarray(x)
        if x.ndim < 1:
            raise LayersError(f"x: expected shape (..., d), got {tuple(x.shape)}")
        return _jacobian_fallback(net, x)
    net = as_spline_net(net)
    return _affine_jit(net, check_points(x, net.in_dim))


def _affine_raw(net, x):
    y, codes, _ = forward_raw(net, x)
    o = net.out_dim
    T = jnp.broadcast_to(jnp.eye(o, dtype=y.dtype), x.shape[:-1] + (o, o))
    for layer, code, n_pre in zip(
        reversed(net.layers), reversed(codes), reversed(net.pre_dims)
    ):
        T = select_rows_transpose(layer, code, T, n_pre)
        if layer.W is not None:
            T = T @ jnp.asarray(layer.W).T.astype(T.dtype)
    A = T
    b = y - jnp.einsum("...od,...d->...o", A, x)
    return A, b


_affine_jit = jax.jit(_affine_raw)


def templates(net, x):
    """Class templates: row ``c`` of the region's slope matrix, so ``f_c(x) = <A_c, x> + b_c``.

    Parameters
    ----------
    net : SplineNet, list of (W, b), or callable
    x : jax.Array [shape=(..., d)]

    Returns
    -------
    templates : jax.Array [shape=(..., out, d)]

    Raises
    ------
    LayersError
        As :func:`affine_map`.

    Examples
    --------
    >>> import numpy as np
    >>> templates([(np.eye(2), np.zeros(2), "relu")], np.ones(2)).shape
    (2, 2)
    """
    return affine_map(net, x)[0]


def vq_codes(net, x, *, concat: bool = False):
    """Per-layer VQ codes of ``x`` (index of the active affine piece of every unit).

    Parameters
    ----------
    net : SplineNet or list of (W, b)
    x : jax.Array [shape=(..., d)]
    concat : bool
        Concatenate the layers' codes into one vector per input.

    Returns
    -------
    codes : list of jax.Array [shape=(..., n_codes_l), dtype=int32] or jax.Array
        ``1``/``0`` for ReLU, leaky ReLU and absolute value (pre-activation ``> 0``), the
        argmax within the group for max-pooling, empty for identity layers.

    Raises
    ------
    LayersError
        If ``net`` is not a piecewise-affine description.

    Examples
    --------
    >>> import numpy as np
    >>> vq_codes([(np.eye(2), np.zeros(2), "relu")], np.array([1.0, -1.0]))[0].tolist()
    [1, 0]
    """
    codes = forward(net, x)[1]
    return jnp.concatenate(codes, axis=-1) if concat else codes


def vq_distance(net, x1, x2, *, per_layer: bool = False):
    """VQ distance: number of units whose active piece differs between ``x1`` and ``x2``.

    The distance is 0 if and only if the two inputs lie in the same region of the network's
    input partition (the Hamming distance between VQ codes of [2]_).

    Parameters
    ----------
    net : SplineNet or list of (W, b)
    x1, x2 : jax.Array [shape=(..., d)]
        Broadcast against each other.
    per_layer : bool
        Return one distance per layer instead of the total.

    Returns
    -------
    distance : jax.Array [shape=(...)] or [shape=(..., n_layers)], dtype=int32

    Raises
    ------
    LayersError
        If ``net`` is not a piecewise-affine description or the shapes do not fit.

    Examples
    --------
    >>> import numpy as np
    >>> net = [(np.eye(2), np.zeros(2), "relu")]
    >>> int(vq_distance(net, np.array([1.0, 1.0]), np.array([-1.0, 1.0])))
    1
    """
    c1 = forward(net, x1)[1]
    c2 = forward(net, x2)[1]
    d = jnp.stack([jnp.sum(a != b, axis=-1) for a, b in zip(c1, c2)], axis=-1)
    return d if per_layer else jnp.sum(d, axis=-1)


def preactivation_maps(net, x):
    """Every layer's pre-activation as an affine function of the input, inside x's region.

    For ``x'`` in the region of ``x`` (same codes in all layers before ``l``), layer ``l``'s
    pre-activation is ``x' @ G[l] + c[l]`` (the pulled-back hyperplanes of the power-diagram
    subdivision).

    Parameters
    ----------
    net : SplineNet or list of (W, b)
    x : jax.Array [shape=(..., d)]

    Returns
    -------
    maps : list of (G, c)
        ``G`` : jax.Array [shape=(..., d, n_pre_l)], ``c`` : jax.Array [shape=(..., n_pre_l)].
        Memory grows as ``batch * d * width``: pass chunks for large inputs.

    Raises
    ------
    LayersError
        If ``net`` is not a piecewise-affine description or ``x`` has the wrong last axis.

    Examples
    --------
    >>> import numpy as np
    >>> (G, c), = preactivation_maps([(2 * np.eye(2), np.ones(2))], np.zeros(2))
    >>> G.tolist(), c.tolist()
    ([[2.0, 0.0], [0.0, 2.0]], [1.0, 1.0])
    """
    net = as_spline_net(net)
    return _preact_jit(net, check_points(x, net.in_dim))


def preactivation_raw(net, x):
    """:func:`preactivation_maps` without its input check and ``jit``, to be traced inside other
    analyses."""
    _, codes, _ = forward_raw(net, x)
    d = net.in_dim
    S = jnp.concatenate([jnp.eye(d, dtype=x.dtype), jnp.zeros((1, d), x.dtype)], axis=0)
    maps = []
    for layer, code in zip(net.layers, codes):
        if layer.W is not None:
            S = S @ jnp.asarray(layer.W).astype(x.dtype)
        if layer.b is not None:
            S = S.at[..., -1, :].add(jnp.asarray(layer.b).astype(x.dtype))
        S = jnp.broadcast_to(S, x.shape[:-1] + S.shape[-2:])
        maps.append((S[..., :-1, :], S[..., -1, :]))
        S = _select_columns(layer, code, S)
    return maps


_preact_jit = jax.jit(preactivation_raw)

