"""Statements -> Claims: the numbers a student states as computed, each with how it was computed.

In `label = e0 = e1 = … = v` the last written value v is claimed, computed from the form before it.
A number that first appears inside a later form stands for the part of the form before it that it
replaces (`σ(0.3·0.2 + 0.1) = σ(0.16)`: 0.16 is claimed for `0.3·0.2 + 0.1`), except the bare
products of a substitution (`0.5·0.52 + … = 0.26 + …`), which are checked only through the result
they lead to. Numbers inside the first form may be givens, earlier results or new numbers: they are
`operand` claims, kept or dropped by the checker once it knows what came before. A value stated on
its own (`net_h1 = 0.3775`, a number in a sentence, a table cell) is claimed with no computation.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nn_tutor.tools.homework.expr import FRACTIONS, Node
from nn_tutor.tools.homework.statement import Form, Label, Statement

ROLES = ("result", "intermediate", "operand", "definition", "value")


@dataclass
class Claim:
    """One number (or vector) the work states, where it was written and how it was computed."""

    line: int
    column: int
    value: np.ndarray               # as written, float64
    decimals: int                   # the most decimals shown
    role: str                       # one of ROLES
    statement: Statement
    computation: Node | None = None # the student's expression that should give it
    literal: Node | None = None     # the written number itself
    order: int = 0                  # reading order
    parts: list = field(default_factory=list)   # literal nodes of a vector claim, in order
    override: tuple | None = None   # the user's (rtol, atol), replacing the shown-decimals rule
    links: list = field(default_factory=list)   # a result's chain: the forms before it that no
                                                # other claim accounts for (each must equal the next)

    @property
    def label(self) -> Label | None:
        return self.statement.label if self.role in ("result", "definition") else None

    @property
    def text(self) -> str:
        return self.statement.text

    @property
    def exact(self) -> bool:
        """Written as a whole number or a fraction glyph (½, ¼): a count or a constant, never rounded."""
        return self.decimals == 0 or bool(self.parts) and all(n.text in FRACTIONS for n in self.parts)

    @property
    def shape(self) -> tuple:
        return np.shape(self.value)


def literal_value(node: Node) -> tuple[np.ndarray, int, list[Node]] | None:
    """(value, decimals, number nodes) of a written number or vector/matrix of numbers, else None."""
    if node.kind == "num":
        return np.asarray(node.value, dtype=np.float64), node.decimals, [node]
    if node.kind == "neg" and node.children[0].kind == "num":
        n = node.children[0]
        return np.asarray(-n.value, dtype=np.float64), n.decimals, [n]
    if node.kind == "pct" and node.children and node.children[0].kind == "num":     # 2.85% is 0.0285
        n = node.children[0]
        return np.asarray(n.value / 100, dtype=np.float64), n.decimals + 2, [n]
    if node.kind == "vec":
        items = [literal_value(c) for c in node.children]
        if not items or any(i is None for i in items):
            return None
        shapes = {np.shape(i[0]) for i in items}
        if len(shapes) != 1:
            return None
        return (np.stack([i[0] for i in items]), max(i[1] for i in items),
                [n for i in items for n in i[2]])
    return None


def claims_of(stmt: Statement) -> list[Claim]:
    """The claims of one statement, in the order they are written."""
    out: list[Claim] = []
    forms = stmt.forms
    lits = [literal_value(f.node) for f in forms]
    start = 0                      # the first form of the chain the next result answers for
    for k, form in enumerate(forms):
        lit = lits[k]
        if lit is not None:
            if k == 0:
                role = "definition" if stmt.label is not None else "value"
                out.append(_claim(stmt, form, lit, role, None))
            else:
                claim = _claim(stmt, form, lit, "result", forms[k - 1].node)
                claim.links = [f.node for f in forms[start:k]]
                out.append(claim)
            start = k
            continue
        if k == 0:
            out.extend(_operands(stmt, form, form.node))
            continue
        pairs = pair_forms(forms[k - 1].node, form.node)
        paired = {id(n) for n, _ in pairs}
        for number, counterpart in pairs:
            if bare_product(counterpart):
                continue
            value = literal_value(number)
            out.append(_claim(stmt, form, value, "intermediate", counterpart, number))
            start = k
        out.extend(c for c in _operands(stmt, form, form.node) if id(c.literal) not in paired)
    return out


def _claim(stmt: Statement, form: Form, lit, role: str, computation: Node | None,
           node: Node | None = None) -> Claim:
    value, decimals, nodes = lit
    first = nodes[0] if nodes else None
    column = form.column(node if node is not None and node.kind == "num" else first) if first else form.column(form.node)
    return Claim(form.no or stmt.line, column, value, decimals, role, stmt, computation, node or first, parts=nodes)


def _operands(stmt: Statement, form: Form, node: Node) -> list[Claim]:
    """The numbers written inside an expression (exponents and small whole numbers excluded),
    with the sign written right before them: `(−0.2603)·0.2305` claims −0.2603."""
    out = []
    addends = {id(c) for c in _sum_terms(node)} if node.kind != "num" else set()
    for n, sign in signed_literals(node):
        if n.decimals == 0 and abs(n.value) <= 10:
            continue          # 1 − a, 2(ŷ − y), x²: structure, not a claimed value
        if id(n) in addends:
            continue          # 0.075 + 0.16 + 0.35: the terms of a substitution, checked through its sum
        out.append(_claim(stmt, form, (np.asarray(sign * n.value, dtype=np.float64), n.decimals, [n]),
                          "operand", None, n))
    return out


def _sum_terms(node: Node):
    """Numbers written directly as terms of a sum, anywhere in the expression."""
    stack = [node]
    while stack:
        cur = stack.pop()
        if cur.kind == "sum":
            for c in cur.children:
                if c.kind == "num" or (c.kind == "neg" and c.children[0].kind == "num"):
                    yield c if c.kind == "num" else c.children[0]
        stack.extend(cur.children)


def signed_literals(node: Node, sign: float = 1.0):
    """(number, sign) for every number in an expression; a number negated as a whole is negative."""
    if node.kind == "num":
        yield node, sign
        return
    if node.kind == "neg":
        yield from signed_literals(node.children[0], -sign)
        return
    if node.kind == "sum":
        for s, c in zip(node.signs, node.children):
            yield from signed_literals(c, sign * (-1 if s == "-" and c.kind == "num" else 1))
        return
    for c in node.children:
        yield from signed_literals(c, 1.0)


def pair_forms(before: Node, after: Node) -> list[tuple[Node, Node]]:
    """Numbers of `after` standing where `before` has an expression: (number, that expression).

    The two forms are walked together while they have the same shape (the same function, the same
    number of terms or factors); where `after` has a written number and `before` does not, the
    number is the value of that part.
    """
    if literal_value(after) is not None and after.kind in ("num", "neg"):
        if literal_value(before) is not None:
            return []
        return [(after if after.kind == "num" else after, before)]
    if before.kind == "sum" and after.kind == "sum" and len(before.children) > len(after.children):
        return _pair_sums(before, after)
    if before.kind != after.kind or len(before.children) != len(after.children) or \
            (before.kind == "call" and before.text != after.text):
        return []
    out = []
    for b, a in zip(before.children, after.children):
        out.extend(pair_forms(b, a))
    return out


def _pair_sums(before: Node, after: Node) -> list[tuple[Node, Node]]:
    """`0.54 + 0.08 + 0.40 + 0.09 − 0.4 = 1.11 − 0.4`: terms equal at both ends are the same; the one
    number left in `after` stands for the terms left in `before`."""
    b = list(zip(before.signs, before.children))
    a = list(zip(after.signs, after.children))
    while a and b and _same_term(a[0], b[0]) and len(b) > len(a):
        a, b = a[1:], b[1:]
    while a and b and _same_term(a[-1], b[-1]) and len(b) > len(a):
        a, b = a[:-1], b[:-1]
    if len(a) != 1 or a[0][0] != "+" or literal_value(a[0][1]) is None or len(b) < 2:
        return []
    from nn_tutor.tools.homework.expr.parser import _node
    rest = _node("sum", [c for _, c in b], signs=[s for s, _ in b])
    return [(a[0][1], rest)]


def _same_term(x, y) -> bool:
    (sx, nx), (sy, ny) = x, y
    lx, ly = literal_value(nx), literal_value(ny)
    return sx == sy and lx is not None and ly is not None and np.array_equal(lx[0], ly[0])


def bare_product(node: Node) -> bool:
    """A product of written numbers only (a term of a substitution such as 0.5·0.52), one number, or
    a name the number stands in for (`out_h1 × … = 0.52248 × …` substitutes a value)."""
    if node.kind == "neg":
        return bare_product(node.children[0])
    if node.kind in ("num", "name", "index"):
        return True
    if node.kind == "prod" and all(s in ("*",) for s in node.signs[1:]):
        return all(c.kind in ("num", "name", "index") or (c.kind == "neg" and c.children[0].kind in ("num", "name"))
                   for c in node.children)
    return False
