"""The trace: every computed value as a Step (id, label, formula, value, the ids it came from).

Steps are matrix-level and cheap to record (no copies, no text); substituted formulas and
element-level expansions are produced on demand when rendering. Each computed step keeps the
operation that produced it, so a step can be recomputed from other values (the homework
checker recomputes a step from the student's own earlier numbers).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from nn_tutor.engine.errors import NNTError
from nn_tutor.engine.numfmt import fmt_array, fmt_num

PHASES = ("given", "forward", "loss", "backward", "update", "after")

# What a step of a network or perceptron is (Step.quantity), so readers of a trace never parse ids,
# labels or formulas to learn it. Other kinds of problem leave quantity empty.
QUANTITIES = {
    "input": "the network input x", "target": "the target y",
    "weights": "a layer's weights W (or filters)", "biases": "a layer's biases b",
    "learning_rate": "the learning rate η", "momentum": "the momentum μ", "velocity": "a momentum velocity",
    "pre_activation": "z = W·a_prev + b (a conv layer's feature maps)", "activation": "a = f(z)",
    "pool": "a pooling layer's output", "pool_mask": "where each max-pool window's maximum was",
    "flatten": "maps flattened into a vector",
    "sample_losses": "the loss of each sample of a batch", "loss": "the loss",
    "grad_activation": "∂L/∂a of a layer's output (∂L/∂ŷ at the last layer)",
    "activation_derivative": "f′(z) (the softmax Jacobian)", "delta": "δ = ∂L/∂z",
    "grad_weights": "∂L/∂W", "grad_biases": "∂L/∂b",
    "updated_weights": "W after the update", "updated_biases": "b after the update",
    "prediction": "a perceptron's output ŷ = step(z)", "error": "a perceptron's error y − ŷ",
    "error_count": "misclassified samples in an epoch",
}


@dataclass(frozen=True)
class Op:
    """How a step is computed: `fn` maps the input steps' internal values to this step's value.

    `template` shows the formula with numbers: `{0}`, `{1}`... stand for the formatted inputs.
    `expand(inputs, index, precision)` writes one element as a sum of products (optional).
    """

    fn: Callable[..., np.ndarray]
    template: str
    expand: Callable[[tuple, tuple, int], str] | None = None


@dataclass(eq=False)
class Step:
    """One value of the computation, with where it came from and how to show it."""

    id: str
    label: str
    formula: str
    value: np.ndarray
    inputs: tuple[str, ...] = ()
    op: Op | None = None
    phase: str = "forward"
    batch_axis: int | None = None  # axis that holds the m samples (squeezed for display when m == 1)
    note: str = ""
    quantity: str = ""             # what the step is: a key of QUANTITIES ("" for other kinds)
    layer: int | None = None       # the 1-based layer it belongs to (None: network-wide, e.g. the loss)
    activation: str | None = None  # the layer's activation, for z, a, f′(z) and δ steps


@dataclass
class Table:
    """A table of rows (iteration histories, truth tables, perceptron epochs)."""

    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)


class Trace:
    """An ordered record of Steps plus tables, notes and the conventions in force."""

    def __init__(self, title: str = "", batch_size: int = 1, conventions: dict | None = None):
        self.title = title
        self.batch_size = batch_size
        self.conventions: dict[str, str] = dict(conventions or {})
        self.steps: dict[str, Step] = {}
        self.tables: list[Table] = []
        self.notes: list[str] = []
        self.info: dict = {}
        self.phase = "forward"

    # recording ---------------------------------------------------------------------------
    def add(self, id: str, label: str, formula: str, value, inputs: tuple[str, ...] = (),
            op: Op | None = None, batch_axis: int | None = None, note: str = "",
            phase: str | None = None, *, quantity: str = "", layer: int | None = None,
            activation: str | None = None) -> np.ndarray:
        """Record a computed step and return its value (so recording reads like computing)."""
        if quantity and quantity not in QUANTITIES:
            raise ValueError(f"unknown step quantity {quantity!r}")
        self.steps[id] = Step(id, label, formula, value, tuple(inputs), op,
                              phase or self.phase, batch_axis, note, quantity, layer, activation)
        return value

    def given(self, id: str, label: str, formula: str, value, batch_axis: int | None = None,
              note: str = "", *, quantity: str = "", layer: int | None = None) -> np.ndarray:
        """Record a value that is given (input, target, initial parameter, hyper-parameter)."""
        return self.add(id, label, formula, value, (), None, batch_axis, note, "given",
                        quantity=quantity, layer=layer)

    # access -------------------------------------------------------------------------------
    def __getitem__(self, id: str) -> Step:
        try:
            return self.steps[id]
        except KeyError:
            raise NNTError(f"no step '{id}' in this walkthrough; known steps: "
                           f"{', '.join(list(self.steps)[:40])}") from None

    def __contains__(self, id: str) -> bool:
        return id in self.steps

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps.values())

    def in_phase(self, *phases: str) -> list[Step]:
        """Steps of the given phases, in order."""
        return [s for s in self.steps.values() if s.phase in phases]

    def display(self, id: str) -> np.ndarray:
        """A step's value as the course shows it: the sample axis squeezed when there is one sample."""
        return self._to_display(self[id], np.asarray(self[id].value))

    def _to_display(self, step: Step, value: np.ndarray) -> np.ndarray:
        if step.batch_axis is not None and self.batch_size == 1 and value.ndim > step.batch_axis:
            return np.take(value, 0, axis=step.batch_axis)
        return value

    def _to_internal(self, step: Step, value) -> np.ndarray:
        value = np.asarray(value, dtype=np.float64)
        if step.batch_axis is not None and self.batch_size == 1:
            return np.expand_dims(value, step.batch_axis)
        return value

    def _internal_index(self, step: Step, index: tuple) -> tuple:
        if step.batch_axis is not None and self.batch_size == 1:
            index = tuple(index)
            return index[:step.batch_axis] + (0,) + index[step.batch_axis:]
        return tuple(index)

    # derived text -------------------------------------------------------------------------
    def substituted(self, id: str, precision: int = 4) -> str:
        """The formula with the input values written in (arrays over a size limit shown by shape)."""
        step = self[id]
        if step.op is None:
            return ""
        shown = [fmt_array(self.display(i), precision) for i in step.inputs]
        return step.op.template.format(*shown)

    def expand(self, id: str, index: tuple, precision: int = 4) -> str:
        """One element of a step written out, e.g. 'z[0] = 0.15×0.5 + 0.2×0.8 + 0.35 = 0.585'."""
        step = self[id]
        value = self.display(id)
        index = tuple(index)
        if len(index) != value.ndim or any(not 0 <= i < n for i, n in zip(index, value.shape)):
            raise NNTError(f"index {list(index)} is outside step '{id}' of shape {value.shape}; "
                           f"give one index per axis, each below its size")
        result = fmt_num(value[index], precision)
        name = id + "".join(f"[{i}]" for i in index)
        if step.op is None or step.op.expand is None:
            return f"{name} = {result}"
        inputs = tuple(self[i].value for i in step.inputs)
        body = step.op.expand(inputs, self._internal_index(step, index), precision)
        return f"{name} = {body} = {result}"

    # recomputation ------------------------------------------------------------------------
    def recompute(self, id: str, overrides: dict[str, object] | None = None) -> np.ndarray:
        """Recompute step `id` from its inputs, with some input values replaced (display form)."""
        step = self[id]
        if step.op is None:
            raise NNTError(f"step '{id}' is given, not computed; there is nothing to recompute")
        overrides = overrides or {}
        args = []
        for i in step.inputs:
            src = self[i]
            args.append(self._to_internal(src, overrides[i]) if i in overrides else src.value)
        return self._to_display(step, np.asarray(step.op.fn(*args), dtype=np.float64))

    # export -------------------------------------------------------------------------------
    def to_dict(self, precision: int | None = None, phases: tuple[str, ...] | None = None) -> dict:
        """A JSON-ready dict: steps with values as nested lists, tables, notes, conventions."""
        p = 6 if precision is None else precision

        def as_list(v):
            arr = np.asarray(v, dtype=np.float64)
            return (np.round(arr, precision) if precision is not None else arr).tolist()

        steps = []
        for s in self.steps.values():
            if phases and s.phase not in phases:
                continue
            value = self.display(s.id)
            steps.append({
                "id": s.id, "label": s.label, "phase": s.phase, "formula": s.formula,
                "substituted": self.substituted(s.id, p), "value": as_list(value),
                "shape": list(np.shape(value)), "inputs": list(s.inputs), "note": s.note,
                "quantity": s.quantity, "layer": s.layer, "activation": s.activation,
            })
        out = {"title": self.title, "batch_size": self.batch_size,
               "conventions": dict(self.conventions), "steps": steps,
               "tables": [{"title": t.title, "columns": t.columns,
                           "rows": [[_plain(c) for c in r] for r in t.rows]} for t in self.tables],
               "notes": list(self.notes)}
        for key, val in self.info.items():
            out[key] = _plain(val)
        return out


def _plain(v):
    """numpy scalars and arrays to plain JSON values."""
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v
