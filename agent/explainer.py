"""The explainer sub-agent: a trace into an explanation at the level asked, with its own small state.

Levels: a full walkthrough, one step expanded (/why), the Socratic hint ladder (1 nudge -> 2 pointer to
the step -> 3 the worked step), or the results of engine tools. The template text is always built
from the trace first; with an LLM it is reworded, the grounding guard checks every number, a text
with invented numbers is rewritten once with those numbers named, then replaced by the template.
"""
from __future__ import annotations

import operator
from typing import Annotated, Literal, TypedDict

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command

from nn_tutor.agent.grounding import grounding_for, retry_instruction
from nn_tutor.agent.llm import LLMUnavailable, call, chat_model_for, load_prompt, offline_notice
from nn_tutor.agent.render import render_step, render_trace
from nn_tutor.agent.state import context_of, last_user_text, use_llm
from nn_tutor.engine.errors import NNTError
from nn_tutor.engine.numfmt import fmt_array
from nn_tutor.tools.engine_tools import trace_for

MAX_TEMPLATE_CHARS = 16_000  # the model reads at most this much of a long walkthrough
LEVEL_NAMES = {1: "nudge", 2: "pointer to the step", 3: "worked step"}


# templates ---------------------------------------------------------------------------------------
def walkthrough_text(trace, precision: int = 4, phases=None) -> str:
    """The full walkthrough in Markdown, from the renderer `nnt walk` uses."""
    return render_trace(trace, fmt="markdown", precision=precision, phases=tuple(phases) if phases else None)


def why_text(trace, step_id: str, precision: int = 4) -> str:
    """One step expanded with its numbers, every element written out."""
    return render_step(trace, step_id, precision, fmt="markdown").strip("\n")


def resolve_step(name: str | None, trace) -> str | None:
    """A step id for a step id or a student's name for a quantity (w5, net_o1, δ_o1), else None."""
    if not name:
        return None
    if name in trace:
        return name
    from nn_tutor.tools.homework import align_name
    found = align_name(name, None, trace)
    return found[0][0] if found else None


def computed_steps(trace) -> list[str]:
    """Ids of the computed steps in order (the rungs the hint ladder climbs through)."""
    return [s.id for s in trace if s.phase != "given" and s.op is not None]


def next_hint(trace, hint_step: str | None, hint_level: int, wrong_step: str | None = None) -> tuple[str, int]:
    """The step and rung of the next hint: the same step one rung up, or the next step at rung 1."""
    steps = computed_steps(trace)
    if not steps:
        raise NNTError("this walkthrough has no computed steps to give hints on; try /walk")
    if hint_step in steps and hint_level < 3:
        return hint_step, hint_level + 1
    if wrong_step in steps and wrong_step != hint_step:
        return wrong_step, 1
    if hint_step in steps:
        i = steps.index(hint_step)
        return (steps[i + 1], 1) if i + 1 < len(steps) else (steps[0], 1)
    return steps[0], 1


def hint_text(trace, step_id: str, level: int, precision: int = 4) -> str:
    """One rung of the Socratic ladder; rungs 1 and 2 never show the step's own value."""
    step = trace[step_id]
    if level == 1:
        return (f"**Hint 1 ({LEVEL_NAMES[1]}).** Next, find the {step.label}. Which quantities does it "
                f"depend on, and which rule combines them? The general form is {step.formula}.\n\n"
                f"Try it, then `/hint` again for a pointer to the exact step.")
    if level == 2:
        inputs = "\n".join(f"- `{i}` = {fmt_array(trace.display(i), precision)}" for i in step.inputs)
        return (f"**Hint 2 ({LEVEL_NAMES[2]}).** This is step `{step.id}`: {step.formula}. "
                f"It uses values you already have:\n{inputs}\n\nPut these into the formula and compute "
                f"`{step.id}`. `/hint` once more shows the worked step.")
    return (f"**Hint 3 ({LEVEL_NAMES[3]}).**\n\n{why_text(trace, step_id, precision)}\n\n"
            f"`/hint` moves on to the next step.")


