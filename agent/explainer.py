"""The explainer sub-agent: a trace into an explanation at the level asked, with its own small state.

Levels: a full walkthrough, one step expanded (/why, "why is the gradient for w5 negative?"), the
Socratic hint ladder (1 nudge -> 2 pointer to the step -> 3 the worked step), or engine tool results.
The explanation is always built by code from the trace first (numbers, and words from
agent.step_words). With an LLM, the model writes a short commentary from a budgeted excerpt of it;
the shared guard (agent.llm.checked_text) checks every number, and the commentary is shown above the
code-built explanation (for a hint rung, in its place), or dropped when it fails twice.

    plan -> template -> [word] -> finish        (routes in `after_plan`, `after_template`)
"""
from __future__ import annotations

import re
from itertools import groupby
from typing import Literal, TypedDict

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage
from langgraph.graph import END, START, StateGraph

from nn_tutor.agent.budget import Part, estimate_tokens, first_prompt_limit, fit
from nn_tutor.agent.grounding import grounding_for
from nn_tutor.agent.llm import checked_text, load_prompt
from nn_tutor.agent.names import Focus
from nn_tutor.agent.render import PHASE_TITLES, render_step, render_trace
from nn_tutor.agent.state import context_of, last_user_text, use_llm
from nn_tutor.agent.step_words import sign_words, step_words
from nn_tutor.engine.errors import NNTError
from nn_tutor.engine.numfmt import fmt_array, fmt_num
from nn_tutor.tools.engine_tools import trace_for

LEVEL_NAMES = {1: "nudge", 2: "pointer to the step", 3: "worked step"}
NO_NETWORK = ("No network is loaded yet. Use `/load FILE` (examples/ has ready specs), paste a spec with "
              "input, target, layers and loss, or describe the network in words.")


# templates ---------------------------------------------------------------------------------------
def walkthrough_text(trace, precision: int = 4, phases=None) -> str:
    """The walkthrough in Markdown (the renderer `nnt walk` uses), each step explained in words."""
    return with_words(render_trace(trace, fmt="markdown", precision=precision,
                                   phases=tuple(phases) if phases else None), trace)


def why_text(trace, step_id: str, precision: int = 4, index: tuple | None = None) -> str:
    """One step expanded with its numbers and explained in words; `index` puts one element first."""
    parts = [step_words(trace, step_id)]
    if index is not None:
        parts.append(f"```\n{trace.expand(step_id, tuple(index), precision)}\n```")
        parts.append(sign_words(trace, step_id, tuple(index), precision))
    parts.append(render_step(trace, step_id, precision, fmt="markdown").strip("\n"))
    return "\n\n".join(p for p in parts if p)


def with_words(walkthrough: str, trace) -> str:
    """A rendered walkthrough with each computed step's explanation in words below its numbers."""
    blocks = re.split(r"\n\n(?=\*\*`)", walkthrough)
    out = []
    for block in blocks:
        m = re.match(r"\*\*`([^`]+)`\*\*", block)
        if m and m.group(1) in trace and trace[m.group(1)].op is not None:
            end = block.find("```", block.find("```") + 3)
            cut = end + 3 if end >= 0 else len(block)
            block = f"{block[:cut]}\n\n{step_words(trace, m.group(1))}{block[cut:]}"
        out.append(block)
    return "\n\n".join(out)


