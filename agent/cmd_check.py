"""Check a student's hand-worked calculation: every wrong step found, explained, never punished twice.

Reads plain text, Markdown or LaTeX as students type it and verifies every arithmetic chain
(`z = 0.54 + 0.08 − 0.4 = 0.22`) link by link against the text's own definitions and results.
With --spec it also aligns each value to the engine's step (net_h1, out_h1, z₁[0], ŷ, L, δ₂,
∂L/∂w₅, w₅_new, and p(dog), z_cat, ∂L/∂z_dog when the spec names its `classes`) and judges it against the true value and against a recomputation from the
student's own earlier numbers: correct, rounding, wrong (with the misconception when one
reproduces the number), carried (follows from an earlier mistake: not counted again), unchecked.
A YAML file with `spec:` and `answers:` keyed by step id (L1.z, L2.delta, "L1.dW[0, 1]") is the
structured form. Exit code: 0 all right, 1 something wrong, 2 unusable input.

examples:
  nnt check examples/homework/r2_wrong.md --spec examples/r2_two_layer_sigmoid.yaml
  nnt check examples/homework/r5_class_names.md --spec examples/r5_dog_cat_softmax_mse.yaml
  nnt check work.txt --format json --rtol 0.01
  nnt check --spec problem.yaml submissions/*.txt --csv grades.csv
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `nnt check`."""
    parser.add_argument("work", nargs="+", metavar="WORK",
                        help="the student's work: a text/Markdown file, '-' for stdin, or a YAML "
                             "file with spec and answers keyed by step id")
    parser.add_argument("--spec", metavar="NETWORK", help="the problem's spec file (as for nnt walk)")
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    parser.add_argument("--rtol", type=float, default=None,
                        help="relative tolerance (overrides the shown-decimals rule)")
    parser.add_argument("--atol", type=float, default=None,
                        help="absolute tolerance (overrides the shown-decimals rule)")
    parser.add_argument("--csv", metavar="FILE", help="teacher mode: write one row of counts and "
                                                      "score per submission to FILE")
    parser.add_argument("--out", metavar="FILE", help="write the report to FILE instead of stdout")


def run(args) -> int:
    """Check each WORK file; print reports; return 0 (all right), 1 (something wrong)."""
    import json
    import sys

    from nn_tutor.engine.errors import NNTError
    from nn_tutor.tools.homework import check_submission

    spec = None
    if args.spec:
        from nn_tutor.engine.spec import load_spec
        spec = load_spec(args.spec)
    reports, unusable = [], False
    for path in args.work:
        try:
            reports.append(check_submission(_read(path), "stdin" if path == "-" else path, spec,
                                            args.rtol, args.atol))
        except NNTError as exc:
            if len(args.work) == 1:
                raise
            from nn_tutor.engine.verify import CheckReport
            reports.append(CheckReport([], path, [f"unusable input: {exc}"]))  # grade the rest
            unusable = True
    if args.csv:
        _write_csv(args.csv, reports)
    if args.format == "json":
        # a list of claims; with several files each claim also names its file (scores: --csv or text)
        payload = [dict(c, file=r.source) if len(reports) > 1 else c
                   for r in reports for c in r.to_dict()["claims"]]
        text = json.dumps(payload, ensure_ascii=False, indent=2) + "\n"
    elif args.format == "markdown":
        text = "\n".join(render_markdown(r) for r in reports)
    else:
        text = "\n".join(render_text(r) for r in reports)
    if args.out:
        from nn_tutor.agent.output import write_output
        write_output(args.out, text, "--out", example="report.txt")
    else:
        sys.stdout.write(text)
    if unusable:
        return 2
    return 0 if all(r.ok for r in reports) else 1


def _read(path: str) -> bytes:
    """The bytes of one submission ('-' is stdin); a missing file names the fix."""
    import sys

    from nn_tutor.engine.errors import NNTError

    if path == "-":
        return sys.stdin.buffer.read(4_000_001)
    try:
        with open(path, "rb") as fh:
            return fh.read(4_000_001)
    except FileNotFoundError:
        raise NNTError(f"work file '{path}' not found; give the path of the student's text") from None
    except IsADirectoryError:
        raise NNTError(f"'{path}' is a directory; give the student's text files "
                       f"(e.g. submissions/*.txt)") from None
    except OSError as exc:
        raise NNTError(f"cannot read '{path}': {exc.strerror}") from None


_MARK = {"correct": "✓", "rounding": "≈", "wrong": "✗", "carried": "→", "unchecked": "?"}


def _num(v) -> str:
    from nn_tutor.engine.numfmt import fmt_array
    return "—" if v is None else fmt_array(v, 4)


def _summary_line(report) -> str:
    s = report.summary
    c = s["counts"]
    score = "—" if s["score"] is None else f"{100 * s['score']:.0f}%"
    return (f"score {score}: {c['correct']} correct, {c['rounding']} rounding, {c['wrong']} wrong, "
            f"{c['carried']} carried forward (not counted again), {c['unchecked']} unchecked")


def render_text(report) -> str:
    """One line per claim: line number, verdict, quoted claim, expected value, misconception, hint."""
    lines = [f"== {report.source} =="] if report.source else []
    for c in report.claims:
        head = f"line {c.line:>3}  {_MARK[c.verdict]} {c.verdict:<9} \"{c.text}\""
        extra = []
        if c.verdict in ("wrong", "rounding", "carried") and c.expected is not None:
            extra.append(f"expected {_num(c.expected)}")
        if c.step_id:
            extra.append(f"[{c.step_id}{'' if c.index is None else list(c.index)}]")
        if c.misconception:
            extra.append(f"misconception: {c.misconception}")
        if c.verdict == "unchecked" and c.reason:
            extra.append(c.reason)
        elif c.hint and c.verdict != "correct":
            extra.append(c.hint)
        lines.append(head + ("  " + "; ".join(extra) if extra else ""))
    lines.extend(f"note: {n}" for n in report.notes)
    lines.append(_summary_line(report))
    return "\n".join(lines) + "\n"


def render_markdown(report) -> str:
    """A Markdown table of the claims and the summary."""
    def cell(x) -> str:
        return str(x).replace("|", "\\|").replace("\n", " ")
    out = [f"### {report.source}\n" if report.source else "",
           "| line | claim | verdict | expected | misconception | hint |",
           "|---:|---|---|---|---|---|"]
    for c in report.claims:
        out.append(f"| {c.line} | `{cell(c.text)}` | {_MARK[c.verdict]} {c.verdict} | "
                   f"{cell(_num(c.expected))} | {cell(c.misconception or '')} | "
                   f"{cell(c.reason if c.verdict == 'unchecked' else c.hint)} |")
    out.extend(f"\n_note: {n}_" for n in report.notes)
    out.append(f"\n**{_summary_line(report)}**\n")
    return "\n".join(out)


def _write_csv(path: str, reports) -> None:
    import csv

    from nn_tutor.agent.output import open_output
    with open_output(path, "--csv", newline="", example="grades.csv") as fh:
        writer = csv.writer(fh)
        writer.writerow(["submission", "score", "correct", "rounding", "wrong", "carried", "unchecked",
                         "first_wrong_line", "misconceptions"])
        for r in reports:
            s, c = r.summary, r.summary["counts"]
            wrong = [x for x in r.claims if x.verdict == "wrong"]
            writer.writerow([r.source, "" if s["score"] is None else s["score"], c["correct"],
                             c["rounding"], c["wrong"], c["carried"], c["unchecked"],
                             wrong[0].line if wrong else "",
                             ";".join(sorted({x.misconception for x in wrong if x.misconception}))])
