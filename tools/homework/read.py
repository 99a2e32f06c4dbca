"""Student text -> Statements: what the work asserts, line by line, in the order it was written.

A Statement is `label = form = form = …` (the label optional), read from an equation, a table row or a
sentence. Plain text, Markdown, LaTeX (align rows, `&`, `\\\\`, matrices, tabular) and prose are read
alike: notation is normalised first (notation.py), tables go through tables.py, word arithmetic
through prose.py. A number written in prose with no equation becomes a Statement of one form, with
the words before it as its context. Nothing here knows the problem; readings are judged later.
"""
from __future__ import annotations

import dataclasses

import re
from nn_tutor.tools.homework.expr import CONSTANTS, FUNCTIONS, ExprError, Token, tokenize
from nn_tutor.tools.homework.notation import Line, normalise, uses_decimal_comma
from nn_tutor.tools.homework.prose import word_arithmetic
from nn_tutor.tools.homework.sections import markers, with_section_hints
from nn_tutor.tools.homework.statement import (Form, Label, Statement, equation_sides, make_form, parse_form,
                                                spaced_vector)
from nn_tutor.tools.homework.tables import find_tables, table_statements

MAX_LINE = 4_000       # characters of one line read as maths


def read(text: str) -> list[Statement]:
    """Every statement of the work, in reading order."""
    comma = uses_decimal_comma(text)
    raw_lines = text.splitlines()
    tables = find_tables(raw_lines)
    statements: list[Statement] = []
    skip = set()
    for table in tables:
        skip.update(table.lines)
        statements.extend(table_statements(table, lambda s: normalise(s, comma)))
    for no, raw in _logical_lines(raw_lines):
        if no in skip or _structural(raw):
            continue
        statements.extend(read_line(no, raw, comma, statements))
    statements.sort(key=lambda s: s.line)
    with_section_hints(statements, markers(raw_lines))
    first = index_base(text, statements)
    if first:
        for stmt in statements:
            if stmt.label is not None and stmt.label.index is not None:
                stmt.label = dataclasses.replace(stmt.label, first=first)
    return statements


_FROM_ONE = re.compile(r"(?i)(?:ind(?:ices|exes|ex|exing)|numbering|counting)[^.\n]{0,20}?\b(?:start|begin|count)\w*"
                       r"\s+(?:at|from|with)\s+(?:1|one)\b|\b(?:1|one)-(?:based|indexed)\b")
_FROM_ZERO = re.compile(r"(?i)(?:ind(?:ices|exes|ex|exing)|numbering|counting)[^.\n]{0,20}?\b(?:start|begin|count)\w*"
                        r"\s+(?:at|from|with)\s+(?:0|zero)\b|\b(?:0|zero)-(?:based|indexed)\b")


def index_base(text: str, statements: list[Statement]) -> int:
    """Where the work's bracket indices start: as it says ("indices start at 1", "0-based"), else 1
    when no written index is 0 (W[1,1], z1[2]: the way maths is written), else 0 (z1[0])."""
    if _FROM_ZERO.search(text):
        return 0
    if _FROM_ONE.search(text):
        return 1
    written = [i for s in statements if s.label is not None and s.label.index for i in s.label.index]
    return 1 if written and 0 not in written else 0


def _logical_lines(lines: list[str]):
    """(1-based number, text) per line; a LaTeX matrix spanning lines is joined onto its first line."""
    k = 0
    while k < len(lines):
        text, start = lines[k], k
        while re.search(r"\\begin\{[pbBvV]?matrix\}", text) and \
                text.count(r"\begin{") > text.count(r"\end{") and k + 1 < len(lines) and k - start < 40:
            k += 1
            text += " " + lines[k]
        yield start + 1, text
        k += 1


_STRUCTURE_RE = re.compile(r"^\s*\\(documentclass|usepackage|begin|end|section|subsection|maketitle|title|"
                           r"author|date|newpage|noindent|hline|label|vspace|hspace)\b")