def overview_text(trace, precision: int = 4, phases=None) -> str:
    """The walkthrough's results, one line a step (id, label, formula, value; a large array by its
    shape): what the model reads to write its overview, a fraction of the walkthrough's tokens."""
    lines = [f"# {trace.title}"] if trace.title else []
    shown = [step for step in trace if not phases or step.phase in phases]
    for phase, steps in groupby(shown, key=lambda step: step.phase):
        lines.append(f"\n## {PHASE_TITLES.get(phase, phase)}")
        lines += [f"- `{s.id}` {s.label}: {s.formula} = {fmt_array(trace.display(s.id), precision, 12)}"
                  for s in steps]
    if "loss_after" in trace.info and (not phases or "after" in phases):
        lines.append(f"\nLoss {fmt_num(trace.info['loss'], precision)} before the update, "
                     f"{fmt_num(trace.info['loss_after'], precision)} after it.")
    return "\n".join(lines)


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
class ExplainerIn(TypedDict, total=False):
    """What the explainer reads from the tutor's state."""

    messages: list[AnyMessage]
    spec: dict | None
    turn: dict
    focus: dict | None
    hint_step: str | None
    hint_level: int
    last_report: dict | None


class ExplainerOut(TypedDict, total=False):
    """What it gives back: the turn's answer, the conversation's new message, the hint ladder."""

    messages: list[AnyMessage]
    turn: dict
    hint_step: str | None
    hint_level: int


class ExplainerState(ExplainerIn, total=False):
    """Its own working state."""

    target: dict  # the spec explained this turn (the network, or a one-off calculation)
    step: str | None
    index: list[int] | None
    level: int
    template: str
    words: str | None
    activity: list[dict]
    notices: list[str]


def plan(state: ExplainerState) -> dict:
    """What to explain: the network or this turn's calculation, and for a hint the next rung."""
    turn = state.get("turn") or {}
    mode = turn.get("mode") or "walkthrough"
    target = turn.get("calc_spec") or state.get("spec")
    if mode != "results" and not target:
        return {"template": NO_NETWORK, "target": {}}
    update: dict = {"target": target or {}, "activity": [], "notices": [], "words": None}
    try:
        if mode == "hint":
            trace = trace_for(target)
            report = state.get("last_report") or {}
            wrong = next((c.get("step_id") for c in report.get("claims", [])
                          if c.get("verdict") == "wrong" and c.get("step_id")), None)
            shown_step, shown_level = state.get("hint_step"), state.get("hint_level") or 0
            step, level = next_hint(trace, shown_step, shown_level, wrong)
            if turn.get("reveal"):  # asked for the answer: the worked step of the step being hinted
                step, level = (shown_step if shown_step and shown_level < 3 else step), 3
            update.update(step=step, level=level, hint_step=step, hint_level=level)
        elif mode == "why":
            focus = Focus.from_dict(state.get("focus"))
            update.update(step=focus.step if focus else None,
                          index=list(focus.index) if focus and focus.index is not None else None)
    except NNTError as exc:
        update["template"] = f"I could not do that: {exc}"
    return update


def after_plan(state: ExplainerState) -> Literal["template", "finish"]:
    return "finish" if state.get("template") else "template"


def template(state: ExplainerState, runtime) -> dict:
    """The explanation built by code from the trace (or the tool results)."""
    p = context_of(runtime).precision
    turn = state.get("turn") or {}
    mode = turn.get("mode") or "walkthrough"
    try:
        if mode == "results":
            text = results_text(turn.get("tool_results") or [], p)
        else:
            trace = trace_for(state["target"])
            if mode == "why":
                text = why_text(trace, state.get("step") or "", p, state.get("index"))
            elif mode == "hint":
                text = hint_text(trace, state["step"], state["level"], p)
            else:
                text = walkthrough_text(trace, p, turn.get("phases"))
    except NNTError as exc:
        return {"template": f"I could not do that: {exc}", "activity": []}
    return {"template": text, "activity": [{"kind": "explain", "mode": mode, "step": state.get("step"),
                                            "level": state.get("level"), "template_chars": len(text)}]}


def after_template(state: ExplainerState, runtime) -> Literal["word", "finish"]:
    ok = not state["template"].startswith(("I could not", "No network"))
    return "word" if ok and use_llm(context_of(runtime), state) else "finish"


