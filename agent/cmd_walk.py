"""Walk through a network step by step: forward pass, loss, backprop, update, and the new loss.

Each step is shown as formula → numbers substituted → result, with its shape and id. The examples/
files ship with nn-tutor (`nnt examples` copies them into a folder of yours); FILE '-' reads stdin.
Exit code: 0 fine, 1 training stopped on a non-finite loss or --gradcheck found a mismatch, 2 unusable
input.

examples:
  nnt walk examples/r2_two_layer_sigmoid.yaml
  nnt walk examples/r2_two_layer_sigmoid.yaml --only backward --precision 6
  nnt walk examples/r1_house_prices_slow.yaml --iterations 500 --plot loss.png
  nnt walk examples/r1_house_prices.yaml --iterations 50      (η too large: the loss blows up)
  nnt walk examples/r3_cnn_edge.yaml --convention maxpool_ties=split --format markdown --out r3.md
  nnt walk examples/r2_two_layer_sigmoid.yaml --step L1.dW      (one step, every element written out)
  nnt walk examples/r10_relu_bce_matrix.yaml --gradcheck
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `nnt walk`."""
    parser.add_argument("file", help="spec file (.yaml or .json), or '-' for stdin; examples/ has every "
                                     "reference problem")
    parser.add_argument("--only", choices=["forward", "loss", "backward", "update"],
                        help="show one phase only")
    parser.add_argument("--iterations", type=int, default=1, metavar="N",
                        help="train N steps and show a table of the loss and parameters with a loss curve")
    parser.add_argument("--plot", metavar="FILE.png", help="save the loss curve as a picture: .png, .svg or "
                                                           ".pdf (needs --iterations)")
    parser.add_argument("--precision", type=int, default=4, metavar="D", help="decimals shown (default 4)")
    parser.add_argument("--format", choices=["text", "markdown", "latex", "json"], default="text")
    parser.add_argument("--out", metavar="FILE", help="write the walkthrough to FILE instead of the terminal")
    parser.add_argument("--gradcheck", action="store_true",
                        help="check every backprop gradient against central finite differences")
    parser.add_argument("--loss", help="use this loss instead of the spec's (half_sse, sse, mse, bce, "
                                       "cross_entropy)")
    parser.add_argument("--lr", type=float, metavar="ETA", help="use this learning rate instead of the spec's")
    parser.add_argument("--convention", action="append", default=[], metavar="KEY=VALUE",
                        help="switch a convention: maxpool_ties=first|split, batch_reduction=mean|sum")
    parser.add_argument("--step", metavar="ID", help="show one step in full (e.g. L1.dW), every element "
                                                     "written out")
    parser.add_argument("--expand", type=int, default=6, metavar="N",
                        help="write out each element of steps with at most N elements (default 6; 0 = off)")


def run(args: argparse.Namespace) -> int:
    """Load, compute, render; returns 0 (1 when training stopped early or --gradcheck finds a mismatch)."""
    import sys

    from nn_tutor.engine.errors import NNTError
    from nn_tutor.engine.kinds import WalkOptions, walk
    from nn_tutor.engine.spec import load_spec, parse_text

    if not 0 <= args.precision <= 15:
        raise NNTError(f"--precision must be between 0 and 15; got {args.precision}")
    if args.iterations < 1:
        raise NNTError(f"--iterations must be at least 1; got {args.iterations}")
    conventions = {}
    for item in args.convention:
        key, sep, value = item.partition("=")
        if not sep:
            raise NNTError(f"--convention takes KEY=VALUE, e.g. maxpool_ties=split; got '{item}'")
        conventions[key.strip()] = value.strip()
    if args.plot and args.iterations < 2:
        raise NNTError("--plot draws the loss over iterations; add --iterations N with N ≥ 2")
    if args.plot:
        _plot_format(args.plot)
    spec = parse_text(sys.stdin.read(), "stdin") if args.file == "-" else load_spec(args.file)
    options = WalkOptions(iterations=args.iterations, loss=args.loss, conventions=conventions,
                          learning_rate=args.lr)
    if args.gradcheck:
        return _gradcheck(spec, options, args)
    trace = walk(spec, options)
    if args.step:
        from nn_tutor.agent.render import render_step
        text = render_step(trace, args.step, args.precision, args.format if args.format != "json" else "text")
    else:
        from nn_tutor.agent.render import phases_for, render_trace
        text = render_trace(trace, args.format, args.precision, phases_for(args.only), args.expand)
    if args.plot:
        _plot(trace.info.get("loss_history") or [], args.plot, trace.title)
    _emit(text, args.out)
    stopped = trace.info.get("stopped")
    if stopped:
        sys.stderr.write(f"nnt: {stopped['message']}\n")
    return 1 if stopped else 0


def _emit(text: str, out: str | None) -> None:
    import sys

    from nn_tutor.agent.output import write_output
    if not out:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    write_output(out, text, "--out", example="walkthrough.md")
    sys.stderr.write(f"wrote {out}\n")


def _gradcheck(spec: dict, options, args) -> int:
    from nn_tutor.engine.gradcheck import gradcheck

    report = gradcheck(spec, options=options)
    lines = [f"Gradient check: backprop vs central finite differences (tolerance {report.tolerance:g} relative)"]
    for r in report.results:
        status = "ok" if r.passed else "MISMATCH"
        extra = f", {r.skipped_kinks} at a kink skipped" if r.skipped_kinks else ""
        lines.append(f"  {r.step_id:<10} {r.checked:>4} elements  max rel. error "
                     f"{r.max_rel_error:.1e}  {status}{extra}")
    lines.append("all gradients agree" if report.passed else "some gradients disagree")
    _emit("\n".join(lines), args.out)
    return 0 if report.passed else 1


PLOT_FORMATS = ("png", "svg", "pdf")


def _plot_format(path: str) -> str:
    """The picture format named by --plot's suffix; anything else is refused before any work is done."""
    from pathlib import Path

    from nn_tutor.engine.errors import NNTError
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in PLOT_FORMATS:
        raise NNTError(f"--plot {path}: the loss curve is saved as a picture; give a file name ending in "
                       f"{', '.join('.' + f for f in PLOT_FORMATS)}, e.g. --plot loss.png")
    return suffix


def _plot(values: list[float], path: str, title: str) -> None:
    """Save the loss curve as a picture (matplotlib, imported only here); log scale as in the terminal."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from nn_tutor.agent.output import open_output
    from nn_tutor.agent.render import log_scale
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    ax.plot(range(len(values)), values, color="#1f77b4")
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    ax.set_title(title or "Loss curve")
    if log_scale(values):
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    try:
        with open_output(path, "--plot", binary=True, example="loss.png") as fh, np.errstate(over="ignore"):
            fig.savefig(fh, format=_plot_format(path))  # (a log axis near 1e308 overflows its tick maths)
    finally:
        plt.close(fig)
