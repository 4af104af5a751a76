"""Semi-supervised learning by deep-network inversion, with entropy and consistency terms.

A network made of affine maps and max-affine spline nonlinearities is, on the region of its
input space that contains ``x``, an affine map ``z = A[x] x + b[x]`` (Balestriero & Baraniuk,
"A Spline Theory of Deep Networks", ICML 2018). Each row ``A[x]_c`` is the *template* of class
``c``, the gradient of logit ``c`` with respect to the input. The inversion of the seed papers
(Balestriero, Roger, Glotin & Baraniuk, "Semi-Supervised Learning via New Deep Network
Inversion", 2017; Balestriero, Glotin & Baraniuk, "Semi-Supervised Learning Enabled by
Multiscale Deep Neural Network Inversion", 2018) reconstructs the input from the templates
weighted by the prediction, ``R(x) = sum_c p_c(x) A[x]_c = A[x]^T p(x)``: the backpropagation of
the predicted class distribution through the network. The multiscale version does the same at
every layer ``l``: the input ``h_l`` of the layer is compared with ``(dz / dh_l)^T p``.

What each term contributes (:func:`ssl_loss`):

- cross-entropy on the labelled examples: the only term that ties classes to labels;
- reconstruction (all examples): asks the templates of the predicted class to look like the
  input, so the regions of the spline partition and their templates follow the data's
  structure even where there are no labels (a generative, autoencoder-like prior that needs no
  decoder);
- entropy of the predictions on unlabelled examples (Grandvalet & Bengio, NIPS 2004): pushes
  decision boundaries away from dense regions of unlabelled data;
- consistency between two random augmentations of each unlabelled example (optional): the
  prediction on a strongly perturbed view must match the confident prediction on a weakly
  perturbed one (pseudo-labels above a confidence threshold, as in FixMatch, Sohn et al. 2020),
  or the two class distributions must agree (squared difference, the Pi-model of Laine & Aila,
  ICLR 2017). It adds invariance the architecture does not have.

Weighting. With ``weights=None`` every term has weight 1 and each per-layer reconstruction
error is made scale-free (divided by the energy of the layer's input) and averaged over
layers, so the loss has no tuning knob: this is our reading of the hyper-parameter-free
weighting of the multiscale paper, not a transcription of it. Any weight can be set through
``weights``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

import symbolic as S
from layers.compose import Sequential
from layers.errors import LayersError, is_int
from layers.losses import entropy, softmax_cross_entropy

TERMS = ("cross_entropy", "entropy", "reconstruction", "consistency")


def _target(logits, kind):
    if kind == "softmax":
        return jax.lax.stop_gradient(jax.nn.softmax(logits, axis=-1))
    return jax.nn.one_hot(jnp.argmax(logits, -1), logits.shape[-1], dtype=logits.dtype)


def reconstructions(logits, wrt, *, target="softmax"):
    """Template reconstructions ``(dz / dh)^T p`` of tensors the logits depend on.

    Parameters
    ----------
    logits : symbolic.Tensor [shape=(batch, n_classes)]
    wrt : symbolic.Tensor or list of symbolic.Tensor [shape=(batch, ...)]
        The network input and/or probes added to intermediate layer inputs (see
        :func:`probed_forward`). Tensors that lie on each other's paths must be probes: the
        reverse pass treats every ``wrt`` as a leaf.
    target : {"softmax", "argmax"}, default "softmax"
        ``p``: the predicted distribution (no gradient flows through it), or the one-hot
        predicted class (the template of the predicted class alone).

    Returns
    -------
    list of symbolic.Tensor
        One per ``wrt``, shaped like it, all from one reverse pass.

    Raises
    ------
    LayersError
        For an unknown target or non-2-D logits.
    """
    if target not in ("softmax", "argmax"):
        raise LayersError(f"reconstructions: target must be 'softmax' or 'argmax'; got {target!r}")
    logits = S.as_tensor(logits)
    if logits.ndim != 2:
        raise LayersError(f"reconstructions: logits must be (batch, n_classes); got shape "
                          f"{logits.shape}")
    items = [wrt] if isinstance(wrt, S.Tensor) else list(wrt)
    p = S.wrap(_target, name="inversion_target")(logits, target)
    out = S.vjp(logits, items, p)
    return list(out) if isinstance(out, (list, tuple)) else [out]


def probed_forward(net, x, *, scales, deterministic=False):
    """Run ``net`` with a zero probe added to the input of each chosen layer.

    The gradient with respect to a probe is the gradient with respect to that layer's input,
    so one reverse pass through the network gives every scale's reconstruction.

    Parameters
    ----------
    net : layers.Sequential
    x : symbolic.Tensor
    scales : list of int
        Indices of the layers whose inputs are probed (0: the network input).
    deterministic : bool

    Returns
    -------
    logits : symbolic.Tensor
    inputs : list of symbolic.Tensor
        The probed layer inputs ``h_l``.
    probes : list of symbolic.Tensor
        Zero tensors shaped like them (differentiate with respect to these).
    """
    h = net._check(x)
    wanted = set(scales)
    inputs, probes = [], []
    for i, layer in enumerate(net.layers):
        if i in wanted:
            probe = S.zeros_like(h)
            inputs.append(h)
            probes.append(probe)
            h = h + probe
        h = layer(h, deterministic=deterministic)
    return h, inputs, probes


def _rec_error(h, r, normalize):
    axes = tuple(range(1, h.ndim))
    err = jnp.sum((h - r) ** 2, axis=axes)
    if normalize:
        err = err / (jnp.sum(jax.lax.stop_gradient(h) ** 2, axis=axes) + 1e-6)
    else:
        err = err / max(1, int(jnp.size(h[0])))
    return jnp.mean(err)


def reconstruction_error(h, r, *, normalize=True):
    """Mean over the batch of ``||h - r||^2``, divided by ``||h||^2`` (``normalize``) or by
    the number of entries per example."""
    return S.wrap(_rec_error, name="reconstruction_error")(h, r, bool(normalize))


def _has_weights(layer):
    own = [p for p in layer.params if "regularizable" in p.tags]
    return bool(own) or any(_has_weights(sub) for sub in layer.sublayers)


def _scales(net, which):
    """Indices into ``net.get_intermediates`` of the tensors to reconstruct."""
    if which == "input":
        return [0]
    if which == "all":  # inputs of the layers with weights (their affine maps)
        return [i for i, layer in enumerate(net.layers) if _has_weights(layer)] or [0]
    try:
        return sorted({int(i) for i in which})
    except TypeError:
        raise LayersError(f"ssl_loss: scales must be 'input', 'all' or indices; got "
                          f"{which!r}") from None


def _consistency(strong, weak, kind, threshold):
    p = jax.lax.stop_gradient(jax.nn.softmax(weak, -1))
    if kind == "mse":
        return jnp.mean(jnp.sum((jax.nn.softmax(strong, -1) - p) ** 2, -1))
    mask = (jnp.max(p, -1) >= threshold).astype(strong.dtype)
    ce = -jnp.take_along_axis(jax.nn.log_softmax(strong, -1), jnp.argmax(p, -1)[:, None], -1)[:, 0]
    return jnp.sum(mask * ce) / strong.shape[0]


def consistency(strong_logits, weak_logits, *, kind="pseudo_label", threshold=0.95):
    """Agreement between predictions on two views of the same examples.

    Parameters
    ----------
    strong_logits, weak_logits : symbolic.Tensor [shape=(batch, n_classes)]
        No gradient flows through ``weak_logits``.
    kind : {"pseudo_label", "mse"}, default "pseudo_label"
        Cross-entropy of the strong view against the weak view's class where its confidence
        reaches ``threshold`` (averaged over the whole batch), or the squared difference of
        the two distributions.
    threshold : float in [0, 1], default 0.95

    Raises
    ------
    LayersError
        For an unknown kind or a threshold outside [0, 1].
    """
    if kind not in ("pseudo_label", "mse"):
        raise LayersError(f"consistency: kind must be 'pseudo_label' or 'mse'; got {kind!r}")
    if not 0.0 <= float(threshold) <= 1.0:
        raise LayersError(f"consistency: threshold must lie in [0, 1]; got {threshold!r}")
    return S.wrap(_consistency, name="consistency")(strong_logits, weak_logits, kind,
                                                    float(threshold))


def ssl_loss(net, x_labelled, y_labelled, x_unlabelled, *, weights=None, scales="all",
             target="softmax", normalize=True, strong_view=None, consistency_kind="pseudo_label",
             threshold=0.95, joint_batch=False, reconstruction_size=None,
             deterministic=False):
    """The semi-supervised loss: cross-entropy + entropy + multiscale reconstruction
    (+ consistency), see the module docstring.

    Parameters
    ----------
    net : layers.Sequential
        Maps inputs to logits ``(batch, n_classes)``.
    x_labelled : symbolic.Tensor [shape=(n_l, ...)]
    y_labelled : symbolic.Tensor int [shape=(n_l,)] or one-hot
    x_unlabelled : symbolic.Tensor [shape=(n_u, ...)]
        Labelled and unlabelled examples go through the network as one batch.
    weights : dict, optional
        Weights of ``"cross_entropy"``, ``"entropy"``, ``"reconstruction"``,
        ``"consistency"``: numbers or scalar tensors (e.g. a ramp-up driven by a step
        Variable); missing ones are 1 (0 for consistency without ``strong_view``). A zero
        number removes the term from the graph.
    scales : "all", "input" or list of int, default "all"
        Which layer inputs to reconstruct: layer indices (0: the network input); ``"all"``:
        the input of every layer with weights (dense, convolution).
    target : {"softmax", "argmax"}, default "softmax"
    normalize : bool, default True
        Scale-free reconstruction errors (see :func:`reconstruction_error`).
    strong_view : symbolic.Tensor [shape=(n_u, ...)], optional
        Another augmentation of ``x_unlabelled`` for the consistency term. Unless
        ``joint_batch``, its forward pass is built before the main one, so batch-norm
        running statistics follow the main batch, not the strongly perturbed one.
    consistency_kind, threshold
        See :func:`consistency`.
    joint_batch : bool, default False
        Put the strong view in the main batch (labelled, unlabelled, strong: one forward
        pass), so that batch normalisation uses the statistics of all views, as FixMatch
        does (Sohn et al., NeurIPS 2020). Separately normalised strong views see other
        statistics than the weak views they are compared with.
    reconstruction_size : int, optional
        Reconstruct only the first ``reconstruction_size`` unlabelled examples, through a
        separate forward pass built before the main one (so the batch-norm updates come
        from the main pass). The reconstruction needs second-order derivatives, which
        dominate the cost of a step; this bounds it.
    deterministic : bool, default False

    Returns
    -------
    total : symbolic.Tensor [shape=()]
    terms : dict
        Each unweighted term (scalar tensors) and ``"logits_labelled"``,
        ``"logits_unlabelled"``.

    Raises
    ------
    LayersError
        For a network that is not a Sequential, unknown weight names or negative weights.
    """
    if not isinstance(net, Sequential):
        raise LayersError(f"ssl_loss: net must be a layers.Sequential; got {type(net).__name__}")
    w = {"cross_entropy": 1.0, "entropy": 1.0, "reconstruction": 1.0,
         "consistency": 1.0 if strong_view is not None else 0.0}
    for key, value in dict(weights or {}).items():
        if key not in w:
            raise LayersError(f"ssl_loss: unknown weight {key!r}; known: {list(TERMS)}")
        if isinstance(value, S.Tensor):  # a schedule (ramp-up) of a step Variable
            if value.shape != ():
                raise LayersError(f"ssl_loss: weight {key!r} must be a scalar; got shape "
                                  f"{value.shape}")
            w[key] = value
            continue
        if not float(value) >= 0:
            raise LayersError(f"ssl_loss: weight {key!r} must be >= 0; got {value!r}")
        w[key] = float(value)
    if (isinstance(w["consistency"], S.Tensor) or w["consistency"] > 0) and strong_view is None:
        raise LayersError("ssl_loss: a consistency weight needs strong_view")
    x_labelled, x_unlabelled = S.as_tensor(x_labelled), S.as_tensor(x_unlabelled)
    n_l, n_u = x_labelled.shape[0], x_unlabelled.shape[0]
    if n_l is None or (joint_batch and n_u is None):
        raise LayersError(f"ssl_loss: the labelled batch size (and with joint_batch the "
                          f"unlabelled one) must be known (fixed placeholder shapes); got "
                          f"{n_l} and {n_u}")
    on = {k: isinstance(v, S.Tensor) or v > 0 for k, v in w.items()}
    joint = bool(joint_batch) and on["consistency"]
    parts = [x_labelled, x_unlabelled] + ([strong_view] if joint else [])
    x = S.concatenate(parts, axis=0)
    strong = None
    if on["consistency"] and not joint:
        strong = net(strong_view, deterministic=deterministic)
    picked = _scales(net, scales) if on["reconstruction"] else []
    if reconstruction_size is not None and picked:
        k = reconstruction_size
        if not is_int(k) or k < 1:
            raise LayersError(f"ssl_loss: reconstruction_size must be a positive int; got "
                              f"{reconstruction_size!r}")
        rec_logits, inputs, probes = probed_forward(net, x_unlabelled[:int(k)], scales=picked,
                                                    deterministic=deterministic)
        logits = net(x, deterministic=deterministic)
    else:
        logits, inputs, probes = probed_forward(net, x, scales=picked,
                                                deterministic=deterministic)
        rec_logits = logits
    logits_l = logits[:n_l]
    if joint:
        logits_u, strong = logits[n_l:n_l + n_u], logits[n_l + n_u:]
    else:
        logits_u = logits[n_l:]
    terms = {"logits_labelled": logits_l, "logits_unlabelled": logits_u}
    total = S.constant(0.0, dtype="float32")
    if on["cross_entropy"]:
        terms["cross_entropy"] = softmax_cross_entropy(logits_l, y_labelled)
        total = total + w["cross_entropy"] * terms["cross_entropy"]
    if on["entropy"]:
        terms["entropy"] = entropy(logits_u)
        total = total + w["entropy"] * terms["entropy"]
    if on["reconstruction"]:
        recs = reconstructions(rec_logits, probes, target=target)
        errors = [reconstruction_error(h, r, normalize=normalize) for h, r in zip(inputs, recs)]
        rec = errors[0]
        for e in errors[1:]:
            rec = rec + e
        terms["reconstruction"] = rec / len(errors)
        terms["reconstruction_per_scale"] = errors
        total = total + w["reconstruction"] * terms["reconstruction"]
    if on["consistency"]:
        terms["consistency"] = consistency(strong, logits_u, kind=consistency_kind,
                                           threshold=threshold)
        total = total + w["consistency"] * terms["consistency"]
    return total, terms