def _structural(raw: str) -> bool:
    """LaTeX scaffolding and rules that hold no working."""
    s = raw.strip()
    if not s or re.fullmatch(r"[-=_*#~|:\s]{3,}", s):
        return True
    m = _STRUCTURE_RE.match(s)
    return bool(m) and not re.search(r"\\end\{[a-z]*\*?\}\s*\S", s) and "=" not in s.split("}", 1)[-1]


# --- one line -------------------------------------------------------------------------------------

def read_line(no: int, raw: str, decimal_comma: bool, before: list[Statement]) -> list[Statement]:
    """The statements of one line of text (not a table row)."""
    if len(raw) > MAX_LINE:
        return []
    line = word_arithmetic(normalise(_drop_list_mark(raw), decimal_comma))
    try:
        tokens = tokenize(line.text, lenient=True)
    except ExprError:
        return []
    tokens = _name_value_pairs(tokens)
    out: list[Statement] = []
    prev = before[-1] if before else None
    pending = None     # `∂J/∂b = mean of δ = 0.0406`: a label whose value follows after words
    for clause, context in _clauses(tokens, line.text):
        if len(clause) == 2 and clause[0].kind == "NAME" and clause[1].kind == "EQ":
            pending = clause[0]
            continue
        if pending is not None and clause and clause[0].kind == "NAME":
            clause = [pending, Token("EQ", "=", pending.pos)] + clause
        pending = None
        stmt = _statement(no, clause, context, line)
        if stmt is None:
            continue
        stmt.after = _words_after(line.text, clause[-1].pos + len(clause[-1].text))
        if prev is not None and not out and _continues(prev, stmt, no):
            prev.forms.extend(stmt.forms)     # `E = ½(0.2)² + ½(0.3)²` / `E = 0.02 + 0.045` / `E = 0.065`
            continue
        if stmt.label is None and stmt.forms and stmt.forms[0] is None:
            # `&= 0.1297` or `= 0.1297`: the row continues the statement above
            stmt.forms = stmt.forms[1:]
            target = out[-1] if out else (prev if prev is not None and prev.line >= no - 2 else None)
            if target is not None and stmt.forms:
                target.forms.extend(stmt.forms)
            continue
        out.append(stmt)
    return out


def _name_value_pairs(tokens: list[Token]) -> list[Token]:
    """`k11 .560 k12 -.155 c -.355`: a line of names each followed by its number (two or more,
    nothing else) says name = number for each."""
    body, end = tokens[:-1], tokens[-1:]
    out, k, pairs = [], 0, 0
    while k < len(body):
        name = body[k]
        if name.kind != "NAME" or name.text in FUNCTIONS or (len(name.text) > 1 and _is_prose(name, None, [])):
            return tokens
        j = k + 1
        if j < len(body) and body[j].kind == "OP" and body[j].text in "+-":
            j += 1
        if j >= len(body) or body[j].kind != "NUM":
            return tokens
        out.extend([name, Token("EQ", "=", name.pos + len(name.text))] + body[k + 1:j + 1])
        pairs += 1
        k = j + 1
    return out + end if pairs >= 2 else tokens


_LIST_MARK_RE = re.compile(r"^\s*(?:>\s*)*(?:#+\s+|(?:\(?[a-z]\)|\d{1,2}[.)]|[-*+•])\s+)?")


def _continues(prev: Statement, stmt: Statement, no: int) -> bool:
    """A statement that restates the label of an open chain just above (one with no value yet)."""
    from nn_tutor.tools.homework.claims import literal_value

    return (prev.label is not None and stmt.label == prev.label and prev.line >= no - 2 and prev.forms
            and prev.forms[-1] is not None and literal_value(prev.forms[-1].node) is None
            and prev.source == stmt.source == "math")


def _drop_list_mark(raw: str) -> str:
    """`- `, `1. `, `(a) `, `## ` at the start of a line are layout; blanks keep the columns."""
    m = _LIST_MARK_RE.match(raw)
    return " " * m.end() + raw[m.end():] if m and m.end() else raw


_ELLIPSIS = {"…", "⋯"}
_GREEK = set("αβγδεζηθικλμνξπρστυφχψωΔΣΘΛΦΨΩ∂∇")
_SPELLED = {"alpha", "beta", "gamma", "delta", "eta", "theta", "lambda", "mu", "sigma", "lr", "yhat", "dz",
            "dw", "db", "da", "dx", "dy", "grad"}
