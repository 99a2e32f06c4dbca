"""R12: derivatives and the computational graph, against hand derivations and central finite differences."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nn_tutor.engine.calculus import parse_expression
from nn_tutor.engine.errors import NNTError
from nn_tutor.engine.kinds import walk
from nn_tutor.engine.spec import load_spec
from reference import EX

EXAMPLES = EX


def graph(inputs, nodes, **extra):
    return walk({"kind": "calculus", "graph": {"inputs": inputs, "nodes": nodes, **extra}})


# ---------------------------------------------------------------------------------------------
# the warm-ups


def test_r12_warmups_by_hand():
    # Power rule: d/dx x² = 2x -> 6 at x = 3 and 0 at x = 0; x² itself is 9 and 0.
    # Chain rule: d/dx (x + 2)² = 2(x + 2)·1 -> 2·3 = 6 at x = 1; the value is 3² = 9.
    # f(w, b) = 2w + b: ∂f/∂w = 2, ∂f/∂b = 1 everywhere; at w = 1, b = 1 the value is 3.
    trace = walk(load_spec(EXAMPLES / "r12_calculus_warmups.yaml"))
    assert float(trace.display("y@x=3")) == 9
    assert float(trace.display("dy/dx@x=3")) == 6
    assert float(trace.display("dy/dx@x=0")) == 0
    assert float(trace.display("g@x=1")) == 9
    assert float(trace.display("dg/dx@x=1")) == 6
    assert float(trace.display("f@w=1,b=1")) == 3
    assert float(trace.display("df/dw@w=1,b=1")) == 2
    assert float(trace.display("df/db@w=1,b=1")) == 1
    assert trace["dy/dx@x=3"].formula == "dy/dx = 2*x"
    assert trace.substituted("dy/dx@x=3") == "2*3"
    assert trace["dy/dx@x=3"].inputs == ("x@x=3",)
    assert "chain rule" in trace["dg/dx@x=1"].note and "2*(x + 2)" in trace["dg/dx@x=1"].note
    assert trace["df/dw@w=1,b=1"].formula == "∂f/∂w = 2"


def test_derivative_recomputes_at_another_point():
    trace = walk(load_spec(EXAMPLES / "r12_calculus_warmups.yaml"))
    # dy/dx = 2x at x = 5 is 10; (x + 2)² at x = -2 is 0 with slope 0.
    assert float(trace.recompute("dy/dx@x=3", {"x@x=3": 5})) == 10
    assert float(trace.recompute("dg/dx@x=1", {"x@x=1": -2})) == 0


def test_functions_and_implicit_multiplication():
    spec = {"kind": "calculus", "derivatives": [
        # d/dx sigmoid(x) = σ(1 - σ); at 0 that is ½·½ = ¼.
        {"name": "s", "expr": "sigmoid(x)", "wrt": "x", "at": {"x": 0}},
        # d/dx ln(x) = 1/x -> 0.5 at 2.   d/dx tanh(x) at 0 = 1 - tanh²(0) = 1.
        {"name": "l", "expr": "ln(x)", "wrt": "x", "at": {"x": 2}},
        {"name": "t", "expr": "tanh(x)", "wrt": "x", "at": {"x": 0}},
        # 3x(x + 1) = 3x² + 3x: derivative 6x + 3 -> 15 at 2.
        {"name": "p", "expr": "3x(x + 1)", "wrt": "x", "at": {"x": 2}},
        # exp(2w)·b: ∂/∂w = 2b·exp(2w) -> 6 at w = 0, b = 3.
        {"name": "q", "expr": "exp(2w) b", "wrt": ["w"], "at": {"w": 0, "b": 3}},
    ]}
    trace = walk(spec)
    assert float(trace.display("ds/dx@x=0")) == pytest.approx(0.25, abs=1e-15)
    assert float(trace.display("dl/dx@x=2")) == pytest.approx(0.5, abs=1e-15)
    assert float(trace.display("dt/dx@x=0")) == pytest.approx(1.0, abs=1e-15)
    assert float(trace.display("dp/dx@x=2")) == 15
    assert float(trace.display("dq/dw@w=0,b=3")) == pytest.approx(6.0, abs=1e-14)


# ---------------------------------------------------------------------------------------------
# the computational graph


def test_r12_graph_by_hand():
    # a = 2, b = 3, c = 1: d = a + b = 5, e = b - c = 2, y = d·e = 10.
    # Local: ∂y/∂d = e = 2, ∂y/∂e = d = 5, ∂d/∂a = ∂d/∂b = 1, ∂e/∂b = 1, ∂e/∂c = -1.
    # Totals: dy/dd = 2, dy/de = 5, dy/da = 2·1 = 2, dy/db = 2·1 + 5·1 = 7, dy/dc = 5·(-1) = -5.
    trace = walk(load_spec(EXAMPLES / "r12_computational_graph.yaml"))
    values = {i: float(trace.display(i)) for i in ("d", "e", "y", "∂y/∂d", "∂y/∂e", "∂d/∂a", "∂d/∂b",
                                                  "∂e/∂b", "∂e/∂c", "dy/dd", "dy/de", "dy/da", "dy/db",
                                                  "dy/dc")}
    assert values == {"d": 5, "e": 2, "y": 10, "∂y/∂d": 2, "∂y/∂e": 5, "∂d/∂a": 1, "∂d/∂b": 1,
                      "∂e/∂b": 1, "∂e/∂c": -1, "dy/dd": 2, "dy/de": 5, "dy/da": 2, "dy/db": 7,
                      "dy/dc": -5}
    assert trace["dy/db"].inputs == ("dy/dd", "∂d/∂b", "dy/de", "∂e/∂b")
    assert trace["dy/db"].formula == "dy/db = dy/dd·∂d/∂b + dy/de·∂e/∂b"
    assert trace.substituted("dy/db") == "2×1 + 5×1"
    assert trace.substituted("dy/dc") == "5×(-1)"
    assert trace.info["gradient"] == {"a": 2, "b": 7, "c": -5, "d": 2, "e": 5}
    # A student who got dy/dd = 3 would get dy/db = 3·1 + 5·1 = 8 from their own numbers.
    assert float(trace.recompute("dy/db", {"dy/dd": 3})) == 8


def test_graph_step_ids_are_stable():
    trace = walk(load_spec(EXAMPLES / "r12_computational_graph.yaml"))
    assert list(trace.steps) == ["a", "b", "c", "d", "e", "y", "dy/dy", "∂y/∂d", "∂y/∂e", "dy/de",
                                 "∂e/∂b", "∂e/∂c", "dy/dd", "∂d/∂a", "∂d/∂b", "dy/dc", "dy/db", "dy/da"]
    assert [s.phase for s in trace][:6] == ["given"] * 3 + ["forward"] * 3


@settings(max_examples=50, deadline=None)
@given(*(st.integers(-20, 20) for _ in range(3)))
def test_graph_matches_closed_form(a, b, c):
    # y = (a + b)(b - c): dy/da = b - c, dy/db = (b - c) + (a + b), dy/dc = -(a + b).
    trace = graph({"a": a, "b": b, "c": c}, {"d": "a + b", "e": "b - c", "y": "d*e"})
    assert float(trace.display("y")) == (a + b) * (b - c)
    assert trace.info["gradient"]["a"] == b - c
    assert trace.info["gradient"]["b"] == (b - c) + (a + b)
    assert trace.info["gradient"]["c"] == -(a + b)


def test_graph_with_a_reused_input_separates_local_and_total():
    # d = a + b, y = d·b, so y = (a + b)b. Local ∂y/∂b = d = a + b; total dy/db = 1·d + (dy/dd)(∂d/∂b)
    # = (a + b) + b = a + 2b. At a = 1, b = 2: local 3, total 5; dy/da = b = 2.
    trace = graph({"a": 1, "b": 2}, {"d": "a + b", "y": "d b"})
    assert float(trace.display("∂y/∂b")) == 3
    assert float(trace.display("dy/db")) == 5
    assert float(trace.display("dy/da")) == 2


def test_graph_input_that_does_not_reach_the_output():
    # c is declared but unused: dy/dc = 0 with a note; z after the output is ignored.
    trace = graph({"a": 1, "c": 4}, {"y": "3a", "z": "y + c"}, output="y")
    assert float(trace.display("dy/da")) == 3
    assert float(trace.display("dy/dc")) == 0
    assert "does not depend" in trace["dy/dc"].note


# ---------------------------------------------------------------------------------------------
# safety and errors


@pytest.mark.parametrize("text", [
    "__import__('os').system('true')", "x.real", "lambda: 1", "x; 1", "[x]", "x if x else 1",
    "exp", "9^9^9", "x**(10**10)", "(x + 1", "x)", "sin()", "x + ", "2..3", "x 2", "pi", "E", "y + 1",
    "Integer(2)", "x!", "'x'", "x @ x", "1" * 40, "x" + " + x" * 100, "", "   ", 3,
])
def test_unsafe_or_bad_expressions_are_refused(text):
    with pytest.raises(NNTError) as err:
        parse_expression(text, ("x",), "derivatives[0].expr")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("derivatives[0].expr")


def test_refused_expression_is_never_evaluated(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = {"kind": "calculus", "derivatives": [
        {"expr": "__import__('pathlib').Path('pwned').touch()", "wrt": "x", "at": {"x": 1}}]}
    with pytest.raises(NNTError):
        walk(spec)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("spec, field", [
    ({"kind": "calculus"}, "derivatives"),
    ({"kind": "calculus", "derivatives": [{"wrt": "x", "at": {"x": 1}}]}, "expr"),
    ({"kind": "calculus", "derivatives": [{"expr": "x^2", "at": {"x": 1}}]}, "wrt"),
    ({"kind": "calculus", "derivatives": [{"expr": "x^2", "wrt": "x"}]}, "'at'"),
    ({"kind": "calculus", "derivatives": [{"expr": "x^2", "wrt": "z", "at": {"x": 1}}]}, "wrt"),
    ({"kind": "calculus", "derivatives": [{"expr": "x^2", "wrt": "x", "at": {"x": "one"}}]}, "at.x"),
    ({"kind": "calculus", "derivatives": [{"expr": "x^2", "wrt": "x", "at": [{"x": 1}, {"y": 2}]}]},
     "same variables"),
    ({"kind": "calculus", "derivatives": [{"expr": "x^2", "wrt": "x", "at": {"x": 1}, "order": 2}]},
     "order"),
    ({"kind": "calculus", "derivatives": [{"expr": "log(x)", "wrt": "x", "at": {"x": -1}}]}, "x = -1"),
    ({"kind": "calculus", "derivatives": [{"expr": "1/x", "wrt": "x", "at": {"x": 0}}]}, "x = 0"),
    ({"kind": "calculus", "derivatives": [{"expr": "x", "wrt": "x", "at": {"x": 1}},
                                          {"expr": "2x", "wrt": "x", "at": {"x": 1}}]}, "another name"),
    ({"kind": "calculus", "derivatives": [{"name": "x", "expr": "x", "wrt": "x", "at": {"x": 1}}]}, "rename"),
    ({"kind": "calculus", "graph": {"nodes": {"y": "a"}}}, "inputs"),
    ({"kind": "calculus", "graph": {"inputs": {"a": 1}}}, "nodes"),
    ({"kind": "calculus", "graph": {"inputs": {"a": 1}, "nodes": {"d": "a + e", "e": "a"}}}, "'e'"),
    ({"kind": "calculus", "graph": {"inputs": {"a": 1}, "nodes": {"a": "2"}}}, "used twice"),
    ({"kind": "calculus", "graph": {"inputs": {"a": 1}, "nodes": {"y": "2a"}, "output": "z"}}, "output"),
    ({"kind": "calculus", "graph": {"inputs": {"exp": 1}, "nodes": {"y": "2"}}}, "function name"),
])
def test_calculus_bad_input_names_the_field(spec, field):
    with pytest.raises(NNTError) as err:
        walk(spec)
    assert field in str(err.value)
    assert "\n" not in str(err.value)


# ---------------------------------------------------------------------------------------------
# property: sympy's derivatives against central finite differences of an independent evaluation

_LEAVES = st.sampled_from([("x", lambda x, w: x), ("w", lambda x, w: w), ("2", lambda x, w: 2.0),
                           ("0.5", lambda x, w: 0.5), ("3", lambda x, w: 3.0)])


def _extend(children):
    """Build (text, python function) pairs together, so the oracle never goes through sympy."""
    unary = st.sampled_from([
        ("sin({})", math.sin), ("cos({})", math.cos), ("tanh({})", math.tanh),
        ("sigmoid({})", lambda v: 1 / (1 + math.exp(-v))), ("exp(tanh({}))", lambda v: math.exp(math.tanh(v))),
        ("log(1 + ({})^2)", lambda v: math.log(1 + v * v)), ("sqrt(1 + ({})^2)", lambda v: math.sqrt(1 + v * v)),
        ("({})^2", lambda v: v * v), ("({})^3", lambda v: v ** 3),
    ])
    binary = st.sampled_from([
        ("({}) + ({})", lambda a, b: a + b), ("({}) - ({})", lambda a, b: a - b),
        ("({})*({})", lambda a, b: a * b), ("({})/(1 + ({})^2)", lambda a, b: a / (1 + b * b)),
        ("({})({})", lambda a, b: a * b),   # implicit multiplication
    ])
    return st.one_of(
        st.tuples(unary, children).map(
            lambda t: (t[0][0].format(t[1][0]), lambda x, w, f=t[0][1], g=t[1][1]: f(g(x, w)))),
        st.tuples(binary, children, children).map(
            lambda t: (t[0][0].format(t[1][0], t[2][0]),
                       lambda x, w, f=t[0][1], g=t[1][1], h=t[2][1]: f(g(x, w), h(x, w)))),
    )


EXPRESSIONS = st.recursive(_LEAVES, _extend, max_leaves=6)


@settings(max_examples=60, deadline=None)
@given(EXPRESSIONS, st.floats(-2, 2), st.floats(-2, 2))
def test_derivatives_match_central_differences(expression, x, w):
    text, fn = expression
    if len(text) > 300:
        return
    trace = walk({"kind": "calculus", "derivatives": [
        {"name": "f", "expr": text, "wrt": ["x", "w"], "at": {"x": x, "w": w}}]})
    point = _point(x, w)
    h = 1e-5
    dx = (fn(x + h, w) - fn(x - h, w)) / (2 * h)
    dw = (fn(x, w + h) - fn(x, w - h)) / (2 * h)
    assert float(trace.display(f"f@{point}")) == pytest.approx(fn(x, w), rel=1e-12, abs=1e-12)
    assert float(trace.display(f"df/dx@{point}")) == pytest.approx(dx, rel=1e-6, abs=1e-6)
    assert float(trace.display(f"df/dw@{point}")) == pytest.approx(dw, rel=1e-6, abs=1e-6)


def _point(x: float, w: float) -> str:
    from nn_tutor.engine.numfmt import fmt_num

    return f"x={fmt_num(x, 6)},w={fmt_num(w, 6)}"


def _rename(text: str, x: str, w: str) -> str:
    import re

    return re.sub(r"\bw\b", w, re.sub(r"\bx\b", x, text))


def central_difference(f, x: float, h: float) -> float:
    return (f(x + h) - f(x - h)) / (2 * h)


@settings(max_examples=30, deadline=None)
@given(EXPRESSIONS, EXPRESSIONS, EXPRESSIONS, st.floats(-1.5, 1.5), st.floats(-1.5, 1.5))
def test_graph_gradients_match_central_differences(e1, e2, e3, a, b):
    # d = E1(a, b), e = E2(d, b), y = E3(d, e): b reaches y along three paths, d along two.
    (t1, f1), (t2, f2), (t3, f3) = e1, e2, e3
    if max(len(t1), len(t2), len(t3)) > 300:
        return

    def y_of(a_, b_):
        d = f1(a_, b_)
        return f3(d, f2(d, b_))

    trace = graph({"a": a, "b": b}, {"d": _rename(t1, "a", "b"), "e": _rename(t2, "d", "b"),
                                     "y": _rename(t3, "d", "e")})
    assert float(trace.display("y")) == pytest.approx(y_of(a, b), rel=1e-12, abs=1e-12)
    for name, f in (("a", lambda t: y_of(t, b)), ("b", lambda t: y_of(a, t))):
        x0 = a if name == "a" else b
        # central differences at h and h/2: their gap estimates the oracle's own truncation error
        # (steep composites such as sin(((b + 3)²)²) have third derivatives near 1e7)
        d_h, d_h2 = (central_difference(f, x0, h) for h in (1e-5, 5e-6))
        assert trace.info["gradient"][name] == pytest.approx(d_h2, rel=1e-6, abs=1e-6 + 10 * abs(d_h - d_h2))
