"""The tutor's graph: wiring and routing only. The nodes live in their own modules.

    START -> orchestrate -> explain      (the explainer sub-graph: walkthrough, why, hint, calculation)
                         -> describe     -> explain | END   (a network described in words)
                         -> compute      -> explain          (engine tools on the loaded network)
                         -> check                            (pasted homework)
                         -> report                           (follow-ups on the last check)
                         -> concept                          (the knowledge base)
                         -> END                              (answered already: greeting, error)

Every route is a `Literal` returned by a router below, from the turn's `route`. `graph` is the
module-level graph LangGraph's server loads (langgraph.json); the terminal compiles its own with a
SQLite checkpointer.
"""
from __future__ import annotations

from typing import Literal

from langgraph.graph import END, START, StateGraph

from nn_tutor.agent.checker import check
from nn_tutor.agent.compute import compute
from nn_tutor.agent.concept import answer_concept
from nn_tutor.agent.describe import describe
from nn_tutor.agent.explainer import EXPLAINER
from nn_tutor.agent.orchestrator import orchestrate
from nn_tutor.agent.report import explain_report
from nn_tutor.agent.state import TutorContext, TutorState

Route = Literal["explain", "describe", "compute", "check", "report", "concept", "__end__"]


def route_turn(state: TutorState) -> Route:
    """Where the orchestrator's decision sends the turn."""
    route = (state.get("turn") or {}).get("route")
    return {"explain": "explain", "describe": "describe", "tools": "compute", "check": "check",
            "report": "report", "concept": "concept"}.get(route, END)


def after_describe(state: TutorState) -> Literal["explain", "__end__"]:
    """A network read without guesses is computed at once; otherwise the tutor has asked a question."""
    return "explain" if (state.get("turn") or {}).get("route") == "explain" else END


def build_graph(checkpointer=None):
    """Compile the tutor graph, with a checkpointer for persistent conversations (or none)."""
    g = StateGraph(TutorState, context_schema=TutorContext)
    g.add_node("orchestrate", orchestrate)
    g.add_node("explain", EXPLAINER)
    g.add_node("describe", describe)
    g.add_node("compute", compute)
    g.add_node("check", check)
    g.add_node("report", explain_report)
    g.add_node("concept", answer_concept)
    g.add_edge(START, "orchestrate")
    g.add_conditional_edges("orchestrate", route_turn)
    g.add_conditional_edges("describe", after_describe)
    g.add_edge("compute", "explain")
    for node in ("explain", "check", "report", "concept"):
        g.add_edge(node, END)
    return g.compile(checkpointer=checkpointer, name="nn-tutor")


graph = build_graph()
