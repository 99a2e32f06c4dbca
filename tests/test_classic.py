"""R11: threshold units, XOR from two layers and the perceptron rule, against hand-derived truth tables and epochs."""
from __future__ import annotations


import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nn_tutor.engine.errors import NNTError
from nn_tutor.engine.kinds import WalkOptions, walk
from nn_tutor.engine.spec import load_spec
from reference import EX

EXAMPLES = EX

AND_DATA = [[0, 0, 0], [0, 1, 0], [1, 0, 0], [1, 1, 1]]
OR_DATA = [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1]]
XOR_DATA = [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]]


def perceptron(data, **extra):
    spec = {"kind": "perceptron", "data": data, "w": [0, 0], "b": 0, "learning_rate": 1, **extra}
    return walk(spec)


# ---------------------------------------------------------------------------------------------
# threshold units


def test_and_or_not_truth_tables():
    # Rows in counting order (x1, x2) = 00, 01, 10, 11; a unit fires when Σ w·x ≥ θ.
    # AND (1, 1; θ=2): z = 0, 1, 1, 2 -> only z=2 reaches 2 -> 0, 0, 0, 1.
    # OR  (1, 1; θ=1): z = 0, 1, 1, 2 -> 0, 1, 1, 1.
    # NOT (-1; θ=0):   x = 0 -> z = 0 ≥ 0 -> 1;  x = 1 -> z = -1 < 0 -> 0.
    trace = walk(load_spec(EXAMPLES / "r11_threshold_units.yaml"))
    assert trace.display("AND.z").tolist() == [0, 1, 1, 2]
    assert trace.display("AND.out").tolist() == [0, 0, 0, 1]
    assert trace.display("OR.out").tolist() == [0, 1, 1, 1]
    assert trace.display("NOT.z").tolist() == [0, -1]
    assert trace.display("NOT.out").tolist() == [1, 0]
    assert trace.info["matches_target"] == {"AND": True, "OR": True, "NOT": True}
    assert [r[-1] for r in trace.tables[0].rows] == [0, 0, 0, 1]
    assert trace.tables[0].columns == ["x1", "x2", "z = Σ w·x", "out"]


def test_threshold_step_ids_and_recompute():
    trace = walk({"kind": "threshold", "units": [{"name": "AND", "weights": [1, 1], "threshold": 2}]})
    assert list(trace.steps) == ["AND.x", "AND.w", "AND.theta", "AND.z", "AND.out"]
    assert trace["AND.z"].inputs == ("AND.w", "AND.x")
    # With θ lowered to 1 the same sums 0, 1, 1, 2 give OR's table.
    assert trace.recompute("AND.out", {"AND.theta": 1}).tolist() == [0, 1, 1, 1]
    # Row 11: z = 1×1 + 1×1 = 2, and 2 ≥ 2 fires.
    assert trace.expand("AND.z", (3,)) == "AND.z[3] = 1×1 + 1×1 = 2"
    assert trace.expand("AND.out", (3,)) == "AND.out[3] = 1[2 ≥ 2] = 1"


def test_wrong_target_and_misnamed_unit_are_reported():
    trace = walk({"kind": "threshold", "units": [
        {"name": "AND", "weights": [1, 1], "threshold": 1, "target": [0, 0, 0, 1]}]})
    # θ = 1 makes this unit an OR: rows 01 and 10 differ from the AND target.
    assert trace.info["matches_target"] == {"AND": False}
    assert any("computes OR" in n for n in trace.notes)
    assert any("rows [2, 3] differ" in n for n in trace.notes)


