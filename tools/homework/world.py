"""The problem's true values and the student's own, step by step: what each written number should be.

A World holds the trace (the truth) and every value the student wrote at a step it was aligned to,
with whether that value was judged right. From them it recomputes the trace three ways, each step
from its inputs, then with the student's written values put in:
  - student: every written value put in (where the student's own numbers lead),
  - clean:   only the values judged right (what a careful student with the same rounding gets),
  - exact:   only the values judged wrong (the error alone, carried on exact numbers).
`computed(world, step)` is a step's value from its inputs in that world, before the student's
own value of that step is put in: the value a claim at that step is judged against.
"""
from __future__ import annotations

import numpy as np

from nn_tutor.engine.errors import NNTError

WORLDS = ("student", "clean", "exact")
RIGHT, WRONG, CARRIED = 1, -1, 0     # how a written value was judged: which worlds it goes into


class World:
    """The truth of a trace and the student's written values, recomputed lazily after each write."""

    def __init__(self, trace, truth: dict | None = None, layout: dict | None = None, graph=None):
        self.trace = trace
        if graph is None:
            from nn_tutor.tools.homework.problem import dependencies
            graph = dependencies(trace)
        self.reach = graph.reach     # step id -> bits over graph.order of the steps a write there changes
        self.ids = graph.order
        self.routes = graph.routes
        self.truth = truth if truth is not None else \
            {s.id: np.array(trace.display(s.id), dtype=np.float64) for s in trace}
        self.written: dict[str, np.ndarray] = {}     # step -> display array, NaN where not written
        self.judged: dict[str, np.ndarray] = {}      # step -> RIGHT, WRONG or CARRIED per written element
        # every world starts as the truth: internal values, display values before writes
        self._values: dict[str, dict] = {w: {s.id: s.value for s in trace} for w in WORLDS}
        self._computed: dict[str, dict] = {w: {} for w in WORLDS}
        self._dirty: dict[str, set] = {w: set() for w in WORLDS}     # steps written since the last refresh
        self.version = 0                                 # bumped by every write
        self.stamps: dict[str, int] = {}                 # step id -> the version of its last write
        # every candidate element in one flat array per world (layout: step id -> its slice)
        self.layout = layout or {}
        size = max((sl.stop for sl in self.layout.values()), default=0)
        truth_flat = np.zeros(size)
        for sid, sl in self.layout.items():
            truth_flat[sl] = np.ravel(self.truth[sid])
        self._flats = {w: truth_flat.copy() for w in WORLDS}
        self._written_flat = np.full(size, np.nan)
        # how each computed step is recomputed: (step, function, inputs, its slice of the flats,
        # the batch axis its display drops or None)
        self._plans = {}
        for sid in self.ids:
            step = trace[sid]
            if step.op is not None:
                route = self.routes.get(sid)
                fn, inputs = (route.fn, route.inputs) if route else (step.op.fn, step.inputs)
                axis = step.batch_axis if step.batch_axis is not None and trace.batch_size == 1 else None
                self._plans[sid] = (step, fn, inputs, self.layout.get(sid), axis)
        self._kept: dict[str, dict] = {w: {} for w in WORLDS}   # step -> written elements each world keeps
        # while every written value was judged right, the clean world is the student's: computed once
        self._twins = True
        self._fresh: dict[str, set] = {w: set() for w in WORLDS}   # steps recomputed in the world so far

    def flat(self, world: str) -> np.ndarray:
        """Every candidate element of `world` (or of the student's written values, "written"), flat."""
        if world == "written":
            return self._written_flat
        if self._dirty[world]:
            self._refresh(world)
        return self._flats[world]

    # --- writing ---------------------------------------------------------------------------------
    def write(self, sid: str, index: tuple, value, judged: int) -> None:
        """Record the student's value of step `sid` at `index` (a tuple of ints and slices)."""
        if self.trace[sid].op is None:
            return                                  # givens are the problem's, never the student's
        if sid not in self.written:
            self.written[sid] = np.full(self.truth[sid].shape, np.nan)
            self.judged[sid] = np.full(self.truth[sid].shape, CARRIED, dtype=np.int8)
        target = self.written[sid][index]
        before = np.isfinite(target).any()
        self.written[sid][index] = np.asarray(value, dtype=np.float64).reshape(np.shape(target))
        self.judged[sid][index] = judged
        self._twins = self._twins and judged == RIGHT
        finite = np.isfinite(self.written[sid])
        for w in WORLDS:
            mask = finite & self._keeps(w, sid)
            if mask.any():
                self._kept[w][sid] = mask
            else:
                self._kept[w].pop(sid, None)
        if sid in self.layout:
            self._written_flat[self.layout[sid]] = np.ravel(self.written[sid])
        self.version += 1
        self.stamps[sid] = self.version
        # a right value changes the student's and the clean world, a wrong one the student's and the
        # exact one, a carried one the student's alone (a value written again may change sides: all three)
        reached = {RIGHT: ("student", "clean"), WRONG: ("student", "exact"), CARRIED: ("student",)}[judged]
        for w in (WORLDS if before else reached):
            self._dirty[w].add(sid)

    def own(self, sid: str) -> np.ndarray | None:
        """What the student wrote for a step (NaN where nothing), or None."""
        return self.written.get(sid)

    # --- reading the worlds ------------------------------------------------------------------------
    def computed(self, world: str, sid: str) -> np.ndarray:
        """Step `sid` recomputed from its inputs in `world` (display shape)."""
        self._refresh(world)
        return self._computed[world].get(sid, self.truth[sid])

    def value(self, world: str, sid: str) -> np.ndarray:
        """Step `sid` in `world` with the student's written values put in (display shape)."""
        self._refresh(world)
        step = self.trace[sid]
        return np.asarray(self.trace._to_display(step, self._values[world][sid]), dtype=np.float64)

    def arrays(self, world: str, sids) -> tuple:
        """The arrays holding these steps' values in `world` now. A step whose value no write
        changed keeps its array, so the same arrays mean the same values."""
        self._refresh(world)
        values = self._values[world]
        return tuple(values.get(s) for s in sids)

    def _refresh(self, world: str) -> None:
        """Recompute the steps a write reaches, in trace order: those written, and those whose
        inputs came out changed (a step recomputed before from the same inputs is as it was)."""
        written_now = self._dirty[world]
        if not written_now:
            return
        if world == "clean" and self._twins:     # the same writes, kept alike: the student's values
            self._refresh("student")
            self._values["clean"] = dict(self._values["student"])
            self._computed["clean"] = dict(self._computed["student"])
            self._flats["clean"][:] = self._flats["student"]
            self._fresh["clean"] = set(self._fresh["student"])
            self._dirty["clean"] = set()
            return
        values, computed, kept = self._values[world], self._computed[world], self._kept[world]
        bits = 0
        for sid in written_now:
            bits |= self.reach[sid]
        flat, ids, plans, truth, trace = self._flats[world], self.ids, self._plans, self.truth, self.trace
        fresh, changed = self._fresh[world], set()
        with np.errstate(all="ignore"):
            while bits:                             # the reached positions, lowest (earliest) first
                low = bits & -bits
                bits ^= low
                sid = ids[low.bit_length() - 1]
                plan = plans.get(sid)
                if plan is None:
                    continue
                step, fn, inputs, where, axis = plan
                if sid in fresh and sid not in written_now and not any(i in changed for i in inputs):
                    continue
                try:
                    internal = np.asarray(fn(*[values[i] for i in inputs]), dtype=np.float64)
                except (ValueError, IndexError, TypeError, NNTError, FloatingPointError):
                    internal = np.asarray(step.value, dtype=np.float64)
                if axis is not None and internal.ndim > axis:      # (trace._to_display, as a copy)
                    display = np.array(internal[(slice(None),) * axis + (0,)], dtype=np.float64)
                else:
                    display = internal.copy()
                if display.shape != truth[sid].shape:
                    display = truth[sid].copy()
                computed[sid] = display
                if where is not None:
                    flat[where] = display.ravel()
                mask = kept.get(sid)
                if mask is not None:
                    display = display.copy()
                    display[mask] = self.written[sid][mask]
                    internal = np.asarray(trace._to_internal(step, display), dtype=np.float64)
                if not _same(values.get(sid), internal):   # (the same bits keep their array: see `arrays`)
                    changed.add(sid)
                    values[sid] = internal
                fresh.add(sid)
        self._dirty[world] = set()

    def _keeps(self, world: str, sid: str) -> np.ndarray:
        judged = self.judged[sid]
        if world == "student":
            return np.ones(judged.shape, dtype=bool)
        return judged == (RIGHT if world == "clean" else WRONG)


