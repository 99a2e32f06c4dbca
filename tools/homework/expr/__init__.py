"""The safe expression reader: tokens -> a Pratt parser -> float64 evaluation, never eval."""
from nn_tutor.tools.homework.expr.evaluate import CONSTANTS, MAX_ELEMENTS, evaluate
from nn_tutor.tools.homework.expr.parser import FUNCTIONS, MAX_DEPTH, Node, Parser, literals, names, parse
from nn_tutor.tools.homework.expr.tokens import FRACTIONS, MAX_CHARS, MAX_TOKENS, ExprError, Token, tokenize

__all__ = ["CONSTANTS", "FRACTIONS", "FUNCTIONS", "MAX_CHARS", "MAX_DEPTH", "MAX_ELEMENTS", "MAX_TOKENS", "ExprError",
           "Node", "Parser", "Token", "evaluate", "literals", "names", "parse", "tokenize"]
