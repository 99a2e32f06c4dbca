"""The offline graph: rule-based routing, template walkthroughs, the hint ladder, /why, concept fallback."""
from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from nn_tutor.agent.config import load_settings
from nn_tutor.agent.explainer import computed_steps, hint_text, next_hint
from nn_tutor.agent.graph import build_graph
from nn_tutor.agent.router import looks_worked, pasted_spec, route_text
from nn_tutor.agent.state import TutorContext
from nn_tutor.tools.engine_tools import trace_for
from specs import R2_YAML

WORK = """z1 = 0.15*0.5 + 0.2*0.8 + 0.35 = 0.585
a1 = 1/(1+e^-0.585) = 0.6422"""


class Tutor:
    """An offline graph on one in-memory thread."""

    def __init__(self):
        self.graph = build_graph(InMemorySaver())
        self.config = {"configurable": {"thread_id": "t"}}
        self.context = TutorContext(settings=load_settings())

    def say(self, text: str, request: dict | None = None) -> dict:
        return self.graph.invoke({"messages": [HumanMessage(text)], "request": request}, self.config,
                                 context=self.context)


@pytest.mark.parametrize("text, has_spec, route, mode", [
    (R2_YAML, False, "load", "walkthrough"),
    (WORK, False, "check", None),
    ("give me a hint", True, "explain", "hint"),
    ("why is L2.delta negative?", True, "explain", "why"),
    ("walk me through the backward pass", True, "explain", "walkthrough"),
    ("what is RAG?", True, "concept", None),
    ("what is backprop?", False, "concept", None),
    ("2 inputs, 2 sigmoid hidden neurons and 1 output", False, "describe", None),
])
def test_rule_router(text, has_spec, route, mode):
    decision = route_text(text, trace_for(pasted_spec(R2_YAML)) if has_spec else None)
    assert (decision.route, decision.mode) == (route, mode)


def test_router_reads_phases_and_pending_confirmation():
    trace = trace_for(pasted_spec(R2_YAML))
    assert route_text("show me the backward pass", trace).phases == ("backward",)
    assert route_text("yes", trace, pending_spec=True).route == "confirm"
    assert pasted_spec("just words: layers are fun") is None
    assert not looks_worked("I think the answer = 3")


def test_pasted_spec_gives_the_walkthrough_with_engine_numbers():
    out = Tutor().say(R2_YAML)
    assert out["turn"]["route"] == "explain" and out["turn"]["reason"] == "a spec was pasted"
    assert out["spec"]["loss"] == "half_sse"
    # z1[0] = 0.15×0.5 + 0.2×0.8 + 0.35 = 0.585, written out element by element
    assert "0.15×0.5 + 0.2×0.8 + 0.35 = 0.585" in out["turn"]["reply"]
    assert "Backpropagation" in out["turn"]["reply"]


def test_hint_ladder_climbs_and_hides_the_answer_until_rung_three():
    tutor = Tutor()
    tutor.say(R2_YAML)
    rungs = [tutor.say("/hint", {"action": "hint"}) for _ in range(4)]
    assert [(r["hint_step"], r["hint_level"]) for r in rungs] == [("L1.z", 1), ("L1.z", 2), ("L1.z", 3),
                                                                  ("L1.a", 1)]
    # the value of L1.z is [0.585, 0.715] (hand sum above): absent from rungs 1 and 2, shown on rung 3
    for rung in rungs[:2]:
        assert "0.585" not in rung["turn"]["reply"] and "0.715" not in rung["turn"]["reply"]
    assert "0.15, 0.2" in rungs[1]["turn"]["reply"]  # rung 2 points at the inputs
    assert "0.585" in rungs[2]["turn"]["reply"] and "0.715" in rungs[2]["turn"]["reply"]