def _same(a, b: np.ndarray) -> bool:
    """The same array, bit for bit (a −0.0 is not a 0.0)."""
    return isinstance(a, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


class View:
    """One world seen as step values, for computing what a mistake would give (misconceptions.py).

    `value(step)` is the step in this world (display shape); `recompute(step, overrides)` computes
    it from its inputs in this world with some inputs replaced (display values by step id).
    World "truth" is the trace itself.
    """

    def __init__(self, world: World, name: str):
        self.world, self.name, self.trace = world, name, world.trace
        self.read: set[str] = set()        # the steps whose values were read (what a result depends on)

    def __contains__(self, sid: str) -> bool:
        return sid in self.world.truth

    def step(self, sid: str):
        return self.trace[sid]

    def value(self, sid: str) -> np.ndarray:
        self.read.add(sid)
        if self.name == "truth":
            return self.world.truth[sid]
        return self.world.value(self.name, sid)

    def _internal(self, sid: str) -> np.ndarray:
        self.read.add(sid)
        if self.name == "truth":
            return self.trace[sid].value
        self.world._refresh(self.name)
        return self.world._values[self.name][sid]

    def recompute(self, sid: str, overrides: dict | None = None) -> np.ndarray | None:
        step = self.trace[sid]
        if step.op is None:
            return None
        overrides = overrides or {}
        args = [self.trace._to_internal(self.trace[i], overrides[i]) if i in overrides else self._internal(i)
                for i in step.inputs]
        try:
            with np.errstate(all="ignore"):
                out = np.asarray(step.op.fn(*args), dtype=np.float64)
        except (ValueError, IndexError, TypeError, NNTError, FloatingPointError):
            return None
        out = np.array(self.trace._to_display(step, out), dtype=np.float64)
        return out if out.shape == self.world.truth[sid].shape else None
