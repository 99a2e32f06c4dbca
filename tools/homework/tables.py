"""Tables of working -> Statements: Markdown, LaTeX tabular, plain `a | b | c` and space-aligned tables.

A header cell names its column (`ŷ`, `net`, `∂L/∂w`), gives it a formula (`z = 0.4x1 − 0.6x2 + 0.1`,
`½(ŷ − y)²`, `δ·x1`) or marks an index column (`sample`, `i`, `epoch`, `row`). Each numeric cell becomes
a statement `name = formula = cell`, the formula computed from the other cells of its row (the row's
bindings). A first cell that is a word names the row (`| h1 | 0.3775 | 0.5933 |` under `| neuron | net
| out |` gives net_h1 and out_h1; `| ∂L/∂ŷ | −0.5562 |` under `| quantity | value |` gives ∂L/∂ŷ).
A footer row (`Σ`, `sum`, `total`, `mean`) states the sum or mean of its column.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from nn_tutor.tools.homework.expr import ExprError, tokenize
from nn_tutor.tools.homework.notation import Line
from nn_tutor.tools.homework.spaced_tables import spaced_table
from nn_tutor.tools.homework.statement import Form, Label, Statement, equation_sides, parse_form

_SEPARATOR_RE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_INDEX_WORDS = {"#", "i", "n", "k", "j", "s", "sample", "samples", "smp", "row", "rows", "epoch", "ep", "it", "iter",
                "iteration", "step", "block", "window", "neuron", "unit", "node", "quantity", "name", "class",
                "pair", "point", "case", "input", "obs", "example", "t", "position", "cell", "no", "nr",
                "layer", "what", "term", "item", "parameter", "param", "weight", "entry", "region", "pool",
                "m", "id", "index", ""}
_HINT_WORDS = {"sample": "sample", "samples": "sample", "smp": "sample", "s": "sample", "i": "sample", "n": "sample",
               "k": "sample", "point": "sample", "example": "sample", "obs": "sample", "case": "sample",
               "pair": "sample", "input": "sample", "#": "sample", "j": "sample", "m": "sample",
               "epoch": "epoch", "ep": "epoch", "it": "iteration", "iter": "iteration",
               "iteration": "iteration", "step": "iteration", "row": "row", "rows": "row", "t": "iteration"}
_WORK_WORDS = {"computation", "calculation", "calc", "work", "working", "workings", "how", "expression", "computed"}
_NAME_WORDS = {"quantity", "name", "what", "parameter", "param", "term", "item", "symbol", "variable"}
_FOOTERS = {"σ": "sum", "∑": "sum", "sum": "sum", "total": "sum", "totals": "sum", "mean": "mean",
            "avg": "mean", "average": "mean", "sum/3": "mean"}


@dataclass
class Table:
    """A table found in the text: its header cells and rows of (cell text, raw column)."""

    header: list[tuple[str, int]]
    header_line: int
    rows: list[tuple[int, list[tuple[str, int]]]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


def _cells(line: str, sep: str) -> list[tuple[str, int]]:
    """Cells of a row with the raw column where each starts (outer pipes dropped)."""
    out = []
    body = line.rstrip()
    if sep == "&":
        body = re.sub(r"\\\\\s*(\\hline)?\s*$", lambda m: " " * len(m.group(0)), body)
    parts = body.split(sep)
    pos = 0
    for k, part in enumerate(parts):
        if not (sep == "|" and (k == 0 or k == len(parts) - 1) and not part.strip()):
            lead = len(part) - len(part.lstrip())
            out.append((part.strip(), pos + lead))
        pos += len(part) + 1
    return out


def find_tables(lines: list[str]) -> list[Table]:
    """Markdown tables (header, |---| rule, rows), LaTeX tabular and plain pipe tables."""
    tables: list[Table] = []
    k = 0
    while k < len(lines):
        for reader in (_markdown_table, _latex_tabular, _spaced_table, _pipe_table):
            found = reader(lines, k)
            if found is not None:
                table, k = found
                if table is not None:
                    tables.append(table)
                break
        else:
            k += 1
    return tables


def _rows_from(lines: list[str], j: int, table: Table, belongs) -> int:
    """Add lines from j on to the table while `belongs(line)`; the index of the first line left."""
    while j < len(lines) and belongs(lines[j]):
        table.rows.append((j + 1, _cells(lines[j], "|")))
        table.lines.append(j + 1)
        j += 1
    return j


def _markdown_table(lines: list[str], k: int):
    line = lines[k]
    if not ("|" in line and k + 1 < len(lines) and _SEPARATOR_RE.match(lines[k + 1]) and "|" in lines[k + 1]):
        return None
    t = Table(_cells(line, "|"), k + 1, lines=[k + 1, k + 2])
    return t, _rows_from(lines, k + 2, t, lambda row: "|" in row and row.strip())


def _latex_tabular(lines: list[str], k: int):
    if not re.search(r"\\begin\{(tabular|array)\}", lines[k]):
        return None
    j = k + 1
    rows = []
    while j < len(lines) and not re.search(r"\\end\{(tabular|array)\}", lines[j]):
        if "&" in lines[j]:
            rows.append((j + 1, _cells(lines[j], "&")))
        j += 1
    if not rows:
        return None, j + 1
    header_line, header = rows[0]
    return Table(header, header_line, rows[1:], list(range(k + 1, j + 2))), j + 1


def _pipe_table(lines: list[str], k: int):
    line = lines[k]
    bars = line.count("|")
    if not (bars >= 2 and k + 1 < len(lines) and lines[k + 1].count("|") == bars and _is_plain_header(line)):
        return None
    t = Table(_cells(line, "|"), k + 1, lines=[k + 1])
    return t, _rows_from(lines, k + 1, t, lambda row: row.count("|") == bars)


def _spaced_table(lines: list[str], k: int):
    found = spaced_table(lines, k)
    if found is None:
        return None
    header, rows, used, after = found
    return Table(header, k + 1, rows, used), after


def _is_plain_header(line: str) -> bool:
    """`it | w | b | L`: a pipe row of short names, not numbers."""
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    return all(c and len(c) <= 24 and not re.fullmatch(r"[-−]?\d+(\.\d+)?", c) for c in cells)


# --- statements -------------------------------------------------------------------------------------

@dataclass
class _Column:
    label: str | None        # the name the header gives its cells
    formula: str | None      # a formula computing the cell from its row
    hint: str | None = None  # an index column: sample, epoch, iteration, row
    index: bool = False      # the column numbers or names rows instead of holding values
    col: int | None = None   # `c2`, `col 2`: the matrix column its cells sit in (1-based)
    new: bool = False        # `new value`, `after`: the row's quantity after the update
    work: bool = False       # `computation`, `working`: how the row's value was computed
    names: bool = False      # `quantity`, `name`: the column names the rows


_POSITION_RE = re.compile(r"(?:col(?:umn)?|c)\s*(\d+)|(\d+)")
_ROW_RE = re.compile(r"^(?:r(?:ow)?\s*(\d+))$")


def _column(header: str, normalise) -> _Column:
    text = normalise(header).text.strip()
    plain = re.sub(r"[*_`$\\]", "", header).strip().lower()
    m = _POSITION_RE.fullmatch(plain)
    if m:
        return _Column(None, None, col=int(m.group(1) or m.group(2)))
    if plain in _WORK_WORDS:
        return _Column(None, None, work=True)
    if plain in _INDEX_WORDS:
        return _Column(None, None, _HINT_WORDS.get(plain), index=True, names=plain in _NAME_WORDS)
    if re.search(r"\b(new|updated|after)\b", plain):
        named = re.fullmatch(r"(?:new|updated)\s+([A-Za-zα-ωŷ]\w{0,3})|([A-Za-zα-ωŷ]\w{0,3}?)[\s_(]*(?:new|updated|after)\)?",
                             re.sub(r"[*`$\\]", "", header).strip(), re.IGNORECASE)
        base = named and (named.group(1) or named.group(2))
        return _Column(f"{base}_new" if base else None, None, new=True)      # `b new`, `w after`
    if plain in ("value", "values", "result", "results", "answer", "=", "old", "before", "initial", "start",
                 "current", "given", "old value", "initial value"):
        return _Column(None, None)
    if "=" in text:
        name, _, formula = text.partition("=")
        name = name.strip()
        if re.fullmatch(r"[^\s=]+", name or "-"):
            return _Column(name, formula.strip() or None)
        return _Column(None, formula.strip() or None)
    if re.fullmatch(r"[A-Za-zα-ωΑ-Ωŷð∂Λ_'\d]+(\[\d+(,\s*\d+)*\])?", text.replace(" ", "")):
        return _Column(text.replace(" ", ""), None)
    return _Column(None, text)


def _first_column_names_rows(table: Table, first: _Column) -> bool:
    """The first column names or numbers the rows (r1, h1, K11 = 0.5, ∂L/∂ŷ, 1, 2, …)."""
    cells = [cells[0][0] for _, cells in table.rows if cells]
    if not cells:
        return False
    texty = sum(1 for c in cells if c and not re.fullmatch(r"[-−+]?\d*\.?\d+", c.replace(" ", "")))
    return first.index or texty >= max(1, len(cells) // 2)


def _row_label(cell: str, normalise) -> tuple[str | None, int | None]:
    """(name, row number) of a row's first cell: `K11 = 0.5` -> K11, `r2` -> row 2."""
    plain = re.sub(r"[*_`$\\]", "", cell).strip()
    m = _ROW_RE.match(plain.lower())
    if m:
        return None, int(m.group(1))
    name = normalise(plain.partition("=")[0]).text.strip()
    name = re.sub(r"\s+", "", name)
    return (name if re.fullmatch(r"[^\s]{1,24}", name or "-") and re.search(r"[A-Za-zα-ωΑ-Ωŷð]", name) else None), None


