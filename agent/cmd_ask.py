"""Ask the tutor one question and print the answer (Markdown), then exit.

Example:
  nnt ask "what is RAG?"
  nnt ask --spec examples/r2_two_layer_sigmoid.yaml "why is L2.delta negative?"
  nnt ask --offline "walk me through it" --spec examples/r8_linear_chain.yaml

Notices (such as an offline fallback) go to stderr; the answer goes to stdout.
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `nnt ask`."""
    parser.add_argument("question", help="the question, in quotes")
    parser.add_argument("--spec", metavar="FILE", help="a network spec the question is about")
    parser.add_argument("--offline", action="store_true", default=None,
                        help="never call an LLM, even when one is configured")
    parser.add_argument("--model", help="model name (overrides NNT_MODEL)")
    parser.add_argument("--base-url", help="OpenAI-compatible endpoint (overrides OPENAI_BASE_URL)")


def ask(question: str, settings, spec: dict | None = None) -> tuple[str, list[str]]:
    """Run one turn on a fresh in-memory conversation; returns (reply, notices)."""
    from langchain_core.messages import HumanMessage
    from langgraph.checkpoint.memory import InMemorySaver

    from nn_tutor.agent.graph import build_graph
    from nn_tutor.agent.state import TutorContext

    graph = build_graph(InMemorySaver())
    config = {"configurable": {"thread_id": "ask"}}
    context = TutorContext(settings=settings)
    if spec is not None:
        graph.update_state(config, {"spec": spec, "spec_name": "given"}, as_node="orchestrate")
    out = graph.invoke({"messages": [HumanMessage(question)]}, config, context=context)
    turn = out.get("turn") or {}
    return turn.get("reply") or "", list(turn.get("notices") or [])


def run(args: argparse.Namespace) -> int:
    """Answer once."""
    import sys

    from nn_tutor.agent.config import load_settings
    from nn_tutor.tools.engine_tools import load_spec_file, validate_spec

    settings = load_settings(model=args.model, base_url=args.base_url, offline=args.offline)
    spec = validate_spec(load_spec_file(args.spec)) if args.spec else None
    reply, notices = ask(args.question, settings, spec)
    for line in notices:
        sys.stderr.write(f"nnt: {line}\n")
    sys.stdout.write(reply.rstrip("\n") + "\n")
    return 0
