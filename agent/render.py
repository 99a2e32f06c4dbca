"""Render a Trace as text, Markdown, LaTeX or JSON: formula → numbers substituted → result, with shapes.

Plain string building (no rich) so `nnt walk` starts fast; the chat prints these strings through rich.
"""
from __future__ import annotations

import json

import numpy as np

from nn_tutor.agent import latex
from nn_tutor.engine.numfmt import MAX_INLINE, fmt_array, fmt_num, shape_text
from nn_tutor.engine.trace import Trace

PHASE_TITLES = {
    "given": "Given", "forward": "Forward pass", "loss": "Loss", "backward": "Backpropagation",
    "update": "Gradient-descent update", "after": "Forward pass with the updated parameters",
}
ONLY = {  # --only PHASE -> phases shown
    "forward": ("given", "forward"), "loss": ("loss",), "backward": ("backward",),
    "update": ("update", "after"),
}
FORMATS = ("text", "markdown", "latex", "json", "notebook")


def phases_for(only: str | None) -> tuple[str, ...] | None:
    """The phases shown for `--only` (None shows everything)."""
    return ONLY[only] if only else None


def render_trace(trace: Trace, fmt: str = "text", precision: int = 4,
                 phases: tuple[str, ...] | None = None, expand_limit: int = 6) -> str:
    """The whole walkthrough in one format; steps of `phases` only when given.

    Formats: text, markdown, latex (a document pdflatex compiles), json (never NaN or Infinity), and
    notebook (Markdown with the formulas as LaTeX maths, what Jupyter shows).
    """
    if fmt == "json":
        return json.dumps(_json_safe(trace.to_dict(None, phases)), ensure_ascii=False, indent=1, allow_nan=False)
    return _writer(fmt, precision, expand_limit).document(trace, phases)


def _json_safe(value):
    """A masked −∞ (the only non-finite value a trace may hold) written as the string "-inf"."""
    if isinstance(value, float) and not np.isfinite(value):
        return "-inf" if value == -np.inf else str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def render_step(trace: Trace, step_id: str, precision: int = 4, fmt: str = "text",
                expand_limit: int = 64) -> str:
    """One step in full (the /why STEP view): formula, numbers, result, and every element written out."""
    writer = _writer(fmt, precision, expand_limit)
    text = writer.step(trace, trace[step_id])
    return writer.standalone(text) if isinstance(writer, _Latex) else text


def _writer(fmt: str, precision: int, expand_limit: int) -> "_Text":
    writers = {"text": _Text, "markdown": _Markdown, "latex": _Latex, "notebook": _NotebookMarkdown}
    return writers.get(fmt, _Text)(precision, expand_limit)


def step_lines(trace: Trace, step, precision: int, expand_limit: int) -> dict:
    """The parts every format shows for a step: label, formula, substituted, value, expansions."""
    value = trace.display(step.id)
    expansions = []
    if step.op is not None and step.op.expand is not None and 0 < value.size <= expand_limit:
        expansions = [trace.expand(step.id, idx, precision) for idx in np.ndindex(value.shape)]
    return {"id": step.id, "label": step.label, "formula": step.formula,
            "substituted": trace.substituted(step.id, precision),
            "value": fmt_array(value, precision, limit=400), "shape": shape_text(value),
            "expansions": expansions, "note": step.note}