def _combined(column: _Column, row: str | None, pair_table: bool) -> str | None:
    """The name of a cell from its column header and its row's name."""
    if row is None:
        return column.label
    if column.new:
        return f"{row}_new"
    if column.label is None:
        return row if column.formula is None else None
    header = column.label
    if "ð" in header:                       # ∂L/∂K with row K11 -> ∂L/∂K11
        return f"{header.partition('ð')[0]}ðd{row}"
    return f"{header}_{row}"


def table_statements(table: Table, normalise) -> list:
    """The statements of a table, row by row, cells left to right."""
    columns = [_column(h, normalise) for h, _ in table.header]
    rows_named = bool(columns) and _first_column_names_rows(table, columns[0])
    namer = next((c for c, col in enumerate(columns) if col.names and c > 0), None)   # `| # | quantity | …`
    values = columns[1:] if rows_named else columns
    if len(values) >= 2 and all(c.col is not None for c in values):
        return _matrix_rows(table, normalise, rows_named)
    pair_table = len(columns) == 2
    out = []
    above: dict[int, list[str]] = {}      # column -> texts of the values above (for Σ and mean rows)
    for line_no, cells in table.rows:
        first = cells[0][0] if cells else ""
        footer = _FOOTERS.get(re.sub(r"[*_`$\\]", "", first).strip().lower())
        hints, bindings, row_name = {}, {}, None
        parsed, work = [], None
        for c, (cell, col) in enumerate(cells):
            column = columns[c] if c < len(columns) else _Column(None, None)
            if column.work:
                work = normalise(" " * col + cell) if re.search(r"\d", cell) else None
                continue
            if c == namer:
                if not footer:
                    row_name, _ = _row_label(cell, normalise)     # `| 2 | ŷ = w2·h + b2 | 7 | 3·2 + 1 |`
                continue
            if c == 0 and rows_named:
                if not footer:
                    value = _integer(cell)
                    if column.hint and value is not None:
                        hints[column.hint] = value
                    else:
                        row_name, row_number = _row_label(cell, normalise)
                        if row_number is not None:
                            hints["row"] = row_number
                continue
            if column.index:
                value = _integer(cell)
                if value is not None and column.hint:
                    hints[column.hint] = value
                continue
            parsed.append((c, column, normalise(" " * col + cell)))
        for c, column, line in parsed:
            value_toks = _last_value(_tokens(line))
            if value_toks is None:
                continue
            for name in _bound_names(column, table.header[c][0] if c < len(table.header) else "", normalise):
                bindings.setdefault(name, _signed(value_toks))
        for c, column, line in parsed:
            toks = _tokens(line)
            if not any(t.kind == "NUM" for t in toks):
                continue
            groups = _split_eq(toks)
            forms = []
            if footer and len(groups) == 1 and above.get(c):
                total = " + ".join(f"({t})" for t in above[c])
                forms.append(_formula_form(f"({total})" + (f"/{len(above[c])}" if footer == "mean" else ""), line))
            elif column.formula and not footer:
                forms.append(_formula_form(column.formula, line))
            elif work is not None and column.label is None and not column.new:
                work_toks = _tokens(work)          # the row's computation column, before its value
                if work_toks:
                    forms.append(parse_form(work_toks, work, prefix_ok=False, tail_ok=False))
            for g_i, g in enumerate(groups):
                form = parse_form(g, line, prefix_ok=g_i == len(groups) - 1, tail_ok=g_i == 0)
                if form is not None:
                    forms.append(form)
            forms = [f for f in forms if f is not None]
            if not forms:
                continue
            name = None if footer else _combined(column, row_name, pair_table)
            cell_hints = dict(hints, cell=(table.header_line, c, line_no))   # its table, column and row
            if column.col is not None:
                cell_hints["col"] = column.col
            for label, cell_forms in _named_parts(name, forms):
                out.append(Statement(line_no, label, cell_forms, context=_context(footer, row_name, table),
                                     source="table", bindings=dict(bindings), hints=dict(cell_hints)))
            if not footer and len(groups) == 1 and len(groups[0]) <= 3:
                above.setdefault(c, []).append(forms[-1].text)
    return out


