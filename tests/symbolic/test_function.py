import importlib
import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

import symbolic as S


def test_updates_are_simultaneous_and_outputs_see_old_values():
    a = S.Variable(1.0, name="a")
    b = S.Variable(2.0, name="b")
    swap = S.function([], [a, b], updates={a: b, b: a})
    out_a, out_b = swap()
    assert (float(out_a), float(out_b)) == (1.0, 2.0)
    assert (float(a.value), float(b.value)) == (2.0, 1.0)
    swap()
    assert (float(a.value), float(b.value)) == (1.0, 2.0)


def test_matches_pytensor_semantics():
    pytensor = pytest.importorskip("pytensor")
    import pytensor.tensor as pt

    steps = [np.float32(v) for v in (0.5, -1.0, 2.0)]
    # symbolic
    x = S.placeholder(())
    a, b = S.Variable(1.0), S.Variable(3.0)
    f = S.function([x], a * b + x, updates=[(a, a + b * x), (b, a - x)])
    ours = [float(f(v)) for v in steps] + [float(a.value), float(b.value)]
    # PyTensor, the same graph
    px = pt.scalar("x", dtype="float32")
    pa = pytensor.shared(np.float32(1.0))
    pb = pytensor.shared(np.float32(3.0))
    g = pytensor.function([px], pa * pb + px, updates=[(pa, pa + pb * px), (pb, pa - px)])
    theirs = [float(g(v)) for v in steps] + [float(pa.get_value()), float(pb.get_value())]
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_output_structures():
    x = S.placeholder(())
    assert isinstance(S.function([x], [x * 2])(1.0), list)
    out = S.function([x], {"double": x * 2, "square": x * x})(3.0)
    assert set(out) == {"double", "square"} and float(out["square"]) == 9.0
    assert S.function([x], None, updates={S.Variable(0.0): x})(1.0) is None


def test_givens_replace_before_compiling():
    x = S.placeholder((None,), name="x")
    data = S.Variable(np.arange(4, dtype="float32"), name="data")
    f = S.function([], (x * 2).sum(), givens={x: data})
    assert float(f()) == 12.0
    y = S.placeholder((None,), name="y")
    g = S.function([y], x.sum(), givens={x: y + 1.0})
    assert float(g(np.zeros(3, "float32"))) == 3.0


def test_compiled_once_per_shape_signature():
    x = S.placeholder((None, 3))
    w = S.Variable(np.ones(3, "float32"))
    f = S.function([x], x @ w, updates={w: w * 1.0})
    f(np.ones((2, 3), "float32"))
    f(np.ones((2, 3), "float32"))
    assert f.n_compilations == 1
    f(np.ones((5, 3), "float32"))
    assert f.n_compilations == 2


def test_state_buffers_are_donated():
    w = S.Variable(np.ones(1000, "float32"))
    f = S.function([], None, updates={w: w + 1.0})
    before = w.jax_value
    f()
    assert before.is_deleted()
    np.testing.assert_allclose(w.value, 2.0)


def test_outputs_do_not_alias_state():
    w = S.Variable(np.ones(3, "float32"))
    read = S.function([], w)
    bump = S.function([], None, updates={w: w + 1.0})
    out = read()
    bump()
    np.testing.assert_allclose(np.asarray(out), 1.0)  # still readable after w's buffer was donated


def test_scan_runs_steps_in_one_call(rng):
    xs = rng.normal(size=(20, 8, 3)).astype("float32")
    x = S.placeholder((None, 3))
    w = S.Variable(np.zeros(3, "float32"))
    loss = ((x @ w - 1.0) ** 2).mean()
    step = S.function([x], loss, updates={w: w - 0.1 * S.grad(loss, w)})
    w_init = w.value
    losses_scan = step.scan(xs)
    assert step._block_jit is None  # no convolution: one lax.scan call on every backend
    w_scan = w.value
    assert losses_scan.shape == (20,)
    w.value = w_init
    losses_loop = [float(step(b)) for b in xs]
    np.testing.assert_allclose(losses_scan, losses_loop, rtol=1e-5)
    np.testing.assert_allclose(w.value, w_scan, rtol=1e-5)
    counter = S.Variable(0, name="counter")
    tick = S.function([], counter, updates={counter: counter + 1})
    np.testing.assert_array_equal(tick.scan(n_steps=4), [0, 1, 2, 3])


