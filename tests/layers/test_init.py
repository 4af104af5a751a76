import numpy as np
import pytest

import layers as L
from layers import init as I


@pytest.mark.parametrize(
    ("init", "shape", "std"),
    [
        (I.He(), (500, 400), np.sqrt(2 / 500)),
        (I.He(distribution="uniform"), (32, 16, 3, 3), np.sqrt(2 / (16 * 9))),
        (I.Glorot(), (300, 500), np.sqrt(2 / 800)),
        (I.Glorot(distribution="uniform"), (300, 500), np.sqrt(2 / 800)),
        (I.LeCun(), (400, 100), np.sqrt(1 / 400)),
        (I.Normal(0.3), (200, 200), 0.3),
        (I.Uniform(0.5), (200, 200), 0.5 / np.sqrt(3)),
    ],
)
def test_variance_scaling(init, shape, std, rng):
    w = init(shape, rng)
    assert w.shape == shape and w.dtype == np.float32
    assert abs(w.std() - std) < 0.03 * std
    assert abs(w.mean()) < 0.05 * std


def test_uniform_bounds(rng):
    w = I.Glorot(distribution="uniform")((100, 50), rng)
    limit = np.sqrt(6 / 150)
    assert w.max() <= limit and w.min() >= -limit and w.max() > 0.95 * limit


@pytest.mark.parametrize("shape", [(6, 10), (10, 6), (4, 3, 2, 2)])
def test_orthogonal(shape, rng):
    w = I.Orthogonal(gain=2.0)(shape, rng).reshape(shape[0], -1).astype("float64")
    small = min(w.shape)
    gram = w @ w.T if w.shape[0] == small else w.T @ w
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-5)


def test_fans_and_lookup(rng):
    assert I.fans((3, 4)) == (3, 4)
    assert I.fans((8, 2, 3, 3)) == (18, 72)
    assert isinstance(I.get("glorot"), I.Glorot)
    np.testing.assert_array_equal(I.get("ones")((2,), rng), np.ones(2, "float32"))
    with pytest.raises(L.LayersError, match="unknown initializer 'nope'"):
        I.get("nope")
    with pytest.raises(L.LayersError, match="Normal: std must be a positive number; got -1"):
        I.Normal(-1)
    with pytest.raises(L.LayersError, match="distribution must be 'normal' or 'uniform'"):
        I.He(distribution="cauchy")
    with pytest.raises(L.LayersError, match="Orthogonal: needs a weight of at least 2 dims"):
        I.Orthogonal()((3,), rng)
