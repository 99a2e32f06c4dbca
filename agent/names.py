"""Names -> the step they mean: the ids the tutor prints, every name the checker accepts, and the
phrases students use, resolved against the trace (and, for a follow-up, the step in focus).

- ids as printed: `L2.dW`, `L1.dW[0][1]`, `L1.dW[0, 1]`, `after.loss`;
- the checker's names (through `nn_tutor.tools.homework.align_name`): w5, net_h1, δ_o1, ∂E/∂w5, dE/dw5;
- phrases: "the gradient for w5", "w5's gradient", "the derivative of the loss with respect to w5"
  all mean ∂L/∂w5 (never the weight w5 itself);
- follow-ups: "what about w6?" keeps the kind of quantity in focus (the gradient, the update), and
  "and the bias?" moves to the bias of the neuron in focus.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

STEP_REF = re.compile(r"(?<![\w.])((?:after\.)?L\d+\.[A-Za-z_]+|(?:after\.)?loss|lr)"
                      r"((?:\[\s*\d+\s*(?:,\s*\d+\s*)*\])*)(?![\w.])")
NAME = r"[A-Za-zδ∂ŷ][\w/∂′'^{}]*"
GRADIENT_PHRASES = [
    re.compile(rf"\b(?:gradient|derivative|partial derivative|slope)\s+(?:of\s+(?:the\s+)?(?:loss|error|cost|e|l)\s+)?"
               rf"(?:for|of|on|at|with respect to|wrt|w\.r\.t\.?)\s+(?:the\s+)?(?:weight\s+|bias\s+)?({NAME})", re.I),
    re.compile(rf"\b({NAME})['’]s\s+(?:gradient|derivative)", re.I),
]
# a quantity as written: w5, net_h1, out_o1, δ_o1, dE/dw5, ∂E/∂w5, E_total, w5_new (letters with a digit,
# or a derivative)
WRITTEN = re.compile(r"(?<![\w.])((?:∂|d)\s*[A-Za-z_]+\s*/\s*(?:∂|d)\s*[\w]+|[A-Za-zδŷ][\w′']*\d[\w′']*)(?![\w.])")
SIBLING = {"W": "b", "dW": "db", "W_new": "b_new"}  # "and the bias?" from a weight-like step
GRADIENT_OF = {"W": "dW", "b": "db", "a": "da", "z": "delta"}
BIAS_WORDS = re.compile(r"\b(?:the\s+)?bias(?:es)?\b", re.I)


@dataclass(frozen=True)
class Focus:
    """A step and, when one element is meant, its index; `name` is how the student said it."""

    step: str
    index: tuple[int, ...] | None = None
    name: str = ""

    def to_dict(self) -> dict:
        return {"step": self.step, "index": list(self.index) if self.index is not None else None,
                "name": self.name}

    @staticmethod
    def from_dict(data: dict | None) -> "Focus | None":
        if not data:
            return None
        index = data.get("index")
        return Focus(data["step"], tuple(index) if index is not None else None, data.get("name", ""))

    @property
    def label(self) -> str:
        return self.step + ("".join(f"[{i}]" for i in self.index) if self.index else "")


def _fits(trace, step: str, index) -> bool:
    if step not in trace:
        return False
    if index is None:
        return True
    import numpy as np

    shape = np.shape(trace.display(step))
    return len(index) == len(shape) and all(0 <= i < n for i, n in zip(index, shape))


def _step_ref(text: str, trace) -> Focus | None:
    m = STEP_REF.search(text)
    if not m:
        return None
    index = tuple(int(v) for v in re.findall(r"\d+", m.group(2))) if m.group(2) else None
    return Focus(m.group(1), index, m.group(0)) if _fits(trace, m.group(1), index) else None


def _checker_name(name: str, trace) -> Focus | None:
    """A name the checker accepts, through its own alignment (the same names, the same answer)."""
    from nn_tutor.tools.homework import align_name, normalise_line

    for form in dict.fromkeys((name, normalise_line(name))):
        found = align_name(form, None, trace)
        if found:
            step, index = found[0]
            return Focus(step, tuple(index) if index is not None else None, name)
    return None


def _gradient_of(name: str, trace) -> Focus | None:
    """∂L/∂name: the loss gradient for the quantity a student names (w5, b1, out_h1)."""
    found = _checker_name(f"dL/d{name}", trace)
    if found is None:
        plain = _checker_name(name, trace)
        if plain is not None:
            layer, _, kind = plain.step.partition(".")
            grad = f"{layer}.{GRADIENT_OF.get(kind, '')}"
            if kind in GRADIENT_OF and _fits(trace, grad, plain.index):
                found = Focus(grad, plain.index)
    return Focus(found.step, found.index, f"∂L/∂{name}") if found else None


def resolve(name: str, trace) -> Focus | None:
    """The step a single name or id means, or None."""
    name = name.strip().strip("`?.!,")
    if not name:
        return None
    ref = _step_ref(name, trace)
    if ref is not None and ref.name == name:
        return ref
    for pattern in GRADIENT_PHRASES:
        m = pattern.search(name)
        if m:
            return _gradient_of(m.group(1), trace)
    return _checker_name(name, trace)


def find(text: str, trace) -> Focus | None:
    """The step a sentence is about: an id, a gradient phrase, or a name the checker accepts."""
    for pattern in GRADIENT_PHRASES:
        m = pattern.search(text)
        if m:
            found = _gradient_of(m.group(1), trace)
            if found:
                return found
    ref = _step_ref(text, trace)
    if ref is not None:
        return ref
    for m in WRITTEN.finditer(text):
        found = _checker_name(m.group(1), trace)
        if found:
            return found
    return None


def follow_up(text: str, focus: Focus | None, trace) -> Focus | None:
    """A short follow-up read against the step in focus: "what about w6?", "and the bias?"."""
    if focus is None:
        return None
    layer, _, kind = focus.step.partition(".")
    if BIAS_WORDS.search(text) and kind in SIBLING:
        sibling = f"{layer}.{SIBLING[kind]}"
        index = focus.index[:1] if focus.index else None
        if _fits(trace, sibling, index):
            return Focus(sibling, index, f"the bias of {focus.name or focus.label}")
    found = find(text, trace)
    if found is None:
        return None
    f_layer, _, f_kind = found.step.partition(".")
    # the same kind of quantity as in focus: "what about w6?" after ∂L/∂w5 means ∂L/∂w6
    for plain, derived, name in (("W", "dW", "∂L/∂{}"), ("b", "db", "∂L/∂{}"), ("W", "W_new", "{} after the update"),
                                 ("b", "b_new", "{} after the update")):
        if f_kind == plain and kind == derived and _fits(trace, f"{f_layer}.{derived}", found.index):
            return Focus(f"{f_layer}.{derived}", found.index, name.format(found.name))
    return found
