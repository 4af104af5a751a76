import numpy as np
import pytest

import symbolic as S


def test_clone_replaces_and_shares_the_rest():
    x = S.placeholder((None,), name="x")
    w = S.Variable(np.ones(3, "float32"), name="w")
    h = x * 2.0
    y = (h + w).sum()
    z = S.clone(y, replace={x: x + 1.0})
    assert z is not y
    v = np.zeros(3, "float32")
    assert float(S.function([x], z)(v)) == pytest.approx(9.0)
    assert float(S.function([x], y)(v)) == pytest.approx(3.0)
    # untouched branch is shared, variables are shared
    other = (w * 3.0).sum()
    c1, c2 = S.clone([other, y], replace={x: x * 0.0})
    assert c1 is other
    assert w in S.ancestors(c2)


def test_clone_through_multi_output_and_grad():
    x = S.placeholder((3,), name="x")
    u, s, vt = S.linalg.svd(S.outer(x, x) + S.eye(3))
    g = S.grad((x**3).sum(), x)
    y = S.placeholder((3,), name="y")
    s2, g2 = S.clone([s, g], replace={x: y * 2.0})
    sv, gv = S.function([y], [s2, g2])(np.ones(3, "float32"))
    np.testing.assert_allclose(np.sort(sv), [1, 1, 13], rtol=1e-5)
    np.testing.assert_allclose(gv, 3 * 4 * np.ones(3), rtol=1e-6)


def test_clone_errors():
    x = S.placeholder((3,), name="x")
    with pytest.raises(S.SymbolicError, match=r"replacement for 'x' has shape \(4,\)"):
        S.clone(x * 2, replace={x: S.placeholder((4,))})
    with pytest.raises(S.SymbolicError, match="replacement for 'x' has dtype int32"):
        S.clone(x * 2, replace={x: S.placeholder((3,), "int32")})


def test_debugprint_and_dot():
    x = S.placeholder((None, 2), name="x")
    w = S.Variable(np.ones(2, "float32"), name="w")
    h = x @ w
    y = (h * h).sum()
    text = S.debugprint(y)
    lines = text.splitlines()
    assert lines[0].startswith("#0 sum 'sum' () float32")
    assert any("Placeholder 'x' (None, 2) float32" in line for line in lines)
    assert any(
        line.strip(" |").startswith("*") for line in lines
    )  # h printed once, then referenced
    dot = S.to_dot(y)
    assert dot.startswith('digraph "symbolic"')
    assert dot.count("->") == sum(len(n.inputs) for n in S.ancestors(y))
