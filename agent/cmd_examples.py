"""Copy the example specs and sample homework that ship with nn-tutor into a folder of yours.

Every reference problem of the course is there as a spec (r1_…yaml to r13_…yaml, llm/ for the maths
behind LLMs and RAG) with sample homework (homework/). Files already in the folder are kept, never
overwritten. Without copying, `nnt walk examples/FILE` and `nnt check examples/homework/FILE` read
the shipped files whenever no such file exists where you are.

examples:
  nnt examples                  # copies into ./examples
  nnt examples ~/nn-homework    # copies into ~/nn-homework
  nnt examples --list           # lists them without copying
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `nnt examples`."""
    parser.add_argument("folder", nargs="?", default="examples", metavar="DIR",
                        help="where to copy them (default: ./examples, created if needed)")
    parser.add_argument("--list", action="store_true", help="list the shipped examples and exit")


def copy_examples(folder, overwrite: bool = False) -> tuple[list[str], list[str]]:
    """Copy every shipped example into `folder`; returns (copied, kept) relative paths."""
    from pathlib import Path

    from nn_tutor.agent.output import ensure_folder, open_output
    from nn_tutor.resources import example_files, examples_dir

    target = ensure_folder(folder, "nnt examples")
    copied, kept = [], []
    for rel in example_files():
        destination = Path(target, *rel.parts)
        if destination.exists() and not overwrite:
            kept.append(str(rel))
            continue
        ensure_folder(destination.parent, "nnt examples")
        with open_output(destination, "nnt examples", binary=True) as fh:
            fh.write(examples_dir().joinpath(*rel.parts).read_bytes())
        copied.append(str(rel))
    return copied, kept


def run(args: argparse.Namespace) -> int:
    """List or copy the examples."""
    import sys

    from nn_tutor.resources import example_files

    if args.list:
        for rel in example_files():
            sys.stdout.write(f"examples/{rel}\n")
        return 0
    copied, kept = copy_examples(args.folder)
    specs = sum(1 for c in copied if not c.startswith("homework/"))
    sys.stdout.write(f"copied {len(copied)} files into {args.folder}/ ({specs} specs, "
                     f"{len(copied) - specs} homework files)")
    sys.stdout.write(f"; kept {len(kept)} that were already there\n" if kept else "\n")
    folder = args.folder.rstrip("/")
    sys.stdout.write(f"try: nnt walk {folder}/r2_two_layer_sigmoid.yaml\n"
                     f"     nnt check {folder}/homework/r2_wrong.md --spec {folder}/r2_two_layer_sigmoid.yaml\n")
    return 0
