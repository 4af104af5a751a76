import jax
import jax.numpy as jnp
import numpy as np
import pytest

import layers as L
import symbolic as S
from layers.augment import random_noise, random_translate, translate

#: The deterministic transforms compiled, on images of one shape across the tests (op by op,
#: each primitive would compile once per shape).
IMAGES = (3, 2, 9, 9)
_translate = jax.jit(translate)


def test_translate_matches_numpy(rng):
    x = rng.normal(size=IMAGES).astype("float32")
    shifts = np.array([[1, -2], [0, 0], [-3, 4]])
    got = np.asarray(_translate(x, shifts))
    for img, (dy, dx), out in zip(x, shifts, got):
        ref = np.zeros_like(img)
        h, w = img.shape[1:]
        ref[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
            img[:, max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
        np.testing.assert_array_equal(out, ref)


def test_random_translate_is_a_shift(rng):
    value = np.zeros((64, 1, 9, 9), "float32")
    value[:, 0, 4, 4] = 1.0
    x = S.placeholder((None, 1, 9, 9))
    f = S.function([x], random_translate(x, max_shift=2))
    out = np.asarray(f(value))
    pos = np.argwhere(out[:, 0] == 1.0)
    assert len(pos) == 64 and out.sum() == 64
    dy, dx = pos[:, 1] - 4, pos[:, 2] - 4
    assert set(dy.tolist()) == set(range(-2, 3)) and set(dx.tolist()) == set(range(-2, 3))
    assert not np.array_equal(out, np.asarray(f(value)))  # new draw at each call
    noisy = np.asarray(S.function([x], random_noise(x, std=0.3))(value))
    assert abs((noisy - value).std() - 0.3) < 0.02


def test_augment_errors():
    with pytest.raises(L.LayersError, match="random_translate: images must be"):
        random_translate(S.placeholder((None, 9)))
    with pytest.raises(L.LayersError, match="max_shift must be an int >= 0; got -1"):
        random_translate(S.placeholder((None, 1, 4, 4)), max_shift=-1)


# --- affine, elastic, cutout -------------------------------------------------------------

from scipy import ndimage  # noqa: E402

from layers.augment import (  # noqa: E402
    affine,
    affine_matrices,
    cutout,
    elastic,
    random_affine,
    random_cutout,
    random_elastic,
)


def test_affine_matches_scipy(rng):
    x = rng.normal(size=(2, 3, 9, 11)).astype("float32")
    mats = np.array([[[1.1, 0.2], [-0.3, 0.9]], [[0.8, 0.0], [0.0, 1.3]]])
    offsets = np.array([[0.5, -1.2], [2.0, 0.3]])
    got = np.asarray(jax.jit(affine)(x, mats, offsets))
    centre = np.array([4.0, 5.0])
    for i in range(2):
        for c in range(3):
            # SciPy: output[o] = input[A o + offset]; ours is about the centre
            ref = ndimage.affine_transform(x[i, c].astype("float64"), mats[i],
                                           offset=centre + offsets[i] - mats[i] @ centre,
                                           order=1, mode="grid-constant", cval=0.0)
            np.testing.assert_allclose(got[i, c], ref, atol=1e-5)


def test_affine_identity_and_integer_shift(rng):
    x = rng.normal(size=IMAGES).astype("float32")
    eye = np.broadcast_to(np.eye(2), (3, 2, 2))
    f = jax.jit(affine)
    np.testing.assert_allclose(np.asarray(f(x, eye, np.zeros((3, 2)))), x, atol=1e-6)
    shifts = np.array([[1, -2], [0, 3], [-1, 0]])
    # reading at p - s moves the content by +s, like translate
    np.testing.assert_allclose(np.asarray(f(x, eye, -shifts)),
                               np.asarray(_translate(x, shifts)), atol=1e-6)


def test_affine_matrices_properties():
    angle = jnp.array([0.0, 0.3, -1.0])
    scale = jnp.array([1.0, 1.25, 0.8])
    shear = jnp.array([0.0, 0.0, 0.2])
    m = np.asarray(jax.jit(affine_matrices)(angle, scale, shear))
    np.testing.assert_allclose(m[0], np.eye(2), atol=1e-7)
    # no shear: a rotation divided by the scale
    np.testing.assert_allclose(m[1] @ m[1].T * 1.25 ** 2, np.eye(2), atol=1e-6)
    np.testing.assert_allclose(np.linalg.det(m), 1.0 / np.asarray(scale) ** 2, rtol=1e-6)


def test_elastic_zero_and_constant_fields(rng):
    x = rng.normal(size=IMAGES).astype("float32")
    f = jax.jit(elastic)
    np.testing.assert_allclose(np.asarray(f(x, np.zeros(IMAGES, "float32"))), x, atol=1e-6)
    d = np.zeros(IMAGES, "float32")
    d[0, 0], d[0, 1], d[1, 1] = 2.0, -1.0, 3.0  # image 2 stays in place
    ref = _translate(x, np.array([[-2, 1], [0, -3], [0, 0]]))
    np.testing.assert_allclose(np.asarray(f(x, d)), np.asarray(ref), atol=1e-6)


def test_cutout_matches_numpy(rng):
    x = rng.normal(size=IMAGES).astype("float32")
    centres = np.array([[4, 4], [0, 8], [8, 1]])
    got = np.asarray(jax.jit(cutout, static_argnames="size")(x, centres, size=4))
    for img, (r, c), out in zip(x, centres, got):
        ref = img.copy()
        ref[:, max(r - 2, 0):r + 2, max(c - 2, 0):c + 2] = 0.0
        np.testing.assert_array_equal(out, ref)


def _run(aug, value, **kw):
    x = S.placeholder((None,) + value.shape[1:])
    f = S.function([x], aug(x, **kw))
    return f, np.asarray(f(value))


def test_random_affine_draws(rng):
    value = rng.uniform(size=(16, 1, 12, 12)).astype("float32")
    _, same = _run(random_affine, value, rotation=0.0, scale=(1.0, 1.0), shear=0.0,
                   max_shift=0.0)
    np.testing.assert_allclose(same, value, atol=1e-6)
    f, out = _run(random_affine, value, rotation=30.0, seed=3)
    assert out.shape == value.shape and np.isfinite(out).all()
    per_image = np.abs(out - value).reshape(16, -1).max(1)
    assert (per_image > 1e-3).all()  # every image moved
    assert not np.array_equal(out, np.asarray(f(value)))  # new draw at each call
    # interpolation is a convex combination of input pixels and zeros
    assert out.min() >= -1e-6 and out.max() <= value.max() + 1e-6


def test_random_elastic_and_cutout(rng):
    value = rng.uniform(size=(8, 1, 10, 10)).astype("float32")
    _, same = _run(random_elastic, value, alpha=0.0)
    np.testing.assert_allclose(same, value, atol=1e-6)
    f, warped = _run(random_elastic, value, alpha=1.0, grid=3)
    assert (np.abs(warped - value).reshape(8, -1).max(1) > 1e-3).all()
    assert not np.array_equal(warped, np.asarray(f(value)))
    ones = np.ones((64, 1, 9, 9), "float32")
    _, cut = _run(random_cutout, ones, size=4)
    zeros = (cut == 0).reshape(64, -1).sum(1)
    assert zeros.min() >= 4 and zeros.max() == 16 and ((cut == 0) | (cut == 1)).all()
    for img in cut[:, 0]:  # the zeros form one axis-aligned rectangle
        r, c = np.nonzero(img == 0)
        assert len(r) == (r.max() - r.min() + 1) * (c.max() - c.min() + 1)


def test_new_augment_errors():
    x = S.placeholder((None, 1, 8, 8))
    with pytest.raises(L.LayersError, match="random_affine: images must be"):
        random_affine(S.placeholder((None, 8)))
    with pytest.raises(L.LayersError, match="rotation must be a number >= 0; got -1"):
        random_affine(x, rotation=-1)
    with pytest.raises(L.LayersError, match=r"shear must lie in \[0, 90\) degrees; got 90"):
        random_affine(x, shear=90)
    with pytest.raises(L.LayersError, match=r"scale must be a pair 0 < low <= high; got \(1.2"):
        random_affine(x, scale=(1.2, 0.9))
    with pytest.raises(L.LayersError, match=r"grid must be an int in \[2, 8\]; got 9"):
        random_elastic(x, grid=9)
    with pytest.raises(L.LayersError, match="alpha must be a number >= 0; got -0.5"):
        random_elastic(x, alpha=-0.5)
    with pytest.raises(L.LayersError, match="random_cutout: size must be an int >= 0; got 2.5"):
        random_cutout(x, size=2.5)
