"""Neural-network functions (:mod:`jax.nn`) as symbolic operations, plus convolution and
pooling."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from symbolic.convolution import avg_pool, conv, conv_transpose, max_pool
from symbolic.wrap import wrap

NAMES = (
    "relu relu6 sigmoid softplus soft_sign silu swish log_sigmoid leaky_relu hard_tanh "
    "hard_sigmoid hard_silu elu celu selu gelu glu softmax log_softmax logsumexp one_hot "
    "standardize"
).split()

for _name in NAMES:
    globals()[_name] = wrap(getattr(jax.nn, _name), name=_name)
tanh = wrap(jnp.tanh, name="tanh")

__all__ = [*NAMES, "tanh", "conv", "conv_transpose", "max_pool", "avg_pool"]
del _name
