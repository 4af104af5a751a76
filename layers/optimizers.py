"""Optimizers built on optax, as update dictionaries for :func:`symbolic.function`.

Each optimizer turns a loss (or its gradients) and a list of parameter Variables into a dict
``{variable: new value expression}`` covering the parameters and the optimizer's own state,
which lives in non-trainable Variables tagged ``"optimizer_state"``; any compiled function that
takes the dict performs one optimisation step (Lasagne's ``updates`` convention). The arithmetic
is optax's (``tx.update`` then ``optax.apply_updates``), so trajectories equal those of optax
used directly. The learning rate may be a number or a symbolic scalar (a schedule of a step
Variable, see :mod:`layers.schedules`): it is injected into optax's state at every step through
:func:`optax.inject_hyperparams`.

Examples
--------
>>> import numpy as np, symbolic as S, layers as L
>>> with S.Graph():
...     w = S.Variable(np.ones(3, "float32"), name="w")
...     loss = (w ** 2).sum()
...     step = S.function([], loss, updates=L.adam(loss, [w], learning_rate=0.1))
...     losses = [float(step()) for _ in range(5)]
>>> losses[-1] < losses[0]
True
"""

from __future__ import annotations

import inspect

import jax
import numpy as np
import optax

import symbolic as S
from layers.errors import LayersError

OPTIMIZER_STATE = "optimizer_state"


def _check_params(params, what):
    if isinstance(params, S.Variable):
        params = [params]
    params = list(params)
    if not params:
        raise LayersError(f"{what}: params is empty; pass e.g. get_params(net, trainable=True)")
    for i, p in enumerate(params):
        if not isinstance(p, S.Variable):
            raise LayersError(f"{what}: params[{i}] must be a symbolic.Variable; got "
                              f"{type(p).__name__}")
        if not np.issubdtype(p.dtype, np.floating):
            raise LayersError(f"{what}: params[{i}] {p.name!r} has dtype {p.dtype}; only floating "
                              "parameters can be optimised")
    if len({id(p) for p in params}) != len(params):
        raise LayersError(f"{what}: params holds the same Variable twice")
    return params


def _gradients(loss_or_grads, params, what):
    if isinstance(loss_or_grads, (list, tuple)):
        grads = [S.as_tensor(g) for g in loss_or_grads]
        if len(grads) != len(params):
            raise LayersError(f"{what}: got {len(grads)} gradients for {len(params)} params")
        for g, p in zip(grads, params):
            if not (len(g.shape) == len(p.shape) and all(
                    a is None or a == b for a, b in zip(g.shape, p.shape))):
                raise LayersError(f"{what}: gradient of {p.name!r} has shape {g.shape}, expected "
                                  f"{p.shape}")
        return grads
    loss = S.as_tensor(loss_or_grads)
    if loss.shape != ():
        raise LayersError(f"{what}: loss must be a scalar; got shape {loss.shape}")
    return S.grad(loss, params, disconnected_inputs="ignore")


def _scalar_rate(learning_rate, what):
    if isinstance(learning_rate, S.Tensor):
        if learning_rate.shape != ():
            raise LayersError(f"{what}: learning_rate must be a scalar; got shape "
                              f"{learning_rate.shape}")
        return learning_rate.astype("float32"), None
    rate = float(learning_rate)
    if not np.isfinite(rate) or rate < 0:
        raise LayersError(f"{what}: learning_rate must be a non-negative number or a scalar "
                          f"tensor; got {learning_rate!r}")
    return None, rate


class Optimizer:
    """An optax optimizer whose state lives in symbolic Variables.

    Parameters
    ----------
    factory : callable
        ``factory(learning_rate, **hyperparameters)`` returning an
        ``optax.GradientTransformation`` (``optax.adam``...).
    learning_rate : float or Tensor [shape=()]
    clip_norm : float, optional
        Clip the gradients' global norm first (``optax.clip_by_global_norm``).
    clip_value : float, optional
        Clip each gradient entry to ``[-clip_value, clip_value]`` first (``optax.clip``).
    name : str, default "optimizer"
        Scope of the state Variables.
    **hyperparameters
        Passed to ``factory`` (static).

    Attributes
    ----------
    state : list of symbolic.Variable
        Filled by :meth:`updates`.
    transform : optax.GradientTransformation
        The transformation applied, learning rate injected.
    """

    def __init__(self, factory, *, learning_rate, clip_norm=None, clip_value=None,
                 name="optimizer", **hyperparameters):
        self.name = name
        self._rate_tensor, rate = _scalar_rate(learning_rate, name)
        self._initial_rate = 0.0 if rate is None else rate
        for what, value in (("clip_norm", clip_norm), ("clip_value", clip_value)):
            if value is not None and not float(value) > 0:
                raise LayersError(f"{name}: {what} must be positive or None; got {value!r}")

        def chained(learning_rate, **kw):
            steps = []
            if clip_value is not None:
                steps.append(optax.clip(float(clip_value)))
            if clip_norm is not None:
                steps.append(optax.clip_by_global_norm(float(clip_norm)))
            steps.append(factory(learning_rate, **kw))
            return steps[0] if len(steps) == 1 else optax.chain(*steps)

        # optax.inject_hyperparams reads the factory's signature: make it explicit
        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
        chained.__signature__ = inspect.Signature(
            [inspect.Parameter("learning_rate", kind)]
            + [inspect.Parameter(k, kind) for k in hyperparameters])

        self.transform = optax.inject_hyperparams(chained, static_args=tuple(hyperparameters))(
            learning_rate=self._initial_rate, **hyperparameters)
        self.state = []

    def updates(self, loss_or_grads, params):
        """Update expressions for one step.

        Parameters
        ----------
        loss_or_grads : Tensor [shape=()] or list of Tensor
            The loss to minimise, or the gradients of ``params``.
        params : list of symbolic.Variable

        Returns
        -------
        dict
            Variable -> new value, for the parameters and the optimizer state.

        Raises
        ------
        LayersError
            For an empty or invalid parameter list, a non-scalar loss, or gradients that do
            not match the parameters.
        """
        params = _check_params(params, self.name)
        grads = _gradients(loss_or_grads, params, self.name)
        init = self.transform.init([p.jax_value for p in params])
        leaves, treedef = jax.tree_util.tree_flatten(init)
        with S.scope(self.name):
            state = [S.Variable(np.asarray(leaf), name=f"state_{i}", trainable=False,
                                tags=(OPTIMIZER_STATE,)) for i, leaf in enumerate(leaves)]
        self.state = state
        transform = self.transform
        inject = self._rate_tensor is not None

        def step(grads, params, leaves, rate):
            opt_state = jax.tree_util.tree_unflatten(treedef, leaves)
            if inject:
                hyper = dict(opt_state.hyperparams)
                hyper["learning_rate"] = rate.astype(hyper["learning_rate"].dtype)
                opt_state = opt_state._replace(hyperparams=hyper)
            upd, new_state = transform.update(grads, opt_state, params)
            return optax.apply_updates(params, upd), jax.tree_util.tree_leaves(new_state)

        rate = self._rate_tensor if inject else S.constant(np.float32(self._initial_rate))
        new_params, new_leaves = S.wrap(step, name=f"{self.name}_step")(grads, params, state, rate)
        out = dict(zip(params, new_params))
        out.update(zip(state, new_leaves))
        return out

    def reset(self):
        """Restore the optimizer state to its initial value."""
        for v in self.state:
            v.reset()


