"""The tutor against a real local LLM: llama.cpp's server with SmolLM2-135M-Instruct on loopback.

A model this small says wrong things; these tests assert what code guarantees whatever it says:
every number shown is grounded in the engine or the student's words; a concept answer cites only
retrieved cards (or is the extractive answer); a network described in words is computed by the
engine from numbers the student wrote; follow-ups use the conversation; no prompt exceeds the
context; nothing ends in a traceback. If the server cannot start, these tests fail (never skip).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from llama_server import N_CTX, LlamaServer, ServerDidNotStart
from nn_tutor.agent.budget import REPLY_TOKENS
from nn_tutor.agent.config import load_settings
from nn_tutor.agent.graph import build_graph
from nn_tutor.agent.grounding import grounding_for
from nn_tutor.agent.state import TutorContext
from nn_tutor.engine.spec import load_spec
from nn_tutor.tools.engine_tools import trace_for
from nn_tutor.tools.knowledge import answer_offline, cited_ids

ROOT = Path(__file__).resolve().parent.parent
R2 = ROOT / "examples" / "r2_two_layer_sigmoid.yaml"
DESCRIBED = ("My network: inputs x1 = 0.5 and x2 = 0.8, target 1. Hidden neuron h1 has weights 0.15 (from x1) "
             "and 0.20 (from x2), bias 0.35; h2 has weights 0.25 and 0.30, bias 0.35. Output o1 has weights "
             "0.40 and 0.45, bias 0.60. All sigmoid, squared error loss, learning rate 0.5. Walk me through "
             "one training step.")
WORK = "z1 = 0.15*0.5 + 0.2*0.8 + 0.35 = 0.595\nE = (1 - 0.7613)^2 = 0.0570\n"
PROMPT_CEILING = N_CTX - REPLY_TOKENS  # what the server may be sent with room left for the reply
CALLS: list[dict] = []  # every LLM call of this module, for the context test


@pytest.fixture(scope="module")
def server():
    try:
        with LlamaServer() as running:
            yield running
    except ServerDidNotStart as exc:
        pytest.fail(f"the real-model tier needs llama.cpp's server: {exc}")


class Tutor:
    """A graph on one in-memory thread, talking to the local model."""

    def __init__(self, server: LlamaServer):
        settings = load_settings(base_url=server.url, model="smollm2-135m", timeout_s=300, max_retries=0)
        self.graph = build_graph(InMemorySaver())
        self.context = TutorContext(settings=settings)
        self.config = {"configurable": {"thread_id": "real"}}

    def say(self, text: str, request: dict | None = None) -> dict:
        out = self.graph.invoke({"messages": [HumanMessage(text)], "request": request}, self.config,
                                context=self.context)
        CALLS.extend(a for a in out["turn"]["activity"] if a.get("kind") == "llm" and "error" not in a)
        return out

    def load(self, path: Path = R2) -> None:
        self.graph.update_state(self.config, {"spec": load_spec(path), "spec_name": path.name},
                                as_node="orchestrate")


def assert_grounded(reply: str, said: list[str], trace=None, objects=()) -> None:
    """The model's words in a reply invent no number: the part above the code-built explanation (the
    last block the engine rendered, which starts at its first heading, step or table) is checked
    against the engine's trace, tool results and the student's words."""
    from nn_tutor.agent.explainer import walkthrough_text

    words = reply
    for marker in ("\n# ", "\n**`", "\n| line", "\n**Line ", "\n`L", "# "):
        at = reply.find(marker)
        if at >= 0:
            words = reply[:at]
            break
    grounding = grounding_for(said + ([walkthrough_text(trace)] if trace is not None else []), objects, trace)
    assert grounding.ungrounded(words) == []


def test_concept_answer_cites_retrieved_cards_or_is_the_extractive_answer(server):
    question = "what is retrieval augmented generation?"
    out = Tutor(server).say(question)
    turn = out["turn"]
    retrieved = [c["id"] for a in turn["activity"] if a["kind"] == "retrieval" for c in a["cards"]]
    assert "rag" in retrieved
    cited = cited_ids(turn["reply"])
    extractive = answer_offline(question).text
    assert turn["reply"] == extractive or (cited and set(cited) <= set(retrieved))
    assert any(a.get("node") == "concept" for a in turn["activity"])  # the model was asked to word it
    assert_grounded(turn["reply"], [question, "\n".join(a.get("prompt") or "" for a in turn["activity"])])


def test_a_network_described_in_words_is_computed_by_the_engine(server):
    tutor = Tutor(server)
    first = tutor.say(DESCRIBED)["turn"]
    assert any(a.get("node") == "describe" for a in first["activity"])  # the forced set_network call
    state = tutor.graph.get_state(tutor.config).values
    # the weights as the student wrote them, row i = weights into neuron i (read off the text by hand)
    expected_W1 = [[0.15, 0.20], [0.25, 0.30]]
    spec = state.get("spec") or state.get("pending_spec")
    assert spec is not None and np.allclose(spec["layers"][0]["dense"]["W"], expected_W1)
    if state.get("pending_spec"):  # guesses were shown: answer yes
        assert "Shall I compute" in first["reply"]
        out = tutor.say("yes")["turn"]
    else:
        out = first
    # z1[0] = 0.15·0.5 + 0.2·0.8 + 0.35 = 0.585 by hand; ŷ = σ(0.4σ(0.585) + 0.45σ(0.715) + 0.6) = 0.7612
    assert "0.585" in out["reply"] and "0.7612" in out["reply"]
    trace = trace_for(tutor.graph.get_state(tutor.config).values["spec"])
    assert_grounded(out["reply"], [DESCRIBED], trace)


def test_calculation_is_computed_by_the_engine(server):
    out = Tutor(server).say("what is sigmoid(0.5)?")["turn"]
    assert "0.6225" in out["reply"]  # 1 / (1 + e^−0.5) = 1 / 1.60653 = 0.62246 by hand
    assert_grounded(out["reply"], ["what is sigmoid(0.5)?"],
                    trace_for({"kind": "activations", "samples": [{"activation": "sigmoid", "at": [0.5]}]}))


def test_follow_ups_use_the_check_report_and_the_step_in_focus(server):
    tutor = Tutor(server)
    tutor.load()
    checked = tutor.say("/check work.txt", {"action": "check", "text": WORK, "name": "work.txt"})
    wrong = [c["line"] for c in checked["last_report"]["claims"] if c["verdict"] == "wrong"]
    assert wrong == [1, 2]  # 0.585 not 0.595; ½(1 − 0.7613)² = 0.0285, not 0.0570
    mistakes = tutor.say("explain my mistakes")["turn"]
    assert mistakes["route"] == "report" and "Line 1" in mistakes["reply"] and "Line 2" in mistakes["reply"]
    assert cited_ids(mistakes["reply"]) == []  # not a knowledge-base answer
    line = tutor.say("why is line 2 wrong?")["turn"]
    assert "missing_half" in line["reply"] and "Line 1" not in line["reply"]
    why = tutor.say("why is the gradient for w5 negative?")
    assert why["focus"]["step"] == "L2.dW" and why["focus"]["index"] == [0, 0]
    # ∂L/∂w5 = δ2·a1[0] = (−0.0434)(0.6422) = −0.0279 by hand
    assert "-0.0279" in why["turn"]["reply"] or "−0.0279" in why["turn"]["reply"]
    again = tutor.say("what about w6?")
    assert again["focus"]["step"] == "L2.dW" and again["focus"]["index"] == [0, 1]
    trace = trace_for(load_spec(R2))
    for turn in (mistakes, line, why["turn"], again["turn"]):
        assert_grounded(turn["reply"], [WORK, "why is the gradient for w5 negative?"], trace,
                        [checked["last_report"]])


def test_a_big_walkthrough_is_budgeted_to_the_context(server):
    tutor = Tutor(server)
    tutor.load(ROOT / "examples" / "r4_digit_sse.yaml")
    out = tutor.say("/walk", {"action": "walk"})["turn"]
    calls = [a for a in out["activity"] if a.get("kind") == "llm" and "error" not in a]
    assert calls and all(a["prompt_tokens"] <= PROMPT_CEILING for a in calls)
    assert any(a.get("kind") == "budget" and a["left_out"] for a in out["activity"])  # trimmed at steps
    assert_grounded(out["reply"], [], trace_for(load_spec(ROOT / "examples" / "r4_digit_sse.yaml")))


def test_no_prompt_of_this_module_exceeded_the_context():
    assert CALLS, "the tests above should have called the model"
    counted = [a["prompt_tokens"] for a in CALLS if a.get("prompt_tokens")]
    assert len(counted) == len(CALLS) and max(counted) <= PROMPT_CEILING
    print(sorted((a["node"], a["prompt_tokens"], a["prompt_tokens_estimate"]) for a in CALLS))
    assert all(a["prompt_tokens"] <= a["prompt_tokens_estimate"] for a in CALLS)  # the estimate never undercounts


def test_the_cli_against_the_real_model_prints_no_traceback(server, tmp_path):
    env = dict(os.environ, OPENAI_BASE_URL=server.url, NNT_MODEL="smollm2-135m", NNT_TIMEOUT="300",
               NNT_DATA_DIR=str(tmp_path))
    for question in ("what is RAG vs fine-tuning?", DESCRIBED, "hello"):
        done = subprocess.run([sys.executable, "-m", "nn_tutor.agent.cli", "ask", question], env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0 and "Traceback" not in done.stderr and done.stdout.strip()
