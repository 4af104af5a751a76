"""Every wrapped name of ``symbolic`` (``symbolic.ops.NAMES`` with ``getitem`` and ``astype``,
``S.nn``, ``S.linalg``, ``S.fft``) evaluated once on a sample input: the compiled symbolic
graph gives what the :mod:`jax.numpy` / :mod:`jax.nn` / :mod:`jax.numpy.linalg` /
:mod:`jax.numpy.fft` function gives when called directly.

Names are grouped by signature (unary element-wise, binary, reductions over an axis, shape
operations, products, square matrices, transforms); ``SPECIAL`` lists the exceptions with the
inputs and arguments they need (positive inputs for logarithms and roots, integers for bitwise
operations, symmetric positive-definite matrices for ``cholesky``, ...). All names share a few
placeholders and compile into one :func:`symbolic.function` per namespace, so the module
compiles a handful of programs; each name is still its own test case.
"""

import functools
import operator

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import symbolic as S

# ---------------------------------------------------------------------------------------------
# Sample inputs: name -> concrete array. Each becomes one placeholder of its shape and dtype.


def _inputs():
    rng = np.random.default_rng(7)
    f32 = np.float32
    # away from 0 (division, sign, reciprocal) and inside (-1, 1) (arcsin, arctanh)
    x = (rng.uniform(0.1, 0.9, (3, 4)) * rng.choice([-1, 1], (3, 4))).astype(f32)
    y = (rng.uniform(0.1, 0.9, (3, 4)) * rng.choice([-1, 1], (3, 4))).astype(f32)
    y[0, 0] = x[0, 0]  # one equal pair: comparisons, isclose, heaviside see a tie
    a = rng.normal(size=(4, 4)).astype(f32)
    spd = (a @ a.T + 4 * np.eye(4)).astype(f32)
    return {
        "x": x,
        "y": y,
        "pos": rng.uniform(0.5, 2.0, (3, 4)).astype(f32),  # logarithms, roots, powers
        "ge1": rng.uniform(1.1, 3.0, (3, 4)).astype(f32),  # arccosh
        "wide": (5 * x).astype(f32),  # rounding: values of several units
        "nanx": np.where(np.eye(3, 4, dtype=bool), np.nan, x).astype(f32),
        "special": np.array([[np.nan, np.inf, -np.inf, 0.0], [-0.0, 1.5, -2.5, 1e30],
                             [3.0, -1e-30, 2.0, -7.0]], f32),
        "c": (x + 1j * y).astype(np.complex64),
        "i": rng.integers(-50, 50, (3, 4)).astype(np.int32),
        "k": rng.integers(0, 31, (3, 4)).astype(np.int32),  # shift amounts
        "idx": rng.integers(0, 5, (3, 4)).astype(np.int32),  # one_hot, bincount
        "mask": x > 0,
        "mask2": y > 0,
        "q": np.float32(0.3),  # a scalar
        "v": rng.normal(size=6).astype(f32),
        "w": rng.normal(size=3).astype(f32),
        "vsorted": np.sort(rng.normal(size=6)).astype(f32),
        "col": (rng.uniform(0.1, 0.9, (3, 1, 4))).astype(f32),  # squeeze
        "m": rng.normal(size=(4, 5)).astype(f32),  # right-hand factor of x
        "m5": rng.normal(size=(5, 2)).astype(f32),
        "r3": rng.normal(size=(4, 3)).astype(f32),  # cross products
        "s3": rng.normal(size=(4, 3)).astype(f32),
        "sq": (a + 3 * np.eye(4)).astype(f32),  # general, well-conditioned
        "spd": spd,
        "b4": rng.normal(size=4).astype(f32),
        "tall": rng.normal(size=(5, 3)).astype(f32),  # least squares
        "b5": rng.normal(size=5).astype(f32),
        "t224": (a + 3 * np.eye(4)).astype(f32).reshape(2, 2, 4),
        "b22": rng.normal(size=(2, 2)).astype(f32),
        "phase": np.cumsum(rng.uniform(-3, 3, 8)).astype(f32),  # unwrap
        "cc": (rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3))).astype(np.complex64),
    }


