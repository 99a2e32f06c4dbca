"""Outputs named by their classes (spec `classes: [dog, cat]`): p_dog, p(dog), P(cat), ŷ_dog, z_cat,
δ_dog, ∂L/∂z_dog ... are the last layer's elements, dog the first output and cat the second.

R5 by hand (examples/r5_dog_cat_softmax_mse.yaml: x = [0.9, 0.2, 0.8, 0.3], the target is dog):
  a1 = relu(W1·x + b1) = [0.71, 0.44, 0.27]
  z_dog = 0.8·0.71 + 0.6·0.44 + 0.3·0.27 − 0.2 = 0.713;  z_cat = 0.3·0.71 + 0.7·0.44 + 0.9·0.27 − 0.3 = 0.464
  p_dog = e^z_dog / (e^z_dog + e^z_cat) = σ(0.249) = 0.561930;  p_cat = 1 − p_dog = 0.438070
  L = ½[(p_dog − 1)² + p_cat²] = p_cat² = 0.191905
  ∂L/∂p = p − y = [−p_cat, p_cat];  softmax Jacobian J = [[q, −q], [−q, q]] with q = p_dog·p_cat = 0.246165
  δ = Jᵀ·∂L/∂p: δ_dog = −p_cat·q − p_cat·q = −2·p_cat·q = −0.215674;  δ_cat = +0.215674
"""
from __future__ import annotations

import math

import pytest

from nn_tutor.engine.kinds import walk
from nn_tutor.engine.spec import load_spec
from nn_tutor.tools.homework import align_name, check_text, normalise_line
from reference import EX

SPEC = load_spec(EX / "r5_dog_cat_softmax_mse.yaml")
SAMPLE = (EX / "homework/r5_class_names.md").read_text(encoding="utf-8")

P_DOG = 1 / (1 + math.exp(-(0.713 - 0.464)))
P_CAT = 1 - P_DOG
Q = P_DOG * P_CAT
DELTA_DOG = -2 * P_CAT * Q


@pytest.fixture(scope="module")
def trace():
    return walk(SPEC)


@pytest.mark.parametrize("written, expected", [
    ("p_dog", ("L2.a", (0,))), ("p(cat)", ("L2.a", (1,))), ("P(dog)", ("L2.a", (0,))),
    ("P(y = cat | x)", ("L2.a", (1,))), ("ŷ_dog", ("L2.a", (0,))), ("\\hat{y}_{cat}", ("L2.a", (1,))),
    ("z_cat", ("L2.z", (1,))), ("δ_dog", ("L2.delta", (0,))), ("y_cat", ("y", (1,))),
    ("b_dog", ("L2.b", (0,))), ("b_cat_new", ("L2.b_new", (1,))), ("p_dog_new", ("after.L2.a", (0,))),
    ("∂L/∂z_dog", ("L2.delta", (0,))), ("∂L/∂p_cat", ("L2.da", (1,))), ("∂E/∂ŷ_dog", ("L2.da", (0,))),
    ("∂L/∂b_cat", ("L2.db", (1,))), ("∂p_dog/∂z_cat", ("L2.dadz", (0, 1))),
    ("\\frac{\\partial L}{\\partial z_{cat}}", ("L2.delta", (1,))),
])
def test_class_names_align_to_one_element_of_the_last_layer(trace, written, expected):
    name = normalise_line(written).replace(" ", "")
    assert align_name(name, None, trace) == [expected]


def test_probability_notation_is_read_only_for_words():
    assert normalise_line("P(y = cat | x) = 0.44") == "P_cat = 0.44"
    assert normalise_line("p(dog) = 0.5619") == "p_dog = 0.5619"
    assert normalise_line("p(1 − p)") == "p(1 − p)"         # a product, not a class
    assert normalise_line("ŷ(1 − ŷ)") == "ŷ(1 − ŷ)"


def test_a_name_that_is_not_a_class_aligns_to_nothing(trace):
    assert align_name("p_horse", None, trace) == []
    assert align_name("dog", None, trace) == []


