"""Prose that names what it computes: `the gradient for w5 is …`, `with respect to the prediction`,
`for w6 it is …` in the same sentence, `delta_out`.

R2 (examples/r2_two_layer_sigmoid.yaml) by hand: out_h1 = σ(0.585) = 0.6422, out_h2 = σ(0.715) = 0.6715,
ŷ = σ(0.40·0.6422 + 0.45·0.6715 + 0.60) = σ(1.1591) = 0.7612; with ½(y − ŷ)² and y = 1,
∂L/∂ŷ = ŷ − 1 = −0.2388, δ_o = −0.2388·0.7612·0.2388 = −0.0434, ∂L/∂w5 = δ_o·out_h1 = −0.0279,
∂L/∂w6 = δ_o·out_h2 = −0.0292 (−0.0434·0.6715 = −0.0291 from the rounded δ_o), ∂L/∂b3 = δ_o.
"""
from __future__ import annotations

import math

import pytest

from nn_tutor.engine.spec import load_spec, parse_text
from nn_tutor.tools.homework import check_text

R2 = "examples/r2_two_layer_sigmoid.yaml"


def sig(z):
    return 1 / (1 + math.exp(-z))


def test_hand_values():
    yhat = sig(0.40 * sig(0.585) + 0.45 * sig(0.715) + 0.60)
    delta = (yhat - 1) * yhat * (1 - yhat)
    assert round(yhat, 4) == 0.7612 and round(yhat - 1, 4) == -0.2388 and round(delta, 4) == -0.0434
    assert round(delta * sig(0.585), 4) == -0.0279 and round(delta * sig(0.715), 4) == -0.0292


TEXT = ("The output is about 0.7612. The derivative of the loss with respect to the prediction is 0.7612 "
        "minus 1, that is -0.2388, and delta_out = -0.0434.\n"
        "So the gradient for w5 is -0.0434 times 0.6422 = -0.0279, for w6 it is -0.0434 times 0.6715 = {w6}, "
        "and for b3 it is -0.0434.\n")


@pytest.fixture(scope="module")
def r2():
    return load_spec(R2)


def test_each_gradient_named_in_words_is_pinned_to_its_step(r2):
    claims = check_text(TEXT.format(w6="-0.0291"), r2).claims
    steps = [(c.step_id, c.index) for c in claims if c.step_id]
    for expected in [("L2.da", (0,)), ("L2.delta", (0,)), ("L2.dW", (0, 0)), ("L2.dW", (0, 1)), ("L2.db", (0,))]:
        assert expected in steps, [(c.text, c.step_id, c.index) for c in claims]
    assert all(c.verdict in ("correct", "rounding") for c in claims), [(c.text, c.verdict) for c in claims]


def test_a_slip_in_the_second_gradient_of_a_sentence_is_found_there(r2):
    claims = check_text(TEXT.format(w6="-0.0391"), r2).claims
    wrong = [(c.step_id, c.index) for c in claims if c.verdict == "wrong"]
    assert wrong == [("L2.dW", (0, 1))], [(c.text, c.verdict, c.step_id) for c in claims]


def test_a_weights_name_on_its_gradients_value_states_the_gradient(r2):
    yhat = sig(0.40 * sig(0.585) + 0.45 * sig(0.715) + 0.60)
    delta_h1 = (yhat - 1) * yhat * (1 - yhat) * 0.40 * sig(0.585) * (1 - sig(0.585))
    g1, g2 = delta_h1 * 0.5, delta_h1 * 0.8          # ∂L/∂w1 = δ_h1·x1, ∂L/∂w2 = δ_h1·x2
    assert (round(g1, 5), round(g2, 5)) == (-0.00200, -0.00319)
    text = "The input weights get delta times input: w1 gets -0.00200 and w2 gets -0.00319, it's small.\n"
    claims = check_text(text, r2).claims
    assert [(c.step_id, c.index, c.verdict) for c in claims] == [
        ("L1.dW", (0, 0), "correct"), ("L1.dW", (0, 1), "correct")], [(c.text, c.step_id, c.verdict) for c in claims]


def test_a_sum_before_the_bias_is_a_step_on_the_way_only_when_the_bias_follows(r2):
    # net_h1 = 0.15·0.5 + 0.20·0.8 + 0.35: 0.075 + 0.16 = 0.235 before the bias, 0.585 with it
    shown = check_text("The first hidden unit sums 0.075 + 0.16 = 0.235, and with the bias 0.35 that is 0.585.\n",
                       r2).claims
    assert [c.verdict for c in shown] == ["correct", "correct"], [(c.text, c.verdict, c.step_id) for c in shown]
    assert shown[0].step_id is not None and shown[-1].step_id == "L1.z"      # both pinned
    forgotten = check_text("net_h1 = 0.075 + 0.16 = 0.235\n", r2).claims
    assert [(c.verdict, c.misconception) for c in forgotten] == [("wrong", "missing_bias")], \
        [(c.text, c.verdict, c.misconception) for c in forgotten]


def test_for_a_weight_after_the_gradient_is_spoken_of(r2):
    # ∂L/∂w5 = δ_o·out_h1 = −0.0434·0.6422 = −0.0279 (module docstring); written with `i.e.` and a slip
    text = ("Now the gradient, weight by weight. For w5 that is -0.0434 times 0.6422, i.e. -0.0279. "
            "For w6 that is -0.0434 times 0.6715, i.e. -0.0391.\n")
    claims = [c for c in check_text(text, r2).claims if c.step_id == "L2.dW"]
    assert [(c.index, c.verdict) for c in claims] == [((0, 0), "correct"), ((0, 1), "wrong")], \
        [(c.text, c.step_id, c.verdict) for c in check_text(text, r2).claims]


def test_a_list_of_numbers_a_fraction_of_a_sum_and_a_one_letter_name():
    spec = parse_text("input: [[1, 0], [0, 1], [1, 1]]\ntarget: [[1], [0], [1]]\nlayers:\n"
                      "  - dense: {W: [[0.5, -0.2]], b: [0.1], activation: linear}\nloss: mse\nlearning_rate: 0.1\n")
    # ŷ = 0.6, −0.1, 0.4; errors −0.4, −0.1, −0.6 (sum −1.1); ∂L/∂b = (2/3)·(−1.1) = −0.7333;
    # b = 0.1 − 0.1·(−0.7333) = 0.1733
    text = ("The predictions are 0.6, -0.1, 0.4. The gradient for b is 2/3 of -1.1, which is -0.7333, "
            "so b becomes 0.1 + 0.1 × 0.7333 = 0.1733.\n")
    claims = check_text(text, spec).claims
    pinned = {c.step_id for c in claims if c.step_id}
    assert {"L1.db", "L1.b_new"} <= pinned and pinned & {"L1.z", "L1.a"}, [(c.text, c.step_id) for c in claims]
    assert all(c.verdict == "correct" for c in claims), [(c.text, c.verdict) for c in claims]
    assert any(c.text == "0.6, -0.1, 0.4" for c in claims)       # the list is one claim