def test_xor_from_two_layers_hand_table():
    # Layer 1: NAND (-1, -1; θ=-1): z = 0, -1, -1, -2 -> 1, 1, 1, 0.
    #          OR   ( 1,  1; θ= 1): z = 0,  1,  1,  2 -> 0, 1, 1, 1.
    # Layer 2: AND of (NAND, OR): z = 1+0, 1+1, 1+1, 0+1 = 1, 2, 2, 1; θ = 2 -> 0, 1, 1, 0 = XOR.
    trace = walk(load_spec(EXAMPLES / "r11_xor_two_layer.yaml"))
    assert trace.display("XOR.L1.z").tolist() == [[0, -1, -1, -2], [0, 1, 1, 2]]
    assert trace.display("XOR.L1.out").tolist() == [[1, 1, 1, 0], [0, 1, 1, 1]]
    assert trace.display("XOR.L2.z").tolist() == [[1, 2, 2, 1]]
    assert trace.display("XOR.L2.out").tolist() == [[0, 1, 1, 0]]
    assert trace.info["matches_target"] == {"XOR": True}
    assert trace["XOR.L2.z"].inputs == ("XOR.L2.W", "XOR.L1.out")
    assert "XOR = AND(NAND(x1, x2), OR(x1, x2)), layer by layer." in trace.notes
    assert trace.expand("XOR.L1.z", (0, 3)) == "XOR.L1.z[0][3] = (-1)×1 + (-1)×1 = -2"
    # The checker's route: a student's own layer-1 outputs give their own layer-2 sums.
    assert trace.recompute("XOR.L2.z", {"XOR.L1.out": [[1, 1, 1, 1], [0, 1, 1, 1]]}).tolist() == [[1, 2, 2, 2]]


@pytest.mark.parametrize("spec, field", [
    ({"kind": "threshold"}, "units"),
    ({"kind": "threshold", "units": [{"name": "AND", "threshold": 2}]}, "weights"),
    ({"kind": "threshold", "units": [{"name": "AND", "weights": [1, 1]}]}, "threshold"),
    ({"kind": "threshold", "units": [{"name": "AND", "weights": [1, "a"], "threshold": 2}]}, "weights"),
    ({"kind": "threshold", "units": [{"name": "AND", "weights": [1, 1], "threshold": float("nan")}]},
     "threshold"),
    ({"kind": "threshold", "units": [{"name": "AND", "weights": [1, 1], "threshold": True}]}, "threshold"),
    ({"kind": "threshold", "units": [{"name": "AND", "weights": [1, 1], "threshold": 2, "theta": 1}]},
     "theta"),
    ({"kind": "threshold", "units": [{"name": "A.B", "weights": [1], "threshold": 0}]}, "name"),
    ({"kind": "threshold", "units": [{"name": "AND", "weights": [1, 1], "threshold": 2,
                                      "target": [0, 1]}]}, "target"),
    ({"kind": "threshold", "network": {"layers": [[{"weights": [1, 1], "threshold": 1}],
                                                  [{"weights": [1, 1, 1], "threshold": 1}]]}}, "3 weights"),
    ({"kind": "threshold", "network": {"layers": []}}, "layers"),
    ({"kind": "threshold", "network": {"layers": [[{"weights": [1], "threshold": 1, "inputs": ["a"]}]]}},
     "network.inputs"),
])
def test_threshold_bad_input_names_the_field(spec, field):
    with pytest.raises(NNTError) as err:
        walk(spec)
    assert field in str(err.value)
    assert "\n" not in str(err.value)


# ---------------------------------------------------------------------------------------------
# perceptron


