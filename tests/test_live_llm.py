"""Against the real LLM endpoint of the environment: runs only when OPENAI_API_KEY is set, skipped otherwise."""
from __future__ import annotations

import os
import re

import pytest

from nn_tutor.agent.cli import main
from reference import EX

pytestmark = [pytest.mark.live,
              pytest.mark.skipif(not os.environ.get("OPENAI_API_KEY"), reason="no OPENAI_API_KEY: live test skipped")]
R2 = str(EX / "r2_two_layer_sigmoid.yaml")


def test_live_walkthrough_numbers_come_from_the_engine(capsys):
    code = main(["ask", "--spec", R2, "What is the loss before and after one update? Show the numbers."])
    out = capsys.readouterr().out
    assert code == 0
    # ½(0.7612 − 1)² = 0.0285 before; 0.0268 after (derived in tests/test_reference_dense.py)
    assert "0.0285" in out or "0.028" in out
    numbers = set(re.findall(r"\d+\.\d+", out))
    assert numbers, "the answer should quote the engine's numbers"


def test_live_concept_answer_cites_cards(capsys):
    code = main(["ask", "What is retrieval-augmented generation?"])
    out = capsys.readouterr().out
    assert code == 0 and re.search(r"\[[a-z0-9-]+\]", out)
