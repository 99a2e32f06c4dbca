"""The tutor's state: the conversation, the current network, the hint ladder and this turn's own steps.

Everything here is JSON-ready so the SQLite (or Postgres) checkpointer can persist it. The full trace
is not stored: it is re-walked from `spec` (deterministic, cached) whenever it is rendered.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

RESET = {"reset": True}  # put first in an update of a per-turn log to start it afresh


def turn_log(old: list | None, new: list | None) -> list:
    """Append to a per-turn log; an update that contains RESET starts the log again after it."""
    new = list(new or [])
    for i in range(len(new) - 1, -1, -1):
        if new[i] == RESET:
            return new[i + 1:]
    return list(old or []) + new


class TutorState(TypedDict, total=False):
    """What the graph keeps per conversation (thread)."""

    messages: Annotated[list[AnyMessage], add_messages]
    request: dict | None  # a slash command as data, e.g. {"action": "why", "step": "L1.z"}; None = free text
    spec: dict | None  # the current network in the engine's spec format
    spec_name: str | None  # where it came from (file name, "pasted", "described")
    pending_spec: dict | None  # extracted from words with guesses: shown, awaiting the user's yes
    hint_step: str | None  # step the Socratic ladder is on
    hint_level: int  # 0 = not started, 1 nudge, 2 pointer to the step, 3 worked step
    reveal: bool  # this turn asks for the worked step of the hint ladder's step
    last_report: dict | None  # the last homework check, verdicts from the deterministic checker
    route: str  # what the orchestrator decided this turn
    mode: str  # explainer mode this turn: walkthrough | hint | why | results
    focus: str | None  # step id for mode why
    phases: list[str] | None  # part of the walkthrough asked for (None = all)
    homework: str | None  # the work to check this turn
    query: str | None  # the knowledge-base query this turn
    tool_results: list[dict]  # compact results of this turn's tool calls (what the model read)
    reply: str  # the tutor's answer this turn (Markdown)
    llm_down: bool  # the LLM failed earlier this turn: the rest of the turn runs offline
    activity: Annotated[list[dict], turn_log]  # this turn's route, tool calls, retrievals (/trace)
    notices: Annotated[list[str], turn_log]  # one-line notices this turn (e.g. offline fallback)


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
    return bool(context.settings.llm_enabled and not state.get("llm_down"))


def last_user_text(state: dict) -> str:
    """The text of the newest human message ('' when there is none)."""
    for message in reversed(state.get("messages") or []):
        if getattr(message, "type", "") == "human":
            return message.content if isinstance(message.content, str) else str(message.content)
    return ""
