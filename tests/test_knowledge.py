"""The knowledge base: cards, the maths-aware tokenizer and aliases, BM25 retrieval, the "not covered"
gate, extractive answers with citations, the RAG prompt, and embeddings fused in by rank."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from nn_tutor.engine.errors import NNTError
from nn_tutor.resources import example_path, knowledge_dir
from nn_tutor.tools.cards import KNOWLEDGE_DIR, Card, load_cards, parse_card
from nn_tutor.tools.knowledge import (KnowledgeBase, answer_offline, build_prompt, cited_ids, knowledge_base,
                             retrieve, search)
from nn_tutor.tools.query_terms import fold, tokenize

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from retrieval import load_questions, rank_metrics  # noqa: E402

BODY = " ".join(["word"] * 120)


# cards ---------------------------------------------------------------------------------------

def test_at_least_fifty_valid_cards_with_existing_engine_pointers():
    cards = load_cards()
    assert len(cards) >= 50
    for card in cards:
        assert 100 <= len(card.body.split()) <= 300, card.id
        assert card.tags and card.title
        if card.try_command:
            path = card.try_command.split()[-1]
            assert card.try_command.startswith("nnt walk examples/"), card.id
            assert example_path(path) is not None, f"{card.id}: {path} does not ship"


# one card per topic of the course outline (../shared/reference/concepts.md), at least
OUTLINE = {
    "layered picture": "ai-hierarchy", "kinds of AI": "kinds-of-ai", "rule-based": "rule-based-ai",
    "supervised": "supervised-learning", "unsupervised": "unsupervised-learning",
    "reinforcement": "reinforcement-learning", "algorithms": "ml-algorithms", "lifecycle": "ml-lifecycle",
    "splits": "data-splits", "metrics": "classification-metrics", "regression metrics": "regression-metrics",
    "model families": "model-families", "overfitting": "overfitting", "transfer": "transfer-learning",
    "biology": "biological-neuron", "McCulloch-Pitts": "mcculloch-pitts", "perceptron": "perceptron",
    "XOR": "xor-problem", "first winter": "first-ai-winter", "layers": "layers-weights-biases",
    "matrix form": "matrix-form", "non-linearity": "why-nonlinear-activations",
    "activations": "activation-functions", "output activation": "output-activation",
    "learning": "gradient-descent", "learning rate": "learning-rate", "backprop": "backpropagation",
    "N + P": "backprop-efficiency", "graphs": "computational-graphs", "calculus": "chain-rule-calculus",
    "second winter": "second-ai-winter", "revival": "dl-revival", "depth": "deep-learning",
    "CNN": "cnn", "RNN": "rnn-lstm", "transformer": "transformers", "DL needs": "dl-requirements",
    "reference networks": "reference-networks", "NLP tasks": "nlp-tasks", "NLP history": "nlp-history",
    "LLM": "large-language-models", "capabilities": "llm-capabilities", "prompting": "prompt-engineering",
    "fine-tuning": "fine-tuning", "tokens": "tokens", "RAG": "rag", "practical": "llm-practical-concerns",
    "generative AI": "generative-ai", "risks": "generative-ai-risks", "agents": "ai-agents",
    "agent parts": "agent-components", "ReAct": "react-pattern", "agent uses": "agent-uses-boundaries",
    "agentic AI": "agentic-ai", "orchestrator": "orchestrator-agents", "frameworks": "agentic-frameworks",
    "governance": "agentic-governance", "this tutor": "this-tutor",
}


def test_every_outline_topic_has_a_card():
    ids = {c.id for c in load_cards()}
    assert sorted(set(OUTLINE.values()) - ids) == []


def _write(tmp_path, name, text):
    (tmp_path / f"{name}.md").write_text(text)


def test_broken_cards_fail_with_one_line_messages(tmp_path):
    with pytest.raises(NNTError, match="front-matter"):
        parse_card("no front matter", "x.md")
    with pytest.raises(NNTError, match="needs 'tags'"):
        parse_card(f"---\nid: a\ntitle: A\n---\n{BODY}", "a.md")
    with pytest.raises(NNTError, match="5 words"):
        parse_card("---\nid: a\ntitle: A\ntags: [x]\n---\none two three four five", "a.md")
    _write(tmp_path, "a", f"---\nid: b\ntitle: A\ntags: [x]\n---\n{BODY}")
    with pytest.raises(NNTError, match="must match the file name"):
        load_cards(tmp_path)
    _write(tmp_path, "a", f"---\nid: a\ntitle: A\ntags: [x]\nrelated: [ghost]\n---\n{BODY}")
    with pytest.raises(NNTError, match="ghost"):
        load_cards(tmp_path)


# tokenizer and aliases -----------------------------------------------------------------------

def test_tokenizer_keeps_maths_tokens():
    terms = tokenize("How do I get dL/dw from ½(ŷ − y)² and x²?")
    assert {"dl/dw", "½", "x²"} <= set(terms)
    assert "dl/dw" in tokenize("∂L/∂w")              # the partial sign is read as d as well
    assert tokenize("activations and biases") == ["activation", "bias"]


@pytest.mark.parametrize("forms", [("overfitting", "overfitted", "overfits", "overfit"),
                                   ("stopping", "stopped", "stops", "stop"),
                                   ("embedding", "embeddings", "embedded"),
                                   ("computing", "computed", "computes", "compute"),
                                   ("trained", "training", "trains", "train")])
def test_inflections_fold_onto_one_term(forms):
    assert len({fold(f) for f in forms}) == 1, [fold(f) for f in forms]


def test_maths_typed_in_ascii_meets_the_cards_symbols():
    # Kᵀ is read as k^t and √ as sqrt, so a card's softmax(Q Kᵀ / √d_k) and a typed softmax(QK^T/sqrt(d)) share terms
    assert {"k^t", "sqrt"} <= set(tokenize("softmax(Q Kᵀ / √d_k)"))
    assert {"qk^t", "sqrt"} <= set(tokenize("softmax(QK^T / sqrt(d))"))


@pytest.mark.parametrize("short, long", [("MSE", "mean squared error"), ("ReLU", "rectified linear unit"),
                                         ("RAG", "retrieval-augmented generation"),
                                         ("CNN", "convolutional neural network"),
                                         ("LLM", "large language model")])
def test_aliases_give_both_names_a_shared_term(short, long):
    shared = set(tokenize(short)) & set(tokenize(long))
    assert shared == {short.lower()}


# retrieval -----------------------------------------------------------------------------------

def _card(cid, title, body):
    return Card(cid, title, (), body)


def test_zero_scores_are_dropped_and_ties_broken_by_id():
    kb = KnowledgeBase([_card("card-two", "pooling", "max pooling keeps the largest value"),
                        _card("card-one", "pooling", "max pooling keeps the largest value"),
                        _card("card-six", "tokens", "a token is about four characters")])
    hits = kb.retrieve("what does max pooling do", k=3).hits
    assert [h.card.id for h in hits] == ["card-one", "card-two"]  # equal scores: by id; card-six scored 0
    assert hits[0].score == hits[1].score > 0
    assert kb.retrieve("sourdough bread", k=3).hits == []


def test_recall_at_3_on_the_question_set_holds_the_floor():
    questions, _ = load_questions()
    assert len(questions) >= 80
    kb = knowledge_base()
    ranked = [[h.card.id for h in kb.retrieve(q["q"], k=10).hits] for q in questions]
    assert rank_metrics(ranked, questions)["recall@3"] >= 0.9


def test_off_topic_questions_are_not_covered_and_course_questions_are():
    questions, off_topic = load_questions()
    assert all(not retrieve(q).covered for q in off_topic)
    covered = [retrieve(q["q"]).covered for q in questions]
    assert sum(covered) / len(covered) >= 0.95


# written after the threshold was tuned, never used to tune it: a held-out check of the gate
HELD_OUT_IN = [("what does a sigmoid squash its input into?", "activation-functions"),
               ("why is my loss going up every epoch?", "learning-rate"),
               ("what is an orchestrator in a multi-agent system?", "orchestrator-agents"),
               ("how does a perceptron update its weights?", "perceptron"),
               ("explain top-k retrieval with embeddings", "word-embeddings"),
               ("how does the transformer use attention?", "transformers"),
               ("what is a context window?", "tokens"),
               ("what are guardrails for generative AI?", "generative-ai-risks")]
HELD_OUT_OFF = ["what's a good name for my dog?", "how far is the moon from earth?",
                "best way to learn the guitar", "what should I eat for dinner tonight?",
                "how do vaccines work?", "who painted the Mona Lisa?"]


def test_held_out_questions_are_judged_like_the_tuning_set():
    found = {q: retrieve(q) for q, _ in HELD_OUT_IN}
    assert all(r.covered for r in found.values())
    # recall@3 on this unseen set: 7 of 8 when written ("loss going up" does not reach learning-rate)
    recall = sum(card in [h.card.id for h in found[q].hits] for q, card in HELD_OUT_IN) / len(HELD_OUT_IN)
    assert recall >= 0.75
    for question in HELD_OUT_OFF:
        assert not retrieve(question).covered, question


def test_a_question_about_avoiding_overfitting_reaches_the_overfitting_card():
    for question in ("how do I avoid overfitting?", "how to prevent my model from overfitting"):
        found = retrieve(question)
        assert found.covered and found.hits[0].card.id == "overfitting", question


def test_attention_is_answered_with_q_k_v_the_formula_and_the_walkable_example():
    for question in ("what is attention?", "explain softmax(QK^T / sqrt(d))"):
        answer = answer_offline(question)
        assert answer.covered and answer.hits[0].card.id == "attention-mechanism", question
        assert "Q, K and V" in answer.text and "softmax(Q Kᵀ / √d_k)" in answer.text
        assert "nnt walk examples/llm/attention.yaml" in answer.text


def test_temperature_is_answered_with_what_low_and_high_values_do():
    answer = answer_offline("what does temperature do?")
    assert answer.hits[0].card.id == "temperature"
    assert "**T < 1**" in answer.text and "**T > 1**" in answer.text and "less random" in answer.text


# answers -------------------------------------------------------------------------------------

def test_offline_answer_is_extractive_and_cites_the_cards_it_used():
    answer = answer_offline("What is RAG?")
    assert answer.covered
    assert answer.hits[0].card.id == "rag"
    rag = next(c for c in load_cards() if c.id == "rag")
    first_sentence = rag.lead.split(". ")[0].replace("\n", " ")
    assert " ".join(first_sentence.split()) in " ".join(answer.text.split())
    assert set(cited_ids(answer.text)) <= {h.card.id for h in answer.hits}
    assert "[rag]" in answer.text


def test_out_of_course_questions_get_an_honest_not_covered():
    answer = answer_offline("what's the weather")
    assert not answer.covered
    assert "do not cover" in answer.text
    assert cited_ids(answer.text) == []


def test_prompt_holds_the_cards_the_question_and_the_grounding_rules():
    hits = search("what is the vanishing gradient problem?")
    prompt = build_prompt("what is the vanishing gradient problem?", hits)
    assert "[vanishing-gradients]" in prompt
    assert "what is the vanishing gradient problem?" in prompt
    assert "ONLY the course cards" in prompt and "do not cover this" in prompt


def test_retrieval_trace_lists_query_terms_cards_and_scores():
    found = retrieve("what does ReLU do to negative inputs?")
    found.prompt = build_prompt(found.query, found.hits)
    d = found.to_dict()
    assert d["query"] == "what does ReLU do to negative inputs?"
    assert "relu" in d["terms"]
    assert d["cards"][0]["score"] >= d["cards"][-1]["score"] > 0
    assert "relu" in d["cards"][0]["matched"]
    assert d["prompt"].count("[") >= len(d["cards"])


# embeddings ------------------------------------------------------------------------------------

class _ConceptEmbedder:
    """Deterministic toy embedder: one axis per concept, synonyms share an axis."""

    AXES = [("car", "automobile", "vehicle"), ("fruit", "apple", "banana"), ("tax", "revenue")]

    def __init__(self):
        self.calls = 0

    def __call__(self, texts):
        self.calls += 1
        out = np.full((len(texts), len(self.AXES)), 0.01)
        for i, text in enumerate(texts):
            for j, words in enumerate(self.AXES):
                out[i, j] += sum(text.lower().count(w) for w in words)
        return out


def test_embeddings_find_a_paraphrase_that_shares_no_word_and_fuse_by_rank():
    cards = [_card("cars", "car maintenance", "a car needs oil and new tyres"),
             _card("fruit", "fruit", "an apple a day"),
             _card("tax", "tax", "revenue and tax returns")]
    plain = KnowledgeBase(cards)
    assert plain.retrieve("automobile").hits == []
    embedder = _ConceptEmbedder()
    kb = KnowledgeBase(cards, embedder, min_cosine=0.8)
    found = kb.retrieve("automobile", k=3)
    assert found.hits[0].card.id == "cars" and found.covered
    assert found.hits[0].cosine == pytest.approx(1.0, abs=0.01)
    # reciprocal rank fusion: rank 1 by cosine and absent from BM25 -> 1/(60 + 1)
    assert found.hits[0].score == pytest.approx(1 / 61)
    kb.retrieve("apple")
    assert embedder.calls == 3          # cards embedded once, then one call per question


def test_embedding_vectors_are_cached_on_disk(tmp_path):
    from nn_tutor.tools.embeddings import CachedEmbedder

    class Client:
        calls = 0

        def embed_documents(self, texts):
            Client.calls += 1
            return [[float(len(t)), 1.0] for t in texts]

    first = CachedEmbedder(Client(), "toy-model", tmp_path)
    np.testing.assert_allclose(first(["ab", "abcd"]), [[2, 1], [4, 1]])
    again = CachedEmbedder(Client(), "toy-model", tmp_path)
    np.testing.assert_allclose(again(["abcd", "ab"]), [[4, 1], [2, 1]])
    assert Client.calls == 1


def test_embeddings_are_off_unless_configured(monkeypatch):
    from nn_tutor.agent.config import load_settings
    from nn_tutor.tools.embeddings import embedder_for

    assert load_settings().embeddings is None and embedder_for(None) == (None, None)
    monkeypatch.setenv("NNT_EMBEDDING_MODEL", "m")
    assert load_settings().embeddings is None            # no endpoint configured: still off
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert load_settings().embeddings.model == "m"
    assert load_settings(offline=True).embeddings is None  # offline means no embeddings either
    monkeypatch.setenv("NNT_EMBEDDING_MIN_COSINE", "high")
    with pytest.raises(NNTError, match="NNT_EMBEDDING_MIN_COSINE"):
        load_settings()


def test_knowledge_dir_is_the_shipped_one():
    assert KNOWLEDGE_DIR == knowledge_dir() and (Path(str(KNOWLEDGE_DIR)) / "rag.md").is_file()


# robustness and the cards' own numbers ------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gives_sorted_positive_hits_or_none(text):
    found = retrieve(text)
    scores = [h.score for h in found.hits]
    assert all(s > 0 for s in scores) and scores == sorted(scores, reverse=True)
    assert found.covered in (True, False) and 0.0 <= found.coverage <= 1.0


def _body(card_id):
    return " ".join(next(c for c in load_cards() if c.id == card_id).body.split())


def test_numbers_quoted_in_cards_agree_with_the_engine():
    from nn_tutor.engine.kinds import walk

    # softmax card: "about 0.66, 0.24 and 0.10" for z = [2.0, 1.0, 0.1]
    p = walk({"kind": "softmax_temperature", "logits": [2.0, 1.0, 0.1]}).display("p")[0]
    assert "about 0.66, 0.24 and 0.10" in _body("softmax")
    np.testing.assert_allclose(np.round(p, 2), [0.66, 0.24, 0.10])
    # forward-pass card: z = 0.15·0.5 + 0.20·0.8 + 0.35 = 0.585 and σ(0.585) ≈ 0.642
    z = 0.15 * 0.5 + 0.20 * 0.8 + 0.35
    assert "= 0.585" in _body("forward-pass") and "σ(0.585) ≈ 0.642" in _body("forward-pass")
    assert z == pytest.approx(0.585) and round(1 / (1 + np.exp(-z)), 3) == 0.642
    # tokens card: a 2,000-character page is about 500 tokens
    assert "2,000-character page is about 500 tokens" in _body("tokens")
    assert walk({"kind": "tokens", "text": "x" * 2000}).display("tokens") == 500


def test_embeddings_through_an_openai_compatible_endpoint_on_loopback(monkeypatch, tmp_path):
    """OpenAIEmbeddings for real against a loopback /v1/embeddings that embeds by concept axes."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from nn_tutor.agent.config import load_settings
    from nn_tutor.tools.embeddings import embedder_for

    toy = _ConceptEmbedder()
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append(body)
            texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
            data = [{"object": "embedding", "index": i, "embedding": list(map(float, v))}
                    for i, v in enumerate(toy(texts))]
            out = json.dumps({"object": "list", "data": data, "model": body["model"],
                              "usage": {"prompt_tokens": 1, "total_tokens": 1}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("NNT_EMBEDDING_MODEL", "toy-embed")
        monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}/v1")
        monkeypatch.setenv("NNT_EMBEDDING_MIN_COSINE", "0.8")
        embedder, min_cosine = embedder_for(load_settings().embeddings)
        cards = [_card("cars", "car maintenance", "a car needs oil and new tyres"),
                 _card("fruit", "fruit", "an apple a day")]
        found = KnowledgeBase(cards, embedder, min_cosine).retrieve("automobile")
    finally:
        server.shutdown()
    assert found.hits[0].card.id == "cars" and found.covered
    assert seen and all(b["model"] == "toy-embed" for b in seen)
    assert list((tmp_path / "nnt-data").glob("embeddings-*.json"))     # card vectors cached


def test_a_failing_embeddings_endpoint_falls_back_to_bm25_with_a_notice():
    def broken(texts):
        raise ConnectionError("refused")

    cards = [_card("cars", "car maintenance", "a car needs oil and new tyres"),
             _card("fruit", "fruit", "an apple a day")]
    found = KnowledgeBase(cards, broken, min_cosine=0.5).retrieve("car oil")
    assert [h.card.id for h in found.hits] == ["cars"] and found.hits[0].cosine is None
    assert "BM25 alone" in found.notice


def test_cited_ids_skips_indices_and_numbered_references():
    from nn_tutor.tools.knowledge import cited_ids
    text = "RAG [rag] feeds x[0] and W[1] to the model [bm25]; see [1] and ([this-tutor])."
    assert cited_ids(text) == ["rag", "bm25", "this-tutor"]
