import numpy as np
import pytest

import layers as L
import symbolic as S


def test_dense_matches_numpy(rng):
    layer = L.Dense((None, 2, 4), 3, b=rng.normal(size=3), nonlinearity=S.nn.relu)
    x = S.placeholder((None, 2, 4))
    value = rng.normal(size=(5, 2, 4)).astype("float32")
    got = S.function([x], layer(x))(value)
    ref = np.maximum(value @ layer.W.value + layer.b.value, 0)
    np.testing.assert_allclose(np.asarray(got), ref, rtol=1e-5, atol=1e-6)


def test_dense_errors():
    with pytest.raises(L.LayersError, match="Dense: units must be a positive int; got 0"):
        L.Dense((None, 3), 0)
    with pytest.raises(L.LayersError,
                       match=r"last input size must be known; got input shape \(None, None\)"):
        L.Dense((None, None), 3)


def test_embedding_lookup(rng):
    emb = L.Embedding((None, 3), 7, 2)
    idx = S.placeholder((None, 3), "int32")
    value = rng.integers(0, 7, (4, 3)).astype("int32")
    got = S.function([idx], emb(idx))(value)
    np.testing.assert_array_equal(np.asarray(got), emb.W.value[value])
    with pytest.raises(L.LayersError, match="indices must be integers; got dtype float32"):
        emb(S.placeholder((None, 3)))
    with pytest.raises(L.LayersError, match="Embedding: output_size must be a positive int"):
        L.Embedding((None,), 3, -2)