# ---------------------------------------------------------------------------------------------
# Calls: name -> (input names, call(fn, *inputs)). The same call runs with the symbolic name on
# placeholders and with the JAX function on the concrete inputs.

def _unary(src="x"):
    return (src,), lambda f, a: f(a)


def _binary(a="x", b="y"):
    return (a, b), lambda f, u, v: f(u, v)


def _axis(src="x", axis=1):
    return (src,), lambda f, a: f(a, axis=axis)


UNARY = (
    "negative positive abs absolute sign reciprocal square cbrt exp exp2 expm1 log1p sin cos "
    "tan arcsin arccos arctan sinh cosh tanh arcsinh arctanh deg2rad rad2deg sinc modf"
).split()
FLOAT_CLASS = "isfinite isinf isnan signbit nan_to_num".split()  # on nan, inf, -0.0, huge
UNARY_POSITIVE = "sqrt log log2 log10".split()
ROUNDING = "floor ceil trunc round rint".split()
COMPLEX = "real imag conj conjugate angle".split()
BINARY = (
    "add subtract multiply divide true_divide floor_divide mod remainder logaddexp logaddexp2 "
    "arctan2 hypot maximum minimum fmax fmin heaviside copysign nextafter fmod equal not_equal "
    "less less_equal greater greater_equal isclose allclose array_equal"
).split()
LOGICAL = "logical_and logical_or logical_xor".split()
BITWISE = "bitwise_and bitwise_or bitwise_xor".split()
REDUCTIONS = (
    "sum prod mean std var max min amax amin ptp argmax argmin cumsum cumprod median average "
    "count_nonzero"
).split()
NAN_REDUCTIONS = "nansum nanmean nanmax nanmin nanstd nanvar".split()  # NaN on the diagonal
SHAPE = (
    "ravel transpose atleast_1d atleast_2d atleast_3d fliplr flipud rot90 tril triu diagonal "
    "trace sort argsort diag ediff1d cov corrcoef zeros_like ones_like empty_like"
).split()
NN_UNARY = (
    "relu relu6 sigmoid softplus soft_sign silu swish log_sigmoid hard_tanh hard_sigmoid "
    "hard_silu elu celu selu gelu"
).split()
NN_AXIS = "glu softmax log_softmax logsumexp standardize".split()
SQUARE = "det eig eigvals inv matrix_rank norm pinv qr slogdet svd".split()
SYMMETRIC = "cholesky eigh eigvalsh".split()
FFT_REAL = "fft rfft fft2 rfft2 fftn rfftn ihfft fftshift ifftshift".split()
FFT_COMPLEX = "ifft irfft ifft2 irfft2 ifftn irfftn hfft".split()

