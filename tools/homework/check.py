"""The checking pipeline for one piece of work: read → claims → align → judge → diagnose → report.

Claims are taken in reading order, because each is judged against the student's own earlier
numbers: after a claim is judged, its value goes into the student's world (world.py) and the
ledger (ledger.py), so later steps are recomputed from what the student actually wrote.
"""
from __future__ import annotations

import re

import numpy as np

from nn_tutor.engine.errors import NNTError
from nn_tutor.tools.homework.align import Aligner, Alignment, claim_precision
from nn_tutor.tools.homework.claims import Claim, claims_of
from nn_tutor.tools.homework.expr import CONSTANTS, ExprError, Node, evaluate, literals, names
from nn_tutor.tools.homework.judge import Arithmetic, Verdict, judge_arithmetic, judge_pinned, unchecked
from nn_tutor.tools.homework.ledger import Entry, Ledger, precision
from nn_tutor.tools.homework.names import align_name, canon
from nn_tutor.tools.homework.problem import Place, Problem
from nn_tutor.tools.homework.read import read
from nn_tutor.tools.homework.report import CheckedClaim, Report
from nn_tutor.tools.homework.statement import index_text, shown
from nn_tutor.tools.homework.world import CARRIED, RIGHT, WRONG, World



_COMPUTED_CONTEXT = re.compile(r"\b(loss|errors?|cost|gradient|derivative|outputs?|new|updated|delta|sum|mean|"
                               r"total|becomes?|gives?|got|get|result|predicts?|predictions?|predicted)\b")