def results_text(tool_results: list[dict], precision: int = 4) -> str:
    """Engine tool results (forward, gradcheck, train, show_step...) as Markdown."""
    parts = []
    for item in tool_results:
        result = item.get("result") or {}
        if not item.get("ok", True):
            continue
        if "text" in result:
            parts.append(result["text"])
        for step in result.get("steps", []) if isinstance(result.get("steps"), list) else []:
            parts.append(f"- `{step['id']}` ({step['label']}): {step['value']}")
        for table in result.get("tables", []):
            parts.append(f"\n**{table['title']}**\n\n| " + " | ".join(table["columns"]) + " |\n|" +
                         "---|" * len(table["columns"]))
            parts += ["| " + " | ".join(str(c) for c in row) + " |" for row in table["rows"]]
        for key in ("loss", "loss_before", "loss_after"):
            if key in result:
                parts.append(f"- {key.replace('_', ' ')}: {result[key]}")
        if item.get("name") == "gradcheck":
            parts.append(f"```\n{result}\n```")
    return "\n".join(parts) or "The tools returned nothing to show."


# the sub-agent ------------------------------------------------------------------------------------
class ExplainerState(TypedDict, total=False):
    """The explainer's own state: what to explain, at which level, and the text as it is checked."""

    spec: dict
    mode: str  # walkthrough | why | hint | results
    phases: list[str] | None
    step: str | None  # why: the step; hint: the rung's step
    level: int  # hint rung
    question: str  # the user's words this turn
    use_llm: bool  # reword with the LLM (configured and not failed this turn)
    tool_results: list[dict]
    template: str  # the deterministic explanation (the fallback)
    draft: str
    offending: list[str]
    attempts: int
    text: str  # the explanation returned
    notices: Annotated[list[str], operator.add]
    activity: Annotated[list[dict], operator.add]


def draft_template(state: ExplainerState, runtime) -> Command[Literal["write", "__end__"]]:
    """Build the template explanation from the trace; reword it with the LLM when one is configured."""
    context = context_of(runtime)
    p = context.precision
    mode = state["mode"]
    if mode == "results":
        template = results_text(state.get("tool_results") or [], p)
    else:
        trace = trace_for(state["spec"])
        if mode == "why":
            template = why_text(trace, state["step"], p)
        elif mode == "hint":
            template = hint_text(trace, state["step"], state["level"], p)
        else:
            template = walkthrough_text(trace, p, state.get("phases"))
    activity = [{"kind": "explain", "mode": mode, "step": state.get("step"), "level": state.get("level"),
                 "template_chars": len(template)}]
    if not state.get("use_llm"):
        return Command(goto=END, update={"template": template, "text": template, "activity": activity})
    return Command(goto="write", update={"template": template, "activity": activity, "attempts": 0})


def write(state: ExplainerState, runtime) -> Command[Literal["guard", "fallback"]]:
    """Ask the LLM to explain the template's content at the level asked (numbers only from it)."""
    context = context_of(runtime)
    level = {"walkthrough": "a full walkthrough", "why": "one step expanded",
             "results": "the tool results",
             "hint": f"hint rung {state.get('level')} ({LEVEL_NAMES.get(state.get('level'), '')}): do not "
                     f"reveal any value the hint does not show"}[state["mode"]]
    results = state["template"]
    if len(results) > MAX_TEMPLATE_CHARS:
        results = results[:MAX_TEMPLATE_CHARS] + "\n\n(the rest of the walkthrough is omitted here)"
    messages = [SystemMessage(load_prompt("explain")),
                HumanMessage(f"Level: {level}.\nThe student said: {state.get('question') or '(slash command)'}"
                             f"\n\nEngine results (the only numbers you may use):\n\n{results}")]
    if state.get("offending"):
        messages += [AIMessage(state.get("draft", "")), HumanMessage(retry_instruction(state["offending"]))]
    try:
        reply = call(chat_model_for(context), messages, name="explainer")
    except LLMUnavailable as exc:
        return Command(goto="fallback", update={"notices": [offline_notice(str(exc))],
                                                "activity": [{"kind": "llm", "error": str(exc)}]})
    text = reply.content if isinstance(reply.content, str) else str(reply.content)
    return Command(goto="guard", update={"draft": text, "attempts": state.get("attempts", 0) + 1,
                                         "activity": [{"kind": "llm", "node": "explainer",
                                                       "attempt": state.get("attempts", 0) + 1}]})


