"""Judging chains: every link against the student's own numbers and, with a spec, the engine.

`Checker` walks the chains in reading order, keeping the symbol table and the student's own step
values, so a later step is judged against the student's earlier numbers (error carried forward,
not punished twice) as well as against the true value; a wrong one is named when a catalogued
misconception reproduces it.
"""
from __future__ import annotations

import re

import numpy as np

from nn_tutor.engine.expr import CONSTANTS, ExprError, Node, evaluate, literals, names
from nn_tutor.engine.verify import Claim, close, element, half_unit, judge_step, link_verdict, override_tolerance, value_tolerance
from nn_tutor.tools.homework_names import align_name, canon, is_bare, names_computed_quantity
from nn_tutor.tools.homework_read import Chain, decimals_of, shown
from nn_tutor.tools.homework_symbols import Table

MAX_SPREAD_TERMS = 40  # numbers perturbed one by one to measure rounding spread

class Checker:
    """Walks the chains in order, keeping the symbol table and the student's own step values."""

    def __init__(self, spec: dict | None, rtol, atol):
        self.rtol, self.atol = rtol, atol
        self.table = Table()
        self.trace = None
        self.own: dict[str, tuple[np.ndarray, bool]] = {}     # step id -> (student's values, had error)
        self.own_decimals: dict[str, int] = {}
        self.claims: list[Claim] = []
        self.aligned: dict = {}      # (name, index) -> the step it was first aligned to
        if spec is not None:
            from nn_tutor.engine.kinds import walk
            self.trace = walk(spec)
            for step in self.trace:
                values = np.asarray(self.trace.display(step.id)).ravel()[:5000].tolist()
                if step.phase != "given":
                    self.table.computed.extend(values)
                else:
                    self.table.givens.update(values)

    # name resolution -------------------------------------------------------------------------
    def _resolver(self, own: bool):
        """name -> value from the student's own numbers (own) or the corrected ones."""
        lookup = self.table.own if own else self.table.true

        def resolve(name):
            v = lookup(name)
            if v is None:
                v = self._element_of_vector(name, lookup)
            return v if v is not None else self._from_trace(name, own=own)
        return resolve

    @staticmethod
    def _element_of_vector(name, lookup):
        """x₁ when the text defined the vector x = [0.5, 0.8]: its first element (1-based)."""
        m = re.fullmatch(r"([^\d_]+)_?(\d)", canon(name))
        if not m:
            return None
        vec = lookup(m.group(1))
        if vec is None or np.ndim(vec) != 1 or not 1 <= int(m.group(2)) <= np.size(vec):
            return None
        return np.asarray(vec)[int(m.group(2)) - 1]

    def _from_trace(self, name, own: bool):
        if self.trace is None or name in CONSTANTS:
            return None
        cands = align_name(name, None, self.trace)
        givens = [c for c in cands if self.trace[c[0]].phase == "given"]
        if len(givens) != 1:
            return None  # only given values are taken from the spec; results must be the student's
        sid, idx = givens[0]
        value = np.asarray(self.trace.display(sid))
        return value if idx is None else value[idx]

    def evaluate(self, node: Node, own: bool, overrides=None):
        return evaluate(node, None, overrides, self._resolver(own))

    # tolerance --------------------------------------------------------------------------------
    def spread(self, node: Node, own: bool, only_rounded: bool) -> np.ndarray:
        """How far the value may move when each written number moves by half its last unit."""
        base = self.evaluate(node, own)
        spread = np.zeros_like(np.asarray(base, dtype=np.float64))
        lits = []
        for l in literals(node):
            if only_rounded:
                d = self.table.rounding_decimals(l)
                if d is not None:
                    lits.append((l, d))
            elif l.decimals > 0 or abs(l.value) >= 10:
                lits.append((l, l.decimals))
        if len(lits) > MAX_SPREAD_TERMS:
            return spread + 1e-3 * np.abs(base)
        resolve = self._resolver(own)
        bumps = [({id(lit): lit.value + (half_unit(d) if d > 0 else 0.5)}, resolve) for lit, d in lits]
        for name in dict.fromkeys(names(node)):   # rounded results the text named, bumped by name
            sym = self.table.symbols.get(canon(name))
            if sym is None or not sym.decimals or not sym.rounded or sym.slip:
                continue

            def bumped(n, name=name, h=half_unit(sym.decimals)):
                v = resolve(n)
                return None if v is None else (np.asarray(v) + h if canon(n) == canon(name) else v)
            bumps.append((None, bumped))
        for overrides, lookup in bumps:
            try:
                moved = evaluate(node, None, overrides, lookup)
            except ExprError:
                continue
            if np.shape(moved) == np.shape(base):
                spread = spread + np.abs(moved - base)
        return spread

    def tolerance(self, claim_node: Node, from_node: Node, claimed, expected) -> np.ndarray:
        user = override_tolerance(expected, self.rtol, self.atol)
        if user is not None:
            return user
        if claim_node.kind == "num":
            tol = value_tolerance(claimed, claim_node.decimals)
        else:
            tol = self.spread(claim_node, True, only_rounded=False) + value_tolerance(claimed, None)
        return tol + self.spread(from_node, True, only_rounded=True)

    # the walk ---------------------------------------------------------------------------------
    def run(self, chains: list[Chain]) -> list[Claim]:
        for chain in chains:
            try:
                self.check_chain(chain)
            except ExprError as exc:
                self.claims.append(Claim(chain.line, chain.text, verdict="unchecked",
                                         reason=str(exc), label=chain.label or ""))
        return self.claims

    def _target_for(self, chain: Chain):
        """The step a labelled chain states. A name stated again later (a second iteration, an
        update written under the parameter's name) means the updated or after-update step."""
        if self.trace is None or not chain.label:
            return None
        key = (canon(chain.label), chain.index)
        before = self.aligned.get(key)
        if before is None:
            target = self._pick(align_name(chain.label, chain.index, self.trace), chain)
        else:
            sid, idx = before
            later = [c for c in ((f"{sid}_new", idx), (f"after.{sid}", idx)) if c[0] in self.trace]
            target = self._pick(later, chain, require_match=True) if later else None
        if target is not None:
            self.aligned[key] = target
        return target

    def check_chain(self, chain: Chain) -> None:
        target = self._target_for(chain)
        values, kept, failures = [], [], []
        for p in chain.parts:
            try:
                values.append(self.evaluate(p.node, True))
                kept.append(p)
            except ExprError as exc:
                failures.append((p, exc))
        if failures:
            # forms that cannot be computed (a name never given a value) are left out; their
            # neighbours still restate the same quantity and are checked
            if target is None and len(kept) == 1:
                p, exc = failures[0]
                self.claims.append(Claim(p.line, chain.text, _plain(values[-1]), verdict="unchecked",
                                         reason=str(exc), label=chain.label or ""))
            if not kept:
                return
            chain = Chain(chain.line, chain.label, chain.index, kept, chain.text)
        try:
            true0 = self.evaluate(chain.parts[0].node, False, self._wrong_literal_overrides(chain.parts[0].node))
        except ExprError:
            true0 = None
        corrected0 = true0
        if target is not None:
            true0 = np.asarray(element(self.trace.display(target[0]), target[1]))
        earlier_error = self._uses_wrong(chain.parts[0].node)
        setup_verdict = None
        final_verdict, final_value, final_decimals = None, None, None
        if len(chain.parts) == 1:
            # `name = value` or `name = expression`: a definition, judged only against a spec step
            v = values[0]
            if isinstance(v, ExprError):
                return  # a symbolic definition such as a = σ(z): no number to check
            part = chain.parts[0]
            if target is not None and (part.node.kind in ("num", "vec", "neg") or
                                       self.trace[target[0]].phase != "given"):
                tol = self.tolerance(part.node, part.node, v, v) if part.node.kind != "num" else \
                    value_tolerance(v, part.node.decimals)
                if part.node.kind != "num":
                    tol = override_tolerance(v, self.rtol, self.atol) if (self.rtol or self.atol) else \
                        self.spread(part.node, True, only_rounded=False) + \
                        self.spread(part.node, True, only_rounded=True) + value_tolerance(v, None)
                verdict, true, mine = self.judge_target(target, v, tol)
                if verdict == "wrong" and self.trace[target[0]].phase == "given":
                    # a given stated differently: a copying slip, or the name means something else
                    self.claims.append(Claim(
                        chain.line, chain.text, _plain(v), _plain(true), "unchecked", label=chain.label,
                        step_id=target[0], index=target[1],
                        reason=f"the problem gives {_fmt(true)} for this; if {shown(chain.label)} "
                               f"means something else here, name it differently"))
                    self._define(chain, v, v, decimals_of(part.node), "correct", None)
                    return
                self.add_claim(chain, chain.text, v, true, verdict, target, mine, tol)
                final_verdict = verdict
                true0 = true
            else:
                final_verdict = "wrong" if earlier_error else "correct"
                if earlier_error:
                    final_verdict = "carried"
            self._define(chain, v, true0, decimals_of(part.node), final_verdict, target)
            return
        chain_error = earlier_error if target is None else False
        for i in range(1, len(chain.parts)):
            prev, part = chain.parts[i - 1], chain.parts[i]
            claimed, from_own = values[i], values[i - 1]
            text = f"{prev.text} = {part.text}"
            if isinstance(claimed, ExprError):
                break
            if isinstance(from_own, ExprError):
                self.claims.append(Claim(part.line, text, _plain(claimed), verdict="unchecked",
                                         reason=str(from_own), label=chain.label or ""))
                chain_error = True
                continue
            if np.shape(claimed) != np.shape(from_own) and np.size(claimed) != np.size(from_own):
                self.claims.append(Claim(part.line, text, _plain(claimed), _plain(from_own), "wrong",
                                         hint=f"the shapes differ: {np.shape(from_own)} on the left, "
                                              f"{np.shape(claimed)} on the right", label=chain.label or ""))
                chain_error = True
                continue
            tol = self.tolerance(part.node, prev.node, claimed, from_own)
            unit = value_tolerance(claimed, decimals_of(part.node))
            arithmetic_ok = close(claimed, from_own, tol)
            is_last = i == len(chain.parts) - 1
            from_setup = False
            if target is not None and true0 is not None:
                if close(claimed, true0, tol):
                    verdict = "correct"
                elif not arithmetic_ok:
                    verdict = "rounding" if close(claimed, from_own, tol + unit) else "wrong"
                elif chain_error:
                    verdict = "carried"
                else:
                    if setup_verdict is None:
                        setup_verdict = self._judge_setup(target, from_own, tol, earlier_error,
                                                          corrected0, true0)
                        from_setup = True
                    verdict = setup_verdict
                expected = true0
            else:
                verdict = link_verdict(claimed, from_own, true0, tol, earlier_error=chain_error, unit=unit)
                expected = true0 if true0 is not None else from_own
            step = target if (target is not None and (is_last or from_setup)) else None
            self.add_claim(chain, text, claimed, expected, verdict, step, from_own, tol, part.line,
                        link=(prev, part))
            if verdict != "wrong":
                d = decimals_of(part.node)
                self.table.claimed.extend((v, d) for v in np.atleast_1d(claimed).ravel()[:1000].tolist())
            if verdict in ("wrong", "carried"):
                chain_error = True
                if part.node.kind in ("num", "neg") and true0 is not None and np.size(true0) == 1:
                    lit = literals(part.node)[0]
                    sign = -1.0 if part.node.kind == "neg" else 1.0
                    self.table.wrong_literals[lit.text] = sign * float(np.asarray(true0).ravel()[0])
                    if verdict == "wrong":
                        self.table.slips.add(lit.text)
            final_verdict, final_value = verdict, claimed
            final_decimals = decimals_of(part.node)
        if chain.label and final_value is not None:
            self._define(chain, final_value, true0, final_decimals, final_verdict, target)

    def _pick(self, cands, chain: Chain, require_match: bool = False):
        """Of the steps a name may mean, the one whose true value the work matches; failing that,
        the first reading only when the name pins it down (a number, a side h/o, an index).
        A bare, ambiguous name (net, out, z, δ, w) with a value matching nothing stays unaligned:
        its arithmetic is still checked, but no step is judged on a guess."""
        if not cands:
            return None
        if chain.index is not None:  # an explicit index says which element: never re-guess by value
            exact = [c for c in cands if c[1] == tuple(chain.index)]
            if exact:
                return exact[0]
        computed = len(chain.parts) > 1 or chain.parts[0].node.kind not in ("num", "vec", "neg")
        options = list(cands)
        for sid, idx in cands:
            value = np.asarray(self.trace.display(sid))
            if idx is None and 1 < value.size <= 64:
                options.extend((sid, tuple(int(i) for i in ix)) for ix in np.ndindex(value.shape))
            if self.trace[sid].phase == "given" and f"{sid}_new" in self.trace:
                options.append((f"{sid}_new", idx))  # `w5 = w5 − η·g` names the updated weight
        for p in reversed(chain.parts):
            try:
                v = self.evaluate(p.node, True)
            except ExprError:
                continue
            tol = value_tolerance(v, decimals_of(p.node)) * 4 + 1e-6 * np.abs(v)
            for c in options:
                t = element(self.trace.display(c[0]), c[1])
                if np.size(t) == np.size(v) and close(v, t, tol):
                    return c
            if require_match:
                return None
            if len(cands) == 1 or not is_bare(chain.label):
                first = cands[0]
                if computed and self.trace[first[0]].phase == "given":
                    return None  # a computation written under a given's name: not that given
                size = np.size(element(self.trace.display(first[0]), first[1]))
                return first if size == np.size(v) else None
            return None
        return cands[0] if len(cands) == 1 and not require_match else None

    def _judge_setup(self, target, value, tol, earlier_error, corrected, true) -> str:
        """The student's setup (the first expression of a chain) against the step: carried when
        it is right once earlier wrong numbers are replaced by true ones, else the step's verdict."""
        verdict, _, _ = self.judge_target(target, np.asarray(value), tol)
        if verdict == "wrong" and earlier_error and corrected is not None and \
                np.size(corrected) == np.size(true) and close(corrected, true, tol):
            verdict = "carried"
        return "rounding" if verdict == "correct" else verdict

    def judge_target(self, target, claimed, tol):
        sid, idx = target
        return judge_step(self.trace, sid, idx, np.asarray(claimed, dtype=np.float64), tol, self.own,
                          self.own_decimals, self.rtol, self.atol)

    def _uses_wrong(self, node: Node) -> bool:
        for n in names(node):
            sym = self.table.symbols.get(canon(n))
            if sym is not None and sym.wrong:
                return True
        return any(l.text in self.table.wrong_literals for l in literals(node))

    def _wrong_literal_overrides(self, node: Node) -> dict:
        return {id(l): self.table.wrong_literals[l.text] for l in literals(node)
                if l.text in self.table.wrong_literals}

    def _define(self, chain: Chain, own, true, decimals, verdict, target=None):
        if not chain.label:
            return
        wrong = verdict in ("wrong", "carried")
        computed = not (len(chain.parts) == 1 and chain.parts[0].node.kind in ("num", "vec", "neg")) \
            or names_computed_quantity(chain.label, self.trace)
        self.table.set(chain.label, chain.index, own, true if true is not None else own, decimals,
                       wrong, chain.line, computed, verdict == "wrong")
        if self.trace is not None:
            if target is not None:
                if not self.record_own(target, own, wrong, decimals):
                    return
                sid, idx = target
                if self.trace[sid].phase != "given":
                    self.table.true_values.extend(np.atleast_1d(element(self.trace.display(sid), idx))
                                                  .ravel()[:1000].tolist())

    def record_own(self, target, own, wrong: bool, decimals) -> bool:
        """The student's value of a step (or one element of it) kept as their own step value, with
        the decimals shown; False when it does not fit the step's shape."""
        sid, idx = target
        shape = np.shape(self.trace.display(sid))
        cur, had = self.own.get(sid, (np.full(shape, np.nan), False))
        cur = np.array(cur)
        try:
            if idx is None:
                cur = np.broadcast_to(np.asarray(own, dtype=np.float64).reshape(shape)
                                      if np.size(own) == np.prod(shape) else own, shape).copy()
            else:
                cur[idx] = float(np.asarray(own).ravel()[0])
        except (ValueError, IndexError):
            return False
        self.own[sid] = (cur, had or wrong)
        if decimals is not None:
            self.own_decimals[sid] = max(decimals, self.own_decimals.get(sid, 0))
        return True

    def add_claim(self, chain, text, claimed, expected, verdict, target, own_value, tol, line=None, link=None):
        from nn_tutor.engine.misconceptions import diagnose
        if expected is not None and np.size(expected) == np.size(claimed):
            expected = np.reshape(expected, np.shape(claimed))  # the shape the student wrote
        claim = Claim(line or chain.line, text, _plain(claimed), _plain(expected), verdict,
                      label=chain.label or "")
        if target is not None:
            claim.step_id, claim.index = target[0], target[1]
        if verdict == "wrong":
            found = diagnose(self.trace, target, claimed, tol, self.own, link_values=(
                None if link is None else (own_value, expected)))
            if found:
                claim.misconception, claim.hint = found
            elif link is not None and own_value is not None and not close(claimed, own_value, tol):
                claim.hint = f"{link[0].text} gives {_fmt(own_value)}, not {_fmt(claimed)}"
            elif target is not None and link is None:
                mine = "" if own_value is None or close(own_value, expected, tol) else \
                    f" (your own earlier numbers give {_fmt(own_value)})"
                claim.hint = f"the value should be {_fmt(expected)}{mine}"
            elif target is not None:
                claim.hint = (f"the arithmetic follows, but the value should be {_fmt(expected)}: "
                              f"check the formula and the numbers put into it")
            else:
                claim.hint = f"this should be {_fmt(expected)}"
        elif verdict == "carried":
            claim.hint = "follows correctly from an earlier wrong value (not counted again)"
        elif verdict == "rounding":
            claim.hint = "right up to rounding of the numbers you used"
        self.claims.append(claim)


def _plain(v):
    if v is None:
        return None
    arr = np.asarray(v, dtype=np.float64)
    return float(arr) if arr.ndim == 0 else arr.tolist()


def _fmt(v) -> str:
    from nn_tutor.engine.numfmt import fmt_array
    return fmt_array(v, 4) if v is not None else "?"