def test_perceptron_and_hand_traced_epochs():
    # Start w = [0, 0], b = 0, η = 1, ŷ = 1 if z ≥ 0. Samples in order 00, 01, 10, 11 (y = 0, 0, 0, 1).
    # Epoch 1: 00 z=0 ŷ=1 e=-1 -> b=-1;  01 z=-1 ok;  10 z=-1 ok;  11 z=-1 ŷ=0 e=+1 -> w=[1,1], b=0.  (2 errors)
    # Epoch 2: 00 z=0 e=-1 -> b=-1;  01 z=0 e=-1 -> w=[1,0], b=-2;  10 z=-1 ok;  11 z=-1 e=+1 -> w=[2,1], b=-1. (3)
    # Epoch 3: 00 z=-1 ok;  01 z=0 e=-1 -> w=[2,0], b=-2;  10 z=0 e=-1 -> w=[1,0], b=-3;
    #          11 z=-2 e=+1 -> w=[2,1], b=-2.  (3)
    # Epoch 4: 00 ok; 01 z=-1 ok; 10 z=0 e=-1 -> w=[1,1], b=-3; 11 z=-1 e=+1 -> w=[2,2], b=-2.  (2)
    # Epoch 5: 00 ok; 01 z=0 e=-1 -> w=[2,1], b=-3; 10 z=-1 ok; 11 z=0 ŷ=1 ok.  (1)
    # Epoch 6: z = -3, -2, -1, 0 -> ŷ = 0, 0, 0, 1: no errors -> converged, w = [2, 1], b = -3.
    trace = walk(load_spec(EXAMPLES / "r11_perceptron_and.yaml"))
    assert trace.info["converged"] is True
    assert trace.info["converged_epoch"] == 6
    assert trace.info["errors_per_epoch"] == [2, 3, 3, 2, 1, 0]
    assert trace.info["w"] == [2, 1] and trace.info["b"] == -3
    assert float(trace.display("epoch1.sample1.z")) == 0
    assert float(trace.display("epoch1.sample1.yhat")) == 1
    assert float(trace.display("epoch1.sample1.error")) == -1
    assert float(trace.display("epoch1.sample1.b_new")) == -1
    assert trace.display("epoch1.sample4.w_new").tolist() == [1, 1]
    assert trace.display("epoch2.sample2.w_new").tolist() == [1, 0]
    assert float(trace.display("epoch3.sample3.b_new")) == -3
    assert trace.display("epoch6.sample4.w_new").tolist() == [2, 1]
    assert trace.display("after.z").tolist() == [-3, -2, -1, 0]
    assert trace.display("after.yhat").tolist() == [0, 0, 0, 1]
    assert "epoch7.sample1.z" not in trace
    assert any("2·x1 + 1·x2 − 3 = 0" in n for n in trace.notes)


def test_perceptron_or_hand_traced_epochs():
    # Same start on OR (y = 0, 1, 1, 1).
    # Epoch 1: 00 z=0 e=-1 -> b=-1; 01 z=-1 e=+1 -> w=[0,1], b=0; 10 z=0 ok; 11 z=1 ok.  (2)
    # Epoch 2: 00 z=0 e=-1 -> b=-1; 01 z=0 ok; 10 z=-1 e=+1 -> w=[1,1], b=0; 11 ok.  (2)
    # Epoch 3: 00 z=0 e=-1 -> b=-1; 01 z=0 ok; 10 z=0 ok; 11 z=1 ok.  (1)
    # Epoch 4: z = -1, 0, 0, 1 -> 0, 1, 1, 1: no errors; w = [1, 1], b = -1.
    trace = walk(load_spec(EXAMPLES / "r11_perceptron_or.yaml"))
    assert trace.info["errors_per_epoch"] == [2, 2, 1, 0]
    assert trace.info["w"] == [1, 1] and trace.info["b"] == -1
    assert trace.info["linearly_separable"] is True


def test_perceptron_xor_does_not_converge_and_says_why():
    # Epoch 1 from w=[0,0], b=0: 00 e=-1 -> b=-1; 01 z=-1 e=+1 -> w=[0,1], b=0; 10 z=0 ok;
    #          11 z=1 ŷ=1 e=-1 -> w=[-1,0], b=-1.  (3 errors)
    # Epoch 2: 00 z=-1 ok; 01 z=-1 e=+1 -> w=[-1,1], b=0; 10 z=-1 e=+1 -> w=[0,1], b=1;
    #          11 z=2 e=-1 -> w=[-1,0], b=0.  (3)
    # Epoch 3 starts at w=[-1,0], b=0: 00 z=0 e=-1 -> b=-1; then as epoch 2 -> ends at w=[-1,0], b=0.  (4)
    # So epoch 4 starts where epoch 3 started: a cycle of 4 errors per epoch, forever.
    trace = walk(load_spec(EXAMPLES / "r11_perceptron_xor.yaml"))
    assert trace.info["converged"] is False
    assert trace.info["epochs"] == 10
    assert trace.info["errors_per_epoch"] == [3, 3] + [4] * 8
    assert trace.info["cycle"] == {"epoch": 4, "repeats_epoch": 3}
    assert trace.info["linearly_separable"] is False
    assert trace.info["reason"] == "not linearly separable"
    assert any("not linearly separable" in n for n in trace.notes)
    assert trace.display("epoch2.sample3.w_new").tolist() == [0, 1]
    assert "epoch10.sample4.b_new" in trace and "epoch11.sample1.z" not in trace


