"""Names -> steps: the ids the tutor prints, the names the checker accepts, the phrases students use,
and follow-ups read against the step in focus. Expected steps follow the course's naming of R2
(w1…w4 into the hidden layer row by row, w5 and w6 into o1; h = hidden, o = output; see the note
under every R2 walkthrough)."""
from __future__ import annotations

import pytest

from nn_tutor.agent.names import Focus, find, follow_up, resolve
from nn_tutor.agent.router import pasted_spec
from nn_tutor.tools.engine_tools import trace_for
from specs import R2_YAML

TRACE = trace_for(pasted_spec(R2_YAML))


@pytest.mark.parametrize("name, step, index", [
    ("L2.dW", "L2.dW", None), ("L1.dW[0][1]", "L1.dW", (0, 1)), ("L1.dW[0, 1]", "L1.dW", (0, 1)),
    ("after.loss", "after.loss", None),                              # ids as the tutor prints them
    ("w5", "L2.W", (0, 0)), ("w2", "L1.W", (0, 1)), ("w3", "L1.W", (1, 0)),
    ("net_h1", "L1.z", (0,)), ("out_h2", "L1.a", (1,)), ("net_o1", "L2.z", (0,)), ("δ_o1", "L2.delta", (0,)),
    ("E_total", "loss", None), ("w5_new", "L2.W_new", (0, 0)),         # the checker's names
    ("∂E/∂w5", "L2.dW", (0, 0)), ("dE/dw5", "L2.dW", (0, 0)), ("dL/dw5", "L2.dW", (0, 0)),
    ("the gradient for w5", "L2.dW", (0, 0)), ("w5's gradient", "L2.dW", (0, 0)),  # a gradient, not the weight
])
def test_every_name_resolves_to_its_step(name, step, index):
    found = resolve(name, TRACE)
    assert found is not None and (found.step, found.index) == (step, index)


@pytest.mark.parametrize("name", ["layer2", "L9.z", "L1.z[5]", "w9"])
def test_a_name_this_network_does_not_have_resolves_to_nothing(name):
    assert resolve(name, TRACE) is None


@pytest.mark.parametrize("sentence, step, index", [
    ("why is the gradient for w5 negative?", "L2.dW", (0, 0)),
    ("what is the derivative of the loss with respect to w6?", "L2.dW", (0, 1)),
    ("explain net_h2", "L1.z", (1,)),
    ("why is L1.dW[1][0] so small", "L1.dW", (1, 0)),
])
def test_the_step_a_sentence_is_about(sentence, step, index):
    found = find(sentence, TRACE)
    assert (found.step, found.index) == (step, index)


def test_follow_ups_keep_the_kind_of_quantity_in_focus():
    gradient = Focus("L2.dW", (0, 0), "∂L/∂w5")
    assert follow_up("what about w6?", gradient, TRACE) == Focus("L2.dW", (0, 1), "∂L/∂w6")
    assert follow_up("and w1?", gradient, TRACE) == Focus("L1.dW", (0, 0), "∂L/∂w1")
    # the bias of the neuron w5 feeds (o1): its gradient, since a gradient is in focus
    assert follow_up("and the bias?", gradient, TRACE).step == "L2.db"
    assert follow_up("and the bias?", gradient, TRACE).index == (0,)
    updated = Focus("L2.W_new", (0, 0), "w5 after the update")
    assert follow_up("what about w6?", updated, TRACE) == Focus("L2.W_new", (0, 1), "w6 after the update")
    # w3 is the weight from x1 into h2: "and the bias?" is h2's bias
    assert follow_up("and the bias?", Focus("L1.W", (1, 0), "w3"), TRACE).index == (1,)
    assert follow_up("what about w6?", None, TRACE) is None  # nothing in focus: not a follow-up