def log_scale(values) -> bool:
    """A loss curve is drawn on a log scale when it spans more than two decades (terminal and PNG)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return v.size > 1 and float(v.min()) > 0 and float(v.max()) / float(v.min()) > 100


def ascii_curve(values: list[float], width: int = 60, height: int = 10) -> str:
    """A loss curve drawn with characters (for the terminal); log scale when it spans decades."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size < 2:
        return ""
    log = log_scale(v)
    cols = np.linspace(0, v.size - 1, min(width, v.size)).astype(int)
    pts = np.log10(v[cols]) if log else v[cols]
    lo, hi = float(pts.min()), float(pts.max())
    span = hi - lo or 1.0
    rows = [[" "] * len(pts) for _ in range(height)]
    for c, val in enumerate(pts):
        rows[int(round((hi - val) / span * (height - 1)))][c] = "•"
    shown = (lambda y: fmt_num(10.0 ** y, 4)) if log else (lambda y: fmt_num(y, 4))
    labels = {0: shown(hi), height - 1: shown(lo)}
    if log:
        labels[(height - 1) // 2] = shown(hi - (height - 1) // 2 * span / (height - 1))
    label_w = max(len(t) for t in labels.values())
    out = [f"{labels.get(r, ''):>{label_w}} │{''.join(row)}" for r, row in enumerate(rows)]
    out.append(" " * label_w + " └" + "─" * len(pts))
    out.append(" " * label_w + f"  iteration 0 … {v.size - 1}" + ("   (log scale)" if log else ""))
    return "\n".join(out)


class _Text:
    """Plain terminal text."""

    def __init__(self, precision: int, expand_limit: int):
        self.p, self.limit = precision, expand_limit

    def document(self, trace: Trace, phases) -> str:
        out = [self.title(trace.title or "Walkthrough")]
        if trace.conventions:
            out.append(self.conventions(trace.conventions))
        current = None
        for step in trace:
            if phases and step.phase not in phases:
                continue
            if step.phase != current:
                current = step.phase
                out.append(self.heading(PHASE_TITLES.get(current, current)))
            out.append(self.step(trace, step))
        if not phases or "loss" in phases or "after" in phases:
            summary = self.summary(trace)
            if summary:
                out.append(summary)
        for table in trace.tables:
            out.append(self.table(table))
        if "loss_history" in trace.info and (not phases or "update" in phases):
            out.append(self.curve(trace.info["loss_history"]))
        for note in trace.notes:
            out.append(self.note(note))
        return "\n".join(x for x in out if x) + "\n"

    def title(self, text):
        return f"{text}\n{'=' * len(text)}"

    def conventions(self, conv):
        return "Conventions:\n" + "\n".join(f"  {k}: {v}" for k, v in conv.items())

    def heading(self, text):
        return f"\n── {text} " + "─" * max(4, 60 - len(text))

    def step(self, trace, step):
        d = step_lines(trace, step, self.p, self.limit)
        lines = [f"[{d['id']}] {d['label']}   shape {d['shape']}"]
        if step.phase == "given":
            lines.append(f"  {d['formula']} = {d['value']}")
        else:
            lines.append(f"  {d['formula']}")
            if d["substituted"]:
                lines.append(f"    = {d['substituted']}")
            lines.append(f"    = {d['value']}")
            lines += [f"      {e}" for e in d["expansions"]]
        if d["note"]:
            lines.append(f"  note: {d['note']}")
        return "\n".join(lines)

    def summary(self, trace):
        if "loss" not in trace.info:
            return ""
        text = f"\nLoss: {fmt_num(trace.info['loss'], self.p)}"
        if "loss_after" in trace.info:
            before, after = trace.info["loss"], trace.info["loss_after"]
            change = "went down" if after < before else "went UP (learning rate too large?)" \
                if after > before else "did not change"
            text += f" → after one update: {fmt_num(after, self.p)} ({change} by {fmt_num(abs(before - after), self.p)})"
        return text

    def table(self, table):
        cells = [[str(c) for c in table.columns]] + [[self.cell(c) for c in row] for row in table.rows]
        widths = [max(len(r[k]) for r in cells if k < len(r)) for k in range(len(table.columns))]
        lines = [f"\n{table.title}"]
        for n, row in enumerate(cells):
            lines.append("  " + "  ".join(c.rjust(w) for c, w in zip(row, widths)))
            if n == 0:
                lines.append("  " + "  ".join("─" * w for w in widths))
        return "\n".join(lines)

    def cell(self, c):
        if isinstance(c, bool) or c is None:
            return str(c)
        if isinstance(c, (int, np.integer)):
            return str(c)
        if isinstance(c, (float, np.floating)):
            return fmt_num(c, self.p)
        if isinstance(c, (list, tuple, np.ndarray)):
            return fmt_array(c, self.p)
        return str(c)

    def curve(self, values):
        return "\nLoss curve\n" + ascii_curve(values)

    def note(self, text):
        return f"note: {text}"


class _Markdown(_Text):
    """Markdown for notes and exports."""

    def title(self, text):
        return f"# {text}"

    def conventions(self, conv):
        return "**Conventions**\n\n" + "\n".join(f"- {k}: {v}" for k, v in conv.items())

    def heading(self, text):
        return f"\n## {text}\n"

    def step(self, trace, step):
        d = step_lines(trace, step, self.p, self.limit)
        if step.phase == "given":
            return f"- `{d['id']}` {d['label']}: `{d['formula']} = {d['value']}` (shape {d['shape']})"
        lines = [f"**`{d['id']}`** {d['label']} (shape {d['shape']})", "", "```",
                 d["formula"]]
        if d["substituted"]:
            lines.append(f"  = {d['substituted']}")
        lines.append(f"  = {d['value']}")
        lines += [f"    {e}" for e in d["expansions"]]
        lines.append("```")
        if d["note"]:
            lines.append(f"> {d['note']}")
        return "\n".join(lines) + "\n"

    def table(self, table):
        head = "| " + " | ".join(str(c) for c in table.columns) + " |"
        sep = "|" + "---|" * len(table.columns)
        rows = ["| " + " | ".join(self.cell(c) for c in r) + " |" for r in table.rows]
        return "\n".join([f"\n**{table.title}**\n", head, sep] + rows)

    def curve(self, values):
        return "\n**Loss curve**\n\n```\n" + ascii_curve(values) + "\n```"

    def note(self, text):
        return f"> {text}"


class _Latex(_Text):
    r"""A standalone LaTeX document: every formula as maths (\frac, bmatrix, \sigma, \partial), plain
    ASCII, compiles with pdflatex and the packages of a basic TeX installation."""

    PREAMBLE = ("\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\usepackage[margin=2cm]{geometry}\n"
                "\\setcounter{MaxMatrixCols}{20}\n\\allowdisplaybreaks\n\\begin{document}\n")

    def document(self, trace, phases):
        return self.PREAMBLE + super().document(trace, phases) + "\\end{document}\n"

    def standalone(self, body: str) -> str:
        return self.PREAMBLE + body + "\n\\end{document}\n"

    def title(self, text):
        return f"\\section*{{{latex.prose(text)}}}"

    def conventions(self, conv):
        items = "\n".join(f"\\item \\textbf{{{latex.prose(k)}}}: {latex.prose(str(v))}" for k, v in conv.items())
        return f"\\paragraph{{Conventions}}\n\\begin{{itemize}}\n{items}\n\\end{{itemize}}"

    def heading(self, text):
        return f"\\subsection*{{{latex.prose(text)}}}"

    def step(self, trace, step):
        head = (f"\\paragraph{{\\texttt{{{latex.escape(step.id)}}}}} {latex.prose(step.label)}, "
                f"shape {shape_text(trace.display(step.id))}")
        body = "\\\\\n".join(latex_rows(trace, step, self.p, self.limit))
        note = f"\n\\emph{{{latex.prose(step.note)}}}\n" if step.note else ""
        return f"{head}\n\\begin{{align*}}\n{body}\n\\end{{align*}}{note}"

    def summary(self, trace):
        text = super().summary(trace)
        return latex.prose(text.strip()) + "\n" if text else ""

    def table(self, table):
        cols = "r" * len(table.columns)
        head = " & ".join(latex.prose(str(c)) for c in table.columns) + r" \\ \hline"
        rows = [" & ".join(self.cell(c) for c in r) + r" \\" for r in table.rows]
        return (f"\\paragraph{{{latex.prose(table.title)}}}\n{{\\small\\begin{{tabular}}{{{cols}}}\n{head}\n"
                + "\n".join(rows) + "\n\\end{tabular}}\n")

    def cell(self, c):
        if isinstance(c, str):
            return latex.prose(c)
        if isinstance(c, bool) or c is None:
            return str(c)
        return f"${latex.array(c, self.p, MAX_INLINE)}$" if np.ndim(c) else f"${latex.array(c, self.p)}$"

    def curve(self, values):
        return ""

    def note(self, text):
        return "\\emph{" + latex.prose(text) + "}\n"


class _NotebookMarkdown(_Markdown):
    """Markdown for Jupyter: prose as Markdown, every formula as LaTeX maths that the notebook typesets."""

    def step(self, trace, step):
        head = f"**`{step.id}`** {step.label} · shape {shape_text(trace.display(step.id))}"
        body = "\\\\\n".join(latex_rows(trace, step, self.p, self.limit))
        note = f"\n> {step.note}" if step.note else ""
        return f"{head}\n\n$$\n\\begin{{aligned}}\n{body}\n\\end{{aligned}}\n$$\n{note}"


def latex_rows(trace: Trace, step, precision: int, expand_limit: int) -> list[str]:
    """A step as aligned LaTeX rows: formula, the numbers substituted, the result, each element."""
    value = latex.array(trace.display(step.id), precision)
    formula = _aligned(latex.math(step.formula))
    if step.op is None:  # given: "W_{1} &= [...]"
        return [f"{formula[1:]} &= {value}" if formula.startswith("&") else f"{formula} = {value}"]
    fill = {f"{{{n}}}": latex.array(trace.display(i), precision, MAX_INLINE) for n, i in enumerate(step.inputs)}
    rows = [formula, "&= " + latex.math(step.op.template, fill), f"&= {value}"]
    d = trace.display(step.id)
    if step.op.expand is not None and 0 < d.size <= expand_limit:
        for idx in np.ndindex(d.shape):
            name = step.id + "".join(f"[{i}]" for i in idx)
            body = trace.expand(step.id, idx, precision)[len(name) + 3:]
            rows.append(f"\\mathtt{{{latex.escape(name)}}} &= {latex.math(body)}")
    return rows


def _aligned(formula: str) -> str:
    """Put the alignment mark at the formula's first '=' outside braces ('& ' in front if none)."""
    depth = 0
    for n, ch in enumerate(formula):
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "=" and depth == 0:
            return formula[:n] + "&" + formula[n:]
    return "&" + formula
