"""The reader's output: Statements (label = form = form …) with the Forms they are made of.

read.py and tables.py produce them; claims.py turns them into the numbers the student claims.
`parse_form` reads a run of tokens into a Form, taking the longest readable part when asked.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from nn_tutor.tools.homework.expr import ExprError, Node, Parser, Token
from nn_tutor.tools.homework.expr.parser import spaced_numbers
from nn_tutor.tools.homework.notation import Line


@dataclass(frozen=True)
class Label:
    """The name a statement gives its value: `net_h1`, `zΛ1_2`, `dEðdw5`, `w5_new`, with an index."""

    name: str
    index: tuple | None = None      # as written
    first: int = 0                  # the number the work's indices start at (1: z1[1] is the first)

    @property
    def element(self) -> tuple | None:
        """The index counted from 0, as the engine counts."""
        return None if self.index is None else tuple(i - self.first for i in self.index)


@dataclass
class Form:
    """One side of an equals sign: the parsed expression and where its numbers were written."""

    node: Node
    text: str
    line: Line            # the normalised line (positions of the node's numbers map to raw columns)
    no: int = 0           # the 1-based line it was written on (a chain may go on over lines)

    def column(self, node: Node) -> int:
        return self.line.col(node.pos) if node.pos >= 0 else self.line.col(0)


@dataclass
class Statement:
    """What the work asserts at one place: label = forms[0] = forms[1] = …"""

    line: int
    label: Label | None
    forms: list[Form]
    context: str = ""                     # the words before it in its sentence, lower case
    after: str = ""                       # the words after it, to the end of its sentence
    source: str = "math"                  # math, table or prose
    bindings: dict = field(default_factory=dict)   # names a table row gives values (x1 -> 0.5)
    hints: dict = field(default_factory=dict)      # sample / row / column / epoch numbers (1-based)

    def __post_init__(self):
        for form in self.forms:
            if form is not None and not form.no:
                form.no = self.line

    @property
    def text(self) -> str:
        head = f"{shown(self.label.name)}{index_text(self.label.index)} = " if self.label else ""
        return head + " = ".join(f.text for f in self.forms)


def equation_sides(toks: list[Token]) -> list[list[Token]]:
    """The runs of tokens between `=` signs, in order (a run may be empty: `= 0.12`)."""
    sides: list[list[Token]] = [[]]
    for tok in toks:
        if tok.kind == "EQ":
            sides.append([])
        else:
            sides[-1].append(tok)
    return sides


def parse_form(toks: list[Token], line: Line, prefix_ok: bool, tail_ok: bool) -> Form | None:
    """Parse a token run into a Form; with prefix_ok the longest readable start is taken (trailing
    words such as `(check: ok)` are left out), with tail_ok the longest readable end."""
    if not toks:
        return None
    spaced = spaced_vector(toks)
    if spaced is not None and spaced.children and len(spaced.children) >= 3:
        return make_form(spaced, toks, line)   # `-.092 -.073 .072`: printed with spaces, not a difference
    node, used = _parse_run(toks)
    if node is not None and used == len(toks):
        return make_form(node, toks, line)
    listed = _number_list(toks) or spaced
    if listed is not None:
        return make_form(listed, toks, line)
    if prefix_ok:
        for cut in range(len(toks) - 1, max(len(toks) - 12, 0), -1):
            if toks[cut - 1].kind == "OP" and toks[cut - 1].text in "+-*/^⊙@":
                continue
            node, used = _parse_run(toks[:cut])
            if node is not None and used == cut:
                return make_form(node, toks[:cut], line)
    if tail_ok:
        for start in range(1, min(len(toks), 12)):
            if toks[start].kind == "OP" and toks[start].text not in "-√":
                continue
            node, used = _parse_run(toks[start:])
            if node is not None and used == len(toks) - start:
                return make_form(node, toks[start:], line)
    return None


def spaced_vector(toks: list[Token]) -> Node | None:
    """`.787 .935 .742` (numbers apart with spaces, as arrays print): a vector."""
    spaced = spaced_numbers(toks + [Token("END", "", -1)], 0, ("END",))
    if spaced is None:
        return None
    rows = spaced[0]
    if len(rows) == 1:
        return Node("vec", children=rows[0], depth=2)
    return Node("vec", children=[Node("vec", children=r, depth=2) for r in rows], depth=3)


def _number_list(toks: list[Token]) -> Node | None:
    """`5.51, 9.92, 14.34` (numbers separated by commas, no brackets): a vector."""
    items, cur = [], []
    for t in toks + [Token("COMMA", ",", -1)]:
        if t.kind == "COMMA":
            if not cur or len(cur) > 2:
                return None
            node, used = _parse_run(cur)
            if node is None or used != len(cur) or not (node.kind == "num" or
                                                        (node.kind == "neg" and node.children[0].kind == "num")):
                return None
            items.append(node)
            cur = []
        else:
            cur.append(t)
    if len(items) < 2:
        return None
    return Node("vec", children=items, depth=2)


def make_form(node: Node, toks: list[Token], line: Line) -> Form:
    last = toks[-1]
    text = line.text[toks[0].pos:last.pos + max(len(last.text), 1)].strip()
    return Form(node, shown(text), line)


def _parse_run(toks: list[Token]) -> tuple[Node | None, int]:
    end = Token("END", "", toks[-1].pos + len(toks[-1].text))
    parser = Parser(list(toks) + [end])
    try:
        return parser.parse_expression(0), parser.i
    except ExprError:
        return None, 0


def shown(text: str) -> str:
    """Normalised text back in the notation students read (∂L/∂w5, z^[1], w5_new)."""
    text = re.sub(r"d([\wŷ']+?)ðd([\wŷ']+)", r"∂\1/∂\2", text)
    return re.sub(r"Λ(\d+)", r"^[\1]", text)


def index_text(index) -> str:
    return "" if index is None else "[" + ", ".join(str(i) for i in index) + "]"
