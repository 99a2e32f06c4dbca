"""Claims -> the step each one states, decided from all the evidence at once, as a teacher reads.

Evidence for a place (a step element, row or block):
  value     the number equals the step's true value, a computation of it from the student's own
            earlier numbers, or what a catalogued mistake gives there;
  operands  the numbers in its expression are the values that step is computed from;
  name      the student's name for it (net_h1, δ_o1, ∂E/∂w5, w5_new…) may denote that step;
  context   the words before it name that kind of quantity (loss, gradient, new weight…);
  place     it comes where the work has got to (not yet written, near the last step pinned);
  row       a table row's sample / row / column numbers agree with the element.
A claim is pinned to the best place only when the evidence adds up (`PINNED`) and no other place
with a different value comes close; otherwise it is left to the arithmetic check or unchecked.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from nn_tutor.tools.homework.auxiliary import kind_of
from nn_tutor.tools.homework.claims import Claim
from nn_tutor.tools.homework.ledger import precision
from nn_tutor.tools.homework.misconceptions import alternatives
from nn_tutor.tools.homework.names import align_name, is_bare
from nn_tutor.tools.homework.problem import Place, base_of, group_of
from nn_tutor.tools.homework.world import View

PINNED = 3.5          # evidence needed to pin a claim to a step
MARGIN = 0.75         # ... and by how much it must beat a place with a different value
NEAR = (-8, 16)       # steps before / after the last pinned one that count as "where the work is"
LEADING = 24          # places that get the costly evidence (what a catalogued mistake gives)
NEARBY = 24           # unwritten elements just ahead weighed for a number that fits nothing
SCREENED = 40         # at most this many elements the value fits, nearest to where the work is first

# context words -> step quantities they speak of
_CONTEXT = [
    (r"\b(loss|error|cost|e_total|objective)\b", ("loss", "sample_losses", "error")),
    (r"\b(new|updated?|becomes?|(?:go|goes|went|move[sd]?|change[sd]?)\s+to|(?:are|is)\s+now|"
     r"after the (update|step))\b", ("updated_weights", "updated_biases")),
    (r"\b(gradient|derivative|slope|grad)s?\b", ("grad_weights", "grad_biases", "grad_activation", "delta",
                                                   "activation_derivative")),
    (r"\b(delta|error signal|δ)s?\b", ("delta",)),
    (r"\b(output|outputs|activation|predictions?|predicts?|predicted|probabilit(y|ies)|squash|sigmoid of|relu of|"
     r"tanh of)\b",
     ("activation", "prediction", "pool")),
    (r"\b(net inputs?|weighted sums?|pre-?activations?|logits?|gets)\b", ("pre_activation",)),
    (r"\b(pool(ed|ing)?|max(imum)?)\b", ("pool",)),
]
_AUX_CONTEXT = {
    "error": r"\b(errors?|residuals?|differences?|deviations?)\b", "squared": r"\b(squar\w*)\b",
    "sum": r"\b(sum|sums|summ\w*|add(ed|ing)? up|total|Σ)\b", "product": r"\b(times|product|multipl\w*)\b",
    "exp": r"\b(exponentia\w*|exp|e\^)\b", "one_minus": r"\b(one minus|1 minus)\b",
    "step": r"\b(step|change|times the learning rate|η)\b",
    "weighted": r"\bbias",
}


@dataclass
class Alignment:
    """Where a claim was pinned and why."""

    place: Place
    score: float
    evidence: list[str] = field(default_factory=list)
    match: str = "none"            # true, carried, restated, partial, mistake, none
    mistake: object = None         # the Misconception whose value matched
    named: bool = False            # the student's name or words speak of this step
    operands: bool = False         # the numbers of its expression are this step's inputs
    all_operands: bool = False     # … every one of them


class Aligner:
    """Pins claims to places of one problem, given the student's world so far."""

    def __init__(self, problem, world, ledger):
        self.problem, self.world, self.ledger = problem, world, ledger
        self.cursor = 0                      # trace position of the last pinned claim
        self.tables: dict[int, str] = {}     # a table's rows go to one step: table -> that step
        self.columns: dict[tuple, Place] = {}   # (table, column) -> where its last cell was pinned
        self.rows: dict[tuple, str] = {}     # (table, row) -> the pass, epoch or sample its cells are in
        self.lines: dict[int, str] = {}      # line -> the epoch, sample or iteration its first pinned number is in
        self._alternatives: dict[tuple, tuple] = {}   # (world, step) -> (steps read, their arrays, what each mistake gives)
        self._matched: tuple = (None, 0, {})          # (claim, world version, place -> _vector_match)

    # --- the worlds, flattened over every candidate element ------------------------------------------
    def flat(self, world: str) -> np.ndarray:
        """A world's value of every candidate element, flat ("truth", "clean", "student", "exact",
        or "written": the student's own values, NaN where they wrote nothing)."""
        return self.problem.truth_flat if world == "truth" else self.world.flat(world)

    # --- the decision --------------------------------------------------------------------------------
    def align(self, claim: Claim, operands: list[set], formula=None) -> tuple[Alignment | None, list[Alignment]]:
        """The place a claim is pinned to (or None) and the places considered, best first.
        `formula` is what the claim's own expression gives with every earlier number at its true
        value (None when there is no expression): it names the step whose true value it is."""
        tol = claim_precision(claim)
        named, gradients = self._named(claim)
        places = self._candidates(claim, tol, formula, named + gradients)
        if claim.value.ndim == 0:
            facts = zip(*self._scalar_facts(claim, places, tol, formula))
        else:
            facts = ((self._value_match(claim, pl, tol), self._formula_fits(pl, tol, formula)) for pl in places)
        scored = [self._score(claim, place, operands, formula, named, match, computes, gradients)
                  for place, (match, computes) in zip(places, facts)]
        scored.sort(key=lambda a: (-a.score, self.problem.order.get(a.place.sid, 0)))
        for a in scored[:LEADING]:                 # the costly evidence, for the leading places only
            self._mistake_evidence(claim, a, tol)
        scored.sort(key=lambda a: (-a.score, self.problem.order.get(a.place.sid, 0)))
        if not scored or scored[0].score < PINNED:
            return None, scored
        best = scored[0]
        for other in scored[1:]:
            if best.score - other.score >= MARGIN:
                break
            if not self._same_value(best.place, other.place):
                return None, scored
        if best.match != "restated" and (best.match != "none" or best.named):
            self.cursor = self.problem.order.get(best.place.sid, self.cursor)
        if "table" in claim.statement.hints:
            self.tables.setdefault(claim.statement.hints["table"], best.place.sid)
        if "cell" in claim.statement.hints:
            table, column, row = claim.statement.hints["cell"]
            self.columns[(table, column)] = best.place
            self.rows.setdefault((table, row), group_of(best.place.sid))
        elif best.match != "restated" and len(self.problem.repeats.get(best.place.sid, ())) > 1:
            self.lines.setdefault(claim.line, group_of(best.place.sid))
        return best, scored

    def _same_value(self, a: Place, b: Place) -> bool:
        ta, tb = self.world.truth[a.sid][a.index], self.world.truth[b.sid][b.index]
        return np.size(ta) == np.size(tb) and np.allclose(np.ravel(ta), np.ravel(tb), rtol=1e-9, atol=1e-12)

    # --- candidates ----------------------------------------------------------------------------------
    def _candidates(self, claim: Claim, tol, formula, named) -> list[Place]:
        p = self.problem
        out: dict[Place, None] = {}
        if claim.value.ndim == 0:
            for k in self._screen(claim, float(np.max(tol)), formula, named):
                sid, idx = p.elements[k]
                out[Place(sid, idx)] = None
        else:
            matches = self._vector_matches(claim, tol)
            for place in p.slices(claim.value.shape):
                if matches[place][0] >= 0.5:
                    out[place] = None
            for place in self._near(claim):
                out[place] = None
        for place in named:
            out[place] = None
        if claim.value.ndim:            # a number written before is found by the screen
            for place in self._restated(claim):
                out[place] = None
        return list(out)

    def _screen(self, claim: Claim, t: float, formula, named: list) -> np.ndarray:
        """Elements worth weighing, found at once over the whole problem: every element the value
        (true, carried or as written before) or the formula fits, and, unless the value fits a step
        the claim names, the few unwritten elements just after where the work has got to (a mistake
        there may explain the number)."""
        p = self.problem
        v = float(claim.value)
        T, C = p.truth_flat, self.flat("clean")
        S, X = self.flat("student"), self.flat("exact")
        hit = _within(v, T, C, t) | _within(v, S, X, t)
        hit |= np.abs(self.flat("written") - v) <= 1e-12
        if formula is not None and np.ndim(formula) == 0:
            hit |= np.abs(T - float(formula)) <= t
        d = p.order_flat - self.cursor
        found = np.flatnonzero(hit)
        found = found[np.argsort(np.abs(d[found] - 1), kind="stable")][:SCREENED]    # nearest first
        index_of = p.index_of
        if any(index_of.get((pl.sid, pl.index), -1) in found for pl in named):
            return found                # the step it names has this value: no mistake to look for
        unwritten = ~np.isfinite(self.flat("written"))
        ahead = np.flatnonzero((d >= NEAR[0]) & (d <= NEAR[1]) & unwritten)
        ahead = ahead[np.argsort(np.abs(d[ahead] - 1), kind="stable")][:NEARBY]
        started = np.flatnonzero(unwritten & np.isin(p.step_flat, self._started_steps()))[:NEARBY]
        return np.union1d(np.union1d(found, ahead), started)   # a step half written goes on (sample 2 of 3)

    def _started_steps(self) -> np.ndarray:
        """Positions (in problem.flat_steps) of the steps the student has written some elements of."""
        p = self.problem
        return np.asarray([k for k, sid in enumerate(p.flat_steps) if sid in self.world.written], dtype=int)

    def _named(self, claim: Claim) -> tuple[list[Place], list[Place]]:
        """The places a claim's name denotes, and the gradients of the parameters it names (`w1 gets
        −0.0105` under 'the weights get δ times the input': w1's gradient, stated by the weight's name)."""
        label = claim.label
        if label is None:
            return [], []
        named, gradients = self._named_as(claim, label.name, label.element)
        if not named and label.index is not None and len(label.index) == 1 and claim.value.ndim:
            return self._named_as(claim, f"{label.name}Λ{label.index[0]}", None)   # dZ[1] = [0.58, −0.64]: layer 1's dZ
        return named, gradients

    def _named_as(self, claim: Claim, name: str, element) -> tuple[list[Place], list[Place]]:
        trace = self.problem.trace
        found = align_name(name, element, trace, claim.statement.hints.get("sample")) or self.ledger.alias(name)
        places, gradients = [], []
        for sid, idx in found:
            step = trace[sid]
            index = tuple(idx) if idx is not None else ()
            if step.op is None:
                for alt in (f"{sid}_new", f"after.{sid}"):    # w5 stated again: its updated value
                    for same in self.problem.family.get(alt, []):
                        places.append(Place(same, index))
                stem, _, what = sid.rpartition(".")
                for same in self.problem.family.get(f"{stem}.d{what}" if stem else f"d{what}", []):
                    gradients.append(Place(same, index))
                continue
            for same in self.problem.repeats.get(sid, [sid]):     # the same step in later passes
                places.append(Place(same, index))
        return self._sized(claim, places), self._sized(claim, gradients)

    def _sized(self, claim: Claim, places: list[Place]) -> list[Place]:
        """The places (each as the element a number is, for a number) that hold as many values as the claim."""
        out = []
        for place in dict.fromkeys(places):
            if self._fits(claim, place):
                element = self._element(claim, place)
                if np.size(self.world.truth[element.sid][element.index]) == np.size(claim.value):
                    out.append(element)
        return out

    def _element(self, claim: Claim, place: Place) -> Place:
        """A whole step of one element, for a number, is that element: L2.a -> L2.a[0]; a step of
        one value per sample, with the table's sample number, is that sample's: ŷ -> L1.a[0, 2]."""
        if claim.value.ndim or place.index:
            return place
        shape = self.world.truth[place.sid].shape
        sample = claim.statement.hints.get("sample")
        m = self.problem.trace.batch_size
        if sample and m > 1 and shape and shape[-1] == m and int(np.prod(shape)) == m and sample <= m:
            return Place(place.sid, (0,) * (len(shape) - 1) + (sample - 1,))
        return Place(place.sid, (0,) * len(shape))

    def _restated(self, claim: Claim) -> list[Place]:
        """Places where the student already wrote this very value."""
        out = []
        for e in self.ledger.entries:
            if e.target is None or np.shape(e.value) != np.shape(claim.value):
                continue
            if np.allclose(e.value, claim.value, rtol=0, atol=1e-12):
                out.append(Place(*e.target))
        return out

    def _fits(self, claim: Claim, place: Place) -> bool:
        try:
            part = self.world.truth[place.sid][place.index]
        except (IndexError, TypeError):
            return False
        return np.size(part) == np.size(claim.value) or \
            (claim.value.ndim == 0 and not place.index and "sample" in claim.statement.hints)

    def _near(self, claim: Claim) -> list[Place]:
        """Elements of the steps around where the work has got to (for mistakes and operands)."""
        p = self.problem
        lo, hi = self.cursor + NEAR[0], self.cursor + NEAR[1]
        near = [s.id for s in p.trace if s.op is not None and s.quantity != "pool_mask" and lo <= p.order[s.id] <= hi]
        if claim.value.ndim == 0:
            out = [Place(sid, tuple(int(i) for i in idx)) for sid in near for idx in np.ndindex(p.truth[sid].shape)]
        else:
            inside = set(near)
            out = [pl for pl in p.slices(claim.value.shape) if pl.sid in inside]
        return out[:400]

    # --- evidence --------------------------------------------------------------------------------------
    def _score(self, claim: Claim, place: Place, operands, formula, named, match: str,
               computes: bool, gradients: tuple = ()) -> Alignment:
        """The cheap evidence for a place: value, formula, name, context, operands, place in the work
        (`match` and `computes`: how the value and the formula fit it, found for all places at once)."""
        a = Alignment(place, 0.0)
        if computes:
            a.score += 2.5
            a.evidence.append("formula: its expression computes this step")
            a.named = True
        if place in gradients and match in ("true", "carried"):
            a.score += 0.5                       # the weight's name on its gradient's value
            a.evidence.append(f"the gradient of {claim.label.name}")
        else:
            self._name_evidence(claim, place, a, named)
        self._context_evidence(claim, place, a)
        if formula is not None and not computes and not named and match in ("carried", "partial"):
            match = "none"      # its own formula computes something else: a coincidence of values
        if match == "true":
            a.score += 3
            a.evidence.append("value: the step's value")
        elif match == "carried":
            a.score += 3
            a.evidence.append("value: follows from the student's earlier numbers")
        elif match == "restated":       # (a zero written again says little: many steps are zero)
            a.score += 3.5
            a.evidence.append("value: what the student wrote for this step before")
        elif match == "partial" and a.named:
            a.score += 1.5
            a.evidence.append("value: most elements are the step's")
        a.match = match
        self._operand_evidence(place, operands, a)
        if place.sid.endswith(".aux.products") and not a.all_operands:
            a.score -= 3                # one product w·a: written as its own two numbers, or not at all
        self._place_evidence(claim, place, a)
        self._cell_evidence(claim, place, a)
        return a

    def _mistake_evidence(self, claim: Claim, a: Alignment, tol) -> None:
        """A catalogued mistake gives the claim's value at this place (costly: leading places only)."""
        if a.match not in ("none", "partial") or a.score + 2 < PINNED or not \
                (a.named or a.operands or claim.role in ("result", "definition") or claim.statement.source == "table"):
            return
        mistake = self._mistake(claim, a.place, tol)
        if mistake is not None:
            a.score += (2 if a.match == "none" else 1.5) + (0.5 if any(e.startswith("name:") for e in a.evidence) else 0)
            a.match, a.mistake = "mistake", mistake
            a.evidence.append(f"value: what '{mistake.title}' gives")

    def _formula_fits(self, place: Place, tol, formula) -> bool:
        """The claim's expression, with right numbers put in, gives this step's true value."""
        if formula is None:
            return False
        T = self.world.truth[place.sid][place.index]
        f = np.asarray(formula, dtype=np.float64)
        if np.size(f) != np.size(T):
            return False
        t = np.ravel(tol) if np.ndim(tol) and np.size(tol) == np.size(f) else np.max(tol)
        return bool(np.all(np.abs(np.ravel(f) - np.ravel(T)) <= t + 1e-9 * (1 + np.abs(np.ravel(T)))))

    def _scalar_facts(self, claim: Claim, places: list[Place], tol, formula) -> tuple[list, list]:
        """How a number's value fits each place (restated, true, carried or none) and whether its
        formula computes each, over the flat worlds at once (givens, outside them, one by one)."""
        ks = [self.problem.index_of.get((pl.sid, pl.index)) for pl in places]
        inside = [j for j, k in enumerate(ks) if k is not None]
        match = [None] * len(places)
        computes = [False] * len(places)
        if inside:
            idx = np.asarray([ks[j] for j in inside])
            v, t = float(claim.value), float(tol)
            T, C = self.flat("truth")[idx], self.flat("clean")[idx]
            S, X = self.flat("student")[idx], self.flat("exact")[idx]
            W = self.flat("written")[idx]
            kind = np.where(np.abs(W - v) <= 1e-12, "restated",
                            np.where(_within(v, T, C, t), "true",
                                     np.where(_within(v, S, X, t) & tainted(T, C, S, X), "carried", "none")))
            fits = np.zeros(len(inside), dtype=bool) if formula is None or np.ndim(formula) else \
                np.abs(float(formula) - T) <= t + 1e-9 * (1 + np.abs(T))
            for n, j in enumerate(inside):
                match[j], computes[j] = str(kind[n]), bool(fits[n])
        for j, k in enumerate(ks):
            if k is None:
                match[j] = self._value_match(claim, places[j], tol)
                computes[j] = self._formula_fits(places[j], tol, formula)
        return match, computes

    def _value_match(self, claim: Claim, place: Place, tol) -> str:
        own = self.world.own(place.sid)
        if own is not None:
            written = own[place.index]
            if np.all(np.isfinite(written)) and np.shape(written) == np.shape(claim.value) and \
                    np.allclose(written, claim.value, rtol=0, atol=1e-12):
                return "restated"
        if claim.value.ndim:
            frac, kind = self._vector_match(claim, place, tol)
            return kind if frac == 1.0 else ("partial" if frac >= 0.5 else "none")
        v, t = float(claim.value), float(tol)
        k = self.problem.index_of.get((place.sid, place.index))
        if k is None:                   # a given (parameter or input): the same in every world
            T = C = S = X = self.problem.truth[place.sid][place.index]
        else:
            T, C = self.flat("truth")[k], self.flat("clean")[k]
            S, X = self.flat("student")[k], self.flat("exact")[k]
        if _within(v, T, C, t):
            return "true"
        if _within(v, S, X, t) and tainted(T, C, S, X):
            return "carried"
        return "none"

    def _vector_matches(self, claim: Claim, tol) -> dict:
        """_vector_match for every place an array of the claim's shape may be, over the flat
        worlds at once (kept for the claim until the next write)."""
        p = self.problem
        places = p.slices(claim.value.shape)
        pos = p.slice_positions(claim.value.shape)
        T, C = self.flat("truth")[pos], self.flat("clean")[pos]
        S, X = self.flat("student")[pos], self.flat("exact")[pos]
        v = np.ravel(claim.value)
        t = np.ravel(np.broadcast_to(tol, claim.value.shape))
        true = _within(v, T, C, t)
        carried = _within(v, S, X, t) & tainted(T, C, S, X)
        frac = np.mean(true | carried, axis=1)
        kind = np.where(carried.any(axis=1) & ~true.all(axis=1), "carried", "true")
        found = {pl: (float(frac[k]), str(kind[k])) for k, pl in enumerate(places)}
        self._matched = (claim, self.world.version, found)
        return found

    def _vector_match(self, claim: Claim, place: Place, tol) -> tuple[float, str]:
        held, version, found = self._matched
        if held is claim and version == self.world.version and place in found:
            return found[place]
        w = self.world
        try:
            T = np.ravel(w.truth[place.sid][place.index])
            C = np.ravel(w.computed("clean", place.sid)[place.index])
            S = np.ravel(w.computed("student", place.sid)[place.index])
            X = np.ravel(w.computed("exact", place.sid)[place.index])
        except (IndexError, TypeError):
            return 0.0, "none"
        v = np.ravel(claim.value)
        if v.shape != T.shape:
            return 0.0, "none"
        t = np.ravel(np.broadcast_to(tol, claim.value.shape))
        true = _within(v, T, C, t)
        carried = _within(v, S, X, t) & tainted(T, C, S, X)
        both = true | carried
        frac = float(np.mean(both))
        return frac, ("carried" if carried.any() and not true.all() else "true")

    def _name_evidence(self, claim: Claim, place: Place, a: Alignment, named: list) -> None:
        label = claim.label
        if label is None or not named:
            return
        if place in named:
            specific = len({(pl.sid, str(pl.index)) for pl in named}) <= 2 and not is_bare(label.name)
            a.score += 2.5 if specific else (2 if place == named[0] else 1.5)
            a.evidence.append(f"name: {label.name}")
            a.named = True
        elif any(pl.sid == place.sid for pl in named):
            if label.element is None:
                a.score += 0.5
            else:                       # δ3[1] is not δ3[0], however alike their values
                a.score -= 2.5
                a.evidence.append(f"name {label.name}{list(label.index)} means another element")
        else:
            a.score -= 2.5
            a.evidence.append(f"name {label.name} means another step")

    def _context_evidence(self, claim: Claim, place: Place, a: Alignment) -> None:
        context = claim.statement.context
        kind = kind_of(place.sid) if place.sid in self.problem.auxiliary else ""
        if kind == "weighted" and claim.statement.source != "table" and \
                not re.search(r"\bbias", context[-60:] + " " + claim.statement.after):
            a.score -= 6                # a sum the work never adds the bias to is its z, bias forgotten
            return                      # (a table adds it in a column of its own)
        if not context:
            return
        if kind:
            pattern = _AUX_CONTEXT.get(kind)
            if pattern and re.search(pattern, context[-60:]):
                a.score += 1
                a.evidence.append("context words")
                a.named = True
            return
        quantity = self.problem.trace[place.sid].quantity
        for pattern, quantities in _CONTEXT:
            if quantity in quantities and re.search(pattern, context[-60:]):
                a.score += 1
                a.evidence.append("context words")
                a.named = True
                return

    def _operand_evidence(self, place: Place, operands: list[set], a: Alignment) -> None:
        if not operands:
            return
        if place.index and any(isinstance(i, slice) for i in place.index):
            return
        sources = self.problem.sources(place.sid, place.index)
        matched = sum(1 for origins in operands if origins & sources)
        if matched == 0:
            return
        share = matched / len(operands)
        a.score += 2 * share if len(operands) >= 2 else 1.0
        a.evidence.append(f"operands: {matched} of {len(operands)} are its inputs")
        a.operands = True
        a.all_operands = share == 1

    def _place_evidence(self, claim: Claim, place: Place, a: Alignment) -> None:
        w = self.world
        own = w.own(place.sid)
        written = own[place.index] if own is not None else None
        if written is not None and np.ndim(written) == 0:      # one element: the same test on floats
            x = float(written)
            found = math.isfinite(x)
            same = found and np.size(claim.value) == 1 and \
                abs(x - float(np.ravel(claim.value)[0])) <= float(np.max(claim_precision(claim)))
        elif written is not None:
            mask = np.isfinite(written)
            found = bool(mask.any())
            same = found and np.size(written) == np.size(claim.value) and np.allclose(
                np.ravel(written)[np.ravel(mask)], np.ravel(claim.value)[np.ravel(mask)], rtol=0,
                atol=float(np.max(claim_precision(claim))))
        else:
            found = False
        if found:
            if a.match != "restated" and not same:
                a.score -= 2
                a.evidence.append("already written with another value")
                return
        else:
            a.score += 0.5
        a.score += _sequence(self.problem.order.get(place.sid, 0) - self.cursor)
        if place.sid in self.problem.auxiliary:
            a.score -= 0.25             # a step of the network itself first, when both fit
        self._hint_evidence(claim, place, a)
        self._section_evidence(claim, place, a)

    def _cell_evidence(self, claim: Claim, place: Place, a: Alignment) -> None:
        """A table goes on row by row: a cell's step is the one its column had a row up, one sample,
        epoch or iteration on, and in the same pass as the other cells of its row."""
        cell = claim.statement.hints.get("cell")
        if cell is None:
            return
        table, column, row = cell
        above = self.columns.get((table, column))
        if above is not None and base_of(above.sid) == base_of(place.sid) and above.sid in self.problem.successor:
            if self.problem.successor[above.sid] == place.sid and place.index == above.index:
                a.score += 2
                a.evidence.append("the next row of its column")
            elif place.sid != above.sid or place.index == above.index:
                a.score -= 1.5          # the same quantity, but not the next one on
        group = self.rows.get((table, row))
        if group is not None and self.problem.repeats.get(place.sid, [place.sid]) != [place.sid]:
            a.score += 1 if group_of(place.sid) == group else -1

    def _section_evidence(self, claim: Claim, place: Place, a: Alignment) -> None:
        """The epoch, sample or iteration the work says it is in, against the step's own
        (epoch2.sample3.z; it2.L1.z is iteration 2, a step without `it` iteration 1)."""
        hints = claim.statement.hints
        if "cell" in hints:
            return                      # a table's rows speak for themselves (_cell_evidence)
        group = group_of(place.sid)
        same_line = self.lines.get(claim.line)
        said = "sample" in hints          # (the words say which sample it is)
        if same_line is not None and not said and len(self.problem.repeats.get(place.sid, ())) > 1:
            same = _pass_of(group) == _pass_of(same_line)
            a.score += 0.75 if same else -0.75     # one line of work is one sample, one epoch, one pass
        parts = dict(_SECTION.findall(group))
        for kind, word in (("epoch", "epoch"), ("sample", "sample"), ("iteration", "it")):
            said = hints.get(kind)
            if said is None or (kind == "iteration" and (self.problem.iterations < 2 or "after" in group)):
                continue            # (a pass after an update ends one iteration and starts the next)
            own = parts.get(word, "1" if kind == "iteration" else None)
            if own is None:
                continue
            updated = self.problem.trace[place.sid].quantity in ("updated_weights", "updated_biases")
            if kind == "iteration" and updated and int(own) == said - 1:
                continue                # iteration 2 starts from the weights iteration 1 ended with
            if int(own) != said:
                a.score -= 1.5
                a.evidence.append(f"not in {kind} {said}")

    def _hint_evidence(self, claim: Claim, place: Place, a: Alignment) -> None:
        """A table's sample, row and column numbers (1-based) against the element's index."""
        hints = claim.statement.hints
        index = place.index
        if not hints or not index:
            return
        sample = hints.get("sample")
        if sample and self.problem.trace.batch_size > 1 and isinstance(index[-1], int):
            a.score += 1 if index[-1] == sample - 1 else -1
        row, col = hints.get("row"), hints.get("col")
        if "table" in hints and row and len(index) >= 2 and isinstance(index[-1], slice):
            agree = index[-2] == row - 1
            a.score += 1 if agree else -1
            table = self.tables.get(hints["table"])
            if table is not None:
                a.score += 1 if table == place.sid else -1
            return
        if not all(isinstance(i, int) for i in index):
            return
        if row and col and len(index) >= 2:
            agree = index[-2:] == (row - 1, col - 1)
            a.score += 1.5 if agree else -1.5
            if agree:
                a.evidence.append(f"row {row}, column {col}")

    def _alternatives_at(self, world: str, sid: str) -> list:
        """What each catalogued mistake gives at a whole step in a world, kept while the values
        the catalogue read there stay as they were. The true world's are the problem's (kept for
        every submission), and so are the student's while they wrote nothing those values depend on."""
        stamps = self.world.stamps
        depends, found = self.problem.true_alternatives(sid, self.world)
        if world == "truth" or not any(s in depends for s in stamps):
            return found
        cached = self._alternatives.get((world, sid))
        if cached is not None:
            read, arrays, found = cached
            if all(a is b for a, b in zip(self.world.arrays(world, read), arrays)):
                return found
        view = View(self.world, world)
        found = list(alternatives(view, sid, ()))
        read = tuple(view.read)
        self._alternatives[(world, sid)] = (read, self.world.arrays(world, read), found)
        return found

    def _mistake(self, claim: Claim, place: Place, tol):
        """The first catalogued mistake whose value here is the claim's (in the true or the student's
        world): every element equal to what the mistake gives, and some element not the truth."""
        truth = np.ravel(self.world.truth[place.sid][place.index])
        v = np.ravel(claim.value)
        t = np.ravel(np.broadcast_to(tol, np.shape(claim.value)))
        if v.shape != truth.shape:
            return None
        index = place.index
        if len(index) == self.world.truth[place.sid].ndim and all(isinstance(i, int) for i in index):
            # one element: the same test on plain floats
            vf, tf, true = float(v[0]), float(t[0]), float(truth[0])
            for name in ("truth", "student"):
                for m, whole in self._alternatives_at(name, place.sid):
                    alt = float(whole[index])
                    if abs(alt - vf) <= tf and abs(alt - true) > tf:
                        return m
            return None
        for name in ("truth", "student"):
            for m, whole in self._alternatives_at(name, place.sid):
                alt = np.ravel(whole[place.index])
                if alt.shape == v.shape and np.all(np.abs(alt - v) <= t) and np.any(np.abs(alt - truth) > t):
                    return m
        return None


