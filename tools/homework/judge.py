"""One verdict table: every claim's verdict comes from one of these rules, and says which.

Tolerance is a single rule: a written number stands for every value within half a unit of its last
decimal (decimals counted as at least 2; whole numbers are exact). A value is
  correct   within that of the true value,
  rounding  within it of a computation from the numbers the student showed, all of them right
            (their own rounded intermediates count),
  carried   within it of the computation from the student's own earlier numbers, one of which was
            wrong (the error is not counted again),
  wrong     none of these; named by the misconception that reproduces it, else an arithmetic slip
            when the student's own expression does not give it,
  unchecked when no step could be pinned and there is no expression to compute.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nn_tutor.tools.homework.align import Alignment, _within, claim_precision, tainted
from nn_tutor.tools.homework.claims import Claim

RULES = {
    "V-true": "the value of the step it states",
    "V-rounding": "the step computed from the student's own (right, rounded) numbers",
    "V-carried": "the step computed from the student's own earlier numbers, one of them wrong",
    "V-restated": "the value the student gave this step before, judged where it was first written",
    "A-true": "its expression gives it, and with the right numbers put in it is the true value",
    "A-rounding": "its expression gives it from right numbers rounded as the student wrote them",
    "A-carried": "its expression gives it from an earlier wrong number",
    "W-mistake": "a catalogued mistake gives exactly this value at this step",
    "W-arithmetic": "the student's own expression does not give the written value",
    "W-step": "the step's value is neither this nor what the student's earlier numbers give",
    "U-unpinned": "no step could be told from the evidence, and there is no expression to compute",
    "U-uncomputable": "the expression cannot be computed",
    "U-unknown-inputs": "the arithmetic is right, but the numbers it uses could not be checked",
    "U-given": "the problem gives a different value for this; a copying slip, or another meaning",
}
ORDER = ("correct", "rounding", "carried", "wrong")   # an array's verdict is its worst element's


@dataclass
class Verdict:
    """What was decided about a claim, by which rule, on what evidence."""

    verdict: str
    rule: str
    expected: object = None            # the true value
    own: object = None                 # the value from the student's own earlier numbers
    misconception: str | None = None
    hint: str = ""
    evidence: list[str] = field(default_factory=list)
    elements: list[str] | None = None  # per element, for arrays whose elements differ


@dataclass
class Arithmetic:
    """The student's own expression for a claim, computed two ways."""

    own: np.ndarray | None             # with the numbers as written
    corrected: np.ndarray | None       # with each earlier number replaced by its true value
    bad_operand: bool = False          # an operand was judged wrong or carried
    unknown_operand: bool = False      # an operand could not be checked
    error: str = ""                    # why it could not be computed
    broken_link: str = ""              # an earlier `= …` of its chain that does not hold
    slack: object = 0.0                # how far the rounding of earlier results it uses can move it

    def gives(self, value, tol) -> bool:
        """Does the expression give the written value (from the numbers shown, or what they stand
        for: an earlier result written rounded may be used unrounded), and does every earlier link
        of its chain hold?"""
        if self.own is None or self.broken_link:
            return False
        other = self.corrected if self.corrected is not None and not self.bad_operand else self.own
        try:
            return bool(np.all(_within(np.asarray(value), np.asarray(self.own), np.asarray(other),
                                       np.asarray(tol) + np.asarray(self.slack))))
        except ValueError:
            return False


