"""Walk through a network step by step: forward pass, loss, backprop, update, and the new loss.

Each step is shown as formula → numbers substituted → result, with its shape and id.

examples:
  nnt walk examples/r2_two_layer_sigmoid.yaml
  nnt walk examples/r2_two_layer_sigmoid.yaml --only backward --precision 6
  nnt walk examples/r1_house_prices.yaml --iterations 500 --plot loss.png
  nnt walk examples/r3_cnn_edge.yaml --convention maxpool_ties=split --format markdown --out r3.md
  nnt walk examples/r2_two_layer_sigmoid.yaml --step L1.dW      (one step, every element written out)
  nnt walk examples/r10_relu_bce_matrix.yaml --gradcheck
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `nnt walk`."""
    parser.add_argument("file", help="spec file (.yaml or .json); examples/ has every reference problem")
    parser.add_argument("--only", choices=["forward", "loss", "backward", "update"],
                        help="show one phase only")
    parser.add_argument("--iterations", type=int, default=1, metavar="N",
                        help="train N steps and show a table of the loss and parameters with a loss curve")
    parser.add_argument("--plot", metavar="FILE.png", help="save the loss curve as a PNG (needs --iterations)")
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
    """Load, compute, render; returns 0 (or 1 when --gradcheck finds a mismatch)."""
    from nn_tutor.engine.errors import NNTError
    from nn_tutor.engine.kinds import WalkOptions, walk
    from nn_tutor.engine.spec import load_spec

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
    spec = load_spec(args.file)
    options = WalkOptions(iterations=args.iterations, loss=args.loss, conventions=conventions,
                          learning_rate=args.lr)
    if args.gradcheck:
        return _gradcheck(spec, options, args)
    if args.plot and args.iterations < 2:
        raise NNTError("--plot draws the loss over iterations; add --iterations N with N ≥ 2")
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
    return 0


def _emit(text: str, out: str | None) -> None:
    import sys

    from nn_tutor.engine.errors import NNTError
    if not out:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    try:
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise NNTError(f"cannot write '{out}': {exc.strerror}; choose a writable path") from None
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


def _plot(values: list[float], path: str, title: str) -> None:
    """Save the loss curve as a PNG (matplotlib, imported only here)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nn_tutor.engine.errors import NNTError
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    ax.plot(range(len(values)), values, color="#1f77b4")
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    ax.set_title(title or "Loss curve")
    if values and min(values) > 0 and max(values) / max(min(values), 1e-300) > 100:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    try:
        fig.savefig(path)
    except OSError as exc:
        raise NNTError(f"cannot write '{path}': {exc.strerror}; choose a writable path") from None
    finally:
        plt.close(fig)
