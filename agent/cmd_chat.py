"""Talk to the tutor in the terminal: walkthroughs, hints, homework checks and concept questions.

Example:
  nnt chat                      # a new conversation (offline unless OPENAI_API_KEY/OPENAI_BASE_URL is set)
  nnt chat --session hw3        # resume (or start) the conversation named hw3
  you › /load examples/r2_two_layer_sigmoid.yaml
  you › /hint
  you › what is RAG?

Type /help inside the chat for every command. Conversations are saved under the data dir
(NNT_DATA_DIR overrides it); Ctrl-C cancels the running turn and keeps the history.
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `nnt chat`."""
    parser.add_argument("--session", metavar="NAME", help="resume or start the conversation NAME")
    parser.add_argument("--list", action="store_true", help="list saved conversations and exit")
    parser.add_argument("--offline", action="store_true", default=None,
                        help="never call an LLM, even when one is configured")
    parser.add_argument("--model", help="model name (overrides NNT_MODEL)")
    parser.add_argument("--base-url", help="OpenAI-compatible endpoint (overrides OPENAI_BASE_URL)")


def run(args: argparse.Namespace) -> int:
    """Start the chat loop."""
    from rich.console import Console

    from nn_tutor.agent.chat_ui import ChatSession, chat_loop, list_sessions, read_inputs
    from nn_tutor.agent.config import load_settings

    settings = load_settings(model=args.model, base_url=args.base_url, offline=args.offline)
    console = Console()
    if args.list:
        names = list_sessions(settings.data_dir)
        console.print("\n".join(names) if names else "no saved conversations", highlight=False)
        return 0
    session = ChatSession(settings, console, args.session)
    history = settings.data_dir / "history.txt"
    return chat_loop(session, read_inputs(console, history))