class Checker:
    """Checks one submission against a problem (or, with no spec, its arithmetic only)."""

    def __init__(self, problem: Problem | None, rtol=None, atol=None):
        self.problem = problem
        self.override = (rtol, atol) if rtol is not None or atol is not None else None
        self.world = World(problem.trace, problem.truth, problem.layout, problem.graph) if problem is not None else None
        self.ledger = Ledger()
        self.aligner = Aligner(problem, self.world, self.ledger) if problem is not None else None
        self.out: list[CheckedClaim] = []

    def run(self, text: str) -> Report:
        order = 0
        for stmt in read(text):
            for claim in claims_of(stmt):
                order += 1
                claim.order = order
                claim.override = self.override
                self.check(claim)
        report = Report(sorted(self.out, key=lambda c: (c.line, c.column)))
        if not report.claims:
            report.notes.append("no checkable working found: write steps such as "
                                "'z = 0.15×0.5 + 0.2×0.8 + 0.35 = 0.585'")
        return report

    # --- one claim -------------------------------------------------------------------------------------
    def check(self, claim: Claim) -> None:
        tol = claim_precision(claim)
        skip = self._not_a_claim(claim, tol)
        if skip:
            return
        arith = self._arithmetic(claim) if claim.computation is not None else None
        alignment = None
        if self.aligner is not None:
            formula = arith.corrected if arith is not None and not arith.unknown_operand else None
            alignment, _ = self.aligner.align(claim, self._origins(claim), formula)
        if alignment is not None:
            verdict = judge_pinned(claim, alignment, self.world, arith)
            truth = self.world.truth[alignment.place.sid][alignment.place.index]
            self._emit(claim, verdict, alignment.place, truth, alignment)
        elif arith is not None:
            verdict = judge_arithmetic(claim, arith)
            self._emit(claim, verdict, None, verdict.expected)
        else:
            self._emit(claim, unchecked("U-unpinned", "could not tell which step this number is; "
                                                       "name it (e.g. net_h1 = …) or show its computation"),
                       None, None)

    def check_at(self, claim: Claim, place: Place) -> None:
        """Judge a claim whose place is given (the structured form's step ids)."""
        size = int(np.size(self.world.truth[place.sid][place.index]))
        if size != int(np.size(claim.value)):
            self._emit(claim, unchecked("U-uncomputable", f"{place} has {size} number(s) and the answer "
                                                          f"{int(np.size(claim.value))}; give one value per element"),
                       None, None)
            return
        alignment = Alignment(place, 0.0, ["the answer's key names the step"])
        v = self.aligner._value_match(claim, place, claim_precision(claim)) if claim.value.ndim == 0 else "none"
        if v == "none" and claim.value.ndim == 0:
            alignment.mistake = self.aligner._mistake(claim, place, claim_precision(claim))
        verdict = judge_pinned(claim, alignment, self.world, None)
        self._emit(claim, verdict, place, self.world.truth[place.sid][place.index], alignment)

    def _not_a_claim(self, claim: Claim, tol) -> bool:
        """Restated givens, earlier numbers used again, and index numbers are not claims; without a
        problem, a value stated with no computation is a definition the work uses, not a claim."""
        if claim.role == "intermediate" and claim.computation is None and \
                self.ledger.stated(claim.value, claim.decimals) is not None:
            return True               # a number of the student's own, put in for a name: used, not claimed
        if claim.role in ("result", "intermediate"):
            return False
        if self.problem is None:
            label = claim.label
            if label is not None:
                self.ledger.add(Entry(np.asarray(claim.value, dtype=np.float64), claim.decimals, None, "stated",
                                      None, claim.line, canon(label.name), claim.statement.hints.get("sample")))
            return True
        given = self.problem is not None and self.problem.is_given(claim.value, tol)
        if claim.role == "operand":
            return given or claim.decimals == 0 or \
                self.ledger.stated(claim.value, claim.decimals, either_sign=True) is not None
        context = claim.statement.context
        if claim.role == "value" and claim.exact and claim.statement.source != "table" and \
                (claim.decimals or not _COMPUTED_CONTEXT.search(context[-40:])):
            return True               # `Question 2`, `rounding to 4 dp`, `the ½`: a count or a constant
        if claim.statement.source == "table" and claim.label is None:
            return False               # a cell of a table of results: aligned, never taken for a given
        label = claim.label
        places = align_name(label.name, label.element, self.problem.trace, claim.statement.hints.get("sample")) \
            if label is not None else []
        if label is not None:
            givens = [(s, i) for s, i in places if self.problem.trace[s].op is None]
            only_givens = bool(givens) and len(givens) == len(places)
            # the given restated: w5 = 0.40 (also where the name may be its update, before the work
            # starts: `w1 = w2 = b = 0 at the start`; later, w1 = 0 may be an update that left it as it was)
            if only_givens or (givens and not any(c.step_id for c in self.out)):
                if self._restates(givens, claim.value, tol):
                    # not a claim, but the name keeps its value: `y = (1, 0)`, then `out1 − y1`
                    self.ledger.add(Entry(np.asarray(claim.value, dtype=np.float64), claim.decimals,
                                          np.asarray(claim.value, dtype=np.float64), "correct", None,
                                          claim.line, canon(label.name), claim.statement.hints.get("sample")))
                    return True
            if only_givens:
                whole = [np.ravel(self.world.truth[sid]) for sid, _ in givens]
                if claim.value.ndim == 0 and claim.statement.source == "table" and \
                        any(np.any(np.abs(w - claim.value) <= tol) for w in whole):
                    return True        # a table column restating an input or target, sample by sample
                return False           # a parameter stated with another value: its update, aligned below
        if given and label is not None and not places and claim.role == "definition":
            place = self._given_place(claim.value, tol)     # a name of the student's own for a given
            if place is not None:
                self.ledger.name_given(label.name, place)     # `v = [0.5, −0.3, 0.2, 0.4]`
                return True
        return given and label is None and not _COMPUTED_CONTEXT.search(context[-80:])

    def _restates(self, givens: list, value, tol) -> bool:
        """The value is one of these given elements, a given step, or a row or column of one (a
        sample's inputs, `x = (0,1)`), as the problem states it."""
        for sid, idx in givens + [(s, None) for s, _ in givens]:
            true = self.world.truth[sid] if idx is None else self.world.truth[sid][idx]
            parts = [true] + (list(true) + list(true.T) if np.ndim(true) == 2 else [])
            if any(np.size(part) == np.size(value) and
                   np.all(np.abs(np.ravel(part) - np.ravel(value)) <= np.ravel(tol)) for part in parts):
                return True
        return False

    def _given_place(self, value, tol) -> tuple[str, tuple | None] | None:
        """The given step (or element) whose value this is, when exactly one is."""
        v = np.asarray(value, dtype=np.float64)
        found = []
        for s in self.problem.trace:
            if s.op is not None:
                continue
            arr = self.world.truth[s.id]
            if np.size(arr) == np.size(v) and np.allclose(np.ravel(arr), np.ravel(v), rtol=0, atol=float(np.max(tol))):
                found.append((s.id, None))
            elif v.ndim == 0 and arr.ndim:
                hits = np.argwhere(np.abs(arr - v) <= tol)
                found.extend((s.id, tuple(int(i) for i in h)) for h in hits)
        return found[0] if len(found) == 1 else None

    # --- the student's own expression ------------------------------------------------------------------
    def _arithmetic(self, claim: Claim) -> Arithmetic:
        node = claim.computation
        bad, unknown = [False], [False]
        stmt = claim.statement
        sample = stmt.hints.get("sample")

        def resolve(own: bool):
            def get(name):
                entry = self.ledger.named(canon(name), sample) if sample else None
                if name in stmt.bindings and (own or entry is None or entry.truth is None):
                    return stmt.bindings[name]     # a table row's own cell
                entry = entry or self.ledger.named(canon(name))
                if entry is not None:
                    bad[0] |= entry.bad
                    return entry.value if own or entry.truth is None else entry.truth
                parts = self.ledger.elements_of(canon(name))
                if parts:                       # δ^(2) after δ^(2)_1 and δ^(2)_2 were stated
                    bad[0] |= any(e.bad for e in parts)
                    return np.asarray([e.value if own or e.truth is None else e.truth for e in parts])
                element = self.ledger.element_named(canon(name))
                if element is not None:         # x₁ after x = [0.5, 0.8] was stated
                    entry, k = element
                    bad[0] |= entry.bad
                    source = entry.value if own or entry.truth is None else entry.truth
                    return np.ravel(source)[k]
                value = self._named_value(name, own)
                if name not in CONSTANTS and (value is None or not self._given_name(name)):
                    unknown[0] = True     # a name the work never gave a value: not the student's own
                return value
            return get

        overrides, rounded = {}, []
        for lit in literals(node):
            if lit.decimals == 0 and abs(lit.value) <= 10:
                continue
            entry = self.ledger.stated(lit.value, lit.decimals, either_sign=True)
            if entry is not None:
                rounded.append(lit)
                bad[0] |= entry.bad
                if entry.truth is not None and np.ndim(entry.truth) == 0:
                    overrides[id(lit)] = float(entry.truth) * (1 if entry.value * lit.value >= 0 else -1)
            elif self.problem is not None and not self.problem.is_given(lit.value, precision(lit.decimals, lit.value)):
                unknown[0] = True     # with a problem, a number that is neither given nor stated before
        try:
            own = evaluate(node, None, None, resolve(True))
        except (ExprError, NNTError) as exc:
            return Arithmetic(None, None, error=str(exc))
        try:
            corrected = evaluate(node, None, overrides, resolve(False))
        except (ExprError, NNTError):
            corrected = None
        if np.shape(own) != np.shape(claim.value) and np.size(own) == np.size(claim.value):
            own = np.reshape(own, np.shape(claim.value))
            corrected = None if corrected is None else np.reshape(corrected, np.shape(claim.value))
        if np.shape(own) != np.shape(claim.value):
            return Arithmetic(None, None, error=f"the expression gives shape {np.shape(own)}, "
                                                f"the written value {np.shape(claim.value)}")
        slack = _spread(node, resolve(True), only=rounded) if rounded else 0.0
        return Arithmetic(own, corrected, bad[0], unknown[0], broken_link=self._broken_link(claim, resolve(True)),
                          slack=slack)

    def _broken_link(self, claim: Claim, resolve) -> str:
        """The first `a = b` of the claim's chain (before its result) that does not hold, as text."""
        links = claim.links
        for before, after in zip(links, links[1:]):
            try:
                a, b = evaluate(before, None, None, resolve), evaluate(after, None, None, resolve)
                slack = _spread(before, resolve) + _spread(after, resolve)
            except (ExprError, NNTError):
                continue
            if np.shape(a) == np.shape(b) and np.any(np.abs(a - b) > slack + 1e-9 * (1 + np.abs(a))):
                return f"the step to {_short(after)} does not hold: the line before gives {_short_value(a)}"
        return ""

    def _given_name(self, name: str) -> bool:
        """The name denotes one given value of the problem (w5, x1, η)."""
        if self.problem is None:
            return False
        places = align_name(name, None, self.problem.trace) or self.ledger.alias(name)
        return len(places) == 1 and self.problem.trace[places[0][0]].op is None

    def _named_value(self, name: str, own: bool):
        """A name the work did not define: a given of the problem, or a step it stands for."""
        if self.problem is None:
            return None
        places = align_name(name, None, self.problem.trace) or self.ledger.alias(name)
        if not places:
            return None
        sid, idx = places[0]
        step = self.problem.trace[sid]
        if step.op is None:
            value = self.world.truth[sid]
        else:
            value = self.world.value("student", sid) if own else self.world.truth[sid]
        return value if idx is None else value[tuple(idx)]

    def _origins(self, claim: Claim) -> list[set]:
        """For each number or name in the claim's expression, the elements it may be."""
        if claim.computation is None or self.problem is None:
            return []
        out = []
        for lit in literals(claim.computation):
            if lit.decimals == 0 and abs(lit.value) <= 10:
                continue
            origins = set()
            entry = self.ledger.stated(lit.value, lit.decimals, either_sign=True)
            if entry is not None and entry.target is not None and _scalar_index(entry.target[1]):
                origins.add(entry.target)
            origins |= self.problem.given_places(lit.value, precision(lit.decimals, lit.value))
            if origins:
                out.append(origins)
        for name in dict.fromkeys(names(claim.computation)):
            entry = self.ledger.named(canon(name))
            if entry is not None and entry.target is not None and _scalar_index(entry.target[1]):
                out.append({entry.target})
        return out

    # --- recording -------------------------------------------------------------------------------------
    def _emit(self, claim: Claim, verdict: Verdict, place: Place | None, truth,
              alignment: Alignment | None = None) -> None:
        label = claim.label
        self.out.append(CheckedClaim(
            claim.line, claim.text[:160], _plain(claim.value), _plain(verdict.expected), verdict.verdict,
            verdict.misconception, verdict.hint if verdict.verdict != "correct" else "",
            place.sid if place else None, _index(place.index) if place else None,
            verdict.hint if verdict.verdict == "unchecked" else "",
            f"{shown(label.name)}{index_text(label.index)}" if label else "",
            claim.column, verdict.rule, list(verdict.evidence), _plain(verdict.own), verdict.elements))
        judged = RIGHT if verdict.verdict in ("correct", "rounding") else \
            CARRIED if verdict.verdict == "carried" else WRONG
        if place is not None and verdict.verdict != "unchecked" and verdict.rule != "V-restated":
            self.world.write(place.sid, place.index, claim.value, judged)
        name = canon(label.name) if label else None
        self.ledger.add(Entry(np.asarray(claim.value, dtype=np.float64), claim.decimals,
                              None if truth is None else np.asarray(truth, dtype=np.float64),
                              verdict.verdict, (place.sid, place.index) if place else None, claim.line,
                              name, claim.statement.hints.get("sample")))


