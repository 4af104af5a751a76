"""layers.LogMeanExpPool and log_mean_exp against a float64 NumPy evaluation."""

import jax
import numpy as np
import pytest

import layers as L
import symbolic as S

EPS32 = np.finfo(np.float32).eps


def _reference(x, beta, axis):
    """log(mean(exp(beta x))) / beta in float64, shifted by the maximum for stability."""
    z = beta * np.asarray(x, np.float64)
    m = z.max(axis=axis, keepdims=True)
    lse = np.log(np.exp(z - m).sum(axis=axis)) + np.squeeze(m, axis)
    return (lse - np.log(x.shape[axis])) / beta


def _bound(x, beta, axis):
    """Float32 rounding of the pooled value: the sum of n exponentials in (0, 1] has a
    relative error of at most (n + 2) eps, the log turns it into an absolute one; the
    shift, product and division add a few eps of the magnitudes involved."""
    n = x.shape[axis]
    mag = np.abs(np.asarray(x, np.float64)).max(axis=axis) + np.log(n) / beta
    return (n + 2) * EPS32 / beta + 8 * EPS32 * mag


@pytest.mark.parametrize("beta", [0.05, 0.8, 3.0, 50.0])
def test_function_matches_float64(beta, rng):
    x = (5 * rng.normal(size=(4, 3, 11))).astype("float32")
    for axis in (-1, 1):
        got = np.asarray(L.log_mean_exp(x, np.float32(beta), axis=axis))
        assert np.all(np.abs(got - _reference(x, beta, axis)) <= _bound(x, beta, axis))


def test_between_mean_and_max(rng):
    x = rng.normal(size=(6, 9)).astype("float32")
    for beta in (1e-2, 1.0, 1e3):
        got = np.asarray(L.log_mean_exp(x, np.float32(beta)))
        tol = _bound(x, beta, 1)
        assert np.all(got >= x.mean(axis=1) - tol) and np.all(got <= x.max(axis=1) + tol)
    # the limits: mean + beta var / 2 + O(beta^2) for small beta, max - log(n) / beta at most
    small = np.asarray(L.log_mean_exp(x, np.float32(1e-2)))
    assert np.all(np.abs(small - x.mean(axis=1)) <= 1e-2 * (x**2).max() + _bound(x, 1e-2, 1))
    large = np.asarray(L.log_mean_exp(x, np.float32(1e3)))
    assert np.all(x.max(axis=1) - large <= np.log(9) / 1e3 + _bound(x, 1e3, 1))


def test_layer_matches_reference_and_learns_beta(rng):
    raw = np.float32(0.7)
    layer = L.LogMeanExpPool((None, 5, None), axis=-1, beta_raw=raw, min_beta=0.1)
    assert layer.output_shape == (None, 5)
    x = S.placeholder((None, 5, None))
    y = layer(x)
    f = S.function([x], y)
    beta = 0.1 + np.log1p(np.exp(np.float64(raw)))
    for t in (4, 13):
        value = (3 * rng.normal(size=(2, 5, t))).astype("float32")
        got = np.asarray(f(value))
        assert got.shape == (2, 5) and got.dtype == np.dtype("float32")
        # beta itself is rounded to float32 (a relative error of a few eps), which moves the
        # result by at most |d/dbeta| * that; d/dbeta is bounded by the spread of x over beta
        spread = np.ptp(value, axis=-1) / beta
        tol = _bound(value, beta, -1) + 4 * EPS32 * beta * spread
        assert np.all(np.abs(got - _reference(value, beta, -1)) <= tol)
    assert f.n_compilations == 2
    pure = S.to_jax(y, [x])
    np.testing.assert_array_equal(np.asarray(jax.jit(pure)(pure.state(), value)[0]), got)
    # beta_raw is the layer's one parameter, trainable and not regularised
    assert [p.name for p in L.get_params(layer, trainable=True)] == [layer.beta_raw.name]
    assert L.get_params(layer, regularizable=True) == []
    (g,) = S.grad(y.sum(), [layer.beta_raw])
    assert np.isfinite(float(S.function([x], g)(value)))


def test_fixed_beta():
    layer = L.LogMeanExpPool((None, 3), learnable=False)
    assert L.get_params(layer, trainable=True) == []


@pytest.mark.parametrize("kwargs,match", [
    ({"axis": 0}, "other than the batch axis 0"),
    ({"axis": 2}, "axis must be an int in"),
    ({"min_beta": -1.0}, "min_beta must be a non-negative number"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(L.LayersError, match=match):
        L.LogMeanExpPool((None, 3), **kwargs)


def _masked_reference(x, beta, where):
    """Log-mean-exp over the entries kept, row by row, in float64."""
    out = np.empty(x.shape[:-1])
    for idx in np.ndindex(*x.shape[:-1]):
        out[idx] = _reference(x[idx][where[idx]], beta, -1)
    return out


def test_where_pools_the_entries_kept(rng):
    """Masked pooling equals the pooling of the kept entries alone (float64 reference, the
    float32 bound of the kept count); padding values, however large, change nothing and get
    no gradient; symbolic (through the layer's ``pool``) and plain calls agree."""
    x = (5 * rng.normal(size=(4, 12))).astype("float32")
    where = rng.uniform(size=x.shape) < 0.6
    where[:, 0] = True
    where[1] = False
    where[1, 3] = True  # one row keeps a single entry
    beta = 1.7
    want = _masked_reference(x, beta, where)
    bound = np.array([_bound(x[i][where[i]][None], beta, -1)[0] for i in range(len(x))])
    got = np.asarray(jax.jit(lambda v, m: L.log_mean_exp(v, np.float32(beta), where=m))(
        x, where))
    assert np.all(np.abs(got - want) <= bound)
    padded = np.where(where, x, np.float32(1e30))
    grad = jax.jit(jax.grad(lambda v: L.log_mean_exp(v, np.float32(beta), where=where).sum()))
    assert np.array_equal(np.asarray(L.log_mean_exp(padded, np.float32(beta), where=where)),
                          got)
    g = np.asarray(grad(padded))
    assert np.all(g[~where] == 0) and np.all(np.isfinite(g))
    np.testing.assert_allclose(g.sum(axis=1), 1.0, rtol=1e-5)  # softmax weights
    raw = np.log(np.expm1(beta - 0.1))
    layer = L.LogMeanExpPool((None, 12), beta_raw=np.float32(raw), min_beta=0.1)
    xs, ms = S.placeholder((None, 12)), S.placeholder((None, 12), "bool")
    sym = np.asarray(S.function([xs, ms], layer.pool(xs, where=ms))(x, where))
    assert np.all(np.abs(sym - want) <= bound + 4 * EPS32 * np.abs(want))
    # a mask broadcast from fewer axes: whole rows kept
    full = np.asarray(L.log_mean_exp(x, np.float32(beta), where=np.ones((4, 1), bool)))
    np.testing.assert_array_equal(full, np.asarray(L.log_mean_exp(x, np.float32(beta))))
