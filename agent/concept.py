"""The knowledge node: concept questions answered from the course's cards, citing them ([card-id]).

Offline the answer is extractive (tools.knowledge.answer_offline). With an LLM the retrieved cards are
put into a prompt (shown by /trace: the tutor teaches RAG by doing it in the open) and the answer is
grounding-checked; failures fall back to the extractive answer.
"""
from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage

from agent.grounding import grounding_for
from agent.llm import grounded_call
from agent.state import context_of, last_user_text, use_llm


def _retrieval_entry(query: str, hits, prompt: str | None = None) -> dict:
    return {"kind": "retrieval", "query": query,
            "cards": [{"id": h.card.id, "title": h.card.title, "score": round(float(h.score), 3)}
                      for h in hits],
            "prompt": prompt}


def answer_concept(state: dict, runtime) -> dict:
    """Answer a concept question from the knowledge base (LLM-worded when configured)."""
    context = context_of(runtime)
    question = last_user_text(state)
    query = state.get("query") or question
    try:
        from tools.knowledge import answer_offline, build_prompt, search
    except ImportError:
        reply = ("The knowledge base is not available in this build. I can still walk through networks "
                 "(`/load FILE`, `/walk`) and check worked solutions (`/check FILE`).")
        return {"reply": reply, "messages": [AIMessage(reply)]}
    offline = answer_offline(query, k=3)
    activity = [_retrieval_entry(query, offline.hits)]
    notices: list[str] = []
    reply = offline.text
    if use_llm(context, state) and offline.covered:
        hits = search(query, k=3)
        prompt = build_prompt(question, hits)
        activity = [_retrieval_entry(query, hits, prompt)]
        grounding = grounding_for([question, prompt])
        words, more, notices = grounded_call(context, [HumanMessage(prompt)], grounding, "concept")
        activity += more
        if words:
            reply = words
    return {"reply": reply, "messages": [AIMessage(reply)], "activity": activity, "notices": notices}
