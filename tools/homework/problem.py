"""A problem as the checker searches it: every step element, their values and what each is computed from.

Built once per spec (a class of 1,000 submissions shares it): the trace, the elements a student may
state (every computed step, element by element, and the rows and blocks of arrays for written
vectors and matrices), the given values, and for each element the elements it is computed from
(found by recomputing the step with one input element made NaN, so no formula is read).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from nn_tutor.engine.errors import NNTError
from nn_tutor.tools.homework.misconceptions import alternatives
from nn_tutor.tools.homework.world import View

MAX_PROBED = 64        # an input with more elements than this counts as wholly used (not probed)


@dataclass(frozen=True, eq=False)
class Place:
    """An element or a slice of a step: `index` is a tuple of ints and slices (() = the whole step)."""

    sid: str
    index: tuple
    key: tuple = field(init=False, repr=False)     # (sid, the index as text): slices compare by text

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", (self.sid, str(self.index)))

    def __eq__(self, other) -> bool:
        return isinstance(other, Place) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __str__(self) -> str:
        if not self.index:
            return self.sid
        parts = [f"{i}" if isinstance(i, int) else ":" for i in self.index]
        return f"{self.sid}[{', '.join(parts)}]"


_PASS = re.compile(r"after|(?:it|epoch|sample)\d+")


@lru_cache(maxsize=4096)
def _split(sid: str) -> tuple[str, str]:
    """(pass prefix, step) of an id: it2.after.L1.z -> ("it2.after", "L1.z"), epoch1.sample3.z -> ("epoch1.sample3", "z")."""
    parts = sid.split(".")
    k = 0
    while k < len(parts) - 1 and _PASS.fullmatch(parts[k]):
        k += 1
    return ".".join(parts[:k]), ".".join(parts[k:])


def base_of(sid: str) -> str:
    """A step's id without its pass, iteration, epoch or sample prefix: it2.after.L1.z -> L1.z."""
    return _split(sid)[1]


def group_of(sid: str) -> str:
    """The pass, iteration, epoch and sample a step belongs to ("" for the first forward pass)."""
    return _split(sid)[0]