def judge_pinned(claim: Claim, a: Alignment, world, arith: Arithmetic | None) -> Verdict:
    """The verdict of a claim pinned to a place, element by element."""
    tol = claim_precision(claim)
    p = a.place
    T = world.truth[p.sid][p.index]
    C = world.computed("clean", p.sid)[p.index]
    S = world.computed("student", p.sid)[p.index]
    X = world.computed("exact", p.sid)[p.index]
    v = np.asarray(claim.value, dtype=np.float64).reshape(np.shape(T))
    t = np.reshape(tol, np.shape(v)) if np.size(tol) == np.size(v) and np.ndim(tol) else tol
    correct = np.abs(v - T) <= t
    rounding = _within(v, T, C, t)
    carried = _within(v, S, X, t) & tainted(T, C, S, X)
    kinds = [("correct" if c else "rounding" if r else "carried" if k else "wrong")
             for c, r, k in zip(np.ravel(correct), np.ravel(rounding), np.ravel(carried))]
    kinds = np.asarray(kinds or ["wrong"])
    verdict = max(kinds.tolist(), key=ORDER.index)
    own = S
    rule = {"correct": "V-true", "rounding": "V-rounding", "carried": "V-carried", "wrong": "W-step"}[verdict]
    if a.match == "restated":             # the same number again: judged where it was first written
        rule = "V-restated"
        kinds = np.where(kinds == "wrong", "carried", kinds)
        verdict = max(kinds.tolist(), key=ORDER.index)
    base = Verdict(verdict, rule, T, own, evidence=list(a.evidence))
    if np.size(kinds) > 1 and len(set(kinds.tolist())) > 1:
        base.elements = kinds.tolist()
    if verdict != "wrong":
        return base
    if arith is not None and arith.own is not None and arith.gives(v, t) and arith.bad_operand and \
            arith.corrected is not None and np.shape(arith.corrected) == np.shape(v) and \
            np.all(np.abs(arith.corrected - T) <= t + 1e-9 * (1 + np.abs(T))):
        base.verdict, base.rule = "carried", "A-carried"    # the right formula on an earlier wrong value
        base.elements = None
        return base
    if a.mistake is not None:
        base.rule, base.misconception = "W-mistake", a.mistake.name
        base.hint = f"{a.mistake.title}: {a.mistake.hint}"
        return base
    if arith is not None and arith.own is not None and not arith.gives(v, t) and \
            (not arith.unknown_operand or arith.broken_link):
        base.rule, base.misconception = "W-arithmetic", slip_kind(v, arith.own, t)
        base.hint = arith.broken_link or f"{_fmt(arith.own)} is what the expression gives, not {_fmt(v)}"
        return base
    if not a.named and arith is not None and arith.own is not None:
        return judge_arithmetic(claim, arith)    # pinned by place alone: its own arithmetic decides
    if arith is None:
        base.misconception = "arithmetic_slip"   # no expression shown and no catalogued mistake fits
    base.hint = (f"this should be {_fmt(T)}" + ("" if np.allclose(S, T) else
                                                  f" (from your own earlier numbers: {_fmt(S)})"))
    return base


def judge_arithmetic(claim: Claim, arith: Arithmetic) -> Verdict:
    """The verdict of a claim with an expression but no step pinned: its own arithmetic."""
    tol = claim_precision(claim)
    v = np.asarray(claim.value, dtype=np.float64)
    if arith.own is None:
        return Verdict("unchecked", "U-uncomputable", hint=arith.error)
    if not arith.gives(v, tol):
        if arith.unknown_operand and not arith.broken_link:
            return Verdict("unchecked", "U-unknown-inputs", arith.corrected, arith.own,
                           hint="the expression uses numbers or names whose values could not be told")
        return Verdict("wrong", "W-arithmetic", arith.corrected, arith.own, slip_kind(v, arith.own, tol),
                       arith.broken_link or f"the expression gives {_fmt(arith.own)}, not {_fmt(v)}")
    if arith.bad_operand:
        return Verdict("carried", "A-carried", arith.corrected, arith.own,
                       hint="follows correctly from an earlier wrong value (not counted again)")
    if arith.corrected is not None and np.shape(arith.corrected) == np.shape(v) and \
            np.all(np.abs(v - arith.corrected) <= tol):
        return Verdict("correct", "A-true", arith.corrected, arith.own)
    if arith.unknown_operand:
        return Verdict("unchecked", "U-unknown-inputs", arith.corrected, arith.own,
                       hint="the arithmetic is right; the numbers it starts from could not be checked")
    return Verdict("rounding", "A-rounding", arith.corrected, arith.own)


def slip_kind(value, own, tol) -> str:
    """Which arithmetic slip turns the expression's value into the written one: the sign lost, a
    factor of 2 gained or lost, or a plain slip."""
    v, o = np.asarray(value, dtype=np.float64), np.asarray(own, dtype=np.float64)
    if np.shape(v) == np.shape(o) and np.any(np.abs(o) > 1e-12):
        if np.all(np.abs(v + o) <= tol):
            return "sign_slip"
        if np.all(np.abs(v - 2 * o) <= tol) or np.all(np.abs(v - 0.5 * o) <= tol):
            return "factor_of_two"
    return "arithmetic_slip"


def unchecked(rule: str, hint: str = "") -> Verdict:
    return Verdict("unchecked", rule, hint=hint or RULES[rule])


def _fmt(v) -> str:
    from nn_tutor.engine.numfmt import fmt_array
    return fmt_array(np.asarray(v, dtype=np.float64), 4)
