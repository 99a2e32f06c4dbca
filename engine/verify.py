"""Claims against values: tolerance from the decimals a student shows, and the double judgement.

A claimed number is judged twice: against the true value, and against a recomputation from the
student's own earlier numbers (`Trace.recompute(step_id, overrides)`), so an error made once is
punished once. Verdicts: correct, rounding, wrong, carried, unchecked (with a reason).
"""
from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field

import numpy as np

from nn_tutor.engine.errors import NNTError

VERDICTS = ("correct", "rounding", "wrong", "carried", "unchecked")
REL_FLOOR = 1e-9     # float noise, relative
ABS_FLOOR = 1e-12


@dataclass
class Claim:
    """One number (or array) a student wrote, and what the checker found."""

    line: int
    text: str
    claimed: object = None          # float or nested list
    expected: object = None         # what it should be (true value; None when unknown)
    verdict: str = "unchecked"
    misconception: str | None = None
    hint: str = ""
    step_id: str | None = None
    index: tuple | None = None
    reason: str = ""                # why unchecked, or what was compared
    label: str = ""                 # the student's name for the quantity (net_h1, δ2, ...)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["index"] = list(self.index) if self.index is not None else None
        return d


@dataclass
class CheckReport:
    """All claims of one piece of work, in reading order, with a summary."""

    claims: list[Claim] = field(default_factory=list)
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
                "score": round(good / judged, 4) if judged else None,
                "ok": counts["wrong"] == 0}

    @property
    def ok(self) -> bool:
        return self.summary["ok"]

    def to_dict(self) -> dict:
        return {"source": self.source, "claims": [c.to_dict() for c in self.claims],
                "summary": self.summary, "notes": list(self.notes)}


# --- tolerance -------------------------------------------------------------------------------

def half_unit(decimals: int) -> float:
    """Half a unit of the last shown decimal: 0.5933 -> 0.00005."""
    return 0.5 * 10.0 ** (-int(decimals))


def value_tolerance(claimed, decimals: int | None, exact_integers: bool = True) -> np.ndarray:
    """How far a written number may be from the value it rounds: half a unit of its last decimal.

    Whole numbers below 10 written without a point are taken as exact (students write 1, 0, 2 for
    exact values), larger whole numbers as rounded to units.
    """
    c = np.abs(np.asarray(claimed, dtype=np.float64))
    if decimals is None:
        return REL_FLOOR * c + ABS_FLOOR
    if decimals == 0 and exact_integers:
        return np.where(c >= 10, 0.5, REL_FLOOR * c + ABS_FLOOR)
    return half_unit(decimals) + REL_FLOOR * c + ABS_FLOOR


def override_tolerance(expected, rtol: float | None, atol: float | None) -> np.ndarray | None:
    """The user's --rtol/--atol, if any, replace the shown-decimals rule (as graders allow)."""
    if rtol is None and atol is None:
        return None
    return (atol or 0.0) + (rtol or 0.0) * np.abs(np.asarray(expected, dtype=np.float64)) + ABS_FLOOR


