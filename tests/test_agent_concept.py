"""The concept node: the whole RAG step logged for /trace (query, terms, verdict, scored cards, prompt),
offline and with the scripted LLM."""
from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from nn_tutor.agent.concept import PROMPT_NOT_COVERED, PROMPT_OFFLINE, PROMPT_SENT
from nn_tutor.agent.config import load_settings
from nn_tutor.agent.graph import build_graph
from nn_tutor.agent.state import TutorContext
from scripted_llm import ScriptedLLM, text, tool_calls
from nn_tutor.tools.knowledge import cited_ids


def ask(question: str, llm: ScriptedLLM | None = None) -> dict:
    settings = load_settings(base_url=llm.url, timeout_s=5, max_retries=0) if llm else load_settings()
    graph = build_graph(InMemorySaver())
    return graph.invoke({"messages": [HumanMessage(question)], "request": None},
                        {"configurable": {"thread_id": "t"}}, context=TutorContext(settings=settings))


def retrieval_of(out: dict) -> dict:
    entries = [a for a in out["turn"]["activity"] if a["kind"] == "retrieval"]
    assert len(entries) == 1
    return entries[0]


def test_offline_answer_logs_the_whole_retrieval_and_the_prompt_an_llm_would_get():
    out = ask("what is RAG?")
    r = retrieval_of(out)
    # "what" and "is" carry no meaning: the one search term is the acronym
    assert r["query"] == "what is RAG?" and r["terms"] == ["rag"]
    # one term, found in the best card: all of the question's weight is matched
    assert r["covered"] is True and r["coverage"] == 1.0 and "100%" in r["reason"]
    ids = [c["id"] for c in r["cards"]]
    assert ids[0] == "rag" and len(ids) == 3
    for card in r["cards"]:
        assert card["matched"] == ["rag"] and card["bm25"] == card["score"] > 0 and card["cosine"] is None
    assert [c["score"] for c in r["cards"]] == sorted((c["score"] for c in r["cards"]), reverse=True)
    # the prompt holds the rules, each retrieved card under its id, and the question; it was not sent
    assert r["prompt_status"] == PROMPT_OFFLINE
    prompt = r["prompt"]
    assert "ONLY the course cards" in prompt and prompt.rstrip().endswith("what is RAG?")
    assert all(f"[{i}]" in prompt for i in ids)
    assert set(cited_ids(out["turn"]["reply"])) <= set(ids) and "[rag]" in out["turn"]["reply"]


def test_offline_not_covered_still_shows_why_and_the_prompt():
    out = ask("what's the weather like tomorrow?")
    r = retrieval_of(out)
    assert r["covered"] is False and "only" in r["reason"]
    assert r["prompt_status"] == PROMPT_OFFLINE and "what's the weather like tomorrow?" in r["prompt"]
    assert "do not cover" in out["turn"]["reply"] and cited_ids(out["turn"]["reply"]) == []


def test_llm_gets_exactly_the_logged_prompt():
    answer = "RAG puts retrieved passages into the prompt [rag]."
    with ScriptedLLM([text(answer)]) as llm:
        out = ask("what is RAG?", llm)
    r = retrieval_of(out)
    assert r["prompt_status"] == PROMPT_SENT and r["terms"] == ["rag"] and r["covered"] is True
    assert llm.requests[0]["messages"] == [{"role": "user", "content": r["prompt"]}]
    assert out["turn"]["reply"] == answer


def test_llm_is_not_asked_when_the_cards_do_not_cover_the_question():
    with ScriptedLLM([]) as llm:
        out = ask("what's the weather like tomorrow?", llm)
    assert len(llm.requests) == 0  # not covered: no LLM is asked
    r = retrieval_of(out)
    assert r["covered"] is False and r["prompt_status"] == PROMPT_NOT_COVERED and r["prompt"]
    assert "do not cover" in out["turn"]["reply"]


# citations are checked like numbers ------------------------------------------------------------

