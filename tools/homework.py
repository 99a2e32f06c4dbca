"""Written work -> checked claims: normalise the text, read its arithmetic chains, judge every link.

`check_text(text, spec=None)` is the library entry point (the chat agent and `nnt check` use it).
Without a spec, every chain `a = b + c = d` is checked link by link against a symbol table built
from the text's own definitions and results (errors carried forward, not punished twice). With a
spec, claimed values are also aligned to engine steps by the names students use (net_h1, out_h1,
z₁[0], ŷ, L, δ₂, ∂L/∂w₅, w₅_new) and judged against the true value and a recomputation from the
student's own earlier numbers. Verdicts come from code only; instructions in the text are text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from engine.errors import NNTError
from engine.expr import (CONSTANTS, FUNCTIONS, ExprError, Node, Parser, Token, evaluate, literals, names,
                         tokenize)
from engine.verify import (Claim, CheckReport, close, half_unit, judge_step, link_verdict,
                           override_tolerance, value_tolerance)

MAX_TEXT = 200_000     # characters of homework read at once
MAX_LINE = 4_000
MAX_SPREAD_TERMS = 40  # numbers perturbed one by one to measure rounding spread

# --- normalisation ----------------------------------------------------------------------------

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
    s = re.sub(r"(?i)\b(relu|sigmoid|softmax|tanh|exp|ln|log|max|min)\s*(?=\()",
               lambda m: m.group(1).lower(), s)
    s = s.replace("ReLU", "relu").replace("Relu", "relu")
    s = re.sub(r"(?<=[σ\w])\s*[′ʹ’]", "'", s)
    s = _DERIV_RE.sub(lambda m: f"d{_deriv_part(m.group(1))}ðd{_deriv_part(m.group(2))}", s)
    s = re.sub(r":=|==|←|⟵|<-", "=", s)
    return s


def _deriv_part(name: str) -> str:
    return name.replace("'", "").replace("′", "").replace("ʹ", "")


def _table_row(line: str, header: list[str] | None = None) -> str:
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


def _table_header(line: str, next_line: str) -> list[str] | None:
    """The cells of a Markdown table header (the row above a |---| separator)."""
    if "|" in line and _TABLE_SEP_RE.match(next_line or ""):
        return [c.strip() for c in line.strip().strip("|").split("|")]
    return None


# --- reading chains -----------------------------------------------------------------------------

_KNOWN_WORDS = {"loss", "cost", "error", "target", "eta", "alpha", "delta", "sigma", "out", "net",
                "yhat", "lr", "total", "new", "output", "pred", "grad", "relu", "softmax", "Etotal",
                "ŷ", "δ", "η", "α", "λ", "μ", "θ"}


@dataclass
class Part:
    """One side of an equals sign: its text and its parsed expression."""

    text: str
    node: Node
    line: int


@dataclass
class Chain:
    """`label = part0 = part1 = ...` on one line (or continued over consecutive lines)."""

    line: int
    label: str | None
    index: tuple | None
    parts: list[Part] = field(default_factory=list)
    text: str = ""


def _is_prose(tok: Token, known: set[str], nxt: Token | None = None) -> bool:
    if tok.kind != "NAME":
        return tok.kind == "OTHER"
    t = tok.text
    if t in FUNCTIONS and len(t) > 1 and not (nxt is not None and (
            nxt.kind == "LP" or (nxt.kind == "OP" and nxt.text == "'") or
            (t in ("exp", "ln", "log", "sqrt") and nxt.kind in ("NUM", "NAME")))):
        return canon(t) not in known  # 'ReLU map', 'the sigmoid output': a word, not a call
    if t in FUNCTIONS or t in CONSTANTS or canon(t) in known:
        return False
    if any(ch.isdigit() or ch in "_Λð'" for ch in t):
        return False
    return len(t) >= 2


_ELLIPSIS = {"…", "⋯"}


def _split_clauses(tokens: list[Token], known: set[str]) -> list[list[Token]]:
    """Cut a line into clauses at prose words, punctuation and top-level commas.

    An equation elided with an ellipsis (`0.1×0.5 + … + 0.2 = 1.3`) cannot be checked: the
    clauses on both sides of the ellipsis are dropped.
    """
    clauses, cur, depth = [], [], 0
    toks = tokens[:-1]
    broken: set[int] = set()
    for k, tok in enumerate(toks):
        nxt = toks[k + 1] if k + 1 < len(toks) else None
        if tok.kind == "OTHER" and (tok.text in _ELLIPSIS or (
                tok.text == "." and nxt is not None and nxt.text == "." and nxt.kind == "OTHER")):
            broken.update({len(clauses), len(clauses) + 1})
        if tok.kind == "NAME" and tok.text in ("x", "X") and cur and cur[-1].kind in ("NUM", "RP") \
                and nxt is not None and nxt.kind in ("NUM", "LP") and "x" not in known:
            cur.append(Token("OP", "*", tok.pos, space_before=tok.space_before))  # 0.5 x 10
            continue
        if _is_prose(tok, known, nxt):
            label_next = nxt is not None and nxt.kind == "EQ" and tok.kind == "NAME"
            clauses.append(cur)
            cur, depth = ([tok] if label_next else []), 0
            continue
        if tok.kind in ("COMMA", "SEMI") and depth == 0:
            clauses.append(cur)
            cur = []
            continue
        if tok.kind in ("LP", "LB"):
            depth += 1
        elif tok.kind in ("RP", "RB"):
            depth = max(depth - 1, 0)
        cur.append(tok)
    clauses.append(cur)
    return [c for i, c in enumerate(clauses) if i not in broken and any(t.kind == "EQ" for t in c)]


def _parse_tokens(toks: list[Token], prefix_ok: bool) -> tuple[Node | None, int]:
    """Parse a token run; with prefix_ok the longest readable start is taken (trailing words or
    brackets such as `(about 2.85%` are left out, a dangling operator is not)."""
    if not toks:
        return None, 0
    node, used = _parse_run(toks)
    if node is not None and used == len(toks):
        return node, used
    if not prefix_ok:
        return None, 0
    for cut in range(len(toks) - 1, max(len(toks) - 8, 0), -1):
        if toks[cut].kind == "OP" and toks[cut].text in "+-*/^⊙@":
            continue
        node, used = _parse_run(toks[:cut])
        if node is not None and used == cut:
            return node, used
    return None, 0


def _parse_run(toks: list[Token]) -> tuple[Node | None, int]:
    end = Token("END", "", toks[-1].pos + len(toks[-1].text))
    parser = Parser(list(toks) + [end])
    try:
        return parser.parse_expression(0), parser.i
    except ExprError:
        return None, 0


def _text_of(line: str, toks: list[Token]) -> str:
    if not toks:
        return ""
    last = toks[-1]
    return shown(line[toks[0].pos:last.pos + max(len(last.text), 1)].strip())


def shown(text: str) -> str:
    """Normalised text back in the notation students read (∂L/∂w5, z^[1])."""
    text = re.sub(r"d([\wŷ']+?)ðd([\wŷ']+)", r"∂\1/∂\2", text)
    return re.sub(r"Λ(\d+)", r"^[\1]", text)


def _label_of(part0: list[Token]) -> tuple[str | None, tuple | None, list[Token]]:
    """A leading name (with an optional [i, j] index) is the label; otherwise part0 is an expression."""
    if not part0 or part0[0].kind != "NAME":
        return None, None, part0
    name = part0[0].text
    rest = part0[1:]
    if not rest:
        return name, None, []
    if rest[0].kind == "LB" and rest[-1].kind == "RB" and all(
            t.kind in ("NUM", "COMMA") for t in rest[1:-1]) and len(rest) > 2:
        idx = tuple(int(t.value) for t in rest[1:-1] if t.kind == "NUM")
        if all(t.decimals == 0 for t in rest[1:-1] if t.kind == "NUM"):
            return name, idx, []
    return None, None, part0


def read_chains(text_lines: list[str], known: set[str], unreadable: list | None = None) -> list[Chain]:
    """Every arithmetic chain of the text, with continuations over consecutive lines merged.
    Lines too long or too odd to read are listed in `unreadable` as (line, reason)."""
    unreadable = [] if unreadable is None else unreadable
    chains: list[Chain] = []
    last_line_with_chain = -10
    header = None
    for no, raw in enumerate(text_lines, 1):
        if not raw.strip():
            header = None
            continue
        following = text_lines[no] if no < len(text_lines) else ""
        found = _table_header(raw, following)
        if found is not None:
            header = found
            if len(found) != 2:
                continue
        if "|" not in raw:
            header = None
        line = normalise_line(_table_row(_LIST_MARK_RE.sub("", raw, count=1), header))
        if "=" not in line and "≈" not in line:
            continue
        if len(line) > MAX_LINE:
            unreadable.append((no, f"the line has {len(line)} characters (limit {MAX_LINE}); "
                                   f"write one step per line"))
            continue
        try:
            tokens = tokenize(line, lenient=True)
        except ExprError as exc:
            unreadable.append((no, str(exc)))
            continue
        first_clause = True
        for clause in _split_clauses(tokens, known):
            groups, cur = [], []
            for tok in clause:
                if tok.kind == "EQ":
                    groups.append(cur)
                    cur = []
                else:
                    cur.append(tok)
            groups.append(cur)
            label, index, part0 = _label_of(groups[0])
            parts: list[Part] = []
            bad_start = False
            if part0:
                node, used = _parse_tokens(part0, prefix_ok=False)
                if node is None:
                    # prose or symbols before the first '=': keep the longest readable tail
                    for start in range(1, len(part0)):
                        if part0[start].kind == "OP" and part0[start].text not in "-√":
                            continue
                        node, used = _parse_tokens(part0[start:], prefix_ok=False)
                        if node is not None:
                            part0 = part0[start:]
                            break
                if node is None:
                    bad_start = True
                else:
                    parts.append(Part(_text_of(line, part0), node, no))
            if bad_start:
                continue
            for g_i, group in enumerate(groups[1:], 1):
                last = g_i == len(groups) - 1
                node, used = _parse_tokens(group, prefix_ok=last)
                if node is None:
                    if last or not group:
                        break
                    continue  # an unreadable middle form: its neighbours still restate the same value
                parts.append(Part(_text_of(line, group[:used]), node, no))
            if not parts:
                continue
            prev = chains[-1] if chains else None
            continues = prev is not None and last_line_with_chain >= no - 2 and first_clause and (
                (not groups[0]) or (label is not None and prev.label is not None
                                    and canon(label) == canon(prev.label) and index == prev.index
                                    and prev.parts[-1].node.kind not in ("num", "vec", "neg")
                                    and canon(label) not in {canon(n) for p in parts for n in names(p.node)}))
            if continues:
                prev.parts.extend(parts)
                prev.text += " = " + " = ".join(p.text for p in parts)
            elif label is not None or len(parts) > 1:
                chains.append(Chain(no, label, index, parts,
                                    (f"{shown(label)}{_index_text(index)} = " if label else "")
                                    + " = ".join(p.text for p in parts)))
                if label:
                    known.add(canon(label))
            first_clause = False
            last_line_with_chain = no
    return chains


def _index_text(index) -> str:
    return "" if index is None else "[" + ", ".join(str(i) for i in index) + "]"


# --- the symbol table -----------------------------------------------------------------------------

@dataclass
class Symbol:
    """A quantity the text defined: the student's value and (when known) the corrected one."""

    own: np.ndarray
    true: np.ndarray | None
    decimals: int | None
    wrong: bool = False
    line: int = 0
    rounded: bool = True   # a computed result as written (its rounding may move later steps)
    slip: bool = False     # judged wrong itself (not merely carrying an earlier error)


