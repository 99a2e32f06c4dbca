"""`nnt`: the command-line entry point; each sub-command lives in its own cmd_*.py module.

Command modules import only argparse at module level, so `nnt walk` starts without the LLM stack.
Every NNTError becomes a one-line message on stderr and exit code 2, never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from nn_tutor.engine.errors import NNTError

# sub-command -> module that defines add_arguments(parser) and run(args) -> int
COMMANDS = {
    "walk": "nn_tutor.agent.cmd_walk",
    "check": "nn_tutor.agent.cmd_check",
    "chat": "nn_tutor.agent.cmd_chat",
    "ask": "nn_tutor.agent.cmd_ask",
    "doctor": "nn_tutor.agent.cmd_doctor",
}


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with a one-line message (argparse's own usage dump stays on stderr)."""

    def error(self, message):  # noqa: D401 - argparse API
        self.print_usage(sys.stderr)
        sys.stderr.write(f"nnt: error: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    """The full `nnt` parser with every available sub-command."""
    parser = _Parser(prog="nnt", description="nn-tutor: neural-network maths, computed and explained.")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        doc = (module.__doc__ or "").strip()
        sub = subs.add_parser(name, help=doc.splitlines()[0] if doc else None, description=doc,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(sub)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one `nnt` command and return its exit code (0 ok, 1 findings, 2 unusable input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except NNTError as exc:
        sys.stderr.write(f"nnt: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("nnt: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
