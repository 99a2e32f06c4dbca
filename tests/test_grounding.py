"""The numeric grounding guard: a number is grounded when an allowed value rounds to it as written."""
from __future__ import annotations

import math

from nn_tutor.agent.grounding import Grounding, grounding_for, numbers_in

Y_HAT = 1 / (1 + math.exp(-1.1590641))  # R2's prediction σ(z2), z2 from 0.4·σ(0.585) + 0.45·σ(0.715) + 0.6


def test_shown_precision_is_respected():
    g = Grounding([Y_HAT])  # 0.76116...
    assert g.ungrounded("ŷ = 0.7612, about 0.76, or 0.761") == []
    assert g.ungrounded("ŷ = 0.7613") == ["0.7613"]
    assert g.ungrounded("ŷ = 0.7") == ["0.7"]  # 0.76116 rounds to 0.8 at one decimal


def test_identifiers_small_integers_and_citations_are_not_numbers():
    g = Grounding([0.585])
    text = "In `L1.z` (layer 1, neuron 2 of 2, w5 and x₁) z = 0.585 [card-rag-101] R2 has 3 layers."
    assert g.ungrounded(text) == []
    assert g.ungrounded("there are 42 neurons") == ["42"]


def test_sign_and_percent_forms():
    g = Grounding([-0.0434, 0.25])
    assert g.ungrounded("δ = −0.0434; it is 0.0434 in size; a 25% share") == []
    assert g.ungrounded("a 26% share") == ["26%"]


def test_unicode_minus_and_scientific():
    g = Grounding([1.2345e-6])
    assert g.ungrounded("tiny: 1.234e-6") == []
    assert g.ungrounded("tiny: 9.9e-6") == ["9.9e-6"]


def test_grounding_for_collects_user_text_and_results():
    g = grounding_for(["my x is 0.37"], [{"loss": 0.0285, "steps": [{"value": [0.5, 1.25]}]}])
    assert g.ungrounded("x = 0.37, loss 0.0285, a = 1.25") == []
    assert g.ungrounded("loss 0.0286") == ["0.0286"]


def test_numbers_in_skips_digits_inside_names():
    assert numbers_in("L1.z = 0.5, w_2 = 3, 12%") == [0.5, 3.0, 12.0, 0.12]
