"""The /trace view: the tutor's own steps last turn as Markdown (route, tool calls, RAG, LLM calls, guard).

It reads the turn's activity log (JSON-ready dicts saved with the conversation), so it also works for
a resumed session. Retrieval is shown step by step, query → terms → covered? → scored cards → prompt,
because the tutor teaches RAG by showing itself doing it.
"""
from __future__ import annotations

import json

PROMPT_WHOLE = 2000  # a prompt up to this long is shown whole
PREAMBLE, CARD_START, QUESTION_END = 1100, 240, 200  # characters kept of a longer prompt's parts


def short(obj, limit: int = 300) -> str:
    """One line of JSON (or the text), cut at `limit` characters with a note of the full length."""
    text = obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} chars)"


def _cut(text: str, head: int, tail: int = 0) -> str:
    """`text` with its middle left out (cut at whitespace), saying how much; short texts whole."""
    if len(text) <= head + tail + 60:
        return text
    start = text[:head].rsplit(None, 1)[0]
    end = text[len(text) - tail:].split("\n", 1)[-1] if tail else ""
    left_out = len(text) - len(start) - len(end)
    return f"{start} … ({left_out:,} characters left out) …" + (f"\n{end}" if end else "\n\n")


def prompt_excerpt(prompt: str, card_ids: list[str]) -> str:
    """A long prompt in brief: the instructions, the start of each card, and the end (the question)."""
    if len(prompt) <= PROMPT_WHOLE:
        return prompt
    cuts = sorted({i + 1 for i in (prompt.find(f"\n[{cid}] ") for cid in card_ids) if i >= 0})
    bounds = [0, *cuts, len(prompt)]
    parts = []
    for k, (a, b) in enumerate(zip(bounds, bounds[1:])):
        head = PREAMBLE if k == 0 else CARD_START
        parts.append(_cut(prompt[a:b], head, QUESTION_END if b == len(prompt) else 0))
    return "".join(parts)


def _card_line(rank: int, card: dict) -> str:
    if card.get("cosine") is None:
        score = f"BM25 {card['score']}"
    else:
        score = f"fused {card['score']} (BM25 {card.get('bm25')}, cosine {card['cosine']})"
    matched = ", ".join(f"`{t}`" for t in card.get("matched") or []) or "none"
    return f"  {rank}. [{card['id']}] {card.get('title', '')}: {score}; matched {matched}"


def retrieval_lines(a: dict) -> list[str]:
    """One retrieval: the query and its terms, the covered verdict and why, each card, the prompt."""
    terms = ", ".join(f"`{t}`" for t in a.get("terms") or []) or "none"
    lines = [f"- **retrieval** query “{a.get('query')}” → search terms {terms}"]
    if "covered" in a:
        verdict = "covered" if a["covered"] else "not covered"
        lines.append(f"  - **{verdict}**: {a.get('reason', '')}")
    cards = a.get("cards") or []
    lines.append("  - cards:" if cards else "  - no card shares a term with the question")
    lines += [_card_line(i, c) for i, c in enumerate(cards, start=1)]
    if a.get("notice"):
        lines.append(f"  - notice: {a['notice']}")
    prompt = a.get("prompt")
    if prompt:
        status = a.get("prompt_status") or "built from those cards"
        shown = prompt_excerpt(prompt, [c["id"] for c in cards])
        note = "" if shown == prompt else ", shortened here"
        tokens = f"about {a['prompt_tokens_estimate']:,} tokens, " if a.get("prompt_tokens_estimate") else ""
        if a.get("cards_left_out"):
            lines.append(f"  - left out to fit the context: {', '.join(a['cards_left_out'])}")
        lines.append(f"- **prompt** ({status}; {tokens}{len(prompt):,} characters{note}):\n\n```\n{shown}\n```")
    return lines


def _tokens(a: dict) -> str:
    """'; prompt 1,234 tokens (estimate 1,300, limit 3,404)' for an LLM call entry ('' when unknown)."""
    if a.get("prompt_tokens_estimate") is None:
        return ""
    counted = f"prompt {a['prompt_tokens']:,} tokens (server count); " if a.get("prompt_tokens") else "prompt "
    return f"; {counted}estimate {a['prompt_tokens_estimate']:,} of a {a.get('prompt_limit', 0):,}-token limit"


def _guard_line(a: dict) -> str:
    bad = a.get("ungrounded") or []
    line = "- **grounding guard**: " + (f"invented numbers {', '.join(bad)}" if bad
                                       else "every number traced to the engine or the user")
    if "citations" in a:
        line += "; " + ("; ".join(a["citations"]) if a["citations"]
                        else "every [card-id] cited names a retrieved card")
    return line


def trace_text(values: dict) -> str:
    """The tutor's own steps in the last turn, as Markdown: route, tool calls, retrieval, LLM, guard."""
    activity = (values.get("turn") or {}).get("activity") or []
    if not activity:
        return "Nothing traced yet: ask something first."
    lines = ["**What I did last turn**", ""]
    for a in activity:
        kind = a.get("kind")
        if kind == "route":
            if a.get("by") == "llm":
                lines.append(f"- **route** (LLM decided): tools {', '.join(a.get('tools', []))}")
            else:
                lines.append(f"- **route** (rules): {a.get('route')} — {a.get('reason')}")
        elif kind == "tool":
            outcome = f"error: {a['error']}" if a.get("error") else short(a.get("result"))
            lines.append(f"- **tool call** `{a.get('name')}({short(a.get('args'), 200)})` → {outcome}")
        elif kind == "retrieval":
            lines += retrieval_lines(a)
        elif kind == "explain":
            rung = f", hint rung {a['level']} on `{a['step']}`" if a.get("mode") == "hint" else (
                f" `{a['step']}`" if a.get("step") else "")
            lines.append(f"- **explainer**: {a.get('mode')}{rung} (template from the engine's trace)")
        elif kind == "llm":
            lines.append(f"- **LLM call** ({a.get('node')})" + (f": failed, {a['error']}" if a.get("error")
                                                                 else f", attempt {a.get('attempt', 1)}")
                         + _tokens(a))
        elif kind == "budget":
            lines.append(f"- **prompt budget** ({a.get('node')}): left out to fit the context: "
                         f"{', '.join(a.get('left_out') or []) or 'nothing'}")
        elif kind == "guard":
            lines.append(_guard_line(a))
        else:
            lines.append(f"- {short(a)}")
    return "\n".join(lines)
