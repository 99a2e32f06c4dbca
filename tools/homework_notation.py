"""Student notation -> the reader's alphabet: LaTeX, Markdown, unicode variants and table rows.

One line at a time: `\\frac{a}{b}`, `w_{5}`, `x^{(2)}`, `∂E/∂w₅`, `ŷ`, `w⁺`, `| net_h1 | 0.3775 |`
become the plain forms the expression reader (engine.expr) and the name matcher understand.
"""
from __future__ import annotations

import re

_LATEX_WORDS = {
    r"\times": "×", r"\cdot": "·", r"\odot": "⊙", r"\circ": "⊙", r"\div": "÷", r"\approx": "≈",
    r"\sigma": "σ", r"\eta": "η", r"\alpha": "α", r"\delta": "δ", r"\Delta": "Δ", r"\partial": "∂",
    r"\theta": "θ", r"\lambda": "λ", r"\mu": "μ", r"\pi": "π", r"\ln": "ln", r"\log": "log",
    r"\exp": "exp", r"\max": "max", r"\min": "min", r"\sum": "sum", r"\top": "T", r"\prime": "'",
    r"\left": "", r"\right": "", r"\,": " ", r"\;": " ", r"\!": "", r"\quad": " ", r"\qquad": " ",
    r"\cdots": "", r"\ldots": "", r"\leftarrow": "=", r"\gets": "=", r"\to": "→", r"\tanh": "tanh",
    r"\bigl": "", r"\bigr": "", r"\Bigl": "", r"\Bigr": "", r"\big": "", r"\Big": "", r"\\": ";",
    r"\&": "", r"\%": "%", r"\lbrack": "[", r"\rbrack": "]", r"\{": "(", r"\}": ")",
}
_LATEX_RE = re.compile("|".join(re.escape(k) for k in sorted(_LATEX_WORDS, key=len, reverse=True))
                       + r"(?![A-Za-z])")
_FRAC_RE = re.compile(r"\\[dt]?frac\s*")
_FRAC_DERIV_RE = re.compile(r"\\[dt]?frac\s*\{\s*(?:\\partial|d|∂)\s*([^{}]+?)\s*\}\s*"
                            r"\{\s*(?:\\partial|d|∂)\s*([^{}]+?)\s*\}")
_WRAP_RE = re.compile(r"\\(?:text|mathrm|mathbf|mathit|operatorname|boldsymbol|bm|mathcal)\s*\{([^{}]*)\}")
_HAT_RE = re.compile(r"\\(?:hat|widehat)\s*\{?\s*y\s*\}?")
_SQRT_RE = re.compile(r"\\sqrt\s*")
_NEW_RE = re.compile(r"(?<=[\w\]])\s*(?:\^\s*\{?\s*\(?\s*(?:new|\+|\*)\s*\)?\s*\}?|⁺)")
_LAYER_RE = re.compile(r"(?<=[A-Za-zα-ωΑ-Ω])\s*(?:\^\s*\{\s*[\[(]\s*(\d{1,2})\s*[\])]\s*\}|\^\s*\[\s*(\d{1,2})\s*\]"
                       r"|⁽([¹²³⁴⁵⁶⁷⁸⁹])⁾|\^\{\s*(\d)\s*\}(?=\s*_))")
_SUPER_DIGIT = str.maketrans("¹²³⁴⁵⁶⁷⁸⁹", "123456789")
_DERIV_RE = re.compile(r"(?<![A-Za-z])(?:∂|d)\s*([A-Za-zα-ωΑ-Ωŷ][\w'ʹ′Λ]*)\s*/\s*"
                       r"(?:∂|d)\s*([A-Za-zα-ωΑ-Ωŷ][\w'ʹ′Λ]*)")
_CLASS_PROB_RE = re.compile(r"(?<!\w)([pP]|ŷ)\s*\(\s*(?:y\s*=\s*)?([A-Za-z]{2,}\w*)\s*(?:\|\s*x\s*)?\)")
_LIST_MARK_RE = re.compile(r"^\s*(?:>\s*)*(?:#+\s+|(?:\d{1,3}[.)]|[-*+•])\s+)?")
_TABLE_SEP_RE = re.compile(r"^\s*\|?\s*:?-{2,}")


def _replace_frac(s: str) -> str:
    """\\frac{a}{b} -> ((a)/(b)), nested fracs included."""
    for _ in range(50):
        m = _FRAC_RE.search(s)
        if not m:
            return s
        a, end_a = _braced(s, m.end())
        b, end_b = _braced(s, end_a)
        if a is None or b is None:
            return s[:m.start()] + s[m.end():]
        s = s[:m.start()] + f"(({a})/({b}))" + s[end_b:]
    return s


