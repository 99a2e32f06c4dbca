"""Lines of student work -> arithmetic chains: `label = expr = expr = value`, link by link.

Prose, headings and non-mathematical numbers are skipped; a chain may continue over consecutive
lines that restate the same quantity; an elided equation (`… = 1.3`) is not read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from nn_tutor.engine.expr import CONSTANTS, FUNCTIONS, ExprError, Node, Parser, Token, literals, names, tokenize
from nn_tutor.tools.homework_names import canon
from nn_tutor.tools.homework_notation import reader_line, table_header

MAX_LINE = 4_000


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


def parse_tokens(toks: list[Token], prefix_ok: bool) -> tuple[Node | None, int]:
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


def label_of(part0: list[Token]) -> tuple[str | None, tuple | None, list[Token]]:
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
        found = table_header(raw, following)
        if found is not None:
            header = found
            if len(found) != 2:
                continue
        if "|" not in raw:
            header = None
        line = reader_line(raw, header)
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
            label, index, part0 = label_of(groups[0])
            parts: list[Part] = []
            bad_start = False
            if part0:
                node, used = parse_tokens(part0, prefix_ok=False)
                if node is None:
                    # prose or symbols before the first '=': keep the longest readable tail
                    for start in range(1, len(part0)):
                        if part0[start].kind == "OP" and part0[start].text not in "-√":
                            continue
                        node, used = parse_tokens(part0[start:], prefix_ok=False)
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
                node, used = parse_tokens(group, prefix_ok=last)
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
                                    (f"{shown(label)}{index_text(index)} = " if label else "")
                                    + " = ".join(p.text for p in parts)))
                if label:
                    known.add(canon(label))
            first_clause = False
            last_line_with_chain = no
    return chains


def index_text(index) -> str:
    return "" if index is None else "[" + ", ".join(str(i) for i in index) + "]"



def decimals_of(node: Node) -> int | None:
    """The decimals a written number (or vector of numbers) shows; None for a computed expression."""
    if node.kind == "num":
        return node.decimals
    if node.kind == "neg" and node.children[0].kind == "num":
        return node.children[0].decimals
    lits = literals(node)
    if node.kind == "vec" and lits:
        return max(l.decimals for l in lits)
    return None
