"""What the work has stated so far: every number judged, and the names it gave them.

The ledger answers the questions a later step raises: is this number one the student wrote before
(reused, not a new claim), what did a name mean (`out_h1` -> the student's 0.5933, at step L1.a[0]),
and was that earlier value right. Table rows may bind names per sample (δ of sample 2).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nn_tutor.tools.homework.names import canon


@dataclass
class Entry:
    """A number the student stated and what was decided about it."""

    value: np.ndarray
    decimals: int
    truth: np.ndarray | None       # its true value, when known
    verdict: str                   # correct, rounding, wrong, carried, unchecked, stated (a definition)
    target: tuple | None           # (step id, index) it was aligned to
    line: int
    name: str | None = None
    sample: int | None = None

    @property
    def good(self) -> bool:
        return self.verdict in ("correct", "rounding")

    @property
    def bad(self) -> bool:
        return self.verdict in ("wrong", "carried")


def precision(decimals: int, value) -> np.ndarray:
    """Half a unit of the last written decimal, decimals counted as at least 2; whole numbers are exact."""
    v = np.abs(np.asarray(value, dtype=np.float64))
    if decimals <= 0:
        return 1e-9 * np.maximum(v, 1.0)
    return 0.5 * 10.0 ** (-max(decimals, 2)) + 1e-12 * v


class Ledger:
    """Numbers and names stated so far, in reading order."""

    def __init__(self):
        self.entries: list[Entry] = []
        self._scalars: list[tuple[float, float, int]] = []   # (value, precision, entry) of each number stated
        self._arrays: tuple | None = None
        self.names: dict[tuple[str, int | None], Entry] = {}
        self.aliases: dict[str, tuple[str, tuple | None]] = {}   # the student's name for a given

    def name_given(self, name: str, place: tuple[str, tuple | None]) -> None:
        """The work restated a given under its own name (`v = [0.5, −0.3, …]`): remember what it denotes."""
        self.aliases[canon(name)] = place

    def alias(self, name: str) -> list[tuple[str, tuple | None]]:
        """The given (or, written `_new`, its update) a name the student introduced stands for."""
        key = canon(name)
        if key in self.aliases:
            return [self.aliases[key]]
        if key.endswith("new") and key[:-3] in self.aliases:
            sid, idx = self.aliases[key[:-3]]
            return [(f"{sid}_new", idx)]
        return []

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)
        if entry.verdict != "unchecked" and np.size(entry.value) <= 64:
            # each number of a vector too: `w = [-1.7, 0.8]`, then `-1.7*3 + 0.8*(-1)` uses them
            values = np.ravel(np.asarray(entry.value, dtype=np.float64))
            tols = np.broadcast_to(np.ravel(precision(entry.decimals, entry.value)), values.shape)
            self._scalars.extend((float(v), float(t), len(self.entries) - 1) for v, t in zip(values, tols))
            self._arrays = None
        if entry.name:
            self.names[(entry.name, entry.sample)] = entry
            self.names[(entry.name, None)] = entry

    def named(self, name: str, sample: int | None = None) -> Entry | None:
        return self.names.get((name, sample)) or (self.names.get((name, None)) if sample is None else None)

    def elements_of(self, name: str) -> list[Entry]:
        """Entries named name_1, name_2, … (or name1, name2, …) in order: a vector stated element by element."""
        for sep in ("", "_"):
            parts = []
            for k in range(1, 65):
                e = self.names.get((f"{name}{sep}{k}", None))
                if e is None or np.ndim(e.value) != 0:
                    break
                parts.append(e)
            if len(parts) >= 2:
                return parts
        return []

    def element_named(self, name: str) -> tuple[Entry, int] | None:
        """`x1` when a vector `x` was stated: (that entry, the 0-based element), counting from 1."""
        import re
        m = re.fullmatch(r"(.*?[^\d])(\d)", name)
        if not m:
            return None
        entry = self.names.get((m.group(1), None))
        k = int(m.group(2)) - 1
        if entry is None or np.ndim(entry.value) != 1 or not 0 <= k < np.size(entry.value):
            return None
        return entry, k

    def stated(self, value, decimals: int, either_sign: bool = False) -> Entry | None:
        """The latest entry whose written value this number repeats (within its own precision);
        with either_sign, also its magnitude (`w + 0.6·0.09` reuses ∂E/∂w = −0.09)."""
        v = np.asarray(value, dtype=np.float64)
        tol = precision(decimals, v)
        if v.ndim == 0:
            return self._stated_number(float(v), float(tol), either_sign)
        for e in reversed(self.entries):
            if np.shape(e.value) != np.shape(v) or e.verdict == "unchecked":
                continue
            t = np.maximum(tol, precision(e.decimals, e.value))
            if np.all(np.abs(e.value - v) <= t) or (either_sign and np.all(np.abs(np.abs(e.value) - np.abs(v)) <= t)):
                return e
        return None

    def _stated_number(self, v: float, tol: float, either_sign: bool) -> Entry | None:
        """The latest number stated that this one repeats, found over all of them at once."""
        if not self._scalars:
            return None
        if self._arrays is None:
            self._arrays = tuple(np.asarray(col) for col in zip(*self._scalars))
        values, precisions, index = self._arrays
        t = np.maximum(tol, precisions)
        hit = np.abs(values - v) <= t
        if either_sign:
            hit |= np.abs(np.abs(values) - abs(v)) <= t
        found = np.flatnonzero(hit)
        return self.entries[int(index[found[-1]])] if found.size else None
