"""Parsed arithmetic -> float64 NumPy values, with any overflow or undefined value an ExprError.

`evaluate(node, env, overrides, resolve)` computes a tree from the parser; the functions
students write (σ, ReLU, exp, ln, max, softmax, σ′ ...) and the constants e and π live here.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from nn_tutor.tools.homework.expr.tokens import ExprError
from nn_tutor.engine.ops import sigmoid, softmax

if TYPE_CHECKING:
    from nn_tutor.tools.homework.expr.parser import Node

MAX_ELEMENTS = 100_000  # elements of any vector/matrix value
CONSTANTS = {"e": math.e, "pi": math.pi, "π": math.pi}


def _stable_sigmoid(x):
    return sigmoid(np.asarray(x, dtype=np.float64))


def _softmax(x):
    return softmax(np.asarray(x, dtype=np.float64), axis=None)  # over every element written


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