class Table:
    """Names -> Symbols, plus every computed number seen (to spot rounded intermediates)."""

    def __init__(self):
        self.symbols: dict[str, Symbol] = {}
        self.computed = _Pool()      # engine values (spec mode)
        self.claimed = _Written()    # results the text computed, as written, with their decimals
        self.true_values = _Pool()   # true values of the steps the text computed (spec mode)
        self.givens: set[float] = set()   # values the spec gives (exact, never rounded)
        self.wrong_literals: dict[str, float] = {}   # text of a wrong or carried number -> its true value
        self.slips: set[str] = set()                 # texts of numbers judged wrong (not rounded values)

    def own(self, name: str):
        sym = self.symbols.get(canon(name))
        return None if sym is None else sym.own

    def true(self, name: str):
        sym = self.symbols.get(canon(name))
        if sym is None:
            return None
        return sym.own if sym.true is None else sym.true

    def set(self, name: str, index, own, true, decimals, wrong, line, computed=True, slip=False):
        key = canon(name)
        own = np.asarray(own, dtype=np.float64)
        true = None if true is None else np.asarray(true, dtype=np.float64)
        if index is not None:
            sym = self.symbols.get(key)
            base = np.full(tuple(i + 1 for i in index), np.nan) if sym is None else np.array(sym.own)
            tbase = None if sym is None else np.array(sym.true if sym.true is not None else sym.own)
            if base.ndim != len(index) or any(i >= n for i, n in zip(index, base.shape)):
                base = _grow(base, index)
                tbase = None if tbase is None else _grow(tbase, index)
            base[index] = own
            if tbase is None:
                tbase = base.copy()
            try:
                tbase[index] = own if true is None else true
            except ValueError:
                tbase[index] = own
            self.symbols[key] = Symbol(base, tbase, decimals, wrong or (sym.wrong if sym else False), line,
                                       computed or (sym.rounded if sym else False),
                                       slip or (sym.slip if sym else False))
        else:
            self.symbols[key] = Symbol(own, true, decimals, wrong, line, computed, slip)
        if computed and not slip:
            self.claimed.extend((v, decimals) for v in np.atleast_1d(own).ravel().tolist())

    def rounding_decimals(self, lit: Node) -> int | None:
        """Decimals to which a written number was rounded, when it is a computed result: one the
        student wrote as a result before (the decimals shown there count, 1.4 may be 1.4000),
        or (≥ 2 decimals) the rounding of a result's true value, or (≥ 3 decimals, not a given)
        the rounding of any engine value. None: an exact number."""
        if lit.decimals < 1 or lit.text in self.slips:
            return None
        value = abs(lit.value)
        written = self.claimed.decimals(value)
        if written is not None:
            return max(lit.decimals, written)
        h = half_unit(lit.decimals) * 1.0001
        for pool, min_decimals, skip_givens in ((self.true_values, 2, False), (self.computed, 3, True)):
            if lit.decimals < min_decimals or (skip_givens and lit.value in self.givens):
                continue
            if pool.near(value, h, exclude_equal=True):
                return lit.decimals
        return None