_CONDITIONS = {"if", "when", "whenever", "otherwise", "else", "unless"}
_COMPARISONS = {"≥", "≤", "<", ">", "≠"}


def _clauses(tokens: list[Token], text: str):
    """Runs of maths in a line, cut at prose words, ';', arrows and top-level commas that start a
    new statement, each with the prose words before it (its context)."""
    toks = tokens[:-1]
    clauses, cur, depth = [], [], 0
    sentence_start = 0
    last_end = 0

    compared = False                    # the run after `≥`: a condition's threshold, not work
    aside_end = -1                      # the `)` that ends a remark in brackets

    def close(end_pos, conditional=False):
        nonlocal cur, compared
        if cur and not conditional and not compared:   # `step(z) = 1 if z ≥ 0`: a rule, not a value
            start = cur[0].pos
            context = text[sentence_start:start]
            clauses.append((cur, _words(context)))
        if cur:
            compared = False
        cur = []

    for k, tok in enumerate(toks):
        nxt = toks[k + 1] if k + 1 < len(toks) else None
        if tok.kind == "OTHER" and tok.text in _COMPARISONS and depth == 0:   # (not 𝟙[z > 0])
            close(tok.pos)
            compared = True
            continue
        if tok.kind == "OTHER" and tok.text in ".!?" and (nxt is None or nxt.space_before):
            close(tok.pos)
            sentence_start = tok.pos + 1
            depth = 0
            continue
        if tok.kind == "OTHER" and tok.text in _ELLIPSIS:
            cur = []           # an elided expression cannot be checked
            continue
        if _is_prose(tok, nxt, cur):
            if tok.kind == "NAME" and nxt is not None and nxt.kind == "EQ":
                close(tok.pos)
                cur = [tok]    # a word directly before '=' names the value: error = 1
                continue
            condition = tok.kind == "NAME" and tok.text.lower() in _CONDITIONS
            close(tok.pos, conditional=condition)
            if condition and tok.text.lower() in ("else", "otherwise"):
                compared = True        # `…, else 0`: the rule's other value
            depth = 0
            continue
        if (tok.kind == "SEMI" or (tok.kind == "OTHER" and tok.text == "|" and tok.space_before and
                                   (nxt is None or nxt.space_before))) and depth == 0:
            close(tok.pos)             # `;` and a spaced `|` between results
            continue
        if tok.kind == "COMMA" and (depth == 0 or _starts_statement(toks, k + 1)):
            if _starts_statement(toks, k + 1) or not _continues_list(cur, toks[k + 1:]):
                close(tok.pos)
                depth = 0
                continue
        if tok.kind == "NAME" and cur and _starts_statement(toks, k) and _ends_with_value(cur):
            close(tok.pos)         # `w=0.5 b=0`, `w=(0.8, 0.8) b=0`: a new statement starts
            depth = 0
        if k == aside_end:
            close(tok.pos)             # the end of a remark in brackets
            aside_end = -1
            continue
        if tok.kind == "LP" and depth == 0 and tok.space_before and _ends_with_value(cur):
            end = _aside(toks, k)
            if end is not None:        # `d3 = .090   (dw = d*.8: …)`: a remark of its own
                close(tok.pos)
                aside_end = end
                continue
        if tok.kind in ("LP", "LB"):
            depth += 1
        elif tok.kind in ("RP", "RB"):
            depth = max(depth - 1, 0)
        cur.append(tok)
        last_end = tok.pos + len(tok.text)
    close(last_end)
    return clauses


def _aside(toks: list[Token], k: int) -> int | None:
    """The index of the `)` closing the `(` at k when the brackets hold a remark with an equation or
    a colon (`(2/K = 1 for K = 2)`, `(dw = d·x: …)`), not a factor of the value before them."""
    depth = 0
    for j in range(k, len(toks)):
        depth += {"LP": 1, "RP": -1}.get(toks[j].kind, 0)
        if depth == 0:
            inner = toks[k + 1:j]
            said = any(t.kind == "EQ" or (t.kind == "OTHER" and t.text == ":") for t in inner)
            return j if said else None
    return None


