"""Parameter initializers: callables ``init(shape, rng, dtype) -> numpy.ndarray``.

Fan-in and fan-out follow the layers' weight layouts: a 2-D weight ``(n_in, n_out)`` (dense), a
weight of 3 or more dims ``(n_out, n_in, *kernel)`` (convolution), where the kernel size
multiplies both fans.

References: Glorot & Bengio, "Understanding the difficulty of training deep feedforward neural
networks", AISTATS 2010; He et al., "Delving Deep into Rectifiers", ICCV 2015; Saxe et al.,
"Exact solutions to the nonlinear dynamics of learning in deep linear neural networks", ICLR
2014 (orthogonal).
"""

from __future__ import annotations

import numpy as np

from layers.errors import LayersError


def fans(shape):
    """``(fan_in, fan_out)`` of a weight of the given shape.

    Examples
    --------
    >>> fans((784, 10)), fans((32, 3, 5, 5))
    ((784, 10), (75, 800))
    """
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[2:]))
    return shape[1] * receptive, shape[0] * receptive


class Initializer:
    """Base class; subclasses implement ``sample(shape, rng)`` in float64."""

    def __call__(self, shape, rng, dtype="float32"):
        return np.asarray(self.sample(tuple(shape), rng), dtype=dtype)

    def sample(self, shape, rng):
        raise LayersError(f"{type(self).__name__} cannot sample")

    def __repr__(self):
        items = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({items})"


def _positive(value, what):
    if not np.isfinite(value) or value <= 0:
        raise LayersError(f"{what} must be a positive number; got {value!r}")
    return float(value)


class Constant(Initializer):
    """Every entry equal to ``value``."""

    def __init__(self, value=0.0):
        self.value = float(value)

    def sample(self, shape, rng):
        return np.full(shape, self.value)


class Normal(Initializer):
    """Gaussian entries with standard deviation ``std`` and mean ``mean``."""

    def __init__(self, std=0.01, mean=0.0):
        self.std = _positive(std, "Normal: std")
        self.mean = float(mean)

    def sample(self, shape, rng):
        return rng.normal(self.mean, self.std, shape)


class Uniform(Initializer):
    """Entries uniform on ``[-scale, scale]``."""

    def __init__(self, scale=0.05):
        self.scale = _positive(scale, "Uniform: scale")

    def sample(self, shape, rng):
        return rng.uniform(-self.scale, self.scale, shape)


class _Scaled(Initializer):
    def __init__(self, gain=1.0, *, distribution="normal"):
        self.gain = _positive(gain, f"{type(self).__name__}: gain")
        if distribution not in ("normal", "uniform"):
            raise LayersError(
                f"{type(self).__name__}: distribution must be 'normal' or 'uniform'; got "
                f"{distribution!r}"
            )
        self.distribution = distribution

    def std(self, shape):
        raise LayersError("abstract")

    def sample(self, shape, rng):
        std = self.std(shape)
        if self.distribution == "normal":
            return rng.normal(0.0, std, shape)
        limit = np.sqrt(3.0) * std  # the uniform law on [-a, a] has std a / sqrt(3)
        return rng.uniform(-limit, limit, shape)


class Glorot(_Scaled):
    """Glorot/Xavier: variance ``gain**2 * 2 / (fan_in + fan_out)``.

    Examples
    --------
    >>> import numpy as np
    >>> w = Glorot()((400, 600), np.random.default_rng(0))
    >>> round(float(w.std()), 3)
    0.045
    """

    def std(self, shape):
        fi, fo = fans(shape)
        return self.gain * np.sqrt(2.0 / (fi + fo))


_SQRT2 = float(np.sqrt(2.0))


class He(_Scaled):
    """He/Kaiming: variance ``gain**2 / fan_in``; use ``gain=sqrt(2)`` before ReLUs (default)."""

    def __init__(self, gain=_SQRT2, *, distribution="normal"):
        super().__init__(gain, distribution=distribution)

    def std(self, shape):
        fi, _ = fans(shape)
        return self.gain * np.sqrt(1.0 / fi)


class LeCun(_Scaled):
    """LeCun: variance ``gain**2 / fan_in`` with ``gain=1``."""

    def std(self, shape):
        fi, _ = fans(shape)
        return self.gain * np.sqrt(1.0 / fi)


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times ``gain``, from the QR factorisation of a Gaussian one.

    The weight is viewed as a matrix ``(shape[0], prod(shape[1:]))``; its rows (or columns,
    whichever are fewer) are orthonormal.
    """

    def __init__(self, gain=1.0):
        self.gain = _positive(gain, "Orthogonal: gain")

    def sample(self, shape, rng):
        if len(shape) < 2:
            raise LayersError(
                f"Orthogonal: needs a weight of at least 2 dims; got shape {shape!r}"
            )
        rows, cols = shape[0], int(np.prod(shape[1:]))
        a = rng.normal(0.0, 1.0, (max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))  # a uniform (Haar) draw, not biased by QR's sign choice
        if rows < cols:
            q = q.T
        return self.gain * q.reshape(shape)


def get(init):
    """An initializer from a name (``"he"``, ``"glorot"``, ``"orthogonal"``, ``"zeros"``...),
    an :class:`Initializer`, any callable, or an array (returned as is)."""
    if isinstance(init, str):
        table = {
            "he": He, "he_normal": He, "glorot": Glorot, "glorot_normal": Glorot,
            "xavier": Glorot, "lecun": LeCun, "orthogonal": Orthogonal,
            "zeros": lambda: Constant(0.0), "ones": lambda: Constant(1.0),
            "he_uniform": lambda: He(distribution="uniform"),
            "glorot_uniform": lambda: Glorot(distribution="uniform"),
        }
        if init not in table:
            raise LayersError(f"init: unknown initializer {init!r}; known: {sorted(table)}")
        return table[init]()
    return init
