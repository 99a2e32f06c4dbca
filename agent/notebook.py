"""What the Python API returns: results that print as text and display as Markdown/LaTeX in Jupyter.

A Jupyter notebook shows an object through `_repr_markdown_` (formulas typeset by MathJax) or
`_repr_latex_`; `str()` gives the terminal text. The numbers stay reachable: `walkthrough["L1.z"]`
is the step's value as a NumPy array.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nn_tutor.engine.trace import Trace


@dataclass
class Walkthrough:
    """A computed walkthrough: the trace of every step, shown at `precision` decimals."""

    trace: Trace
    precision: int = 4
    phases: tuple[str, ...] | None = None  # None: every phase

    def render(self, fmt: str = "text") -> str:
        """The walkthrough as text, markdown, latex (a whole document), json or notebook Markdown."""
        from nn_tutor.agent.render import render_trace

        return render_trace(self.trace, fmt, self.precision, self.phases)

    def step(self, step_id: str, fmt: str = "text") -> str:
        """One step in full, every element written out (e.g. "L1.dW", or "w5" is not a step id)."""
        from nn_tutor.agent.render import render_step

        return render_step(self.trace, step_id, self.precision, fmt)

    def __getitem__(self, step_id: str) -> np.ndarray:
        """A step's value as the course shows it (NumPy, float64)."""
        return self.trace.display(step_id)

    @property
    def steps(self) -> list[str]:
        """Every step id, in order."""
        return [s.id for s in self.trace if not self.phases or s.phase in self.phases]

    @property
    def loss(self) -> float | None:
        """The loss before the update (None for a forward-only walkthrough)."""
        return self.trace.info.get("loss")

    def save(self, path: str) -> None:
        """Write the walkthrough to `path`: .md (Markdown), .tex (LaTeX), .json, anything else text."""
        from pathlib import Path

        from nn_tutor.agent.output import write_output

        fmt = {".md": "markdown", ".tex": "latex", ".json": "json"}.get(Path(path).suffix.lower(), "text")
        write_output(path, self.render(fmt), "save")

    def __str__(self) -> str:
        return self.render("text")

    def __repr__(self) -> str:
        return f"<Walkthrough {self.trace.title!r}: {len(self.steps)} steps>"

    def _repr_markdown_(self) -> str:
        return self.render("notebook")

    def _repr_latex_(self) -> str:
        from nn_tutor.agent.render import latex_rows

        blocks = []
        for step in self.trace:
            if self.phases and step.phase not in self.phases:
                continue
            rows = "\\\\\n".join(latex_rows(self.trace, step, self.precision, 6))
            blocks.append(f"$$\\begin{{aligned}}\n&\\texttt{{[{_tt(step.id)}]}}\\ \\text{{{_tt(step.label)}}}"
                          f"\\\\\n{rows}\n\\end{{aligned}}$$")
        return "\n".join(blocks)


def _tt(text: str) -> str:
    from nn_tutor.agent.latex import escape

    return escape(text)


@dataclass
class Answer:
    """The tutor's answer to one question, with the cards it cites and any notices (offline fallback)."""

    text: str
    notices: list[str] = field(default_factory=list)

    @property
    def citations(self) -> list[str]:
        """The [card-id]s cited, in order."""
        from nn_tutor.tools.knowledge import cited_ids

        return cited_ids(self.text)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<Answer citing {', '.join(self.citations) or 'no card'}>"

    def _repr_markdown_(self) -> str:
        notes = "".join(f"> {n}\n\n" for n in self.notices)
        return notes + self.text