def _braced(s: str, i: int) -> tuple[str | None, int]:
    while i < len(s) and s[i] == " ":
        i += 1
    if i >= len(s):
        return None, i
    if s[i] != "{":
        return s[i], i + 1
    depth = 0
    for j in range(i, len(s)):
        depth += {"{": 1, "}": -1}.get(s[j], 0)
        if depth == 0:
            return s[i + 1:j], j + 1
    return None, i


def normalise_line(line: str) -> str:
    """One line of student text in the reader's alphabet (LaTeX, Markdown and unicode variants)."""
    s = line.replace("\t", " ").replace("\u00a0", " ")
    s = s.replace("$$", " ").replace("$", " ").replace(r"\(", " ").replace(r"\)", " ")
    s = s.replace(r"\[", " ").replace(r"\]", " ").replace("`", " ").replace("**", " ")
    s = _WRAP_RE.sub(r"\1", s)
    s = _HAT_RE.sub("ŷ", s)
    s = re.sub(r"_\{([^{}]*)\}", lambda m: "_" + m.group(1).replace(",", "").replace(" ", ""), s)
    s = _FRAC_DERIV_RE.sub(lambda m: f"∂{m.group(1).strip()}/∂{m.group(2).strip()}", s)
    s = _replace_frac(s)
    s = _SQRT_RE.sub("√", s)
    s = _LATEX_RE.sub(lambda m: _LATEX_WORDS[m.group(0)], s)
    s = s.replace("y\u0302", "ŷ").replace("ŷ", "ŷ")
    s = re.sub(r"\by_?hat\b|\by\^", "ŷ", s)
    s = _LAYER_RE.sub(lambda m: "Λ" + next(g for g in m.groups() if g).translate(_SUPER_DIGIT), s)
    s = _NEW_RE.sub("_new", s)
    s = re.sub(r"_\{([^{}]*)\}", lambda m: "_" + m.group(1).replace(",", "").replace(" ", ""), s)
    s = re.sub(r"\^\{([^{}]*)\}", r"^(\1)", s)
    s = _CLASS_PROB_RE.sub(r"\1_\2", s)   # p(dog), P(y = cat | x): the probability of a named class
    s = re.sub(r"(?i)\b(relu|sigmoid|softmax|tanh|exp|ln|log|max|min)\s*(?=\()",
               lambda m: m.group(1).lower(), s)
    s = s.replace("ReLU", "relu").replace("Relu", "relu")
    s = re.sub(r"(?<=[σ\w])\s*[′ʹ’]", "'", s)
    s = _DERIV_RE.sub(lambda m: f"d{_deriv_part(m.group(1))}ðd{_deriv_part(m.group(2))}", s)
    s = re.sub(r":=|==|←|⟵|<-", "=", s)
    return s


def _deriv_part(name: str) -> str:
    return name.replace("'", "").replace("′", "").replace("ʹ", "")


def reader_line(raw: str, header: list[str] | None = None) -> str:
    """A raw line of the text (list marker dropped, table row read as definitions) in the reader's alphabet."""
    return normalise_line(table_row(_LIST_MARK_RE.sub("", raw, count=1), header))


def table_row(line: str, header: list[str] | None = None) -> str:
    """Markdown table rows as definitions: `| net_h1 | 0.3775 |` -> `net_h1 = 0.3775`; under a
    header `| neuron | net | out |`, the row `| h1 | 0.3775 | 0.5933 |` -> `net_h1 = 0.3775; out_h1 = 0.5933`."""
    if "|" not in line or _TABLE_SEP_RE.match(line):
        return "" if _TABLE_SEP_RE.match(line) else line
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) == 2 and cells[0] and cells[1] and "=" not in cells[0]:
        return f"{cells[0]} = {cells[1]}"
    if header and len(cells) == len(header) and re.fullmatch(r"[\w₀-₉]+", cells[0] or "-"):
        defs = [f"{h}_{cells[0]} = {c}" for h, c in zip(header[1:], cells[1:])
                if c and re.fullmatch(r"[A-Za-zα-ωΑ-Ω][\w₀-₉]*", h) and "=" not in c]
        if defs:
            return "; ".join(defs)
    return "   ".join(cells)


def table_header(line: str, next_line: str) -> list[str] | None:
    """The cells of a Markdown table header (the row above a |---| separator)."""
    if "|" in line and _TABLE_SEP_RE.match(next_line or ""):
        return [c.strip() for c in line.strip().strip("|").split("|")]
    return None