def test_perceptron_step_at_zero_convention():
    # step(0) = 0 instead. AND from w=[0,0], b=0, η=1:
    # Epoch 1: 00, 01, 10 give z=0 -> ŷ=0 ok; 11 z=0 ŷ=0 e=+1 -> w=[1,1], b=1.  (1)
    # Epoch 2: 00 z=1 e=-1 -> b=0; 01 z=1 e=-1 -> w=[1,0], b=-1; 10 z=0 ok; 11 z=0 e=+1 -> w=[2,1], b=0. (3)
    # Epoch 3: 00 ok; 01 z=1 e=-1 -> w=[2,0], b=-1; 10 z=1 e=-1 -> w=[1,0], b=-2; 11 z=-1 e=+1 -> w=[2,1], b=-1. (3)
    # Epoch 4: 00 ok; 01 z=0 ok; 10 z=1 e=-1 -> w=[1,1], b=-2; 11 z=0 e=+1 -> w=[2,2], b=-1.  (2)
    # Epoch 5: 00 ok; 01 z=1 e=-1 -> w=[2,1], b=-2; 10 z=0 ok; 11 z=1 ok.  (1)
    # Epoch 6: z = -2, -1, 0, 1 -> 0, 0, 0, 1: converged with w = [2, 1], b = -2.
    trace = perceptron(AND_DATA, step_at_zero=0)
    assert trace.info["errors_per_epoch"] == [1, 3, 3, 2, 1, 0]
    assert trace.info["w"] == [2, 1] and trace.info["b"] == -2


def test_learning_rate_override_scales_the_run():
    # From w = 0, b = 0 every update is a multiple of η, so z scales by η and no decision changes:
    # with η = 0.5 the AND run makes the same errors and ends at half of ([2, 1], -3).
    trace = walk({"kind": "perceptron", "data": AND_DATA, "w": [0, 0], "b": 0, "learning_rate": 1},
                 WalkOptions(learning_rate=0.5))
    assert trace.info["errors_per_epoch"] == [2, 3, 3, 2, 1, 0]
    assert trace.info["w"] == [1, 0.5] and trace.info["b"] == -1.5


def test_iterations_option_sets_the_epoch_limit():
    # XOR never converges, so the run lasts exactly as many epochs as allowed.
    trace = walk({"kind": "perceptron", "data": XOR_DATA, "w": [0, 0], "b": 0, "learning_rate": 1,
                  "max_epochs": 10}, WalkOptions(iterations=3))
    assert trace.info["epochs"] == 3 and "epoch4.sample1.z" not in trace


def test_perceptron_steps_recompute_from_other_numbers():
    trace = perceptron(AND_DATA)
    # Epoch 1, sample 4: w_new = w + η·e·x = [0, 0] + 1×1×[1, 1]; with a zero error nothing moves.
    assert trace["epoch1.sample4.w_new"].inputs == ("epoch1.sample3.w_new", "lr", "epoch1.sample4.error",
                                                   "sample4.x")
    assert trace.recompute("epoch1.sample4.w_new", {"epoch1.sample4.error": 0}).tolist() == [0, 0]
    assert trace.recompute("epoch1.sample4.w_new", {"lr": 0.1}).tolist() == pytest.approx([0.1, 0.1])
    assert trace.expand("epoch1.sample4.w_new", (0,)) == "epoch1.sample4.w_new[0] = 0 + 1×1×1 = 1"
    assert float(trace.display("epoch1.errors")) == 2
    assert [t.title for t in trace.tables] == ["Perceptron on data: every sample (η = 1)",
                                              "Perceptron on data: epoch by epoch"]
    assert trace.tables[1].rows[0] == [1, [0.0, 0.0], 0.0, 2, [1.0, 1.0], 0.0]