SPECIAL = {
    # element-wise with extra arguments or inputs of their own
    "power": (("pos", "y"), lambda f, a, b: f(a, b)),
    "float_power": (("pos", "y"), lambda f, a, b: f(a, b)),
    "arccosh": _unary("ge1"),
    "clip": (("x",), lambda f, a: f(a, -0.5, 0.5)),
    "logical_not": _unary("mask"),
    "invert": _unary("i"),
    "left_shift": _binary("i", "k"),
    "right_shift": _binary("i", "k"),
    "where": (("mask", "x", "y"), lambda f, c, a, b: f(c, a, b)),
    "select": (("mask", "mask2", "x", "y"), lambda f, c1, c2, a, b: f([c1, c2], [a, b], -1.0)),
    # reductions needing more than an axis
    "any": _axis("mask"),
    "all": _axis("mask"),
    "quantile": (("x", "q"), lambda f, a, q: f(a, q, axis=1)),
    "percentile": (("x",), lambda f, a: f(a, 30.0, axis=1)),
    # shape manipulation
    "reshape": (("x",), lambda f, a: f(a, (4, 3))),
    "swapaxes": (("x",), lambda f, a: f(a, 0, 1)),
    "moveaxis": (("col",), lambda f, a: f(a, 0, -1)),
    "expand_dims": (("x",), lambda f, a: f(a, 1)),
    "squeeze": (("col",), lambda f, a: f(a, 1)),
    "broadcast_to": (("x",), lambda f, a: f(a, (2, 3, 4))),
    "concatenate": (("x", "y"), lambda f, a, b: f([a, b], axis=1)),
    "stack": (("x", "y"), lambda f, a, b: f([a, b], axis=-1)),
    "hstack": (("x", "y"), lambda f, a, b: f([a, b])),
    "vstack": (("x", "y"), lambda f, a, b: f([a, b])),
    "dstack": (("x", "y"), lambda f, a, b: f([a, b])),
    "column_stack": (("v", "vsorted"), lambda f, a, b: f([a, b])),
    "split": (("x",), lambda f, a: f(a, 2, axis=1)),
    "array_split": (("x",), lambda f, a: f(a, 3, axis=1)),
    "tile": (("x",), lambda f, a: f(a, (2, 1))),
    "repeat": (("x",), lambda f, a: f(a, 2, axis=0)),
    "flip": (("x",), lambda f, a: f(a, 1)),
    "roll": (("x",), lambda f, a: f(a, 1, axis=1)),
    "pad": (("x",), lambda f, a: f(a, ((1, 0), (0, 2)), mode="reflect")),
    "take": (("x", "idx"), lambda f, a, i: f(a, i[0], axis=1)),
    "take_along_axis": (("x", "idx"), lambda f, a, i: f(a, i[:, :3], axis=1)),
    "meshgrid": (("v", "w"), lambda f, a, b: f(a, b)),
    "searchsorted": (("vsorted", "v"), lambda f, a, b: f(a, b)),
    "diff": _axis("x"),
    "gradient": _axis("x"),
    # products
    "dot": _binary("x", "m"),
    "matmul": _binary("x", "m"),
    "vdot": _binary("x", "y"),
    "inner": _binary("x", "y"),
    "outer": _binary("v", "w"),
    "tensordot": (("x", "m"), lambda f, a, b: f(a, b, axes=1)),
    "einsum": (("x", "m"), lambda f, a, b: f("ij,jk->ki", a, b)),
    "kron": _binary("w", "x"),
    "cross": _binary("r3", "s3"),
    # construction: a tensor where one can go; shapes and sizes are static
    "full_like": (("x", "q"), lambda f, a, q: f(a, q)),
    "full": (("q",), lambda f, q: f((3, 4), q)),
    "linspace": (("q", "b4"), lambda f, q, b: f(q, b, 5)),
    "logspace": (("q", "b4"), lambda f, q, b: f(q, b, 5)),
    # no array argument at all: the name computes right away (no graph), as jax.numpy does
    "zeros": ((), lambda f: f((3, 4))),
    "ones": ((), lambda f: f((2, 3), "int32")),
    "eye": ((), lambda f: f(3, 4, 1)),
    "identity": ((), lambda f: f(3)),
    "arange": ((), lambda f: f(2, 11, 3)),
    "tri": ((), lambda f: f(3, 4, -1)),
    # signal and statistics helpers
    "convolve": _binary("v", "w"),
    "correlate": (("v", "w"), lambda f, a, b: f(a, b, mode="full")),
    "interp": (("x", "vsorted", "v"), lambda f, a, xp, fp: f(a, xp, fp)),
    "histogram": (("x",), lambda f, a: f(a, bins=5, range=(-1.0, 1.0))),
    "digitize": (("x", "vsorted"), lambda f, a, b: f(a, b)),
    "bincount": (("idx",), lambda f, i: f(i.ravel(), length=6)),
    "unwrap": _unary("phase"),
    "polyval": _binary("w", "x"),
    # the two that are not jax.numpy names
    "getitem": (("x",), lambda f, a: f(a, (slice(None, None, -1), 1))),
    "astype": (("wide",), lambda f, a: f(a, "int32")),
}
SPECIAL.update({n: _unary("pos") for n in UNARY_POSITIVE})
SPECIAL.update({n: _unary("special") for n in FLOAT_CLASS})
SPECIAL.update({n: _axis("nanx") for n in NAN_REDUCTIONS})
SPECIAL.update({n: _unary("wide") for n in ROUNDING})
SPECIAL.update({n: _unary("c") for n in COMPLEX})
SPECIAL.update({n: _binary("mask", "mask2") for n in LOGICAL})
SPECIAL.update({n: _binary("i", "k") for n in BITWISE})

