"""Prompt budgets: the token estimate never falls below what the served model counts, and prompts are
fitted whole part by whole part. Token counts in comments are SmolLM2's tokenizer's own pieces."""
from __future__ import annotations

import pytest

from nn_tutor.agent.budget import REPLY_TOKENS, Part, estimate_tokens, fit, prompt_limit
from nn_tutor.agent.config import load_settings


@pytest.mark.parametrize("text, tokens", [
    (" 0.595", 6),        # ' ', '0', '.', '5', '9', '5': each digit and the space before them
    ('"line": 1', 14),    # rendered as &#34;line&#34;: 1 -> '&','#','3','4',';','line', ×2, ':', ' ', '1'
    ("nn-tutor's", 10),   # ' nn', '-', 't', 'utor', then &#39; as five, 's'
    ("δ2·a1ᵀ ⊙", 12),     # 'δ' 2, '2', '·', 'a', '1', 'ᵀ' 3, ' ', '⊙' 3 (multi-byte characters by bytes)
    ("misconception", 3),  # 'mis', 'con', 'ception'
])
def test_the_estimate_is_not_below_the_served_models_count(text, tokens):
    assert estimate_tokens(text) >= tokens


def test_tool_schemas_are_not_counted_as_escaped():
    # a template renders tool schemas as JSON (no HTML escaping): quotes count one token each there
    schema = '{"type": "object"}'
    assert estimate_tokens(schema, escaped=False) == estimate_tokens(schema) - 4 * 4


def test_fit_keeps_whole_parts_by_priority_in_their_own_order():
    parts = [Part("instructions", "rule " * 10, 0), Part("card", "long card " * 50, 2),
             Part("question", "what is it " * 3, 1), Part("card", "tiny card " * 5, 3)]
    costs = [p.tokens for p in parts]  # one token per word of four letters or fewer
    assert costs == [10, 100, 9, 10]
    kept, dropped = fit(parts, 30)
    # by priority: instructions (10), question (19), the long card does not fit, the short one does (29)
    assert kept == [parts[0], parts[2], parts[3]] and dropped == [parts[1]]
    assert fit(parts, 5) == ([], parts)  # nothing is ever cut to fit


def test_a_prompt_leaves_the_reply_its_share_of_the_context():
    # (4096 − 512) × 0.95 = 3404.8: the margin is for the estimate's own error
    assert REPLY_TOKENS == 512 and prompt_limit(load_settings()) == 3404
    assert prompt_limit(load_settings(context_tokens=8192)) == int((8192 - 512) * 0.95)
