"""Render a Trace as text, Markdown, LaTeX or JSON: formula → numbers substituted → result, with shapes.

Plain string building (no rich) so `nnt walk` starts fast; the chat prints these strings through rich.
"""
from __future__ import annotations

import json

import numpy as np

from nn_tutor.engine.numfmt import fmt_array, fmt_num, shape_text
from nn_tutor.engine.trace import Trace

PHASE_TITLES = {
    "given": "Given", "forward": "Forward pass", "loss": "Loss", "backward": "Backpropagation",
    "update": "Gradient-descent update", "after": "Forward pass with the updated parameters",
}
ONLY = {  # --only PHASE -> phases shown
    "forward": ("given", "forward"), "loss": ("loss",), "backward": ("backward",),
    "update": ("update", "after"),
}
FORMATS = ("text", "markdown", "latex", "json")


def phases_for(only: str | None) -> tuple[str, ...] | None:
    """The phases shown for `--only` (None shows everything)."""
    return ONLY[only] if only else None


def render_trace(trace: Trace, fmt: str = "text", precision: int = 4,
                 phases: tuple[str, ...] | None = None, expand_limit: int = 6) -> str:
    """The whole walkthrough in one format; steps of `phases` only when given."""
    if fmt == "json":
        return json.dumps(trace.to_dict(None, phases), ensure_ascii=False, indent=1)
    writer = {"text": _Text, "markdown": _Markdown, "latex": _Latex}[fmt](precision, expand_limit)
    return writer.document(trace, phases)


def render_step(trace: Trace, step_id: str, precision: int = 4, fmt: str = "text",
                expand_limit: int = 64) -> str:
    """One step in full (the /why STEP view): formula, numbers, result, and every element written out."""
    writer = {"text": _Text, "markdown": _Markdown, "latex": _Latex}.get(fmt, _Text)(precision, expand_limit)
    return writer.step(trace, trace[step_id])


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


def ascii_curve(values: list[float], width: int = 60, height: int = 10) -> str:
    """A loss curve drawn with characters (for the terminal)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size < 2:
        return ""
    cols = np.linspace(0, v.size - 1, min(width, v.size)).astype(int)
    pts = v[cols]
    lo, hi = float(pts.min()), float(pts.max())
    span = hi - lo or 1.0
    rows = [[" "] * len(pts) for _ in range(height)]
    for c, val in enumerate(pts):
        r = int(round((hi - val) / span * (height - 1)))
        rows[r][c] = "•"
    label_w = max(len(fmt_num(hi, 4)), len(fmt_num(lo, 4)))
    out = []
    for r, row in enumerate(rows):
        label = fmt_num(hi, 4) if r == 0 else fmt_num(lo, 4) if r == height - 1 else ""
        out.append(f"{label:>{label_w}} │{''.join(row)}")
    out.append(" " * label_w + " └" + "─" * len(pts))
    out.append(" " * label_w + f"  iteration 0 … {v.size - 1}")
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


LATEX_MAP = {
    "σ": r"\sigma ", "δ": r"\delta ", "η": r"\eta ", "μ": r"\mu ", "∂": r"\partial ", "Σ": r"\sum ",
    "·": r"\cdot ", "⊙": r"\odot ", "⊗": r"\otimes ", "×": r"\times ", "−": "-", "ŷ": r"\hat{y}",
    "ᵀ": "^{T}", "½": r"\tfrac{1}{2}", "²": "^{2}", "′": "'", "≥": r"\geq ", "≤": r"\leq ",
    "←": r"\leftarrow ", "…": r"\ldots ", "⋆": r"\star ", "√": r"\sqrt ", "→": r"\to ", "θ": r"\theta ",
    "∞": r"\infty ",
}


def latex_escape(text: str) -> str:
    """Plain text with unicode maths → LaTeX (for inside \\texttt-free math-ish text)."""
    out = []
    for ch in text:
        if ch in LATEX_MAP:
            out.append(f"${LATEX_MAP[ch].strip()}$")
        elif ch in "&%$#_{}":
            out.append("\\" + ch)
        elif ch == "^":
            out.append(r"\^{}")
        elif ch == "~":
            out.append(r"\~{}")
        elif ch == "\\":
            out.append(r"\textbackslash{}")
        else:
            out.append(ch)
    return "".join(out)


class _Latex(_Text):
    """A standalone LaTeX document (compiles with pdflatex)."""

    def document(self, trace, phases):
        body = super().document(trace, phases)
        return ("\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n\\usepackage{amsmath}\n"
                "\\usepackage[margin=2cm]{geometry}\n\\begin{document}\n" + body + "\\end{document}\n")

    def title(self, text):
        return f"\\section*{{{latex_escape(text)}}}"

    def conventions(self, conv):
        items = "\n".join(f"\\item {latex_escape(k)}: {latex_escape(str(v))}" for k, v in conv.items())
        return f"\\paragraph{{Conventions}}\n\\begin{{itemize}}\n{items}\n\\end{{itemize}}"

    def heading(self, text):
        return f"\\subsection*{{{latex_escape(text)}}}"

    def step(self, trace, step):
        d = step_lines(trace, step, self.p, self.limit)
        lines = [f"\\paragraph{{{latex_escape(d['id'])}}} {latex_escape(d['label'])} "
                 f"(shape {latex_escape(d['shape'])})\\\\"]
        lines.append(latex_escape(d["formula"]) + "\\\\")
        if d["substituted"] and step.phase != "given":
            lines.append("$=$ " + latex_escape(d["substituted"]) + "\\\\")
        lines.append("$=$ " + latex_escape(d["value"]) + "\\\\")
        lines += [latex_escape(e) + "\\\\" for e in d["expansions"]]
        if d["note"]:
            lines.append("\\emph{" + latex_escape(d["note"]) + "}")
        return "\n".join(lines)

    def summary(self, trace):
        text = super().summary(trace)
        return latex_escape(text.strip()) if text else ""

    def table(self, table):
        cols = "r" * len(table.columns)
        head = " & ".join(latex_escape(str(c)) for c in table.columns) + r" \\ \hline"
        rows = [" & ".join(latex_escape(self.cell(c)) for c in r) + r" \\" for r in table.rows]
        return (f"\\paragraph{{{latex_escape(table.title)}}}\n\\begin{{tabular}}{{{cols}}}\n{head}\n"
                + "\n".join(rows) + "\n\\end{tabular}")

    def curve(self, values):
        return ""

    def note(self, text):
        return "\\emph{" + latex_escape(text) + "}\\\\"
