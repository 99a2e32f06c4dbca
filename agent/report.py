"""The report node: follow-ups on the last check ("explain my mistakes", "why is line 13 wrong?").

The answer is built from the check report's own claims (line, verdict, expected value, misconception,
hint, rule, evidence, and the engine step it was aligned to, explained in words), never from a new
retrieval. With an LLM the same facts are worded by the model under the shared guard.
"""
from __future__ import annotations

from langchain_core.messages import HumanMessage, SystemMessage

from nn_tutor.agent.budget import estimate_tokens, first_prompt_limit
from nn_tutor.agent.checker import verdict_lines
from nn_tutor.agent.grounding import grounding_for
from nn_tutor.agent.llm import checked_text, load_prompt
from nn_tutor.agent.state import answer, context_of, last_user_text, use_llm
from nn_tutor.agent.step_words import step_words
from nn_tutor.engine.errors import NNTError
from nn_tutor.engine.numfmt import fmt_num
from nn_tutor.tools.engine_tools import trace_for


def claim_text(claim: dict, trace) -> str:
    """One claim of the report in words: what was written, the verdict and why, the step it belongs to."""
    expected = claim.get("expected")
    shown = fmt_num(expected, 4) if isinstance(expected, (int, float)) else expected
    parts = [f"**Line {claim.get('line')}** `{claim.get('text', '').strip()}`: {claim.get('verdict')}"
             + (f", expected {shown}" if shown is not None and claim.get("verdict") != "correct" else "") + "."]
    if claim.get("misconception"):
        parts.append(f"Misconception: {claim['misconception']}.")
    for key, label in (("rule", "Rule"), ("evidence", "Evidence"), ("hint", "Hint"), ("reason", "Why")):
        if claim.get(key):
            parts.append(f"{label}: {claim[key]}")
    step = claim.get("step_id")
    if step and trace is not None and step in trace:
        parts.append(f"This is step `{step}`. {step_words(trace, step)}")
    return " ".join(parts)


def explain_report(state: dict, runtime) -> dict:
    """Answer a question about the last check from its claims."""
    context = context_of(runtime)
    report = state.get("last_report") or {}
    turn = state.get("turn") or {}
    claims = report.get("claims") or []
    line = turn.get("line")
    asked = [c for c in claims if c.get("line") == line] if line else \
        [c for c in claims if c.get("verdict") in ("wrong", "carried")]
    try:
        trace = trace_for(state["spec"]) if state.get("spec") else None
    except NNTError:
        trace = None
    if not asked:
        text = (f"Line {line} of your last check holds no checked step." if line else
                "Your last check found no wrong step: every checked line was right (or a rounding difference).")
        return answer(text)
    template = "\n\n".join(claim_text(c, trace) for c in asked)
    if not use_llm(context, state):
        return answer(template)
    system = load_prompt("word_verdicts")
    question = last_user_text(state)
    limit = first_prompt_limit(context.settings) - estimate_tokens(system + question) - 60
    messages = [SystemMessage(system), HumanMessage(
        f"The student asks: {question}\nVerdicts from the checker (final):\n"
        + verdict_lines(asked, limit))]
    words, activity, notices = checked_text(context, messages, grounding_for([question], [report]), "report")
    return answer(f"{words}\n\n{template}" if words else template, activity=activity, notices=notices)
