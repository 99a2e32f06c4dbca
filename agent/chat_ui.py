"""The terminal conversation: line editing and history (prompt_toolkit), Markdown and streamed tokens (rich).

Slash commands become graph requests (so they are checkpointed like any turn) or are served from the
saved state (/trace, /export). Conversations persist in SQLite under the data dir; Ctrl-C cancels the
running turn (nothing of it is saved, the history stays). Without a terminal (piped input) plain lines
are read; a block between two lines of three quotes (\"\"\") is one message.
"""
from __future__ import annotations

import queue
import sqlite3
import sys
import threading
import time
from pathlib import Path

from langchain_core.messages import HumanMessage

from nn_tutor.agent.state import TutorContext
from nn_tutor.engine.errors import NNTError

HELP = """\
| command | what it does |
|---|---|
| `/load FILE` | load a network spec (YAML/JSON) and walk through it |
| `/walk [forward\\|backward\\|update]` | the walkthrough of the loaded network (or one part) |
| `/check FILE` | check a worked solution, step by step |
| `/hint` | the next rung of the hint ladder: nudge → pointer to the step → worked step |
| `/why STEP` | one step expanded with its numbers, e.g. `/why L2.delta` |
| `/export FILE.md\\|.tex` | write the walkthrough to a Markdown or LaTeX file |
| `/trace` | the tutor's own steps last turn: route, tool calls, retrieved cards, prompt |
| `/new` | start a new conversation |
| `/help` | this list |
| `/quit` | leave (the conversation is saved) |

Or just type: paste a spec or a worked solution, or ask a question ("what is RAG?")."""
PHASE_WORDS = {"forward": ["given", "forward", "loss"], "loss": ["loss"], "backward": ["backward"],
               "update": ["update", "after"]}
BLOCK = '"""'


def session_db(data_dir: Path) -> Path:
    """The SQLite file holding every saved conversation (the data dir is created if needed)."""
    from nn_tutor.agent.output import ensure_folder

    return ensure_folder(data_dir, "the data dir (NNT_DATA_DIR)") / "sessions.sqlite"


