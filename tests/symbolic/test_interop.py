import jax
import jax.numpy as jnp
import numpy as np
import pytest

import symbolic as S


def test_to_jax_pure_function_under_jit_vmap_grad(rng):
    x = S.placeholder((3,), name="x")
    w = S.Variable(rng.normal(size=3).astype("float32"), name="w")
    n = S.Variable(0.0, name="n")
    f = S.to_jax(S.tanh(x @ w), [x], updates={n: n + 1.0})
    state = f.state()
    assert set(state) == {"w", "n"}
    xv = rng.normal(size=3).astype("float32")
    out, new = jax.jit(f)(state, xv)
    np.testing.assert_allclose(out, np.tanh(xv @ w.value), rtol=1e-6)
    assert float(new["n"]) == 1.0 and float(state["n"]) == 0.0  # pure: input state untouched
    batch = rng.normal(size=(5, 3)).astype("float32")
    outs = jax.vmap(lambda xi: f(state, xi)[0])(batch)
    np.testing.assert_allclose(outs, np.tanh(batch @ w.value), rtol=1e-5)
    g = jax.grad(lambda s: f(s, xv)[0])(state)["w"]
    np.testing.assert_allclose(g, (1 - np.tanh(xv @ w.value) ** 2) * xv, rtol=1e-5)


def test_to_jax_errors():
    x = S.placeholder(())
    f = S.to_jax(x * 2, [x])
    with pytest.raises(S.SymbolicError, match="expected 1 inputs"):
        f({}, 1.0, 2.0)
    v = S.Variable(1.0, name="v")
    g = S.to_jax(x * v, [x])
    with pytest.raises(S.SymbolicError, match=r"state lacks variables \['v'\]"):
        g({}, jnp.float32(1.0))
