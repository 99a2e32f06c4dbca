"""Student arithmetic -> tokens: numbers with the decimals shown, names, operators, brackets.

Reads what students type (`0.5(10)`, `2 × 0.3 − 1`, `e⁻²`, `½`, `w₁`, `50%`, `√2`, `Wᵀ`) into a flat
token list for the parser. Length and token-count limits keep hostile input cheap.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from nn_tutor.engine.errors import NNTError

MAX_CHARS = 20_000     # one expression (a whole line of work is far shorter)
MAX_TOKENS = 4_000


class ExprError(NNTError):
    """An expression that cannot be read or computed; the message says where and why."""


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
FRACTIONS = {"½": 0.5, "⅓": 1 / 3, "⅔": 2 / 3, "¼": 0.25, "¾": 0.75, "⅕": 0.2, "⅛": 0.125}
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
        if ch in FRACTIONS:
            tokens.append(Token("NUM", ch, i, FRACTIONS[ch], 6, space))
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

