"""`nnt`: the command-line entry point; each sub-command lives in its own cmd_*.py module.

Command modules import only argparse at module level, so `nnt walk` starts without the LLM stack.
Every NNTError becomes a one-line message on stderr and exit code 2. Whatever else goes wrong is one
line too (exit code 70, "internal error", NNT_DEBUG=1 shows the traceback): never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

from nn_tutor.engine.errors import NNTError

# sub-command -> module that defines add_arguments(parser) and run(args) -> int
COMMANDS = {
    "walk": "nn_tutor.agent.cmd_walk",
    "check": "nn_tutor.agent.cmd_check",
    "chat": "nn_tutor.agent.cmd_chat",
    "ask": "nn_tutor.agent.cmd_ask",
    "doctor": "nn_tutor.agent.cmd_doctor",
    "examples": "nn_tutor.agent.cmd_examples",
}
INPUT_FILES = ("file", "spec", "work")  # arguments that name input files (examples/... may be shipped ones)
INTERNAL_ERROR = 70  # EX_SOFTWARE: a bug in nn-tutor, not in the input


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with a one-line message (argparse's own usage dump stays on stderr)."""

    def error(self, message):  # noqa: D401 - argparse API
        self.print_usage(sys.stderr)
        sys.stderr.write(f"nnt: error: {message}\n")
        raise SystemExit(2)


def version() -> str:
    """The installed version of nn-tutor."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("nn-tutor")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    """The full `nnt` parser with every available sub-command."""
    parser = _Parser(prog="nnt", description="nn-tutor: neural-network maths, computed and explained.")
    parser.add_argument("--version", action="version", version=f"nnt (nn-tutor) {version()}")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        doc = (module.__doc__ or "").strip()
        sub = subs.add_parser(name, help=doc.splitlines()[0] if doc else None, description=doc,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(sub)
        sub.set_defaults(_run=module.run)
    return parser


def shipped_example_paths(args: argparse.Namespace) -> None:
    """Point `examples/...` arguments that name no file here at the examples shipped with nn-tutor."""
    from nn_tutor.resources import local_or_shipped

    for name in INPUT_FILES:
        value = getattr(args, name, None)
        if isinstance(value, list):
            setattr(args, name, [local_or_shipped(v) for v in value])
        elif isinstance(value, str):
            setattr(args, name, local_or_shipped(value))


def main(argv: list[str] | None = None) -> int:
    """Run one `nnt` command and return its exit code (0 ok, 1 findings, 2 unusable input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    debug = os.environ.get("NNT_DEBUG", "").strip() not in ("", "0")
    if not debug:  # overflow and the like are caught and explained where they matter, not as warnings
        warnings.simplefilter("ignore", RuntimeWarning)
    try:
        shipped_example_paths(args)
        return int(args._run(args) or 0)
    except NNTError as exc:
        sys.stderr.write(f"nnt: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("nnt: interrupted\n")
        return 130
    except BrokenPipeError:  # the reader went away (`nnt walk ... | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, never a traceback
        if debug:
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        sys.stderr.write(f"nnt: internal error: {exc.__class__.__name__}: {first[:200]} (a bug in nn-tutor; "
                         f"run again with NNT_DEBUG=1 for the details and report them)\n")
        return INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
