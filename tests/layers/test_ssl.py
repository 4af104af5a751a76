import jax
import jax.numpy as jnp
import numpy as np
import pytest

import layers as L
import symbolic as S
from layers import ssl


def _mlp(n_in=6, hidden=5, n_out=3):
    d1 = L.Dense((None, n_in), hidden)
    a = L.MaxAffine(d1, init="relu", learnable=False)
    d2 = L.Dense(a, n_out)
    return L.Sequential([d1, a, d2]), d1, d2


def test_reconstruction_is_templates_times_prediction(rng):
    net, d1, d2 = _mlp()
    x = S.placeholder((None, 6))
    logits, inputs, probes = ssl.probed_forward(net, x, scales=[0, 2])
    recs = ssl.reconstructions(logits, probes)
    value = rng.normal(size=(4, 6)).astype("float32")
    r0, r2, z = S.function([x], [recs[0], recs[1], logits])(value)
    W1, b1, W2 = d1.W.value, d1.b.value, d2.W.value
    for n in range(4):
        mask = (value[n] @ W1 + b1 > 0).astype("float32")
        A = (W1 * mask) @ W2  # the region's affine map: z = x A + c, templates = columns
        p = np.exp(z[n] - z[n].max())
        p /= p.sum()
        np.testing.assert_allclose(np.asarray(r0)[n], A @ p, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(np.asarray(r2)[n], W2 @ p, rtol=1e-4, atol=1e-5)
    # argmax target: the template of the predicted class
    rec_arg = ssl.reconstructions(logits, probes[:1], target="argmax")[0]
    ra = np.asarray(S.function([x], rec_arg)(value))
    mask = (value[0] @ W1 + b1 > 0).astype("float32")
    np.testing.assert_allclose(ra[0], ((W1 * mask) @ W2)[:, np.argmax(z[0])], rtol=1e-4,
                               atol=1e-5)


def test_reconstruction_error_and_consistency(rng):
    h = rng.normal(size=(3, 4)).astype("float32")
    r = rng.normal(size=(3, 4)).astype("float32")
    ref = (((h - r) ** 2).sum(1) / (h ** 2).sum(1)).mean()
    np.testing.assert_allclose(float(ssl.reconstruction_error(h, r)), ref, rtol=1e-5)
    np.testing.assert_allclose(float(ssl.reconstruction_error(h, r, normalize=False)),
                               ((h - r) ** 2).mean(), rtol=1e-5)
    weak = np.array([[5.0, 0.0], [0.1, 0.0]], "float32")
    strong = rng.normal(size=(2, 2)).astype("float32")
    # only the first example is confident: its pseudo-label is class 0
    s64 = strong.astype(np.float64)  # references in float64 NumPy
    logp = s64 - np.log(np.exp(s64).sum(-1, keepdims=True))
    np.testing.assert_allclose(float(ssl.consistency(strong, weak, threshold=0.9)),
                               -logp[0, 0] / 2, rtol=1e-5)
    pw, ps = (np.exp(v) / np.exp(v).sum(-1, keepdims=True)
              for v in (weak.astype(np.float64), s64))
    np.testing.assert_allclose(float(ssl.consistency(strong, weak, kind="mse")),
                               ((ps - pw) ** 2).sum(1).mean(), rtol=1e-5)


def test_ssl_loss_terms_and_gradients(rng):
    net, d1, d2 = _mlp()
    xl = S.placeholder((4, 6))
    yl = S.placeholder((4,), "int32")
    xu = S.placeholder((6, 6))
    strong = xu + 0.1
    total, terms = ssl.ssl_loss(net, xl, yl, xu, strong_view=strong)
    assert {"cross_entropy", "entropy", "reconstruction", "consistency"} <= set(terms)
    assert len(terms["reconstruction_per_scale"]) == 2  # inputs of the two dense layers
    assert ssl._scales(net, "all") == [0, 2]
    vals = S.function([xl, yl, xu], [total, terms["cross_entropy"], terms["entropy"],
                                      terms["reconstruction"], terms["consistency"]])(
        rng.normal(size=(4, 6)).astype("float32"), np.arange(4, dtype="int32") % 3,
        rng.normal(size=(6, 6)).astype("float32"))
    vals = [float(v) for v in vals]
    np.testing.assert_allclose(vals[0], sum(vals[1:]), rtol=1e-5)
    # the reconstruction term has gradients for every weight (it goes through the templates)
    grads = S.grad(terms["reconstruction"], [d1.W, d2.W])
    g = S.function([xl, yl, xu], grads)(
        rng.normal(size=(4, 6)).astype("float32"), np.zeros(4, "int32"),
        rng.normal(size=(6, 6)).astype("float32"))
    assert all(np.abs(np.asarray(v)).sum() > 0 for v in g)
    # reconstructing the first 4 unlabelled examples only: the same value as the
    # reconstruction term computed by hand on them (examples are independent without BN)
    _, sub_terms = ssl.ssl_loss(net, xl, yl, xu, reconstruction_size=4,
                                weights={"entropy": 0})
    logits, inputs, probes = ssl.probed_forward(net, xu[:4], scales=[0, 2])
    recs = ssl.reconstructions(logits, probes)
    by_hand = (ssl.reconstruction_error(inputs[0], recs[0])
               + ssl.reconstruction_error(inputs[1], recs[1])) / 2
    uv = rng.normal(size=(6, 6)).astype("float32")
    a, b = S.function([xl, yl, xu], [sub_terms["reconstruction"], by_hand])(
        rng.normal(size=(4, 6)).astype("float32"), np.zeros(4, "int32"), uv)
    np.testing.assert_allclose(float(a), float(b), rtol=1e-5)
    with pytest.raises(L.LayersError, match="reconstruction_size must be a positive int; got 0"):
        ssl.ssl_loss(net, xl, yl, xu, reconstruction_size=0)
    # zero weights remove the terms
    total_ce, terms_ce = ssl.ssl_loss(net, xl, yl, xu, weights={"entropy": 0,
                                                                "reconstruction": 0})
    assert set(terms_ce) == {"logits_labelled", "logits_unlabelled", "cross_entropy"}


def test_each_unsupervised_term_is_what_training_lowers(rng):
    # trained with a term, the network ends with a lower value of that term on the unlabelled
    # data than the same network trained on labels only
    from sklearn.datasets import make_moons

    x, y = make_moons(300, noise=0.08, random_state=0)
    x, y = x.astype("float32"), y.astype("int32")
    lab = np.concatenate([np.flatnonzero(y == 0)[:3], np.flatnonzero(y == 1)[:3]])
    unl = np.setdiff1d(np.arange(300), lab)
    final = {}
    for name, w in (("supervised", {"entropy": 0, "reconstruction": 0}),
                    ("entropy", {"entropy": 1, "reconstruction": 0}),
                    ("reconstruction", {"entropy": 0, "reconstruction": 1})):
        with S.Graph(seed=0):
            d1 = L.Dense((None, 2), 32, seed=1)
            a1 = L.MaxAffine(d1, init="relu", learnable=False)
            net = L.Sequential([d1, a1, L.Dense(a1, 2, seed=3)])
            xl = S.placeholder((6, 2))
            yl = S.placeholder((6,), "int32")
            xu = S.placeholder((len(unl), 2))
            total, _ = ssl.ssl_loss(net, xl, yl, xu, weights=w)
            step = S.function([xl, yl, xu], total, updates=L.adam(
                total, net.get_params(trainable=True), learning_rate=1e-2))
            k = 200
            step.scan(np.repeat(x[lab][None], k, 0), np.repeat(y[lab][None], k, 0),
                      np.repeat(x[unl][None], k, 0))
            _, terms = ssl.ssl_loss(net, xl, yl, xu, deterministic=True)
            measure = S.function([xl, yl, xu], [terms["entropy"], terms["reconstruction"]])
            final[name] = [float(v) for v in measure(x[lab], y[lab], x[unl])]
    assert final["entropy"][0] < final["supervised"][0]
    assert final["reconstruction"][1] < final["supervised"][1]


def test_tensor_weights_and_batchnorm_follows_main_batch(rng):
    d1 = L.Dense((None, 3), 4)
    bn = L.BatchNorm(d1, momentum=1.0)  # running statistics = last batch's
    net = L.Sequential([d1, bn, L.Dense(bn, 2)])
    xl = S.placeholder((2, 3))
    yl = S.placeholder((2,), "int32")
    xu = S.placeholder((4, 3))
    half = S.Variable(np.float32(0.5), trainable=False)
    total, terms = ssl.ssl_loss(net, xl, yl, xu, strong_view=xu + 100.0,
                                weights={"entropy": half, "consistency": half})
    f = S.function([xl, yl, xu], [total, terms["cross_entropy"], terms["entropy"],
                                  terms["reconstruction"], terms["consistency"]],
                   updates=L.get_updates(net))
    xv, uv = rng.normal(size=(2, 3)).astype("float32"), rng.normal(size=(4, 3)).astype("float32")
    out = [float(v) for v in f(xv, np.array([0, 1], "int32"), uv)]
    np.testing.assert_allclose(out[0], out[1] + 0.5 * out[2] + out[3] + 0.5 * out[4], rtol=1e-5)
    joint = np.concatenate([xv, uv]) @ d1.W.value + d1.b.value
    np.testing.assert_allclose(bn.mean.value, joint.mean(0), rtol=1e-4, atol=1e-5)


def test_joint_batch_normalises_all_views_together(rng):
    # joint_batch: labelled, unlabelled and strong views in one forward pass, so batch norm
    # sees all of them (FixMatch); the consistency term compares rows of that one pass
    d1 = L.Dense((None, 3), 4)
    bn = L.BatchNorm(d1, momentum=1.0)
    net = L.Sequential([d1, bn, L.Dense(bn, 2)])
    xl = S.placeholder((2, 3))
    yl = S.placeholder((2,), "int32")
    xu = S.placeholder((4, 3))
    strong = xu * 3.0 + 1.0
    total, terms = ssl.ssl_loss(net, xl, yl, xu, strong_view=strong, joint_batch=True,
                                threshold=0.0, weights={"reconstruction": 0})
    bn_updates = L.get_updates(net)  # those of ssl_loss's pass, before the reference pass
    logits_all = net(S.concatenate([xl, xu, strong], axis=0))
    f = S.function([xl, yl, xu], [terms["consistency"], logits_all], updates=bn_updates)
    xv, uv = rng.normal(size=(2, 3)).astype("float32"), rng.normal(size=(4, 3)).astype("float32")
    cons, z = f(xv, np.array([0, 1], "int32"), uv)
    joint = np.concatenate([xv, uv, uv * 3 + 1]) @ d1.W.value + d1.b.value
    np.testing.assert_allclose(bn.mean.value, joint.mean(0), rtol=1e-4, atol=1e-5)
    z = np.asarray(z)
    weak, strong_z = z[2:6], z[6:]
    logp = strong_z - np.log(np.exp(strong_z).sum(1, keepdims=True))
    expected = -logp[np.arange(4), weak.argmax(1)].mean()  # threshold 0: every example
    np.testing.assert_allclose(float(cons), expected, rtol=1e-4)
    with pytest.raises(L.LayersError, match="labelled batch size .* must be known"):
        ssl.ssl_loss(net, xl, yl, S.placeholder((None, 3)), strong_view=strong,
                     joint_batch=True)


def test_ssl_errors():
    net, _, _ = _mlp()
    x = S.placeholder((2, 6))
    y = S.placeholder((2,), "int32")
    with pytest.raises(L.LayersError, match="ssl_loss: net must be a layers.Sequential"):
        ssl.ssl_loss(net[0], x, y, x)
    with pytest.raises(L.LayersError, match="unknown weight 'recon'"):
        ssl.ssl_loss(net, x, y, x, weights={"recon": 1})
    with pytest.raises(L.LayersError, match="a consistency weight needs strong_view"):
        ssl.ssl_loss(net, x, y, x, weights={"consistency": 1})
    with pytest.raises(L.LayersError, match="target must be 'softmax' or 'argmax'; got 'max'"):
        ssl.reconstructions(S.placeholder((2, 3)), [x], target="max")
    with pytest.raises(L.LayersError, match="consistency: threshold must lie in"):
        ssl.consistency(jnp.zeros((1, 2)), jnp.zeros((1, 2)), threshold=2)


def test_maso_derivatives_are_those_of_the_active_piece(rng):
    # the SSL networks' ReLU is a MaxAffine: its derivatives (first order for the training
    # step, second order for the reconstruction term's gradient) must be those of the max
    # over pieces, ties going to the first maximal piece (jax.nn.relu's convention at 0)
    from layers.spline import maso, pieces

    x = np.array([-2.0, 0.0, 3.0], "float32")
    a, b = pieces("relu")
    # (each derivative compiled once, rather than op by op)
    np.testing.assert_array_equal(jax.jit(jax.grad(lambda v: maso(v, a, b).sum()))(x),
                                  jax.jit(jax.grad(lambda v: jax.nn.relu(v).sum()))(x))
    xs = rng.normal(size=(4, 3, 5)).astype("float32")
    slopes, offsets = rng.normal(size=(2, 3, 4)).astype("float32")

    def ref(v, s, o):  # the (..., R) form, differentiated by JAX
        return jnp.max(v[..., None] * s[None, :, None] + o[None, :, None], -1)

    def loss(fn):
        return lambda v, s, o: jnp.sum(fn(v, s, o) ** 2)

    ours = loss(lambda v, s, o: maso(v, s, o, axis=1))
    # the gradients with respect to all three arguments from one program each
    got = jax.jit(jax.grad(ours, (0, 1, 2)))(xs, slopes, offsets)
    want = jax.jit(jax.grad(loss(ref), (0, 1, 2)))(xs, slopes, offsets)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(jax.jit(jax.hessian(ours, 1))(xs, slopes, offsets),
                               jax.jit(jax.hessian(loss(ref), 1))(xs, slopes, offsets),
                               rtol=1e-5, atol=1e-5)
