"""The describe node: a network described in words becomes a spec the engine computes, or a question.

With an LLM the model must fill in `set_network` through a forced tool call. Its spec is used only if
it validates and every number in it appears in the student's text (or is a default the tutor then
lists as a guess), so an invented or altered number is never computed. Whatever the model did, the
deterministic reader (tools.described) reads the same text: when it reads the whole network without
guessing, its spec is the one computed (a disagreeing model is logged, not trusted); otherwise the
spec is shown with every guess and computed only after the student's yes. What neither can read gets
a one-line request with a template to fill in.
"""
from __future__ import annotations

import yaml
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import ValidationError

from nn_tutor.agent.grounding import numbers_in, values_in
from nn_tutor.agent.llm import LLMUnavailable, call, load_prompt, offline_notice
from nn_tutor.agent.state import answer, context_of, last_user_text, use_llm
from nn_tutor.engine.errors import NNTError
from nn_tutor.tools.described import TEMPLATE, Reading, read_network
from nn_tutor.tools.described.assemble import DEFAULT_LEARNING_RATE
from nn_tutor.tools.described.facts import read_facts
from nn_tutor.tools.engine_tools import validate_spec
from nn_tutor.tools.schemas import set_network, tool_definition


def describe(state: dict, runtime) -> dict:
    """Read the described network; compute it, or show it and ask, or ask for what is missing."""
    context = context_of(runtime)
    text = last_user_text(state)
    reading = read_network(text)
    activity = [{"kind": "tool", "name": "read_network (deterministic reader)", "args": {"chars": len(text)},
                 "result": {"complete": reading.complete, "guessed": reading.guessed, "missing": reading.missing}}]
    notices: list[str] = []
    model_spec, model_guesses = None, []
    if use_llm(context, state):
        try:
            model_spec, model_guesses, entries = _model_reading(context, text)
            activity += entries
        except LLMUnavailable as exc:
            activity.append({"kind": "llm", "node": "describe", "error": str(exc)})
            notices.append(offline_notice(str(exc)))
    spec, guessed, source = _choose(reading, model_spec, model_guesses, activity)
    turn = {"activity": activity, "notices": notices}
    if spec is None:
        missing = "; ".join(reading.missing)
        return answer(f"I could not read the whole network from your words: missing {missing}. Describe it "
                      f"like this and I will compute it:\n\n> {TEMPLATE}", route="reply", **turn)
    if guessed:
        shown = yaml.safe_dump(spec, sort_keys=False, default_flow_style=None, allow_unicode=True)
        guesses = "\n".join(f"- {g}" for g in guessed)
        text = (f"Here is the network as I read it ({source}):\n\n```yaml\n{shown}```\n\nI had to assume:\n"
                f"{guesses}\n\nShall I compute with these values? Answer **yes**, or correct me.")
        return {"pending_spec": spec, **answer(text, route="reply", **turn)}
    return {"spec": spec, "spec_name": "described", "pending_spec": None, "hint_step": None, "hint_level": 0,
            "focus": None, "turn": {"route": "explain", "mode": "walkthrough", **turn}}


def _model_reading(context, text: str) -> tuple[dict | None, list[str], list[dict]]:
    """The model's spec through a forced set_network call, kept only if valid and grounded in the text."""
    messages = [SystemMessage(load_prompt("read_network")), HumanMessage(text)]
    reply, entry = call(context, messages, [tool_definition(set_network)], name="describe", force="set_network")
    activity = [entry]
    calls = [c for c in reply.tool_calls if c["name"] == "set_network"]
    broken = [c for c in getattr(reply, "invalid_tool_calls", None) or [] if c.get("name") == "set_network"]
    verdict = "the set_network call was not valid JSON" if broken else "no set_network call came back"
    spec, guesses = None, []
    if calls:
        try:
            parsed = set_network.model_validate(calls[0]["args"])
            spec, guesses = parsed.to_spec(), list(parsed.guessed)
            invented = ungrounded_numbers(spec, text)
            if invented:
                verdict, spec = f"numbers not in the student's text: {', '.join(invented)}", None
            else:
                validate_spec(spec)
                guesses += _defaults_used(spec, text)
                verdict = "valid and every number is in the student's text"
        except ValidationError as exc:
            verdict, spec = f"not a valid set_network call ({exc.error_count()} errors)", None
        except NNTError as exc:
            verdict, spec = f"the engine cannot compute it: {exc}", None
    args = calls[0]["args"] if calls else {"unparsed": broken[0].get("args")} if broken else {}
    activity.append({"kind": "tool", "name": "set_network (model)", "args": args,
                     "result": {"accepted": spec is not None, "why": verdict}})
    return spec, guesses, activity


def ungrounded_numbers(spec: dict, text: str) -> list[str]:
    """Numbers of a spec that the student's text does not state, exactly as written (0, the default
    bias, aside). Stricter than the prose guard: no rounding, and a small integer counts only if the
    text has it. The learning rate must be the one the text states (the reader finds it), or the
    default when it states none."""
    written = numbers_in(text)
    numbers = values_in({k: v for k, v in spec.items() if k != "learning_rate"})
    bad = [f"{v:g}" for v in numbers
           if v != 0 and not any(abs(v - w) <= 1e-12 * max(1.0, abs(w)) for w in written)]
    rate = spec.get("learning_rate")
    if rate != (stated_rate(text) or DEFAULT_LEARNING_RATE):
        bad.append(f"{rate:g} (learning rate)")
    return list(dict.fromkeys(bad))


def stated_rate(text: str) -> float | None:
    """The learning rate the text states, as the reader finds it (None when it states none)."""
    return read_facts(text).learning_rate


def _defaults_used(spec: dict, text: str) -> list[str]:
    if spec.get("learning_rate") == DEFAULT_LEARNING_RATE and stated_rate(text) is None:
        return [f"learning rate η = {DEFAULT_LEARNING_RATE} (not stated)"]
    return []


def _choose(reading: Reading, model_spec: dict | None, model_guesses: list[str],
            activity: list[dict]) -> tuple[dict | None, list[str], str]:
    """The spec to use, the guesses to confirm, and where it came from."""
    if reading.complete:
        if model_spec is not None and model_spec != reading.spec:
            activity.append({"kind": "guard", "ungrounded": [], "reading": "the model's spec differs from the "
                             "text's own reading; the reading is used"})
        return reading.spec, [], "read from your words"
    if model_spec is not None:
        note = "read by the language model: check every value"
        return model_spec, list(dict.fromkeys(model_guesses + [note])), "read by the language model"
    if reading.spec is not None:
        try:
            validate_spec(reading.spec)
        except NNTError as exc:
            reading.missing.append(f"a network the engine can compute ({exc})")
            return None, [], ""
        return reading.spec, reading.guessed, "read from your words"
    return None, [], ""
