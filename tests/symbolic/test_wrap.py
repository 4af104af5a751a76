import jax
import jax.numpy as jnp
import numpy as np
import pytest

import symbolic as S


def test_wrap_pytree_outputs():
    def stats(x, *, axis):
        return {"mean": jnp.mean(x, axis=axis), "pair": (jnp.min(x), jnp.max(x))}

    x = S.placeholder((None, 4), name="x")
    out = S.wrap(stats)(x, axis=0)
    assert out["mean"].shape == (4,) and out["pair"][0].shape == ()
    f = S.function([x], [out["mean"], out["pair"][1]])
    val = np.arange(8, dtype="float32").reshape(2, 4)
    mean, mx = f(val)
    np.testing.assert_allclose(mean, val.mean(0))
    assert float(mx) == 7.0


def test_unknown_dims_propagate():
    x = S.placeholder((None, 6))
    assert (x * 2).shape == (None, 6)
    assert x.sum(0).shape == (6,)
    assert x.reshape(-1, 3).shape == (None, 3)
    assert x[:2].shape == (2, 6)
    assert S.concatenate([x, x], axis=0).shape == (None, 6)
    assert (x @ S.placeholder((6, 5))).shape == (None, 5)
    assert S.outer(x[0], x[:, 0]).shape == (6, None)


def test_build_time_shape_error_names_inputs():
    a = S.placeholder((3, 4), name="a")
    b = S.placeholder((5, 2), name="b")
    with pytest.raises(
        S.SymbolicError, match=r"cannot build 'matmul' on inputs \['a': \(3, 4\) float32"
    ):
        a @ b


def test_no_tensor_arguments_compute_directly():
    out = S.exp(np.zeros(2, "float32"))
    assert isinstance(out, jax.Array)
    np.testing.assert_allclose(out, [1, 1])


def test_arrays_become_constants():
    x = S.placeholder((3,))
    y = x + np.array([1.0, 2.0, 3.0], "float32")
    assert any(isinstance(p, S.Constant) for p in y.inputs)
    np.testing.assert_allclose(S.function([x], y)(np.zeros(3, "float32")), [1, 2, 3])


def test_shape_cache_reused(graph):
    x = S.placeholder((None, 8))
    for _ in range(5):
        x = x * 1.5 + 1.0
    # two distinct operations only (multiply by 1.5, add 1.0) despite ten nodes
    assert len(graph.shape_cache) == 2


def test_wrap_rejects_non_callable():
    with pytest.raises(S.SymbolicError, match="wrap: fn must be callable"):
        S.wrap(3)


def test_graph_size_is_linear_in_operations():
    x = S.placeholder((None, 16))
    h = x
    for _ in range(250):
        h = h * 0.5 + 1.0
    assert len(S.ancestors(h)) == 1 + 2 * 250


def test_unknown_size_that_must_match_a_known_one():
    x = S.placeholder((None,), name="x")
    w = S.Variable(np.ones(3, "float32"))
    assert (x + w).shape == (3,)
    m = S.placeholder((None, None), name="m")
    assert (m @ S.placeholder((64, 10))).shape == (None, 10)
    with pytest.raises(S.SymbolicError, match="cannot build 'add'"):
        S.placeholder((2,)) + w