def close(claimed, expected, tol) -> bool:
    """Every element of the claim is within tolerance of the expected value (shapes must agree)."""
    c = np.asarray(claimed, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if c.shape != e.shape:
        if c.size == e.size:
            c = c.reshape(e.shape)
        else:
            return False
    if not (np.all(np.isfinite(c)) and np.all(np.isfinite(e))):
        return False
    t = np.asarray(tol, dtype=np.float64)
    t = t.reshape(e.shape) if t.size == e.size else (t.reshape(()) if t.size == 1 else np.max(t))
    return bool(np.all(np.abs(c - e) <= t))


def link_verdict(claimed, from_own, from_true, tol, tol_true=None, earlier_error: bool = False,
                 unit=None) -> str:
    """Verdict of one written step given the value it should have from the student's own numbers
    (`from_own`) and from correct numbers (`from_true`, None if unknown).

    correct: matches the true value. rounding: matches only within twice the tolerance (a
    truncated or doubly rounded digit: `unit`, half a unit of the claim's last decimal, more). carried: matches the student's own earlier (wrong)
    numbers only. wrong: matches neither.
    """
    tol_true = tol if tol_true is None else tol_true
    if from_true is not None and close(claimed, from_true, tol_true):
        return "correct"
    if from_own is not None and close(claimed, from_own, tol):
        if from_true is None or not earlier_error:
            return "correct" if from_true is None else "rounding"
        return "carried"
    extra = 0.999 * np.asarray(tol if unit is None else unit)  # strictly less than one more unit
    loose = np.asarray(tol) + extra
    if from_true is not None and close(claimed, from_true, np.asarray(tol_true) + extra):
        return "rounding"
    if from_own is not None and close(claimed, from_own, loose):
        return "rounding" if not earlier_error else "carried"
    return "wrong"


# --- judging a claim against a trace -----------------------------------------------------------

def element(value, index: tuple | None):
    """The claimed part of a step value: the whole array, or one element."""
    arr = np.asarray(value, dtype=np.float64)
    if index is None:
        return arr
    try:
        return arr[tuple(index)]
    except IndexError:
        raise NNTError(f"index {list(index)} is outside a value of shape {arr.shape}") from None


def student_overrides(trace, step_id: str, own: dict, depth: int = 4) -> tuple[dict, bool, list[str]]:
    """The inputs of a step with the student's own claimed values written over the true ones.

    `own` maps step id -> (display array with NaN where the student said nothing, had_error).
    An input the student did not write is recomputed from the student's values further back
    (up to `depth` steps), so a loss written after the per-sample losses were skipped is still
    judged from the student's own predictions. Returns (overrides, any input carried an error, ids).
    """
    overrides, earlier_error, used = {}, False, []
    for src in trace[step_id].inputs:
        found = _own_value(trace, src, own, depth)
        if found is None:
            continue
        overrides[src], had_error = found
        used.append(src)
        earlier_error = earlier_error or had_error
    return overrides, earlier_error, used


def _own_value(trace, sid: str, own: dict, depth: int):
    """(display value, had_error) of a step as the student's own numbers make it, or None."""
    if sid in own:
        values, had_error = own[sid]
        true = np.array(trace.display(sid), dtype=np.float64)
        mine = np.asarray(values, dtype=np.float64)
        if mine.shape != true.shape:
            if mine.size != true.size:
                return None
            mine = mine.reshape(true.shape)
        mask = np.isfinite(mine)
        if not mask.any():
            return None
        if mask.all():
            return mine, had_error
        # elements the student did not write: recomputed from their other numbers when possible
        deeper = _own_value_from_inputs(trace, sid, own, depth)
        base = deeper[0] if deeper is not None else true
        base = np.array(base, dtype=np.float64)
        base[mask] = mine[mask]
        return base, had_error or (deeper is not None and deeper[1])
    return _own_value_from_inputs(trace, sid, own, depth)


def _own_value_from_inputs(trace, sid: str, own: dict, depth: int):
    step = trace[sid]
    if depth <= 0 or step.op is None:
        return None
    overrides, had_error = {}, False
    for src in step.inputs:
        found = _own_value(trace, src, own, depth - 1)
        if found is not None:
            overrides[src], err = found
            had_error = had_error or err
    if not overrides:
        return None
    try:
        return np.asarray(trace.recompute(sid, overrides), dtype=np.float64), had_error
    except (NNTError, ValueError, IndexError):
        return None


def student_trace(trace, own: dict):
    """A copy of the trace in which the student's own numbers replace the true ones and every
    later step is recomputed from them: the world the student's later steps live in."""
    from nn_tutor.engine.trace import Trace

    out = Trace(trace.title, trace.batch_size, trace.conventions)
    out.info = dict(trace.info)
    changed = set()
    for step in trace:
        value = step.value
        if step.op is not None and any(i in changed for i in step.inputs):
            try:
                value = np.asarray(step.op.fn(*[out.steps[i].value for i in step.inputs]), dtype=np.float64)
                changed.add(step.id)
            except (ValueError, IndexError, TypeError):
                pass
        if step.id in own:
            mine = np.asarray(own[step.id][0], dtype=np.float64)
            disp = np.array(trace._to_display(step, np.asarray(value)), dtype=np.float64)
            if mine.size == disp.size:
                mine = mine.reshape(disp.shape)
                mask = np.isfinite(mine)
                if mask.any():
                    disp[mask] = mine[mask]
                    value = trace._to_internal(step, disp)
                    changed.add(step.id)
        out.steps[step.id] = dataclasses.replace(step, value=value)
    return out


MAX_BUMPS = 64  # elements bumped one by one; beyond this, each written step is bumped as a whole


def _reached(trace, step_id: str, own: dict, depth: int) -> list[str]:
    """The steps the student wrote that a recomputation of step_id draws on (within depth)."""
    out, frontier = [], list(trace[step_id].inputs)
    for _ in range(depth):
        nxt = []
        for sid in frontier:
            if sid in own:
                if sid not in out:
                    out.append(sid)
            elif trace[sid].op is not None:
                nxt.extend(trace[sid].inputs)
        frontier = nxt
    return out


def recompute_spread(trace, step_id: str, index, own: dict, decimals: dict, depth: int = 4):
    """How much the value recomputed from the student's numbers moves when each number they wrote
    moves by half its last shown unit: Σ |change|, each taken on the gentler side (a tie or a kink
    may jump on one side only). Given values and whole numbers are exact."""
    base_over, _, _ = student_overrides(trace, step_id, own, depth)
    base = np.asarray(element(trace.recompute(step_id, base_over), index), dtype=np.float64)
    spread = np.zeros_like(base)
    sources = [s for s in _reached(trace, step_id, own, depth)
               if trace[s].op is not None and decimals.get(s)]
    n_elements = sum(np.size(own[s][0]) for s in sources)
    for src in sources:
        values, had = own[src]
        values = np.asarray(values, dtype=np.float64)
        h = half_unit(decimals[src])
        if n_elements > MAX_BUMPS:
            bumps = [np.where(np.isfinite(values), h, 0.0)]
        else:
            bumps = []
            for k in np.flatnonzero(np.isfinite(values.ravel())):
                b = np.zeros(values.size)
                b[k] = h
                bumps.append(b.reshape(values.shape))
        for b in bumps:
            moves = []
            for sign in (1.0, -1.0):
                bumped = dict(own)
                bumped[src] = (values + sign * b, had)
                over, _, _ = student_overrides(trace, step_id, bumped, depth)
                moved = np.asarray(element(trace.recompute(step_id, over), index), dtype=np.float64)
                moves.append(np.abs(moved - base))
            spread = spread + np.minimum(moves[0], moves[1])
    return spread


def judge_step(trace, step_id: str, index, claimed, tol, own: dict, decimals: dict,
               rtol=None, atol=None) -> tuple[str, object, object]:
    """Judge a claimed step value twice. Returns (verdict, true value, value from own numbers)."""
    true = element(trace.display(step_id), index)
    user_tol = override_tolerance(true, rtol, atol)
    tol = tol if user_tol is None else user_tol
    if close(claimed, true, tol):
        return "correct", true, None
    step = trace[step_id]
    if step.op is None:
        return ("rounding" if close(claimed, true, 2 * np.asarray(tol)) else "wrong"), true, None
    overrides, earlier_error, _ = student_overrides(trace, step_id, own)
    if not overrides:
        return ("rounding" if close(claimed, true, 2 * np.asarray(tol)) else "wrong"), true, None
    try:
        mine = element(trace.recompute(step_id, overrides), index)
        spread = recompute_spread(trace, step_id, index, own, decimals) if user_tol is None else 0
    except (NNTError, ValueError, FloatingPointError):
        return "wrong", true, None
    widened = np.asarray(tol) + spread
    if close(claimed, mine, widened):
        return ("carried" if earlier_error else "rounding"), true, mine
    if close(claimed, true, 2 * np.asarray(tol)):
        return "rounding", true, mine
    return "wrong", true, mine