def test_citation_check_names_stray_ids_and_a_missing_citation():
    from nn_tutor.agent.concept import CitationCheck

    check = CitationCheck(["rag", "fine-tuning"], covered=True)
    assert check.faults("RAG retrieves first [rag]; fine-tuning changes weights [fine-tuning].") == []
    assert check.faults("RAG retrieves first [rag] [made-up].") == ["[made-up] is not one of the retrieved cards"]
    assert check.faults("RAG retrieves first.") == ["no card is cited"]
    assert CitationCheck(["rag"], covered=False).faults("The course notes do not cover this.") == []
    told = check.instruction(["[made-up] is not one of the retrieved cards"])
    assert "[made-up]" in told and "[rag], [fine-tuning]" in told


RETRIEVED = "RAG puts retrieved passages into the prompt [rag]; fine-tuning changes weights [fine-tuning]."


def test_a_citation_of_a_card_not_retrieved_is_rewritten_once_naming_it():
    from nn_tutor.agent.activity_view import trace_text

    script = [text("RAG was invented to stop hallucinations [hallucination-cure]."), text(RETRIEVED)]
    with ScriptedLLM(script) as llm:
        out = ask("what is RAG?", llm)
    assert len(llm.requests) == 2
    told = llm.requests[1]["messages"][-1]["content"]
    assert "[hallucination-cure] is not one of the retrieved cards" in told
    ids = [c["id"] for c in retrieval_of(out)["cards"]]
    assert ", ".join(f"[{i}]" for i in ids) in told  # the ids it may cite, named
    assert out["turn"]["reply"] == RETRIEVED and out["turn"]["notices"] == []
    guards = [a for a in out["turn"]["activity"] if a["kind"] == "guard"]
    assert [g["citations"] for g in guards] == [["[hallucination-cure] is not one of the retrieved cards"], []]
    shown = trace_text(out)
    assert "[hallucination-cure] is not one of the retrieved cards" in shown
    assert "every [card-id] cited names a retrieved card" in shown


def test_no_citation_twice_falls_back_to_the_extractive_answer():
    script = [text("RAG retrieves passages first."), text("RAG retrieves passages, then generates.")]
    with ScriptedLLM(script) as llm:
        out = ask("what is RAG?", llm)
    assert len(llm.requests) == 2  # no third try: the extractive answer is used
    assert "no card is cited" in llm.requests[1]["messages"][-1]["content"]
    assert "generates" not in out["turn"]["reply"]
    # the extractive answer opens with the best card's title and id, and cites only retrieved cards
    assert out["turn"]["reply"].startswith("**Retrieval-augmented generation (RAG)** [rag]")
    assert set(cited_ids(out["turn"]["reply"])) <= {c["id"] for c in retrieval_of(out)["cards"]}
    assert out["turn"]["notices"] == ["the LLM's answer still cited wrongly after a rewrite (no card is cited); "
                              "showing the answer extracted from the cards."]


def test_an_invented_number_and_a_stray_citation_are_named_in_one_rewrite():
    script = [text("RAG cuts errors by 37% [rag-stats]."), text(RETRIEVED)]
    with ScriptedLLM(script) as llm:
        out = ask("what is RAG?", llm)
    told = llm.requests[1]["messages"][-1]["content"]
    assert "37%" in told and "[rag-stats] is not one of the retrieved cards" in told
    assert out["turn"]["reply"] == RETRIEVED


# comparisons ------------------------------------------------------------------------------------

@pytest.mark.parametrize("question, both", [
    ("what is RAG vs fine-tuning?", ["RAG", "fine-tuning"]),
    ("RAG or fine-tuning, which one?", ["RAG", "fine-tuning"]),
    ("ok so whats the actual difference between rag and fine tuning, which one do i pick", ["rag", "fine tuning"]),
    ("compare CNN and RNN", ["CNN", "RNN"]),
    ("what is RAG?", []),
    ("what is backprop or gradient descent?", []),  # "or" alone is not a comparison
])
def test_the_two_sides_of_a_comparison(question, both):
    from nn_tutor.agent.concept import sides

    assert sides(question) == both