class _Pool:
    """Absolute values, searchable for a neighbour within a distance (sorted lazily)."""

    def __init__(self):
        self.items: list[float] = []
        self._sorted = np.empty(0)
        self._dirty = False

    def extend(self, values) -> None:
        self.items.extend(abs(float(v)) for v in values)
        self._dirty = True

    def near(self, value: float, h: float, exclude_equal: bool = False) -> bool:
        if not self.items:
            return False
        if self._dirty:
            self._sorted = np.sort(np.asarray(self.items))
            self._dirty = False
        lo = np.searchsorted(self._sorted, value - h, "left")
        hi = np.searchsorted(self._sorted, value + h, "right")
        for v in self._sorted[lo:hi][:50]:
            if not exclude_equal or abs(v - value) > 1e-12 * max(value, 1.0):
                return True
        return False


class _Written:
    """Results as the student wrote them: value -> the most decimals shown for it."""

    def __init__(self):
        self.by_value: dict[float, int] = {}

    def extend(self, pairs) -> None:
        for v, d in pairs:
            key = round(abs(float(v)), 12)
            self.by_value[key] = max(d or 0, self.by_value.get(key, 0))

    def decimals(self, value: float) -> int | None:
        return self.by_value.get(round(abs(value), 12))


def _grow(arr, index):
    shape = tuple(max(a, i + 1) for a, i in zip(arr.shape + (0,) * (len(index) - arr.ndim), index))
    out = np.full(shape, np.nan)
    if arr.ndim == len(shape):
        out[tuple(slice(0, n) for n in arr.shape)] = arr
    return out


# --- judging --------------------------------------------------------------------------------------

