"""The /trace view: retrieval shown step by step, long prompts shortened with a note of what is left out."""
from __future__ import annotations

import re

from nn_tutor.agent.activity_view import PROMPT_WHOLE, prompt_excerpt, trace_text
from nn_tutor.tools.knowledge import build_prompt, retrieve

MARKER = re.compile(r" … \(([\d,]+) characters left out\) …")


def test_a_short_prompt_is_shown_whole():
    prompt = "Answer from the cards.\n\n[rag] RAG\nRetrieval first.\n\nStudent's question:\nwhat is RAG?"
    assert prompt_excerpt(prompt, ["rag"]) == prompt


def test_a_long_prompt_keeps_instructions_each_card_head_and_the_question():
    found = retrieve("what is the vanishing gradient problem?")
    ids = [h.card.id for h in found.hits]
    prompt = build_prompt(found.query, found.hits)
    assert len(prompt) > PROMPT_WHOLE and len(ids) == 3
    shown = prompt_excerpt(prompt, ids)
    assert len(shown) < len(prompt) * 0.7
    assert shown.startswith(prompt[:300])  # the instructions open it
    assert shown.rstrip().endswith("Student's question:\nwhat is the vanishing gradient problem?")
    for hit in found.hits:  # every card keeps its header line and the start of its body
        assert f"[{hit.card.id}] {hit.card.title}\n{hit.card.body[:40]}" in shown
    # what is shown plus what the markers say was left out adds up to the whole prompt
    # (each cut puts one or two newlines of its own between the marker and what follows)
    pieces = MARKER.split(shown)
    kept, left_out = pieces[0::2], [int(n.replace(",", "")) for n in pieces[1::2]]
    assert left_out and all(piece.strip() in prompt for piece in kept)
    assert abs(sum(map(len, kept)) + sum(left_out) - len(prompt)) <= 2 * len(left_out)


def test_retrieval_is_shown_query_terms_verdict_cards_prompt():
    activity = [
        {"kind": "route", "by": "rules", "route": "concept", "reason": "a question"},
        {"kind": "retrieval", "query": "what is a car?", "terms": ["car"], "covered": False,
         "reason": "the best card matches only 20% of the question's weight",
         "cards": [{"id": "cars", "title": "Car maintenance", "score": 0.033, "bm25": 1.25, "cosine": 0.91,
                    "matched": ["car"]},
                   {"id": "tax", "title": "Tax", "score": 0.016, "bm25": 0.0, "cosine": 0.12,
                    "matched": []}],
         "notice": "embeddings unavailable (ConnectError); ranked by BM25 alone",
         "prompt": "Answer from the cards.\n[cars] Car maintenance\n...", "prompt_status": "not sent (offline)"},
    ]
    text = trace_text({"turn": {"activity": activity}})
    assert "query “what is a car?” → search terms `car`" in text
    assert "**not covered**: the best card matches only 20%" in text
    assert "1. [cars] Car maintenance: fused 0.033 (BM25 1.25, cosine 0.91); matched `car`" in text
    assert "2. [tax] Tax: fused 0.016 (BM25 0.0, cosine 0.12); matched none" in text
    assert "notice: embeddings unavailable" in text
    # the prompt above: 22 + 1 + 22 + 1 + 3 characters (two lines, a newline each, then "...")
    assert "**prompt** (not sent (offline); 49 characters)" in text
    assert text.index("search terms") < text.index("not covered") < text.index("1. [cars]") < text.index(
        "**prompt**")


def test_an_older_retrieval_entry_without_terms_still_renders():
    text = trace_text({"turn": {"activity": [{"kind": "retrieval", "query": "q", "cards": [], "prompt": None}]}})
    assert "query “q” → search terms none" in text and "no card shares a term" in text
    assert "Nothing traced yet" in trace_text({})
