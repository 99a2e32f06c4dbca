"""Prompt budgets: every prompt is sized to the model's context minus the reply's share.

`estimate_tokens` over-counts on purpose (a prompt the server counts as longer than estimated could
overflow the context): each ASCII digit, a space before one, and each punctuation mark as a token of
its own; each non-ASCII character as one token per UTF-8 byte (a byte-level tokenizer never needs
more); words by length; and the characters a chat template may HTML-escape at their escaped length
(llama.cpp's `chatml-function-calling` template renders `"` as `&#34;`, five tokens for SmolLM2).
`fit` keeps whole parts by priority (instructions and the question first, then cards by rank, then
history from the newest) and never cuts a part in the middle.
"""
from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass

REPLY_TOKENS = 512       # the most a reply may take (sent as max_tokens)
MESSAGE_OVERHEAD = 8     # role markers and separators the chat template adds per message
TOOLS_OVERHEAD = 200     # the template's own words around the tool schemas (llama.cpp's: about 150)
WORD = re.compile(r"[A-Za-z]+")
DIGITS = frozenset(string.digits)
SPACE_BEFORE_DIGIT = re.compile(r"[ \t](?=[0-9])")  # " 0.5": the space is a token of its own
PUNCTUATION = frozenset(string.punctuation)
ESCAPED = {'"': 5, "'": 5, "&": 3, "<": 3, ">": 3}  # &#34; &#39; &amp; &lt; &gt; as a template may render them


def estimate_tokens(text: str, escaped: bool = True) -> int:
    """A count that does not fall below what a small model's tokenizer makes of `text` (`escaped`:
    as message text, which a template may HTML-escape; tool schemas are rendered as JSON)."""
    digits = sum(ch in DIGITS for ch in text) + len(SPACE_BEFORE_DIGIT.findall(text))
    foreign = sum(len(ch.encode("utf-8")) for ch in text if ord(ch) > 127)
    words = sum(1 + len(w) // 5 for w in WORD.findall(text))
    marks = sum((ESCAPED.get(ch, 1) if escaped else 1) for ch in text if ch in PUNCTUATION)
    return digits + foreign + words + marks + text.count("\n") // 2


def message_tokens(messages: list, tools: list | None = None) -> int:
    """The estimate for a whole request: every message's text, their overheads, the tool schemas."""
    total = sum(estimate_tokens(_text(m)) + MESSAGE_OVERHEAD for m in messages)
    if tools:
        total += estimate_tokens(json.dumps(tools, ensure_ascii=False), escaped=False) + TOOLS_OVERHEAD
    return total


def _text(message) -> str:
    content = getattr(message, "content", message)
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False, default=str)
    calls = getattr(message, "tool_calls", None)
    return text + (json.dumps(calls, ensure_ascii=False, default=str) if calls else "")


SAFETY = 0.95            # a margin below the context, for the estimate's own error


def prompt_limit(settings) -> int:
    """Tokens a prompt may take: the context minus the reply's share, with a margin."""
    return int((settings.context_tokens - REPLY_TOKENS) * SAFETY)


REWRITE_ROOM = REPLY_TOKENS + 150  # a checked text's one rewrite adds its draft and the instruction


def first_prompt_limit(settings) -> int:
    """Tokens the first prompt of a checked text may take, leaving room for its one rewrite."""
    return prompt_limit(settings) - REWRITE_ROOM


@dataclass
class Part:
    """One piece of a prompt: what it is (shown in /trace when left out), its text, its rank."""

    kind: str
    text: str
    priority: int  # lower is kept first

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.text)


def fit(parts: list[Part], limit: int) -> tuple[list[Part], list[Part]]:
    """The parts that fit in `limit` tokens, kept whole by priority (in their original order), and
    those left out."""
    kept_ids: set[int] = set()
    used = 0
    for i in sorted(range(len(parts)), key=lambda i: (parts[i].priority, i)):
        cost = parts[i].tokens
        if used + cost <= limit:
            kept_ids.add(i)
            used += cost
    kept = [p for i, p in enumerate(parts) if i in kept_ids]
    dropped = [p for i, p in enumerate(parts) if i not in kept_ids]
    return kept, dropped
