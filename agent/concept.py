"""The knowledge node: concept questions answered from the course's cards, citing them ([card-id]).

Offline the answer is extractive (tools.knowledge.answer_offline). The retrieved cards are always put
into the grounded prompt, and the whole retrieval (query, terms, covered verdict and its reason, cards
with scores and matched terms, the prompt) is logged for /trace: the tutor teaches RAG by doing it in
the open. With an LLM the prompt is sent and the answer is checked by the grounding guard, numbers and
citations both: a [card-id] that was not retrieved, or no citation at all when the cards cover the
question, is a fault like an invented number (one rewrite naming it, then the extractive answer).
A comparison ("RAG vs fine-tuning") retrieves each side and answers both. The prompt keeps whole
cards, best-ranked first, as many as the model's context allows.
"""
from __future__ import annotations

import re

from langchain_core.messages import HumanMessage

from nn_tutor.agent.budget import estimate_tokens, first_prompt_limit
from nn_tutor.agent.grounding import grounding_for
from nn_tutor.agent.llm import checked_text
from nn_tutor.agent.state import answer, context_of, last_user_text, use_llm

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


COMPARE = re.compile(r"^(?:(?:what(?:'s| is| are)|whats)(?: the)?\s+)?(?:difference between |compare |contrast )?(.+?)\s+"
                     r"(?:vs\.?|versus|or|and|compared (?:to|with))\s+(.+?)(?:\?|$|,| which| -)", re.I)


BETWEEN = re.compile(r"\bdifference between (.+?)\s+and\s+(.+?)(?:\?|$|,|\s+which|\s+-)", re.I)


def sides(question: str) -> list[str]:
    """The two things a comparison asks about ("RAG vs fine-tuning"), or [] for any other question."""
    if not re.search(r"\b(vs\.?|versus|difference|compare|contrast|which)\b", question, re.I):
        return []
    m = BETWEEN.search(question.strip()) or COMPARE.search(question.strip())
    return [m.group(1).strip(" ?"), m.group(2).strip(" ?")] if m else []


def answer_concept(state: dict, runtime) -> dict:
    """Answer a concept question from the knowledge base (LLM-worded when configured)."""
    context = context_of(runtime)
    question = last_user_text(state)
    query = (state.get("turn") or {}).get("query") or question
    try:
        from nn_tutor.tools.knowledge import answer_compare, answer_offline, build_prompt
    except ImportError:
        reply = ("The knowledge base is not available in this build. I can still walk through networks "
                 "(`/load FILE`, `/walk`) and check worked solutions (`/check FILE`).")
        return answer(reply)
    embeddings = context.settings.embeddings
    both = sides(query)
    offline = answer_compare(query, both, embeddings) if both else answer_offline(query, k=3, embeddings=embeddings)
    found = offline.retrieval
    hits, prompt, left_out = budgeted_prompt(context, question, found.hits, build_prompt)
    found.prompt = prompt
    ask = use_llm(context, state) and found.covered
    status = PROMPT_SENT if ask else PROMPT_NOT_COVERED if use_llm(context, state) else PROMPT_OFFLINE
    activity = [{**found.to_dict(), "prompt_status": status, "sides": both,
                 "prompt_tokens_estimate": estimate_tokens(prompt), "cards_left_out": left_out}]
    reply, notices = offline.text, []
    if ask:
        grounding = grounding_for([question, prompt])
        check = CitationCheck([h.card.id for h in hits], found.covered)
        words, more, notices = checked_text(context, [HumanMessage(prompt)], grounding, "concept", (check,))
        activity += more
        if words:
            reply = words
    return answer(reply, activity=activity, notices=notices)


def budgeted_prompt(context, question: str, hits: list, build_prompt) -> tuple[list, str, list[str]]:
    """The RAG prompt with as many whole cards as fit the budget (best-ranked first), and those left out."""
    limit = first_prompt_limit(context.settings)
    kept = list(hits)
    while kept and estimate_tokens(build_prompt(question, kept)) > limit:
        kept.pop()
    return kept, build_prompt(question, kept), [h.card.id for h in hits if h not in kept]
