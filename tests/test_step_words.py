"""Step explanations in words, from the typed trace: every step of every example has words (no
template left unfilled), each names its own factors, and a gradient's sign is explained from them."""
from __future__ import annotations

from pathlib import Path

import pytest

from nn_tutor.agent.step_words import TEMPLATES, sign_words, step_words
from nn_tutor.engine.spec import load_spec
from nn_tutor.tools.engine_tools import trace_for

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted([*ROOT.glob("examples/*.yaml"), *ROOT.glob("examples/llm/*.yaml")])  # homework/ holds answers
R2 = trace_for(load_spec(ROOT / "examples" / "r2_two_layer_sigmoid.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_step_of_every_example_has_words(path):
    trace = trace_for(load_spec(path))
    for step in trace:
        words = step_words(trace, step.id)
        assert f"`{step.id}`" in words and "{" not in words, (step.id, words)
        assert not step.quantity or step.quantity in TEMPLATES, step.quantity


@pytest.mark.parametrize("step, phrases", [
    ("L1.z", ["z = W·a_prev + b", "`L1.W`", "the input `x`", "`L1.b`"]),
    ("L2.z", ["`L2.W`", "`L1.a`"]),                             # layer 2 reads layer 1's output
    ("L1.a", ["sigmoid(z)", "into (0, 1)"]),
    ("L2.dadz", ["σ′(z) = a·(1 − a)"]),
    ("L2.da", ["At the output it comes straight from the loss"]),
    ("L1.da", ["Wᵀ·δ of layer 2"]),                             # a hidden layer's ∂L/∂a comes from above
    ("L2.delta", ["δ = ∂L/∂z for layer 2", "chain rule"]),
    ("L2.dW", ["δ·a_prevᵀ", "(`L1.a`)"]),
    ("L1.db", ["its gradient is δ itself"]),
    ("L2.W_new", ["W ← W − η·∂L/∂W"]),
])
def test_words_name_the_factors_of_each_step(step, phrases):
    words = step_words(R2, step)
    for phrase in phrases:
        assert phrase in words, (step, phrase, words)


def test_the_sign_of_a_gradient_is_explained_from_its_factors():
    # ∂L/∂w5 = δ2 · a1[0]; by hand δ2 = (0.7612 − 1)·0.7612·(1 − 0.7612) = −0.2388 × 0.1818 = −0.0434 and
    # a1[0] = σ(0.585) = 0.6422: negative, so the update raises w5
    words = sign_words(R2, "L2.dW", (0, 0))
    assert words.startswith("It is negative because it is δ = -0.0434 (`L2.delta`) times the input 0.6422 (`L1.a`)")
    assert "the update raises it" in words
    assert sign_words(R2, "L2.db", (0,)) == "It is negative because it equals δ = -0.0434 (`L2.delta`)."
    assert sign_words(R2, "L1.z", (0,)) == ""  # not a gradient: nothing to say about its sign