class Checker:
    """Walks the chains in order, keeping the symbol table and the student's own step values."""

    def __init__(self, spec: dict | None, rtol, atol):
        self.rtol, self.atol = rtol, atol
        self.table = Table()
        self.trace = None
        self.own: dict[str, tuple[np.ndarray, bool]] = {}     # step id -> (student's values, had error)
        self.own_decimals: dict[str, int] = {}
        self.claims: list[Claim] = []
        self.aligned: dict = {}      # (name, index) -> the step it was first aligned to
        if spec is not None:
            from engine.kinds import walk
            self.trace = walk(spec)
            for step in self.trace:
                values = np.asarray(self.trace.display(step.id)).ravel()[:5000].tolist()
                if step.phase != "given":
                    self.table.computed.extend(values)
                else:
                    self.table.givens.update(values)

    # name resolution -------------------------------------------------------------------------
    def _resolve_own(self, name):
        v = self.table.own(name)
        if v is None:
            v = self._element_of_vector(name, self.table.own)
        return v if v is not None else self._from_trace(name, own=True)

    def _resolve_true(self, name):
        v = self.table.true(name)
        if v is None:
            v = self._element_of_vector(name, self.table.true)
        return v if v is not None else self._from_trace(name, own=False)

    @staticmethod
    def _element_of_vector(name, lookup):
        """x₁ when the text defined the vector x = [0.5, 0.8]: its first element (1-based)."""
        m = re.fullmatch(r"([^\d_]+)_?(\d)", canon(name))
        if not m:
            return None
        vec = lookup(m.group(1))
        if vec is None or np.ndim(vec) != 1 or not 1 <= int(m.group(2)) <= np.size(vec):
            return None
        return np.asarray(vec)[int(m.group(2)) - 1]

    def _from_trace(self, name, own: bool):
        if self.trace is None or name in CONSTANTS:
            return None
        cands = align_name(name, None, self.trace)
        givens = [c for c in cands if self.trace[c[0]].phase == "given"]
        if len(givens) != 1:
            return None  # only given values are taken from the spec; results must be the student's
        sid, idx = givens[0]
        value = np.asarray(self.trace.display(sid))
        return value if idx is None else value[idx]

    def evaluate(self, node: Node, own: bool, overrides=None):
        return evaluate(node, None, overrides, self._resolve_own if own else self._resolve_true)

    # tolerance --------------------------------------------------------------------------------
    def spread(self, node: Node, own: bool, only_rounded: bool) -> np.ndarray:
        """How far the value may move when each written number moves by half its last unit."""
        base = self.evaluate(node, own)
        spread = np.zeros_like(np.asarray(base, dtype=np.float64))
        lits = []
        for l in literals(node):
            if only_rounded:
                d = self.table.rounding_decimals(l)
                if d is not None:
                    lits.append((l, d))
            elif l.decimals > 0 or abs(l.value) >= 10:
                lits.append((l, l.decimals))
        if len(lits) > MAX_SPREAD_TERMS:
            return spread + 1e-3 * np.abs(base)
        for lit, d in lits:
            h = half_unit(d) if d > 0 else 0.5
            try:
                moved = self.evaluate(node, own, {id(lit): lit.value + h})
            except ExprError:
                continue
            if np.shape(moved) == np.shape(base):
                spread = spread + np.abs(moved - base)
        for name in dict.fromkeys(names(node)):
            sym = self.table.symbols.get(canon(name))
            if sym is None or not sym.decimals or not sym.rounded or sym.slip:
                continue
            h = half_unit(sym.decimals)
            resolve = self._resolve_own if own else self._resolve_true

            def bumped(n, name=name, resolve=resolve, h=h):
                v = resolve(n)
                return None if v is None else (np.asarray(v) + h if canon(n) == canon(name) else v)
            try:
                moved = evaluate(node, None, None, bumped)
            except ExprError:
                continue
            if np.shape(moved) == np.shape(base):
                spread = spread + np.abs(moved - base)
        return spread

    def tolerance(self, claim_node: Node, from_node: Node, claimed, expected) -> np.ndarray:
        user = override_tolerance(expected, self.rtol, self.atol)
        if user is not None:
            return user
        if claim_node.kind == "num":
            tol = value_tolerance(claimed, claim_node.decimals)
        else:
            tol = self.spread(claim_node, True, only_rounded=False) + value_tolerance(claimed, None)
        return tol + self.spread(from_node, True, only_rounded=True)

    # the walk ---------------------------------------------------------------------------------
    def run(self, chains: list[Chain]) -> list[Claim]:
        for chain in chains:
            try:
                self.check_chain(chain)
            except ExprError as exc:
                self.claims.append(Claim(chain.line, chain.text, verdict="unchecked",
                                         reason=str(exc), label=chain.label or ""))
        return self.claims

    def _target_for(self, chain: Chain):
        """The step a labelled chain states. A name stated again later (a second iteration, an
        update written under the parameter's name) means the updated or after-update step."""
        if self.trace is None or not chain.label:
            return None
        key = (canon(chain.label), chain.index)
        before = self.aligned.get(key)
        if before is None:
            target = self._pick(align_name(chain.label, chain.index, self.trace), chain)
        else:
            sid, idx = before
            later = [c for c in ((f"{sid}_new", idx), (f"after.{sid}", idx)) if c[0] in self.trace]
            target = self._pick(later, chain, require_match=True) if later else None
        if target is not None:
            self.aligned[key] = target
        return target

    def check_chain(self, chain: Chain) -> None:
        target = self._target_for(chain)
        values, kept, failures = [], [], []
        for p in chain.parts:
            try:
                values.append(self.evaluate(p.node, True))
                kept.append(p)
            except ExprError as exc:
                failures.append((p, exc))
        if failures:
            # forms that cannot be computed (a name never given a value) are left out; their
            # neighbours still restate the same quantity and are checked
            if target is None and len(kept) == 1:
                p, exc = failures[0]
                self.claims.append(Claim(p.line, chain.text, _plain(values[-1]), verdict="unchecked",
                                         reason=str(exc), label=chain.label or ""))
            if not kept:
                return
            chain = Chain(chain.line, chain.label, chain.index, kept, chain.text)
        try:
            true0 = self.evaluate(chain.parts[0].node, False, self._wrong_literal_overrides(chain.parts[0].node))
        except ExprError:
            true0 = None
        corrected0 = true0
        if target is not None:
            true0 = np.asarray(_element(self.trace.display(target[0]), target[1]))
        earlier_error = self._uses_wrong(chain.parts[0].node)
        setup_verdict = None
        final_verdict, final_value, final_decimals = None, None, None
        if len(chain.parts) == 1:
            # `name = value` or `name = expression`: a definition, judged only against a spec step
            v = values[0]
            if isinstance(v, ExprError):
                return  # a symbolic definition such as a = σ(z): no number to check
            part = chain.parts[0]
            if target is not None and (part.node.kind in ("num", "vec", "neg") or
                                       self.trace[target[0]].phase != "given"):
                tol = self.tolerance(part.node, part.node, v, v) if part.node.kind != "num" else \
                    value_tolerance(v, part.node.decimals)
                if part.node.kind != "num":
                    tol = override_tolerance(v, self.rtol, self.atol) if (self.rtol or self.atol) else \
                        self.spread(part.node, True, only_rounded=False) + \
                        self.spread(part.node, True, only_rounded=True) + value_tolerance(v, None)
                verdict, true, mine = self._judge_target(target, v, tol)
                if verdict == "wrong" and self.trace[target[0]].phase == "given":
                    # a given stated differently: a copying slip, or the name means something else
                    self.claims.append(Claim(
                        chain.line, chain.text, _plain(v), _plain(true), "unchecked", label=chain.label,
                        step_id=target[0], index=target[1],
                        reason=f"the problem gives {_fmt(true)} for this; if {shown(chain.label)} "
                               f"means something else here, name it differently"))
                    self._define(chain, v, v, _decimals_of(part.node), "correct", None)
                    return
                self._claim(chain, chain.text, v, true, verdict, target, mine, tol)
                final_verdict = verdict
                true0 = true
            else:
                final_verdict = "wrong" if earlier_error else "correct"
                if earlier_error:
                    final_verdict = "carried"
            self._define(chain, v, true0, _decimals_of(part.node), final_verdict, target)
            return
        chain_error = earlier_error if target is None else False
        for i in range(1, len(chain.parts)):
            prev, part = chain.parts[i - 1], chain.parts[i]
            claimed, from_own = values[i], values[i - 1]
            text = f"{prev.text} = {part.text}"
            if isinstance(claimed, ExprError):
                break
            if isinstance(from_own, ExprError):
                self.claims.append(Claim(part.line, text, _plain(claimed), verdict="unchecked",
                                         reason=str(from_own), label=chain.label or ""))
                chain_error = True
                continue
            if np.shape(claimed) != np.shape(from_own) and np.size(claimed) != np.size(from_own):
                self.claims.append(Claim(part.line, text, _plain(claimed), _plain(from_own), "wrong",
                                         hint=f"the shapes differ: {np.shape(from_own)} on the left, "
                                              f"{np.shape(claimed)} on the right", label=chain.label or ""))
                chain_error = True
                continue
            tol = self.tolerance(part.node, prev.node, claimed, from_own)
            unit = value_tolerance(claimed, _decimals_of(part.node))
            arithmetic_ok = close(claimed, from_own, tol)
            is_last = i == len(chain.parts) - 1
            from_setup = False
            if target is not None and true0 is not None:
                if close(claimed, true0, tol):
                    verdict = "correct"
                elif not arithmetic_ok:
                    verdict = "rounding" if close(claimed, from_own, tol + unit) else "wrong"
                elif chain_error:
                    verdict = "carried"
                else:
                    if setup_verdict is None:
                        setup_verdict = self._judge_setup(target, from_own, tol, earlier_error,
                                                          corrected0, true0)
                        from_setup = True
                    verdict = setup_verdict
                expected = true0
            else:
                verdict = link_verdict(claimed, from_own, true0, tol, earlier_error=chain_error, unit=unit)
                expected = true0 if true0 is not None else from_own
            step = target if (target is not None and (is_last or from_setup)) else None
            self._claim(chain, text, claimed, expected, verdict, step, from_own, tol, part.line,
                        link=(prev, part))
            if verdict != "wrong":
                d = _decimals_of(part.node)
                self.table.claimed.extend((v, d) for v in np.atleast_1d(claimed).ravel()[:1000].tolist())
            if verdict in ("wrong", "carried"):
                chain_error = True
                if part.node.kind in ("num", "neg") and true0 is not None and np.size(true0) == 1:
                    lit = literals(part.node)[0]
                    sign = -1.0 if part.node.kind == "neg" else 1.0
                    self.table.wrong_literals[lit.text] = sign * float(np.asarray(true0).ravel()[0])
                    if verdict == "wrong":
                        self.table.slips.add(lit.text)
            final_verdict, final_value = verdict, claimed
            final_decimals = _decimals_of(part.node)
        if chain.label and final_value is not None:
            self._define(chain, final_value, true0, final_decimals, final_verdict, target)

    def _pick(self, cands, chain: Chain, require_match: bool = False):
        """Of the steps a name may mean, the one whose true value the work matches; failing that,
        the first reading only when the name pins it down (a number, a side h/o, an index).
        A bare, ambiguous name (net, out, z, δ, w) with a value matching nothing stays unaligned:
        its arithmetic is still checked, but no step is judged on a guess."""
        if not cands:
            return None
        if chain.index is not None:  # an explicit index says which element: never re-guess by value
            exact = [c for c in cands if c[1] == tuple(chain.index)]
            if exact:
                return exact[0]
        computed = len(chain.parts) > 1 or chain.parts[0].node.kind not in ("num", "vec", "neg")
        options = list(cands)
        for sid, idx in cands:
            value = np.asarray(self.trace.display(sid))
            if idx is None and 1 < value.size <= 64:
                options.extend((sid, tuple(int(i) for i in ix)) for ix in np.ndindex(value.shape))
            if self.trace[sid].phase == "given" and f"{sid}_new" in self.trace:
                options.append((f"{sid}_new", idx))  # `w5 = w5 − η·g` names the updated weight
        for p in reversed(chain.parts):
            try:
                v = self.evaluate(p.node, True)
            except ExprError:
                continue
            tol = value_tolerance(v, _decimals_of(p.node)) * 4 + 1e-6 * np.abs(v)
            for c in options:
                t = _element(self.trace.display(c[0]), c[1])
                if np.size(t) == np.size(v) and close(v, t, tol):
                    return c
            if require_match:
                return None
            if len(cands) == 1 or not _is_bare(chain.label):
                first = cands[0]
                if computed and self.trace[first[0]].phase == "given":
                    return None  # a computation written under a given's name: not that given
                size = np.size(_element(self.trace.display(first[0]), first[1]))
                return first if size == np.size(v) else None
            return None
        return cands[0] if len(cands) == 1 and not require_match else None

    def _judge_setup(self, target, value, tol, earlier_error, corrected, true) -> str:
        """The student's setup (the first expression of a chain) against the step: carried when
        it is right once earlier wrong numbers are replaced by true ones, else the step's verdict."""
        verdict, _, _ = self._judge_target(target, np.asarray(value), tol)
        if verdict == "wrong" and earlier_error and corrected is not None and \
                np.size(corrected) == np.size(true) and close(corrected, true, tol):
            verdict = "carried"
        return "rounding" if verdict == "correct" else verdict

    def _judge_target(self, target, claimed, tol):
        sid, idx = target
        return judge_step(self.trace, sid, idx, np.asarray(claimed, dtype=np.float64), tol, self.own,
                          self.own_decimals, self.rtol, self.atol)

    def _uses_wrong(self, node: Node) -> bool:
        for n in names(node):
            sym = self.table.symbols.get(canon(n))
            if sym is not None and sym.wrong:
                return True
        return any(l.text in self.table.wrong_literals for l in literals(node))

    def _wrong_literal_overrides(self, node: Node) -> dict:
        return {id(l): self.table.wrong_literals[l.text] for l in literals(node)
                if l.text in self.table.wrong_literals}

    def _define(self, chain: Chain, own, true, decimals, verdict, target=None):
        if not chain.label:
            return
        wrong = verdict in ("wrong", "carried")
        computed = not (len(chain.parts) == 1 and chain.parts[0].node.kind in ("num", "vec", "neg")) \
            or _names_computed_quantity(chain.label)
        self.table.set(chain.label, chain.index, own, true if true is not None else own, decimals,
                       wrong, chain.line, computed, verdict == "wrong")
        if self.trace is not None:
            if target is not None:
                sid, idx = target
                shape = np.shape(self.trace.display(sid))
                cur, had = self.own.get(sid, (np.full(shape, np.nan), False))
                cur = np.array(cur)
                try:
                    if idx is None:
                        cur = np.broadcast_to(np.asarray(own, dtype=np.float64).reshape(shape)
                                              if np.size(own) == np.prod(shape) else own, shape).copy()
                    else:
                        cur[idx] = float(np.asarray(own).ravel()[0])
                except (ValueError, IndexError):
                    return
                self.own[sid] = (cur, had or wrong)
                if self.trace[sid].phase != "given":
                    self.table.true_values.extend(np.atleast_1d(_element(self.trace.display(sid), idx))
                                          .ravel()[:1000].tolist())
                if decimals is not None:
                    self.own_decimals[sid] = max(decimals, self.own_decimals.get(sid, 0))

    def _claim(self, chain, text, claimed, expected, verdict, target, own_value, tol, line=None, link=None):
        from engine.misconceptions import diagnose
        if expected is not None and np.size(expected) == np.size(claimed):
            expected = np.reshape(expected, np.shape(claimed))  # the shape the student wrote
        claim = Claim(line or chain.line, text, _plain(claimed), _plain(expected), verdict,
                      label=chain.label or "")
        if target is not None:
            claim.step_id, claim.index = target[0], target[1]
        if verdict == "wrong":
            found = diagnose(self.trace, target, claimed, tol, self.own, link_values=(
                None if link is None else (own_value, expected)))
            if found:
                claim.misconception, claim.hint = found
            elif link is not None and own_value is not None and not close(claimed, own_value, tol):
                claim.hint = f"{link[0].text} gives {_fmt(own_value)}, not {_fmt(claimed)}"
            elif target is not None and link is None:
                mine = "" if own_value is None or close(own_value, expected, tol) else \
                    f" (your own earlier numbers give {_fmt(own_value)})"
                claim.hint = f"the value should be {_fmt(expected)}{mine}"
            elif target is not None:
                claim.hint = (f"the arithmetic follows, but the value should be {_fmt(expected)}: "
                              f"check the formula and the numbers put into it")
            else:
                claim.hint = f"this should be {_fmt(expected)}"
        elif verdict == "carried":
            claim.hint = "follows correctly from an earlier wrong value (not counted again)"
        elif verdict == "rounding":
            claim.hint = "right up to rounding of the numbers you used"
        self.claims.append(claim)