def _spread(node: Node, resolve, only: list | None = None) -> np.ndarray:
    """How far an expression moves when each decimal it shows (or each of `only`) moves by half a
    unit of its last decimal (its rounding)."""
    base = evaluate(node, None, None, resolve)
    total = np.zeros_like(np.asarray(base, dtype=np.float64))
    for lit in (literals(node) if only is None else only)[:40]:
        if lit.decimals == 0:
            continue
        moved = evaluate(node, None, {id(lit): lit.value + precision(lit.decimals, lit.value)}, resolve)
        if np.shape(moved) == np.shape(base):
            total = total + np.abs(moved - base)
    return total


def _short(node: Node) -> str:
    vals = [l.text for l in literals(node)][:6]
    return " + ".join(vals) if node.kind == "sum" else ", ".join(vals) or "the next form"


def _short_value(v) -> str:
    from nn_tutor.engine.numfmt import fmt_array
    return fmt_array(np.asarray(v, dtype=np.float64), 4)


def _scalar_index(index) -> bool:
    return isinstance(index, tuple) and all(isinstance(i, int) for i in index)


def _index(index: tuple):
    if not index:
        return None
    return tuple(i if isinstance(i, int) else ":" for i in index)


def _plain(v):
    if v is None:
        return None
    arr = np.asarray(v, dtype=np.float64)
    return float(arr) if arr.ndim == 0 else arr.tolist()