def _words_after(text: str, end: int) -> str:
    """The words after a clause, to the end of its sentence."""
    stop = text.find(". ", end)
    return _words(text[end:stop if stop >= 0 else len(text)])[:80]


def _words(context: str) -> str:
    return " ".join(re.findall(r"[A-Za-zα-ωΑ-Ω][A-Za-zα-ωΑ-Ω'-]*|\d+", context.lower()))[-160:]


def _is_prose(tok: Token, nxt: Token | None, cur: list[Token]) -> bool:
    """A word of prose (not a name, function or operator of the maths around it)."""
    if tok.kind == "OTHER":
        return tok.text not in ("|",)
    if tok.kind != "NAME":
        return False
    t = tok.text
    if t in FUNCTIONS and len(t) > 1:
        calls = nxt is not None and (nxt.kind == "LP" or (nxt.kind == "OP" and nxt.text == "'") or
                                     (t in ("exp", "ln", "log", "sqrt") and nxt.kind in ("NUM", "NAME")))
        return not calls
    if t in FUNCTIONS or t in CONSTANTS:
        return False
    if any(ch.isdigit() or ch in "_Λðŷ'" for ch in t) or "ð" in t or t[0] in _GREEK or t.lower() in _SPELLED:
        return False            # δo, σ, η, alpha, eta: a Greek letter starts a name, not a word
    if len(t) == 1:
        return False
    if nxt is not None and (nxt.kind == "EQ" or (nxt.kind == "LB" and not nxt.space_before)):
        return False   # a word used as a name: error = 1, loss = 0.3, delta[0]
    return True


def _ends_with_value(cur: list[Token]) -> bool:
    """The clause so far ends `… = <a number or a bracketed list of numbers>`."""
    eqs = [i for i, t in enumerate(cur) if t.kind == "EQ"]
    if not eqs:
        return False
    tail = cur[eqs[-1] + 1:]
    return bool(tail) and any(t.kind == "NUM" for t in tail) and tail[-1].kind in ("NUM", "RP", "RB") and all(
        t.kind in ("NUM", "COMMA", "SEMI", "LP", "RP", "LB", "RB") or (t.kind == "OP" and t.text == "-") for t in tail)


def _starts_statement(toks: list[Token], k: int) -> bool:
    """`…, name = …` or `…, name[0] = …`: a comma followed by a new labelled statement."""
    if k >= len(toks) or toks[k].kind != "NAME":
        return False
    j = k + 1
    if j < len(toks) and toks[j].kind == "LB":
        while j < len(toks) and toks[j].kind != "RB":
            j += 1
        j += 1
    return j < len(toks) and toks[j].kind == "EQ"


def _continues_list(cur: list[Token], rest: list[Token]) -> bool:
    """`yhat = 0.5, 1, 1.5`: a comma between plain numbers after '=' continues a list of values
    (not when the next item computes something: `0.5 × 0.8 = 0.4, 0.7 × 0.3 = 0.21`)."""
    nxt = rest[0] if rest else None
    if nxt is None or not cur:
        return False
    item = []
    for t in rest:
        if t.kind in ("COMMA", "SEMI") or (t.kind == "NAME" and item):
            break
        item.append(t)
    if any(t.kind == "EQ" or (t.kind == "OP" and t.text not in "-") for t in item[1:]):
        return False
    if nxt.kind not in ("NUM",) and not (nxt.kind == "OP" and nxt.text == "-"):
        return False
    plain = lambda toks: all(t.kind in ("NUM", "COMMA") or (t.kind == "OP" and t.text == "-") for t in toks)
    eq = max((i for i, t in enumerate(cur) if t.kind == "EQ"), default=None)
    if eq is None:                 # `the predictions are now 1.358, 2.497, 3.635`: three or more numbers
        run = []
        for t in rest:
            if not (t.kind in ("NUM", "COMMA") or (t.kind == "OP" and t.text == "-")):
                break
            run.append(t)
        after = rest[len(run)] if len(run) < len(rest) else None
        numbers = sum(1 for t in cur + run if t.kind == "NUM")     # (`.142, .071, -.142 / -.588`: a matrix)
        return plain(cur) and numbers >= 3 and (after is None or after.kind not in ("OP", "EQ", "LP", "LB"))
    tail = cur[eq + 1:]
    return bool(tail) and plain(tail)