def _names_computed_quantity(label: str) -> bool:
    """z, a, ŷ, δ, L, ∂…/∂…, …_new name results of a computation (their values are rounded);
    w, b, x, y, η name givens (exact as written)."""
    s = canon(label)
    if "ð" in s or s.endswith("new"):
        return True
    q = _quantity(s, None)
    return q is not None and q[0] in ("z", "a", "yhat", "delta", "loss", "dadz")


def _is_bare(label: str | None) -> bool:
    """A name with no number, side (h/o) or layer: z, a, net, out, δ, w, b, ∂L/∂w."""
    if not label:
        return True
    s = canon(label)
    if "ð" in s:
        s = s.partition("ð")[2][1:]
    if s.lower() in ("pool", "pooled", "maxpool", "avgpool", "map", "fmap", "featuremap", "convmap",
                     "relumap"):
        return False  # one pooling or feature-map layer is what these words name
    return not any(ch.isdigit() for ch in s) and "Λ" not in s


def _decimals_of(node: Node) -> int | None:
    if node.kind == "num":
        return node.decimals
    if node.kind == "neg" and node.children[0].kind == "num":
        return node.children[0].decimals
    lits = literals(node)
    if node.kind == "vec" and lits:
        return max(l.decimals for l in lits)
    return None


def _element(value, index):
    arr = np.asarray(value)
    return arr if index is None else arr[tuple(index)]


def _plain(v):
    if v is None:
        return None
    arr = np.asarray(v, dtype=np.float64)
    return float(arr) if arr.ndim == 0 else arr.tolist()


def _fmt(v) -> str:
    from engine.numfmt import fmt_array
    return fmt_array(v, 4) if v is not None else "?"


# --- entry points -----------------------------------------------------------------------------------

def read_text(data: bytes, source: str = "input") -> str:
    """Bytes of a submission -> text; binary or oversized input is refused with the fix."""
    if len(data) > MAX_TEXT * 4:
        raise NNTError(f"{source} is {len(data):,} bytes; the checker reads at most {MAX_TEXT:,} characters; "
                       f"submit the working for one problem at a time")
    if b"\x00" in data[:65536]:
        raise NNTError(f"{source} looks like a binary file, not text; paste or save the working as "
                       f"plain text or Markdown")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise NNTError(f"{source} is not UTF-8 text; save it as UTF-8 plain text or Markdown") from None


def check_text(text: str, spec: dict | None = None, rtol=None, atol=None) -> CheckReport:
    """Check a student's written work; with a spec, also align and judge against the engine."""
    if not isinstance(text, str):
        raise NNTError("homework must be text")
    if len(text) > MAX_TEXT:
        raise NNTError(f"the homework text has {len(text):,} characters; the checker reads at most "
                       f"{MAX_TEXT:,}; submit the working for one problem at a time")
    controls = sum(1 for ch in text[:20000] if ord(ch) < 32 and ch not in "\n\r\t")
    if controls > 8 or "\x00" in text:
        raise NNTError("the homework looks like binary data, not text; paste the working as plain "
                       "text or Markdown")
    for name, v in (("rtol", rtol), ("atol", atol)):
        if v is not None and (not np.isfinite(v) or v < 0):
            raise NNTError(f"--{name} must be a number ≥ 0; got {v}")
    checker = Checker(spec, rtol, atol)
    unreadable: list = []
    chains = read_chains(text.splitlines(), set(), unreadable)
    claims = checker.run(chains) + [Claim(no, text.splitlines()[no - 1][:60] + "…", verdict="unchecked",
                                          reason=reason) for no, reason in unreadable]
    report = CheckReport(sorted(claims, key=lambda c: c.line))
    if not report.claims:
        report.notes.append("no checkable arithmetic found: write steps such as "
                            "'z = 0.15×0.5 + 0.2×0.8 + 0.35 = 0.585'")
    return report


# --- student names -> engine step ids -----------------------------------------------------------------

