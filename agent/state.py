"""The tutor's state: the conversation, the current network, what is in focus, and this turn.

What lasts across turns (messages, the network, the step in focus, the hint ladder, the last check
report) are top-level keys. Everything about one turn lives in `turn`, which the orchestrator
replaces whole at the start of each turn (`new_turn`); nodes after it add to it (`merge_turn`:
their activity and notices are appended, other fields set). Everything is JSON-ready so the SQLite
(or Postgres) checkpointer can persist it; the trace itself is re-walked from `spec` (cached).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages


class Turn(TypedDict, total=False):
    """One turn: what was decided, what was computed, what the tutor answers and how it got there."""

    route: str  # explain | check | report | describe | tools | concept | reply
    reason: str  # why the route was chosen (shown in /trace)
    mode: str | None  # explainer mode: walkthrough | why | hint | results
    phases: list[str] | None  # part of a walkthrough asked for (None = all)
    reveal: bool  # the hint ladder's worked step asked for
    homework: str | None  # the work to check
    query: str | None  # the knowledge-base query
    calc_spec: dict | None  # a one-off computation ("sigmoid(0.5)"), walked without replacing the network
    tool_calls: list[dict]  # engine tools to run: [{"name", "args"}]
    tool_results: list[dict]  # their compact results
    reply: str  # the tutor's answer (Markdown)
    llm_down: bool  # the LLM failed earlier this turn: the rest of the turn runs offline
    activity: list[dict]  # route, tool calls, retrievals, LLM calls, guards (/trace)
    notices: list[str]  # one-line notices (e.g. offline fallback)


APPENDED = ("activity", "notices")


def new_turn(**fields) -> dict:
    """A fresh turn (replaces the previous one whole)."""
    turn: dict = {"route": "reply", "reason": "", "mode": None, "phases": None, "reveal": False,
                  "homework": None, "query": None, "calc_spec": None, "tool_calls": [], "tool_results": [],
                  "reply": "", "llm_down": False, "activity": [], "notices": []}
    turn.update(fields)
    return {**turn, "_fresh": True}


def merge_turn(old: dict | None, new: dict | None) -> dict:
    """The turn reducer: a fresh turn replaces the old one; any other update adds to it."""
    new = dict(new or {})
    if new.pop("_fresh", False) or not old:
        return new
    merged = dict(old)
    for key, value in new.items():
        merged[key] = list(old.get(key) or []) + list(value or []) if key in APPENDED else value
    return merged


class TutorState(TypedDict, total=False):
    """What the graph keeps per conversation (thread)."""

    messages: Annotated[list[AnyMessage], add_messages]
    request: dict | None  # a slash command as data, e.g. {"action": "why", "step": "L1.z"}; None = free text
    spec: dict | None  # the current network in the engine's spec format
    spec_name: str | None  # where it came from (file name, "pasted", "described")
    pending_spec: dict | None  # read from words with guesses: shown, awaiting the user's yes
    focus: dict | None  # the step in focus: {"step": "L2.dW", "index": [0, 0] or None, "name": "∂L/∂w5"}
    hint_step: str | None  # step the Socratic ladder is on
    hint_level: int  # 0 = not started, 1 nudge, 2 pointer to the step, 3 worked step
    last_report: dict | None  # the last homework check, verdicts from the deterministic checker
    turn: Annotated[dict, merge_turn]  # this turn (Turn), replaced whole each turn


@dataclass
class TutorContext:
    """Run-scoped services handed to every node (not persisted): settings and the chat model."""

    settings: Any = None  # agent.config.Settings; None = read from the environment
    chat_model: Any = None  # a LangChain chat model; None = built from settings when needed
    precision: int = 4
    extra: dict = field(default_factory=dict)


def context_of(runtime) -> TutorContext:
    """The run's TutorContext; under LangGraph's server (no context given) one built from the environment."""
    context = getattr(runtime, "context", None) if runtime is not None else None
    if context is None:
        context = TutorContext()
    if context.settings is None:
        from nn_tutor.agent.config import load_settings

        context.settings = load_settings()
    return context


def use_llm(context: TutorContext, state: dict) -> bool:
    """True when this node should call the LLM: one is configured and it has not failed this turn."""
    return bool(context.settings.llm_enabled and not (state.get("turn") or {}).get("llm_down"))


def last_user_text(state: dict) -> str:
    """The text of the newest human message ('' when there is none)."""
    for message in reversed(state.get("messages") or []):
        if getattr(message, "type", "") == "human":
            return message.content if isinstance(message.content, str) else str(message.content)
    return ""


def answer(text: str, **turn_fields) -> dict:
    """A node's update that answers the turn with `text` (also added to the conversation)."""
    from langchain_core.messages import AIMessage

    return {"turn": {"reply": text, **turn_fields}, "messages": [AIMessage(text)]}