F = importlib.import_module("symbolic.function")  # the attribute is the function


def _conv_step(seed=0):
    x = S.placeholder((None, 1, 6, 6), name="x")
    y = S.placeholder((None,), "int32", name="y")
    k = S.Variable(np.random.default_rng(seed).normal(size=(3, 1, 3, 3)).astype("float32"),
                   name="k")
    w = S.Variable(np.zeros((108, 2), "float32"), name="w")
    noise = S.random.normal((), seed=seed)  # a random key is state too
    h = S.nn.relu(S.conv(x, k, padding="same")).reshape((-1, 108))
    logits = h @ w
    loss = -S.take_along_axis(S.nn.log_softmax(logits, axis=1), y[:, None], axis=1).mean()
    gk, gw = S.grad(loss, [k, w])
    step = S.function([x, y], [loss, noise], updates={k: k - 0.1 * gk, w: w - 0.1 * gw})
    return step, (k, w)


@pytest.mark.parametrize("unroll", [None, 1, 3, True])
def test_scan_unroll_gives_the_results_of_step_by_step_calls(rng, monkeypatch, unroll):
    # None on CPU: blocks of budget // n steps written out (7 steps: blocks 3, 3, 1 here);
    # an int or True: lax.scan's unroll. Every choice must give the one-call-per-step results.
    xs = rng.normal(size=(7, 4, 1, 6, 6)).astype("float32")
    ys = rng.integers(0, 2, size=(7, 4)).astype("int32")
    with S.Graph(seed=0):
        step, params = _conv_step()
        one_by_one = [step(x, y) for x, y in zip(xs, ys)]
        after = [p.value for p in params]
    with S.Graph(seed=0):
        step, params = _conv_step()
        size, n_conv = F._count_equations(jax.make_jaxpr(step._program.pure)(
            *[tuple(v) for v in step.state()], (xs[0], ys[0])).jaxpr, ("conv_general_dilated",))
        assert n_conv >= 2  # the forward convolution and its gradient
        monkeypatch.setattr(F, "SCAN_UNROLL_BUDGET", 3 * size + 1)
        traces = step.n_compilations
        losses, draws = step.scan(xs, ys, unroll=unroll)
        assert step.n_compilations == traces + 1  # one trace, whatever the number of blocks
        assert losses.shape == draws.shape == (7,)
        np.testing.assert_allclose(losses, [float(o[0]) for o in one_by_one], rtol=1e-5)
        np.testing.assert_array_equal(draws, [float(o[1]) for o in one_by_one])
        for p, ref in zip(params, after):
            np.testing.assert_allclose(p.value, ref, rtol=1e-5, atol=1e-6)
        traces = step.n_compilations
        if unroll is None:  # on CPU three compiled calls: blocks of 3, 3 and 1 steps
            calls = []
            inner = step._block_jit
            step._block_jit = lambda *a: calls.append(a[3]) or inner(*a)
            step.scan(xs, ys)
            assert calls == ([3, 3, 1] if jax.default_backend() == "cpu" else [])
        else:
            step.scan(xs, ys, unroll=unroll)
        assert step.n_compilations == traces


def test_scan_unroll_errors():
    x = S.placeholder((None,), name="x")
    f = S.function([x], x.sum())
    for bad in (0, -2, 1.5, "full"):
        with pytest.raises(S.SymbolicError, match=r"unroll must be None, a bool or a positive "
                                                  rf"int; got {bad!r}"):
            f.scan(np.ones((2, 3), "float32"), unroll=bad)


def test_input_errors():
    x = S.placeholder((None, 3), name="x")
    f = S.function([x], x.sum())
    with pytest.raises(
        S.SymbolicError, match=r"input 'x': got shape \(2, 4\), expected \(None, 3\)"
    ):
        f(np.ones((2, 4), "float32"))
    with pytest.raises(S.SymbolicError, match="input 'x': got dtype float64, expected float32"):
        f(np.ones((2, 3)))
    assert float(S.function([x], x.sum(), allow_input_downcast=True)(np.ones((2, 3)))) == 6.0
    assert float(f(np.ones((2, 3), "int8"))) == 6.0  # safe casts are accepted
    assert float(f([[1, 2, 3]])) == 6.0  # lists are converted
    with pytest.raises(S.SymbolicError, match=r"expected 1 inputs \['x'\], got 2"):
        f(np.ones((2, 3), "float32"), 1)
    assert float(f(x=np.ones((1, 3), "float32"))) == 3.0
    with pytest.raises(S.SymbolicError, match="unknown input name 'y'"):
        f(y=1)


