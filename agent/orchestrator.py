"""The orchestrator node: start the turn afresh, decide what it asks for, and set the route.

Rules decide (agent.router) in both modes. The LLM is asked only for an "open" request about the
loaded network, and then only to choose engine tools: the tools node computes, and if the model
answers in words instead, its text is never shown (the rule-based reading of the turn is used).
"""
from __future__ import annotations

from nn_tutor.agent.llm import LLMUnavailable, call, load_prompt, offline_notice
from nn_tutor.agent.names import Focus, resolve
from nn_tutor.agent.router import Decision, from_request, phases_asked, route_text
from nn_tutor.agent.state import answer, context_of, last_user_text, new_turn
from nn_tutor.engine.errors import NNTError
from nn_tutor.tools.engine_tools import trace_for, validate_spec
from nn_tutor.tools.schemas import NETWORK_TOOLS, openai_tool_definitions

GREETING_REPLY = ("Hello! Paste or `/load` a network to walk through it, describe one in words, paste "
                  "worked homework to check it, or ask about a concept (`/help` lists the commands).")


def orchestrate(state: dict, runtime) -> dict:
    """Decide what this turn does; the graph's router reads `turn.route`."""
    context = context_of(runtime)
    text = last_user_text(state)
    request = state.get("request")
    spec = state.get("spec")
    try:
        trace = trace_for(spec) if spec else None
        decision = from_request(request) if request else route_text(
            text, trace, bool(state.get("pending_spec")), Focus.from_dict(state.get("focus")),
            bool(state.get("last_report")))
    except NNTError as exc:
        return _answered({"request": None, "turn": new_turn(reason=str(exc))}, f"I could not do that: {exc}")
    turn = new_turn(route=decision.route, reason=decision.reason,
                    activity=[{"kind": "route", "by": "rules", "route": decision.route,
                               "reason": decision.reason}])
    update = {"request": None, "turn": turn}
    if decision.route == "open" and context.settings.llm_enabled:
        try:
            return _choose_tools(context, state, text, update)
        except LLMUnavailable as exc:
            turn["notices"].append(offline_notice(str(exc)))
            turn["llm_down"] = True
            turn["activity"].append({"kind": "llm", "node": "orchestrator", "error": str(exc)})
    return _apply(decision, state, trace, update)


def _apply(decision: Decision, state: dict, trace, update: dict) -> dict:
    """Carry out a rule-based decision: set the turn's fields and what lasts (network, focus)."""
    turn = update["turn"]
    route = decision.route
    if route in ("load", "confirm"):
        spec = decision.spec if route == "load" else state.get("pending_spec")
        try:
            validate_spec(spec)
        except NNTError as exc:
            return _answered(update, f"That network cannot be computed: {exc}")
        update.update(spec=spec, spec_name=decision.spec_name or state.get("spec_name") or "described",
                      pending_spec=None, hint_step=None, hint_level=0, focus=None)
        turn.update(route="explain", mode="walkthrough", phases=list(decision.phases or []) or None)
    elif route == "explain":
        turn.update(mode=decision.mode, reveal=decision.reveal,
                    phases=list(decision.phases) if decision.phases else None)
        if decision.mode == "why":
            focus = decision.focus or (resolve(decision.step or "", trace) if trace else None)
            if focus is None:
                if not state.get("request"):  # a name this network does not have: a concept question
                    turn.update(route="concept")
                    return update
                known = ", ".join(s.id for s in trace) if trace else ""
                return _answered(update, f"I could not do that: no step '{decision.step}' in this walkthrough"
                                         f"{'; known steps: ' + known if known else '; load a network first'}")
            update["focus"] = focus.to_dict()
    elif route == "calculate":
        turn.update(route="explain", mode="walkthrough", calc_spec=decision.spec)
    elif route == "check":
        turn["homework"] = decision.text
    elif route == "report":
        turn["line"] = decision.line
    elif route == "describe":
        turn["phases"] = list(decision.phases) if decision.phases else None
    elif route == "tools":
        name, args = decision.tool
        turn["tool_calls"] = [{"name": name, "args": args}]
    elif route == "open":  # offline (or the model chose nothing): the walkthrough of the phases named
        turn.update(route="explain", mode="walkthrough", phases=list(decision.phases) if decision.phases else None)
    elif route == "greet":
        return _answered(update, GREETING_REPLY)
    return update


def _answered(update: dict, text: str) -> dict:
    reply = answer(text)
    update["turn"].update(route="reply", reply=text)
    update["messages"] = reply["messages"]
    return update


def _choose_tools(context, state: dict, text: str, update: dict) -> dict:
    """Ask the model which engine tools answer an open request about the loaded network."""
    from langchain_core.messages import HumanMessage, SystemMessage

    tools = openai_tool_definitions(NETWORK_TOOLS)
    messages = [SystemMessage(load_prompt("orchestrator")), HumanMessage(text)]
    reply, entry = call(context, messages, tools, name="orchestrator")
    turn = update["turn"]
    turn["activity"].append(entry)
    chosen = [{"name": c["name"], "args": c.get("args") or {}} for c in reply.tool_calls
              if c["name"] in NETWORK_TOOLS]
    turn["activity"].append({"kind": "route", "by": "llm",
                             "tools": [c["name"] for c in chosen] or ["(none: the rules' reading is used)"]})
    if not chosen:
        return _apply(Decision("open", "the model chose no tool", phases=phases_asked(text)), state,
                      trace_for(state["spec"]), update)
    turn.update(route="tools", tool_calls=chosen)
    return update
