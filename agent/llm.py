"""The chat model: ChatOpenAI built from Settings with a timeout and bounded retries, prompts, failures.

Any failure of a call (timeout, refused connection, HTTP error, unparsable reply) becomes
LLMUnavailable with a one-line reason; the graph then finishes the turn on the offline path.
"""
from __future__ import annotations

from functools import lru_cache

from nn_tutor.resources import prompt_text


class LLMUnavailable(RuntimeError):
    """The LLM could not answer this turn; the message is the one-line notice shown to the user."""


def build_chat_model(settings):
    """ChatOpenAI for an OpenAI-compatible endpoint (OpenAI, Ollama, vLLM, llama.cpp, LM Studio)."""
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    kwargs = dict(model=settings.model, api_key=SecretStr(settings.key_for_client),
                  timeout=settings.timeout_s, max_retries=settings.max_retries, temperature=0,
                  stream_usage=True)
    if settings.base_url:
        kwargs["base_url"] = settings.base_url
    return ChatOpenAI(**kwargs)


def chat_model_for(context):
    """The context's chat model, building (and caching on the context) one from its settings."""
    if context.chat_model is None:
        context.chat_model = build_chat_model(context.settings)
    return context.chat_model


def call(model, messages, tools: list | None = None, name: str = "llm"):
    """One LLM call (named for tracing); any failure raises LLMUnavailable with a one-line reason."""
    runnable = model.bind_tools(tools) if tools else model
    config = {"run_name": name}
    try:
        return runnable.invoke(messages, config=config)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - every client failure means: answer offline this turn
        raise LLMUnavailable(describe_failure(exc)) from exc


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


def grounded_call(context, messages: list, grounding, name: str,
                  checks: tuple = ()) -> tuple[str | None, list[dict], list[str]]:
    """An LLM text checked by the grounding guard (and any further `checks`, agent.grounding.TextCheck),
    rewritten once naming every fault found.

    Returns (text or None when the caller must use its template, activity entries, notices).
    """
    from langchain_core.messages import AIMessage, HumanMessage

    from nn_tutor.agent.grounding import retry_instruction

    activity: list[dict] = []
    model = chat_model_for(context)
    for attempt in (1, 2):
        try:
            reply = call(model, messages, name=name)
        except LLMUnavailable as exc:
            activity.append({"kind": "llm", "node": name, "error": str(exc)})
            return None, activity, [offline_notice(str(exc))]
        text = reply.content if isinstance(reply.content, str) else str(reply.content)
        offending = grounding.ungrounded(text)
        faults = {check.field: check.faults(text) for check in checks}
        activity.append({"kind": "llm", "node": name, "attempt": attempt})
        activity.append({"kind": "guard", "attempt": attempt, "ungrounded": offending, **faults})
        if not offending and not any(faults.values()):
            return text, activity, []
        told = [retry_instruction(offending)] if offending else []
        told += [check.instruction(faults[check.field]) for check in checks if faults[check.field]]
        messages = list(messages) + [AIMessage(text), HumanMessage("\n\n".join(told))]
    notices = [f"the LLM's text kept numbers the engine did not compute ({', '.join(offending)}); "
               f"showing the answer built without the LLM instead."] if offending else []
    return None, activity, notices + [check.notice(faults[check.field]) for check in checks
                                      if faults[check.field]]
