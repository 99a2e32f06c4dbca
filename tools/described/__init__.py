"""A network described in words -> the engine's spec, deterministically, with every guess named.

`read_network(text)` reads the textbook pattern: inputs and targets, weights per neuron ("h1 has
weights 0.15 (from x1) and 0.20 (from x2)") or numbered w1…w8 (with "from x1" where given), biases
per neuron or per layer, activations and the loss named in words, the learning rate. It never
invents a number: what the text does not state is either a named default (listed in `guessed`, so
the tutor asks before computing) or, when nothing sensible can stand in, a `missing` item that the
tutor turns into a one-line request with a template to fill in. The LLM path reads the same text;
this reader is what the tutor uses offline and whenever the model's reading fails its checks.
"""
from __future__ import annotations

from nn_tutor.tools.described.assemble import Reading, assemble
from nn_tutor.tools.described.facts import read_facts

__all__ = ["Reading", "read_network", "TEMPLATE"]

TEMPLATE = ("inputs x1 = 0.5, x2 = 0.8; target 1; h1 has weights 0.15 (from x1) and 0.20 (from x2), "
            "bias 0.35; h2 has weights 0.25 and 0.30, bias 0.35; o1 has weights 0.40 (from h1) and "
            "0.45 (from h2), bias 0.60; sigmoid everywhere; squared error loss; learning rate 0.5")


def read_network(text: str) -> Reading:
    """Read a network described in words; see the module docstring for what is understood."""
    return assemble(read_facts(text))
