"""The orchestrator node: read the turn, decide (rules first, the LLM with tools when unclear), route.

Obvious turns (slash commands, a pasted spec, pasted work, hint or step requests) are routed by rules
in both modes, which saves LLM calls and keeps them deterministic. Other turns go to the LLM with the
tools bound: a tool call with bad arguments is returned to the model once with the error; if the
second try is bad too, or the LLM fails, the turn falls back to the rule-based route with a notice.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Literal

import yaml
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langgraph.graph import END
from langgraph.types import Command

from nn_tutor.agent.grounding import grounding_for, retry_instruction
from nn_tutor.agent.explainer import resolve_step
from nn_tutor.agent.llm import LLMUnavailable, call, chat_model_for, load_prompt, offline_notice
from nn_tutor.agent.router import Decision, from_request, route_text
from nn_tutor.agent.state import RESET, context_of, last_user_text
from nn_tutor.engine.errors import NNTError
from nn_tutor.tools.engine_tools import run_tool, trace_for, validate_spec
from nn_tutor.tools.schemas import openai_tool_definitions

Route = Literal["explain", "check", "concept", "__end__"]
ROUTED_TOOLS = {"check_homework": "the answer checker", "search_concepts": "the knowledge node"}  # handed off
HISTORY_MESSAGES = 6  # earlier messages the orchestrator sees

SPEC_FORMAT_HELP = """Offline I need the network's numbers as a spec. Paste something like:

```yaml
input: [0.5, 0.8]
target: [1]
layers:
  - dense: {W: [[0.15, 0.20], [0.25, 0.30]], b: [0.35, 0.35], activation: sigmoid}
  - dense: {W: [[0.40, 0.45]], b: [0.60], activation: sigmoid}
loss: half_sse
learning_rate: 0.5
```

W has one row per neuron of the layer (shape n_out × n_in). Or `/load examples/FILE.yaml`.
(With an LLM configured, I can read a network described in words.)"""


def _reply(text: str, update: dict) -> Command[Route]:
    update.update(reply=text, messages=[AIMessage(text)])
    return Command(goto=END, update=update)


def orchestrate(state: dict, runtime) -> Command[Route]:
    """Decide what this turn does and route to the explainer, the checker or the knowledge node."""
    context = context_of(runtime)
    text = last_user_text(state)
    request = state.get("request")
    update: dict = {"request": None, "reply": "", "tool_results": [], "homework": None, "query": None,
                    "phases": None, "focus": None, "mode": None, "llm_down": False, "reveal": False, "activity": [RESET],
              "notices": [RESET]}
    try:
        decision = from_request(request) if request else route_text(
            text, bool(state.get("spec")), bool(state.get("pending_spec")))
    except NNTError as exc:
        return _reply(f"I could not do that: {exc}", update)
    update["activity"].append({"kind": "route", "by": "rules", "route": decision.route,
                               "reason": decision.reason})
    if context.settings.llm_enabled and not request and decision.route in ("concept", "describe"):
        try:
            return _ask_model(context, state, text, update)
        except LLMUnavailable as exc:
            update["notices"].append(offline_notice(str(exc)))
            update["llm_down"] = True
            update["activity"].append({"kind": "llm", "node": "orchestrator", "error": str(exc)})
    return _apply(decision, state, update)


def _apply(decision: Decision, state: dict, update: dict) -> Command[Route]:
    """Carry out a rule-based decision."""
    update["route"] = decision.route
    if decision.route in ("load", "confirm"):
        spec = decision.spec if decision.route == "load" else state.get("pending_spec")
        try:
            validate_spec(spec)
        except NNTError as exc:
            return _reply(f"That network cannot be computed: {exc}", update)
        update.update(spec=spec, spec_name=decision.spec_name or state.get("spec_name") or "described",
                      pending_spec=None, hint_step=None, hint_level=0, mode="walkthrough")
        return Command(goto="explain", update=update)
    if decision.route == "explain":
        if decision.mode == "why" and state.get("spec"):
            step = resolve_step(decision.step, trace_for(state["spec"]))
            if step is None and not state.get("request"):  # a name we do not know: a concept question
                return Command(goto="concept", update={**update, "route": "concept"})
            decision = replace(decision, step=step or decision.step)
        update.update(mode=decision.mode, focus=decision.step, reveal=decision.reveal,
                      phases=list(decision.phases) if decision.phases else None)
        return Command(goto="explain", update=update)
    if decision.route == "check":
        update["homework"] = decision.text
        return Command(goto="check", update=update)
    if decision.route == "describe":
        return _reply(SPEC_FORMAT_HELP, update)
    return Command(goto="concept", update=update)


def _system_prompt(state: dict) -> str:
    spec = state.get("spec")
    if not spec:
        status = "No network is loaded."
    else:
        layers = ", ".join(next(iter(layer)) if isinstance(layer, dict) else str(layer)
                           for layer in spec.get("layers", []))
        status = (f"A network is loaded ({state.get('spec_name') or 'unnamed'}): layers {layers}; "
                  f"loss {spec.get('loss')}.")
    return f"{load_prompt('orchestrator')}\n\n{status}"


def _history(state: dict) -> list:
    kept = [m for m in (state.get("messages") or []) if m.type in ("human", "ai") and isinstance(m.content, str)]
    return [HumanMessage(m.content) if m.type == "human" else AIMessage(m.content)
            for m in kept[-HISTORY_MESSAGES - 1:]]


def _calls(ai: AIMessage) -> list[dict]:
    """The model's tool calls, malformed ones included (their arguments could not be parsed)."""
    calls = [{"name": c["name"], "args": c.get("args") or {}, "id": c.get("id"), "error": None}
             for c in ai.tool_calls]
    calls += [{"name": c.get("name") or "?", "args": {}, "id": c.get("id"),
               "error": f"the arguments were not valid JSON ({(c.get('error') or 'parse error')[:80]}); "
                        f"send a JSON object"} for c in getattr(ai, "invalid_tool_calls", [])]
    return calls


