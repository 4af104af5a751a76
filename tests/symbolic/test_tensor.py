import jax.numpy as jnp
import numpy as np
import pytest

import symbolic as S


def test_placeholder_shape_and_dtype():
    x = S.placeholder((None, 3), "int32", name="x")
    assert x.shape == (None, 3) and x.dtype == np.int32 and x.ndim == 2 and x.size is None
    assert S.placeholder(5).shape == (5,)


@pytest.mark.parametrize("shape", [(-1,), (2.5,), "ab", 3.0])
def test_placeholder_bad_shape(shape):
    with pytest.raises(S.SymbolicError, match="placeholder: shape"):
        S.placeholder(shape)


def test_placeholder_bad_dtype():
    with pytest.raises(S.SymbolicError, match="unknown dtype"):
        S.placeholder((2,), "not-a-dtype")


def test_variable_value_roundtrip_and_reset(rng):
    init = rng.normal(size=(2, 3)).astype("float32")
    w = S.Variable(init, name="w")
    assert w.shape == (2, 3) and w.dtype == np.float32 and w.trainable and "trainable" in w.tags
    np.testing.assert_array_equal(w.value, init)
    w.value = np.zeros((2, 3))
    np.testing.assert_array_equal(w.value, 0)
    w.reset()
    np.testing.assert_array_equal(w.value, init)
    # .value is a copy: mutating it does not change the variable
    v = w.value
    v[:] = 7
    np.testing.assert_array_equal(w.value, init)


def test_variable_does_not_alias_the_given_array():
    source = jnp.ones(3)
    w = S.Variable(source)
    assert w.jax_value is not source


def test_variable_assign_errors():
    w = S.Variable(np.zeros(3, "float32"), name="w")
    with pytest.raises(S.SymbolicError, match=r"'w': new value has shape \(4,\), expected \(3,\)"):
        w.value = np.zeros(4)
    i = S.Variable(np.zeros(3, "int32"), name="i")
    with pytest.raises(S.SymbolicError, match="'i': new value has dtype float"):
        i.value = np.zeros(3, "float32")


def test_constant_and_weak_types():
    c = S.constant(2.0)
    assert c.weak_type and c.shape == ()
    x = S.placeholder((3,), "float16")
    assert (x * c).dtype == np.float16  # weak constant keeps x's precision
    assert (x * S.constant(np.float32(2))).dtype == np.float32


def test_operators_match_numpy(rng):
    a_val = rng.uniform(1, 2, size=(3, 4)).astype("float32")
    b_val = rng.uniform(1, 2, size=(4,)).astype("float32")
    a, b = S.placeholder((3, 4)), S.placeholder((4,))
    exprs = {
        "add": (a + b, a_val + b_val),
        "radd": (1 + a, 1 + a_val),
        "sub": (a - b, a_val - b_val),
        "rsub": (2 - a, 2 - a_val),
        "mul": (a * b, a_val * b_val),
        "div": (a / b, a_val / b_val),
        "rdiv": (1 / a, 1 / a_val),
        "floordiv": (a // b, a_val // b_val),
        "mod": (a % b, a_val % b_val),
        "pow": (a**2, a_val**2),
        "rpow": (2**a, 2**a_val),
        "matmul": (a @ b, a_val @ b_val),
        "neg": (-a, -a_val),
        "abs": (abs(a - 1.5), np.abs(a_val - 1.5)),
        "lt": (a < b, a_val < b_val),
        "ge": (a >= b, a_val >= b_val),
        "T": (a.T, a_val.T),
        "sum": (a.sum(1), a_val.sum(1)),
        "mean": (a.mean(), a_val.mean()),
        "max": (a.max(axis=0), a_val.max(axis=0)),
        "argmax": (a.argmax(-1), a_val.argmax(-1)),
        "reshape": (a.reshape(2, 6), a_val.reshape(2, 6)),
        "reshape_tuple": (a.reshape((6, 2)), a_val.reshape((6, 2))),
        "astype": (a.astype("int32"), a_val.astype("int32")),
        "index": (a[1:, ::2], a_val[1:, ::2]),
        "fancy": (a[:, [0, 3]], a_val[:, [0, 3]]),
        "none": (a[None, 0], a_val[None, 0]),
        "clip": (a.clip(1.2, 1.8), a_val.clip(1.2, 1.8)),
        "flatten": (a.flatten(), a_val.ravel()),
        "np_left": (np.float32(2.0) * a, 2 * a_val),
        "array_left": (b_val + a, b_val + a_val),
    }
    f = S.function([a, b], {k: v[0] for k, v in exprs.items()})
    out = f(a_val, b_val)
    for key, (node, expected) in exprs.items():
        assert node.shape == np.shape(expected), key
        np.testing.assert_allclose(np.asarray(out[key]), expected, rtol=1e-6, err_msg=key)


def test_symbolic_index():
    x = S.placeholder((5,))
    i = S.placeholder((), "int32")
    np.testing.assert_allclose(S.function([x, i], x[i])(np.arange(5, dtype="float32"), 3), 3.0)


def test_truth_value_and_iteration_are_errors():
    x = S.placeholder((None, 2), name="x")
    with pytest.raises(S.SymbolicError, match="truth value of symbolic tensor 'greater'"):
        bool(x > 0)
    with pytest.raises(S.SymbolicError, match="'x' is not iterable"):
        list(x)
    with pytest.raises(S.SymbolicError, match="first dimension is unknown"):
        len(x)
    with pytest.raises(S.SymbolicError, match="has no value yet"):
        np.asarray(x)


def test_equality_is_identity_so_tensors_are_keys():
    x = S.placeholder(())
    y = S.placeholder(())
    assert (x == x) is True and (x == y) is False
    assert {x: 1, y: 2}[y] == 2


def test_eval():
    x = S.placeholder((None,))
    np.testing.assert_allclose((x * 2).eval({x: np.ones(3, "float32")}), [2, 2, 2])
    np.testing.assert_allclose((S.constant(3.0) + 1).eval(), 4.0)
