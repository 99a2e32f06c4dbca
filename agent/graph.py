"""The tutor's graph: wiring and routing only. The nodes live in their own modules.

    START -> orchestrate -> explain (explainer sub-agent) | check (answer checker) | concept | END

`orchestrate` routes with Command[Literal[...]], so the possible routes are in its type. `graph` is
the module-level graph LangGraph's server loads (langgraph.json); the terminal compiles its own with
a SQLite checkpointer.
"""
from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from nn_tutor.agent.checker import check
from nn_tutor.agent.concept import answer_concept
from nn_tutor.agent.explainer import explain
from nn_tutor.agent.orchestrator import orchestrate
from nn_tutor.agent.state import TutorContext, TutorState


def build_graph(checkpointer=None):
    """Compile the tutor graph, with a checkpointer for persistent conversations (or none)."""
    g = StateGraph(TutorState, context_schema=TutorContext)
    g.add_node("orchestrate", orchestrate)
    g.add_node("explain", explain)
    g.add_node("check", check)
    g.add_node("concept", answer_concept)
    g.add_edge(START, "orchestrate")
    for node in ("explain", "check", "concept"):
        g.add_edge(node, END)
    return g.compile(checkpointer=checkpointer, name="nn-tutor")


graph = build_graph()
