"""The safe expression reader: what students type, and hostile input that must fail fast and cleanly."""
from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nn_tutor.engine.errors import NNTError
from nn_tutor.tools.homework.expr import ExprError, evaluate, literals, parse


def value(text, env=None):
    return evaluate(parse(text), env)


@pytest.mark.parametrize("text, expected", [
    ("0.5(10)", 5.0),                        # implicit product
    ("2 × 0.3 − 1", -0.4),                   # unicode times and minus
    ("0.15·0.5 + 0.2·0.8 + 0.35", 0.585),    # R2 net_h1 by hand: 0.075 + 0.16 + 0.35
    ("½(0.2)² + ½(0.3)²", 0.065),            # 0.02 + 0.045
    ("e⁻²", math.exp(-2)),
    ("e^-2", math.exp(-2)),
    ("-2^2", -4.0),                          # power binds tighter than the sign
    ("2^3^2", 512.0),                        # right-associative: 2^(3^2)
    ("50%", 0.5),
    ("√4 + sqrt(9)", 5.0),
    ("max(0, -3) + relu(-2) + relu(1.5)", 1.5),
    ("σ(0)", 0.5),
    ("1/(1+exp(-0))", 0.5),
    ("ln(e)", 1.0),
    ("log(1)", 0.0),
    ("σ'(0)", 0.25),                         # σ(0)(1 − σ(0)) = 0.5 × 0.5
    ("1.2e-3 × 1000", 1.2),
    ("2 ln 2", 2 * math.log(2)),
])
def test_scalar_expressions(text, expected):
    assert float(value(text)) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_vectors_matrices_and_names():
    W = [[0.1, 0.2], [0.3, 0.4]]
    x = [0.5, 0.3]
    # W·x by hand: [0.05 + 0.06, 0.15 + 0.12] = [0.11, 0.27]
    np.testing.assert_allclose(value("W·x + [0.1, 0.2]", {"W": W, "x": x}), [0.21, 0.47])
    np.testing.assert_allclose(value("[[1, 2], [3, 4]]ᵀ"), [[1, 3], [2, 4]])
    assert float(value("x[1]", {"x": x})) == 0.3
    assert float(value("[1, 2]·[3, 4]")) == 11.0            # dot product 3 + 8
    np.testing.assert_allclose(value("[1, 2] ⊙ [3, 4]"), [3, 8])


def test_vectors_printed_with_spaces():
    # `[.50 -.26 .56]` as arrays print: a minus with no space after it is a sign
    np.testing.assert_allclose(value("[.50 -.26 .56]"), [0.5, -0.26, 0.56])
    np.testing.assert_allclose(value("[1 2; 3 -4]"), [[1, 2], [3, -4]])
    assert float(value("[0.50 - 0.26]")[0]) == pytest.approx(0.24)      # spaced on both sides: a difference


def test_literals_keep_shown_decimals():
    lits = literals(parse("0.5933 × (1 − 0.59) + 2"))
    assert [(n.text, n.decimals) for n in lits] == [("0.5933", 4), ("1", 0), ("0.59", 2), ("2", 0)]


@pytest.mark.parametrize("text, fragment", [
    ("9^9^9^9", "too large"),
    ("(" * 150 + "1" + ")" * 150, "nested deeper"),
    ("(" * 10_000 + "1" + ")" * 10_000, "too long"),
    ("1" * 1_000_000, "too long"),
    ("1/0", "division by zero"),
    ("log(0)", "log"),
    ("\x00\x01\x02garbage\xff", "unexpected character"),
    ("2 +", "expected"),
    ("sigma(1, 2, 3)", "number of arguments"),
    ("import os", "no value"),
    ("__import__('os').system('ls')", "unexpected character"),
])
def test_hostile_input_fails_fast_with_own_error(text, fragment):
    start = time.perf_counter()
    with pytest.raises(ExprError) as info:
        value(text)
    assert time.perf_counter() - start < 1.0
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, NNTError)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.one_of(st.sampled_from(list("0123456789.+-*/^()[],;%eσ√×−·½² xyzln")),
                                  st.characters()), max_size=60))
def test_fuzz_only_own_error(text):
    try:
        result = value(text, {"x": 0.5, "y": [1.0, 2.0]})
    except ExprError:
        return
    assert np.all(np.isfinite(result))