def _named_parts(name: str | None, forms: list) -> list[tuple[Label | None, list]]:
    """(label, forms) of a cell; a row naming several quantities over as many values
    (`| ∂L/∂z11, ∂L/∂z12 | −0.3, −0.3 |`) gives each name its own value."""
    names = [n for n in (name or "").split(",") if n]
    last = forms[-1].node if forms else None
    if len(names) > 1 and last is not None and last.kind == "vec" and len(last.children) == len(names) and \
            all(re.fullmatch(r"[^\s]+", n) for n in names):
        form = forms[-1]
        return [(Label(n), [Form(child, form.text, form.line, form.no)]) for n, child in zip(names, last.children)]
    return [(Label(name) if name and re.fullmatch(r"[^\s]+", name) else None, forms)]


def _matrix_rows(table: Table, normalise, rows_named: bool) -> list:
    """A table whose columns are positions (c1, c2, …): each row is a row of a matrix, one vector."""
    out = []
    for k, (line_no, cells) in enumerate(table.rows, start=1):
        hints = {"row": k, "table": table.header_line}
        body = cells
        if rows_named and cells:
            _, number = _row_label(cells[0][0], normalise)
            hints["row"] = number or k
            body = cells[1:]
        text, cols = "[", [body[0][1] if body else 0]
        for i, (cell, col) in enumerate(body):
            if i:
                text += ", "
                cols.extend([col, col])
            piece = normalise(" " * col + cell)
            start = len(piece.text) - len(piece.text.lstrip())
            text += piece.text[start:]
            cols.extend(piece.cols[start:])
        text += "]"
        cols.append(cols[-1])
        line = Line(text, tuple(cols))
        toks = _tokens(line)
        form = parse_form(toks, line, prefix_ok=False, tail_ok=False) if toks else None
        if form is not None and form.node.kind == "vec":
            out.append(Statement(line_no, None, [form], context=_context(None, None, table),
                                 source="table", hints=hints))
    return out


