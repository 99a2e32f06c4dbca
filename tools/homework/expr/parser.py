"""Safe arithmetic for checking written work: a Pratt parser over student tokens, never eval.

Reads what students type (`0.5(10)`, `2 × 0.3 − 1`, `σ(0.585)`, `[0.5, 0.3]`, `e^-2`, `50%`,
`√2`, `(0.2)²`, `max(0, z)`, `Wᵀ`) into a small tree of nodes that `evaluate` computes with
NumPy float64. Explicit limits keep hostile input cheap: text length, token count, nesting depth,
and any overflow or undefined value (9^9^9^9, 1/0, log 0) ends in an ExprError, never a hang.
The tokenizer lives in tokens.py and the evaluator in evaluate.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from nn_tutor.tools.homework.expr.tokens import ExprError, Token, tokenize

MAX_DEPTH = 100        # nesting of brackets, powers, calls and unary signs


# --- the tree -------------------------------------------------------------------------------

@dataclass(eq=False)
class Node:
    """An expression node: kind is num, name, neg, sum, prod, pow, call, vec, index, pct, T, fact."""

    kind: str
    value: float = 0.0
    text: str = ""
    decimals: int = 0
    children: list = field(default_factory=list)
    signs: list = field(default_factory=list)   # sum: '+'/'-' per child; prod: '*', '/', '⊙', '@'
    depth: int = 1
    pos: int = -1                               # num: where the number starts in the line read


def literals(node: Node) -> list[Node]:
    """Every number written in the expression, in reading order."""
    out, stack = [], [node]
    while stack:
        cur = stack.pop()
        if cur.kind == "num":
            out.append(cur)
        stack.extend(reversed(cur.children))
    return out


def names(node: Node) -> list[str]:
    """Every variable name the expression uses (function names excluded)."""
    out, stack = [], [node]
    while stack:
        cur = stack.pop()
        if cur.kind == "name":
            out.append(cur.text)
        stack.extend(reversed(cur.children))
    return out


FUNCTIONS = {"sigma", "σ", "sigmoid", "sig", "relu", "tanh", "exp", "log", "ln", "log10", "log2",
             "lg", "sqrt", "abs", "max", "min", "sum", "mean", "softmax", "step", "sign",
             "sigma'", "σ'", "sigmoid'", "relu'", "tanh'", "leakyrelu", "lrelu", "leaky_relu",
             "linear", "identity", "linear'", "identity'", "step'"}



# --- the parser (Pratt) ---------------------------------------------------------------------

_BINARY_BP = {"+": 10, "-": 10, "*": 20, "/": 20, "⊙": 20, "@": 20, "^": 40}
_PREFIX_BP = 30   # -2^2 = -(2^2); 2*-3 allowed
_IMPLICIT_BP = 20


class Parser:
    """Pratt parser over a token list; `parse_expression` reads one expression and stops."""

    def __init__(self, tokens: list[Token], functions: set[str] | None = None):
        self.tokens = tokens
        self.i = 0
        self.depth = 0
        self.functions = FUNCTIONS if functions is None else functions

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "END":
            self.i += 1
        return tok

    def expect(self, kind: str, what: str) -> Token:
        if self.tok.kind != kind:
            raise ExprError(f"expected {what} at position {self.tok.pos + 1}, found "
                            f"'{self.tok.text or 'end of expression'}'")
        return self.advance()

    def _enter(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprError(f"expression nested deeper than {MAX_DEPTH} levels; "
                            f"remove brackets or split it into steps")

    def parse_expression(self, rbp: int = 0) -> Node:
        """Read an expression whose operators bind tighter than rbp."""
        self._enter()
        try:
            left = self.prefix()
            while True:
                tok = self.tok
                if tok.kind == "OP" and tok.text in _BINARY_BP and _BINARY_BP[tok.text] > rbp:
                    self.advance()
                    if tok.text == "^":
                        right = self.parse_expression(_BINARY_BP["^"] - 1)  # right-associative
                        if right.kind == "name" and right.text == "T":
                            left = _node("T", [left])
                        else:
                            left = _node("pow", [left, right])
                    else:
                        right = self.parse_expression(_BINARY_BP[tok.text])
                        left = _combine(left, tok.text, right)
                elif tok.kind == "OP" and tok.text in ("%", "ᵀ", "!", "'") and rbp < 50:
                    self.advance()
                    if tok.text == "%":
                        left = _node("pct", [left])
                    elif tok.text == "ᵀ":
                        left = _node("T", [left])
                    else:
                        raise ExprError(f"'{tok.text}' at position {tok.pos + 1} is not arithmetic "
                                        f"the checker can compute")
                elif self._starts_primary(tok) and _IMPLICIT_BP > rbp:
                    right = self.parse_expression(_IMPLICIT_BP)
                    left = _combine(left, "*", right)
                else:
                    return left
        finally:
            self.depth -= 1

    def _starts_primary(self, tok: Token) -> bool:
        if tok.kind in ("NUM", "LP"):
            return True
        if tok.kind == "NAME":
            return True
        if tok.kind == "LB":
            return True
        return tok.kind == "OP" and tok.text == "√"

    def prefix(self) -> Node:
        tok = self.advance()
        if tok.kind == "NUM":
            return Node("num", tok.value, tok.text, tok.decimals, pos=tok.pos)
        if tok.kind == "OP" and tok.text in "+-":
            operand = self.parse_expression(_PREFIX_BP)
            return operand if tok.text == "+" else _node("neg", [operand])
        if tok.kind == "OP" and tok.text == "√":
            operand = self.parse_expression(_PREFIX_BP + 15)
            return _node("call", [operand], text="sqrt")
        if tok.kind == "LP":
            inner = self.parse_expression(0)
            if self.tok.kind in ("COMMA", "SEMI"):  # (0.8, -0.2), (0,8; −0,2): a tuple is a vector
                items = [inner]
                while self.tok.kind in ("COMMA", "SEMI"):
                    self.advance()
                    items.append(self.parse_expression(0))
                self.expect("RP", "')'")
                return _node("vec", items)
            self.expect("RP", "')'")
            return self.postfix_index(inner)
        if tok.kind == "LB":
            return self.postfix_index(self.vector())
        if tok.kind == "NAME":
            name = tok.text
            if self.tok.kind == "OP" and self.tok.text == "'" and (name + "'") in self.functions:
                self.advance()
                name += "'"
            if name in self.functions and self.tok.kind == "LP":
                self.advance()
                args = [self.parse_expression(0)]
                while self.tok.kind == "COMMA":
                    self.advance()
                    args.append(self.parse_expression(0))
                self.expect("RP", f"')' to close {name}(")
                return self.postfix_index(_node("call", args, text=name))
            if name in self.functions and name in ("exp", "ln", "log", "sqrt") and \
                    self.tok.kind in ("NUM", "NAME"):
                return _node("call", [self.parse_expression(_PREFIX_BP + 15)], text=name)
            node = Node("name", text=name)
            if self.tok.kind == "LB" and not self.tok.space_before:
                return self.postfix_index(node)
            return node
        raise ExprError(f"expected a number, name or '(' at position {tok.pos + 1}, found "
                        f"'{tok.text or 'end of expression'}'")

    def postfix_index(self, node: Node) -> Node:
        """`z[0]`, `W[1, 0]`, `W[1][0]`: integer indices written right after a value."""
        while self.tok.kind == "LB" and not self.tok.space_before:
            start = self.i
            self.advance()
            idx = []
            ok = True
            while True:
                if self.tok.kind == "NUM" and self.tok.decimals == 0 and "e" not in self.tok.text.lower():
                    idx.append(int(self.advance().value))
                else:
                    ok = False
                    break
                if self.tok.kind == "COMMA":
                    self.advance()
                    continue
                break
            if not ok or self.tok.kind != "RB":
                self.i = start
                return node
            self.advance()
            node = _node("index", [node], value=0.0, signs=idx)
        return node

    def vector(self) -> Node:
        """`[a, b, c]`, `[[..], [..]]`, `[a b; c d]`, `[.50 -.26 .56]` (the opening bracket is consumed)."""
        rows: list[list[Node]] = [[]]
        if self.tok.kind == "RB":
            raise ExprError(f"empty brackets at position {self.tok.pos + 1}")
        spaced = spaced_numbers(self.tokens, self.i, ("RB",))
        if spaced is not None:
            found, end = spaced
            self.i = end
            self.expect("RB", "']'")
            return _node("vec", found[0]) if len(found) == 1 else _node("vec", [_node("vec", r) for r in found])
        while True:
            rows[-1].append(self.parse_expression(0))
            if self.tok.kind == "COMMA":
                self.advance()
            elif self.tok.kind == "SEMI":
                self.advance()
                rows.append([])
            elif self.tok.kind == "RB":
                self.advance()
                break
            else:
                raise ExprError(f"expected ',' or ']' at position {self.tok.pos + 1}, found "
                                f"'{self.tok.text or 'end of expression'}'")
        if len(rows) == 1:
            return _node("vec", rows[0])
        return _node("vec", [_node("vec", r) for r in rows])


def spaced_numbers(tokens: list[Token], i: int, stops: tuple) -> tuple[list[list[Node]], int] | None:
    """Numbers written apart with spaces, as arrays print (`.50 -.26 .56`, rows split by `;`), from
    token i to a token of a `stops` kind: (rows of number nodes, the stop's index), or None. A minus
    is a sign only with a space before it and none after (`0.5 - 0.26` is a difference)."""
    rows: list[list[Node]] = [[]]
    j, n = i, len(tokens)
    while j < n and tokens[j].kind not in stops:
        tok = tokens[j]
        if tok.kind == "SEMI" and rows[-1]:
            rows.append([])
            j += 1
            continue
        first = tok
        sign = None
        if tok.kind == "OP" and tok.text in "+-" and j + 1 < n and tokens[j + 1].kind == "NUM" and \
                not tokens[j + 1].space_before and (tok.space_before or not rows[-1]):
            sign, j = tok.text, j + 1
            tok = tokens[j]
        if tok.kind != "NUM" or (rows[-1] and not first.space_before):
            return None
        node = Node("num", tok.value, tok.text, tok.decimals, pos=tok.pos)
        rows[-1].append(_node("neg", [node]) if sign == "-" else node)
        j += 1
    if j >= n or not all(len(r) >= 2 for r in rows) or len({len(r) for r in rows}) != 1:
        return None
    return rows, j


def _node(kind: str, children: list, text: str = "", value: float = 0.0, signs=None) -> Node:
    depth = 1 + max((c.depth for c in children), default=0)
    if depth > MAX_DEPTH:
        raise ExprError(f"expression nested deeper than {MAX_DEPTH} levels; split it into steps")
    return Node(kind, value, text, 0, list(children), list(signs or []), depth)


def _combine(left: Node, op: str, right: Node) -> Node:
    """Flatten chains of + - and of × ÷ into one n-ary node, so long sums stay shallow."""
    if op in "+-":
        if left.kind == "sum":
            return _node("sum", left.children + [right], signs=left.signs + [op])
        return _node("sum", [left, right], signs=["+", op])
    if left.kind == "prod":
        return _node("prod", left.children + [right], signs=left.signs + [op])
    return _node("prod", [left, right], signs=["*", op])


def parse(text: str) -> Node:
    """Parse a whole expression; anything left over is an error."""
    parser = Parser(tokenize(text))
    node = parser.parse_expression(0)
    if parser.tok.kind != "END":
        raise ExprError(f"unexpected '{parser.tok.text}' at position {parser.tok.pos + 1}")
    return node
