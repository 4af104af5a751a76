"""Random data augmentation for images ``(batch, channels, height, width)``, as graph
operations whose keys are graph state (a new draw at each compiled call)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import symbolic as S
from layers.errors import LayersError


def translate(images, shifts):
    """Shift each image by integer ``(dy, dx)``, filling with zeros.

    Parameters
    ----------
    images : jax.Array [shape=(batch, channels, height, width)]
    shifts : jax.Array int [shape=(batch, 2)]
        Positive values move the content down / right; ``|shift|`` at most the image size.

    Returns
    -------
    jax.Array [shape=images.shape]

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(9, dtype="float32").reshape(1, 1, 3, 3)
    >>> translate(x, np.array([[1, 0]]))[0, 0].tolist()
    [[0.0, 0.0, 0.0], [0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    """
    images = jnp.asarray(images)
    _, c, h, w = images.shape
    padded = jnp.pad(images, ((0, 0), (0, 0), (h, h), (w, w)))

    def one(img, s):
        return jax.lax.dynamic_slice(img, (0, h - s[0], w - s[1]), (c, h, w))

    return jax.vmap(one)(padded, jnp.asarray(shifts, jnp.int32))


def random_translate(images, *, max_shift=2, seed=None):
    """Shift every image by independent uniform integers in ``[-max_shift, max_shift]``.

    Parameters
    ----------
    images : symbolic.Tensor [shape=(batch, channels, height, width)]
    max_shift : int, default 2
    seed : int, optional

    Returns
    -------
    symbolic.Tensor [shape=images.shape]

    Raises
    ------
    LayersError
        For a non-4-D input or a negative ``max_shift``.
    """
    images = S.as_tensor(images)
    if images.ndim != 4 or images.shape[3] is None or images.shape[3] < 2:
        raise LayersError(
            f"random_translate: images must be (batch, channels, height, width) with width >= 2; "
            f"got shape {images.shape}"
        )
    if isinstance(max_shift, bool) or not isinstance(max_shift, (int, np.integer)) \
            or max_shift < 0:
        raise LayersError(f"random_translate: max_shift must be an int >= 0; got {max_shift!r}")
    m = int(max_shift)
    u = S.random.uniform(like=images[:, 0, 0, :2], seed=seed)
    shifts = S.floor(u * (2 * m + 1)).astype("int32") - m
    return S.wrap(translate)(images, shifts)


def random_noise(x, *, std=0.1, seed=None):
    """Add Gaussian noise of standard deviation ``std``."""
    if not float(std) >= 0:
        raise LayersError(f"random_noise: std must be >= 0; got {std!r}")
    x = S.as_tensor(x)
    return x + S.random.normal(std=float(std), like=x, seed=seed, dtype=x.dtype)
