"""Plain tables aligned with spaces: a header of short names over rows of numbers in the same columns.

    ep smp x    y | z     yhat err | w after      b after
    1  1   0,0  1 | -.3  0    1   | (.2,.5)    0

Fields are runs of text without spaces (a bracketed vector may hold spaces), `|` only separates.
Each field of the first row belongs to the header word that starts nearest to it; header words no
field starts under join the word before them (`w after`). Later rows belong to the table while they
have one field per column, each nearest its own column; one line that does not fit (`errors ep1: 2`)
may sit between rows and is read as text.
"""
from __future__ import annotations

import re

MIN_COLUMNS = 3
_FIELD = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|[^\s|]+")
_NUMBERISH = re.compile(r"[-−+]?(\d+([.,]\d*)?|[.,]\d+)|[(\[][^()\[\]]*\d[^()\[\]]*[)\]]|\d+([.,]\d+)?(,\s*[-−]?\d*[.,]?\d+)+")


def _fields(line: str) -> list[tuple[str, int]]:
    return [(m.group(0), m.start()) for m in _FIELD.finditer(line)]


def _is_header(fields: list[tuple[str, int]]) -> bool:
    return len(fields) >= MIN_COLUMNS and all(len(f) <= 16 and not _NUMBERISH.fullmatch(f) for f, _ in fields)


def _is_row(fields: list[tuple[str, int]]) -> bool:
    numeric = sum(1 for f, _ in fields if _NUMBERISH.fullmatch(f))
    return len(fields) >= MIN_COLUMNS and numeric >= max(2, len(fields) - 1)


def _nearest(col: int, starts: list[int]) -> int:
    return min(range(len(starts)), key=lambda k: (abs(starts[k] - col), k))


def spaced_table(lines: list[str], k: int):
    """A space-aligned table starting at line k (0-based): (header cells, rows of (1-based line,
    cells), its 1-based lines, the index of the first line after it), each cell (text, column)."""
    header = _fields(lines[k])
    if not _is_header(header) or k + 1 >= len(lines):
        return None
    first = _fields(lines[k + 1])
    if not _is_row(first):
        return None
    starts = [col for _, col in header]
    owners = [_nearest(col, starts) for _, col in first]
    if len(set(owners)) != len(owners) or owners != sorted(owners):
        return None
    columns = []                         # the header words joined per column, at the first word's column
    for n, owner in enumerate(owners):
        end = owners[n + 1] if n + 1 < len(owners) else len(header)
        if n == 0 and owner > 0:
            owner = 0
        words = [w for w, _ in header[owner:end]]
        columns.append((" ".join(words), header[owner][1]))
    column_starts = [col for _, col in columns]
    rows, used = [], [k + 1]
    j, skipped = k + 1, 0
    while j < len(lines):
        fields = _fields(lines[j])
        if len(fields) == len(columns) and _is_row(fields) and \
                all(_nearest(col, column_starts) == n for n, (_, col) in enumerate(fields)):
            rows.append((j + 1, list(fields)))
            used.append(j + 1)
            skipped = 0
        elif skipped == 0 and lines[j].strip() and j + 1 < len(lines):
            skipped = 1                  # one line of text between rows
        else:
            break
        j += 1
    if len(rows) < 2:
        return None
    return columns, rows, used, used[-1]
