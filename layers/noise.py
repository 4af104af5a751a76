"""Random layers: dropout and additive Gaussian noise (identity when deterministic)."""

from __future__ import annotations

import symbolic as S
from layers.base import Layer
from layers.errors import LayersError


class Dropout(Layer):
    """Zero each entry with probability ``p`` (and scale the rest by ``1 / (1 - p)``).

    The mask is a :func:`symbolic.random.bernoulli` tensor shaped like the input at run time;
    its key is graph state, advanced by every compiled call (Srivastava et al., "Dropout",
    JMLR 2014).

    Parameters
    ----------
    incoming : tuple or Layer
    p : float in [0, 1), default 0.5
    rescale : bool, default True

    Raises
    ------
    LayersError
        For ``p`` outside [0, 1).

    Examples
    --------
    >>> import numpy as np, symbolic as S, layers as L
    >>> with S.Graph():
    ...     x = S.placeholder((None, 1000))
    ...     drop = L.Dropout(x.shape, p=0.5)
    ...     y = S.function([x], drop(x))(np.ones((2, 1000), "float32"))
    >>> sorted(set(np.asarray(y).ravel().tolist()))
    [0.0, 2.0]
    """

    def __init__(self, incoming, *, p=0.5, rescale=True, name=None, seed=None):
        super().__init__(incoming, name=name, seed=seed)
        if not 0.0 <= float(p) < 1.0:
            raise LayersError(f"Dropout: p must lie in [0, 1); got {p!r}")
        self.p = float(p)
        self.rescale = bool(rescale)
        self._calls = 0

    def get_output(self, x, *, deterministic):
        if deterministic or self.p == 0.0:
            return x
        seed = self.seed * 7919 + self._calls  # every call draws its own stream
        self._calls += 1
        keep = S.random.bernoulli(p=1.0 - self.p, like=x, seed=seed)
        y = S.where(keep, x, S.zeros_like(x))
        return y / (1.0 - self.p) if self.rescale else y


class GaussianNoise(Layer):
    """Add ``N(0, std**2)`` noise while training.

    Parameters
    ----------
    incoming : tuple or Layer
    std : float >= 0, default 0.1
    """

    def __init__(self, incoming, *, std=0.1, name=None, seed=None):
        super().__init__(incoming, name=name, seed=seed)
        if not float(std) >= 0.0:
            raise LayersError(f"GaussianNoise: std must be >= 0; got {std!r}")
        self.std = float(std)
        self._calls = 0

    def get_output(self, x, *, deterministic):
        if deterministic or self.std == 0.0:
            return x
        seed = self.seed * 7919 + self._calls
        self._calls += 1
        return x + S.random.normal(std=self.std, like=x, seed=seed, dtype=x.dtype)