NN_SPECIAL = {
    "leaky_relu": (("x",), lambda f, a: f(a, 0.1)),
    "one_hot": (("idx",), lambda f, i: f(i, 5)),
}
LINALG_SPECIAL = {
    "lstsq": _binary("tall", "b5"),
    "matrix_power": (("sq",), lambda f, a: f(a, 3)),
    "solve": _binary("sq", "b4"),
    "tensorinv": (("t224",), lambda f, a: f(a, ind=2)),
    "tensorsolve": _binary("t224", "b22"),
    "multi_dot": (("x", "m", "m5"), lambda f, a, b, c: f([a, b, c])),
}
FFT_SPECIAL = {
    "fftfreq": (("q",), lambda f, d: f(8, d)),
    "rfftfreq": (("q",), lambda f, d: f(8, d)),
}


def _table():
    """namespace -> {name: (inputs, call)} for every name the namespace lists."""
    ops = {n: _unary() for n in UNARY}
    ops.update({n: _binary() for n in BINARY})
    ops.update({n: _axis() for n in REDUCTIONS})
    ops.update({n: _unary() for n in SHAPE})
    ops.update(SPECIAL)
    nn = {n: _unary() for n in NN_UNARY + ["tanh"]}
    nn.update({n: _axis("x", -1) for n in NN_AXIS})
    nn.update(NN_SPECIAL)
    linalg = {n: _unary("sq") for n in SQUARE}
    linalg.update({n: _unary("spd") for n in SYMMETRIC})
    linalg.update(LINALG_SPECIAL)
    fft = {n: _unary("x") for n in FFT_REAL}
    fft.update({n: _unary("cc") for n in FFT_COMPLEX})
    fft.update(FFT_SPECIAL)
    return {"ops": ops, "nn": nn, "linalg": linalg, "fft": fft}


TABLE = _table()
REFERENCE = {"ops": jnp, "nn": jax.nn, "linalg": jnp.linalg, "fft": jnp.fft}
SYMBOLIC = {"ops": S, "nn": S.nn, "linalg": S.linalg, "fft": S.fft}
NAMES = {
    "ops": [*S.ops.NAMES, "getitem", "astype"],
    "nn": [*S.nn.NAMES, "tanh"],
    "linalg": list(S.linalg.NAMES),
    "fft": list(S.fft.NAMES),
}
CASES = [(space, name) for space in NAMES for name in NAMES[space]]


def _reference_fn(space, name):
    if name == "getitem":
        return operator.getitem
    if name == "astype":
        return lambda a, dtype: a.astype(dtype)
    return getattr(REFERENCE[space], name)


def test_every_name_has_one_sample_call():
    for space, names in NAMES.items():
        assert sorted(TABLE[space]) == sorted(names), space
        assert len(set(names)) == len(names), space