def test_perceptron_without_cycle_does_not_claim_inseparable():
    # AND needs 6 epochs; stopped after 2 it has not converged, and (w, b) has not repeated.
    trace = perceptron(AND_DATA, max_epochs=2)
    assert trace.info["converged"] is False
    assert trace.info["linearly_separable"] is None
    assert not any("not linearly separable" in n for n in trace.notes)


# Every Boolean function of two inputs is linearly separable except XOR and XNOR (the classic result).
@pytest.mark.parametrize("table", [[(k >> (3 - j)) & 1 for j in range(4)] for k in range(16)])
def test_every_two_input_function(table):
    data = [[0, 0, table[0]], [0, 1, table[1]], [1, 0, table[2]], [1, 1, table[3]]]
    trace = perceptron(data, max_epochs=100)
    separable = table not in ([0, 1, 1, 0], [1, 0, 0, 1])
    assert trace.info["converged"] is separable
    assert trace.info["linearly_separable"] is separable
    if separable:
        assert trace.display("after.yhat").tolist() == table


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-2, 2), min_size=3, max_size=3), st.integers(-3, 3),
       st.floats(0.1, 2.0), st.sampled_from([0, 1]))
def test_perceptron_converges_on_any_threshold_function(u, c, lr, at_zero):
    # Labels from a threshold unit y = 1[u·x ≥ c + 0.5] over all 3-bit inputs: separable with margin,
    # so by the convergence theorem the rule must stop with every sample right.
    xs = [[(k >> 2) & 1, (k >> 1) & 1, k & 1] for k in range(8)]
    data = [x + [int(np.dot(u, x) >= c + 0.5)] for x in xs]
    trace = walk({"kind": "perceptron", "data": data, "w": [0, 0, 0], "b": 0, "learning_rate": lr,
                  "max_epochs": 1000, "step_at_zero": at_zero})
    assert trace.info["converged"] is True
    assert trace.display("after.yhat").tolist() == [row[-1] for row in data]


@pytest.mark.parametrize("change, field", [
    ({"data": None}, "data"),
    ({"data": [[0, 0, 0], [1, 1]]}, "row 2"),
    ({"data": [[0, 0, 2]]}, "0 or 1"),
    ({"data": [[0, float("inf"), 1]]}, "data row 1"),
    ({"w": [0]}, "'w'"),
    ({"w": None}, "'w'"),
    ({"b": "zero"}, "'b'"),
    ({"learning_rate": -1}, "learning_rate"),
    ({"max_epochs": 0}, "max_epochs"),
    ({"max_epochs": 2.5}, "max_epochs"),
    ({"step_at_zero": 0.5}, "step_at_zero"),
    ({"epochs": 3}, "epochs"),
])
def test_perceptron_bad_input_names_the_field(change, field):
    spec = {"kind": "perceptron", "data": AND_DATA, "w": [0, 0], "b": 0, "learning_rate": 1}
    spec.update(change)
    spec = {k: v for k, v in spec.items() if v is not None}
    with pytest.raises(NNTError) as err:
        walk(spec)
    assert field in str(err.value)
    assert "\n" not in str(err.value)


def test_perceptron_trace_to_dict_is_json_ready():
    import json

    out = json.loads(json.dumps(perceptron(OR_DATA).to_dict()))
    assert out["converged"] is True and out["epochs"] == 4
    ids = [s["id"] for s in out["steps"]]
    assert ids[:5] == ["x", "y", "w", "b", "lr"]
    assert ids[-2:] == ["after.z", "after.yhat"]