_LOSS_NAMES = {"L", "E", "J", "C", "loss", "cost", "error", "etotal", "ltotal", "err", "Loss", "Cost",
               "Error", "Etotal", "Ltotal"}
_LR_NAMES = {"eta", "η", "lr", "alpha", "α"}
_Z_NAMES = {"z", "net", "in", "s"}
_A_NAMES = {"a", "out", "h", "o"}
_YHAT_NAMES = {"ŷ", "yhat", "output", "pred", "ypred", "p", "o"}
_DELTA_NAMES = {"δ", "delta", "d"}


def canon(name: str) -> str:
    """The symbol-table key of a name: w_{5}, w_5 and w₅ are the same quantity."""
    s = str(name).replace("_", "").replace("{", "").replace("}", "").replace(" ", "")
    return s.replace("ŷ", "yhat")


def align_name(name: str, index: tuple | None, trace) -> list[tuple[str, tuple | None]]:
    """Engine steps (id, element index) a student's name may denote, most likely first."""
    try:
        return [c for c in _candidates(name, index, trace) if c[0] in trace and _fits(trace, c)]
    except (KeyError, ValueError, IndexError):
        return []


def _fits(trace, cand) -> bool:
    sid, idx = cand
    if idx is None:
        return True
    shape = np.shape(trace.display(sid))
    return len(idx) == len(shape) and all(0 <= i < n for i, n in zip(idx, shape))


def _layers(trace) -> tuple[list[int], list[int], int]:
    dense = sorted({int(s.id[1:].split(".")[0]) for s in trace if re.fullmatch(r"L\d+\.W", s.id)})
    all_layers = sorted({int(s.id[1:].split(".")[0]) for s in trace if re.fullmatch(r"L\d+\.\w+", s.id)})
    out = trace.info.get("output_id", f"L{all_layers[-1]}.a" if all_layers else "")
    last = int(out[1:].split(".")[0]) if re.fullmatch(r"L\d+\.\w+", out or "") else (all_layers or [0])[-1]
    return dense, all_layers, last


def _side_layer(side: str, dense: list[int], last: int) -> int:
    return last if side == "o" else (dense[0] if dense else 1)


def _candidates(name: str, index, trace) -> list:
    s = canon(name)
    new = False
    for suffix in ("new", "+"):
        if s.endswith(suffix) and len(s) > len(suffix):
            s, new = s[:-len(suffix)], True
    if "ð" in s:
        num, _, den = s.partition("ð")
        return _derivative(num[1:], den[1:], index, trace)
    q = _quantity(s, trace)
    if q is None:
        return []
    kind, layer, numbers, side = q
    return _steps_for(kind, layer, numbers, side, index, new, trace)


def _quantity(s: str, trace):
    """(kind, layer, numbers, side) for a canonical name, or None when it names nothing known."""
    m = re.fullmatch(r"(net|in|z|out|a|δ|delta|dadz)?([ho])(\d?)", s)
    if m and (m.group(1) or m.group(3)):
        base = m.group(1) or "out"
        kind = {"net": "z", "in": "z", "z": "z", "out": "a", "a": "a", "δ": "delta", "delta": "delta",
                "dadz": "dadz"}[base]
        return kind, None, ((int(m.group(3)),) if m.group(3) else ()), m.group(2)
    m = re.fullmatch(r"([A-Za-zα-ωŷ]+?)(?:Λ(\d+))?(\d*)", s)
    if not m:
        return None
    base, layer, digits = m.group(1), m.group(2), m.group(3)
    layer = int(layer) if layer else None
    nums = tuple(int(ch) for ch in digits) if digits else ()
    low = base.lower()
    if base in ("W",):
        return "W", layer, nums, None
    if base == "w":
        return "w", layer, (int(digits),) if digits else (), None
    if low == "b":
        return ("B" if base == "B" else "b"), layer, (int(digits),) if digits else (), None
    if low in _Z_NAMES:
        return "z", layer, nums, None
    if low in _YHAT_NAMES and not nums:
        return "yhat", layer, nums, None
    if low in _A_NAMES:
        return "a", layer, nums, None
    if low in _DELTA_NAMES:
        return "delta", layer, nums, None
    if low in ("x", "i"):
        return "x", layer, nums, None
    if low in ("pool", "pooled", "maxpool", "avgpool"):
        return "pool", layer, nums, None
    if low in ("map", "fmap", "featuremap", "conv", "convmap", "relumap"):
        return "map", layer, nums, None
    if low in ("y", "t", "target") and not layer:
        return "y", None, nums, None
    if (base in _LOSS_NAMES or (len(base) > 1 and low in _LOSS_NAMES)) and not nums:
        return "loss", None, (), None
    if low in _LR_NAMES:
        return "lr", None, (), None
    return None


def _steps_for(kind, layer, nums, side, index, new, trace) -> list:
    dense, all_layers, last = _layers(trace)
    after = "after." if new else ""
    if kind == "loss":
        return [(f"{after}loss", None)]
    if kind == "lr":
        return [("lr", None)]
    if kind == "yhat":
        out = trace.info.get("output_id", f"L{last}.a")
        return [(after + out, index)] + ([(after + out, (0,))] if index is None else [])
    if kind in ("x", "y"):
        if nums:
            return [(kind, (nums[0] - 1,) + tuple(nums[1:]))] if len(nums) <= 2 else []
        return [(kind, index)]
    if kind in ("z", "a", "delta", "dadz"):
        step = {"z": "z", "a": "a", "delta": "delta", "dadz": "dadz"}[kind]
        pre = after if kind in ("z", "a") else ""
        if side is not None:
            lay = _side_layer(side, dense, last)
            idx = (nums[0] - 1,) if nums else index
            if kind == "a" and side == "o":
                return [(pre + trace.info.get("output_id", f"L{lay}.a"), idx)]
            return [(f"{pre}L{lay}.{step}", idx)]
        cands = []
        if layer is not None:
            cands.append((f"{pre}L{layer}.{step}", index))
            if nums:
                cands.append((f"{pre}L{layer}.{step}", (nums[0] - 1,)))
        elif nums:
            k = nums[0]
            if len(nums) == 1:
                cands.append((f"{pre}L{k}.{step}", index))
                for lay in dense:
                    cands.append((f"{pre}L{lay}.{step}", (k - 1,)))
            elif len(nums) == 2:
                cands.append((f"{pre}L{nums[0]}.{step}", (nums[1] - 1,)))
        else:
            layers = dense if kind != "a" else all_layers
            for lay in reversed(layers):
                cands.append((f"{pre}L{lay}.{step}", index))
                if index is None:
                    cands.append((f"{pre}L{lay}.{step}", (0,)))
        return cands
    if kind in ("W", "w", "b", "B"):
        p = "W" if kind in ("W", "w") else "b"
        suffix = "_new" if new else ""
        return _param_candidates(p, kind, layer, nums, index, suffix, dense, trace)
    if kind == "pool":   # the output of a pooling layer
        return [(f"L{k}.a", index) for k in _all_layer_numbers(trace)
                if "pooling" in trace[f"L{k}.a"].label]
    if kind == "map":    # a conv layer's feature map, after its activation when one follows
        out = []
        for k in dense:
            if np.ndim(trace.display(f"L{k}.W")) == 4:
                nxt = f"L{k + 1}.a"
                if nxt in trace and trace[nxt].inputs == (f"L{k}.z",):
                    out.append((nxt, index))
                out.append((f"L{k}.z", index))
        return out
    return []


