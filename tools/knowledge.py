"""Retrieval over the concept cards (BM25 through bm25s, embeddings fused in when configured), and
answers built only from the cards retrieved: extractive offline, a grounded prompt for an LLM.

Every step is kept in a Retrieval (query, terms, cards with scores, whether the cards cover the
question) so the chat's /trace can show the tutor doing RAG in the open.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from nn_tutor.engine.llm_math import bm25_idf
from nn_tutor.resources import prompt_text
from nn_tutor.tools.cards import KNOWLEDGE_DIR, Card, load_cards
from nn_tutor.tools.embeddings import EmbeddingConfig, embedder_for
from nn_tutor.tools.query_terms import tokenize

K1, B = 1.5, 0.75       # BM25 term saturation and length normalisation (bm25s "lucene" scoring)
# The cards cover a question when the best BM25 card holds most of the question's idf weight, or a
# fair share of it with a strong score (tuned on benchmarks/retrieval_questions.yaml, checked in tests).
COVERAGE_ALONE = 0.6    # share of the question's idf weight that is enough by itself
STRONG_SCORE = 2.5      # a top BM25 score this high needs only MIN_COVERAGE
MIN_COVERAGE = 0.3
RRF_K = 60              # reciprocal rank fusion constant (rank 1 counts 1/61)
NOT_COVERED = ("The course notes I answer from do not cover that, so I will not guess. I can explain "
               "AI and machine learning, neural networks and backpropagation, deep learning, NLP, "
               "large language models and RAG, generative AI, agents and agentic AI.")


@dataclass(frozen=True)
class Hit:
    """A retrieved card with its scores; `score` ranks (BM25 alone, or fused with embeddings)."""

    card: Card
    score: float
    bm25: float
    cosine: float | None = None
    matched: tuple[str, ...] = ()  # the query terms found in the card


@dataclass
class Retrieval:
    """One search, step by step: what /trace shows."""

    query: str
    terms: list[str]
    hits: list[Hit]
    covered: bool
    coverage: float            # share of the query's idf weight found in the top card
    reason: str                # why the question counts as covered or not
    prompt: str | None = None  # filled in when the hits are put into an LLM prompt
    notice: str = ""           # e.g. the embeddings endpoint failed and BM25 ranked alone

    def to_dict(self) -> dict:
        """JSON-ready form for the chat's activity log."""
        return {"kind": "retrieval", "query": self.query, "terms": list(self.terms),
                "covered": self.covered, "coverage": round(self.coverage, 3), "reason": self.reason,
                "cards": [{"id": h.card.id, "title": h.card.title, "score": round(h.score, 3),
                           "bm25": round(h.bm25, 3),
                           "cosine": None if h.cosine is None else round(h.cosine, 3),
                           "matched": list(h.matched)} for h in self.hits],
                "prompt": self.prompt, "notice": self.notice}


@dataclass
class ConceptAnswer:
    """An answer to a concept question and the retrieval behind it."""

    text: str
    hits: list[Hit]
    covered: bool
    retrieval: Retrieval = field(repr=False)


def card_terms(card: Card) -> list[str]:
    """A card's indexed terms: the title three times (it names the concept: "what is attention?" is
    the attention card's question before the transformer card's), the id and tags twice, the body once."""
    head = tokenize(f"{card.title} {card.id.replace('-', ' ')} " + " ; ".join(card.tags))
    return head + head + tokenize(card.title) + tokenize(card.body)