def _run_calls(calls: list[dict], spec: dict | None) -> list[dict]:
    results = []
    for c in calls:
        if c["error"]:
            results.append({"name": c["name"], "args": c["args"], "ok": False, "error": c["error"], "id": c["id"]})
        elif c["name"] in ROUTED_TOOLS:
            results.append({"name": c["name"], "args": c["args"], "ok": True, "id": c["id"],
                            "result": {"handed_to": ROUTED_TOOLS[c["name"]]}})
        else:
            out = run_tool(c["name"], c["args"], spec)
            if out.spec is not None:
                spec = out.spec
            results.append({"name": out.name, "args": out.args, "ok": out.ok, "result": out.result,
                            "error": out.error, "id": c["id"], "spec": out.spec, "guessed": out.guessed,
                            "content": out.content()})
    return results


def _ask_model(context, state: dict, text: str, update: dict) -> Command[Route]:
    """One LLM call with the tools (a second one only to correct invalid tool arguments)."""
    model = chat_model_for(context)
    tools = openai_tool_definitions()
    messages = [SystemMessage(_system_prompt(state))] + _history(state)
    ai = call(model, messages, tools, name="orchestrator")
    results = _run_calls(_calls(ai), state.get("spec"))
    _log_tools(update, results)
    if any(not r["ok"] for r in results):  # return the errors to the model once
        messages += [ai] + [ToolMessage(r.get("content") or (f"error: {r['error']}" if not r["ok"] else "ok"),
                                        tool_call_id=r["id"] or "call") for r in results]
        ai = call(model, messages, tools, name="orchestrator-retry")
        results = _run_calls(_calls(ai), state.get("spec"))
        _log_tools(update, results)
        if any(not r["ok"] for r in results):
            raise LLMUnavailable("the model's tool call was still invalid after one correction")
    update["activity"].append({"kind": "route", "by": "llm",
                               "tools": [r["name"] for r in results] or ["(answered directly)"]})
    return _route_results(context, state, text, ai, results, update)


def _log_tools(update: dict, results: list[dict]) -> None:
    for r in results:
        update["activity"].append({"kind": "tool", "name": r["name"], "args": r["args"],
                                   "result": r.get("result") if r["ok"] else None, "error": r.get("error")})


def _route_results(context, state, text, ai, results, update) -> Command[Route]:
    names = [r["name"] for r in results]
    new_spec = next((r for r in results if r["name"] == "set_network"), None)
    if new_spec is not None:
        if new_spec["guessed"]:
            update.update(pending_spec=new_spec["spec"], route="confirm")
            shown = yaml.safe_dump(new_spec["spec"], sort_keys=False, default_flow_style=None)
            guesses = "\n".join(f"- {g}" for g in new_spec["guessed"])
            return _reply(f"Here is the network as I read it:\n\n```yaml\n{shown}```\n\nI had to assume:\n"
                          f"{guesses}\n\nShall I compute with these values? Answer **yes**, or correct me.",
                          update)
        update.update(spec=new_spec["spec"], spec_name="described", pending_spec=None, hint_step=None,
                      hint_level=0, mode="walkthrough", route="load")
        return Command(goto="explain", update=update)
    if "check_homework" in names:
        # the student's own text is checked, never the model's copy of it (which it could have altered)
        arg = next(r for r in results if r["name"] == "check_homework")["args"].get("text", "")
        update.update(homework=text or arg, route="check")
        return Command(goto="check", update=update)
    if "search_concepts" in names:
        arg = next(r for r in results if r["name"] == "search_concepts")["args"].get("query")
        update.update(query=arg or text, route="concept")
        return Command(goto="concept", update=update)
    if results:
        update.update(mode="results", route="explain",
                      tool_results=[{k: r.get(k) for k in ("name", "args", "ok", "result")} for r in results])
        return Command(goto="explain", update=update)
    return _direct_answer(context, state, text, ai, update)


def _direct_answer(context, state, text, ai, update) -> Command[Route]:
    """The model answered in words: guard its numbers (one rewrite), else answer by the rules offline."""
    trace = trace_for(state["spec"]) if state.get("spec") else None
    grounding = grounding_for([m.content for m in _history(state)], [], trace)
    answer = ai.content if isinstance(ai.content, str) else str(ai.content)
    offending = grounding.ungrounded(answer)
    if offending:
        messages = [SystemMessage(_system_prompt(state))] + _history(state) + [
            AIMessage(answer), HumanMessage(retry_instruction(offending))]
        answer = call(chat_model_for(context), messages, name="orchestrator-rewrite").content
        offending = grounding.ungrounded(answer)
        update["activity"].append({"kind": "guard", "ungrounded": offending})
    if offending or not answer.strip():
        update["notices"].append("the LLM's answer had numbers the engine did not compute; answered offline.")
        update["llm_down"] = True
        return _apply(route_text(text, bool(state.get("spec"))), state, update)
    update["route"] = "answer"
    return _reply(answer, update)
