"""Number and array formatting shared by every renderer, so a value looks the same everywhere."""
from __future__ import annotations

import numpy as np

MAX_INLINE = 36  # arrays with more elements than this are summarised by shape in substituted formulas


def fmt_num(x: float, precision: int = 4) -> str:
    """Format one number with `precision` decimals, trailing zeros dropped (0.1500 -> 0.15, 2.0 -> 2)."""
    x = float(x)
    if np.isnan(x):
        return "nan"
    if np.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x != 0 and abs(x) < 0.5 * 10.0 ** (-precision):
        return f"{x:.{max(precision - 1, 1)}e}"
    if abs(x) >= 1e12:
        return f"{x:.{precision}e}"
    text = f"{x:.{precision}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def fmt_array(value, precision: int = 4, limit: int | None = MAX_INLINE) -> str:
    """Format a scalar, vector or matrix as nested brackets; large arrays become '[shape array]'."""
    a = np.asarray(value)
    if a.ndim == 0:
        return fmt_num(a, precision)
    if limit is not None and a.size > limit:
        return "[" + "×".join(str(s) for s in a.shape) + " array]"
    if a.ndim == 1:
        return "[" + ", ".join(fmt_num(v, precision) for v in a) + "]"
    return "[" + ", ".join(fmt_array(row, precision, None) for row in a) + "]"


def shape_text(value) -> str:
    """Shape as the course writes it: '()' for a scalar, '(2,)' for a vector, '(2, 3)' for a matrix."""
    return str(tuple(np.shape(value)))


def fmt_term(x: float, precision: int = 4) -> str:
    """A number as an operand inside a written-out sum or product: negatives in brackets, 0.5×(-0.03)."""
    text = fmt_num(x, precision)
    return f"({text})" if text.startswith("-") else text
