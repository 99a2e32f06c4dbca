"""Engine tools: argument validation returned as one-line errors, compact results, tool definitions."""
from __future__ import annotations

import json
import math

from nn_tutor.tools.engine_tools import run_tool
from nn_tutor.tools.schemas import TOOL_ARGS, openai_tool_definitions

R2 = {"input": [0.5, 0.8], "target": [1],
      "layers": [{"dense": {"W": [[0.15, 0.20], [0.25, 0.30]], "b": [0.35, 0.35], "activation": "sigmoid"}},
                 {"dense": {"W": [[0.40, 0.45]], "b": [0.60], "activation": "sigmoid"}}],
      "loss": "half_sse", "learning_rate": 0.5}


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


# by hand: z1 = [0.15·0.5 + 0.2·0.8 + 0.35, 0.25·0.5 + 0.3·0.8 + 0.35] = [0.585, 0.715]
A1 = [sigmoid(0.585), sigmoid(0.715)]
Y_HAT = sigmoid(0.4 * A1[0] + 0.45 * A1[1] + 0.6)
LOSS = 0.5 * (Y_HAT - 1) ** 2


def test_definitions_carry_descriptions_the_model_reads():
    defs = {d["function"]["name"]: d["function"] for d in openai_tool_definitions()}
    assert set(defs) == set(TOOL_ARGS)
    net = defs["set_network"]["parameters"]
    assert "guessed" in net["properties"]
    text = json.dumps(defs["set_network"])
    assert "row i holds the weights INTO neuron i" in text
    assert all(d["description"] for d in defs.values())


FLAT_R2 = {"input": [0.5, 0.8], "target": [1], "loss": "half_sse", "learning_rate": 0.5,
           "layers": [{"W": [[0.15, 0.20], [0.25, 0.30]], "b": [0.35, 0.35], "activation": "sigmoid"},
                      {"W": [[0.40, 0.45]], "b": [0.60], "activation": "sigmoid"}]}


def test_set_network_then_forward_gives_compact_hand_checked_values():
    out = run_tool("set_network", {**FLAT_R2, "guessed": []}, None)
    assert out.ok and out.spec is not None
    fwd = run_tool("forward_pass", {}, out.spec)
    assert fwd.ok
    assert fwd.result["loss"] == round(LOSS, 4)
    steps = {s["id"]: s for s in fwd.result["steps"]}
    assert steps["L1.z"]["value"] == [0.585, 0.715] and steps["L1.z"]["shape"] == [2]
    assert steps["L2.a"]["value"] == [round(Y_HAT, 4)]
    assert len(fwd.content()) < 2000  # compact: not the whole trace


def test_backprop_delta_matches_hand_chain_rule():
    back = run_tool("backprop", {}, R2)
    steps = {s["id"]: s["value"] for s in back.result["steps"]}
    # δ2 = (ŷ − y)·ŷ(1 − ŷ)
    assert steps["L2.delta"] == [round((Y_HAT - 1) * Y_HAT * (1 - Y_HAT), 4)]


def test_validation_error_is_one_line_naming_the_field():
    bad = {"input": [0.5], "target": [1], "loss": "half_sse", "learning_rate": 0.5, "guessed": [],
           "layers": [{"b": [0.1], "activation": "sigmoid"}]}
    out = run_tool("set_network", bad, None)
    assert not out.ok and "\n" not in out.error
    assert "layers.0.W" in out.error and "call the tool again" in out.error
    assert out.content().startswith("error:")


def test_engine_error_comes_back_to_the_model():
    wrong_shape = json.loads(json.dumps({**FLAT_R2, "guessed": []}))
    wrong_shape["layers"][1]["W"] = [[0.4, 0.45, 0.5]]  # 3 inputs, but layer 1 gives 2
    out = run_tool("set_network", wrong_shape, None)
    assert not out.ok and "layer 2" in out.error.lower()


def test_tools_on_a_network_need_one_and_unknown_tools_are_named():
    assert "set_network" in run_tool("forward_pass", {}, None).error
    assert "unknown tool" in run_tool("fly", {}, None).error


def test_show_step_expands_one_element():
    out = run_tool("show_step", {"step_id": "L1.z", "index": [0]}, R2)
    assert out.ok and "0.15×0.5 + 0.2×0.8 + 0.35" in out.result["text"]
    assert "no step" in run_tool("show_step", {"step_id": "L9.z"}, R2).error


def test_train_table_loss_falls_from_the_hand_computed_start():
    rows = run_tool("train", {"iterations": 3}, R2).result["tables"][0]["rows"]
    losses = [r[-1] for r in rows]
    assert losses[0] == round(LOSS, 4)
    assert all(b < a for a, b in zip(losses, losses[1:]))


def test_gradcheck_tool_reports_every_parameter():
    out = run_tool("gradcheck", {}, R2)
    assert out.ok and out.result["passed"]
    assert {r["step_id"] for r in out.result["results"]} >= {"L1.dW", "L2.dW", "L1.db", "L2.db"}


def test_search_concepts_says_whether_the_cards_cover_the_question():
    covered = run_tool("search_concepts", {"query": "what is RAG?"}, None)
    assert covered.ok and covered.result["covered"] is True and "100%" in covered.result["reason"]
    assert covered.result["cards"][0]["id"] == "rag" and "Retrieval" in covered.result["cards"][0]["body"]
    off = run_tool("search_concepts", {"query": "what's the weather like tomorrow?"}, None)
    assert off.ok and off.result["covered"] is False and "only" in off.result["reason"]
    assert off.result["note"].startswith("not covered")
    assert all("body" not in c for c in off.result["cards"])  # nothing to answer from
    assert '"covered":false' in off.content()  # what the model reads
