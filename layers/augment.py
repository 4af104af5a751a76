"""Random data augmentation for images ``(batch, channels, height, width)``, as graph
operations whose keys are graph state (a new draw at each compiled call)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import symbolic as S
from layers.errors import LayersError, check_int, is_int


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
    m = check_int(max_shift, "random_translate: max_shift", 0)
    u = S.random.uniform(like=images[:, 0, 0, :2], seed=seed)
    shifts = S.floor(u * (2 * m + 1)).astype("int32") - m
    return S.wrap(translate)(images, shifts)


def random_noise(x, *, std=0.1, seed=None):
    """Add Gaussian noise of standard deviation ``std``."""
    if not float(std) >= 0:
        raise LayersError(f"random_noise: std must be >= 0; got {std!r}")
    x = S.as_tensor(x)
    return x + S.random.normal(std=float(std), like=x, seed=seed, dtype=x.dtype)


def _check_images(images, what):
    images = S.as_tensor(images)
    if images.ndim != 4 or images.shape[2] is None or images.shape[3] is None:
        raise LayersError(
            f"{what}: images must be (batch, channels, height, width) with known height and "
            f"width; got shape {images.shape}"
        )
    return images


def _check_nonneg(value, name, what):
    if isinstance(value, bool) or not float(value) >= 0:
        raise LayersError(f"{what}: {name} must be a number >= 0; got {value!r}")
    return float(value)


def _sample(images, coords):
    """Bilinear samples of ``images (batch, c, h, w)`` at ``coords (batch, 2, h', w')``
    (row, column), zero outside the image (SciPy's ``mode="grid-constant"``)."""
    b, c, h, w = images.shape
    coords = coords.astype(images.dtype)
    flat = images.reshape(b, c, h * w)
    r0, c0 = jnp.floor(coords[:, 0]), jnp.floor(coords[:, 1])
    fr, fc = coords[:, 0] - r0, coords[:, 1] - c0
    r0, c0 = r0.astype(jnp.int32), c0.astype(jnp.int32)
    out = jnp.zeros((b, c) + coords.shape[2:], images.dtype)
    for dr, wr in ((0, 1 - fr), (1, fr)):
        for dc, wc in ((0, 1 - fc), (1, fc)):
            rr, cc = r0 + dr, c0 + dc
            ok = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
            idx = (jnp.clip(rr, 0, h - 1) * w + jnp.clip(cc, 0, w - 1)).reshape(b, 1, -1)
            vals = jnp.take_along_axis(flat, jnp.broadcast_to(idx, (b, c, idx.shape[-1])), -1)
            weight = jnp.where(ok, wr * wc, 0.0).astype(images.dtype)
            out = out + vals.reshape(out.shape) * weight[:, None]
    return out


def affine(images, matrices, offsets):
    """Resample each image through an affine map of its pixel grid about the image centre.

    The output pixel at ``p = (row, col)`` takes the (bilinearly interpolated) input value
    at ``A (p - c) + c + t``, with ``c`` the centre ``((h - 1) / 2, (w - 1) / 2)``; points
    outside the image read zero. ``A`` maps output coordinates to input coordinates, so it
    is the inverse of the visible transform (``A = 2 I`` shrinks the digit by half).

    Parameters
    ----------
    images : jax.Array [shape=(batch, channels, height, width)]
    matrices : jax.Array [shape=(batch, 2, 2)]
        ``A`` per image, acting on (row, column) vectors.
    offsets : jax.Array [shape=(batch, 2)]
        ``t`` per image, in pixels (row, column).

    Returns
    -------
    jax.Array [shape=images.shape]

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(9, dtype="float32").reshape(1, 1, 3, 3)
    >>> flip = np.array([[[1.0, 0.0], [0.0, -1.0]]])      # mirror left-right
    >>> affine(x, flip, np.zeros((1, 2)))[0, 0, 0].tolist()
    [2.0, 1.0, 0.0]
    """
    images = jnp.asarray(images)
    _, _, h, w = images.shape
    centre = jnp.array([(h - 1) / 2.0, (w - 1) / 2.0], images.dtype)
    grid = jnp.stack(jnp.meshgrid(jnp.arange(h, dtype=images.dtype),
                                  jnp.arange(w, dtype=images.dtype), indexing="ij"))
    rel = grid - centre[:, None, None]                                  # (2, h, w)
    coords = jnp.einsum("bij,jhw->bihw", jnp.asarray(matrices, images.dtype), rel)
    coords = coords + (centre + jnp.asarray(offsets, images.dtype))[:, :, None, None]
    return _sample(images, coords)


def affine_matrices(angle, scale, shear):
    """``A`` of :func:`affine` from per-image angles and shears (radians) and scales.

    ``A = R(angle) Sh(shear) / scale`` with ``R`` a rotation and ``Sh = [[1, 0], [tan(shear),
    1]]``; a scale above 1 enlarges the content.

    Parameters
    ----------
    angle, scale, shear : jax.Array [shape=(batch,)]

    Returns
    -------
    jax.Array [shape=(batch, 2, 2)]
    """
    c, s = jnp.cos(angle), jnp.sin(angle)
    rot = jnp.stack([jnp.stack([c, -s], -1), jnp.stack([s, c], -1)], -2)
    one, zero = jnp.ones_like(shear), jnp.zeros_like(shear)
    sh = jnp.stack([jnp.stack([one, zero], -1), jnp.stack([jnp.tan(shear), one], -1)], -2)
    return (rot @ sh) / scale[:, None, None]


def _uniform(images, low, high, seed):
    u = S.random.uniform(like=images[:, 0, 0, 0], seed=seed)
    return low + (high - low) * u


def random_affine(images, *, rotation=15.0, scale=(0.85, 1.15), shear=15.0, max_shift=3.0,
                  seed=None):
    """Random rotation, scaling, shear and translation of every image (:func:`affine`).

    Each image gets independent uniform draws: angle in ``[-rotation, rotation]`` degrees,
    scale in ``scale``, shear angle in ``[-shear, shear]`` degrees, shifts in
    ``[-max_shift, max_shift]`` pixels on each axis. Bilinear interpolation, zero outside.

    Parameters
    ----------
    images : symbolic.Tensor [shape=(batch, channels, height, width)]
    rotation : float >= 0, default 15.0
    scale : (float, float), default (0.85, 1.15)
        ``0 < low <= high``.
    shear : float in [0, 90), default 15.0
    max_shift : float >= 0, default 3.0
    seed : int, optional

    Returns
    -------
    symbolic.Tensor [shape=images.shape]

    Raises
    ------
    LayersError
        For a non-4-D input or out-of-range parameters.

    Examples
    --------
    >>> import numpy as np, symbolic as S
    >>> x = S.placeholder((None, 1, 28, 28))
    >>> f = S.function([x], random_affine(x, rotation=10.0))
    >>> f(np.zeros((2, 1, 28, 28), "float32")).shape
    (2, 1, 28, 28)
    """
    what = "random_affine"
    images = _check_images(images, what)
    rotation = _check_nonneg(rotation, "rotation", what)
    max_shift = _check_nonneg(max_shift, "max_shift", what)
    shear = _check_nonneg(shear, "shear", what)
    if shear >= 90.0:
        raise LayersError(f"{what}: shear must lie in [0, 90) degrees; got {shear!r}")
    try:
        lo, hi = (float(v) for v in scale)
    except (TypeError, ValueError):
        lo = hi = float("nan")
    if not 0.0 < lo <= hi:
        raise LayersError(f"{what}: scale must be a pair 0 < low <= high; got {scale!r}")
    base = 0 if seed is None else int(seed)

    def draw(lo_, hi_, k):
        return _uniform(images, lo_, hi_, None if seed is None else base + k)

    angle = draw(-np.deg2rad(rotation), np.deg2rad(rotation), 0)
    sc = draw(lo, hi, 1)
    sh = draw(-np.deg2rad(shear), np.deg2rad(shear), 2)
    offsets = S.stack([draw(-max_shift, max_shift, 3), draw(-max_shift, max_shift, 4)], axis=1)
    matrices = S.wrap(affine_matrices)(angle, sc, sh)
    return S.wrap(affine)(images, matrices, offsets)


def elastic(images, displacement):
    """Warp each image by a per-pixel displacement field (bilinear, zero outside).

    The output pixel ``p`` reads the input at ``p + displacement[:, :, p]``.

    Parameters
    ----------
    images : jax.Array [shape=(batch, channels, height, width)]
    displacement : jax.Array [shape=(batch, 2, height, width)]
        Row and column displacements in pixels.

    Returns
    -------
    jax.Array [shape=images.shape]

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(9, dtype="float32").reshape(1, 1, 3, 3)
    >>> d = np.zeros((1, 2, 3, 3), "float32"); d[:, 1] = 1.0   # read one column right
    >>> elastic(x, d)[0, 0, 0].tolist()
    [1.0, 2.0, 0.0]
    """
    images = jnp.asarray(images)
    _, _, h, w = images.shape
    grid = jnp.stack(jnp.meshgrid(jnp.arange(h, dtype=images.dtype),
                                  jnp.arange(w, dtype=images.dtype), indexing="ij"))
    return _sample(images, grid[None] + jnp.asarray(displacement, images.dtype))


def _smooth_field(coarse, h, w):
    b = coarse.shape[0]
    return jax.image.resize(coarse, (b, 2, h, w), method="cubic")


def random_elastic(images, *, alpha=1.5, grid=4, seed=None):
    """Smooth random distortion: i.i.d. normal displacements (standard deviation ``alpha``
    pixels) on a ``grid x grid`` lattice, interpolated (cubic) to every pixel, then
    :func:`elastic`. A cheap stand-in for the Gaussian-filtered fields of Simard, Steinkraus
    & Platt (ICDAR 2003).

    Parameters
    ----------
    images : symbolic.Tensor [shape=(batch, channels, height, width)]
    alpha : float >= 0, default 1.5
    grid : int, default 4
        Between 2 and ``min(height, width)``.
    seed : int, optional

    Returns
    -------
    symbolic.Tensor [shape=images.shape]

    Raises
    ------
    LayersError
        For a non-4-D input, a negative ``alpha`` or a grid out of range.
    """
    what = "random_elastic"
    images = _check_images(images, what)
    alpha = _check_nonneg(alpha, "alpha", what)
    h, w = images.shape[2], images.shape[3]
    if not is_int(grid) or not 2 <= grid <= min(h, w):
        raise LayersError(f"{what}: grid must be an int in [2, {min(h, w)}]; got {grid!r}")
    g = int(grid)
    like = images[:, 0, :g, :g]
    s = [None if seed is None else int(seed) + k for k in range(2)]
    coarse = S.stack([S.random.normal(like=like, std=alpha, seed=s[0]),
                      S.random.normal(like=like, std=alpha, seed=s[1])], axis=1)
    field = S.wrap(_smooth_field)(coarse, h, w)
    return S.wrap(elastic)(images, field)


def cutout(images, centres, *, size):
    """Set a ``size x size`` square (clipped at the borders) to zero in each image.

    Parameters
    ----------
    images : jax.Array [shape=(batch, channels, height, width)]
    centres : jax.Array int [shape=(batch, 2)]
        Row and column of each square's centre; the square covers rows
        ``[r - size // 2, r - size // 2 + size)``.
    size : int

    Returns
    -------
    jax.Array [shape=images.shape]

    Examples
    --------
    >>> import numpy as np
    >>> cutout(np.ones((1, 1, 3, 3), "float32"), np.array([[0, 0]]), size=2)[0, 0].tolist()
    [[0.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """
    images = jnp.asarray(images)
    _, _, h, w = images.shape
    start = jnp.asarray(centres, jnp.int32) - size // 2
    rows = jnp.arange(h)[None, :] - start[:, :1]
    cols = jnp.arange(w)[None, :] - start[:, 1:]
    inside_r = (rows >= 0) & (rows < size)
    inside_c = (cols >= 0) & (cols < size)
    mask = inside_r[:, :, None] & inside_c[:, None, :]
    return jnp.where(mask[:, None], jnp.zeros((), images.dtype), images)


def random_cutout(images, *, size=8, seed=None):
    """Cutout (DeVries & Taylor, 2017): zero a ``size x size`` square centred at a uniform
    random pixel of each image (:func:`cutout`).

    Parameters
    ----------
    images : symbolic.Tensor [shape=(batch, channels, height, width)]
    size : int >= 0, default 8
    seed : int, optional

    Returns
    -------
    symbolic.Tensor [shape=images.shape]

    Raises
    ------
    LayersError
        For a non-4-D input or a negative size.
    """
    what = "random_cutout"
    images = _check_images(images, what)
    check_int(size, f"{what}: size", 0)
    h, w = images.shape[2], images.shape[3]
    s = [None if seed is None else int(seed) + k for k in range(2)]
    rows = S.floor(_uniform(images, 0.0, float(h), s[0])).astype("int32")
    cols = S.floor(_uniform(images, 0.0, float(w), s[1])).astype("int32")
    centres = S.stack([rows, cols], axis=1)
    return S.wrap(cutout)(images, centres, size=int(size))
