"""The homework checker: written work -> every claimed number judged, with the rule that decided it.

The pipeline, one stage per module:
  read       student text (plain, Markdown tables, LaTeX, unicode, prose) -> Statements   read.py
  claims     Statements -> the numbers claimed and how each was computed                  claims.py
  align      each claim -> the step it states, from value, operands, name and place       align.py
  judge      one verdict table: correct, rounding, carried, wrong, unchecked               judge.py
  diagnose   a wrong value -> the catalogued mistake that gives it                         misconceptions.py
  report     the checked claims and every way of showing them                              report.py
check.py runs the stages in reading order, so a later step is judged against the student's own
earlier numbers (world.py, ledger.py) and an error is never punished twice. Without a spec only the
arithmetic of each written chain is checked. Nothing in the text is ever evaluated as code.
"""
from __future__ import annotations

import json

from nn_tutor.engine.errors import NNTError
from nn_tutor.tools.homework.names import align_name, canon
from nn_tutor.tools.homework.notation import normalise_line
from nn_tutor.tools.homework.report import CheckedClaim, Report

from nn_tutor.tools.homework.write import neuron_name, student_lines, student_name, student_walkthrough

__all__ = ["check_text", "check_submission", "read_text", "align_name", "canon", "normalise_line",
           "problem_for", "CheckedClaim", "Report", "neuron_name", "student_lines", "student_name",
           "student_walkthrough"]

MAX_TEXT = 200_000     # characters of homework read at once
_PROBLEMS: dict[str, object] = {}


def read_text(data: bytes, source: str = "input") -> str:
    """Bytes of a submission -> text; binary or oversized input is refused with the fix."""
    if len(data) > MAX_TEXT * 4:
        raise NNTError(f"{source} is {len(data):,} bytes; the checker reads at most {MAX_TEXT:,} characters; "
                       f"submit the working for one problem at a time")
    if b"\x00" in data[:65536]:
        raise NNTError(f"{source} looks like a binary file, not text; paste or save the working as "
                       f"plain text or Markdown")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise NNTError(f"{source} is not UTF-8 text; save it as UTF-8 plain text or Markdown") from None


def problem_for(spec: dict, iterations: int = 1):
    """The searchable problem of a spec over this many training steps (built once and kept)."""
    from nn_tutor.engine.kinds import walk
    from nn_tutor.tools.homework.problem import Problem

    key = json.dumps(spec, sort_keys=True, default=str) + f"#{iterations}"
    if key not in _PROBLEMS:
        if len(_PROBLEMS) > 16:
            _PROBLEMS.clear()
        if iterations > 1 and spec.get("kind", "network") == "network":
            from nn_tutor.engine.network import chained_iterations
            trace = chained_iterations(spec, iterations)
        else:
            trace = walk(spec)
        _PROBLEMS[key] = Problem.of(trace)
    return _PROBLEMS[key]


_ORDINALS = {"second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "two": 2, "three": 3}


def iterations_in(text: str) -> int:
    """How many training steps the work goes through (iteration 2, a second iteration, it 3: …), at most 4."""
    import re

    found = [int(m.group(1)) for m in re.finditer(r"(?i)\b(?:iteration|iter|it|step|round)\s*[#:=]?\s*(\d)\b", text)]
    found += [_ORDINALS[m.group(1).lower()] for m in
              re.finditer(r"(?i)\b(second|2nd|third|3rd|fourth|4th|two|three)\s+(?:iterations?|steps?|rounds?|updates?)\b", text)]
    return max([1] + [n for n in found if n <= 4])


def check_text(text: str, spec: dict | None = None, rtol=None, atol=None) -> Report:
    """Check a student's written work; with a spec, align every number to the engine's steps."""
    import numpy as np

    from nn_tutor.tools.homework.check import Checker

    if not isinstance(text, str):
        raise NNTError("homework must be text")
    if len(text) > MAX_TEXT:
        raise NNTError(f"the homework text has {len(text):,} characters; the checker reads at most "
                       f"{MAX_TEXT:,}; submit the working for one problem at a time")
    controls = sum(1 for ch in text[:20000] if ord(ch) < 32 and ch not in "\n\r\t")
    if controls > 8 or "\x00" in text:
        raise NNTError("the homework looks like binary data, not text; paste the working as plain "
                       "text or Markdown")
    for name, v in (("rtol", rtol), ("atol", atol)):
        if v is not None and (not np.isfinite(v) or v < 0):
            raise NNTError(f"--{name} must be a number ≥ 0; got {v}")
    problem = problem_for(spec, iterations_in(text)) if spec is not None else None
    return Checker(problem, rtol, atol).run(text)


def check_submission(data: bytes, source: str = "input", spec: dict | None = None,
                     rtol=None, atol=None) -> Report:
    """One submission as bytes: a structured YAML form (spec + answers) or free text."""
    from nn_tutor.tools.homework.answers import check_answers, structured

    text = read_text(data, source)
    form = structured(text)
    if form is not None:
        report = check_answers(form, text, spec, rtol, atol, source)
    else:
        report = check_text(text, spec, rtol, atol)
    report.source = source
    return report
