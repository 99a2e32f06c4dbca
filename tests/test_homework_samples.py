"""The sample homework shipped in examples/homework: right work passes, wrong work is caught.

Expected values are derived by hand in the comments (R8: x = 1, y = 5, w1 = 2, b1 = 0, w2 = 3,
b2 = 1, η = 0.1; R10: h = relu([0.05 + 0.06 + 0.1, 0.15 + 0.12 + 0.2]) = [0.21, 0.47])."""
from __future__ import annotations


import pytest

from nn_tutor.engine.spec import load_spec
from nn_tutor.tools.homework import check_text
from reference import EX

HW = EX / "homework"


@pytest.mark.parametrize("work, spec", [
    ("r2_correct.md", "r2_two_layer_sigmoid.yaml"),
    ("r2_latex.md", "r2_two_layer_sigmoid.yaml"),
    ("r8_linear_chain.txt", "r8_linear_chain.yaml"),
    ("r10_matrix_form.md", "r10_relu_bce_matrix.yaml"),
    ("r2_messy.md", "r2_two_layer_sigmoid.yaml"),
    ("r9_two_iterations.txt", "r9_one_weight_regression.yaml"),     # names restated per iteration
    ("r3_cnn.md", "r3_cnn_edge.yaml"),
    ("r5_class_names.md", "r5_dog_cat_softmax_mse.yaml"),               # p(dog), z_cat, δ_dog, ∂L/∂b_dog
])
@pytest.mark.parametrize("with_spec", [True, False])
def test_right_work_passes(work, spec, with_spec):
    report = check_text((HW / work).read_text(encoding="utf-8"),
                        load_spec(EX / spec) if with_spec else None)
    assert report.ok, [(c.line, c.text, c.expected) for c in report.claims if c.verdict == "wrong"]
    assert report.summary["judged"] >= 8


def test_matrix_form_outer_products_and_hadamard():
    # δ1 = (W2ᵀ δ2) ⊙ relu′(z1) with δ2 = σ(0.487) − 1 = −0.3806: [0.5, 0.6]·(−0.3806) = [−0.1903, −0.2284]
    text = (HW / "r10_matrix_form.md").read_text(encoding="utf-8")
    claims = {c.step_id: c for c in check_text(text, load_spec(EX / "r10_relu_bce_matrix.yaml")).claims
              if c.step_id}
    assert claims["L1.delta"].verdict == "correct"
    assert claims["L1.dW"].verdict == "correct"     # δ1 xᵀ = [[−0.0952, −0.0571], [−0.1142, −0.0685]]


def test_r8_slips_and_misconceptions_in_plain_text():
    spec = load_spec(EX / "r8_linear_chain.yaml")
    text = (HW / "r8_linear_chain.txt").read_text(encoding="utf-8")
    text = text.replace("a2 = w2*a1 + b2 = 3*2 + 1 = 7", "a2 = w2*a1 + b2 = 3*2 + 1 = 8")   # slip: 7
    text = text.replace("0.5 * (7 - 5)^2 = 2", "0.5 * (8 - 5)^2 = 4.5")                   # from the slip
    text = text.replace("dL/da2 = a2 - y = 2", "dL/da2 = a2 - y = 3")                      # from the slip
    text = text.replace("w2_new = 3 - 0.1 * 4 = 2.6", "w2_new = 3 + 0.1 * 4 = 3.4")      # sign flip
    report = check_text(text, spec)
    by_step = {}
    for c in report.claims:
        by_step.setdefault(c.step_id, c)
    assert by_step["L2.a"].verdict == "wrong" and by_step["L2.a"].expected == pytest.approx(7)
    # L = ½(8 − 5)² = 4.5 and ∂L/∂a2 = 8 − 5 = 3 follow from the slip: carried, not wrong again
    assert by_step["loss"].verdict == "carried" and by_step["L2.da"].verdict == "carried"
    assert by_step["L2.W_new"].verdict == "wrong"
    assert by_step["L2.W_new"].misconception == "update_sign"
    assert report.summary["counts"]["wrong"] == 2


def test_messy_work_with_three_mistakes():
    # slip: 0.15·0.5 + 0.2·0.8 + 0.35 = 0.585 (written 0.595); E written without ½;
    # δo written as ŷ − y without σ′ (its value −0.2387 stands on line 14); everything else follows
    spec = load_spec(EX / "r2_two_layer_sigmoid.yaml")
    report = check_text((HW / "r2_messy_wrong.md").read_text(encoding="utf-8"), spec)
    wrong = [(c.line, c.misconception) for c in report.claims if c.verdict == "wrong"]
    assert wrong == [(6, "arithmetic_slip"), (11, "missing_half"), (14, "missing_activation_derivative")]
    assert report.summary["counts"]["carried"] >= 5
    assert [c.line for c in report.claims if c.verdict == "carried"][0] == 6   # σ(0.595) right from 0.595


def test_table_of_values_under_a_header():
    # σ(0.715) = 1/(1 + e^−0.715) = 0.6715; the table says 0.6815 for out_h2
    spec = load_spec(EX / "r2_two_layer_sigmoid.yaml")
    text = (HW / "r2_table.md").read_text(encoding="utf-8")
    report = check_text(text, spec)
    assert report.ok and report.summary["judged"] == 8
    assert {c.step_id for c in report.claims} >= {"L1.z", "L1.a", "L2.z", "L2.a", "loss", "L2.dW"}
    bad = check_text(text.replace("0.6715", "0.6815"), spec)
    assert [(c.label, c.verdict) for c in bad.claims if c.verdict != "correct"] == [("out_h2", "wrong")]


def test_softmax_shortcut_sample():
    # with ½Σ(p − y)² the output δ is Jᵀ(p − y), not p − y = 0.5619 − 1 = −0.4381; what follows
    # from −0.4381 (∂L/∂w = −0.4381 × 0.71, the update) is carried, not wrong again
    spec = load_spec(EX / "r5_dog_cat_softmax_mse.yaml")
    report = check_text((HW / "r5_softmax_shortcut_wrong.md").read_text(encoding="utf-8"), spec)
    wrong = [(c.line, c.misconception) for c in report.claims if c.verdict == "wrong"]
    assert wrong == [(15, "softmax_shortcut_with_squared_loss")]
    assert {c.line for c in report.claims if c.verdict == "carried"} == {16, 17}


def test_maxpool_gradient_sent_everywhere_is_named():
    # all four conv outputs tie at 3 × 0.8 − 1 = 1.4; the course rule sends ∂L/∂pool = 0.6·(σ(0.94) − 1)
    # = −0.1685 to the first position only; the student spread it over all four
    spec = load_spec(EX / "r3_cnn_edge.yaml")
    report = check_text((HW / "r3_cnn_maxpool_wrong.md").read_text(encoding="utf-8"), spec)
    assert [(c.line, c.misconception) for c in report.claims if c.verdict == "wrong"] == \
        [(17, "maxpool_gradient_spread")]