def _all_layer_numbers(trace) -> list[int]:
    return sorted({int(s.id[1:].split(".")[0]) for s in trace if re.fullmatch(r"L\d+\.a", s.id)})


def _param_candidates(p, kind, layer, nums, index, suffix, dense, trace) -> list:
    """w5 (numbered through the network), w11 / w_12 (row, column), W2 (layer matrix), b3, b2 (vector)."""
    cands = []
    if layer is not None:
        cands.append((f"L{layer}.{p}{suffix}", index))
        if p == "W" and len(nums) == 1 and nums[0] >= 11:
            r, c = divmod(nums[0], 10)
            cands.append((f"L{layer}.{p}{suffix}", (r - 1, c - 1)))
        elif nums:
            cands.append((f"L{layer}.{p}{suffix}", (nums[0] - 1,) if p == "b" else None))
        return cands
    if not nums:
        for lay in reversed(dense):
            cands.append((f"L{lay}.{p}{suffix}", index))
            if p == "b" and index is None:
                cands.append((f"L{lay}.{p}{suffix}", (0,)))
            if p == "W" and index is None:
                cands.append((f"L{lay}.{p}{suffix}", (0, 0)))
        return cands
    n = nums[0]
    if kind in ("W", "B") or (index is not None and len(nums) == 1):
        cands.append((f"L{n}.{p}{suffix}", index))
    flat = []
    for lay in dense:
        shape = np.shape(trace.display(f"L{lay}.{p}"))
        flat.extend((f"L{lay}.{p}{suffix}", tuple(int(i) for i in ix)) for ix in np.ndindex(shape))
    if 1 <= n <= len(flat):
        cands.append(flat[n - 1])
    if kind in ("w", "b") and p == "b" and n in dense:
        cands.append((f"L{n}.b{suffix}", None))
    if p == "W" and n >= 11:
        r, c = divmod(n, 10)
        for lay in dense:
            cands.append((f"L{lay}.W{suffix}", (r - 1, c - 1)))
    if kind == "w" and n in dense:
        cands.append((f"L{n}.W{suffix}", None))
    return cands


def _derivative(num: str, den: str, index, trace) -> list:
    """∂num/∂den names: ∂L/∂w5 -> weight gradient, ∂L/∂ŷ -> L{n}.da, ∂out/∂net -> L{k}.dadz."""
    dense, all_layers, last = _layers(trace)
    nq = _quantity(num, trace) if num else None
    dq = _quantity(den, trace)
    if dq is None:
        return []
    dkind, dlayer, dnums, dside = dq
    if nq is not None and nq[0] == "loss":
        if dkind in ("W", "w", "b", "B"):
            p = "W" if dkind in ("W", "w") else "b"
            return [(c[0].replace(f".{p}", f".d{p}", 1), c[1])
                    for c in _param_candidates(p, dkind, dlayer, dnums, index, "", dense, trace)]
        if dkind in ("z", "delta"):
            return _steps_for("delta", dlayer, dnums, dside, index, False, trace)
        if dkind == "yhat":
            return [(f"L{last}.da", index)] + ([(f"L{last}.da", (0,))] if index is None else [])
        if dkind in ("a", "pool", "map"):
            return [(c[0][:-2] + (".da" if c[0].endswith(".a") else ".delta"), c[1]) for c in
                    _steps_for(dkind, dlayer, dnums, dside, index, False, trace)
                    if c[0].endswith((".a", ".z"))]
        return []
    if nq is not None and nq[0] == "z" and dkind in ("w", "W"):
        # ∂z/∂w = the input that weight multiplies: a_{k−1}[c] (x[c] for the first layer)
        out = []
        for sid, idx in _param_candidates("W", dkind, dlayer, dnums, index, "", dense, trace):
            k = int(sid[1:].split(".")[0])
            if idx is not None and len(idx) == 2:
                src = trace[f"L{k}.z"].inputs[1] if f"L{k}.z" in trace else None
                if src:
                    out.append((src, (idx[1],)))
        return out
    if nq is not None and nq[0] in ("a", "yhat") and dkind == "z":
        base = _steps_for("z", dlayer if dlayer else nq[1], dnums or nq[2], dside or nq[3], index, False, trace)
        if nq[0] == "yhat" and not (dnums or nq[2]):
            base = [(f"L{last}.z", index)] + ([(f"L{last}.z", (0,))] if index is None else [])
        return [(c[0].replace(".z", ".dadz"), c[1]) for c in base]
    return []


# --- submissions and the structured form ------------------------------------------------------------

def check_submission(data: bytes, source: str = "input", spec: dict | None = None,
                     rtol=None, atol=None) -> CheckReport:
    """One submission as bytes: a structured YAML form (spec + answers) or free text."""
    text = read_text(data, source)
    structured = _structured(text)
    if structured is not None:
        report = check_answers(structured, text, spec, rtol, atol, source)
    else:
        report = check_text(text, spec, rtol, atol)
    report.source = source
    return report


def _structured(text: str) -> dict | None:
    """The YAML structured form, when the text is a mapping with an `answers:` mapping."""
    if not re.search(r"(?m)^answers\s*:", text):
        return None
    import yaml
    try:
        data = yaml.load(text, Loader=yaml.BaseLoader)  # strings: keeps the decimals as written
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise NNTError(f"the answers file is not valid YAML{where}; fix the indentation or quoting") from None
    if not isinstance(data, dict) or not isinstance(data.get("answers"), dict):
        raise NNTError("the structured form needs 'answers:' as a mapping of step id to value, "
                       "e.g. answers: {L1.z: [0.585, 0.715], loss: 0.0285}")
    return data


def _as_text(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_as_text(v) for v in value) + "]"
    if isinstance(value, dict):
        raise NNTError("an answer must be a number, a list or an expression, not a mapping")
    return str(value)


_KEY_RE = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(?:\[([\d,\s]+)\])?\s*$")


