"""Checked claims and the report: one record per claimed number, and every way of showing them.

The same Report feeds the CLI (text, Markdown, JSON, the teacher's CSV), the chat and the LangGraph
server, and displays itself in a notebook. JSON never holds NaN or infinity.
"""
from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field

import numpy as np

from nn_tutor.engine.numfmt import fmt_array

VERDICTS = ("correct", "rounding", "wrong", "carried", "unchecked")
MARKS = {"correct": "✓", "rounding": "≈", "wrong": "✗", "carried": "→", "unchecked": "?"}


@dataclass
class CheckedClaim:
    """One number (or array) the student wrote, and what the checker found."""

    line: int
    text: str
    claimed: object = None           # float or nested list, as written
    expected: object = None          # the true value (None when unknown)
    verdict: str = "unchecked"
    misconception: str | None = None
    hint: str = ""
    step_id: str | None = None
    index: tuple | None = None
    reason: str = ""                 # why unchecked
    label: str = ""                  # the student's name for it
    column: int = 0                  # where the number starts on its line (0-based)
    rule: str = ""                   # the judge's rule that decided the verdict
    evidence: list = field(default_factory=list)   # what pinned it to its step
    own: object = None               # the value from the student's own earlier numbers
    elements: list | None = None     # per-element verdicts of an array whose elements differ

    @property
    def place(self) -> str:
        if self.step_id is None:
            return ""
        return self.step_id + ("" if not self.index else "[" + ", ".join(map(str, self.index)) + "]")

    def to_dict(self) -> dict:
        d = {
            "line": self.line, "column": self.column, "text": self.text, "claimed": _plain(self.claimed),
            "expected": _plain(self.expected), "verdict": self.verdict, "misconception": self.misconception,
            "hint": self.hint, "step_id": self.step_id,
            "index": list(self.index) if self.index is not None else None, "reason": self.reason,
            "label": self.label, "rule": self.rule, "evidence": list(self.evidence), "own": _plain(self.own),
        }
        if self.elements:
            d["elements"] = [{"verdict": v} for v in self.elements]
        return d


@dataclass
class Report:
    """All claims of one piece of work, in reading order, with a summary."""

    claims: list[CheckedClaim] = field(default_factory=list)
    source: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def summary(self) -> dict:
        counts = {v: 0 for v in VERDICTS}
        for c in self.claims:
            counts[c.verdict] += 1
        judged = sum(counts[v] for v in VERDICTS if v != "unchecked")
        good = counts["correct"] + counts["rounding"] + counts["carried"]
        return {"counts": counts, "judged": judged,
                "score": round(good / judged, 4) if judged else None, "ok": counts["wrong"] == 0}

    @property
    def ok(self) -> bool:
        return self.summary["ok"]

    def to_dict(self) -> dict:
        return {"source": self.source, "claims": [c.to_dict() for c in self.claims],
                "summary": self.summary, "notes": list(self.notes)}

    # a terminal and a notebook show it the way nnt check does
    def __str__(self) -> str:
        return render_text(self)

    def _repr_markdown_(self) -> str:
        return render_markdown(self)


# --- renderers ------------------------------------------------------------------------------------------

def _num(v) -> str:
    return "—" if v is None else fmt_array(np.asarray(v, dtype=np.float64), 4)


def summary_line(report: Report) -> str:
    s = report.summary
    c = s["counts"]
    score = "—" if s["score"] is None else f"{100 * s['score']:.0f}%"
    return (f"score {score}: {c['correct']} correct, {c['rounding']} rounding, {c['wrong']} wrong, "
            f"{c['carried']} carried forward (not counted again), {c['unchecked']} unchecked")


def render_text(report: Report, explain: bool = False) -> str:
    """One line per claim: line, verdict, the claim, expected value, step, misconception, hint."""
    lines = [f"== {report.source} =="] if report.source else []
    for c in report.claims:
        head = f"line {c.line:>3}  {MARKS[c.verdict]} {c.verdict:<9} \"{c.text}\""
        extra = []
        if c.verdict in ("wrong", "rounding", "carried") and c.expected is not None:
            extra.append(f"expected {_num(c.expected)}")
        if c.step_id:
            extra.append(f"[{c.place}]")
        if c.misconception:
            extra.append(f"misconception: {c.misconception}")
        if c.verdict == "unchecked" and c.reason:
            extra.append(c.reason)
        elif c.hint and c.verdict != "correct":
            extra.append(c.hint)
        lines.append(head + ("  " + "; ".join(extra) if extra else ""))
        if explain:
            lines.append(f"           rule {c.rule}" + (f"; evidence: {', '.join(c.evidence)}" if c.evidence else ""))
    lines.extend(f"note: {n}" for n in report.notes)
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


def _cell(x) -> str:
    return str(x).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report, explain: bool = False) -> str:
    """A Markdown table of the claims and the summary."""
    out = [f"### {report.source}\n" if report.source else "",
           "| line | claim | verdict | expected | misconception | hint |" + (" rule |" if explain else ""),
           "|---:|---|---|---|---|---|" + ("---|" if explain else "")]
    for c in report.claims:
        out.append(f"| {c.line} | `{_cell(c.text)}` | {MARKS[c.verdict]} {c.verdict} | "
                   f"{_cell(_num(c.expected))} | {_cell(c.misconception or '')} | "
                   f"{_cell(c.reason if c.verdict == 'unchecked' else c.hint)} |"
                   + (f" {c.rule} |" if explain else ""))
    out.extend(f"\n_note: {n}_" for n in report.notes)
    out.append(f"\n**{summary_line(report)}**\n")
    return "\n".join(out)


def render_json(reports: list[Report]) -> str:
    """A list of claims; with several reports each claim also names its file."""
    payload = [dict(c, file=r.source) if len(reports) > 1 else c
               for r in reports for c in r.to_dict()["claims"]]
    return json.dumps(payload, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def render_csv(reports: list[Report]) -> str:
    """The teacher's grade sheet: one row per submission."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["submission", "score", "correct", "rounding", "wrong", "carried", "unchecked",
                     "first_wrong_line", "misconceptions"])
    for r in reports:
        s, c = r.summary, r.summary["counts"]
        wrong = [x for x in r.claims if x.verdict == "wrong"]
        writer.writerow([r.source, "" if s["score"] is None else s["score"], c["correct"], c["rounding"],
                         c["wrong"], c["carried"], c["unchecked"], wrong[0].line if wrong else "",
                         ";".join(sorted({x.misconception for x in wrong if x.misconception}))])
    return buf.getvalue()


def _plain(v):
    """Plain JSON values: arrays to lists, non-finite numbers to None."""
    if v is None:
        return None
    arr = np.asarray(v, dtype=np.float64)
    if arr.ndim == 0:
        x = float(arr)
        return x if math.isfinite(x) else None
    return [_plain(x) for x in arr]