def guard(state: ExplainerState) -> Command[Literal["write", "fallback", "__end__"]]:
    """Every number in the draft must be in the template, the tool results or the user's words."""
    if state["mode"] == "hint":  # a hint may use only what its rung shows, never the step's value
        grounding = grounding_for([state["template"], state.get("question", "")])
    else:
        trace = trace_for(state["spec"]) if state.get("spec") else None
        grounding = grounding_for([state["template"], state.get("question", "")],
                                  [r.get("result") for r in state.get("tool_results") or []], trace)
    offending = grounding.ungrounded(state["draft"])
    entry = {"kind": "guard", "attempt": state.get("attempts", 0), "ungrounded": offending}
    if not offending:
        return Command(goto=END, update={"text": state["draft"], "activity": [entry]})
    if state.get("attempts", 0) < 2:
        return Command(goto="write", update={"offending": offending, "activity": [entry]})
    return Command(goto="fallback", update={"activity": [entry], "notices": [
        f"the LLM's text kept numbers the engine did not compute ({', '.join(offending)}); "
        f"showing the engine's own explanation."]})


def fallback(state: ExplainerState) -> dict:
    """The template explanation, when the LLM failed or kept inventing numbers."""
    return {"text": state["template"]}


def build_explainer():
    """The explainer sub-graph: draft_template -> [write -> guard (-> write once)] -> text."""
    g = StateGraph(ExplainerState)
    g.add_node("draft_template", draft_template)
    g.add_node("write", write)
    g.add_node("guard", guard)
    g.add_node("fallback", fallback)
    g.add_edge(START, "draft_template")
    g.add_edge("fallback", END)
    return g.compile()


EXPLAINER = build_explainer()


def explain(state: dict, runtime) -> dict:
    """The parent graph's node: map the tutor state into the explainer, run it, map the text back."""
    mode = state.get("mode") or "walkthrough"
    spec = state.get("spec")
    if mode != "results" and not spec:
        text = ("No network is loaded yet. Use `/load FILE` (examples/ has ready specs) or paste a spec "
                "with input, target, layers and loss.")
        return {"reply": text, "messages": [AIMessage(text)]}
    sub = {"spec": spec, "mode": mode, "phases": state.get("phases"), "question": last_user_text(state),
           "tool_results": state.get("tool_results") or [], "step": state.get("focus"), "level": 0,
           "activity": [], "notices": [], "use_llm": use_llm(context_of(runtime), state)}
    update: dict = {}
    try:
        if mode == "hint":
            trace = trace_for(spec)
            report = state.get("last_report") or {}
            wrong = next((c.get("step_id") for c in report.get("claims", [])
                          if c.get("verdict") == "wrong" and c.get("step_id")), None)
            shown_step, shown_level = state.get("hint_step"), state.get("hint_level") or 0
            step, level = next_hint(trace, shown_step, shown_level, wrong)
            if state.get("reveal"):  # asked for the answer: the worked step of the step being hinted
                step, level = (shown_step if shown_step and shown_level < 3 else step), 3
            sub.update(step=step, level=level)
            update.update(hint_step=step, hint_level=level)
        elif mode == "why":
            trace_for(spec)[sub["step"] or ""]  # NNTError naming the known steps when it is unknown
        out = EXPLAINER.invoke(sub, context=getattr(runtime, "context", None))
    except NNTError as exc:
        text = f"I could not do that: {exc}"
        return {"reply": text, "messages": [AIMessage(text)]}
    text = out["text"]
    update.update(reply=text, messages=[AIMessage(text)], activity=out.get("activity", []),
                  notices=out.get("notices", []))
    return update