def test_sample_worked_with_class_names_is_right_and_aligned():
    report = check_text(SAMPLE, SPEC)
    assert report.ok and report.summary["counts"]["unchecked"] == 0
    by_label = {}
    for c in report.claims:
        if c.step_id:
            by_label[c.label] = c
    assert (by_label["z_dog"].step_id, by_label["z_dog"].index) == ("L2.z", (0,))
    assert by_label["z_dog"].expected == pytest.approx(0.713)
    assert (by_label["p_cat"].step_id, by_label["p_cat"].index) == ("L2.a", (1,))
    assert by_label["p_cat"].expected == pytest.approx(P_CAT)
    assert (by_label["δ_dog"].step_id, by_label["δ_dog"].index) == ("L2.delta", (0,))
    assert by_label["δ_dog"].expected == pytest.approx(DELTA_DOG)
    assert by_label["L"].expected == pytest.approx(P_CAT ** 2)
    assert (by_label["∂p_cat/∂z_dog"].step_id, by_label["∂p_cat/∂z_dog"].expected) == \
        ("L2.dadz", pytest.approx(-Q))
    # b_dog_new = −0.2 − 0.01·δ_dog
    assert by_label["b_dog_new"].expected == pytest.approx(-0.2 - 0.01 * DELTA_DOG)


def test_mixed_class_notations_and_a_slip():
    text = ("z_dog = 0.713\nz_cat = 0.464\nŷ_dog = 0.5619\nP(cat) = 0.4381\n"
            "∂L/∂z_dog = −0.2157\nδ_cat = 0.2157\n")
    report = check_text(text, SPEC)
    assert report.ok and report.summary["judged"] == 6
    assert {c.step_id for c in report.claims} == {"L2.z", "L2.a", "L2.delta"}
    bad = check_text(text.replace("P(cat) = 0.4381", "P(cat) = 0.4481"), SPEC)
    wrong = [c for c in bad.claims if c.verdict == "wrong"]
    assert [(c.line, c.step_id, c.index) for c in wrong] == [(4, "L2.a", (1,))]
    assert wrong[0].expected == pytest.approx(P_CAT)


def test_softmax_shortcut_with_class_names_is_named_and_carried():
    # δ_dog = p_dog − y_dog = −0.4381 is the cross-entropy shortcut; what follows from it is carried:
    # −0.4381 × 0.71 = −0.3111, 0.8 + 0.01 × 0.3111 = 0.8031, −0.2 + 0.01 × 0.4381 = −0.1956
    text = SAMPLE
    for old, new in [
        ("δ_dog = ∂L/∂p_dog·∂p_dog/∂z_dog + ∂L/∂p_cat·∂p_cat/∂z_dog = −0.4381 × 0.2462 + 0.4381 × (−0.2462)"
         " = −0.2157", "δ_dog = p_dog − y_dog = −0.4381"),
        ("∂L/∂b_dog = δ_dog = −0.2157", "∂L/∂b_dog = δ_dog = −0.4381"),
        ("δ_dog · a1[0] = −0.2157 × 0.71 = −0.1531", "δ_dog · a1[0] = −0.4381 × 0.71 = −0.3111"),
        ("0.8 − 0.01 × (−0.1531) = 0.8015", "0.8 − 0.01 × (−0.3111) = 0.8031"),
        ("−0.2 − 0.01 × (−0.2157) = −0.1978", "−0.2 − 0.01 × (−0.4381) = −0.1956"),
    ]:
        assert old in text
        text = text.replace(old, new)
    report = check_text(text, SPEC)
    wrong = [(c.label, c.misconception) for c in report.claims if c.verdict == "wrong"]
    assert wrong == [("δ_dog", "softmax_shortcut_with_squared_loss")]
    carried = {c.label for c in report.claims if c.verdict == "carried"}
    assert {"∂L/∂b_dog", "∂L/∂W2[0, 0]", "W2_new[0, 0]", "b_dog_new"} <= carried


def test_without_classes_in_the_spec_class_names_are_not_guessed():
    spec = {k: v for k, v in SPEC.items() if k != "classes"}
    report = check_text(SAMPLE, spec)
    assert report.ok
    # the numbers still find their steps by value and formula, never by a class name the spec lacks
    named = [c for c in report.claims if c.label in ("z_dog", "p_cat", "δ_dog")]
    assert named and not [c for c in named if any(e.startswith("name:") for e in c.evidence)]
