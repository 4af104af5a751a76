"""The detector's classifier as a ``layers`` network, with a model's parameters loaded.

The same computation as :mod:`scatter.detect.model` (whose flat parameter dict it reads), made
of public ``layers`` layers, so that the library's tools apply to the shipped model: compile it
with :func:`symbolic.function` or export it with :func:`symbolic.to_jax`, and study it with
the spline theory of :mod:`layers.analysis` (the frame classifier is a max-affine spline of
its input frames: standardisation and frame stacking are affine, the hidden layers max-affine).

The layers, in order, and the model parameters they hold:

- ``InputLayer``: features ``(batch, n_features, n_frames)``;
- :class:`layers.Standardize`: ``(x - mean) / std`` per channel (``mean``, ``std``; fixed);
- :class:`layers.TemporalContext`: the frames at the offsets side by side, edge frames
  repeated, ``(batch, n_frames, K * n_features)`` (``context``; offset 0 alone without it);
- one :class:`layers.MaxOut` per hidden layer: ``max_r (h @ W[:, :, r] + b[:, r])`` on every
  frame (``w{i}`` ``(n_in, H, R)``, ``b{i}`` ``(H, R)``);
- :class:`layers.Dense`: the linear read-out ``(batch, n_frames, 1)`` (``w_out``, ``b_out``);
- :class:`layers.Reshape`: the frame logits ``(batch, n_frames)``;
- on top, from :func:`window_network`, :class:`layers.LogMeanExpPool`: the window logit
  ``(batch,)`` (``beta_raw``).

:func:`classifier_network` returns the frame-logit network (its last layer, Lasagne style);
:func:`window_network` puts the pooling on top of it. The parameters are the model's arrays,
as float32: the outputs equal the model functions' to float32 rounding.

Spline analysis: :func:`layers.analysis.to_spline_net` builds dense matrices on the flattened
input, so it reads networks of a few frames, not a whole window (55 frames of 240 channels
would need matrices of 10^8 entries and raise a clear error). Each frame's logit depends only
on the frames its context reaches: without context (the shipped model),
``classifier_network(params, n_frames=1)`` is exactly the classifier of every frame; with
offsets spanning ``s = max - min + 1`` frames, the network of ``s`` frames holds at output
``-min`` the logit of a frame away from the window's edges.

Example
-------
>>> import jax, numpy as np, symbolic as S, layers as L
>>> from scatter.detect.model import init_params
>>> params = init_params(jax.random.PRNGKey(0), n_features=4, hidden=(3,), pieces=2)
>>> net = classifier_network(params, n_frames=5)
>>> pooled = window_network(net, params)
>>> x = S.placeholder((None, 4, 5))
>>> f = S.function([x], [L.get_output(net, x, deterministic=True),
...                      L.get_output(pooled, x, deterministic=True)])
>>> [a.shape for a in f(np.zeros((2, 4, 5), "float32"))]
[(2, 5), (2,)]
"""

from __future__ import annotations

import numpy as np

from scatter.detect.model import MIN_BETA, check_params, n_layers
from scatter.errors import ScatterError, check_int

__all__ = ["classifier_network", "window_network"]


def classifier_network(params, *, n_frames):
    """The frame classifier of a detector model as a ``layers`` network.

    Built in a graph of its own (:class:`symbolic.Graph`), so that its parameter names do
    not collide with a user's. Apply the whole chain with ``layers.get_output(net, x,
    deterministic=True)`` (calling ``net`` itself applies only its last layer), or read it
    with :func:`layers.analysis.to_spline_net`.

    Parameters
    ----------
    params : dict of array_like
        A model's parameters (:mod:`scatter.detect.model`).
    n_frames : int
        Feature frames per window (``Detector.features.n_frames``; 1 gives the classifier of
        one frame, the smallest exact spline network of a model without context).

    Returns
    -------
    layers.Layer
        The last layer; input ``(batch, n_features, n_frames)``, output the frame logits
        ``(batch, n_frames)``. Its chain (``input_layer``) holds, in order: ``InputLayer``,
        ``Standardize``, ``TemporalContext``, one ``MaxOut`` per hidden layer, the ``Dense``
        read-out and a ``Reshape``. Only the hidden layers, read-out and pooling are tagged
        trainable (the statistics and offsets are fixed, as :data:`model.FIXED` says).

    Raises
    ------
    ScatterError
        For an incomplete or inconsistent parameter dict or a non-positive ``n_frames``.

    Examples
    --------
    >>> net = classifier_network(params, n_frames=55)        # doctest: +SKIP
    >>> net.output_shape                                     # doctest: +SKIP
    (None, 55)
    """
    import layers as L
    import symbolic as S

    check_params(params)
    n_frames = check_int(n_frames, "n_frames")
    p = {k: np.asarray(v, np.float32) for k, v in params.items()}
    n_features = p["mean"].shape[0]
    offsets = (0,) if "context" not in p else tuple(int(o) for o in p["context"])
    with S.Graph(name="detector-classifier"):
        h = L.InputLayer((None, n_features, n_frames))
        h = L.Standardize(h, p["mean"], p["std"], axis=1, name="standardize")
        h = L.TemporalContext(h, offsets, name="context")
        for i in range(n_layers(p)):
            units, pieces = p[f"b{i}"].shape
            h = L.MaxOut(h, units, n_pieces=pieces, W=p[f"w{i}"], b=p[f"b{i}"],
                         name=f"maxaffine{i}")
        h = L.Dense(h, 1, W=p["w_out"][:, None], b=p["b_out"][None], name="readout")
        return L.Reshape(h, (n_frames,), name="frame_logits")


def window_network(network, params):
    """The window logit on top of a frame network: log-mean-exp pooling of the frame logits.

    Parameters
    ----------
    network : layers.Layer
        A :func:`classifier_network` (its output ``(batch, n_frames)``).
    params : dict of array_like
        The same model's parameters (``beta_raw`` is read).

    Returns
    -------
    layers.LogMeanExpPool
        Output ``(batch,)``: ``(logsumexp(beta z) - log n_frames) / beta`` of the frame logits
        ``z``, ``beta = softplus(beta_raw) + 0.1`` (:func:`scatter.detect.model.pool_logits`);
        its ``input_layer`` is ``network``.

    Raises
    ------
    ScatterError
        For a ``network`` that does not output ``(batch, n_frames)`` or parameters without
        ``beta_raw``.
    """
    import layers as L
    import symbolic as S

    if not isinstance(network, L.Layer) or len(network.output_shape) != 2:
        raise ScatterError(f"network must be a classifier_network (a layers.Layer with output "
                           f"(batch, n_frames)); got {network!r}")
    if "beta_raw" not in params:
        raise ScatterError("params is missing 'beta_raw' (the pooling sharpness)")
    with S.Graph(name="detector-pooling"):
        return L.LogMeanExpPool(network, axis=-1,
                                beta_raw=np.asarray(params["beta_raw"], np.float32),
                                min_beta=MIN_BETA, name="window_logit")

