"""Written work -> checked claims: the homework checker's public face.

`check_text(text, spec=None)` is the library entry point (the chat agent and `nnt check` use it).
Without a spec, every chain `a = b + c = d` is checked link by link against a symbol table built
from the text's own definitions and results (errors carried forward, not punished twice). With a
spec, claimed values are also aligned to engine steps by the names students use (net_h1, out_h1,
z₁[0], ŷ, L, δ₂, ∂L/∂w₅, w₅_new) and judged against the true value and a recomputation from the
student's own earlier numbers. Verdicts come from code only; instructions in the text are text.

The work is done in single-purpose modules: homework_notation (LaTeX/Markdown/unicode -> the
reader's alphabet), homework_read (lines -> chains), homework_names (student names -> step ids),
homework_symbols (the symbol table), homework_check (judging), homework_answers (the structured
YAML form), homework_write (a trace written out as a student would).
"""
from __future__ import annotations

import numpy as np

from nn_tutor.engine.errors import NNTError
from nn_tutor.engine.verify import CheckReport, Claim
from nn_tutor.tools.homework_answers import check_answers, structured
from nn_tutor.tools.homework_check import Checker
from nn_tutor.tools.homework_names import align_name, canon
from nn_tutor.tools.homework_notation import normalise_line
from nn_tutor.tools.homework_read import read_chains, shown
from nn_tutor.tools.homework_write import neuron_name, student_lines, student_name, student_walkthrough

__all__ = ["check_text", "check_submission", "read_text", "align_name", "canon", "normalise_line", "shown",
           "neuron_name", "student_lines", "student_name", "student_walkthrough"]

MAX_TEXT = 200_000     # characters of homework read at once


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


def check_text(text: str, spec: dict | None = None, rtol=None, atol=None) -> CheckReport:
    """Check a student's written work; with a spec, also align and judge against the engine."""
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
    checker = Checker(spec, rtol, atol)
    unreadable: list = []
    chains = read_chains(text.splitlines(), set(), unreadable)
    claims = checker.run(chains) + [Claim(no, text.splitlines()[no - 1][:60] + "…", verdict="unchecked",
                                          reason=reason) for no, reason in unreadable]
    report = CheckReport(sorted(claims, key=lambda c: c.line))
    if not report.claims:
        report.notes.append("no checkable arithmetic found: write steps such as "
                            "'z = 0.15×0.5 + 0.2×0.8 + 0.35 = 0.585'")
    return report


def check_submission(data: bytes, source: str = "input", spec: dict | None = None,
                     rtol=None, atol=None) -> CheckReport:
    """One submission as bytes: a structured YAML form (spec + answers) or free text."""
    text = read_text(data, source)
    form = structured(text)
    if form is not None:
        report = check_answers(form, text, spec, rtol, atol, source)
    else:
        report = check_text(text, spec, rtol, atol)
    report.source = source
    return report
