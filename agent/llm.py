"""The chat model: ChatOpenAI built from Settings, bounded calls, and the one guard every node uses.

Any failure of a call (timeout, refused connection, HTTP error, unparsable reply) becomes
LLMUnavailable with a one-line reason; the node then finishes the turn on its offline answer.
`checked_text` is the rule "rewrite once, then fall back": a text is checked (numbers, citations...),
rewritten once naming every fault, and replaced by the caller's offline answer if still faulty.
Every call is sized first: a prompt over the budget is never sent.
"""
from __future__ import annotations

from functools import lru_cache

from nn_tutor.agent.budget import REPLY_TOKENS, message_tokens, prompt_limit
from nn_tutor.resources import prompt_text


class LLMUnavailable(RuntimeError):
    """The LLM could not answer this turn; the message is the one-line notice shown to the user."""


def build_chat_model(settings):
    """ChatOpenAI for an OpenAI-compatible endpoint (OpenAI, Ollama, vLLM, llama.cpp, LM Studio)."""
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    kwargs = dict(model=settings.model, api_key=SecretStr(settings.key_for_client),
                  timeout=settings.timeout_s, max_retries=settings.max_retries, temperature=0,
                  stream_usage=True, extra_body={"max_tokens": REPLY_TOKENS})  # the field every server reads
    if settings.base_url:
        kwargs["base_url"] = settings.base_url
    return ChatOpenAI(**kwargs)


def chat_model_for(context):
    """The context's chat model, building (and caching on the context) one from its settings."""
    if context.chat_model is None:
        context.chat_model = build_chat_model(context.settings)
    return context.chat_model


def call(context, messages, tools: list | None = None, name: str = "llm", force: str | None = None):
    """One LLM call (named for tracing), sized to the budget first; `force` names a tool the model
    must call. Any failure raises LLMUnavailable with a one-line reason.

    Returns (reply, activity entry with the estimated and the server's prompt tokens)."""
    limit = prompt_limit(context.settings)
    estimate = message_tokens(messages, tools)
    entry = {"kind": "llm", "node": name, "prompt_tokens_estimate": estimate, "prompt_limit": limit}
    if estimate > limit:
        raise LLMUnavailable(f"the prompt would take about {estimate} tokens, over the {limit} this "
                             f"model's context leaves (NNT_CONTEXT_TOKENS)")
    model = chat_model_for(context)
    runnable = model.bind_tools(tools, tool_choice=force) if tools else model
    try:
        reply = runnable.invoke(messages, config={"run_name": name})
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - every client failure means: answer offline this turn
        raise LLMUnavailable(describe_failure(exc)) from exc
    usage = getattr(reply, "usage_metadata", None) or {}
    if usage.get("input_tokens"):
        entry["prompt_tokens"] = usage["input_tokens"]
    return reply, entry


def describe_failure(exc: BaseException) -> str:
    """A one-line, key-free description of why the LLM call failed."""
    name = type(exc).__name__
    if "Timeout" in name:
        return "the LLM did not answer in time"
    if "Connection" in name:
        return "the LLM endpoint could not be reached"
    status = getattr(exc, "status_code", None)
    if status:
        return f"the LLM endpoint answered HTTP {status}"
    return f"the LLM call failed ({name})"


def offline_notice(reason: str) -> str:
    """The one-line notice for a turn that fell back to the offline path."""
    return f"LLM unavailable: {reason}; answered offline for this turn."


@lru_cache(maxsize=None)
def load_prompt(name: str) -> str:
    """The text of prompts/NAME.md (shipped inside the package)."""
    return prompt_text(name)


def reply_text(reply) -> str:
    """The text of a chat reply ('' when the model only called tools)."""
    return reply.content if isinstance(reply.content, str) else str(reply.content or "")


def checked_text(context, messages: list, grounding, name: str,
                 checks: tuple = ()) -> tuple[str | None, list[dict], list[str]]:
    """An LLM text checked by the numeric grounding guard and any further `checks` (TextCheck),
    rewritten once naming every fault, else None so the caller shows its offline answer.

    Returns (text or None, activity entries, notices).
    """
    from langchain_core.messages import AIMessage, HumanMessage

    from nn_tutor.agent.grounding import retry_instruction

    activity: list[dict] = []
    offending: list[str] = []
    faults: dict[str, list[str]] = {}
    for attempt in (1, 2):
        try:
            reply, entry = call(context, messages, name=name)
        except LLMUnavailable as exc:
            activity.append({"kind": "llm", "node": name, "error": str(exc)})
            return None, activity, [offline_notice(str(exc))]
        text = reply_text(reply)
        offending = grounding.ungrounded(text)
        faults = {check.field: check.faults(text) for check in checks}
        if not text.strip():
            faults["empty"] = ["the answer was empty"]
        activity.append({**entry, "attempt": attempt})
        activity.append({"kind": "guard", "attempt": attempt, "ungrounded": offending,
                         **{k: v for k, v in faults.items() if k != "empty"}})
        if not offending and not any(faults.values()):
            return text, activity, []
        told = [retry_instruction(offending)] if offending else []
        told += [check.instruction(faults[check.field]) for check in checks if faults[check.field]]
        messages = list(messages) + [AIMessage(text), HumanMessage("\n\n".join(told) or
                                                                    "Answer the question in words.")]
    notices = [f"the LLM's text kept numbers the engine did not compute ({', '.join(offending)}); "
               f"showing the answer built without the LLM instead."] if offending else []
    return None, activity, notices + [check.notice(faults[check.field]) for check in checks
                                      if faults.get(check.field)]
