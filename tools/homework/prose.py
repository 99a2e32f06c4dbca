"""Arithmetic written in words -> symbols: `0.3 times 0 plus 0.5 times 1.75, which is 0.625`.

A name followed by `is` / `becomes` and a number (`delta_o1 is about 0.1088`) states that name's value.

Only words between two pieces of maths are rewritten (`times`, `plus`, `minus`, `divided by`,
`over`, `squared`), and `which is`, `gives`, `equals`, `comes to` become `=` only after an
expression and before a number, so prose such as "the error is 0.2" stays prose.
"""
from __future__ import annotations

import re

from nn_tutor.tools.homework.notation import Line

_NUM = r"\(?[-−]?\(?\d"
_OPERATORS = [
    (re.compile(rf"(?<=[\d)])\s+(?:times|multiplied by)\s+(?={_NUM})"), " × "),
    (re.compile(rf"(?<=[\d)])\s+plus\s+(?={_NUM})"), " + "),
    (re.compile(rf"(?<=[\d)])\s+minus\s+(?={_NUM})"), " − "),
    (re.compile(rf"(?<=[\d)])\s+(?:divided by|over)\s+(?={_NUM})"), " / "),
    (re.compile(rf"(?<=\d/\d)\s+of\s+(?={_NUM})"), " × "),                  # 2/5 of -79.8
    (re.compile(r"(?<=[\d)])\s+squared\b"), "²"),
]
_RESULT = re.compile(r"(?<=[\d)²])\s*,?\s+(?:which\s+(?:is|gives|comes\s+to|makes)|that\s+is|i\.\s?e\.,?|gives|giving|equals|"
                     r"comes\s+to|makes|is)(?:\s+(?:about|roughly|approximately|around|exactly))?\s+"
                     rf"(?={_NUM})")


_NAMED = re.compile(r"(?<![\w.])((?:[A-Za-zα-ωΑ-Ωŷ][\wŷðΛ']*?(?:\d|_[\wŷ]+)|[δηŷσ][\wŷ]*|d[A-Za-z]\w*ðd\w+|"
                    r"(?-i:[bcf-hj-zB-HJ-Z])(?=\s)))\s+"      # (not a, d, e, i, I: words or too many meanings)
                    r"(?:is|was|becomes|equals|comes\s+to|gets)(?:\s+(?:about|roughly|approximately|around|now|then))?"
                    rf"\s+(?={_NUM})")


_VALUE = r"[(\[]?\s*[-−]?\d"         # a number or a vector
_SYMBOL = r"[A-Za-zα-ωŷ](?:[\wŷ']*\d[\wŷ']*|_[\wŷ']+)?"    # v1, w_5, p, ŷ, b2' (not a word)
_IS = r"(?:\s+(?:it\s+)?(?:is|was|equals|comes\s+to|becomes)|\s*[:=])(?:\s+(?:about|roughly|approximately))?\s*"
_GRADIENT_OF = re.compile(
    r"\b(?:gradient|derivative|partial(?:\s+derivative)?|slope)(?:\s+of\s+(?:the\s+)?(?:loss|error|cost|[LEJC]))?"
    rf"\s+(?:for|of|on|with\s+respect\s+to|w\.?\s?r\.?\s?t\.?)\s+(?:the\s+)?({_SYMBOL}|prediction|output)\b{_IS}"
    rf"(?={_VALUE})", re.IGNORECASE)
_FOR_NEXT = re.compile(rf"((?:,|;)\s+(?:and\s+)?|\s+and\s+|(?:^|[.:]\s+))(?:for|on)\s+(?:the\s+)?({_SYMBOL})\b"
                       rf"(?:\s+(?:that|this))?{_IS}(?={_VALUE}|\()", re.IGNORECASE)


def _gradient_names(line: Line) -> Line:
    """`the gradient for v1 is …`, `the derivative with respect to p is …` -> `∂L/∂v1 = …`; after
    the gradient is spoken of, `…, for v2 it is …` and `For w1 that is …` name the next gradients."""
    def named(m: re.Match) -> list:
        symbol = m.group(1)
        return ["dLðd", "ŷ" if symbol.lower() in ("prediction", "output") else m.span(1), " = "]

    first = re.search(r"(?i)gradient|derivative|partial|slope", line.text).start()    # (the text before it stays)
    out = line.sub(_GRADIENT_OF, named)
    return out.sub(_FOR_NEXT, lambda m: [m.span(1), "dLðd", m.span(2), " = "] if first < m.start()
                   else [m.span(0)])


_CONTRACTION = re.compile(r"(?i)\b(it|that|what|here|there|which|this)['’]s\b")


def word_arithmetic(line: Line) -> Line:
    """The line with arithmetic words between numbers written as symbols (columns kept)."""
    line = line.sub(_CONTRACTION, lambda m: [m.span(1), " is"])        # it's -0.6 times …: no name `s`
    if re.search(r"\b(times|multiplied|plus|minus|divided|over|squared|of)\b", line.text):
        for pattern, symbol in _OPERATORS:
            line = line.sub(pattern, symbol)
    if re.search(r"(?i)gradient|derivative|partial|slope", line.text):
        line = _gradient_names(line)
    line = line.sub(_NAMED, lambda m: [m.span(1), " = "])
    return line.sub(_RESULT, lambda m: " = " if _after_arithmetic(line.text, m.start()) else [m.group(0)])


def _after_arithmetic(text: str, end: int) -> bool:
    """The clause before `end` computes something: an operator between two numbers, a power, or a
    function of a number (`e^(-0.3)`, `σ(0.585)`, `exp(1.2)`)."""
    start = max(text.rfind(ch, 0, end) for ch in ",;:")
    clause = text[start + 1:end]
    return bool(re.search(r"[\d)]\s*[-−+×*·/^²]\s*[-−(]?\s*[\d(]|²|\^\s*[-−(]*\s*\d|"
                          r"(?:σ|sigmoid|tanh|relu|exp|ln|log|sqrt|√)\s*\(\s*[-−]?\s*\d", clause, re.IGNORECASE))
