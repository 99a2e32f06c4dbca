"""The compute node: run the turn's engine tools (chosen by the rules or by the model) on the loaded
network; the explainer then puts their results into words. A tool the engine refuses is reported in
one line, never guessed around."""
from __future__ import annotations

from nn_tutor.agent.state import context_of
from nn_tutor.tools.engine_tools import run_tool


def compute(state: dict, runtime) -> dict:
    """Run every tool call of this turn; the results go to the explainer (mode results)."""
    context_of(runtime)
    results, activity = [], []
    for request in (state.get("turn") or {}).get("tool_calls") or []:
        out = run_tool(request["name"], request.get("args") or {}, state.get("spec"))
        results.append({"name": out.name, "args": out.args, "ok": out.ok, "result": out.result,
                        "error": out.error})
        activity.append({"kind": "tool", "name": out.name, "args": out.args,
                         "result": out.result if out.ok else None, "error": out.error})
    return {"turn": {"tool_results": results, "mode": "results", "activity": activity}}
