"""Numeric grounding guard: every number the LLM writes must come from a tool result or the user.

A number written with d decimals is grounded when some allowed value rounds to it at d decimals
(0.7612 is grounded by 0.76116262; 0.76 too). Numbers inside identifiers (L1, w5, x₁, R2) are not
numbers, and small integers (0 to 10: counts, layer numbers, ordinals) are always allowed.
Further checks of the same text (a TextCheck, e.g. the concept node's citations) share its rewrite-once,
then-fall-back handling in agent.llm.checked_text.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Protocol

import numpy as np

# a number not glued to a preceding letter, digit, underscore or dot (so L1, w_2, 1.2.3 are skipped)
NUMBER = re.compile(r"(?<![\w.])([-−]?)(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(%?)(?![\w])")
STRUCTURAL_MAX = 10  # integers up to this are counts and ordinals, not results


def numbers_in(text: str) -> list[float]:
    """Every number written in a text (used to collect the allowed values)."""
    out = []
    for sign, digits, pct in NUMBER.findall(text or ""):
        value = float(digits) * (-1 if sign else 1)
        out.append(value)
        if pct:
            out.append(value / 100)
    return out


def values_in(obj) -> list[float]:
    """Every number in a JSON-like object or array (tool results, trace values), plus numbers in strings."""
    if obj is None:
        return []
    if isinstance(obj, str):
        return numbers_in(obj)
    if isinstance(obj, bool):
        return []
    if isinstance(obj, (int, float, np.number)):
        return [float(obj)]
    if isinstance(obj, np.ndarray):
        return [float(v) for v in obj.ravel()]
    if isinstance(obj, dict):
        return [v for item in obj.values() for v in values_in(item)]
    if isinstance(obj, (list, tuple)):
        return [v for item in obj for v in values_in(item)]
    return numbers_in(json.dumps(obj, default=str))


class Grounding:
    """The allowed values of one turn; `ungrounded(text)` lists the numbers the text invents."""

    def __init__(self, values: Iterable[float] = ()):
        arr = np.asarray([v for v in values if np.isfinite(v)], dtype=np.float64)
        self.allowed = np.unique(np.concatenate([arr, -arr])) if arr.size else arr

    def add(self, values: Iterable[float]) -> None:
        more = Grounding(values).allowed
        self.allowed = np.unique(np.concatenate([self.allowed, more]))

    def is_grounded(self, written: str) -> bool:
        """True when some allowed value rounds to this written number at its shown precision."""
        text = written.replace("−", "-").rstrip("%")
        try:
            value = float(text)
        except ValueError:
            return True
        if "e" in text.lower() or "." not in text:
            decimals = 0 if "e" not in text.lower() else None
        else:
            decimals = len(text.split(".")[1])
        if decimals == 0 and value.is_integer() and abs(value) <= STRUCTURAL_MAX:
            return True
        candidates = [value, value / 100] if written.endswith("%") else [value]
        if self.allowed.size == 0:
            return False
        for c in candidates:
            if decimals is None:  # scientific notation: 4 significant figures
                tol = abs(c) * 5e-4 + 1e-300
            elif c is value:
                tol = 0.5 * 10.0 ** (-decimals) * (1 + 1e-9) + 1e-12
            else:
                tol = 0.5 * 10.0 ** (-decimals - 2) * (1 + 1e-9) + 1e-12
            if np.any(np.abs(self.allowed - c) <= tol):
                return True
        return False

    def ungrounded(self, text: str) -> list[str]:
        """The numbers in `text` that no tool result or user input supports, in order, without repeats."""
        bad: list[str] = []
        for match in NUMBER.finditer(_without_code_ids(text or "")):
            written = (match.group(1) + match.group(2) + match.group(3)).replace("−", "-")
            if not self.is_grounded(written) and written not in bad:
                bad.append(written)
        return bad


def _without_code_ids(text: str) -> str:
    """Blank out step ids in backticks and citations ([card-id]) so their digits are not read as numbers."""
    return re.sub(r"`[A-Za-z][\w.\[\]]*`|\[[a-z][\w-]*\]", " ", text)


def grounding_for(texts: Iterable[str] = (), objects: Iterable = (), trace=None) -> Grounding:
    """Allowed values of a turn: numbers in the user's texts, in tool results, and every trace value."""
    values: list[float] = []
    for text in texts:
        values += numbers_in(text)
    for obj in objects:
        values += values_in(obj)
    if trace is not None:
        for step in trace:
            values += [float(v) for v in np.ravel(trace.display(step.id))]
    return Grounding(values)


class TextCheck(Protocol):
    """A further check of an LLM text beside its numbers (e.g. its [card-id] citations), run by
    agent.llm.checked_text: faults are logged under `field`, told to the model for its one rewrite,
    and, if the rewrite has faults too, the caller's offline answer is shown with `notice`."""

    field: str

    def faults(self, text: str) -> list[str]: ...

    def instruction(self, faults: list[str]) -> str: ...

    def notice(self, faults: list[str]) -> str: ...


def retry_instruction(offending: list[str]) -> str:
    """What the model is told when its text contained numbers that no tool computed."""
    return ("Your previous answer contained numbers that were not computed by the engine or given by the "
            f"user: {', '.join(offending)}. Rewrite it using only numbers that appear in the tool results "
            "or the user's input, at the precision shown there; describe anything else in words.")