def check_answers(data: dict, text: str, spec: dict | None, rtol=None, atol=None,
                  source: str = "answers") -> CheckReport:
    """The structured form: answers keyed by step id (or a student name), judged in step order."""
    if spec is None:
        spec = data.get("spec")
        if isinstance(spec, str):
            from engine.spec import load_spec
            from pathlib import Path
            base = Path(source).parent if source not in ("-", "input", "answers") else Path(".")
            path = Path(spec) if Path(spec).is_absolute() or Path(spec).exists() else base / spec
            spec = load_spec(path)
        elif isinstance(spec, dict):
            import yaml
            spec = yaml.safe_load(yaml.safe_dump(_numbers(spec)))
        else:
            raise NNTError("the structured form needs a spec: give --spec FILE or a 'spec:' entry "
                           "(a path or the network itself)")
    checker = Checker(spec, rtol, atol)
    order = {sid: k for k, sid in enumerate(checker.trace.steps)}
    lines = text.splitlines()
    items = []
    for key, value in data["answers"].items():
        m = _KEY_RE.match(str(key))
        if m:
            sid, idx = m.group(1), (tuple(int(i) for i in m.group(2).split(",")) if m.group(2) else None)
        else:  # a student name such as ∂E/∂w₅ or z₁[0]
            try:
                sid, idx, rest = _label_of(tokenize(normalise_line(str(key)))[:-1])
            except ExprError:
                sid, rest = None, True
            if sid is None or rest:
                raise NNTError(f"answer key '{key}' is not a step id or a name; write e.g. L1.z, loss, "
                               f"'L1.dW[0, 1]', net_h1, '∂E/∂w5'")
        start = next((k for k, l in enumerate(lines) if re.match(r"answers\s*:", l)), 0)
        line = next((k for k, l in enumerate(lines[start:], start + 1) if str(key) in l), 0)
        if sid not in checker.trace:
            try:
                name = tokenize(normalise_line(sid))[0].text
            except ExprError:
                name = sid
            cands = align_name(name, idx, checker.trace)
            if not cands:
                checker.claims.append(Claim(line, f"{key}: {_as_text(value)}", verdict="unchecked",
                                            reason=f"'{key}' is not a step of this problem",
                                            label=str(key)))
                continue
            sid, idx = cands[0]
        items.append((order.get(sid, 0), line, key, sid, idx, _as_text(value)))
    for _, line, key, sid, idx, value_text in sorted(items, key=lambda t: (t[0], t[1])):
        chain_text = f"{key} = {value_text}"
        try:
            tokens = tokenize(normalise_line(value_text))
            node, used = _parse_tokens(tokens[:-1], prefix_ok=False)
            if node is None:
                raise ExprError(f"cannot read the value '{value_text}'")
        except ExprError as exc:
            checker.claims.append(Claim(line, chain_text, verdict="unchecked", reason=str(exc),
                                        label=str(key)))
            continue
        chain = Chain(line, None, None, [Part(value_text, node, line)], chain_text)
        try:
            v = checker.evaluate(node, True)
        except ExprError as exc:
            checker.claims.append(Claim(line, chain_text, verdict="unchecked", reason=str(exc),
                                        label=str(key)))
            continue
        tol = value_tolerance(v, _decimals_of(node)) + checker.spread(node, True, only_rounded=True)
        try:
            verdict, true, mine = checker._judge_target((sid, idx), v, tol)
        except NNTError as exc:
            checker.claims.append(Claim(line, chain_text, verdict="unchecked", reason=str(exc),
                                        label=str(key)))
            continue
        checker._claim(chain, chain_text, v, true, verdict, (sid, idx), mine, tol)
        checker.claims[-1].label = str(key)
        shape = np.shape(checker.trace.display(sid))
        cur, had = checker.own.get(sid, (np.full(shape, np.nan), False))
        cur = np.array(cur)
        try:
            if idx is None:
                cur = np.asarray(v, dtype=np.float64).reshape(shape) if np.size(v) == np.prod(shape) else cur
            else:
                cur[idx] = float(np.asarray(v).ravel()[0])
        except (ValueError, IndexError):
            pass
        checker.own[sid] = (cur, had or verdict in ("wrong", "carried"))
        d = _decimals_of(node)
        if d is not None:
            checker.own_decimals[sid] = max(d, checker.own_decimals.get(sid, 0))
        checker.table.claimed.extend((x, _decimals_of(node)) for x in np.atleast_1d(v).ravel()[:1000].tolist())
    checker.claims.sort(key=lambda c: c.line)
    return CheckReport(checker.claims, source)


def _numbers(value):
    """BaseLoader strings back to numbers for an inline spec."""
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                return value
    return value


# --- a worked solution written as a student would (for the no-false-alarm check and benchmarks) ------

def student_name(step_id: str) -> str | None:
    """How a student names an engine step (z1, a2, δ2, ∂L/∂W1, W1_new, L, L_new); None: unnamed."""
    if step_id == "loss":
        return "L"
    if step_id == "after.loss":
        return "L_new"
    m = re.fullmatch(r"(after\.)?L(\d+)\.(z|a|da|dadz|delta|dW|db|W_new|b_new)", step_id)
    if not m:
        return None
    after, k, what = m.group(1), m.group(2), m.group(3)
    if after:
        return f"{what}{k}_new"
    return {"z": f"z{k}", "a": f"a{k}", "da": f"∂L/∂a{k}", "dadz": f"∂a{k}/∂z{k}", "delta": f"δ{k}",
            "dW": f"∂L/∂W{k}", "db": f"∂L/∂b{k}", "W_new": f"W{k}_new", "b_new": f"b{k}_new"}[what]


def neuron_name(step_id: str, idx: tuple, trace) -> str | None:
    """The per-neuron names of a 2-layer dense network (net_h1, out_o1, δ_h2, ∂E/∂w5, w5_new,
    ∂E/∂out_o1, ∂out_h1/∂net_h1, E_total); None where that style has no name."""
    dense, all_layers, last = _layers(trace)
    if len(dense) != 2 or all_layers != dense or last != dense[-1] or \
            any(np.ndim(trace.display(f"L{k}.W")) != 2 for k in dense):
        return None
    if step_id == "loss":
        return "E_total"
    m = re.fullmatch(r"L(\d+)\.(z|a|da|dadz|delta|dW|db|W_new|b_new)", step_id)
    if not m or trace.batch_size != 1:
        return None
    k, what = int(m.group(1)), m.group(2)
    side = "h" if k == dense[0] else "o"
    if what in ("z", "a", "da", "dadz", "delta"):
        if len(idx) != 1:
            return None  # a softmax Jacobian has no per-neuron name
        n = f"{side}{idx[0] + 1}"
        return {"z": f"net_{n}", "a": f"out_{n}", "da": f"∂E/∂out_{n}", "dadz": f"∂out_{n}/∂net_{n}",
                "delta": f"δ_{n}"}[what]
    p = "W" if what in ("dW", "W_new") else "b"
    flat = 0
    for lay in dense:
        shape = np.shape(trace.display(f"L{lay}.{p}"))
        if lay == k:
            flat += int(np.ravel_multi_index(idx, shape)) + 1
            break
        flat += int(np.prod(shape))
    letter = "w" if p == "W" else "b"
    return f"∂E/∂{letter}{flat}" if what in ("dW", "db") else f"{letter}{flat}_new"


def student_lines(trace, decimals: int, max_elements: int = 16,
                  plain: set | None = None, style: str = "index") -> list[tuple[str, tuple, str]]:
    """(step id, element index, line) for every computed element, as a student writes it:
    `z1[0] = 0.15×0.5 + 0.2×0.8 + 0.35 = 0.585` (style "index"), or with per-neuron names
    `net_h1 = …` where a 2-layer network has them (style "neuron"). Elements in `plain` are
    written as value only."""
    out = []
    for step in trace:
        if step.phase == "given" or step.id.endswith((".mask", ".samples")):
            continue
        value = np.asarray(trace.display(step.id))
        name = student_name(step.id)
        for count, idx in enumerate(np.ndindex(value.shape)):
            if count >= max_elements:
                break
            shown_value = f"{value[idx]:.{decimals}f}"
            body = []
            if not plain or (step.id, idx) not in plain:
                try:
                    body = trace.expand(step.id, idx, decimals).split(" = ")
                except NNTError:
                    body = []
            middle = " = ".join(body[1:-1]) if len(body) >= 3 else ""
            if "softmax(" in middle or "more terms" in middle:
                middle = ""  # engine shorthand, not how a student writes it
            label = f"{name}{_index_text(idx) if idx else ''}" if name else ""
            if style == "neuron" and neuron_name(step.id, tuple(idx), trace):
                label = neuron_name(step.id, tuple(idx), trace)
            parts = [p for p in (label, middle, shown_value) if p]
            if len(parts) >= 2:
                out.append((step.id, tuple(idx), " = ".join(parts)))
    return out


def student_walkthrough(trace, decimals: int, max_elements: int = 16) -> str:
    """The trace's computed steps as hand-written lines, every number rounded to `decimals`."""
    return "\n".join(line for _, _, line in student_lines(trace, decimals, max_elements)) + "\n"