class KnowledgeBase:
    """BM25 over the cards, with an optional embedder (texts -> (n, d) array) fused in by rank."""

    def __init__(self, cards: list[Card], embedder=None, min_cosine: float | None = None):
        import bm25s

        self.cards = sorted(cards, key=lambda c: c.id)
        docs = [card_terms(c) for c in self.cards]
        self._terms = [set(d) for d in docs]
        self._bm25 = bm25s.BM25(k1=K1, b=B, method="lucene", dtype="float64")
        self._bm25.index(docs, show_progress=False)
        n = len(docs)
        df: dict[str, int] = {}
        for terms in self._terms:
            for t in terms:
                df[t] = df.get(t, 0) + 1
        self.idf = {t: float(bm25_idf(n, d)) for t, d in df.items()}  # as bm25s scores them
        self._unknown_idf = float(bm25_idf(n, 1))                     # an unseen word weighs as the rarest
        self.embedder = embedder
        self.min_cosine = min_cosine
        self._vectors = None

    def _cosines(self, query: str) -> np.ndarray:
        if self._vectors is None:
            vecs = np.asarray(self.embedder([f"{c.title}\n{c.body}" for c in self.cards]), float)
            self._vectors = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)   # (n_cards, d)
        q = np.asarray(self.embedder([query]), float)[0]                        # (d,)
        return self._vectors @ (q / np.linalg.norm(q))                          # (n_cards,)

    def retrieve(self, query: str, k: int = 3) -> Retrieval:
        """The top k cards for `query` (zero scores dropped, ties broken by id) and whether they cover it."""
        terms = list(dict.fromkeys(tokenize(query)))
        known = [t for t in terms if t in self.idf]
        bm25 = self._bm25.get_scores(known) if known else np.zeros(len(self.cards))  # (n_cards,)
        bm25_order = sorted((i for i in range(len(self.cards)) if bm25[i] > 0),
                            key=lambda i: (-bm25[i], self.cards[i].id))
        cos, notice = None, ""
        if self.embedder is not None and query.strip():
            try:
                cos = self._cosines(query)
            except Exception as exc:  # noqa: BLE001 - any endpoint failure: BM25 alone this time
                notice = f"embeddings unavailable ({type(exc).__name__}); ranked by BM25 alone"
        if cos is not None:
            cos_order = sorted(range(len(self.cards)), key=lambda i: (-cos[i], self.cards[i].id))[:10]
            fused: dict[int, float] = {}
            for order in (bm25_order, cos_order):
                for rank, i in enumerate(order, start=1):
                    fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank)
            order = sorted(fused, key=lambda i: (-fused[i], self.cards[i].id))
            scores = fused
        else:
            order, scores = bm25_order, {i: float(bm25[i]) for i in bm25_order}
        hits = [Hit(self.cards[i], float(scores[i]), float(bm25[i]),
                    None if cos is None else float(cos[i]),
                    tuple(t for t in terms if t in self._terms[i])) for i in order[:k]]
        covered, coverage, reason = self._judge(terms, hits)
        return Retrieval(query, terms, hits, covered, coverage, reason, notice=notice)

    def _judge(self, terms, hits) -> tuple[bool, float, str]:
        """Covered when the best card matches enough of the question, lexically or by meaning."""
        if not hits:
            return False, 0.0, "no card shares a word with the question"
        weight = {t: self.idf.get(t, self._unknown_idf) for t in terms}
        top = max(hits, key=lambda h: h.bm25)
        coverage = sum(weight[t] for t in top.matched) / sum(weight.values())
        if coverage >= COVERAGE_ALONE or (top.bm25 >= STRONG_SCORE and coverage >= MIN_COVERAGE):
            return True, coverage, (f"the best card matches {coverage:.0%} of the question's weight "
                                    f"with BM25 {top.bm25:.2f} (need {COVERAGE_ALONE:.0%}, or "
                                    f"{MIN_COVERAGE:.0%} with BM25 ≥ {STRONG_SCORE})")
        best_cos = max((h.cosine for h in hits if h.cosine is not None), default=None)
        if self.min_cosine is not None and best_cos is not None and best_cos >= self.min_cosine:
            return True, coverage, f"embedding similarity {best_cos:.2f} ≥ {self.min_cosine}"
        return False, coverage, (f"the best card matches only {coverage:.0%} of the question's weight "
                                 f"with BM25 {top.bm25:.2f} (need {COVERAGE_ALONE:.0%}, or "
                                 f"{MIN_COVERAGE:.0%} with BM25 ≥ {STRONG_SCORE})")


# the tutor's knowledge base ---------------------------------------------------------------------

@lru_cache(maxsize=4)
def knowledge_base(embeddings: EmbeddingConfig | None = None) -> KnowledgeBase:
    """The shipped cards indexed once per process, with embeddings fused in when configured."""
    embedder, min_cosine = embedder_for(embeddings)
    return KnowledgeBase(load_cards(KNOWLEDGE_DIR), embedder, min_cosine)


def retrieve(query: str, k: int = 3, embeddings: EmbeddingConfig | None = None) -> Retrieval:
    """Search the tutor's cards: the Retrieval with hits, scores and the covered verdict."""
    return knowledge_base(embeddings).retrieve(query, k)


def search(query: str, k: int = 3) -> list[Hit]:
    """The top k cards for `query`, best first (only cards that share a term with it)."""
    return retrieve(query, k).hits


# answers ----------------------------------------------------------------------------------------

