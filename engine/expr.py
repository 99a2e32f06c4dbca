"""Safe arithmetic for checking written work: a tokenizer and a Pratt parser, never eval.

Reads what students type (`0.5(10)`, `2 × 0.3 − 1`, `σ(0.585)`, `[0.5, 0.3]`, `e^-2`, `50%`,
`√2`, `(0.2)²`, `max(0, z)`, `Wᵀ`) into a small tree of nodes that `evaluate` computes with
NumPy float64. Explicit limits keep hostile input cheap: text length, token count, nesting depth,
and any overflow or undefined value (9^9^9^9, 1/0, log 0) ends in an ExprError, never a hang.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from engine.errors import NNTError

MAX_CHARS = 20_000     # one expression (a whole line of work is far shorter)
MAX_TOKENS = 4_000
MAX_DEPTH = 100        # nesting of brackets, powers, calls and unary signs
MAX_ELEMENTS = 100_000  # elements of any vector/matrix value


class ExprError(NNTError):
    """An expression that cannot be read or computed; the message says where and why."""


# --- tokens ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Token:
    """One lexical item: kind is NUM, NAME, OP, LP, RP, LB, RB, COMMA, SEMI, EQ, OTHER, END."""

    kind: str
    text: str
    pos: int
    value: float = 0.0
    decimals: int = 0     # digits shown after the point (numbers only)
    space_before: bool = False


_OPS = {"+": "+", "-": "-", "*": "*", "/": "/", "^": "^", "@": "@", "%": "%",
        "×": "*", "·": "*", "⋅": "*", "∙": "*", "∗": "*", "⊙": "⊙", "∘": "⊙", "÷": "/",
        "−": "-", "–": "-", "—": "-", "ᵀ": "ᵀ", "√": "√", "!": "!", "'": "'", "′": "'"}
_VULGAR = {"½": 0.5, "⅓": 1 / 3, "⅔": 2 / 3, "¼": 0.25, "¾": 0.75, "⅕": 0.2, "⅛": 0.125}
_SUPER = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺ˣʸᵗⁿ⁽⁾", "0123456789-+xytn()")
_SUB = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_SUPER_CHARS = set("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺ˣʸᵗⁿ⁽⁾")
_SUB_CHARS = set("₀₁₂₃₄₅₆₇₈₉ₐₑₒₓₕₖₗₘₙₚₛₜ")
_EQ = {"=", "≈", "≅", "≃"}


_DIGITS = set("0123456789")


def _is_name_char(ch: str) -> bool:
    return (ch.isalpha() and ch not in _SUPER_CHARS and ch != "ᵀ") or ch in _DIGITS or ch == "_" \
        or ch in _SUB_CHARS or ch == "\u0302"


def tokenize(text: str, lenient: bool = False) -> list[Token]:
    """Split text into tokens. Unknown characters raise ExprError, or become OTHER when lenient."""
    if len(text) > MAX_CHARS:
        raise ExprError(f"expression of {len(text)} characters is too long (limit {MAX_CHARS}); "
                        f"split the work into shorter lines")
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        space = i > 0 and text[i - 1].isspace()
        if ch.isspace():
            i += 1
            continue
        if len(tokens) > MAX_TOKENS:
            raise ExprError(f"expression has more than {MAX_TOKENS} tokens; split it into shorter lines")
        if ch in _DIGITS or (ch == "." and i + 1 < n and text[i + 1] in _DIGITS):
            j = i
            while j < n and text[j] in _DIGITS:
                j += 1
            decimals = 0
            if j < n and text[j] == "." and j + 1 < n and text[j + 1] in _DIGITS:
                j += 1
                k = j
                while j < n and text[j] in _DIGITS:
                    j += 1
                decimals = j - k
            if j < n and text[j] in "eE" and j + 1 < n and (text[j + 1] in _DIGITS or (
                    text[j + 1] in "+-" and j + 2 < n and text[j + 2] in _DIGITS)):
                k = j + 1 if text[j + 1] in _DIGITS else j + 2
                m = k
                while m < n and text[m] in _DIGITS:
                    m += 1
                if m - k <= 4:
                    exp = int(text[j + 1:m])
                    decimals = max(decimals - exp, 0)
                    j = m
            raw = text[i:j]
            try:
                value = float(raw)
            except ValueError:
                raise ExprError(f"cannot read the number '{raw}'") from None
            if not math.isfinite(value):
                raise ExprError(f"the number '{raw[:20]}' is too large")
            tokens.append(Token("NUM", raw, i, value, decimals, space))
            i = j
            continue
        if ch in _VULGAR:
            tokens.append(Token("NUM", ch, i, _VULGAR[ch], 6, space))
            i += 1
            continue
        if ch in _SUPER_CHARS:  # a run of superscripts is a power: x² -> x ^ 2, e⁻ˣ -> e ^ (-x)
            j = i
            while j < n and text[j] in _SUPER_CHARS:
                j += 1
            tokens.append(Token("OP", "^", i, space_before=space))
            tokens.extend(_super_run(text[i:j].translate(_SUPER), i))
            i = j
            continue
        if ch not in _OPS and (ch.isalpha() or ch == "_"):
            j = i + 1
            while j < n and _is_name_char(text[j]):
                j += 1
            tokens.append(Token("NAME", text[i:j].translate(_SUB), i, space_before=space))
            i = j
            continue
        if ch == "*" and text.startswith("**", i):
            tokens.append(Token("OP", "^", i, space_before=space))
            i += 2
            continue
        if ch in _OPS:
            tokens.append(Token("OP", _OPS[ch], i, space_before=space))
        elif ch in "({":
            tokens.append(Token("LP", "(", i, space_before=space))
        elif ch in ")}":
            tokens.append(Token("RP", ")", i, space_before=space))
        elif ch == "[":
            tokens.append(Token("LB", "[", i, space_before=space))
        elif ch == "]":
            tokens.append(Token("RB", "]", i, space_before=space))
        elif ch == ",":
            tokens.append(Token("COMMA", ",", i, space_before=space))
        elif ch == ";":
            tokens.append(Token("SEMI", ";", i, space_before=space))
        elif ch in _EQ:
            tokens.append(Token("EQ", ch, i, space_before=space))
        elif lenient:
            tokens.append(Token("OTHER", ch, i, space_before=space))
        else:
            shown = ch if ch.isprintable() else f"U+{ord(ch):04X}"
            raise ExprError(f"unexpected character '{shown}' at position {i + 1}; "
                            f"write numbers, names, + - × / ^, brackets and functions such as σ(), exp()")
        i += 1
    tokens.append(Token("END", "", n))
    return tokens


def _super_run(run: str, pos: int) -> list[Token]:
    """Tokens for the exponent written in superscripts (a signed number, or a bracketed group)."""
    inner = tokenize(run)[:-1]
    if len(inner) > 1 and not (inner[0].kind == "LP" and inner[-1].kind == "RP"):
        inner = [Token("LP", "(", pos)] + inner + [Token("RP", ")", pos)]
    return [Token(t.kind, t.text, pos, t.value, t.decimals) for t in inner]


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
CONSTANTS = {"e": math.e, "pi": math.pi, "π": math.pi}


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
            return Node("num", tok.value, tok.text, tok.decimals)
        if tok.kind == "OP" and tok.text in "+-":
            operand = self.parse_expression(_PREFIX_BP)
            return operand if tok.text == "+" else _node("neg", [operand])
        if tok.kind == "OP" and tok.text == "√":
            operand = self.parse_expression(_PREFIX_BP + 15)
            return _node("call", [operand], text="sqrt")
        if tok.kind == "LP":
            inner = self.parse_expression(0)
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
        """`[a, b, c]`, `[[..], [..]]`, `[a b; c d]` (the opening bracket is consumed)."""
        rows: list[list[Node]] = [[]]
        if self.tok.kind == "RB":
            raise ExprError(f"empty brackets at position {self.tok.pos + 1}")
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


# --- evaluation -----------------------------------------------------------------------------

def _stable_sigmoid(x):
    x = np.asarray(x, dtype=np.float64)
    return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))


def _softmax(x):
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - np.max(x))
    return e / e.sum()


def _reduce(fn):
    def apply(*args):
        if len(args) == 1:
            return fn(np.asarray(args[0]))
        out = args[0]
        for a in args[1:]:
            out = (np.maximum if fn is np.max else np.minimum)(out, a)
        return out
    return apply


_FN = {
    "sigma": _stable_sigmoid, "σ": _stable_sigmoid, "sigmoid": _stable_sigmoid, "sig": _stable_sigmoid,
    "relu": lambda x: np.maximum(x, 0.0), "tanh": np.tanh, "exp": np.exp,
    "log": np.log, "ln": np.log, "log10": np.log10, "lg": np.log10, "log2": np.log2,
    "sqrt": np.sqrt, "abs": np.abs, "sign": np.sign, "step": lambda x: np.where(np.asarray(x) >= 0, 1.0, 0.0),
    "sum": lambda *a: np.sum(a[0]) if len(a) == 1 else sum(a),
    "mean": lambda *a: np.mean(a[0]) if len(a) == 1 else sum(a) / len(a),
    "max": _reduce(np.max), "min": _reduce(np.min), "softmax": _softmax,
    "sigma'": lambda x: _stable_sigmoid(x) * (1 - _stable_sigmoid(x)),
    "relu'": lambda x: np.where(np.asarray(x) > 0, 1.0, 0.0),
    "tanh'": lambda x: 1 - np.tanh(x) ** 2,
    "leakyrelu": lambda x, s=0.01: np.where(np.asarray(x) > 0, x, s * np.asarray(x)),
}
_FN["σ'"] = _FN["sigmoid'"] = _FN["sigma'"]
_FN["lrelu"] = _FN["leaky_relu"] = _FN["leakyrelu"]
_FN["linear"] = _FN["identity"] = lambda x: np.asarray(x, dtype=np.float64)
_FN["linear'"] = _FN["identity'"] = lambda x: np.ones_like(np.asarray(x, dtype=np.float64))
_FN["step'"] = lambda x: np.zeros_like(np.asarray(x, dtype=np.float64))


def evaluate(node: Node, env: dict | None = None, overrides: dict | None = None,
             resolve=None) -> np.ndarray:
    """Compute a parsed expression in float64.

    `env` maps names to values; `resolve(name)` may supply names env lacks (return None if
    unknown); `overrides` maps id(literal node) -> value, used to measure how rounding of the
    written numbers moves the result.
    """
    env = env or {}
    overrides = overrides or {}
    try:
        with np.errstate(all="ignore"):
            return _eval(node, env, overrides, resolve)
    except ExprError:
        raise
    except (TypeError, ValueError, IndexError, ZeroDivisionError, OverflowError, RecursionError) as exc:
        raise ExprError(f"cannot compute this expression ({exc.__class__.__name__}: "
                        f"{str(exc).splitlines()[0][:80] if str(exc) else 'shapes or values do not fit'})") from None


def _finite(value, what: str):
    arr = np.asarray(value, dtype=np.float64)
    if arr.size > MAX_ELEMENTS:
        raise ExprError(f"{what} has {arr.size} elements (limit {MAX_ELEMENTS})")
    if not np.all(np.isfinite(arr)):
        raise ExprError(f"{what} is too large or undefined (overflow, division by zero, "
                        f"or log/sqrt of a negative or zero number)")
    return arr


def _eval(node: Node, env, overrides, resolve) -> np.ndarray:
    k = node.kind
    if k == "num":
        return np.asarray(overrides.get(id(node), node.value), dtype=np.float64)
    if k == "name":
        if node.text in env:
            return np.asarray(env[node.text], dtype=np.float64)
        if resolve is not None:
            found = resolve(node.text)
            if found is not None:
                return np.asarray(found, dtype=np.float64)
        if node.text in CONSTANTS:
            return np.asarray(CONSTANTS[node.text])
        raise ExprError(f"'{node.text}' has no value here; define it first (e.g. {node.text} = 0.5)")
    args = [_eval(c, env, overrides, resolve) for c in node.children]
    if k == "neg":
        return -args[0]
    if k == "pct":
        return args[0] / 100.0
    if k == "T":
        a = args[0]
        return a.reshape(1, -1) if a.ndim == 1 else a.T   # xᵀ of a vector is a row
    if k == "sum":
        out = args[0] if node.signs[0] == "+" else -args[0]
        for sign, a in zip(node.signs[1:], args[1:]):
            out = _broadcast(out, a, "+" if sign == "+" else "-")
        return _finite(out, "a sum")
    if k == "prod":
        out = args[0]
        for sign, a in zip(node.signs[1:], args[1:]):
            out = _product(out, a, sign)
        return _finite(out, "a product")
    if k == "pow":
        base, exponent = args
        if base.size == 1 and exponent.size == 1:
            b, x = float(base.reshape(-1)[0]), float(exponent.reshape(-1)[0])
            if b != 0 and abs(x) * math.log10(abs(b)) > 300:
                raise ExprError(f"power {node.children[0].text or 'x'}^{x:g} is too large to compute")
        return _finite(np.power(base, exponent), "a power")
    if k == "call":
        fn = _FN.get(node.text)
        if fn is None:
            raise ExprError(f"unknown function {node.text}()")
        try:
            return _finite(fn(*args), f"{node.text}()")
        except TypeError:
            raise ExprError(f"{node.text}() takes a different number of arguments") from None
    if k == "vec":
        shapes = {a.shape for a in args}
        if len(shapes) != 1:
            raise ExprError("rows of a matrix must have the same length")
        return _finite(np.stack(args), "a vector")
    if k == "index":
        arr = args[0]
        idx = tuple(node.signs)
        if arr.ndim < len(idx) or any(not 0 <= i < n for i, n in zip(idx, arr.shape)):
            raise ExprError(f"index {list(idx)} is outside a value of shape {arr.shape} "
                            f"(indices start at 0)")
        return np.asarray(arr[idx])
    raise ExprError(f"cannot compute a '{k}' node")


def _broadcast(a, b, op):
    if a.shape != b.shape and a.ndim and b.ndim and a.size == b.size and \
            max(a.shape) == a.size and max(b.shape) == b.size:
        a, b = a.reshape(-1), b.reshape(-1)           # a column and a flat vector of one length
    if a.shape != b.shape and a.ndim and b.ndim:
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise ExprError(f"cannot add values of shapes {a.shape} and {b.shape}") from None
    return a + b if op == "+" else a - b


def _product(a, b, op):
    """× and · between arrays: a scalar scales, W·x is a matrix product, u·v a dot product, ⊙ elementwise."""
    if op == "/":
        return a / b
    if op == "⊙" or a.ndim == 0 or b.ndim == 0:
        if a.shape != b.shape and a.ndim and b.ndim:
            if a.size == b.size and max(a.shape) == a.size and max(b.shape) == b.size:
                return a.reshape(-1) * b.reshape(-1)   # a column and a flat vector of one length
            raise ExprError(f"elementwise product of shapes {a.shape} and {b.shape} does not fit")
        return a * b
    if a.ndim == 1 and b.ndim == 2 and b.shape[0] == 1:
        return np.outer(a, b[0])                      # δ·xᵀ: column times row
    if a.ndim == 1 and b.ndim == 1:
        if a.shape != b.shape:
            raise ExprError(f"dot product of vectors of lengths {a.size} and {b.size}")
        return np.asarray(np.dot(a, b))
    try:
        return np.matmul(a, b)
    except ValueError:
        raise ExprError(f"cannot multiply shapes {a.shape} and {b.shape}; for W·x the columns "
                        f"of W must match the length of x") from None