def open_checkpointer(data_dir: Path):
    """A SQLite checkpointer on the data dir's session database."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    path = session_db(data_dir)
    try:
        conn = sqlite3.connect(str(path), check_same_thread=False)
        saver = SqliteSaver(conn)
        saver.setup()
    except sqlite3.Error as exc:
        raise NNTError(f"cannot open the saved conversations in {path} ({exc}); move that file away or "
                       f"set NNT_DATA_DIR to another folder") from None
    return saver


def list_sessions(data_dir: Path) -> list[str]:
    """Names of the saved conversations."""
    path = data_dir / "sessions.sqlite"
    if not path.exists():
        return []
    with sqlite3.connect(str(path)) as conn:
        try:
            rows = conn.execute("SELECT DISTINCT thread_id FROM checkpoints ORDER BY thread_id").fetchall()
        except sqlite3.Error:
            return []
    return [r[0] for r in rows]


def new_session_name() -> str:
    """A fresh conversation name from the clock."""
    return time.strftime("%Y%m%d-%H%M%S")


class ChatSession:
    """One terminal conversation: runs turns through the graph and serves the slash commands."""

    def __init__(self, settings, console, session: str | None = None, checkpointer=None):
        from nn_tutor.agent.graph import build_graph

        self.settings = settings
        self.console = console
        self.session = session or new_session_name()
        self.checkpointer = checkpointer if checkpointer is not None else open_checkpointer(settings.data_dir)
        self.graph = build_graph(self.checkpointer)
        self.context = TutorContext(settings=settings)
        self.rewind_to: str | None = None  # checkpoint before a cancelled turn: the next turn starts there
        self.cancelled_turn: threading.Thread | None = None  # a cancelled run still finishing

    # state --------------------------------------------------------------------------------------
    @property
    def config(self) -> dict:
        configurable = {"thread_id": self.session}
        if self.rewind_to:
            configurable["checkpoint_id"] = self.rewind_to
        return {"configurable": configurable}

    def values(self) -> dict:
        """The saved state of this conversation (empty for a new one)."""
        return self.graph.get_state(self.config).values or {}

    # output -------------------------------------------------------------------------------------
    def markdown(self, text: str) -> None:
        from rich.markdown import Markdown

        self.console.print(Markdown(text))

    def notice(self, text: str) -> None:
        self.console.print(f"[yellow]! {text}[/yellow]", highlight=False)

    def greet(self) -> None:
        mode = f"LLM {self.settings.model}" if self.settings.llm_enabled else "offline"
        turns = len([m for m in self.values().get("messages", []) if m.type == "human"])
        resumed = f", resumed with {turns} earlier turns" if turns else ""
        self.console.print(f"[bold]nn-tutor[/bold] ({mode}) · session [cyan]{self.session}[/cyan]{resumed} · "
                           f"/help for commands, /quit to leave", highlight=False)

    # turns --------------------------------------------------------------------------------------
    def run_turn(self, text: str, request: dict | None = None) -> str:
        """Run one turn through the graph, streaming prose tokens; Ctrl-C cancels it. Returns the reply.

        The graph runs in a worker thread so that Ctrl-C gives the prompt back at once, even while an
        LLM call is in flight; the cancelled run is left to finish unseen, and the next turn starts
        from the checkpoint before it.
        """
        from rich.live import Live
        from rich.markdown import Markdown

        self._wait_for_cancelled_turn()
        payload = {"messages": [HumanMessage(text)], "request": request}
        before = self.graph.get_state(self.config).config["configurable"].get("checkpoint_id")
        events: queue.Queue = queue.Queue()
        worker = threading.Thread(target=self._stream_into, args=(payload, dict(self.config), events),
                                  daemon=True, name="nnt-turn")
        worker.start()
        streamed, run_id = "", None
        live = Live(Markdown(""), console=self.console, transient=True, refresh_per_second=12)
        try:
            with live:
                while True:
                    try:
                        kind, item = events.get(timeout=0.1)  # a short wait keeps Ctrl-C responsive
                    except queue.Empty:
                        continue
                    if kind == "error":
                        raise item
                    if kind == "done":
                        break
                    if item.id != run_id:  # a new LLM call (e.g. a rewrite): start its text afresh
                        streamed, run_id = "", item.id
                    streamed += item.content
                    live.update(Markdown(streamed))
        except KeyboardInterrupt:
            self.cancelled_turn = worker
            self.rewind_to = before  # the cancelled turn's checkpoints are left behind
            self.notice("turn cancelled; the conversation so far is kept.")
            return ""
        self.rewind_to = None
        turn = self.values().get("turn") or {}
        for line in turn.get("notices") or []:
            self.notice(line)
        reply = turn.get("reply") or ""
        self.markdown(reply)
        return reply

    def _stream_into(self, payload: dict, config: dict, events: queue.Queue) -> None:
        """Worker: run the graph, putting each LLM token chunk on `events`, then done (or the error)."""
        from langchain_core.messages import AIMessageChunk

        try:
            for _namespace, _mode, (message, _meta) in self.graph.stream(
                    payload, config, context=self.context, stream_mode=["messages"], subgraphs=True,
                    durability="exit"):
                if isinstance(message, AIMessageChunk) and isinstance(message.content, str) and message.content:
                    events.put(("chunk", message))
            events.put(("done", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which raises it
            events.put(("error", exc))

    def _wait_for_cancelled_turn(self) -> None:
        """Let a cancelled turn's run finish before the next one starts (its result is not used)."""
        if self.cancelled_turn is not None:
            self.cancelled_turn.join()
            self.cancelled_turn = None
            if self.rewind_to is None:  # it was the conversation's first turn: nothing to go back to
                self.checkpointer.delete_thread(self.session)

    def handle(self, line: str) -> bool:
        """Handle one input (message or slash command); False when the user wants to leave."""
        line = line.strip()
        if not line:
            return True
        if not line.startswith("/"):
            self.run_turn(line)
            return True
        command, _, arg = line.partition(" ")
        arg = arg.strip()
        handler = {"/quit": self.cmd_quit, "/exit": self.cmd_quit, "/help": self.cmd_help,
                   "/load": self.cmd_load, "/walk": self.cmd_walk, "/check": self.cmd_check,
                   "/hint": self.cmd_hint, "/why": self.cmd_why, "/export": self.cmd_export,
                   "/trace": self.cmd_trace, "/new": self.cmd_new}.get(command.lower())
        if handler is None:
            self.notice(f"unknown command {command}; /help lists the commands")
            return True
        try:
            return handler(arg) is not False
        except NNTError as exc:
            self.notice(str(exc))
            return True

    def handle_safely(self, line: str) -> bool:
        """`handle`, but an unexpected failure costs only this turn: a one-line notice, the chat goes on."""
        try:
            return self.handle(line)
        except NNTError as exc:
            self.notice(str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug must not end the conversation with a traceback
            first = (str(exc).splitlines() or [""])[0][:200]
            self.notice(f"internal error in this turn ({exc.__class__.__name__}: {first}); the conversation "
                        f"is kept. Please report it (NNT_DEBUG=1 shows the details).")
            import os
            if os.environ.get("NNT_DEBUG", "").strip() not in ("", "0"):
                raise
        return True

    # slash commands ----------------------------------------------------------------------------
    def cmd_quit(self, arg: str) -> bool:
        self.console.print(f"Saved. Resume with: nnt chat --session {self.session}", highlight=False)
        return False

    def cmd_help(self, arg: str) -> None:
        self.markdown(HELP)

    def cmd_load(self, arg: str) -> None:
        if not arg:
            raise NNTError("/load needs a file: /load examples/FILE.yaml")
        from nn_tutor.resources import local_or_shipped
        from nn_tutor.tools.engine_tools import load_spec_file

        spec = load_spec_file(local_or_shipped(arg))
        self.run_turn(f"/load {arg}", {"action": "load", "spec": spec, "name": Path(arg).name})

    def cmd_walk(self, arg: str) -> None:
        phases = None
        if arg:
            if arg not in PHASE_WORDS:
                raise NNTError(f"/walk takes one of {', '.join(PHASE_WORDS)} (or nothing for all of it)")
            phases = PHASE_WORDS[arg]
        self.run_turn(f"/walk {arg}".strip(), {"action": "walk", "phases": phases})

    def cmd_check(self, arg: str) -> None:
        if not arg:
            raise NNTError("/check needs a file with the worked solution: /check work.txt")
        from nn_tutor.resources import local_or_shipped

        try:
            text = Path(local_or_shipped(arg)).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise NNTError(f"cannot read '{arg}' ({exc.__class__.__name__}); give a UTF-8 text file") from None
        self.run_turn(f"/check {arg}\n{text}", {"action": "check", "text": text, "name": Path(arg).name})

    def cmd_hint(self, arg: str) -> None:
        self.run_turn("/hint", {"action": "hint"})

    def cmd_why(self, arg: str) -> None:
        if not arg:
            raise NNTError("/why needs a step id, e.g. /why L2.delta (/walk shows every id)")
        self.run_turn(f"/why {arg}", {"action": "why", "step": arg})

    def cmd_export(self, arg: str) -> None:
        suffix = Path(arg).suffix.lower()
        if suffix not in (".md", ".tex"):
            raise NNTError("/export needs a file ending in .md or .tex, e.g. /export walkthrough.md")
        spec = self.values().get("spec")
        if not spec:
            raise NNTError("nothing to export yet: /load a network first")
        from nn_tutor.agent.render import render_trace
        from nn_tutor.tools.engine_tools import trace_for

        from nn_tutor.agent.output import write_output

        text = render_trace(trace_for(spec), fmt="markdown" if suffix == ".md" else "latex", precision=4)
        write_output(arg, text, "/export", example="walkthrough.md")
        self.console.print(f"Wrote the walkthrough to {arg} ({len(text)} characters).", highlight=False)

    def cmd_trace(self, arg: str) -> None:
        from nn_tutor.agent.activity_view import trace_text

        self.markdown(trace_text(self.values()))

    def cmd_new(self, arg: str) -> None:
        self._wait_for_cancelled_turn()
        self.session, self.rewind_to = arg or new_session_name(), None
        self.console.print(f"New conversation: session [cyan]{self.session}[/cyan]", highlight=False)


def read_inputs(console, history_file: Path | None):
    """Yield the user's inputs: prompt_toolkit on a terminal, plain lines (with \"\"\" blocks) otherwise."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory, InMemoryHistory

        history = FileHistory(str(history_file)) if history_file else InMemoryHistory()
        session = PromptSession(history=history)
        while True:
            try:
                yield session.prompt("you › ")
            except KeyboardInterrupt:
                continue
            except EOFError:
                return
    else:
        yield from piped_inputs(sys.stdin)


def piped_inputs(stream):
    """Lines of a non-terminal stream; lines between two \"\"\" lines are joined into one message."""
    block: list[str] | None = None
    for raw in stream:
        line = raw.rstrip("\n")
        if line.strip() == BLOCK:
            if block is None:
                block = []
            else:
                yield "\n".join(block)
                block = None
            continue
        if block is not None:
            block.append(line)
        else:
            yield line
    if block:
        yield "\n".join(block)


def chat_loop(session: ChatSession, inputs) -> int:
    """Greet, then handle inputs until /quit or the end of input."""
    session.greet()
    for line in inputs:
        if not session.handle_safely(line):
            return 0
    return 0
