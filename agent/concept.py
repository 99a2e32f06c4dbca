"""The knowledge node: concept questions answered from the course's cards, citing them ([card-id]).

Offline the answer is extractive (tools.knowledge.answer_offline). The retrieved cards are always put
into the grounded prompt, and the whole retrieval (query, terms, covered verdict and its reason, cards
with scores and matched terms, the prompt) is logged for /trace: the tutor teaches RAG by doing it in
the open. With an LLM the prompt is sent and the answer is grounding-checked; failures fall back to the
extractive answer.
"""
from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage

from agent.grounding import grounding_for
from agent.llm import grounded_call
from agent.state import context_of, last_user_text, use_llm

PROMPT_SENT = "sent to the LLM"
PROMPT_OFFLINE = "not sent (offline): the prompt an LLM would get"
PROMPT_NOT_COVERED = "not sent: the cards do not cover the question, so no LLM is asked"


def answer_concept(state: dict, runtime) -> dict:
    """Answer a concept question from the knowledge base (LLM-worded when configured)."""
    context = context_of(runtime)
    question = last_user_text(state)
    query = state.get("query") or question
    try:
        from tools.knowledge import answer_offline, build_prompt
    except ImportError:
        reply = ("The knowledge base is not available in this build. I can still walk through networks "
                 "(`/load FILE`, `/walk`) and check worked solutions (`/check FILE`).")
        return {"reply": reply, "messages": [AIMessage(reply)]}
    offline = answer_offline(query, k=3)
    found = offline.retrieval
    found.prompt = build_prompt(question, found.hits)
    ask = use_llm(context, state) and found.covered
    status = PROMPT_SENT if ask else PROMPT_NOT_COVERED if use_llm(context, state) else PROMPT_OFFLINE
    activity = [{**found.to_dict(), "prompt_status": status}]
    reply, notices = offline.text, []
    if ask:
        grounding = grounding_for([question, found.prompt])
        words, more, notices = grounded_call(context, [HumanMessage(found.prompt)], grounding, "concept")
        activity += more
        if words:
            reply = words
    return {"reply": reply, "messages": [AIMessage(reply)], "activity": activity, "notices": notices}
