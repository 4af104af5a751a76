"""Tests of scatter.Scattering1D: kymatio 0.3.0 agreement (stored and live), jit/vmap/grad,
learnable parameters, output types and errors."""

import json
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special

from scatter import ScatterError, Scattering1D

REFERENCE = Path(__file__).with_name("kymatio_reference.npz")


def _errors(out, ref):
    per_path = np.linalg.norm(out - ref, axis=-1) / np.linalg.norm(ref, axis=-1)
    return per_path.max(), np.linalg.norm(out - ref) / np.linalg.norm(ref)


def _stored():
    data = np.load(REFERENCE)
    configs = json.loads(str(data["configs"]))
    return data, configs


@pytest.mark.parametrize("i", range(5))
def test_matches_stored_kymatio_reference(i):
    data, configs = _stored()
    cfg = dict(configs[i])
    cfg["Q"] = tuple(cfg["Q"])
    sc = Scattering1D(**cfg)
    out = np.asarray(sc(data[f"x{i}"]))
    ref = data[f"S{i}"]
    assert out.shape == ref.shape and out.dtype == np.float32
    per_path, overall = _errors(out, ref)
    assert per_path <= 1e-3 and overall <= 1e-5
    meta = sc.meta()
    np.testing.assert_array_equal(meta["order"], data[f"order{i}"])
    np.testing.assert_allclose(meta["xi"], data[f"xi{i}"], equal_nan=True)
    np.testing.assert_array_equal(meta["j"], data[f"j{i}"])
    assert sc.output_size() == ref.shape[-2] and sc.n_frames == ref.shape[-1]


def _kymatio():
    if not hasattr(scipy.special, "sph_harm"):
        # kymatio 0.3.0 imports scipy.special.sph_harm, removed in SciPy 1.17; unused in 1-D
        scipy.special.sph_harm = None
    kymatio_numpy = pytest.importorskip("kymatio.numpy")
    return kymatio_numpy.Scattering1D


@pytest.mark.parametrize("J, n, Q, T, max_order, oversampling", [
    (5, 999, (3, 2), 20, 2, 1),
    (4, 300, (8, 1), 16, 2, 0),
    (3, 129, 2, None, 1, 0),
])
def test_matches_live_kymatio(rng, J, n, Q, T, max_order, oversampling):
    kymatio_cls = _kymatio()
    x = rng.standard_normal((2, n)).astype(np.float32)
    ref_sc = kymatio_cls(J=J, shape=n, Q=Q, T=T, max_order=max_order, oversampling=oversampling)
    ref = ref_sc(x.astype(np.float64))
    sc = Scattering1D(J, n, Q=Q, T=T, max_order=max_order, oversampling=oversampling)
    out = np.asarray(sc(x))
    assert out.shape == ref.shape
    per_path, overall = _errors(out, ref)
    assert per_path <= 1e-3 and overall <= 1e-5
    ours, theirs = sc.meta(), ref_sc.meta()
    assert ours["key"] == theirs["key"]
    for field in ("order", "xi", "sigma", "j", "n"):
        np.testing.assert_allclose(ours[field], theirs[field], equal_nan=True)


@pytest.fixture(scope="module")
def small():
    return Scattering1D(4, 256, Q=(4, 2))


