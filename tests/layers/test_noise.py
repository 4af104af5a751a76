import numpy as np
import pytest

import layers as L
import symbolic as S


def test_dropout_statistics(rng):
    layer = L.Dropout((None, 4000), p=0.25)
    x = S.placeholder((None, 4000))
    out = np.asarray(S.function([x], layer(x))(np.ones((2, 4000), "float32")))
    kept = out != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(out[kept], 1 / 0.75, rtol=1e-6)
    no_rescale = L.Dropout((None, 10), p=0.5, rescale=False)
    x = S.placeholder((None, 10))
    y = np.asarray(S.function([x], no_rescale(x))(np.ones((3, 10), "float32")))
    assert set(np.unique(y).tolist()) <= {0.0, 1.0}


def test_two_calls_draw_different_masks():
    layer = L.Dropout((None, 500), p=0.5, seed=1)
    x = S.placeholder((None, 500))
    a, b = S.function([x], [layer(x), layer(x)])(np.ones((1, 500), "float32"))
    assert not np.array_equal(np.asarray(a), np.asarray(b))


def test_gaussian_noise_std(rng):
    layer = L.GaussianNoise((None, 5000), std=0.5)
    x = S.placeholder((None, 5000))
    out = np.asarray(S.function([x], layer(x))(np.zeros((2, 5000), "float32")))
    assert abs(out.std() - 0.5) < 0.02


def test_noise_errors():
    with pytest.raises(L.LayersError, match=r"Dropout: p must lie in \[0, 1\); got 1"):
        L.Dropout((None, 3), p=1)
    with pytest.raises(L.LayersError, match="GaussianNoise: std must be >= 0; got -0.1"):
        L.GaussianNoise((None, 3), std=-0.1)
