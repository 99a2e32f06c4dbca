"""Retrieval benchmark: recall@3 of the knowledge base on students' questions, the "not covered" gate,
and index build and query times, side by side with plain bm25s (its own tokenizer, no aliases).

Run: .venv/bin/python benchmarks/retrieval.py   (offline; embeddings are not used here)
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
QUESTIONS = Path(__file__).with_name("retrieval_questions.yaml")


def load_questions(path: Path = QUESTIONS) -> tuple[list[dict], list[str]]:
    """(questions with expected card ids, off-topic questions) from the YAML question set."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data["questions"], data["off_topic"]


def rank_metrics(ranked: list[list[str]], questions: list[dict]) -> dict:
    """recall@1, recall@3 and mean reciprocal rank (first expected card within the top 10)."""
    r1 = r3 = mrr = 0.0
    for ids, q in zip(ranked, questions):
        positions = [ids.index(e) for e in q["expect"] if e in ids[:10]]
        best = min(positions) if positions else None
        r1 += best == 0
        r3 += best is not None and best < 3
        mrr += 0.0 if best is None else 1.0 / (best + 1)
    n = len(questions)
    return {"recall@1": r1 / n, "recall@3": r3 / n, "MRR": mrr / n}


def plain_bm25s(cards):
    """Baseline: bm25s with its own tokenizer and English stopwords over title + body."""
    import bm25s

    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([f"{c.title}\n{c.body}" for c in cards], stopwords="en",
                                   show_progress=False), show_progress=False)

    def ranked(question: str) -> list[str]:
        tokens = bm25s.tokenize([question], stopwords="en", show_progress=False)
        if not tokens.vocab:
            return []
        docs, scores = retriever.retrieve(tokens, k=10, show_progress=False)
        return [cards[int(d)].id for d, s in zip(docs[0], scores[0]) if s > 0]

    return ranked


def main() -> int:
    os.environ.pop("NNT_EMBEDDING_MODEL", None)
    questions, off_topic = load_questions()

    t0 = time.perf_counter()
    from nn_tutor.tools.cards import load_cards
    from nn_tutor.tools.knowledge import KnowledgeBase
    cards = load_cards()
    t1 = time.perf_counter()
    kb = KnowledgeBase(cards)
    t2 = time.perf_counter()
    builds = []
    for _ in range(5):
        s = time.perf_counter()
        KnowledgeBase(cards)
        builds.append(time.perf_counter() - s)
    warm_build = min(builds)

    t3 = time.perf_counter()
    found = [kb.retrieve(q["q"], k=10) for q in questions]
    per_query = (time.perf_counter() - t3) / len(questions)
    ours = rank_metrics([[h.card.id for h in r.hits] for r in found], questions)
    covered = sum(r.covered for r in found) / len(found)
    rejected = sum(not kb.retrieve(q).covered for q in off_topic) / len(off_topic)

    baseline = plain_bm25s(cards)
    theirs = rank_metrics([baseline(q["q"]) for q in questions], questions)

    print(f"Knowledge base: {len(cards)} cards; {len(questions)} questions; {len(off_topic)} off-topic")
    print(f"{'metric':<28}{'nn-tutor':>12}{'plain bm25s':>14}")
    for key in ("recall@1", "recall@3", "MRR"):
        print(f"{key:<28}{ours[key]:>12.3f}{theirs[key]:>14.3f}")
    print(f"{'in-course judged covered':<28}{covered:>12.3f}")
    print(f"{'off-topic judged not covered':<28}{rejected:>12.3f}")
    print(f"{'first use (import+load+index)':<28}{(t2 - t0) * 1000:>10.0f} ms   (cards loaded in "
          f"{(t1 - t0) * 1000:.0f} ms)")
    print(f"{'index build, warm':<28}{warm_build * 1000:>10.1f} ms")
    print(f"{'query':<28}{per_query * 1000:>10.2f} ms")
    misses = [(q["q"], q["expect"], [h.card.id for h in r.hits[:3]])
              for q, r in zip(questions, found) if not set(q["expect"]) & {h.card.id for h in r.hits[:3]}]
    for text, expect, got in misses:
        print(f"  miss: {text!r} expected {expect}, got {got}")
    return 0 if ours["recall@3"] >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