def test_build_errors():
    x = S.placeholder((None, 3), name="x")
    y = S.placeholder((None, 3), name="y")
    w = S.Variable(np.ones(3, "float32"), name="w")
    with pytest.raises(S.SymbolicError, match="depend on placeholder 'y'"):
        S.function([x], (x + y).sum())
    with pytest.raises(S.SymbolicError, match=r"update of 'w' has shape \(3, 3\)"):
        S.function([], None, updates={w: S.ones((3, 3))})
    with pytest.raises(S.SymbolicError, match="inputs\\[0\\] must be a placeholder"):
        S.function([w], w)
    with pytest.raises(S.SymbolicError, match="keys must be Variables"):
        S.function([x], None, updates={x: x})
    with pytest.raises(S.SymbolicError, match="update of 'w' has dtype bool"):
        S.function([], None, updates={w: w > 0})


def test_update_shape_checked_at_run_time_for_unknown_sizes():
    x = S.placeholder((None,), name="x")
    w = S.Variable(np.zeros(3, "float32"), name="w")
    f = S.function([x], None, updates={w: x})
    f(np.ones(3, "float32"))
    with pytest.raises(S.SymbolicError, match="update of 'w' has shape"):
        f(np.ones(4, "float32"))


def test_export_roundtrip(rng):
    x = S.placeholder((4, 3))
    w = S.Variable(rng.normal(size=3).astype("float32"))
    f = S.function([x], S.tanh(x @ w), updates={w: w * 0.5})
    xv = rng.normal(size=(4, 3)).astype("float32")
    exported = f.export(xv)
    mutable, constant = f.state()
    out, new = exported.call(mutable, constant, (xv,))
    expected = np.tanh(xv @ w.value)
    np.testing.assert_allclose(out[0], expected, rtol=1e-6)
    np.testing.assert_allclose(new[0], w.value * 0.5, rtol=1e-6)
    assert exported.serialize()  # StableHLO bytes


def test_data_parallel_over_forced_host_devices(tmp_path):
    script = textwrap.dedent(
        """
        import numpy as np, jax, symbolic as S
        assert len(jax.devices()) == 4
        x = S.placeholder((None, 3)); y = S.placeholder((None,))
        w = S.Variable(np.zeros(3, "float32"))
        loss = ((x @ w - y) ** 2).mean()
        upd = {w: w - 0.1 * S.grad(loss, w)}
        par = S.function([x, y], loss, updates=upd, devices="all")
        rng = np.random.default_rng(0)
        xs = rng.normal(size=(8, 3)).astype("float32"); ys = xs @ np.array([1., -2., .5], "float32")
        losses_par = [float(par(xs, ys)) for _ in range(5)]
        w_par = w.value
        w.reset()
        ser = S.function([x, y], loss, updates=upd)
        losses_ser = [float(ser(xs, ys)) for _ in range(5)]
        np.testing.assert_allclose(losses_par, losses_ser, rtol=1e-5)
        np.testing.assert_allclose(w_par, w.value, rtol=1e-5)
        w.reset()
        stacked = par.scan(np.stack([xs] * 5), np.stack([ys] * 5))
        np.testing.assert_allclose(stacked, losses_ser, rtol=1e-5)
        try:
            par(xs[:6], ys[:6])
        except S.SymbolicError as e:
            assert "not divisible by the 4 devices" in str(e)
        else:
            raise SystemExit("expected an error")
        print("ok", w.jax_value.sharding)
        """
    )
    env = dict(
        os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    res = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.startswith("ok")


def test_devices_argument_errors():
    x = S.placeholder((None,))
    with pytest.raises(S.SymbolicError, match="devices=5 but 1 local device"):
        S.function([x], x, devices=5)
    assert len(jax.local_devices()) == 1