def test_hint_ladder_starts_at_a_wrong_step_found_by_the_checker():
    trace = trace_for(pasted_spec(R2_YAML))
    assert next_hint(trace, None, 0, wrong_step="L2.delta") == ("L2.delta", 1)
    assert next_hint(trace, computed_steps(trace)[-1], 3) == (computed_steps(trace)[0], 1)
    assert "L2.delta" in hint_text(trace, "L2.delta", 2)


def test_why_expands_one_step_and_unknown_steps_name_the_known_ones():
    tutor = Tutor()
    tutor.say(R2_YAML)
    out = tutor.say("/why L1.z", {"action": "why", "step": "L1.z"})
    assert "0.25×0.5 + 0.3×0.8 + 0.35 = 0.715" in out["turn"]["reply"]
    out = tutor.say("/why L7.q", {"action": "why", "step": "L7.q"})
    assert "no step 'L7.q'" in out["turn"]["reply"] and "L1.z" in out["turn"]["reply"]


def test_walk_without_a_network_says_how_to_load_one():
    out = Tutor().say("/walk", {"action": "walk"})
    assert "/load FILE" in out["turn"]["reply"]


def test_bad_pasted_spec_is_a_one_line_error_not_a_crash():
    out = Tutor().say(R2_YAML.replace("[[0.40, 0.45]]", "[[0.40, 0.45, 0.5]]"))
    assert out["turn"]["reply"].startswith("That network cannot be computed:") and "layer 2" in out["turn"]["reply"]


def test_described_network_offline_shows_the_spec_format():
    out = Tutor().say("a network with 2 inputs, 2 hidden sigmoid neurons, 1 output")
    # no weights given: the reader says what is missing and shows the description to fill in
    assert out["turn"]["reply"].startswith("I could not read the whole network")
    assert "h1 has weights 0.15 (from x1)" in out["turn"]["reply"] and out.get("spec") is None


def test_activity_is_per_turn():
    tutor = Tutor()
    tutor.say(R2_YAML)
    out = tutor.say("/hint", {"action": "hint"})
    kinds = [a["kind"] for a in out["turn"]["activity"]]
    assert kinds == ["route", "explain"] and out["turn"]["activity"][0]["reason"] == "/hint"


def test_module_level_graph_runs_without_context_like_the_langgraph_server():
    import json
    from pathlib import Path

    from nn_tutor.agent import graph as graph_module

    config = json.loads((Path(__file__).resolve().parent.parent / "langgraph.json").read_text())
    path, _, attr = config["graphs"]["tutor"].partition(":")
    assert path.endswith("agent/graph.py") and attr == "graph"
    out = getattr(graph_module, attr).invoke({"messages": [HumanMessage(R2_YAML)]})
    assert "0.585" in out["turn"]["reply"]


def test_why_with_the_students_own_names():
    tutor = Tutor()
    tutor.say(R2_YAML)
    out = tutor.say("why is net_o1 that big?")
    # net_o1 is the output's pre-activation: z2 = 0.4·σ(0.585) + 0.45·σ(0.715) + 0.6, written out
    assert out["focus"]["step"] == "L2.z" and "0.4×0.6422 + 0.45×0.6715 + 0.6" in out["turn"]["reply"]
    out = tutor.say("/why w5", {"action": "why", "step": "w5"})
    assert out["focus"]["step"] == "L2.W"
    out = tutor.say("why do we need layer2 at all?")  # not a quantity of this network
    assert out["turn"]["route"] == "concept"


# networks in words, follow-ups, calculations and comparisons, offline ---------------------------

DESCRIBED = ("inputs x1 = 0.5 and x2 = 0.8, target 1. h1 has weights 0.15 (from x1) and 0.20 (from x2), bias 0.35; "
             "h2 has weights 0.25 and 0.30, bias 0.35. o1 has weights 0.40 and 0.45, bias 0.60. All sigmoid, "
             "loss half the sum of squared errors, learning rate 0.5.")
CHECKED = "z1 = 0.15*0.5 + 0.2*0.8 + 0.35 = 0.595\nE = (1 - 0.7613)^2 = 0.0570\n"


