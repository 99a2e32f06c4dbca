"""The symbol table of a piece of work: what each name was given, and every number it computed.

It also remembers the decimals results were written to, so a later use of a rounded result is
judged with the rounding it carries (and an exact given is not).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nn_tutor.engine.expr import Node
from nn_tutor.engine.verify import half_unit
from nn_tutor.tools.homework_names import canon

@dataclass
class Symbol:
    """A quantity the text defined: the student's value and (when known) the corrected one."""

    own: np.ndarray
    true: np.ndarray | None
    decimals: int | None
    wrong: bool = False
    line: int = 0
    rounded: bool = True   # a computed result as written (its rounding may move later steps)
    slip: bool = False     # judged wrong itself (not merely carrying an earlier error)


class Table:
    """Names -> Symbols, plus every computed number seen (to spot rounded intermediates)."""

    def __init__(self):
        self.symbols: dict[str, Symbol] = {}
        self.computed = _Pool()      # engine values (spec mode)
        self.claimed = _Written()    # results the text computed, as written, with their decimals
        self.true_values = _Pool()   # true values of the steps the text computed (spec mode)
        self.givens: set[float] = set()   # values the spec gives (exact, never rounded)
        self.wrong_literals: dict[str, float] = {}   # text of a wrong or carried number -> its true value
        self.slips: set[str] = set()                 # texts of numbers judged wrong (not rounded values)

    def own(self, name: str):
        sym = self.symbols.get(canon(name))
        return None if sym is None else sym.own

    def true(self, name: str):
        sym = self.symbols.get(canon(name))
        if sym is None:
            return None
        return sym.own if sym.true is None else sym.true

    def set(self, name: str, index, own, true, decimals, wrong, line, computed=True, slip=False):
        key = canon(name)
        own = np.asarray(own, dtype=np.float64)
        true = None if true is None else np.asarray(true, dtype=np.float64)
        if index is not None:
            sym = self.symbols.get(key)
            base = np.full(tuple(i + 1 for i in index), np.nan) if sym is None else np.array(sym.own)
            tbase = None if sym is None else np.array(sym.true if sym.true is not None else sym.own)
            if base.ndim != len(index) or any(i >= n for i, n in zip(index, base.shape)):
                base = _grow(base, index)
                tbase = None if tbase is None else _grow(tbase, index)
            base[index] = own
            if tbase is None:
                tbase = base.copy()
            try:
                tbase[index] = own if true is None else true
            except ValueError:
                tbase[index] = own
            self.symbols[key] = Symbol(base, tbase, decimals, wrong or (sym.wrong if sym else False), line,
                                       computed or (sym.rounded if sym else False),
                                       slip or (sym.slip if sym else False))
        else:
            self.symbols[key] = Symbol(own, true, decimals, wrong, line, computed, slip)
        if computed and not slip:
            self.claimed.extend((v, decimals) for v in np.atleast_1d(own).ravel().tolist())

    def rounding_decimals(self, lit: Node) -> int | None:
        """Decimals to which a written number was rounded, when it is a computed result: one the
        student wrote as a result before (the decimals shown there count, 1.4 may be 1.4000),
        or (≥ 2 decimals) the rounding of a result's true value, or (≥ 3 decimals, not a given)
        the rounding of any engine value. None: an exact number."""
        if lit.decimals < 1 or lit.text in self.slips:
            return None
        value = abs(lit.value)
        written = self.claimed.decimals(value)
        if written is not None:
            return max(lit.decimals, written)
        h = half_unit(lit.decimals) * 1.0001
        for pool, min_decimals, skip_givens in ((self.true_values, 2, False), (self.computed, 3, True)):
            if lit.decimals < min_decimals or (skip_givens and lit.value in self.givens):
                continue
            if pool.near(value, h, exclude_equal=True):
                return lit.decimals
        return None


class _Pool:
    """Absolute values, searchable for a neighbour within a distance (sorted lazily)."""

    def __init__(self):
        self.items: list[float] = []
        self._sorted = np.empty(0)
        self._dirty = False

    def extend(self, values) -> None:
        self.items.extend(abs(float(v)) for v in values)
        self._dirty = True

    def near(self, value: float, h: float, exclude_equal: bool = False) -> bool:
        if not self.items:
            return False
        if self._dirty:
            self._sorted = np.sort(np.asarray(self.items))
            self._dirty = False
        lo = np.searchsorted(self._sorted, value - h, "left")
        hi = np.searchsorted(self._sorted, value + h, "right")
        for v in self._sorted[lo:hi][:50]:
            if not exclude_equal or abs(v - value) > 1e-12 * max(value, 1.0):
                return True
        return False


class _Written:
    """Results as the student wrote them: value -> the most decimals shown for it."""

    def __init__(self):
        self.by_value: dict[float, int] = {}

    def extend(self, pairs) -> None:
        for v, d in pairs:
            key = round(abs(float(v)), 12)
            self.by_value[key] = max(d or 0, self.by_value.get(key, 0))

    def decimals(self, value: float) -> int | None:
        return self.by_value.get(round(abs(value), 12))


def _grow(arr, index):
    shape = tuple(max(a, i + 1) for a, i in zip(arr.shape + (0,) * (len(index) - arr.ndim), index))
    out = np.full(shape, np.nan)
    if arr.ndim == len(shape):
        out[tuple(slice(0, n) for n in arr.shape)] = arr
    return out

