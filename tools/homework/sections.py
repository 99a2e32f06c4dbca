"""Where the work says it is: `Epoch 2`, `the third sample`, `Sample 4:`, `iteration 2`, `②` -> hints.

Work through epochs, samples of a batch or training iterations is written in sections: a heading or
a phrase names the epoch, sample or iteration, and the numbers after it belong there until the next
one. Each statement gets the epoch, sample and iteration (1-based) in force where it starts, unless
its table already gave them; a new epoch or iteration starts over at no sample. A marker right after
a number (`0.2 for the first sample, 1.3 for the second`) names that number's sample instead. The
aligner weighs these hints against the pass, epoch and sample of each step it may be.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from nn_tutor.tools.homework.expr import literals
from nn_tutor.tools.homework.statement import Statement

_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
             "eighth": 8, "ninth": 9, "tenth": 10, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5,
             "6th": 6, "7th": 7, "8th": 8, "9th": 9, "10th": 10}
_CIRCLED = {ch: k + 1 for k, ch in enumerate("①②③④⑤⑥⑦⑧⑨⑩")}
_WORDS = {"epoch": "epoch", "ep": "epoch", "sample": "sample", "example": "sample", "pattern": "sample",
          "observation": "sample", "instance": "sample", "point": "sample", "iteration": "iteration",
          "iter": "iteration",
          # as German and French courses write them
          "epoche": "epoch", "époque": "epoch", "probe": "sample", "muster": "sample", "échantillon": "sample",
          "itération": "iteration"}
_ORDINAL = "|".join(sorted(_ORDINALS, key=len, reverse=True))
_WORD = (r"epoch|ep|sample|pattern|observation|instance|(?:data\s+)?point|iteration|iter|"
         r"epoche|époque|probe|muster|échantillon|itération")
_MARKER = re.compile(       # (not `Example 2`: a title more often than a sample)
    rf"(?i)\b(?:({_WORD})s?\s*(?:no\.?|number|#)?\s*(\d{{1,2}})\b(?![.,]\d)"    # Epoch 2, sample #3
    rf"|({_ORDINAL})\s+(?:training\s+)?({_WORD}|example)s?)"                   # the third sample
    rf"|([{''.join(_CIRCLED)}])")                                              # ②
_ORDER = ("epoch", "iteration", "sample")    # a marker resets the ones after it


@dataclass(frozen=True)
class Marker:
    line: int          # 1-based
    column: int        # 0-based, in the raw line
    kind: str          # epoch, sample or iteration
    number: int        # 1-based
    after: bool = False    # `0.2 for the first sample`: it names the number before it


def markers(lines: list[str]) -> list[Marker]:
    """Every epoch, sample and iteration the text names, in reading order."""
    out = []
    for no, text in enumerate(lines, start=1):
        for m in _MARKER.finditer(text):
            if m.group(1):
                word, number = m.group(1), int(m.group(2))
            elif m.group(3):
                word, number = m.group(4), _ORDINALS[m.group(3).lower()]
            else:
                word, number = "sample", _CIRCLED[m.group(5)]
            kind = _WORDS[word.lower().split()[-1]]
            if number >= 1:
                out.append(Marker(no, m.start(), kind, number, bool(_FOR_BEFORE.search(text[:m.start()]))))
        out.extend(_elided(no, text, [mk for mk in out if mk.line == no and mk.after]))
    return out


_FOR_BEFORE = re.compile(r"(?i)[\d)\]]\s+for\s+(?:the\s+)?$")      # a number, then `for the …`
_FOR_ORDINAL = re.compile(rf"(?i)(?<=[\d)\]])\s+for\s+the\s+({_ORDINAL})\b(?!\s+(?:training\s+)?(?:{_WORD}|example))")


def _elided(no: int, text: str, named: list[Marker]) -> list[Marker]:
    """`… 0.2 for the first sample, 1.3 for the second`: the noun left out after the first."""
    if not named:
        return []
    first = named[0]
    return [Marker(no, m.start(), first.kind, _ORDINALS[m.group(1).lower()], True)
            for m in _FOR_ORDINAL.finditer(text) if m.start() > first.column]


def with_section_hints(statements: list[Statement], found: list[Marker]) -> None:
    """Give each statement the epoch, sample and iteration in force where it starts."""
    if not found:
        return
    where = sorted(((s.line, _column(s), k) for k, s in enumerate(statements)))
    ahead = sorted((mk for mk in found if not mk.after), key=lambda mk: (mk.line, mk.column))
    current: dict[str, int] = {}
    m = 0
    for line, column, k in where:
        while m < len(ahead) and (ahead[m].line, ahead[m].column) <= (line, column):
            marker = ahead[m]
            current[marker.kind] = marker.number
            for later in _ORDER[_ORDER.index(marker.kind) + 1:]:
                current.pop(later, None)
            m += 1
        hints = statements[k].hints
        for kind, number in current.items():
            hints.setdefault(kind, number)
    for marker in (mk for mk in found if mk.after):         # the statement just before it on its line
        before = [(column, k) for line, column, k in where if line == marker.line and column < marker.column]
        if before:
            hints = statements[max(before)[1]].hints
            if "cell" not in hints:
                hints[marker.kind] = marker.number


def _column(stmt: Statement) -> int:
    """Where a statement starts on its line (its first form's first number)."""
    form = next((f for f in stmt.forms if f is not None), None)
    if form is None:
        return 0
    positions = [n.pos for n in literals(form.node) if n.pos >= 0]
    return form.line.col(min(positions)) if positions else 0