def _units(card: Card) -> list[str]:
    """The body as answerable pieces: bullet items, table rows skipped, sentences of prose."""
    units = []
    for para in card.body.split("\n\n"):
        if para.lstrip().startswith("|"):
            continue
        items = re.split(r"\n(?=\s*(?:[-*]|\d+\.)\s)", para)
        for item in items:
            flat = " ".join(item.split())
            if re.match(r"^(?:[-*]|\d+\.)\s", flat):
                units.append(flat)
            else:
                units.extend(s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z*`])", flat) if s)
    return units


def _lead(card: Card, max_words: int = 90) -> str:
    """The card's opening, cut at a sentence end; a lead-in ending in ':' brings its list along, cut
    only between items (the attention card's four steps stay whole, one to a line)."""
    paras = card.body.split("\n\n")
    lead = _sentences(" ".join(paras[0].split()), max_words)
    if lead.endswith(":") and len(paras) > 1:
        items = [" ".join(i.split()) for i in re.split(r"\n(?=\s*(?:[-*]|\d+\.)\s)", paras[1].strip())]
        kept = items[:1]
        for item in items[1:]:
            if len(" ".join([lead] + kept + [item]).split()) > 2 * max_words:
                break
            kept.append(item)
        lead += "\n" + "\n".join(kept)
    return lead


def _sentences(text: str, max_words: int) -> str:
    """`text` cut after the last whole sentence within `max_words` (at least one sentence)."""
    if len(text.split()) <= max_words:
        return text
    kept: list[str] = []
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if kept and len(" ".join(kept + [sentence]).split()) > max_words:
            break
        kept.append(sentence)
    return " ".join(kept)


def _card_extract(card: Card, terms: list[str], sentences: int = 3) -> list[str]:
    """A card's opening and its `sentences` most relevant lines for these terms, each cited [card-id]."""
    kb = knowledge_base()
    lead = _lead(card)
    weight = {t: kb.idf.get(t, 0.0) for t in terms}

    def relevance(unit: str) -> float:
        return sum(weight.get(t, 0.0) for t in set(tokenize(unit)))

    units = _units(card)
    flat_lead = " ".join(lead.split())
    rest = [i for i, u in enumerate(units)                  # a lead-in ending in ':' needs its list
            if " ".join(u.split()) not in flat_lead and not u.endswith(":")]
    best = sorted((i for i in rest if relevance(units[i]) > 0),
                  key=lambda i: relevance(units[i]), reverse=True)[:sentences]
    # a short sentence is often a topic sentence: bring the sentence that supports it along
    chosen = sorted(set(best) | {i + 1 for i in best if len(units[i].split()) < 20 and i + 1 in rest})
    parts = [f"**{card.title}** [{card.id}]", f"{lead} [{card.id}]"]
    parts += [f"{units[i]} [{card.id}]" for i in chosen]
    if card.try_command:
        parts.append(f"Try it in the engine: `{card.try_command}`")
    return parts


def answer_offline(query: str, k: int = 3, embeddings: EmbeddingConfig | None = None) -> ConceptAnswer:
    """An extractive answer: the best card's opening and its most relevant lines, each cited [card-id]."""
    found = retrieve(query, k, embeddings)
    if not found.covered:
        return ConceptAnswer(NOT_COVERED, found.hits, False, found)
    parts = _card_extract(found.hits[0].card, found.terms)
    others = [h.card for h in found.hits[1:]]
    if others:
        parts.insert(-1 if found.hits[0].card.try_command else len(parts),
                     "Related: " + "; ".join(f"{c.title} [{c.id}]" for c in others))
    return ConceptAnswer("\n\n".join(parts), found.hits, True, found)


def answer_compare(query: str, sides: list[str], embeddings: EmbeddingConfig | None = None) -> ConceptAnswer:
    """A comparison ("RAG vs fine-tuning"): each side retrieved on its own and both answered, side by
    side, from each side's best card (the two cards are what the answer, and an LLM's prompt, hold)."""
    searches = [retrieve(side, 2, embeddings) for side in sides]
    tops = [r.hits[0] for r in searches if r.covered and r.hits]
    if len({h.card.id for h in tops}) < 2:  # one card covers both, or a side is not covered: one search
        return answer_offline(query, embeddings=embeddings)
    hits = tops
    terms = list(dict.fromkeys(t for r in searches for t in r.terms))
    reason = "; ".join(f"“{side}”: {r.reason}" for side, r in zip(sides, searches))
    found = Retrieval(query, terms, hits, True, min(r.coverage for r in searches), f"a comparison, each side "
                      f"searched on its own: {reason}")
    parts = [f"**{' vs '.join(sides)}**: the course cards on each side."]
    for side, r in zip(sides, searches):
        parts += _card_extract(r.hits[0].card, r.terms, sentences=2)
    return ConceptAnswer("\n\n".join(parts), hits, True, found)


def build_prompt(question: str, hits: list[Hit]) -> str:
    """The RAG prompt: the instructions of prompts/concept_answer.md with the question and the cards."""
    cards = "\n\n".join(f"[{h.card.id}] {h.card.title}\n{h.card.body}" for h in hits)
    template = prompt_text("concept_answer")
    return template.replace("{cards}", cards or "(no cards matched)").replace("{question}", question)


def cited_ids(text: str) -> list[str]:
    """The [card-id] citations in an answer, in order of first appearance."""
    # a citation stands on its own: not an index such as x[0] or w[1] (letter or digit right before '[')
    return list(dict.fromkeys(re.findall(r"(?<![A-Za-z0-9_\])])\[([a-z][a-z0-9]*(?:-[a-z0-9]+)*)\]", text)))