def test_a_network_in_words_is_computed_when_read_whole_and_confirmed_when_guessed():
    out = Tutor().say(DESCRIBED)
    assert out["spec_name"] == "described" and out["turn"]["route"] == "explain"
    assert "0.15×0.5 + 0.2×0.8 + 0.35 = 0.585" in out["turn"]["reply"]  # z1[0] by hand
    tutor = Tutor()
    first = tutor.say(DESCRIBED.replace(", learning rate 0.5", ""))
    assert first.get("spec") is None and "learning rate η = 0.5 (not stated)" in first["turn"]["reply"]
    second = tutor.say("yes")
    assert second["spec"] == first["pending_spec"] and "0.585" in second["turn"]["reply"]


def test_follow_ups_on_the_last_check_answer_from_its_report():
    tutor = Tutor()
    tutor.say(R2_YAML)
    tutor.say("/check work.txt", {"action": "check", "text": CHECKED, "name": "work.txt"})
    mistakes = tutor.say("explain my mistakes")["turn"]
    # line 1: 0.15·0.5 + 0.2·0.8 + 0.35 = 0.585, not 0.595; line 2: ½(1 − 0.7613)² = 0.0285, not 0.0570
    assert mistakes["route"] == "report"
    assert "**Line 1**" in mistakes["reply"] and "expected 0.585" in mistakes["reply"]
    assert "**Line 2**" in mistakes["reply"] and "expected 0.0285" in mistakes["reply"]
    line = tutor.say("why is line 2 wrong?")["turn"]
    assert "**Line 1**" not in line["reply"] and "Misconception: missing_half" in line["reply"]
    assert not [a for a in line["activity"] if a["kind"] == "retrieval"]  # not a knowledge-base answer


def test_why_the_gradient_for_w5_and_what_about_w6():
    tutor = Tutor()
    tutor.say(R2_YAML)
    why = tutor.say("why is the gradient for w5 negative?")
    # ∂L/∂w5 = δ2·a1[0] = (−0.0434)(0.6422) = −0.0279 by hand; the weight w5 itself is 0.40
    assert why["focus"] == {"step": "L2.dW", "index": [0, 0], "name": "∂L/∂w5"}
    assert "L2.dW[0][0] = (-0.0434)×0.6422 = -0.0279" in why["turn"]["reply"]
    assert "It is negative because" in why["turn"]["reply"]
    again = tutor.say("what about w6?")  # ∂L/∂w6 = (−0.0434)(0.6715) = −0.0292
    assert again["focus"]["index"] == [0, 1] and "L2.dW[0][1] = (-0.0434)×0.6715 = -0.0292" in again["turn"]["reply"]
    bias = tutor.say("and the bias?")  # ∂L/∂b2 = δ2 = −0.0434
    assert bias["focus"]["step"] == "L2.db" and "L2.db[0] = -0.0434" in bias["turn"]["reply"]


def test_a_calculation_is_computed_by_the_engine_without_replacing_the_network():
    tutor = Tutor()
    tutor.say(R2_YAML)
    out = tutor.say("what is sigmoid(0.5)?")
    assert "= [0.6225]" in out["turn"]["reply"]  # 1 / (1 + e^−0.5) = 1 / 1.60653 = 0.62246
    assert out["spec"]["loss"] == "half_sse"    # R2 is still the network loaded


def test_a_comparison_answers_both_sides_from_each_sides_card():
    out = Tutor().say("what is RAG vs fine-tuning?")
    retrieval = next(a for a in out["turn"]["activity"] if a["kind"] == "retrieval")
    assert retrieval["sides"] == ["RAG", "fine-tuning"]
    assert [c["id"] for c in retrieval["cards"]] == ["rag", "fine-tuning"]
    assert out["turn"]["reply"].startswith("**RAG vs fine-tuning**")
    assert "[rag]" in out["turn"]["reply"] and "[fine-tuning]" in out["turn"]["reply"]