def _make(factory, name, doc):
    def optimizer(loss_or_grads, params, *, learning_rate, clip_norm=None, clip_value=None,
                  **hyperparameters):
        opt = Optimizer(factory, learning_rate=learning_rate, clip_norm=clip_norm,
                        clip_value=clip_value, name=name, **hyperparameters)
        return opt.updates(loss_or_grads, params)

    optimizer.__name__ = name
    optimizer.__qualname__ = name
    optimizer.__doc__ = f"""{doc}

    Parameters
    ----------
    loss_or_grads : Tensor [shape=()] or list of Tensor
    params : list of symbolic.Variable
    learning_rate : float or Tensor [shape=()]
    clip_norm, clip_value : float, optional
        Gradient clipping applied first (global norm, or per entry).
    **hyperparameters
        Passed to the optax factory (momentum, b1, b2, eps, weight_decay...).

    Returns
    -------
    dict
        Variable -> update expression (parameters and optimizer state).

    Raises
    ------
    LayersError
        For invalid parameters, learning rate or clipping thresholds.
    """
    return optimizer


def _momentum(learning_rate, momentum=0.9):
    return optax.sgd(learning_rate, momentum=momentum)


def _nesterov(learning_rate, momentum=0.9):
    return optax.sgd(learning_rate, momentum=momentum, nesterov=True)


sgd = _make(optax.sgd, "sgd", "Plain stochastic gradient descent (``optax.sgd``).")
momentum = _make(_momentum, "momentum", "SGD with heavy-ball momentum (default 0.9).")
nesterov = _make(_nesterov, "nesterov", "SGD with Nesterov momentum (default 0.9).")
adam = _make(optax.adam, "adam", "Adam (Kingma & Ba, ICLR 2015), ``optax.adam``.")
adamw = _make(optax.adamw, "adamw",
              "Adam with decoupled weight decay (Loshchilov & Hutter, ICLR 2019).")
rmsprop = _make(optax.rmsprop, "rmsprop", "RMSProp (Tieleman & Hinton 2012), ``optax.rmsprop``.")
adagrad = _make(optax.adagrad, "adagrad", "Adagrad (Duchi et al., JMLR 2011).")
lamb = _make(optax.lamb, "lamb", "LAMB: layer-wise adaptive moments (You et al., ICLR 2020).")

REGISTRY = {
    "sgd": (sgd, optax.sgd, {}),
    "momentum": (momentum, _momentum, {}),
    "nesterov": (nesterov, _nesterov, {}),
    "adam": (adam, optax.adam, {}),
    "adamw": (adamw, optax.adamw, {"weight_decay": 1e-2}),
    "rmsprop": (rmsprop, optax.rmsprop, {}),
    "adagrad": (adagrad, optax.adagrad, {}),
    "lamb": (lamb, optax.lamb, {}),
}
"""name -> (layers optimizer, optax factory, example hyperparameters)."""


def ema(params, *, decay=0.999):
    """Exponential moving average of parameters (Polyak averaging).

    Parameters
    ----------
    params : list of symbolic.Variable
    decay : float in [0, 1), default 0.999

    Returns
    -------
    shadows : list of symbolic.Variable
        Non-trainable copies tagged ``"ema"``, initialised to the current values.
    updates : dict
        ``shadow <- decay * shadow + (1 - decay) * param``. To evaluate with the averages,
        compile with ``givens=dict(zip(params, shadows))``.

    Raises
    ------
    LayersError
        For a decay outside [0, 1).
    """
    params = _check_params(params, "ema")
    if not 0.0 <= float(decay) < 1.0:
        raise LayersError(f"ema: decay must lie in [0, 1); got {decay!r}")
    d = float(decay)
    shadows = []
    for p in params:
        base = p.name.rsplit("/", 1)[-1]
        shadows.append(S.Variable(p.value, name=f"{base}_ema", trainable=False, tags=("ema",)))
    return shadows, {s: d * s + (1.0 - d) * p for s, p in zip(shadows, params)}