def _bound_names(column: _Column, header: str, normalise) -> list[str]:
    """Names a column's cells give values to in their row: its label, and `σ′` for a header `σ′(z)`."""
    names = [column.label] if column.label else []
    text = normalise(header).text.strip().replace(" ", "")
    m = re.fullmatch(r"([A-Za-zα-ωΑ-Ωŷ][\wŷ']*)\(\w+\)", text)
    if m:
        names.append(m.group(1))
    return names


def _tokens(line: Line) -> list:
    try:
        return tokenize(line.text, lenient=True)[:-1]
    except ExprError:
        return []


def _formula_form(text: str, line):
    """A header formula (or a footer's sum) as a form; its numbers sit at the cell's column."""
    here = line.col(len(line.text) - len(line.text.lstrip()))
    formula_line = Line(text, tuple([here] * len(text)))
    try:
        toks = tokenize(text, lenient=True)[:-1]
    except ExprError:
        return None
    return parse_form(toks, formula_line, prefix_ok=False, tail_ok=False) if toks else None


def _split_eq(toks):
    return [side for side in equation_sides(toks) if side]


def _last_value(toks):
    """The tokens of the value a cell ends with (`… = 0.30` -> 0.30; `−0.3` -> − 0.3)."""
    groups = _split_eq(toks)
    if not groups:
        return None
    g = groups[-1]
    if len(g) == 1 and g[0].kind == "NUM":
        return g
    if len(g) == 2 and g[0].kind == "OP" and g[0].text == "-" and g[1].kind == "NUM":
        return g
    return None


def _signed(toks) -> float:
    return -toks[-1].value if len(toks) == 2 else toks[0].value


def _integer(cell: str) -> int | None:
    m = re.search(r"\d+", cell)
    return int(m.group(0)) if m and re.fullmatch(r"[^\d]{0,12}\d+[^\d.]{0,12}", cell.strip()) else None


def _context(footer: str | None, row_name: str | None, table: Table) -> str:
    words = " ".join(h for h, _ in table.header)
    return " ".join(x for x in (footer, row_name, words) if x).lower()[:160]
