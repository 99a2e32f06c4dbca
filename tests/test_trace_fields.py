"""Typed step fields: what each step of a network is, without reading its id, label or formula."""
from __future__ import annotations

from pathlib import Path

import pytest

from nn_tutor.engine.kinds import walk
from nn_tutor.engine.spec import load_spec
from nn_tutor.engine.trace import QUANTITIES

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_r2_steps_say_what_they_are():
    trace = walk(load_spec(str(EXAMPLES / "r2_two_layer_sigmoid.yaml")))
    expected = {  # written from the R2 network: two sigmoid dense layers, ½·SSE, one SGD step
        "x": ("input", None, None), "L1.W": ("weights", 1, None), "L2.b": ("biases", 2, None),
        "L1.z": ("pre_activation", 1, "sigmoid"), "L2.a": ("activation", 2, "sigmoid"),
        "loss": ("loss", None, None), "L2.da": ("grad_activation", 2, None),
        "L2.dadz": ("activation_derivative", 2, "sigmoid"), "L2.delta": ("delta", 2, "sigmoid"),
        "L1.da": ("grad_activation", 1, None), "L1.dW": ("grad_weights", 1, None),
        "L2.db": ("grad_biases", 2, None), "lr": ("learning_rate", None, None),
        "L2.W_new": ("updated_weights", 2, None), "L1.b_new": ("updated_biases", 1, None),
        "after.L2.a": ("activation", 2, "sigmoid"), "after.loss": ("loss", None, None),
    }
    for sid, fields in expected.items():
        step = trace[sid]
        assert (step.quantity, step.layer, step.activation) == fields, sid
    assert trace["after.L1.z"].phase == "after" and trace["L1.z"].phase == "forward"


def test_conv_gradient_of_a_map_without_activation_is_delta():
    # r3: conv (no activation) -> relu layer -> maxpool -> flatten -> dense sigmoid
    trace = walk(load_spec(str(EXAMPLES / "r3_cnn_edge.yaml")))
    assert trace["L1.z"].quantity == "pre_activation" and trace["L1.z"].activation is None
    assert trace["L2.a"].quantity == "activation" and trace["L2.a"].activation == "relu"
    assert trace["L3.a"].quantity == "pool" and trace["L3.mask"].quantity == "pool_mask"
    assert trace["L1.delta"].quantity == "delta"          # ∂L/∂z1, made by the relu layer going back
    assert trace["L2.da"].quantity == "grad_activation"    # ∂L/∂a2, made by the pool going back


NETWORKS = sorted(p.name for p in EXAMPLES.glob("r*.yaml")
                  if load_spec(str(p)).get("kind", "network") in ("network", "perceptron"))


@pytest.mark.parametrize("path", NETWORKS)
def test_every_network_step_is_typed(path):
    for step in walk(load_spec(str(EXAMPLES / path))):
        assert step.quantity in QUANTITIES, step.id