@dataclass
class Problem:
    """The trace of a spec with the indexes the aligner needs."""

    trace: object
    order: dict = field(default_factory=dict)          # step id -> position in the trace
    elements: list = field(default_factory=list)       # (step id, index tuple) of every scalar candidate
    flat_steps: list = field(default_factory=list)     # the steps those elements come from, in order
    layout: dict = field(default_factory=dict)         # step id -> its slice of the flat arrays
    index_of: dict = field(default_factory=dict)       # (step id, index) -> position in the flat arrays
    truth: dict = field(default_factory=dict)          # step id -> its true value (display shape)
    order_flat: np.ndarray = None                      # each element's step position in the trace
    step_flat: np.ndarray = None                       # each element's step, as a position in flat_steps
    truth_flat: np.ndarray = None
    given_values: np.ndarray = None                    # every given number (for "restated given")
    given_abs: np.ndarray = None                       # ... their magnitudes
    given_elements: list = field(default_factory=list)  # (step id, index tuple) of each given number
    repeats: dict = field(default_factory=dict)        # step id -> the same step in every pass and iteration
    successor: dict = field(default_factory=dict)      # step id -> the same step in the next iteration, epoch, sample
    family: dict = field(default_factory=dict)         # a step's id without prefixes -> every instance of it
    auxiliary: set = field(default_factory=set)        # steps added on the way (auxiliary.py)
    graph: "Graph" = None                              # what each step is computed from, and reaches
    on_the_way: dict = field(default_factory=dict)     # step id -> auxiliary steps computed on the way to it
    iterations: int = 1                                # training iterations the trace goes through
    _sources: dict = field(default_factory=dict)
    _alternatives: dict = field(default_factory=dict)
    _traced: dict = field(default_factory=dict)
    _slices: dict = field(default_factory=dict)
    _positions: dict = field(default_factory=dict)

    @classmethod
    def of(cls, trace) -> "Problem":
        from nn_tutor.tools.homework.auxiliary import with_auxiliary

        trace, anchors, routes = with_auxiliary(trace)
        p = cls(trace)
        p.auxiliary = set(anchors)
        p.graph = dependencies(trace, routes)
        for sid, anchor in anchors.items():        # (not those computed from the step: 1 − a, the error after ŷ)
            if anchor not in p.graph.ancestors[sid]:
                p.on_the_way.setdefault(anchor, []).append(sid)
        p.order = {s.id: k for k, s in enumerate(trace) if s.id not in anchors}
        for sid, anchor in anchors.items():       # a quantity on the way to a step comes just before it,
            before = sid in p.on_the_way.get(anchor, ())       # one computed from it just after
            p.order[sid] = p.order[anchor] + (-0.1 if before else 0.5)
        flat = []
        p.truth = {s.id: np.array(trace.display(s.id), dtype=np.float64) for s in trace}
        for s in trace:
            if s.op is None or s.quantity == "pool_mask":
                continue
            value = p.truth[s.id]
            start = len(p.elements)
            p.flat_steps.append(s.id)
            for idx in np.ndindex(value.shape):
                p.index_of[(s.id, tuple(int(i) for i in idx))] = len(p.elements)
                p.elements.append((s.id, tuple(int(i) for i in idx)))
            p.layout[s.id] = slice(start, len(p.elements))
            flat.append(value.ravel())
        p.truth_flat = np.concatenate(flat) if flat else np.empty(0)
        p.order_flat = np.asarray([p.order[sid] for sid, _ in p.elements], dtype=np.float64)
        position = {sid: k for k, sid in enumerate(p.flat_steps)}
        p.step_flat = np.asarray([position[sid] for sid, _ in p.elements], dtype=int)
        families: dict[str, list] = {}
        for s in trace:
            families.setdefault(base_of(s.id), []).append(s.id)
        p.repeats = {sid: fam for fam in families.values() for sid in fam}
        p.family = families
        for fam in families.values():    # the next iteration, epoch or sample (an after-pass is no "next")
            on = [sid for sid in fam if "after" not in group_of(sid).split(".")]
            p.successor.update(zip(on, on[1:]))
        p.iterations = max((int(m.group(1)) for s in trace for m in [re.match(r"it(\d+)\.", s.id)] if m), default=1)
        givens = [np.ravel(np.asarray(trace.display(s.id), dtype=np.float64)) for s in trace if s.op is None]
        p.given_values = np.concatenate(givens) if givens else np.empty(0)
        p.given_abs = np.abs(p.given_values)
        p.given_elements = [(s.id, tuple(int(i) for i in idx)) for s in trace if s.op is None
                            for idx in np.ndindex(p.truth[s.id].shape)]
        return p

    def is_given(self, value, tol) -> bool:
        """Every element is (up to sign) a number the problem gives."""
        g = self.given_abs
        if np.ndim(value) == 0 and np.ndim(tol) == 0:
            return bool(np.any(np.abs(g - abs(float(value))) <= tol))
        v = np.ravel(np.abs(np.asarray(value, dtype=np.float64)))
        return bool(v.size) and all(np.any(np.abs(g - x) <= t)
                                    for x, t in zip(v, np.broadcast_to(np.ravel(tol), v.shape)))

    def given_places(self, value: float, tol) -> set:
        """The given elements equal (up to sign) to a number: (step id, index) pairs."""
        hits = np.flatnonzero(np.abs(self.given_abs - abs(value)) <= tol)
        return {self.given_elements[k] for k in hits}

    def slices(self, shape: tuple) -> list[Place]:
        """Every place a written array of this shape may be: whole steps, rows, blocks (found once per shape)."""
        shape = tuple(shape)
        if shape not in self._slices:
            self._slices[shape] = self._find_slices(shape)
        return self._slices[shape]

    def slice_positions(self, shape: tuple) -> np.ndarray:
        """For each place of `slices(shape)`, the positions of its elements in the flat arrays, in
        order (one row per place)."""
        shape = tuple(shape)
        if shape not in self._positions:
            rows = [np.arange(self.layout[pl.sid].start, self.layout[pl.sid].stop)
                    .reshape(self.truth[pl.sid].shape)[pl.index].ravel() for pl in self.slices(shape)]
            self._positions[shape] = np.array(rows, dtype=int).reshape(len(rows), int(np.prod(shape)))
        return self._positions[shape]

    def _find_slices(self, shape: tuple) -> list[Place]:
        want = tuple(n for n in shape if n != 1)
        out = []
        for s in self.trace:
            if s.op is None or s.quantity == "pool_mask":
                continue
            full = np.shape(self.truth[s.id])
            if int(np.prod(full)) == int(np.prod(shape)) and (tuple(n for n in full if n != 1) == want or
                                                          (len(shape) == 1 and len(want) == 1 and len(full) >= 2)):
                out.append(Place(s.id, ()))       # (a map written out flat, row by row: `.8 .5 0 .3`)
                continue
            k = len(full) - len(shape)
            if k > 0 and tuple(full[k:]) == tuple(shape):
                for prefix in np.ndindex(full[:k]):
                    out.append(Place(s.id, tuple(int(i) for i in prefix) + (slice(None),) * len(shape)))
            elif len(shape) == 1 and len(full) >= 2 and full[-1] == shape[0]:
                for prefix in np.ndindex(full[:-1]):
                    out.append(Place(s.id, tuple(int(i) for i in prefix) + (slice(None),)))
        return out

    def true_alternatives(self, sid: str, world) -> tuple[frozenset, list]:
        """What each catalogued mistake gives at a step from the true numbers, and the steps those
        values depend on (computed once per problem; `world` is any World of this problem)."""
        if sid not in self._alternatives:
            view = View(world, "truth")
            found = list(alternatives(view, sid, ()))
            depends = frozenset().union(*(self.graph.ancestors.get(r, ()) for r in view.read | {sid}))
            self._alternatives[sid] = (depends, found)
        return self._alternatives[sid]

    # --- what an element is computed from ------------------------------------------------------------
    def sources(self, sid: str, index: tuple, depth: int = 2) -> set:
        """(step id, element index) pairs the element is computed from, up to `depth` steps back
        (found once per element; the set is shared, not to be changed)."""
        key = (sid, index, depth)
        found = self._traced.get(key)
        if found is None:
            found = self._traced[key] = frozenset(self._sources_of(sid, index, depth))
        return found

    def _sources_of(self, sid: str, index: tuple, depth: int) -> set:
        out = set()
        frontier = [(sid, index)]
        for _ in range(depth):
            nxt = []
            for s, idx in frontier:
                for src in self._direct(s).get(idx, ()):
                    if src not in out:
                        out.add(src)
                        nxt.append(src)
            frontier = nxt
        return out

    def _direct(self, sid: str) -> dict:
        """Output element -> the input elements it depends on (computed once per step)."""
        if sid in self._sources:
            return self._sources[sid]
        trace = self.trace
        step = trace[sid]
        found: dict = {}
        if step.op is None:
            self._sources[sid] = found
            return found
        out_shape = np.shape(trace.display(sid))
        args = [trace[i].value for i in step.inputs]
        for j, src in enumerate(step.inputs):
            disp = np.array(trace.display(src), dtype=np.float64)
            whole = disp.size > MAX_PROBED
            for e in np.ndindex(disp.shape):
                e = tuple(int(i) for i in e)
                if whole:
                    for o in np.ndindex(out_shape):
                        found.setdefault(tuple(int(i) for i in o), set()).add((src, e))
                    continue
                probe = disp.copy()
                probe[e] = np.nan
                try:
                    with np.errstate(all="ignore"):
                        new = list(args)
                        new[j] = trace._to_internal(trace[src], probe)
                        res = np.asarray(trace._to_display(step, np.asarray(step.op.fn(*new), dtype=np.float64)))
                except (ValueError, IndexError, TypeError, NNTError, FloatingPointError):
                    continue
                if res.shape != out_shape:
                    continue
                nan = np.isnan(res)
                for o in (np.argwhere(nan) if nan.ndim else ([()] if nan else [])):
                    found.setdefault(tuple(int(i) for i in o), set()).add((src, e))
        for aux in self.on_the_way.get(sid, ()):     # 0.71 + (−0.3): the sum before the bias is an operand of z
            shape = np.shape(trace.display(aux))
            for o in list(found) or [()]:
                for e in np.ndindex(shape):
                    e = tuple(int(i) for i in e)
                    if shape == out_shape and e != o:
                        continue
                    if len(shape) == len(out_shape) + 1 and (e[:1] + e[2:]) != o:
                        continue                     # a product w·a of element o: (i, j, s) for z[i, s]
                    found.setdefault(o, set()).add((aux, e))
        self._sources[sid] = found
        return found


