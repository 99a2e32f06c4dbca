"""Retrieval benchmark: recall@1, recall@3 and MRR of the knowledge base on two question sets side by
side (the card author's students' questions, and questions written apart from the cards in another
voice), the "not covered" gate, and index build and query times; plain bm25s (its own tokenizer, no
aliases) as the baseline on both sets.

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
OUTSIDE = Path(__file__).with_name("retrieval_questions_outside.yaml")


def load_questions(path: Path = QUESTIONS) -> tuple[list[dict], list[str]]:
    """(questions with expected card ids, off-topic questions) from a YAML question set."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data["questions"], data.get("off_topic") or []


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


def measure(kb, baseline, questions: list[dict]) -> dict:
    """Ranking figures of the knowledge base and of the baseline on one question set, and its misses."""
    found = [kb.retrieve(q["q"], k=10) for q in questions]
    ours = rank_metrics([[h.card.id for h in r.hits] for r in found], questions)
    theirs = rank_metrics([baseline(q["q"]) for q in questions], questions)
    misses = [(q["q"], q["expect"], [h.card.id for h in r.hits[:3]])
              for q, r in zip(questions, found) if not set(q["expect"]) & {h.card.id for h in r.hits[:3]}]
    return {"ours": ours, "theirs": theirs, "covered": sum(r.covered for r in found) / len(found),
            "misses": misses}


def main() -> int:
    os.environ.pop("NNT_EMBEDDING_MODEL", None)
    sets = {"course": load_questions(QUESTIONS), "outside": load_questions(OUTSIDE)}

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
    baseline = plain_bm25s(cards)

    course_questions, off_topic = sets["course"]
    t3 = time.perf_counter()
    for q in course_questions:
        kb.retrieve(q["q"], k=10)
    per_query = (time.perf_counter() - t3) / len(course_questions)
    figures = {name: measure(kb, baseline, questions) for name, (questions, _) in sets.items()}
    rejected = sum(not kb.retrieve(q).covered for q in off_topic) / len(off_topic)

    print(f"Knowledge base: {len(cards)} cards; course set {len(course_questions)} questions "
          f"({len(off_topic)} off-topic); outside set {len(sets['outside'][0])} questions")
    print(f"{'metric':<30}{'course: ours':>14}{'bm25s':>8}{'outside: ours':>16}{'bm25s':>8}")
    for key in ("recall@1", "recall@3", "MRR"):
        row = "".join(f"{f['ours'][key]:>14.3f}{f['theirs'][key]:>8.3f}" if name == "course" else
                      f"{f['ours'][key]:>16.3f}{f['theirs'][key]:>8.3f}" for name, f in figures.items())
        print(f"{key:<30}{row}")
    print(f"{'in-course judged covered':<30}{figures['course']['covered']:>14.3f}{'':>8}"
          f"{figures['outside']['covered']:>16.3f}")
    print(f"{'off-topic judged not covered':<30}{rejected:>14.3f}")
    print(f"{'first use (import+load+index)':<30}{(t2 - t0) * 1000:>10.0f} ms   (cards loaded in "
          f"{(t1 - t0) * 1000:.0f} ms)")
    print(f"{'index build, warm':<30}{min(builds) * 1000:>10.1f} ms")
    print(f"{'query':<30}{per_query * 1000:>10.2f} ms")
    for name, f in figures.items():
        for text, expect, got in f["misses"]:
            print(f"  miss ({name}): {text!r} expected {expect}, got {got}")
    return 0 if figures["course"]["ours"]["recall@3"] >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
