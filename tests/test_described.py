"""The reader of networks described in words: every number placed where the text says, every gap
either a named guess or a one-line request. Expected specs are read off each text by hand."""
from __future__ import annotations

import pytest

from nn_tutor.tools.described import TEMPLATE, read_network
from nn_tutor.tools.engine_tools import validate_spec

# R2 in the course's words: row i of W holds the weights into neuron i, in input order
R2_TEXT = ("My network: inputs x1 = 0.5 and x2 = 0.8, target 1. Hidden neuron h1 has weights 0.15 (from x1) "
           "and 0.20 (from x2), bias 0.35; h2 has weights 0.25 and 0.30, bias 0.35. Output o1 has weights "
           "0.40 and 0.45, bias 0.60. All sigmoid, loss half the sum of squared errors, learning rate 0.5.")
R2_SPEC = {"input": [0.5, 0.8], "target": [1.0],
           "layers": [{"dense": {"W": [[0.15, 0.2], [0.25, 0.3]], "b": [0.35, 0.35], "activation": "sigmoid"}},
                      {"dense": {"W": [[0.4, 0.45]], "b": [0.6], "activation": "sigmoid"}}],
           "loss": "half_sse", "learning_rate": 0.5}
# the 2-2-2 textbook network with numbered weights and where each goes
NUMBERED = ("inputs x1 = 0.05, x2 = 0.10, target t1 = 0.01, t2 = 0.99. w1 = 0.15 (x1 -> h1), w2 = 0.20 (x2 -> h1), "
            "w3 = 0.25 (x1 -> h2), w4 = 0.30 (x2 -> h2), w5 = 0.40 (h1 -> o1), w6 = 0.45 (h2 -> o1), "
            "w7 = 0.50 (h1 -> o2), w8 = 0.55 (h2 -> o2). b1 = 0.35 for the hidden layer, b2 = 0.60 for the "
            "output layer. Sigmoid activations; mean squared error; η = 0.5")
NUMBERED_LAYERS = [{"dense": {"W": [[0.15, 0.2], [0.25, 0.3]], "b": [0.35, 0.35], "activation": "sigmoid"}},
                   {"dense": {"W": [[0.4, 0.45], [0.5, 0.55]], "b": [0.6, 0.6], "activation": "sigmoid"}}]


def test_the_textbook_pattern_is_read_whole_with_nothing_guessed():
    reading = read_network(R2_TEXT)
    assert reading.complete and reading.spec == R2_SPEC
    validate_spec(reading.spec)  # and the engine can compute it


def test_numbered_weights_go_where_the_text_sends_them():
    reading = read_network(NUMBERED)
    assert reading.complete
    assert reading.spec["layers"] == NUMBERED_LAYERS
    assert (reading.spec["input"], reading.spec["target"]) == ([0.05, 0.1], [0.01, 0.99])
    assert (reading.spec["loss"], reading.spec["learning_rate"]) == ("mse", 0.5)


def test_numbered_weights_without_routes_are_placed_neuron_by_neuron_and_named_as_a_guess():
    plain = NUMBERED.split(". w1")[0] + ". w1 = 0.15, w2 = 0.20, w3 = 0.25, w4 = 0.30, w5 = 0.40, w6 = 0.45, " \
        "w7 = 0.50, w8 = 0.55. b1 = 0.35 for the hidden layer, b2 = 0.60 for the output layer. Sigmoid; mse; η = 0.5"
    reading = read_network(plain)
    assert reading.spec["layers"] == NUMBERED_LAYERS  # the checker's numbering: w1 x1→h1, w2 x2→h1, ...
    assert reading.guessed == ["numbered weights read neuron by neuron (w1: x1→h1, w2: x2→h1, w3: x1→h2, "
                               "w4: x2→h2, ...)"]


def test_matrices_activations_per_layer_and_the_loss_named_in_words():
    reading = read_network("x = [1, 2], target 0; W1 = [[0.1, -0.2], [0.3, 0.4]], b1 = [0, 0.1], "
                           "W2 = [[0.5, -0.5]], b2 = [0.2]; relu hidden, sigmoid output; binary cross-entropy; "
                           "learning rate 0.1")
    assert reading.complete
    assert [layer["dense"]["activation"] for layer in reading.spec["layers"]] == ["relu", "sigmoid"]
    assert reading.spec["layers"][0]["dense"]["W"] == [[0.1, -0.2], [0.3, 0.4]]
    assert (reading.spec["loss"], reading.spec["learning_rate"]) == ("bce", 0.1)


@pytest.mark.parametrize("words, loss", [("loss half the sum of squared errors", "half_sse"),
                                         ("loss ½ sum of squared errors", "half_sse"),
                                         ("sum of squared errors", "sse"),
                                         ("mean squared error", "mse"),
                                         ("cross-entropy loss", "bce")])  # one output: the binary one
def test_loss_words(words, loss):
    reading = read_network(R2_TEXT.replace("loss half the sum of squared errors", words))
    assert reading.complete and reading.spec["loss"] == loss


def test_a_single_neuron_from_loose_weights():
    reading = read_network("a single neuron with inputs x1 = 2 and x2 = 3, weights 0.5 and -1, bias 1, target 1, "
                           "linear activation, mean squared error, learning rate 0.01")
    assert reading.complete
    assert reading.spec["layers"] == [{"dense": {"W": [[0.5, -1.0]], "b": [1.0], "activation": "linear"}}]


def test_every_default_used_is_listed_as_a_guess():
    reading = read_network("inputs x1 = 0.5 and x2 = 0.8, target 1; o1 has weights 0.4 and 0.45")
    assert reading.spec == {"input": [0.5, 0.8], "target": [1.0],
                            "layers": [{"dense": {"W": [[0.4, 0.45]], "b": [0.0], "activation": "sigmoid"}}],
                            "loss": "half_sse", "learning_rate": 0.5}
    assert reading.guessed == ["bias 0 for o1 (not stated)", "sigmoid activation for the output layer (not stated)",
                               "loss ½·Σ(ŷ − y)² (not stated)", "learning rate η = 0.5 (not stated)"]
    # "squared error" alone is read as ½·Σ(ŷ − y)², and the reading says how to ask for the other forms
    squared = read_network(R2_TEXT.replace("loss half the sum of squared errors", "squared error loss"))
    assert squared.spec["loss"] == "half_sse" and "sum of squared errors" in squared.guessed[0]


@pytest.mark.parametrize("text, missing", [
    ("h1 has weights 0.15 and 0.2; o1 has weights 0.4 and 0.45", ["the inputs (e.g. 'inputs x1 = 0.5, x2 = 0.8')"]),
    ("inputs x1 = 0.5 and x2 = 0.8; o1 has weights 0.4 and 0.45", ["the target (e.g. 'target 1')"]),
    ("2 inputs, 2 hidden sigmoid neurons and 1 output", ["the inputs (e.g. 'inputs x1 = 0.5, x2 = 0.8')",
                                                         "the weights (e.g. 'h1 has weights 0.15 and 0.20')"]),
    ("one neuron: inputs 2 and 3, weights 0.5, -1 and 4, target 1", ["one weight per input: 2 inputs but 3 weight(s)"]),
])
def test_what_cannot_be_read_is_named(text, missing):
    reading = read_network(text)
    assert reading.spec is None and reading.missing == missing


def test_the_template_shown_to_the_student_reads_back_whole():
    reading = read_network(TEMPLATE)
    # the template says "squared error loss": everything is stated but how the squared error is scaled
    assert reading.spec == R2_SPEC and reading.missing == [] and len(reading.guessed) == 1