_SECTION = re.compile(r"(epoch|sample|it)(\d+)")


def _pass_of(group: str) -> str:
    """A group with the pass after an update read as the next iteration's (after. ≡ it2., it2.after. ≡ it3.)."""
    parts = dict(_SECTION.findall(group))
    if "after" in group.split("."):
        parts["it"] = str(int(parts.get("it", "1")) + 1)
    parts.setdefault("it", "1")
    return ".".join(f"{k}{v}" for k, v in sorted(parts.items()))


def _sequence(d: float) -> float:
    """Work runs in the trace's order: a step just after the last one pinned is likeliest."""
    if -0.5 < d <= 3:                   # (a quantity on the way to the step just written counts as here)
        return 1.5
    if 3 < d <= 8:
        return 0.75
    if 8 < d <= NEAR[1] or NEAR[0] <= d < 0:
        return 0.25
    return -0.5


def claim_precision(claim: Claim) -> np.ndarray:
    """Per element: half a unit of the last decimal written (decimals counted as at least 2), or
    the user's --rtol/--atol when given."""
    if claim.override is not None:
        rtol, atol = claim.override
        return (atol or 0.0) + (rtol or 0.0) * np.abs(claim.value) + 1e-12
    if claim.value.ndim and claim.parts and len(claim.parts) == claim.value.size:
        return np.asarray([precision(n.decimals, n.value) for n in claim.parts],
                          dtype=np.float64).reshape(claim.value.shape)
    return precision(claim.decimals, claim.value)


def _within(v, a, b, tol):
    """v lies within tol of the interval spanned by a and b (elementwise)."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    return (v >= lo - tol) & (v <= hi + tol) & np.isfinite(lo) & np.isfinite(hi)


def tainted(T, C, S, X):
    """An element the student's wrong values reach: their world moves it away from the clean one."""
    scale = 1e-9 * (1 + np.abs(T))
    return (np.abs(S - C) > scale) | (np.abs(X - T) > scale)