@pytest.fixture(scope="module")
def results():
    """(space, name) -> (symbolic output leaves, their declared (shape, dtype), reference
    output leaves), or the exception raised while building or compiling that name. One
    compiled function per namespace, each output a name's; should that function fail to
    compile, each name is compiled alone so that the failure names its operation."""
    values = _inputs()
    out = {}
    with S.Graph(name="ops-reference"):
        holders = {k: S.placeholder(np.shape(v), np.asarray(v).dtype, name=k)
                   for k, v in values.items()}
        for space in NAMES:
            built = {}
            for name in NAMES[space]:
                inputs, call = TABLE[space][name]
                try:
                    built[name] = jax.tree_util.tree_leaves(
                        call(getattr(SYMBOLIC[space], name), *(holders[k] for k in inputs)))
                except Exception as err:  # noqa: BLE001 - reported by this name's test
                    out[space, name] = err
            try:
                got = _evaluate(built, space, holders, values)
            except Exception:  # noqa: BLE001 - find which name fails
                got = {}
                for name, leaves in built.items():
                    try:
                        got.update(_evaluate({name: leaves}, space, holders, values))
                    except Exception as err:  # noqa: BLE001
                        out[space, name] = err
            want = _references(space, list(got), values)
            for name, leaves in got.items():
                declared = [(t.shape, t.dtype) if isinstance(t, S.Tensor) else None
                            for t in built[name]]
                out[space, name] = (leaves, declared, want[name])
    return out


def _evaluate(built, space, holders, values):
    """Compile the symbolic outputs of the names in ``built`` in one function and run it."""
    tensors = [t for leaves in built.values() for t in leaves if isinstance(t, S.Tensor)]
    used = sorted({k for n in built for k in TABLE[space][n][0]})
    computed = iter(S.function([holders[k] for k in used], tensors)(
        *(values[k] for k in used)) if tensors else ())
    # a name without any array argument computed right away: its leaves are arrays already
    return {n: [next(computed) if isinstance(t, S.Tensor) else t for t in leaves]
            for n, leaves in built.items()}


def _references(space, names, values):
    """name -> output leaves of each JAX function called directly on the sample inputs.

    The names whose reference traces with array outputs are compiled together in one program
    (run eagerly, op by op, the few hundred small calls take seconds to dispatch); the others
    (outputs whose shape depends on the values, Python scalars) are called eagerly."""
    def call(name, vals):
        inputs, fn = TABLE[space][name]
        return jax.tree_util.tree_leaves(fn(_reference_fn(space, name),
                                            *(vals[k] for k in inputs)))

    traced = []
    for name in names:
        try:
            shapes = jax.eval_shape(functools.partial(call, name), values)
        except Exception:  # noqa: BLE001 - value-dependent shapes: called eagerly below
            continue
        # a weakly typed output is a Python scalar when called eagerly: its dtype would differ
        if not any(getattr(s, "weak_type", False) for s in shapes):
            traced.append(name)
    out = jax.jit(lambda vals: {n: call(n, vals) for n in traced})(values) if traced else {}
    out.update({n: call(n, values) for n in names if n not in out})
    return out


@pytest.mark.parametrize("space, name", CASES, ids=[f"{s}.{n}" for s, n in CASES])
def test_symbolic_name_matches_jax(results, space, name):
    res = results[space, name]
    if isinstance(res, Exception):
        raise AssertionError(f"S.{space}.{name} could not be built: {res}") from res
    got, declared, want = res
    assert len(got) == len(want), f"{name}: {len(got)} outputs, JAX gives {len(want)}"
    for g, d, w in zip(got, declared, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype, (name, g.shape, g.dtype, w.shape,
                                                            w.dtype)
        # the shape and dtype inferred when the node was built are the computed ones
        assert d is None or d == (w.shape, w.dtype), (name, d, w.shape, w.dtype)
        if np.issubdtype(w.dtype, np.inexact):
            # the same JAX function on the same values, compiled alone (the direct call) or
            # among the graph's other operations: XLA may order a reduction's additions or
            # round an element-wise kernel differently, a few units of the last place of
            # the output's scale (every reduction here has at most 16 terms of magnitude
            # O(1)); a wrong argument or function changes the results by O(1)
            eps = float(np.finfo(w.dtype).eps)
            scale = max(1.0, float(np.max(np.abs(w[np.isfinite(w)]), initial=0.0)))
            np.testing.assert_allclose(g, w, rtol=64 * eps, atol=64 * eps * scale,
                                       err_msg=name)
        else:
            np.testing.assert_array_equal(g, w, err_msg=name)
