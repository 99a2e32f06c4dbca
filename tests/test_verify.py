"""Claims against a trace: tolerance from shown decimals, the double judgement, carried errors,
and misconceptions named only when their alternative reproduces the student's number.

Every expected number is derived by hand in the comments (or by a closed form written here)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from nn_tutor.engine.kinds import walk
from nn_tutor.engine.spec import load_spec
from nn_tutor.engine.trace import Op, Trace
from nn_tutor.engine.verify import close, half_unit, judge_step, link_verdict, value_tolerance
from nn_tutor.tools.homework import align_name, check_text


def sig(z):
    return 1 / (1 + math.exp(-z))


# --- tolerance --------------------------------------------------------------------------------

def test_half_unit_of_last_decimal():
    assert half_unit(4) == pytest.approx(0.00005)
    assert float(value_tolerance(0.5933, 4)) == pytest.approx(0.00005, rel=1e-3)
    assert float(value_tolerance(3, 0)) < 1e-6          # small whole numbers are exact
    assert float(value_tolerance(250, 0)) == 0.5         # large ones rounded to units


def test_link_verdicts():
    assert link_verdict(0.71, 0.71, 0.71, 0.005) == "correct"
    assert link_verdict(0.81, 0.81, 0.71, 0.005, earlier_error=True) == "carried"
    assert link_verdict(0.81, 0.71, 0.71, 0.005) == "wrong"
    assert close([1.0, 2.0], np.array([[1.0], [2.0]]), 0.01)   # same numbers, column form


# --- the double judgement on a hand-made trace: c = a·b ----------------------------------------

def small_trace():
    t = Trace()
    t.given("a", "a", "a", np.asarray(2.0))
    t.given("b", "b", "b", np.asarray(3.0))
    t.add("p", "p", "p = a·b", np.asarray(6.0), ("a", "b"), Op(np.multiply, "{0}×{1}"))
    t.add("q", "q", "q = p + 1", np.asarray(7.0), ("p",), Op(lambda p: p + 1, "{0} + 1"))
    return t


def test_judge_step_correct_carried_wrong():
    t = small_trace()
    tol = 1e-9
    assert judge_step(t, "q", None, 7.0, tol, {}, {})[0] == "correct"
    # the student had p = 6.5 (wrong); q = 7.5 follows from it: carried, not wrong again
    own = {"p": (np.asarray(6.5), True)}
    verdict, true, mine = judge_step(t, "q", None, 7.5, tol, own, {})
    assert (verdict, float(true), float(mine)) == ("carried", 7.0, 7.5)
    # q = 8 follows from nothing the student wrote: wrong
    assert judge_step(t, "q", None, 8.0, tol, own, {})[0] == "wrong"


def test_judge_step_rounding_of_shown_intermediates():
    t = small_trace()
    # the student rounded p = 6.04 (a correct p would be 6; pretend p was shown as 6.04 and right)
    own = {"p": (np.asarray(6.04), False)}
    verdict, _, mine = judge_step(t, "q", None, 7.04, 0.005, own, {"p": 2})
    assert verdict == "rounding" and float(mine) == pytest.approx(7.04)


# --- alignment of the names students use (R2: 2-2-1 sigmoid network) ------------------------------

R2 = "examples/r2_two_layer_sigmoid.yaml"


@pytest.fixture(scope="module")
def r2():
    return walk(load_spec(R2))


@pytest.mark.parametrize("name, index, expected", [
    ("net_h1", None, ("L1.z", (0,))),
    ("out_h2", None, ("L1.a", (1,))),
    ("net_o1", None, ("L2.z", (0,))),
    ("out_o1", None, ("L2.a", (0,))),
    ("z1", (0,), ("L1.z", (0,))),
    ("ŷ", None, ("L2.a", None)),
    ("E", None, ("loss", None)),
    ("E_total", None, ("loss", None)),
    ("δ2", None, ("L2.delta", None)),
    ("delta_o1", None, ("L2.delta", (0,))),
    ("dEðdw5", None, ("L2.dW", (0, 0))),
    ("dEðdw1", None, ("L1.dW", (0, 0))),
    ("dLðdb3", None, ("L2.db", (0,))),
    ("dEðdout_o1", None, ("L2.da", (0,))),
    ("dout_o1ðdnet_o1", None, ("L2.dadz", (0,))),
    ("w5_new", None, ("L2.W_new", (0, 0))),
    ("w3", None, ("L1.W", (1, 0))),
    ("b3", None, ("L2.b", (0,))),
    ("η", None, ("lr", None)),
    ("E_new", None, ("after.loss", None)),
])
def test_alignment(r2, name, index, expected):
    assert align_name(name, index, r2)[0] == expected


# --- misconceptions, each with its mistaken number computed by hand --------------------------------

R8 = load_spec("examples/r8_linear_chain.yaml")
# R8 by hand: x = 1, y = 5; z1 = 2·1 + 0 = 2; z2 = 3·2 + 1 = 7; L = ½(7 − 5)² = 2; ∂L/∂a2 = 2;
# ∂L/∂W2 = 2·2 = 4; ∂L/∂b2 = 2; ∂L/∂a1 = 3·2 = 6; ∂L/∂W1 = 6·1 = 6; η = 0.1;
# W2_new = 3 − 0.1·4 = 2.6; W1_new = 2 − 0.1·6 = 1.4


def first(text, spec):
    claims = [c for c in check_text(text, spec).claims if c.verdict == "wrong"]
    assert claims, check_text(text, spec).claims
    return claims[0]


@pytest.mark.parametrize("line, name", [
    ("L = (7 − 5)² = 4", "missing_half"),               # no ½: 4 instead of 2
    ("W2_new = 3 + 0.1 × 4 = 3.4", "update_sign"),       # w + η·g
    ("W2_new = 3 − 4 = -1", "learning_rate"),             # η forgotten
    ("W2_new = 3 − 0.01 × 4 = 2.96", "learning_rate"),    # η applied twice (η² = 0.01)
    ("∂L/∂a2 = 5 − 7 = -2", "gradient_sign"),            # y − ŷ
    ("z2 = 3 × 2 = 6", "bias_forgotten"),                 # + b2 = 1 forgotten
    ("∂L/∂W2 = 2 × 1 = 2", "dw_wrong_input"),             # δ2·x instead of δ2·a1 (x = 1)
    ("∂L/∂a1 = 2.6 × 2 = 5.2", "used_updated_weight"),    # W2_new·δ2 = 2.6·2
])
def test_misconceptions_on_r8(line, name):
    claim = first(line, R8)
    assert claim.misconception == name, (claim.text, claim.step_id, claim.hint)
    assert claim.hint


def test_r2_sigmoid_misconceptions(r2):
    spec = load_spec(R2)
    # hand: z1 = [0.585, 0.715]; a1 = σ(z1); z2 = 0.4·a1[0] + 0.45·a1[1] + 0.6; ŷ = σ(z2)
    a1 = [sig(0.585), sig(0.715)]
    z2 = 0.4 * a1[0] + 0.45 * a1[1] + 0.6
    yhat = sig(z2)
    g = yhat - 1                                       # ∂L/∂ŷ for ½(ŷ − y)²
    cases = {
        "forgot_activation_derivative": f"δ2 = {g:.4f}",
        "sigmoid_derivative": f"δ2 = {g * yhat:.4f}",     # σ′ taken as σ(z) = ŷ
        "preactivation_forwarded": f"z2 = {0.4 * 0.585 + 0.45 * 0.715 + 0.6:.4f}",
        "wrong_backward_weight": f"∂L/∂a1[0] = {0.45 * g * yhat * (1 - yhat):.5f}",  # w6 for neuron 1
    }
    for name, line in cases.items():
        assert first(line, spec).misconception == name, line


def test_softmax_mse_shortcut_r5():
    spec = load_spec("examples/r5_dog_cat_softmax_mse.yaml")
    x = np.array([0.9, 0.2, 0.8, 0.3])
    W1 = np.array([[0.6, 0.4, 0.5, 0.3], [0.2, 0.7, 0.3, 0.6], [0.3, 0.5, 0.2, 0.8]])
    h = np.maximum(W1 @ x + np.array([-0.4, -0.3, -0.5]), 0)
    z = np.array([[0.8, 0.6, 0.3], [0.3, 0.7, 0.9]]) @ h + np.array([-0.2, -0.3])
    p = np.exp(z) / np.exp(z).sum()
    shortcut = p - np.array([1, 0])                  # the cross-entropy shortcut, wrong for ½Σ(p − y)²
    claim = first(f"δ2 = [{shortcut[0]:.4f}, {shortcut[1]:.4f}]", spec)
    assert claim.misconception == "softmax_mse_shortcut"


def test_log10_in_cross_entropy_r10():
    spec = load_spec("examples/r10_relu_bce_matrix.yaml")
    # h = relu([0.05 + 0.06 + 0.1, 0.15 + 0.12 + 0.2]) = [0.21, 0.47]; z2 = 0.105 + 0.282 + 0.1 = 0.487
    yhat = sig(0.487)
    claim = first(f"L = −log10({yhat:.4f}) = {-math.log10(yhat):.4f}", spec)
    assert claim.misconception == "log10"


def test_mean_vs_sum_r1():
    spec = load_spec("examples/r1_house_prices.yaml")
    # ŷ = 0.5x + 1 = [6, 8.5, 11, 13.5]; errors vs [30, 45, 55, 70]: 24, 36.5, 44, 56.5
    # sum of squares 576 + 1332.25 + 1936 + 3192.25 = 7036.5; mean 1759.125
    claim = first("L = 7036.5", spec)
    assert claim.misconception == "mean_vs_sum"
    assert claim.expected == pytest.approx(1759.125)


def test_maxpool_gradient_everywhere_r3():
    spec = load_spec("examples/r3_cnn_edge.yaml")
    # every 3×3 window: rows (−0.1 + 0.9) × 3 − 1 = 1.4, all four tie; pool 1.4; z = 0.6·1.4 + 0.1 = 0.94
    # ∂L/∂z = σ(0.94) − 1 (sigmoid + BCE); ∂L/∂(pooled) = 0.6·(σ(0.94) − 1)
    g = 0.6 * (sig(0.94) - 1)
    spread = f"[[[{g:.4f}, {g:.4f}], [{g:.4f}, {g:.4f}]]]"
    report = check_text(f"∂L/∂a2 = {spread}", spec)
    claim = report.claims[0]
    assert claim.verdict == "wrong" and claim.misconception == "maxpool_everywhere"
    right = f"[[[{g:.4f}, 0], [0, 0]]]"                 # first maximum in row-major order
    assert check_text(f"∂L/∂a2 = {right}", spec).claims[0].verdict == "correct"