def test_batch_shapes_jit_vmap(small, rng):
    x = rng.standard_normal((2, 3, 256)).astype(np.float32)
    out = small(x)
    assert out.shape == (2, 3, small.output_size(), small.n_frames)
    flat = small(x.reshape(6, 256))
    np.testing.assert_allclose(out.reshape(flat.shape), flat, rtol=1e-6)
    np.testing.assert_allclose(small(x[0, 0]), out[0, 0], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(jax.jit(small)(x), out, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(jax.vmap(small)(x[0]), out[0], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("transform", ["jit", "vmap", "grad"])
def test_first_use_inside_a_transformation(transform, small, rng):
    # the filter weights are built on first use; inside a trace they must still be concrete,
    # or the next plain call meets that trace's leaked tracers (the reference: the module's
    # object, same configuration, whose program for one row is already compiled)
    x = rng.standard_normal((2, 256)).astype(np.float32)
    sc = Scattering1D(4, 256, Q=(4, 2))
    if transform == "jit":
        inner = jax.jit(sc)(x)
    elif transform == "vmap":
        inner = jax.vmap(sc)(x)
    else:
        inner = jax.grad(lambda v: sc(v).sum())(x)
    out = sc(x)
    assert np.isfinite(np.asarray(inner)).all()
    np.testing.assert_allclose(out, small(x), rtol=1e-6, atol=1e-7)


def test_dict_output_by_order(small, rng):
    x = rng.standard_normal((6, 256)).astype(np.float32)  # the batch size compiled above
    arr = small(x)
    d = Scattering1D(4, 256, Q=(4, 2), out_type="dict")(x)
    sizes = small.output_size(detail=True)
    assert sorted(d) == [0, 1, 2]
    assert [d[k].shape[-2] for k in range(3)] == sizes
    np.testing.assert_allclose(jnp.concatenate([d[0], d[1], d[2]], axis=-2), arr)


def test_gradient_wrt_input_matches_finite_difference(small, rng):
    x = rng.standard_normal(256).astype(np.float32)
    v = rng.standard_normal(256).astype(np.float32)

    def loss(s):
        return jnp.sum(jnp.log1p(small(s)))

    value_and_grad = jax.jit(jax.value_and_grad(loss))  # one program for all four evaluations
    g = value_and_grad(x)[1]
    assert np.all(np.isfinite(g))
    eps = 1e-2
    fd = (value_and_grad(x + eps * v)[0] - value_and_grad(x - eps * v)[0]) / (2 * eps)
    np.testing.assert_allclose(np.vdot(g, v), fd, rtol=2e-2)
    silence = np.zeros(256, np.float32)
    assert np.all(np.isfinite(value_and_grad(silence)[1]))  # silence: no NaN from |0|


def test_learnable_parameters(rng):
    small = Scattering1D(3, 128, Q=(2, 1))
    x = rng.standard_normal((2, 128)).astype(np.float32)
    np.testing.assert_allclose(small.apply(small.params, x), small(x), rtol=1e-4, atol=1e-6)
    target = np.asarray(small(x)) * np.float32(1.1)

    def loss(params):
        return jnp.mean((small.apply(params, x) - target) ** 2)

    value_and_grad = jax.jit(jax.value_and_grad(loss))  # one program for both evaluations
    value, grads = value_and_grad(small.params)
    grads = {k: np.asarray(g) for k, g in grads.items()}
    assert all(np.abs(g).sum() > 0 for g in grads.values())
    norm = np.sqrt(sum(float(np.sum(g.astype(np.float64)**2)) for g in grads.values()))
    stepped = {k: np.asarray(small.params[k]) - np.float32(1e-4 / norm) * grads[k]
               for k in grads}
    assert not np.allclose(stepped["sigma1"], small.params["sigma1"])
    assert float(value_and_grad(stepped)[0]) < float(value)


def test_bandpass_weights_rebuild_the_designed_ones():
    sc = Scattering1D(5, 700, Q=(4, 2))
    params, _ = sc.as_function()
    designed = params["weights"]
    # compiled once for both calls (op by op: over a hundred small programs)
    bandpass_weights = jax.jit(sc.bandpass_weights)
    rebuilt = bandpass_weights(sc.params)
    assert sorted(rebuilt) == sorted(k for k in designed if k.startswith("psi"))
    for k, v in rebuilt.items():
        np.testing.assert_allclose(v, designed[k], rtol=1e-4, atol=1e-6 * float(
            np.abs(designed[k]).max()), err_msg=k)
    moved = bandpass_weights(dict(sc.params, xi1=np.asarray(sc.params["xi1"]) * np.float32(1.05)))
    assert not np.allclose(moved["psi1_0"], designed["psi1_0"])
    np.testing.assert_array_equal(moved["psi2_0_0"], rebuilt["psi2_0_0"])


def test_gabor_wavelet_differs_only_slightly(small, rng):
    x = rng.standard_normal(256).astype(np.float32)
    morlet = np.asarray(small(x))
    gabor = np.asarray(Scattering1D(4, 256, Q=(4, 2), wavelet="gabor")(x))
    assert gabor.shape == morlet.shape and not np.allclose(gabor, morlet)
    # the top first-order bands have a negligible DC correction: same coefficients there
    np.testing.assert_allclose(gabor[1:4], morlet[1:4], rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("kwargs, match", [
    ({"J": 9, "shape": 256}, r"J=9 is too large for a signal of length 256"),
    ({"J": 4, "shape": 256, "Q": 0}, r"Q must be a positive integer; got 0"),
    ({"J": 4, "shape": 256, "Q": (8, 0)}, r"Q must be a positive integer; got 0"),
    ({"J": 4, "shape": 256, "T": 300}, r"T must be a number in \[1, n=256\].*got 300"),
    ({"J": 4, "shape": 256, "T": 0}, r"T=0, no averaging, is not provided"),
    ({"J": 4, "shape": 256, "max_order": 3}, "max_order must be 1 or 2, got 3"),
    ({"J": 4, "shape": 256, "oversampling": -1}, "oversampling must be a non-negative integer"),
    ({"J": 4, "shape": 256, "wavelet": "paul"}, "wavelet must be one of"),
    ({"J": 4, "shape": 256, "out_type": "list"}, "out_type must be 'array' or 'dict'"),
    ({"J": 4, "shape": 256, "subsampling": "fast"},
     r"subsampling must be one of \('kymatio', 'coarse'\), got 'fast'"),
])
def test_construction_errors(kwargs, match):
    with pytest.raises(ScatterError, match=match):
        Scattering1D(**kwargs)


def test_input_errors(small):
    with pytest.raises(ScatterError, match=r"at least 1 axis.*got shape \(\)"):
        small(np.float32(0.0))
    with pytest.raises(ScatterError, match=r"length 256 on its last axis, got shape \(2, 100\)"):
        small(np.zeros((2, 100), np.float32))
    x = np.zeros((3, 256), np.float32)
    x[2, 17] = np.inf
    with pytest.raises(ScatterError, match=r"must be finite, got inf at index \(2, 17\)"):
        small(x)
    with pytest.raises(ScatterError, match="x must be real"):
        small(np.zeros(256, np.complex64))
    with pytest.raises(ScatterError, match=r"params is missing \['xi2'\]"):
        small.apply({k: v for k, v in small.params.items() if k != "xi2"}, np.zeros(256))


def test_pure_function_under_jit_vmap_grad(small, rng):
    x = rng.standard_normal((6, 256)).astype(np.float32)  # the batch size compiled above
    params, fn = small.as_function()
    ref = np.asarray(small(x))
    fn_jit = jax.jit(fn)
    np.testing.assert_allclose(fn_jit(params, x), ref, rtol=1e-5, atol=1e-7)
    each = jax.jit(jax.vmap(fn, in_axes=(None, 0)))(params, x.reshape(2, 3, 256))
    np.testing.assert_allclose(each.reshape(ref.shape), ref, rtol=1e-5, atol=1e-7)
    # fn reads the weights it is given, not the object's cached ones
    doubled = {"weights": dict(params["weights"], phi0=2 * params["weights"]["phi0"])}
    out = np.asarray(fn_jit(doubled, x))
    np.testing.assert_allclose(out[:, 0], 2 * ref[:, 0], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(out[:, 1:], ref[:, 1:], rtol=1e-5, atol=1e-7)

    # nested in a larger jitted program, with the weights as arguments (not constants)
    def loss(params, s):
        return jnp.sum(jnp.log1p(fn(params, s)))

    value_and_grad = jax.jit(jax.value_and_grad(loss, argnums=1))  # one program for all three
    v = rng.standard_normal((1, 256)).astype(np.float32)
    g = value_and_grad(params, x[:1])[1]
    assert g.shape == (1, 256) and np.all(np.isfinite(g))
    eps = 1e-2
    fd = (value_and_grad(params, x[:1] + eps * v)[0]
          - value_and_grad(params, x[:1] - eps * v)[0]) / (2 * eps)
    np.testing.assert_allclose(jnp.vdot(g, v), fd, rtol=2e-2)


def test_short_chunk_changes_the_loop_not_the_values(rng):
    """``short_chunk`` (FFT bins per loop iteration of the short transforms) only regroups the
    rows: one iteration, the default chunks and many small chunks agree to rounding, for
    fixed and learnable filters."""
    from scatter.scattering._core import _chunk_rows

    sc = Scattering1D(5, 1024, Q=(2, 1))
    x = rng.standard_normal((6, 1024)).astype(np.float32)
    # here the default takes all rows in one iteration (at most 48 rows of at most 2048 bins,
    # far below its 2**18 bins), the loop of a huge short_chunk: one compile checks both
    assert _chunk_rows(48, 2048) == 48
    for learnable in (False, True):
        params, fn = sc.as_function(learnable=learnable)
        ref = np.asarray(jax.jit(fn)(params, x))
        got = np.asarray(jax.jit(partial(fn, short_chunk=1))(params, x))  # one row per iteration
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-7)
    assert _chunk_rows(120, 4096, 2**12) == 1 and _chunk_rows(120, 4096, 2**22) == 120
    assert _chunk_rows(120, 4096) == 60  # the default: 2**18 bins, a divisor of the rows


def test_pure_function_learnable_filters(rng):
    sc = Scattering1D(3, 128, Q=(2, 1))
    x = rng.standard_normal((2, 128)).astype(np.float32)
    params, fn = sc.as_function(learnable=True)
    assert set(params) == {"weights", "filters"} and set(params["filters"]) == set(sc.params)
    np.testing.assert_allclose(jax.jit(fn)(params, x), sc(x), rtol=1e-4, atol=1e-6)
    target = np.asarray(sc(x)) * np.float32(1.1)

    def loss(filters):
        return jnp.mean((fn(dict(params, filters=filters), x) - target) ** 2)

    value_and_grad = jax.jit(jax.value_and_grad(loss))  # one program for all three evaluations
    grads = {k: np.asarray(g) for k, g in value_and_grad(params["filters"])[1].items()}
    direction = {k: (rng.standard_normal(g.shape) * 1e-4).astype(np.float32)
                 for k, g in grads.items()}
    for key in sc.params:
        assert np.abs(grads[key]).sum() > 0
    slope = sum(float(np.vdot(grads[k], direction[k])) for k in grads)
    shifted = [{k: np.asarray(params["filters"][k]) + sign * direction[k] for k in grads}
               for sign in (1, -1)]
    fd = (float(value_and_grad(shifted[0])[0]) - float(value_and_grad(shifted[1])[0])) / 2
    np.testing.assert_allclose(slope, fd, rtol=5e-2)


def test_pure_function_errors(small):
    params, fn = small.as_function()
    with pytest.raises(ScatterError,
                       match=r"x must have shape \(\.\.\., 256\).*got shape \(3, 100\)"):
        fn(params, np.zeros((3, 100), np.float32))
    with pytest.raises(ScatterError, match="x must be real, got a complex array"):
        fn(params, np.zeros(256, np.complex64))
    with pytest.raises(ScatterError, match=r"params must have the key 'weights'.*got keys \[\]"):
        fn({}, np.zeros(256, np.float32))
    _, fn_learn = small.as_function(learnable=True)
    with pytest.raises(ScatterError, match=r"params must have the key 'filters'"):
        fn_learn(params, np.zeros(256, np.float32))


def test_workers_split_the_batch_without_changing_results(rng):
    x = rng.standard_normal((3, 128)).astype(np.float32)  # 2 workers: rows 2 + (1 + padding)
    one = Scattering1D(3, 128, Q=(2, 1), workers=1)
    two = Scattering1D(3, 128, Q=(2, 1), workers=2)
    assert one.n_workers(3) == 1 and two.n_workers(3) == 2 and two.n_workers(1) == 1
    ref = np.asarray(one(x))
    np.testing.assert_allclose(two(x), ref, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(two.apply(two.params, x), ref, rtol=1e-4, atol=1e-6)
    # traced filter parameters: one call on this thread (traces do not cross threads)
    grads = jax.grad(lambda p: jnp.sum(two.apply(p, x)))(two.params)
    assert all(np.all(np.isfinite(g)) for g in grads.values())
    assert Scattering1D(3, 128, Q=(2, 1)).n_workers(1000) >= 1  # default: the usable cores
    with pytest.raises(ScatterError, match="workers must be a positive integer; got 0"):
        Scattering1D(3, 128, workers=0)


def test_time_domain_lowpass_equals_frequency_route(rng):
    from scatter.scattering._core import lowpass, lowpass_time
    from scatter.scattering._plan import KERNEL_MIN_STRIDE

    sc = Scattering1D(8, 3000, Q=(4, 1), workers=1)
    plan = sc.plan
    checked = 0
    for level in plan.levels:
        stage = level.phi
        stride = stage.fold.l_in // stage.fold.l_out
        if stage.kernel is None:
            assert stride < KERNEL_MIN_STRIDE  # thin products: the frequency route is cheaper
            continue
        u = rng.random((3, stage.fold.l_in)).astype(np.float32)  # a modulus: non-negative
        weight = stage.matrix if stage.matrix is not None else stage.fold.weight
        freq = lowpass(jnp.fft.rfft(u), stage, jnp.asarray(weight), plan.geometry)
        time_ = lowpass_time(jnp.asarray(u), stage, jnp.asarray(stage.kernel))
        assert time_.shape == freq.shape
        np.testing.assert_allclose(time_, freq, rtol=1e-5, atol=1e-6 * float(jnp.abs(freq).max()))
        checked += 1
    assert checked >= 2


@pytest.mark.parametrize("i", range(5))
def test_coarse_subsampling_stays_close_to_kymatio(i):
    data, configs = _stored()
    cfg = dict(configs[i])
    cfg["Q"] = tuple(cfg["Q"])
    default, coarse = Scattering1D(**cfg), Scattering1D(**cfg, subsampling="coarse")
    out = np.asarray(coarse(data[f"x{i}"]))
    ref = data[f"S{i}"]
    assert out.shape == ref.shape and coarse.meta()["key"] == default.meta()["key"]
    per_path = np.linalg.norm(out - ref, axis=-1) / np.linalg.norm(ref, axis=-1)
    # the envelope's spectral tails alias: small differences, largest on weak paths
    assert np.linalg.norm(out - ref) / np.linalg.norm(ref) <= 1e-2
    assert np.percentile(per_path, 95) <= 2e-2 and per_path.max() <= 0.2
    # every modulus is taken one level coarser than kymatio's (capped at the output level)
    out_level = max(int(np.log2(cfg["T"] or 2 ** cfg["J"])) - cfg["oversampling"], 0)
    def first_levels(sc):
        return {n: g.psi.level for g in sc.plan.groups for n in g.psi.filters}

    fine, rough = first_levels(default), first_levels(coarse)
    assert rough == {n: min(k + 1, out_level) for n, k in fine.items()}
    levels = [b.psi.level for lv in coarse._plan.levels for b in lv.blocks]
    assert levels == sorted(levels) and max(levels, default=0) <= out_level
    assert coarse._plan.groups[0].psi.fold.l_out < default._plan.groups[0].psi.fold.l_out


def test_coarse_subsampling_learnable_filters(rng):
    sc = Scattering1D(4, 256, Q=(4, 2), subsampling="coarse")
    assert repr(sc).endswith("subsampling='coarse')")
    assert "subsampling" not in repr(Scattering1D(4, 256, Q=(4, 2)))
    x = rng.standard_normal((2, 256)).astype(np.float32)
    # compiled: op by op, the learnable pipeline and its gradient take seconds to dispatch;
    # one program gives both the output and the gradient
    def total(p):
        out = sc.apply(p, x)
        return jnp.sum(out), out

    grads, out = jax.jit(jax.grad(total, has_aux=True))(sc.params)
    np.testing.assert_allclose(out, sc(x), rtol=1e-4, atol=1e-6)
    assert all(np.abs(np.asarray(g)).sum() > 0 for g in grads.values())
