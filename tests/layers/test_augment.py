import numpy as np
import pytest

import layers as L
import symbolic as S
from layers.augment import random_noise, random_translate, translate


def test_translate_matches_numpy(rng):
    x = rng.normal(size=(3, 2, 5, 6)).astype("float32")
    shifts = np.array([[1, -2], [0, 0], [-3, 4]])
    got = np.asarray(translate(x, shifts))
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
