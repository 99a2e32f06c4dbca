"""The knowledge node: concept questions answered from the course's cards, citing them ([card-id]).

Offline the answer is extractive (tools.knowledge.answer_offline). The retrieved cards are always put
into the grounded prompt, and the whole retrieval (query, terms, covered verdict and its reason, cards
with scores and matched terms, the prompt) is logged for /trace: the tutor teaches RAG by doing it in
the open. With an LLM the prompt is sent and the answer is checked by the grounding guard, numbers and
citations both: a [card-id] that was not retrieved, or no citation at all when the cards cover the
question, is a fault like an invented number (one rewrite naming it, then the extractive answer).
"""
from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage

from nn_tutor.agent.grounding import grounding_for
from nn_tutor.agent.llm import grounded_call
from nn_tutor.agent.state import context_of, last_user_text, use_llm

PROMPT_SENT = "sent to the LLM"
PROMPT_OFFLINE = "not sent (offline): the prompt an LLM would get"
PROMPT_NOT_COVERED = "not sent: the cards do not cover the question, so no LLM is asked"


class CitationCheck:
    """The answer's [card-id] citations must name retrieved cards, and cite one when they cover it."""

    field = "citations"

    def __init__(self, retrieved: list[str], covered: bool):
        self.retrieved, self.covered = retrieved, covered

    def faults(self, text: str) -> list[str]:
        from nn_tutor.tools.knowledge import cited_ids

        cited = cited_ids(text)
        stray = [f"[{cid}] is not one of the retrieved cards" for cid in cited if cid not in self.retrieved]
        return stray or (["no card is cited"] if self.covered and not cited else [])

    def instruction(self, faults: list[str]) -> str:
        allowed = ", ".join(f"[{cid}]" for cid in self.retrieved)
        return (f"Your previous answer's citations were wrong: {'; '.join(faults)}. Rewrite it from the "
                f"course cards you were given and cite them by id after each sentence that uses one; "
                f"the only ids you may cite are {allowed}.")

    def notice(self, faults: list[str]) -> str:
        return (f"the LLM's answer still cited wrongly after a rewrite ({'; '.join(faults)}); "
                f"showing the answer extracted from the cards.")


def answer_concept(state: dict, runtime) -> dict:
    """Answer a concept question from the knowledge base (LLM-worded when configured)."""
    context = context_of(runtime)
    question = last_user_text(state)
    query = state.get("query") or question
    try:
        from nn_tutor.tools.knowledge import answer_offline, build_prompt
    except ImportError:
        reply = ("The knowledge base is not available in this build. I can still walk through networks "
                 "(`/load FILE`, `/walk`) and check worked solutions (`/check FILE`).")
        return {"reply": reply, "messages": [AIMessage(reply)]}
    offline = answer_offline(query, k=3, embeddings=context.settings.embeddings)
    found = offline.retrieval
    found.prompt = build_prompt(question, found.hits)
    ask = use_llm(context, state) and found.covered
    status = PROMPT_SENT if ask else PROMPT_NOT_COVERED if use_llm(context, state) else PROMPT_OFFLINE
    activity = [{**found.to_dict(), "prompt_status": status}]
    reply, notices = offline.text, []
    if ask:
        grounding = grounding_for([question, found.prompt])
        check = CitationCheck([h.card.id for h in found.hits], found.covered)
        words, more, notices = grounded_call(context, [HumanMessage(found.prompt)], grounding, "concept",
                                             (check,))
        activity += more
        if words:
            reply = words
    return {"reply": reply, "messages": [AIMessage(reply)], "activity": activity, "notices": notices}