@dataclass(frozen=True)
class Graph:
    """What each step is computed from: its inputs, or its route through quantities written on the way."""

    order: tuple[str, ...]     # every step, each after what it is computed from
    ancestors: dict            # step id -> the steps it is computed from, itself too
    reach: dict                # step id -> bits over `order` of the steps a write there changes
    routes: dict               # step id -> the Route it is computed by (auxiliary.py)


def dependencies(trace, routes: dict | None = None) -> Graph:
    """The steps in an order that computes every input first, each step's ancestors, and what a
    written value can change."""
    routes = routes or {}

    def inputs(step) -> tuple:
        return routes[step.id].inputs if step.id in routes else step.inputs

    order: list[str] = []
    placed: set[str] = set()

    def place(sid: str) -> None:
        if sid in placed or sid not in trace:
            return
        placed.add(sid)
        for i in inputs(trace[sid]):
            place(i)
        order.append(sid)

    for s in trace:
        place(s.id)
    ancestors: dict[str, frozenset] = {}
    for sid in order:
        ancestors[sid] = frozenset({sid}).union(*(ancestors[i] for i in inputs(trace[sid]) if i in ancestors))
    reach = {sid: 0 for sid in order}
    for k in range(len(order) - 1, -1, -1):
        sid = order[k]
        reach[sid] |= 1 << k
        for i in inputs(trace[sid]):
            if i in reach:
                reach[i] |= reach[sid]
    return Graph(tuple(order), ancestors, reach, routes)