def word(state: ExplainerState, runtime) -> dict:
    """The model's commentary from a budgeted excerpt of the explanation, checked by the shared guard."""
    context = context_of(runtime)
    turn = state.get("turn") or {}
    mode = turn.get("mode") or "walkthrough"
    level = {"walkthrough": "a short overview of the walkthrough (what each phase does and why)",
             "why": "why this step is computed this way", "results": "what the tool results show",
             "hint": f"hint rung {state.get('level')} ({LEVEL_NAMES.get(state.get('level'), '')}): ask a "
                     f"guiding question; do not reveal any value the hint does not show"}[mode]
    question = last_user_text(state)
    system = load_prompt("explain")
    head = f"Level: {level}.\nThe student said: {question or '(slash command)'}\n\nEngine results (the only " \
           f"numbers you may use):\n\n"
    limit = first_prompt_limit(context.settings) - estimate_tokens(system + head) - 40
    source = state["template"]
    if mode == "walkthrough":  # an overview needs each step's result, not every element written out
        source = overview_text(trace_for(state["target"]), context.precision, turn.get("phases"))
    excerpt, left_out = excerpt_of(source, limit)
    messages = [SystemMessage(system), HumanMessage(head + excerpt)]
    if mode == "hint":  # a hint may use only what its rung shows, never the step's value
        grounding = grounding_for([state["template"], question])
    else:
        trace = trace_for(state["target"]) if state.get("target") else None
        grounding = grounding_for([state["template"], question],
                                  [r.get("result") for r in turn.get("tool_results") or []], trace)
    words, activity, notices = checked_text(context, messages, grounding, "explainer")
    if left_out:
        activity.insert(0, {"kind": "budget", "node": "explainer", "left_out": left_out})
    return {"words": words, "activity": state.get("activity", []) + activity,
            "notices": state.get("notices", []) + notices}


STEP_START = re.compile(r"\s*(?:\*\*`([^`]+)`|- `([^`]+)`|## (.+))")  # a step (rendered or one line), a heading


def excerpt_of(text: str, limit: int) -> tuple[str, list[str]]:
    """The explanation cut to `limit` tokens at step boundaries (never inside a step), and the steps
    and sections left out."""
    blocks = re.split(r"(?=\n+(?:\*\*`|- `|## ))", text)
    parts = [Part("step", b, i) for i, b in enumerate(blocks) if b]
    kept, dropped = fit(parts, limit)
    kept_in_order = [p for p in parts if p in kept and all(p.priority < d.priority for d in dropped)]
    left_out = [next(g for g in m.groups() if g) for p in parts if p not in kept_in_order
                for m in [STEP_START.match(p.text)] if m]
    excerpt = "".join(p.text for p in kept_in_order).strip("\n")
    if len(kept_in_order) < len(parts):
        excerpt += f"\n\n(the walkthrough goes on for {len(parts) - len(kept_in_order)} more parts, left out here)"
    return excerpt, left_out


def finish(state: ExplainerState) -> dict:
    """The answer: the commentary (if any) above the code-built explanation; a hint rung is replaced."""
    turn = state.get("turn") or {}
    words, text = state.get("words"), state["template"]
    if words:
        text = words if turn.get("mode") == "hint" else f"{words}\n\n{text}"
    update = {"turn": {"reply": text, "activity": state.get("activity", []), "notices": state.get("notices", [])},
              "messages": [AIMessage(text)]}
    if state.get("level"):
        update.update(hint_step=state.get("step"), hint_level=state.get("level"))
    return update


def build_explainer():
    """The explainer sub-graph, added to the tutor's graph as the node `explain`."""
    g = StateGraph(ExplainerState, input_schema=ExplainerIn, output_schema=ExplainerOut)
    g.add_node("plan", plan)
    g.add_node("template", template)
    g.add_node("word", word)
    g.add_node("finish", finish)
    g.add_edge(START, "plan")
    g.add_conditional_edges("plan", after_plan)
    g.add_conditional_edges("template", after_template)
    g.add_edge("word", "finish")
    g.add_edge("finish", END)
    return g.compile(name="explainer")


EXPLAINER = build_explainer()
