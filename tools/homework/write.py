"""A worked solution written as a student would, from a trace (for the no-false-alarm check and benchmarks).

`student_lines` gives one line per computed element (`z1[0] = 0.15×0.5 + 0.2×0.8 + 0.35 = 0.585`),
with indexed names or, for a 2-layer network, per-neuron names (net_h1, δ_o1, ∂E/∂w5, w5_new).
"""
from __future__ import annotations

import re

import numpy as np

from nn_tutor.engine.errors import NNTError
from nn_tutor.tools.homework.names import network_layers
from nn_tutor.tools.homework.statement import index_text

def student_name(step_id: str) -> str | None:
    """How a student names an engine step (z1, a2, δ2, ∂L/∂W1, W1_new, L, L_new); None: unnamed."""
    if step_id == "loss":
        return "L"
    if step_id == "after.loss":
        return "L_new"
    m = re.fullmatch(r"(after\.)?L(\d+)\.(z|a|da|dadz|delta|dW|db|W_new|b_new)", step_id)
    if not m:
        return None
    after, k, what = m.group(1), m.group(2), m.group(3)
    if after:
        return f"{what}{k}_new"
    return {"z": f"z{k}", "a": f"a{k}", "da": f"∂L/∂a{k}", "dadz": f"∂a{k}/∂z{k}", "delta": f"δ{k}",
            "dW": f"∂L/∂W{k}", "db": f"∂L/∂b{k}", "W_new": f"W{k}_new", "b_new": f"b{k}_new"}[what]


def neuron_name(step_id: str, idx: tuple, trace) -> str | None:
    """The per-neuron names of a 2-layer dense network (net_h1, out_o1, δ_h2, ∂E/∂w5, w5_new,
    ∂E/∂out_o1, ∂out_h1/∂net_h1, E_total); None where that style has no name."""
    dense, all_layers, last = network_layers(trace)
    if len(dense) != 2 or all_layers != dense or last != dense[-1] or \
            any(np.ndim(trace.display(f"L{k}.W")) != 2 for k in dense):
        return None
    if step_id == "loss":
        return "E_total"
    m = re.fullmatch(r"L(\d+)\.(z|a|da|dadz|delta|dW|db|W_new|b_new)", step_id)
    if not m or trace.batch_size != 1:
        return None
    k, what = int(m.group(1)), m.group(2)
    side = "h" if k == dense[0] else "o"
    if what in ("z", "a", "da", "dadz", "delta"):
        if len(idx) != 1:
            return None  # a softmax Jacobian has no per-neuron name
        n = f"{side}{idx[0] + 1}"
        return {"z": f"net_{n}", "a": f"out_{n}", "da": f"∂E/∂out_{n}", "dadz": f"∂out_{n}/∂net_{n}",
                "delta": f"δ_{n}"}[what]
    p = "W" if what in ("dW", "W_new") else "b"
    flat = 0
    for lay in dense:
        shape = np.shape(trace.display(f"L{lay}.{p}"))
        if lay == k:
            flat += int(np.ravel_multi_index(idx, shape)) + 1
            break
        flat += int(np.prod(shape))
    letter = "w" if p == "W" else "b"
    return f"∂E/∂{letter}{flat}" if what in ("dW", "db") else f"{letter}{flat}_new"


def class_name(step_id: str, idx: tuple, trace) -> str | None:
    """The names of an output-layer element when the spec names its classes (p_dog, z_cat, δ_dog,
    ∂L/∂p_dog, ∂p_dog/∂z_cat, ∂L/∂b_dog, b_dog_new, p_dog_new); None where that style has no name."""
    classes = trace.info.get("classes") or []
    if not classes or trace.batch_size != 1 or not idx or any(i >= len(classes) for i in idx):
        return None
    last = network_layers(trace)[2]
    out = trace.info.get("output_id", f"L{last}.a")
    if step_id == f"L{last}.dadz" and len(idx) == 2:
        return f"∂p_{classes[idx[0]]}/∂z_{classes[idx[1]]}"
    if len(idx) != 1:
        return None
    c = classes[idx[0]]
    return {out: f"p_{c}", f"L{last}.z": f"z_{c}", f"L{last}.da": f"∂L/∂p_{c}", f"L{last}.delta": f"δ_{c}",
            f"L{last}.db": f"∂L/∂b_{c}", f"L{last}.b_new": f"b_{c}_new", f"after.{out}": f"p_{c}_new",
            f"after.L{last}.z": f"z_{c}_new"}.get(step_id)


def student_lines(trace, decimals: int, max_elements: int = 16,
                  plain: set | None = None, style: str = "index") -> list[tuple[str, tuple, str]]:
    """(step id, element index, line) for every computed element, as a student writes it:
    `z1[0] = 0.15×0.5 + 0.2×0.8 + 0.35 = 0.585` (style "index"), or with per-neuron names
    `net_h1 = …` where a 2-layer network has them (style "neuron"), or with class names
    `p_dog = …` for the output layer of a spec naming its classes (style "class"). Elements in
    `plain` are written as value only."""
    out = []
    for step in trace:
        if step.phase == "given" or step.id.endswith((".mask", ".samples")):
            continue
        value = np.asarray(trace.display(step.id))
        name = student_name(step.id)
        for count, idx in enumerate(np.ndindex(value.shape)):
            if count >= max_elements:
                break
            shown_value = f"{value[idx]:.{decimals}f}"
            body = []
            if not plain or (step.id, idx) not in plain:
                try:
                    body = trace.expand(step.id, idx, decimals).split(" = ")
                except NNTError:
                    body = []
            middle = " = ".join(body[1:-1]) if len(body) >= 3 else ""
            if "softmax(" in middle or "more terms" in middle:
                middle = ""  # engine shorthand, not how a student writes it
            label = f"{name}{index_text(idx) if idx else ''}" if name else ""
            styled = {"neuron": neuron_name, "class": class_name}.get(style)
            if styled is not None and styled(step.id, tuple(idx), trace):
                label = styled(step.id, tuple(idx), trace)
            parts = [p for p in (label, middle, shown_value) if p]
            if len(parts) >= 2:
                out.append((step.id, tuple(idx), " = ".join(parts)))
    return out


def student_walkthrough(trace, decimals: int, max_elements: int = 16) -> str:
    """The trace's computed steps as hand-written lines, every number rounded to `decimals`."""
    return "\n".join(line for _, _, line in student_lines(trace, decimals, max_elements)) + "\n"
