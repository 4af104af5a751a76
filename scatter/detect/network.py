"""The detector's classifier as a ``layers`` network, its training loss, and its export.

The classifier of :mod:`scatter.detect.model` (whose flat parameter dict the model file holds)
made of public ``layers`` layers. The trainer (:mod:`scatter.detect.training`,
:mod:`scatter.detect.finetune`) builds it, minimises :func:`bag_loss` with ``layers``
optimizers in one :func:`symbolic.function`, and reads the trained values back with
:func:`model_params`; the detector's compiled program scores windows with its
:func:`symbolic.to_jax` export (:func:`window_logits_program`); and the spline theory of
:mod:`layers.analysis` reads it (the frame classifier is a max-affine spline of its input
frames: standardisation and frame stacking are affine, the hidden layers max-affine).

The layers, in order, and the model parameters they hold:

- ``InputLayer``: features ``(batch, n_features, n_frames)``;
- :class:`layers.Standardize`: ``(x - mean) / std`` per channel (``mean``, ``std``; fixed:
  not trainable);
- for training only (``dropout > 0``), :class:`layers.Dropout` on the standardised features;
- :class:`layers.TemporalContext`: the frames at the offsets side by side, edge frames
  repeated, ``(batch, n_frames, K * n_features)`` (``context``, static; offset 0 alone
  without it);
- one :class:`layers.MaxOut` per hidden layer: ``max_r (h @ W[:, :, r] + b[:, r])`` on every
  frame (``w{i}`` ``(n_in, H, R)``, ``b{i}`` ``(H, R)``);
- :class:`layers.Dense`: the linear read-out ``(batch, n_frames, 1)`` (``w_out``, ``b_out``);
- :class:`layers.Reshape`: the frame logits ``(batch, n_frames)``;
- on top, from :func:`window_network`, :class:`layers.LogMeanExpPool`: the window logit
  ``(batch,)`` (``beta_raw``).

:func:`classifier_network` returns the frame-logit network (its last layer, Lasagne style);
:func:`window_network` puts the pooling on top of it. The parameters are the model's arrays,
as float32.

Training loss (:func:`bag_loss`, the one definition the trainers share): one label per clip,
multiple-instance pooling of the frame logits of all the clip's real windows with the same
log-mean-exp as a window's (padding windows left out), and the sigmoid cross-entropy of the
clip logit, weighted per clip and class-balanced (positives weighted by the ratio of
negatives to positives).

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

__all__ = ["bag_loss", "classifier_network", "classifier_updates", "model_params",
           "model_variables", "window_logits_program", "window_network"]

#: Global norm the classifier's gradients are clipped to before each AdamW step.
CLIP_NORM = 1.0


def classifier_network(params, *, n_frames, dropout=0.0, seed=0):
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
    dropout : float
        Share of standardised input features zeroed in each training step, ``[0, 1)`` (the
        rest scaled by ``1 / (1 - dropout)``); the network then holds a
        :class:`layers.Dropout` after the standardisation, the identity when evaluated with
        ``deterministic=True``. 0 (the default): no such layer.
    seed : int
        Seeds the dropout's random stream (:mod:`symbolic.random`).

    Returns
    -------
    layers.Layer
        The last layer; input ``(batch, n_features, n_frames)``, output the frame logits
        ``(batch, n_frames)``. Its chain (``input_layer``) holds, in order: ``InputLayer``,
        ``Standardize``, ``Dropout`` (with ``dropout > 0``), ``TemporalContext``, one
        ``MaxOut`` per hidden layer, the ``Dense`` read-out and a ``Reshape``. Only the
        hidden layers, read-out and pooling are tagged trainable (the statistics and offsets
        are fixed).

    Raises
    ------
    ScatterError
        For an incomplete or inconsistent parameter dict, a non-positive ``n_frames`` or a
        ``dropout`` outside ``[0, 1)``.

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
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not (
            0 <= dropout < 1):
        raise ScatterError(f"dropout must be a number in [0, 1); got {dropout!r}")
    p = {k: np.asarray(v, np.float32) for k, v in params.items()}
    n_features = p["mean"].shape[0]
    offsets = (0,) if "context" not in p else tuple(int(o) for o in p["context"])
    with S.Graph(name="detector-classifier"):
        h = L.InputLayer((None, n_features, n_frames))
        h = L.Standardize(h, p["mean"], p["std"], axis=1, name="standardize")
        if dropout > 0:
            h = L.Dropout(h, p=dropout, seed=int(seed), name="dropout")
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


def _layer(network, kind, name):
    import layers as L

    for layer in L.get_all_layers(network):
        if type(layer).__name__ == kind and layer.name == name:
            return layer
    return None


def model_variables(network):
    """The Variables of a window network, by the model's parameter names.

    Parameters
    ----------
    network : layers.LogMeanExpPool
        A :func:`window_network`.

    Returns
    -------
    dict
        ``mean``, ``std``, ``w0``, ``b0``, ... , ``w_out``, ``b_out``, ``beta_raw`` ->
        :class:`symbolic.Variable`. ``w_out`` and ``b_out`` are held as the read-out's
        ``(H, 1)`` and ``(1,)`` arrays (the model's ``(H,)`` and ``()`` reshaped).

    Raises
    ------
    ScatterError
        For a network that is not a :func:`window_network`.
    """
    import layers as L

    if not isinstance(network, L.LogMeanExpPool) or _layer(network, "Dense",
                                                           "readout") is None:
        raise ScatterError(f"network must be a window_network (layers.LogMeanExpPool on a "
                           f"classifier_network); got {network!r}")
    std = _layer(network, "Standardize", "standardize")
    out = {"mean": std.mean, "std": std.std}
    i = 0
    while (layer := _layer(network, "MaxOut", f"maxaffine{i}")) is not None:
        out[f"w{i}"], out[f"b{i}"] = layer.W, layer.b
        i += 1
    readout = _layer(network, "Dense", "readout")
    out.update(w_out=readout.W, b_out=readout.b, beta_raw=network.beta_raw)
    return out


def classifier_updates(network, loss_or_grads, *, learning_rate, weight_decay):
    """The classifier's optimisation step: AdamW (``optax.adamw`` through
    :func:`layers.adamw`) on the trainable Variables of a window network, gradients clipped
    to a global norm of :data:`CLIP_NORM` first.

    Only the trainable Variables are optimised: the standardisation statistics are not
    trainable, so they never move (no gradient, no weight decay).

    Parameters
    ----------
    network : layers.LogMeanExpPool
        A :func:`window_network`.
    loss_or_grads : symbolic.Tensor [shape=()] or list of symbolic.Tensor
        The loss (:func:`bag_loss`), or its gradients with respect to
        ``layers.get_params(network, trainable=True)`` in that order.
    learning_rate, weight_decay : float

    Returns
    -------
    dict
        Variable -> new value, for the parameters and the optimizer's state (Variables
        tagged ``"optimizer_state"``, scope ``"adamw"``), for :func:`symbolic.function`.
    """
    import layers as L

    return L.adamw(loss_or_grads, L.get_params(network, trainable=True),
                   learning_rate=float(learning_rate), clip_norm=CLIP_NORM,
                   weight_decay=float(weight_decay))


def model_params(network):
    """The model's flat parameter dict (:mod:`scatter.detect.model`, what
    :func:`scatter.detect.io.save_model` writes) from a window network's current values.

    Parameters
    ----------
    network : layers.LogMeanExpPool
        A :func:`window_network` (trained, say).

    Returns
    -------
    dict of numpy.ndarray
        float32 copies; ``context`` (as float32 offsets) when the network's offsets are not
        the frame alone.

    Raises
    ------
    ScatterError
        For a network that is not a :func:`window_network`.
    """
    shapes = {"w_out": (-1,), "b_out": ()}
    out = {k: np.asarray(v.value, np.float32).reshape(shapes.get(k, v.shape))
           for k, v in model_variables(network).items()}
    offsets = _layer(network, "TemporalContext", "context").offsets
    if tuple(offsets) != (0,):
        out["context"] = np.asarray(offsets, np.float32)
    return out


def window_logits_program(params, *, n_frames):
    """The window logits of a model as a pure JAX function of its parameters: the
    :func:`symbolic.to_jax` export of its :func:`window_network`.

    What the detector's compiled program runs (``Detector._classify``): traceable under
    :func:`jax.jit`, :func:`jax.vmap`, ``jax.shard_map`` and :func:`jax.grad`.

    Parameters
    ----------
    params : dict of array_like
        The model's parameters; its ``context`` offsets are built into the function.
    n_frames : int
        Feature frames per window.

    Returns
    -------
    callable
        ``logits(params, feats)``: ``params`` a flat dict of this model's shapes (the same
        ``context``), ``feats`` ``(batch, n_features, n_frames)`` float32 -> ``(batch,)``.

    Raises
    ------
    ScatterError
        As :func:`classifier_network`.

    Examples
    --------
    >>> import jax, numpy as np
    >>> from scatter.detect.model import init_params
    >>> params = init_params(jax.random.PRNGKey(0), n_features=4, hidden=(3,), pieces=2)
    >>> logits = jax.jit(window_logits_program(params, n_frames=5))
    >>> logits(params, np.zeros((2, 4, 5), "float32")).shape
    (2,)
    """
    import jax.numpy as jnp

    import layers as L
    import symbolic as S

    net = classifier_network(params, n_frames=n_frames)
    pooled = window_network(net, params)
    variables = model_variables(pooled)
    with S.Graph(name="detector-export"):
        x = S.placeholder(L.get_all_layers(net)[0].output_shape, name="features")
    program = S.to_jax(L.get_output(pooled, x, deterministic=True), [x])
    names = {k: (v.name, v.shape) for k, v in variables.items()}

    def logits(params, feats):
        state = {name: jnp.reshape(params[k], shape) for k, (name, shape) in names.items()}
        return program(state, feats)[0]

    return logits


def bag_loss(network, feats, valid, labels, weights, *, pos_weight):
    """The detector's training loss: class-balanced, per-clip weighted sigmoid cross-entropy
    of clip logits pooled over the frames of each clip's real windows.

    The frame logits of all windows of a clip are pooled with the window network's own
    log-mean-exp (:meth:`layers.LogMeanExpPool.pool`, the same ``beta_raw``), padding windows
    left out; the network is applied for training (``deterministic=False``: its dropout, if
    any, draws a new mask at every step).

    Parameters
    ----------
    network : layers.LogMeanExpPool
        A :func:`window_network`.
    feats : symbolic.Tensor [shape=(batch, n_windows, n_features, n_frames)]
        Windows of each clip, padded to a common count.
    valid : symbolic.Tensor [shape=(batch, n_windows), dtype=bool]
        Real (not padding) windows; at least one per clip with a non-zero weight.
    labels : symbolic.Tensor [shape=(batch,)]
        1 for a clip with birds, 0 without.
    weights : symbolic.Tensor [shape=(batch,)]
        Weight of each clip (0 on padding rows).
    pos_weight : float
        Extra weight of the clips labelled 1 (the training set's negatives per positive).

    Returns
    -------
    symbolic.Tensor [shape=()]
        ``sum_i c_i l_i / sum_i c_i`` with ``l_i`` the cross-entropy of clip ``i``'s logit
        and ``c_i = weights_i * (pos_weight if labels_i else 1)``.

    Raises
    ------
    ScatterError
        For a network that is not a :func:`window_network` or features of another shape.

    Examples
    --------
    >>> loss = bag_loss(pooled, feats, valid, labels, weights, pos_weight=1.0)  # doctest: +SKIP
    """
    import layers as L
    import symbolic as S

    frames = network.input_layer
    model_variables(network)  # checks the network
    shape = L.get_all_layers(frames)[0].output_shape  # (None, n_features, n_frames)
    if len(feats.shape) != 4 or tuple(feats.shape[2:]) != tuple(shape[1:]) or \
            feats.shape[1] is None:
        raise ScatterError(f"feats must have shape (batch, n_windows, {shape[1]}, {shape[2]}) "
                           f"with a known n_windows; got {feats.shape}")
    n_windows, n_frames = feats.shape[1], shape[2]
    z = L.get_output(frames, feats.reshape((-1,) + tuple(shape[1:])))  # (batch * W, T)
    z = z.reshape((-1, n_windows * n_frames))
    mask = S.repeat(valid.astype("bool"), n_frames, axis=1)  # window-major, as z
    y = labels.astype("float32")
    clip = network.pool(z, where=mask)
    cw = S.where(y > 0.5, np.float32(pos_weight), np.float32(1.0)) * weights
    return L.sigmoid_cross_entropy(clip, y, weights=cw)
