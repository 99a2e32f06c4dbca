"""Validators for the fields of the small spec kinds (threshold, perceptron, calculus).

Each failure is a one-line NNTError that names the field and shows an example of a good value.
"""
from __future__ import annotations

import math

from nn_tutor.engine.errors import NNTError


def check_fields(spec, allowed: tuple[str, ...], where: str) -> dict:
    """`spec` must be a mapping whose keys are all in `allowed`."""
    if not isinstance(spec, dict):
        raise NNTError(f"{where} must be a mapping with fields {', '.join(allowed)}")
    unknown = [k for k in spec if k not in allowed]
    if unknown:
        raise NNTError(f"{where}: unknown field(s) {', '.join(map(str, unknown))}; "
                       f"the fields are: {', '.join(allowed)}")
    return spec


def finite_number(value, where: str, example: str) -> float:
    """A finite int or float (not a bool), as a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise NNTError(f"{where} must be a finite number, e.g. {example}; got {value!r}")
    return float(value)
