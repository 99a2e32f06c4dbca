"""The judgement of single claims: one tolerance rule, carried errors, rule ids with their evidence,
names students use, and misconceptions named only when their variant reproduces the number.

Every expected number is derived by hand in the comments (or by a closed form written here)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from nn_tutor.engine.kinds import walk
from nn_tutor.engine.spec import load_spec, parse_text
from nn_tutor.tools.homework import check_text
from nn_tutor.tools.homework.names import align_name


def sig(z):
    return 1 / (1 + math.exp(-z))


def judged(text, spec=None):
    """(verdict, misconception) of every claim, in order."""
    return [(c.verdict, c.misconception) for c in check_text(text, spec).claims]


def wrong(text, spec):
    claims = [c for c in check_text(text, spec).claims if c.verdict == "wrong"]
    assert claims, [(c.text, c.verdict) for c in check_text(text, spec).claims]
    return claims[-1]


# --- one tolerance rule: half a unit of the last written decimal ----------------------------------------

def test_rounding_only_within_half_a_unit_of_the_last_decimal():
    # 0.3 + 0.2 + 0.1 = 0.6: 0.7 is a whole unit of the first decimal away
    assert judged("0.3 + 0.2 + 0.1 = 0.7") == [("wrong", "arithmetic_slip")]
    assert judged("0.3 + 0.2 + 0.1 = 0.6") == [("correct", None)]
    # net_h2 = 0.25·0.5 + 0.30·0.8 + 0.35 = 0.715: "0.8" is not 0.715 rounded, "0.72" is
    r2 = load_spec("examples/r2_two_layer_sigmoid.yaml")
    assert [c.verdict for c in check_text("net_h2 = 0.8", r2).claims] == ["wrong"]
    assert [c.verdict for c in check_text("net_h2 = 0.72", r2).claims] == ["correct"]


def test_rounding_of_the_students_own_rounded_intermediates():
    # a = σ(0.585) = 0.642217 written 0.64; then 2·0.64 = 1.28 although 2·0.642217 = 1.284434 (1.28 is
    # 1.284 rounded to two decimals anyway); 3·0.64 = 1.92 while 3·0.642217 = 1.93 at two decimals:
    # 1.92 follows from the student's own shown 0.64, so it is rounding, not wrong
    report = check_text("a = σ(0.585) = 0.64\nb = 3 × a = 3 × 0.64 = 1.92\n")
    verdicts = [c.verdict for c in report.claims]
    assert "wrong" not in verdicts, [(c.text, c.verdict, c.expected) for c in report.claims]


def test_rule_ids_and_evidence_are_reported():
    r8 = load_spec("examples/r8_linear_chain.yaml")
    # R8: z1 = 2·1 + 0 = 2, z2 = 3·2 + 1 = 7
    report = check_text("z1 = 2 × 1 + 0 = 2\nz2 = 3 × 2 + 1 = 8\n", r8)
    first, second = report.claims[0], report.claims[-1]
    assert first.verdict == "correct" and first.rule.startswith("V-")
    assert second.verdict == "wrong" and second.rule.startswith("W-") and second.expected == 7
    assert second.evidence, "a wrong verdict shows the evidence that pinned its step"


# --- error carried forward -------------------------------------------------------------------------------

def test_a_wrong_value_is_punished_once_and_its_consequences_carried():
    r8 = load_spec("examples/r8_linear_chain.yaml")
    # z1 = 2 is written as 3 (wrong); z2 = 3·3 + 1 = 10 follows from it; L = ½(10 − 5)² = 12.5 too
    text = "z1 = 2 × 1 + 0 = 3\nz2 = 3 × 3 + 1 = 10\nL = ½(10 − 5)² = 12.5\n"
    verdicts = [c.verdict for c in check_text(text, r8).claims]
    assert verdicts[0] == "wrong" and verdicts[1:] == ["carried"] * (len(verdicts) - 1), verdicts


def test_a_wrong_value_written_again_is_not_punished_again():
    r8 = load_spec("examples/r8_linear_chain.yaml")
    # z1 = 2 written as 3 (wrong), then restated: the repeat is the same mistake, not a new one
    claims = check_text("z1 = 2 × 1 + 0 = 3\nz2 = 3 × 3 + 1 = 10\nwith z1 = 3 as above\n", r8).claims
    assert [c.verdict for c in claims] == ["wrong", "carried", "carried"], [(c.text, c.verdict) for c in claims]
    assert claims[-1].rule == "V-restated"


def test_a_later_wrong_step_after_a_carried_one_is_still_wrong():
    r8 = load_spec("examples/r8_linear_chain.yaml")
    # z1 = 3 (wrong), z2 = 10 (carried), then L = ½(10 − 5)² = 12.5 written as 25: wrong again
    text = "z1 = 3\nz2 = 3 × 3 + 1 = 10\nL = 25\n"
    claims = check_text(text, r8).claims
    assert [c.verdict for c in claims][-1] == "wrong"


def test_numbers_of_a_written_vector_used_again_are_not_judged_again():
    r2 = load_spec(R2)
    # out_h2 = σ(0.25·0.5 + 0.30·0.8 + 0.35) = σ(0.715) = 0.6715, written 0.7715 (wrong); the next line
    # uses 0.6422 and 0.7715 as operands: 0.40·0.6422 + 0.45·0.7715 + 0.60 = 1.2041 follows from it
    text = "a1 = [0.6422, 0.7715]\nnet_o1 = 0.40 × 0.6422 + 0.45 × 0.7715 + 0.60 = 1.2041\n"
    claims = check_text(text, r2).claims
    assert [c.verdict for c in claims] == ["wrong", "carried"], [(c.text, c.verdict) for c in claims]


def test_a_slip_in_e_to_the_z_carries_into_the_probabilities_and_the_loss():
    r5 = load_spec("examples/r5_dog_cat_softmax_mse.yaml")
    # h = relu(W1·x + b1) = [0.71, 0.44, 0.27]; z2 = [0.8·0.71 + 0.6·0.44 + 0.3·0.27 − 0.2, …] = [0.713, 0.464]
    # e^0.713 = 2.0401 is written 2.1401; Σ = 2.1401 + 1.5904 = 3.7305; from these the student's
    # p = [2.1401/3.7305, 1.5904/3.7305] = [0.5737, 0.4263] (true [0.5619, 0.4381]) and
    # L = ½((0.5737 − 1)² + 0.4263²) = 0.1818 (true 0.1919): both follow from the slip alone
    text = ("z2 = [0.713, 0.464]\ne^0.713 = 2.1401\ne^0.464 = 1.5904\nΣ = 2.1401 + 1.5904 = 3.7305\n"
            "p = [0.5737, 0.4263]\nL = 0.1818\n")
    verdicts = [(c.text, c.verdict) for c in check_text(text, r5).claims]
    assert verdicts[1] == ("e^0.713 = 2.1401", "wrong"), verdicts
    assert verdicts[-2:] == [("p = [0.5737, 0.4263]", "carried"), ("L = 0.1818", "carried")], verdicts


def test_a_slip_in_a_square_carries_into_the_loss():
    spec = parse_text("input: [1, 2]\ntarget: [1, 0]\nlayers:\n"
                      "  - dense: {W: [[0.1, 0.2], [0.3, 0.4]], b: [0, 0], activation: linear}\n"
                      "loss: half_sse\nlearning_rate: 0.1\n")
    # ŷ = [0.1 + 0.4, 0.3 + 0.8] = [0.5, 1.1]; (0.5 − 1)² = 0.25, (1.1 − 0)² = 1.21; E = ½·1.46 = 0.73
    # the first square written 0.35: E = ½(0.35 + 1.21) = 0.78 follows from it
    text = "ŷ = [0.5, 1.1]\n(0.5 − 1)² = 0.35\n(1.1 − 0)² = 1.21\nE = 0.78\n"
    claims = check_text(text, spec).claims
    assert [c.verdict for c in claims] == ["correct", "wrong", "correct", "carried"], \
        [(c.text, c.verdict) for c in claims]


# --- names students use, aligned to the trace (R2: 2-2-1 sigmoid network) ---------------------------------

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
    ("E_total", None, ("loss", None)),
    ("delta_o1", None, ("L2.delta", (0,))),
    ("delta_out", None, ("L2.delta", None)),
    ("dh", None, ("L1.da", None)),
    ("dyhat", None, ("L2.da", None)),
    ("dEðdw5", None, ("L2.dW", (0, 0))),
    ("dEðdw1", None, ("L1.dW", (0, 0))),
    ("w5_new", None, ("L2.W_new", (0, 0))),
    ("w3", None, ("L1.W", (1, 0))),
    ("b3", None, ("L2.b", (0,))),
])
def test_names_align_to_steps(r2, name, index, expected):
    found = align_name(name, index, r2)
    assert found and tuple(found[0]) == expected, found


def test_names_declared_by_a_template_in_the_spec_notes():
    spec = parse_text("input: [0.5, -1]\ntarget: [1]\nlayers:\n"
                      "  - dense: {W: [[0.4, 0.3], [-0.2, 0.6], [0.7, -0.5]], b: [0.15, 0.2, -0.1], activation: sigmoid}\n"
                      "  - dense: {W: [[0.5, -0.4, 0.3]], b: [0.2], activation: sigmoid}\n"
                      "loss: bce\nlearning_rate: 0.5\n"
                      "notes:\n  - 'Names: w_ij = L1.W[i-1][j-1], b_i = L1.b[i-1]; v_j = L2.W[0][j-1]; c = L2.b[0].'\n")
    trace = walk(spec)
    assert align_name("w32", None, trace)[0] == ("L1.W", (2, 1))
    assert align_name("v2", None, trace)[0] == ("L2.W", (0, 1))
    assert align_name("b3", None, trace)[0] == ("L1.b", (2,))


def test_p_is_the_pooled_value_of_a_network_that_outputs_no_probability():
    pooled = parse_text("input: [[1, 0], [0, 1]]\ntarget: [1.0]\nlayers:\n"
                        "  - conv2d: {filters: [[[[0.5]]]], bias: [0.0], stride: 1, padding: 0}\n"
                        "  - activation: relu\n  - avgpool: {size: 2, stride: 2}\n  - flatten: {}\n"
                        "  - dense: {W: [[1.5]], b: [0.2], activation: linear}\nloss: half_sse\nlearning_rate: 0.1\n")
    trace = walk(pooled)
    pool = next(s.id for s in trace if s.quantity == "pool")
    assert align_name("p", None, trace)[0][0] == pool
    assert align_name("p", None, walk(load_spec("examples/r3_cnn_edge.yaml")))[0][0] == "L5.a"   # sigmoid output


def test_script_l_and_update_arrows(r2):
    spec = load_spec(R2)
    # ∂L/∂w5 = δ_o·out_h1 = −0.043420·0.642216 = −0.0279 (test_homework_prose.py derives δ_o);
    # w5 → 0.40 − 0.5·(−0.0279) = 0.4139 (0.40 + 0.0139 would be moving with the gradient: 0.3861)
    claims = check_text("∂ℒ/∂w₅ = −0.0279\nw₅ → 0.40 − 0.5·(−0.0279) = 0.4139\nw₆ → 0.4354\n", spec).claims
    assert [(c.step_id, c.index) for c in claims[:2]] == [("L2.dW", (0, 0)), ("L2.W_new", (0, 0))], \
        [(c.text, c.step_id) for c in claims]
    assert [c.verdict for c in claims[:2]] == ["correct", "correct"]
    # w6_new = 0.45 − 0.5·(−0.029157) = 0.4646; 0.4354 = 0.45 + 0.5·(−0.029157) moves with the gradient
    assert (claims[2].step_id, claims[2].verdict, claims[2].misconception) == ("L2.W_new", "wrong", "update_sign")


# --- misconceptions, each with its mistaken number computed by hand ----------------------------------------

R8 = load_spec("examples/r8_linear_chain.yaml")
# R8 by hand: x = 1, y = 5; z1 = 2·1 + 0 = 2; z2 = 3·2 + 1 = 7; L = ½(7 − 5)² = 2; ∂L/∂a2 = 2;
# ∂L/∂W2 = 2·2 = 4; ∂L/∂b2 = 2; ∂L/∂a1 = 3·2 = 6; ∂L/∂W1 = 6·1 = 6; η = 0.1;
# W2_new = 3 − 0.1·4 = 2.6; W1_new = 2 − 0.1·6 = 1.4


@pytest.mark.parametrize("line, name, truth", [
    ("L = (7 − 5)² = 4", "missing_half", 2),                     # no ½: 4 instead of 2
    ("W2_new = 3 + 0.1 × 4 = 3.4", "update_sign", 2.6),           # w + η·g
    ("W2_new = 3 − 4 = -1", "learning_rate_missing", 2.6),        # η forgotten
    ("W2_new = 3 − 0.01 × 4 = 2.96", "learning_rate_twice", 2.6),  # η² = 0.01
    ("∂L/∂a2 = 5 − 7 = -2", "delta_sign", 2),                    # y − ŷ
    ("z2 = 3 × 2 = 6", "missing_bias", 7),                        # + b2 = 1 forgotten
    ("∂L/∂W2 = 2 × 1 = 2", "weight_gradient_with_network_input", 4),  # δ2·x instead of δ2·a1
    ("∂L/∂a1 = 2.6 × 2 = 5.2", "updated_weight_in_backprop", 6),  # W2_new·δ2 = 2.6·2
])
def test_misconceptions_on_r8(line, name, truth):
    claim = wrong(line, R8)
    assert (claim.misconception, claim.expected) == (name, truth), (claim.text, claim.step_id, claim.hint)
    assert claim.hint


def r2_by_hand():
    z1 = [0.15 * 0.5 + 0.20 * 0.8 + 0.35, 0.25 * 0.5 + 0.30 * 0.8 + 0.35]     # [0.585, 0.715]
    a1 = [sig(z) for z in z1]
    z2 = 0.40 * a1[0] + 0.45 * a1[1] + 0.60
    yhat = sig(z2)
    return z1, a1, z2, yhat, yhat - 1                 # ∂L/∂ŷ for ½(ŷ − y)², y = 1


@pytest.mark.parametrize("name, line", [
    ("missing_activation_derivative", lambda z1, a1, z2, yhat, g: f"δ_o1 = {g:.4f}"),
    ("sigmoid_prime_as_sigmoid", lambda z1, a1, z2, yhat, g: f"δ_o1 = {g * yhat:.4f}"),
    ("tanh_derivative_in_sigmoid_layer", lambda z1, a1, z2, yhat, g: f"δ_o1 = {g * (1 - yhat ** 2):.4f}"),
    ("sigmoid_derivative_from_z", lambda z1, a1, z2, yhat, g: f"δ_o1 = {g * z2 * (1 - z2):.4f}"),
    ("net_instead_of_out",
     lambda z1, a1, z2, yhat, g: f"net_o1 = 0.4 × 0.585 + 0.45 × 0.715 + 0.6 = {0.4 * 0.585 + 0.45 * 0.715 + 0.6:.4f}"),
    ("transposed_weights",             # w6 (from h2) used for h1's gradient
     lambda z1, a1, z2, yhat, g: f"∂E/∂out_h1 = {0.45 * g * yhat * (1 - yhat):.5f}"),
])
def test_r2_sigmoid_misconceptions(name, line):
    text = line(*r2_by_hand())
    assert wrong(text, load_spec(R2)).misconception == name, text


def test_softmax_shortcut_with_squared_loss_r5():
    spec = load_spec("examples/r5_dog_cat_softmax_mse.yaml")
    x = np.array([0.9, 0.2, 0.8, 0.3])
    W1 = np.array([[0.6, 0.4, 0.5, 0.3], [0.2, 0.7, 0.3, 0.6], [0.3, 0.5, 0.2, 0.8]])
    h = np.maximum(W1 @ x + np.array([-0.4, -0.3, -0.5]), 0)
    z = np.array([[0.8, 0.6, 0.3], [0.3, 0.7, 0.9]]) @ h + np.array([-0.2, -0.3])
    p = np.exp(z) / np.exp(z).sum()
    shortcut = p - np.array([1, 0])                  # the cross-entropy shortcut, wrong for ½Σ(p − y)²
    claim = wrong(f"δ2 = [{shortcut[0]:.4f}, {shortcut[1]:.4f}]", spec)
    assert claim.misconception == "softmax_shortcut_with_squared_loss"


def test_log10_instead_of_ln_r10():
    spec = load_spec("examples/r10_relu_bce_matrix.yaml")
    # h = relu([0.05 + 0.06 + 0.1, 0.15 + 0.12 + 0.2]) = [0.21, 0.47]; z2 = 0.105 + 0.282 + 0.1 = 0.487
    yhat = sig(0.487)
    claim = wrong(f"L = −log10({yhat:.4f}) = {-math.log10(yhat):.4f}", spec)
    assert claim.misconception == "log10_instead_of_ln"
    assert claim.expected == pytest.approx(-math.log(yhat), abs=1e-9)


def test_sum_instead_of_mean_r1():
    spec = load_spec("examples/r1_house_prices.yaml")
    # ŷ = 0.5x + 1 = [6, 8.5, 11, 13.5]; errors vs [30, 45, 55, 70]: 24, 36.5, 44, 56.5
    # sum of squares 576 + 1332.25 + 1936 + 3192.25 = 7036.5; mean 1759.125
    claim = wrong("L = 7036.5", spec)
    assert claim.misconception == "sum_instead_of_mean"
    assert claim.expected == pytest.approx(1759.125)


def test_maxpool_gradient_spread_r3():
    spec = load_spec("examples/r3_cnn_edge.yaml")
    # every 3×3 window: rows (−0.1 + 0.9) × 3 − 1 = 1.4, all four tie; pool 1.4; z = 0.6·1.4 + 0.1 = 0.94
    # ∂L/∂z = σ(0.94) − 1 (sigmoid + BCE); ∂L/∂(pooled) = 0.6·(σ(0.94) − 1)
    g = 0.6 * (sig(0.94) - 1)
    spread = f"[[[{g:.4f}, {g:.4f}], [{g:.4f}, {g:.4f}]]]"
    claim = check_text(f"∂L/∂a2 = {spread}", spec).claims[0]
    assert claim.verdict == "wrong" and claim.misconception == "maxpool_gradient_spread"
    right = f"[[[{g:.4f}, 0], [0, 0]]]"                 # first maximum in row-major order
    assert check_text(f"∂L/∂a2 = {right}", spec).claims[0].verdict == "correct"


def test_a_wrong_number_no_mistake_explains_is_not_given_a_misconception():
    # R8: z2 = 7; 7.9 is neither 6 (bias left out) nor any catalogued variant
    claim = wrong("z2 = 3 × 2 + 1 = 7.9", R8)
    assert claim.misconception in (None, "arithmetic_slip")
