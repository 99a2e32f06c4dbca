"""Check a student's hand-worked calculation: every wrong step found, explained, never punished twice.

Reads plain text, Markdown tables, LaTeX and prose as students write them. With --spec every written
number is aligned to the engine's step from all the evidence (its value, the numbers in its
expression, its name, where it comes in the work) and judged against the true value and against a
recomputation from the student's own earlier numbers: correct, rounding, wrong (with the
misconception that gives the number), carried (follows from an earlier mistake: not counted
again) or unchecked (with the reason). Without --spec each written chain's arithmetic is checked.
Every verdict names the rule that decided it (--explain). A YAML file with `spec:` and `answers:`
keyed by step id (L1.z, "L1.dW[0, 1]") is the structured form. Exit code: 0 all right, 1 something
wrong, 2 unusable input.

examples:
  nnt check examples/homework/r2_wrong.md --spec examples/r2_two_layer_sigmoid.yaml
  nnt check examples/homework/r2_wrong.md --spec examples/r2_two_layer_sigmoid.yaml --explain
  nnt check examples/homework/r5_class_names.md --spec examples/r5_dog_cat_softmax_mse.yaml
  nnt check work.txt --format json --rtol 0.01
  nnt check --spec problem.yaml submissions/*.txt --csv grades.csv
"""
from __future__ import annotations

import argparse

POOL_FROM = 24        # files checked in parallel (one process per core) from this many on
CHUNKS_PER_WORKER = 4  # runs of files each worker takes in turn


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `nnt check`."""
    parser.add_argument("work", nargs="+", metavar="WORK",
                        help="the student's work: a text/Markdown/LaTeX file, '-' for stdin, or a YAML "
                             "file with spec and answers keyed by step id")
    parser.add_argument("--spec", metavar="NETWORK", help="the problem's spec file (as for nnt walk)")
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    parser.add_argument("--explain", action="store_true",
                        help="show the rule that decided each verdict and the evidence for its step")
    parser.add_argument("--rtol", type=float, default=None,
                        help="relative tolerance (overrides the shown-decimals rule)")
    parser.add_argument("--atol", type=float, default=None,
                        help="absolute tolerance (overrides the shown-decimals rule)")
    parser.add_argument("--csv", metavar="FILE", help="teacher mode: write one row of counts and "
                                                      "score per submission to FILE")
    parser.add_argument("--out", metavar="FILE", help="write the report to FILE instead of stdout")


def run(args) -> int:
    """Check each WORK file; print reports; return 0 (all right), 1 (something wrong), 2 (unusable)."""
    import sys

    from nn_tutor.tools.homework.report import render_csv, render_json, render_markdown, render_text

    spec = None
    if args.spec:
        from nn_tutor.engine.spec import load_spec
        spec = load_spec(args.spec)
    reports, unusable = check_all(args.work, spec, args.rtol, args.atol)
    if args.csv:
        _write(args.csv, render_csv(reports), "--csv", "grades.csv")
    if args.format == "json":
        text = render_json(reports)
    elif args.format == "markdown":
        text = "\n".join(render_markdown(r, args.explain) for r in reports)
    else:
        text = "\n".join(render_text(r, args.explain) for r in reports)
    if args.out:
        _write(args.out, text, "--out", "report.txt")
    else:
        sys.stdout.write(text)
    if unusable:
        return 2
    return 0 if all(r.ok for r in reports) else 1


def check_all(paths: list[str], spec, rtol, atol):
    """Reports for every file (in parallel for a class); with several files an unusable one is noted,
    not fatal. Returns (reports, any unusable)."""
    if len(paths) >= POOL_FROM:
        import os
        from concurrent.futures import ProcessPoolExecutor

        workers = max(1, min(os.cpu_count() or 1, 8))
        # a few runs of files per worker, handed out as workers finish: none waits on a slow share
        size = -(-len(paths) // (workers * CHUNKS_PER_WORKER))
        chunks = [paths[k:k + size] for k in range(0, len(paths), size)]
        with ProcessPoolExecutor(workers) as pool:
            parts = pool.map(_check_files, chunks, [spec] * len(chunks), [rtol] * len(chunks),
                             [atol] * len(chunks))
            results = [r for part in parts for r in part]
    else:
        results = _check_files(paths, spec, rtol, atol)
    reports = [report for _, report, _ in results]
    return reports, any(bad for _, _, bad in results)


def _check_files(paths: list[str], spec, rtol, atol) -> list:
    """(path, report, unusable) for each file, in order."""
    from nn_tutor.engine.errors import NNTError
    from nn_tutor.tools.homework import check_submission
    from nn_tutor.tools.homework.report import Report

    out = []
    for path in paths:
        try:
            out.append((path, check_submission(_read(path), "stdin" if path == "-" else path, spec, rtol, atol),
                        False))
        except NNTError as exc:
            if len(paths) == 1:
                raise
            out.append((path, Report([], path, [f"unusable input: {exc}"]), True))   # grade the rest
    return out


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


def _write(path: str, text: str, what: str, example: str) -> None:
    """Write a report or grade sheet as rendered (the CSV keeps its own line ends)."""
    from nn_tutor.agent.output import open_output

    with open_output(path, what, newline="", example=example) as fh:
        fh.write(text)
