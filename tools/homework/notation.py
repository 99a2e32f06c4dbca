"""Student notation -> the reader's alphabet, one line at a time, remembering where each character was.

LaTeX (`\\frac{a}{b}`, `w_{5}`, `z^{(2)}_1`, `\\hat{y}`, `bmatrix`), unicode (`w₅`, `ŷ`, `e⁻⁰·⁶`, `∂E/∂w₅`),
updated values (`w5+`, `w5'`, `w1(new)`, `W^{new}`) and decimal commas become the plain forms the
expression reader and the name matcher understand. Every character of the result keeps the column
of the raw character it came from, so a number read later is reported where the student wrote it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Line:
    """Text in the reader's alphabet, with each character's 0-based column in the raw line."""

    text: str
    cols: tuple[int, ...]

    @classmethod
    def raw(cls, text: str) -> "Line":
        return cls(text, tuple(range(len(text))))

    def col(self, pos: int) -> int:
        """The raw column of position `pos` of the text (the end maps past the last character)."""
        if not self.cols:
            return 0
        return self.cols[pos] if 0 <= pos < len(self.cols) else self.cols[-1] + 1

    def splice(self, start: int, end: int, pieces: list) -> "Line":
        """Replace text[start:end] by pieces: a str is new text (at the column of `start`), a
        (a, b) pair keeps text[a:b] with its own columns."""
        text, cols = [self.text[:start]], list(self.cols[:start])
        here = self.col(start)
        for piece in pieces:
            if isinstance(piece, str):
                text.append(piece)
                cols.extend([here] * len(piece))
            else:
                a, b = piece
                text.append(self.text[a:b])
                cols.extend(self.cols[a:b])
        text.append(self.text[end:])
        cols.extend(self.cols[end:])
        return Line("".join(text), tuple(cols))

    def sub(self, pattern: re.Pattern, repl) -> "Line":
        """re.sub that keeps columns: `repl(match)` returns pieces for splice (or a plain str)."""
        out, shift = self, 0
        for m in pattern.finditer(self.text):
            pieces = repl(m) if callable(repl) else repl
            if isinstance(pieces, str):
                pieces = [pieces]
            pieces = [(p[0] + shift, p[1] + shift) if isinstance(p, tuple) else p for p in pieces]
            before = len(out.text)
            out = out.splice(m.start() + shift, m.end() + shift, pieces)
            shift += len(out.text) - before
        return out

    def replace(self, old: str, new: str) -> "Line":
        return self.sub(re.compile(re.escape(old)), new) if old in self.text else self


def group(m: re.Match, i: int) -> tuple[int, int]:
    """The span of group i, as a splice piece that keeps its columns."""
    return m.span(i)


_LATEX_WORDS = {
    r"\times": "×", r"\cdot": "·", r"\odot": "⊙", r"\circ": "⊙", r"\div": "÷", r"\approx": "≈",
    r"\sigma": "σ", r"\eta": "η", r"\alpha": "α", r"\delta": "δ", r"\Delta": "Δ", r"\partial": "∂",
    r"\theta": "θ", r"\lambda": "λ", r"\mu": "μ", r"\pi": "π", r"\ln": "ln", r"\log": "log",
    r"\exp": "exp", r"\max": "max", r"\min": "min", r"\sum": "sum", r"\top": "T", r"\prime": "'",
    r"\left": "", r"\right": "", r"\,": " ", r"\;": " ", r"\:": " ", r"\!": "", r"\ ": " ",
    r"\cdots": "", r"\ldots": "", r"\dots": "", r"\leftarrow": "=", r"\gets": "=", r"\to": "→",
    r"\rightarrow": "→", r"\Rightarrow": "→", r"\implies": "→", r"\tanh": "tanh",
    r"\bigl": "", r"\bigr": "", r"\Bigl": "", r"\Bigr": "", r"\big": "", r"\Big": "",
    r"\&": "", r"\%": "%", r"\lbrack": "[", r"\rbrack": "]", r"\{": "(", r"\}": ")",
    r"\ell": "L", r"\varepsilon": "ε", r"\epsilon": "ε", r"\nabla": "∇",
    r"\hline": "", r"\displaystyle": "", r"\textstyle": "", r"\neq": "≠", r"\ne": "≠",
    r"\geq": "≥", r"\leq": "≤", r"\ge": "≥", r"\le": "≤", r"\mid": "|", r"\vert": "|",
    r"\cdotp": "·", r"\ast": "*", r"\star": "*", r"\phi": "φ", r"\omega": "ω",
}
_LATEX_RE = re.compile("|".join(re.escape(k) for k in sorted(_LATEX_WORDS, key=len, reverse=True))
                       + r"(?![A-Za-z])")
_QUAD_RE = re.compile(r",?\s*\\q?quad\b\s*(?:\\text\{\s*(?:and|,)?\s*\}\s*(?:\\q?quad)?)?|\\text\{\s*and\s*\}")
_MATRIX_RE = re.compile(r"\\begin\{[pbBvV]?matrix\}(.*?)\\end\{[pbBvV]?matrix\}")
_FRAC_RE = re.compile(r"\\[dt]?frac\s*")
_FRAC_DERIV_RE = re.compile(r"\\[dt]?frac\s*\{\s*(?:\\partial|d|∂)\s*([^{}]+?)\s*\}\s*"
                            r"\{\s*(?:\\partial|d|∂)\s*([^{}]+?)\s*\}")
_WRAP_RE = re.compile(r"\\(?:text|mathrm|mathbf|mathit|operatorname|boldsymbol|bm|mathsf|textbf|emph|mathcal)\s*\{([^{}]*)\}")
_HAT_RE = re.compile(r"\\(?:hat|widehat)\s*\{?\s*y\s*\}?")
_SQRT_RE = re.compile(r"\\sqrt\s*")
_SUBSCRIPT_RE = re.compile(r"_\{([^{}]*)\}")
_NEW_RE = re.compile(r"(?<=[\w\]])\s*(?:\^\s*\{?\s*\(?\s*(?:new|\+|\*)\s*\)?\s*\}?|⁺|\s?\(\s*(?:new|neu)\s*\)|_\{?new\}?"
                     r"|\+(?=\s*[=≈])|\s(?:new|neu|nouveau|nouvelle|nuevo|nueva)(?=\s*[=≈:]))")   # (German, French: neu, nouveau)
_PRIME_NEW_RE = re.compile(r"(?<![A-Za-z])((?:[wWbBvuc]|[A-Za-z]{1,3}_?)(?:\d{1,2}|[₀-₉]{1,2})|[wbWBvuc])[′ʹ’'](?!\s*\()")
# a layer written as a superscript: ^{(1)}, ^{[2]}, ^(1), ^[2], ⁽¹⁾ (three groups, one of them set)
_LAYER_MARK = r"\^\s*\{\s*[\[(]\s*(\d{1,2})\s*[\])]\s*\}|\^\s*[\[(]\s*(\d{1,2})\s*[\])]|⁽([¹²³⁴⁵⁶⁷⁸⁹])⁾"
_LAYER_RE = re.compile(rf"(?<=[A-Za-zα-ωΑ-Ωŷ])\s*(?:{_LAYER_MARK}|\^\{{\s*(\d)\s*\}}(?=\s*_))")
_SUPER_DIGIT = str.maketrans("¹²³⁴⁵⁶⁷⁸⁹", "123456789")
_SUB_DIGIT = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
# a layer mark after the subscript (w₁₁⁽¹⁾, z_2^{(1)}): the same as before it (zΛ1_2)
_SUB_LAYER_RE = re.compile(r"(?<=[A-Za-zα-ωΑ-Ωŷ])(?:_\{\s*([0-9a-z, ]{1,5})\s*\}|_([0-9a-z]{1,3})|([₀-₉]{1,3}))\s*"
                           rf"(?:{_LAYER_MARK})")


def _layer_after_subscript(m: re.Match) -> list:
    sub = next(g for g in m.groups()[:3] if g).translate(_SUB_DIGIT).replace(",", "").replace(" ", "")
    return ["Λ" + next(g for g in m.groups()[3:] if g).translate(_SUPER_DIGIT) + "_" + sub]
_SUPER_DECIMAL_RE = re.compile(r"([⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+)[·.˙]([⁰¹²³⁴⁵⁶⁷⁸⁹]+)")
_SUPER_PLAIN = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_DERIV_RE = re.compile(r"(?<![A-Za-z])(?:∂|d)\s*([A-Za-zα-ωΑ-Ωŷ][\w'ʹ′Λ]*)\s*/\s*"
                       r"(?:∂|d)\s*([A-Za-zα-ωΑ-Ωŷ][\w'ʹ′Λ]*)")
_CLASS_PROB_RE = re.compile(r"(?<!\w)([pP]|ŷ)\s*\(\s*(?:y\s*=\s*)?([A-Za-z]{2,}\w*)\s*(?:\|\s*x\s*)?\)")
_FUNC_CASE_RE = re.compile(r"(?i)\b(relu|sigmoid|softmax|tanh|exp|ln|log|max|min)\s*(?=\()")
_ASSIGN_RE = re.compile(r":=|==|←|⟵|<-|⇐")
_UPDATE_ASSIGN_RE = re.compile(r"(?:^|(?<=[\s,;:(]))([A-Za-zα-ωΑ-Ωθ][\w']*)\s*(?:←|⟵|<-)")
_TIMES_X_RE = re.compile(r"(?<=[\d)])\s+[x×X]\s+(?=[\d(])")
_ARROW_RE = re.compile(r"-+>|=>|⟹|⇒")                  # `z = 0.3 -> a = 0.57`: then, not a comparison
_UPDATE_ARROW_RE = re.compile(r"(?:^|(?<=[\s,;:]))([A-Za-zα-ωΑ-Ωθ][\w']*)\s*→\s*(?=[-−(]?\s*\.?\d)")
_COMPARE_RE = re.compile(r">=|<=|=<|!=")
_COMPARISONS = {">=": "≥", "<=": "≤", "=<": "≤", "!=": "≠"}
_DECIMAL_COMMA_RE = re.compile(r"(?<![\d.,])(\d+),(\d+)(?![\d,])")


def _replace_frac(line: Line) -> Line:
    """\\frac{a}{b} -> ((a)/(b)), nested fracs included, keeping the columns of a and b."""
    for _ in range(50):
        m = _FRAC_RE.search(line.text)
        if not m:
            return line
        a = _braced(line.text, m.end())
        b = _braced(line.text, a[2]) if a else None
        if a is None or b is None:
            return line.splice(m.start(), m.end(), [])
        line = line.splice(m.start(), b[2], ["((", (a[0], a[1]), ")/(", (b[0], b[1]), "))"])
    return line


def _braced(s: str, i: int) -> tuple[int, int, int] | None:
    """(start, end, after) of the {group} or single character at s[i:] (start/end exclude braces)."""
    while i < len(s) and s[i] == " ":
        i += 1
    if i >= len(s):
        return None
    if s[i] != "{":
        return i, i + 1, i + 1
    depth = 0
    for j in range(i, len(s)):
        depth += {"{": 1, "}": -1}.get(s[j], 0)
        if depth == 0:
            return i + 1, j, j + 1
    return None


def _matrix(m: re.Match) -> list:
    """A LaTeX matrix body `a & b \\\\ c & d` -> [[a, b], [c, d]] (a column vector -> [a, b])."""
    body_start = m.start(1)
    rows = []
    for rm in re.finditer(r"(?:[^\\]|\\(?!\\))+", m.group(1)):
        cells = []
        for cm in re.finditer(r"[^&]+", rm.group(0)):
            if cm.group(0).strip():
                a = body_start + rm.start() + cm.start()
                cells.append((a, a + len(cm.group(0))))
        if cells:
            rows.append(cells)
    if not rows:
        return []
    if all(len(r) == 1 for r in rows) and len(rows) > 1:
        rows = [[r[0] for r in rows]]     # a column vector reads as a plain vector
        return ["["] + _join(rows[0]) + ["]"]
    if len(rows) == 1:
        return ["["] + _join(rows[0]) + ["]"]
    out = ["["]
    for k, r in enumerate(rows):
        out += (["["] if k == 0 else [", ["]) + _join(r) + ["]"]
    return out + ["]"]


def _join(cells: list) -> list:
    out = []
    for k, c in enumerate(cells):
        if k:
            out.append(", ")
        out.append(c)
    return out


def normalise(raw: str, decimal_comma: bool = False) -> Line:
    """One raw line in the reader's alphabet, with columns back into the raw line."""
    line = Line.raw(raw)
    for old, new in (("\t", " "), ("\u00a0", " "), ("$$", " "), ("$", " "), (r"\(", " "), (r"\)", " "),
                     (r"\[", " "), (r"\]", " "), ("`", " "), ("**", " "), ("\\\\*", ""),
                     ("ℒ", "L"), ("𝓛", "L"), ("ℓ", "L"), ("ℰ", "E"), ("𝒥", "J")):       # script letters
        line = line.replace(old, new)
    if decimal_comma:
        line = line.sub(_DECIMAL_COMMA_RE, lambda m: [group(m, 1), ".", group(m, 2)])
    line = line.sub(_MATRIX_RE, _matrix)
    line = line.sub(_QUAD_RE, " ; ")
    line = line.sub(_WRAP_RE, lambda m: [group(m, 1)])
    line = line.sub(_HAT_RE, "ŷ")
    line = line.sub(_SUB_LAYER_RE, _layer_after_subscript)
    line = line.sub(_LAYER_RE, lambda m: ["Λ" + next(g for g in m.groups() if g).translate(_SUPER_DIGIT)])
    line = line.sub(_SUBSCRIPT_RE, lambda m: ["_" + m.group(1).replace(",", "").replace(" ", "")])
    line = line.sub(_FRAC_DERIV_RE, lambda m: ["∂", group(m, 1), "/∂", group(m, 2)])
    line = _replace_frac(line)
    line = line.sub(_SQRT_RE, "√")
    line = line.sub(_LATEX_RE, lambda m: [_LATEX_WORDS[m.group(0)]])
    line = line.replace("\\\\", " ")
    line = line.replace("&", " ")
    line = line.replace("y\u0302", "ŷ")
    line = line.sub(re.compile(r"\by_?hat\b|\by\^(?![\d({\-−])"), "ŷ")
    line = line.sub(_SUPER_DECIMAL_RE, lambda m: ["^(" + m.group(1).translate(_SUPER_PLAIN) + "."
                                                  + m.group(2).translate(_SUPER_PLAIN) + ")"])
    line = line.sub(_LAYER_RE, lambda m: ["Λ" + next(g for g in m.groups() if g).translate(_SUPER_DIGIT)])
    line = line.sub(_NEW_RE, "_new")
    line = line.sub(_PRIME_NEW_RE, lambda m: [group(m, 1), "_new"])
    line = line.sub(_SUBSCRIPT_RE, lambda m: ["_" + m.group(1).replace(",", "").replace(" ", "")])
    line = line.sub(re.compile(r"\^\{([^{}]*)\}"), lambda m: ["^(", group(m, 1), ")"])
    line = line.sub(_CLASS_PROB_RE, lambda m: [group(m, 1), "_", group(m, 2)])
    line = line.sub(_FUNC_CASE_RE, lambda m: [m.group(1).lower()])
    line = line.replace("ReLU", "relu").replace("Relu", "relu")
    line = line.sub(re.compile(r"(?<=[σ\w])\s*[′ʹ’]"), "'")
    line = line.sub(_DERIV_RE, lambda m: ["d" + _deriv_part(m.group(1)) + "ðd" + _deriv_part(m.group(2))])
    line = line.sub(_TIMES_X_RE, " × ")                                  # 0.5 x 10: x typed for times
    line = line.sub(_ARROW_RE, "→")
    line = line.sub(_UPDATE_ARROW_RE, lambda m: [group(m, 1), "_new = "])   # `w₁₁ → 0.388`: its new value
    line = line.sub(_COMPARE_RE, lambda m: [_COMPARISONS[m.group(0)]])   # z >= 0 is a condition, not an equation
    line = line.sub(_UPDATE_ASSIGN_RE, lambda m: [group(m, 1), "_new ="])    # `v <- …`: v's new value
    line = line.sub(_ASSIGN_RE, "=")
    return line


def _deriv_part(name: str) -> str:
    return name.replace("'", "").replace("′", "").replace("ʹ", "")


def normalise_line(line: str) -> str:
    """The text of one line in the reader's alphabet (without the columns)."""
    return normalise(line).text


def uses_decimal_comma(text: str) -> bool:
    """True when the work writes decimals with a comma (0,25) and never with a point (0.25); a pair
    of whole numbers in brackets, `(1,0)`, is a pair."""
    text = re.sub(r"[(\[]\s*[-−]?\d+,[-−]?\d+\s*[)\]]", " ", text)
    commas = len(re.findall(r"(?<![\d.,])\d+,\d+(?![\d,])", text))
    points = len(re.findall(r"(?<![\d.])\d+\.\d+", text))
    spaced = len(re.findall(r"\d, \d", text))
    return commas >= 2 and points == 0 and commas > spaced