def _statement(no: int, clause: list[Token], context: str, line: Line) -> Statement | None:
    """`label = e0 = e1 …` from a clause's tokens (None when nothing in it reads as maths)."""
    groups = equation_sides(_balanced(clause))
    if len(groups) == 1:
        return _bare_numbers(no, groups[0], context, line)
    label, first = _label(groups[0])
    forms: list[Form | None] = []
    if not groups[0]:
        forms.append(None)                       # `= 0.1297`: continues the statement above
    elif first:
        form = parse_form(first, line, prefix_ok=False, tail_ok=True)
        if form is not None:
            forms.append(form)
        elif len(groups) < 3 and not _has_number(groups[1]):
            return None                          # words before '=' and no value after it
    # a first part that reads as nothing (`dL/dK (correlate …) =`) is left out; the values stand
    for g_i, group in enumerate(groups[1:], 1):
        last = g_i == len(groups) - 1
        form = parse_form(group, line, prefix_ok=last, tail_ok=False)
        if form is None:
            if last or not group:
                break
            continue          # an unreadable middle form: its neighbours still state the same value
        forms.append(form)
    if not [f for f in forms if f is not None]:
        return None
    return Statement(no, label, forms, context)


def _has_number(toks: list[Token]) -> bool:
    return any(t.kind == "NUM" for t in toks)


def _balanced(toks: list[Token]) -> list[Token]:
    """A clause cut out of brackets (`(x = 2, y = 3)`, `(η = 0.1)`) without the brackets around it."""
    while toks and toks[0].kind == "LP" and sum(t.kind == "LP" for t in toks) > sum(t.kind == "RP" for t in toks):
        toks = toks[1:]
    while toks and toks[-1].kind == "RP" and sum(t.kind == "RP" for t in toks) > sum(t.kind == "LP" for t in toks):
        toks = toks[:-1]
    while len(toks) > 2 and toks[0].kind == "LP" and toks[-1].kind == "RP" and _closes_at_end(toks) and \
            any(t.kind == "EQ" for t in toks):
        toks = toks[1:-1]
    return toks


def _closes_at_end(toks: list[Token]) -> bool:
    """The opening bracket at the start is closed by the last token (not earlier)."""
    depth = 0
    for k, t in enumerate(toks):
        depth += {"LP": 1, "RP": -1}.get(t.kind, 0)
        if depth == 0:
            return k == len(toks) - 1
    return False


def _bare_numbers(no: int, toks: list[Token], context: str, line: Line) -> Statement | None:
    """A run of maths with no '=' (a number or vector in prose): one statement of one form."""
    if not any(t.kind == "NUM" for t in toks):
        return None
    spaced = spaced_vector(toks)             # `-.0279 -.0292` with nothing to equal: a vector, not a difference
    form = make_form(spaced, toks, line) if spaced is not None else \
        parse_form(toks, line, prefix_ok=True, tail_ok=True)
    if form is None:
        return None
    return Statement(no, None, [form], context, source="prose")


def _label(group: list[Token]) -> tuple[Label | None, list[Token]]:
    """A leading name (with an optional [i, j] index) is the label; otherwise the group is a form."""
    if not group or group[0].kind != "NAME" or (group[0].text in FUNCTIONS and len(group) > 1):
        return None, group        # (`sum = 2.27`, `max = 1.4`: a function's name alone names a value)
    name, rest = group[0].text, group[1:]
    if not rest:
        return Label(name), []
    if rest[0].kind == "LB" and rest[-1].kind == "RB" and len(rest) > 2 and \
            all(t.kind in ("NUM", "COMMA") for t in rest[1:-1]) and \
            all(t.decimals == 0 for t in rest[1:-1] if t.kind == "NUM"):
        return Label(name, tuple(int(t.value) for t in rest[1:-1] if t.kind == "NUM")), []
    return None, group
