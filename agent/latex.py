"""The engine's notation (σ, ∂L/∂W₂, a1ᵀ, e^(−z), ½·Σ_k …) as LaTeX, for exports and notebooks.

`math(text)` turns a formula into LaTeX maths (fractions as \\frac, subscripts, \\sigma, \\partial,
words as \\text), `prose(text)` turns a sentence with maths in it into LaTeX text with the maths in
$…$, and `array(value)` writes numbers as bmatrix. The output is plain ASCII, so pdflatex compiles
it with no unicode support at all. Formulas are read by a small tokenizer; nothing is evaluated.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from nn_tutor.engine.numfmt import fmt_num

SYMBOLS = {
    "·": r"\cdot", "×": r"\times", "⊙": r"\odot", "⊗": r"\otimes", "⋆": r"\star", "−": "-", "*": r"\cdot",
    "±": r"\pm", "≥": r"\geq", "≤": r"\leq", "≈": r"\approx", "≠": r"\neq", "←": r"\leftarrow",
    "→": r"\to", "…": r"\ldots", "∞": r"\infty", "∈": r"\in", "∇": r"\nabla", "‖": r"\|",
    "⌈": r"\lceil", "⌉": r"\rceil", "⌊": r"\lfloor", "⌋": r"\rfloor", "½": r"\tfrac{1}{2}",
    "#": r"\#", "%": r"\%", "&": r"\&", "$": r"\$", "~": r"\sim", "\\": r"\backslash", "√": r"\surd",
    "Σ": r"\sum", "∂": r"\partial", "'": "'", '"': "''", "°": r"^{\circ}", "⋅": r"\cdot",
}
GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta", "η": "eta",
    "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu", "ξ": "xi", "π": "pi",
    "ρ": "rho", "σ": "sigma", "τ": "tau", "υ": "upsilon", "φ": "phi", "χ": "chi", "ψ": "psi",
    "ω": "omega", "Γ": "Gamma", "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi", "Π": "Pi",
    "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega",
}
LETTERS = {**{k: "\\" + v for k, v in GREEK.items()}, "ŷ": r"\hat{y}", "ȳ": r"\bar{y}", "x̄": r"\bar{x}"}
SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼ⁿⁱ", "0123456789+-=ni"))
SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋ᵢⱼₖ", "0123456789+-ijk"))
BUILTIN = {"ln", "log", "exp", "max", "min", "tanh", "cos", "sin", "det", "arg", "argmax"}
FUNCTIONS = {"sigmoid", "relu", "softmax", "linear", "step", "leaky_relu", "diag", "mean", "flatten",
             "reshape", "bce", "mse", "sse", "half_sse", "cross_entropy", "score", "count", "tf", "df",
             "idf", "maxpool", "avgpool", "route", "maximum"} | BUILTIN
ARTICLES = {"a", "A", "I"}  # single letters that are words when a word follows them
TEXT_SYMBOLS = {"—": "---", "–": "--", "“": "``", "”": "''", "‘": "`", "’": "'", "…": r"\ldots{}",
                "\u00a0": "~", "✓": r"$\checkmark$", "✗": r"$\times$", "•": r"$\bullet$", "│": "|",
                "─": "-", "└": "+"}

STEP_ID = r"(?:after\.)?L\d+\.[A-Za-z_]+(?:\[\d+(?:,\s*\d+)*\])*"
TOKEN = re.compile(rf"""
    (?P<step>{STEP_ID})
  | (?P<placeholder>\{{\d+\}})
  | (?P<number>\d+(?:\.\d+)?(?:e[+-]?\d+)?)
  | (?P<hyphenated>[A-Za-z]{{2,}}(?:-[A-Za-z]{{2,}})+)
  | (?P<word>[A-Za-z{''.join(LETTERS)}][A-Za-z0-9_{''.join(LETTERS)}]*(?:'[A-Za-z]+)?)
  | (?P<sup>[{''.join(SUPERSCRIPTS)}ᵀ]+)
  | (?P<sub>[{''.join(SUBSCRIPTS)}]+)
  | (?P<prime>[′']+(?![A-Za-z]))
  | (?P<space>\s+)
  | (?P<other>.)
""", re.X | re.S)
OPEN, CLOSE = "([{⁽", ")]}⁾"


@dataclass
class Atom:
    """A maths item that takes sub- and superscripts: a letter, number, name, bracket group or Σ."""

    base: str
    sub: list[str] = field(default_factory=list)
    sup: list[str] = field(default_factory=list)
    primes: int = 0
    kind: str = "atom"  # atom | group (brackets kept unless inside \frac) | text (a prose word)
    inner: str = ""     # a group's content without its brackets

    def latex(self, bare: bool = False) -> str:
        base = self.inner if bare and self.kind == "group" else self.base
        if self.kind == "text":
            base = r"\text{" + base + "}"
        if self.primes:
            base += "'" * self.primes
        if self.sub:
            base += "_{" + ",".join(self.sub) + "}"
        if self.sup:
            base += "^{" + "".join(self.sup) + "}"
        return base


def _number(text: str) -> str:
    """A number as LaTeX: 5.551e-17 -> 5.551\\times 10^{-17}."""
    if text.lstrip("-") in ("inf", "nan"):  # a masked −∞ (nothing else non-finite is shown)
        return {"inf": r"\infty", "-inf": r"-\infty"}.get(text, r"\text{NaN}")
    mantissa, _, exponent = text.lower().partition("e")
    if not exponent:
        return text
    return f"{mantissa}\\times 10^{{{int(exponent)}}}"


def escape(words: str) -> str:
    """Text-mode LaTeX for plain words: special characters escaped, unicode spelled in ASCII."""
    out = []
    for ch in words:
        if ch in "&%$#_{}":
            out.append("\\" + ch)
        elif ch in "^~\\":
            out.append({"^": r"\^{}", "~": r"\~{}", "\\": r"\textbackslash{}"}[ch])
        elif ord(ch) < 128:
            out.append(ch)
        elif ch in TEXT_SYMBOLS:
            out.append(TEXT_SYMBOLS[ch])
        elif ch in LETTERS or ch in SYMBOLS or ch in SUPERSCRIPTS or ch in SUBSCRIPTS:
            out.append(f"${math(ch)}$")
        else:
            out.append(_ascii(ch))
    return "".join(out)


def _ascii(ch: str) -> str:
    """An unknown non-ASCII character: its accent-free letter, or its code point (never raw unicode)."""
    plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
    return escape(plain) if plain else f"[U+{ord(ch):04X}]"


def _word(word: str) -> Atom:
    """A name: a function (\\operatorname), a variable with index (W2 -> W_{2}), or a prose word."""
    if word in LETTERS:
        return Atom(LETTERS[word])
    if word.lower() in FUNCTIONS and (word.islower() or word.lower() in BUILTIN):
        name = word.lower()
        return Atom("\\" + name if name in BUILTIN and name != "argmax" else
                    r"\operatorname{" + name.replace("_", r"\_") + "}")
    m = re.fullmatch(rf"([A-Za-z{''.join(LETTERS)}])(\d+)", word)
    if m:
        return Atom(_word(m.group(1)).base, [m.group(2)])
    m = re.fullmatch(rf"([A-Za-z{''.join(LETTERS)}])_([A-Za-z0-9]+)", word)
    if m:
        sub = m.group(2)
        return Atom(_word(m.group(1)).base, [sub if len(sub) == 1 or sub.isdigit() else rf"\text{{{sub}}}"])
    if len(word) == 1:
        return Atom(word)
    return Atom(escape(word), kind="text")


def _items(tokens: list[tuple[str, str]], pos: int, closer: str | None) -> tuple[list, int]:
    """Read items up to `closer` (or the end): Atoms, operators (str) and spaces (None)."""
    items: list = []
    while pos < len(tokens):
        kind, text = tokens[pos]
        pos += 1
        if closer is not None and kind == "other" and text == closer:
            return items, pos
        if kind == "space":
            items.append(None)
        elif kind == "step":
            items.append(Atom(r"\mathtt{" + text.replace("_", r"\_") + "}"))
        elif kind == "placeholder":
            items.append(Atom(_slot(text)))  # filled in by the caller (an operand's numbers)
        elif kind == "number":
            items.append(Atom(_number(text)))
        elif kind == "word":
            items.append(_word(text))
        elif kind == "hyphenated":
            items.append(Atom(escape(text), kind="text"))
        elif kind in ("sup", "sub", "prime"):
            target = _last_atom(items)
            if target is None:
                items.append(Atom("{}"))
                target = items[-1]
            if kind == "prime":
                target.primes += len(text)
            elif kind == "sub":
                target.sub.append("".join(SUBSCRIPTS[c] for c in text))
            else:
                for run in re.split("(ᵀ)", text):
                    if run:
                        target.sup.append(r"\top" if run == "ᵀ" else "".join(SUPERSCRIPTS[c] for c in run))
        elif text in OPEN:
            close = CLOSE[OPEN.index(text)]
            inner, pos = _items(tokens, pos, close)
            body = _join(inner)
            if text == "{":
                items.append(Atom("{" + body + "}", kind="group", inner=body))
            elif text == "⁽":
                target = _last_atom(items) or Atom("{}")
                target.sup.append(f"({body})")
            else:
                left, right = {"(": ("(", ")"), "[": ("[", "]")}[text]
                items.append(Atom(left + body + right, kind="group", inner=body))
        elif text in CLOSE:
            items.append(text)  # an unmatched closing bracket: kept as it is
        elif text in ("^", "_") and pos < len(tokens):
            items.append(text)
        elif text == "Σ":
            items.append(Atom(r"\sum"))
        else:
            items.append(SYMBOLS.get(text, text if ord(text) < 128 else _ascii(text)))
    return items, pos


def _slot(placeholder: str) -> str:
    """A marker for the placeholder {n} that no formula text can produce."""
    return f"\x00{placeholder[1:-1]}\x00"


def _last_atom(items: list) -> Atom | None:
    return items[-1] if items and isinstance(items[-1], Atom) else None


def _join(items: list) -> str:
    """Items -> LaTeX: scripts attached, a/b as \\frac, √ as \\sqrt, prose words as \\text."""
    items = _fractions(_partials(_attach_scripts(items)))
    out: list[str] = []
    text_run: list[str] = []
    for n, item in enumerate(items):
        plain = isinstance(item, Atom) and not (item.sub or item.sup or item.primes)
        is_text = plain and (item.kind == "text" or item.base in ARTICLES and _next_is_text(items, n))
        if item is None:
            if text_run or _next_is_text(items, n):
                text_run.append(" ")
            continue
        if is_text:
            text_run.append(item.base)
            continue
        if text_run:
            out.append(r"\text{" + "".join(text_run) + "}")
            text_run = []
        if isinstance(item, Atom) and item.kind == "group" and item.inner.startswith(r"\text{") and out:
            out.append(r"\quad ")  # a remark in brackets after a formula: (outer product)
        out.append(item.latex() if isinstance(item, Atom) else item)
    if text_run:
        out.append(r"\text{" + "".join(text_run) + "}")
    return _spaced(out)


def _next_is_text(items: list, n: int) -> bool:
    for item in items[n + 1:]:
        if item is None:
            continue
        return isinstance(item, Atom) and item.kind == "text" and not (item.sub or item.sup or item.primes)
    return False


def _spaced(parts: list[str]) -> str:
    """Concatenate, with a space where a command word would otherwise run into a letter."""
    out = ""
    for part in parts:
        if out and re.search(r"\\[A-Za-z]+$", out) and re.match(r"[A-Za-z0-9]", part):
            out += " "
        out += part
    return out


def _rewrite(items: list, rule) -> list:
    """Run `rule(items, n, out)` left to right; it appends to `out` and returns how many items it used
    (0: none, and items[n] is kept as it is)."""
    out: list = []
    n = 0
    while n < len(items):
        used = rule(items, n, out)
        if not used:
            out.append(items[n])
        n += used or 1
    return out


def _scripts_and_roots(items: list, n: int, out: list) -> int:
    """x ^ y and x _ y (written with ^ and _) become the scripts of the atom before them; √x is \\sqrt."""
    item, following = items[n], items[n + 1] if n + 1 < len(items) else None
    if item in ("^", "_") and out and isinstance(out[-1], Atom) and isinstance(following, Atom):
        (out[-1].sup if item == "^" else out[-1].sub).append(following.latex(bare=True))
        return 2
    if item == r"\surd" and isinstance(following, Atom):
        taken, used = [following], 2
        if following.base == r"\sum":  # √Σ q² takes the summand too
            k = n + 3 if n + 2 < len(items) and items[n + 2] is None else n + 2
            if k < len(items) and isinstance(items[k], Atom):
                taken.append(items[k])
                used = k - n + 1
        out.append(Atom(r"\sqrt{" + " ".join(x.latex(bare=True) for x in taken) + "}"))
        return used
    return 0


def _attach_scripts(items: list) -> list:
    return _rewrite(items, _scripts_and_roots)


def _fraction(items: list, n: int, out: list) -> int:
    """atom / atom (spaces allowed around '/') -> \\frac{atom}{atom}, brackets around a group dropped."""
    if items[n] != "/":
        return 0
    left = _pop_atom(out)
    right_at = next((k for k in range(n + 1, len(items)) if items[k] is not None), None)
    right = items[right_at] if right_at is not None else None
    if left is not None and isinstance(right, Atom):
        out.append(Atom(r"\frac{" + left.latex(bare=True) + "}{" + right.latex(bare=True) + "}"))
        return right_at - n + 1
    if left is not None:
        out.append(left)
    return 0


def _fractions(items: list) -> list:
    return _rewrite(items, _fraction)


def _pop_atom(out: list) -> Atom | None:
    """Take the atom just before a '/' (skipping spaces) off `out`; a ∂ in front joins it."""
    while out and out[-1] is None:
        out.pop()
    if not out or not isinstance(out[-1], Atom) or out[-1].kind == "text":
        return None
    atom = out.pop()
    if out and out[-1] == r"\partial":
        out.pop()
        atom = Atom(r"\partial " + atom.latex())
    elif out and isinstance(out[-1], Atom) and out[-1].kind != "text" and out[-1].base.startswith(r"\operatorname"):
        head = out.pop()
        atom = Atom(head.latex() + atom.latex())
    return atom


def _partial(items: list, n: int, out: list) -> int:
    """∂ followed by an atom is one atom (∂L), so that ∂L/∂W2 is a fraction of two atoms."""
    if items[n] == r"\partial" and n + 1 < len(items) and isinstance(items[n + 1], Atom):
        out.append(Atom(r"\partial " + items[n + 1].latex()))
        return 2
    return 0


def _partials(items: list) -> list:
    return _rewrite(items, _partial)


def _tokens(text: str) -> list[tuple[str, str]]:
    return [(m.lastgroup, m.group()) for m in TOKEN.finditer(text)]


def math(text: str, fill: dict[str, str] | None = None) -> str:
    """A formula in the engine's notation as LaTeX maths (no $ around it).

    `fill` maps placeholders such as "{0}" to LaTeX (an operand's numbers as a bmatrix).
    """
    items, _ = _items(_tokens(str(text)), 0, None)
    out = _join(items)
    for key, value in (fill or {}).items():
        out = out.replace(_slot(key), "{" + value + "}")
    return out


def prose(text: str) -> str:
    """A sentence with maths in it as LaTeX text: words escaped, each maths run set in $…$."""
    pieces = re.split(rf"({STEP_ID})", str(text))
    out = []
    for n, piece in enumerate(pieces):
        if n % 2:
            out.append(r"\texttt{" + escape(piece) + "}")
        elif piece:
            out.append(_prose_piece(piece))
    return "".join(out)


WORDISH = re.compile(r"[A-Za-z]+(?:['-][A-Za-z]+)*[.,;:!?)]*|[(\"“]*[A-Za-z]+(?:['-][A-Za-z]+)*[.,;:!?)]*")
MATHY = re.compile(rf"[{''.join(LETTERS)}{''.join(SUPERSCRIPTS)}{''.join(SUBSCRIPTS)}ᵀ′∂Σ·×⊙⊗⋆−=≈≥≤←→√½^_<>+*/|‖⌈⌉⌊⌋{{}}]"
                   r"|^[a-z]\d+\b|\b[a-z]\d+$")
NAME = re.compile(r"^[(\"“]*[A-Za-z]{2,}(?:_[A-Za-z]{2,})+[)\"”.,;:!?]*$")  # half_sse, batch_reduction: words


def _prose_piece(text: str) -> str:
    """Split on spaces; words are text, chunks with maths in them are joined into $…$ runs."""
    chunks = re.split(r"(\s+)", text)
    out: list[str] = []
    run: list[str] = []

    def flush():
        if run:
            body = "".join(run)
            spaces = body[len(body.rstrip()):]
            lead, core, trail = _split_punctuation(body.strip())
            out.append(escape(lead) + (f"${math(core)}$" if core else "") + escape(trail) + spaces)
            run.clear()

    for chunk in chunks:
        if chunk.isspace() or not chunk:
            (run if run else out).append(chunk)
            continue
        if not NAME.match(chunk) and MATHY.search(chunk) or (run and re.fullmatch(r"[\d.,()\[\]-]+|[A-Za-z][.,;:)]?", chunk)):
            run.append(chunk)
        else:
            flush()
            out.append(escape(chunk))
    flush()
    return "".join(out)


def _split_punctuation(body: str) -> tuple[str, str, str]:
    """Sentence punctuation around a maths run stays outside the $…$ ('(δ = ŷ − y).' -> '(' + … + ').')."""
    lead = re.match(r"^[(\"“]*", body).group()
    trail = re.search(r"[.,;:!?\"”]*$", body[len(lead):]).group()
    core = body[len(lead):len(body) - len(trail)]
    if lead.endswith("(") and core.endswith(")") and core.count("(") < core.count(")"):
        lead, core = lead[:-1], "(" + core
    elif core.count(")") > core.count("(") and core.endswith(")"):
        core, trail = core[:-1], ")" + trail
    return lead, core, trail


def array(value, precision: int = 4, limit: int | None = 400) -> str:
    """Numbers as LaTeX: a scalar, a column vector or a bmatrix (maps: a list of matrices).

    Over `limit` elements only the shape is written. Matrices wider than 10 columns use smallmatrix.
    """
    a = np.asarray(value, dtype=np.float64)
    if a.ndim == 0:
        return _number(fmt_num(float(a), precision))
    if limit is not None and a.size > limit:
        return r"[" + r"\times ".join(str(s) for s in a.shape) + r"\ \text{array}]"
    if a.ndim == 1:
        a = a[:, None]  # a vector is a column
    if a.ndim == 2:
        rows = [" & ".join(_number(fmt_num(float(x), precision)) for x in row) for row in a]
        if a.shape[1] > 10:
            return r"\left[\begin{smallmatrix}" + r" \\ ".join(rows) + r"\end{smallmatrix}\right]"
        return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"
    return r"\left[" + ",\\; ".join(array(part, precision, None) for part in a) + r"\right]"
