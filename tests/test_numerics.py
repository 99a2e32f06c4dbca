"""Numbers that should not be shown are not: divergence stops training with the fix, nothing non-finite
reaches the screen or JSON, probability losses need probabilities, and rounding noise sits at a kink."""
from __future__ import annotations

import json
import math
from decimal import Decimal

import numpy as np
import pytest
from reference import EX

from nn_tutor.agent.cli import main
from nn_tutor.agent.render import ascii_curve, log_scale, render_trace
from nn_tutor.engine.errors import NNTError
from nn_tutor.engine.kinds import WalkOptions, walk
from nn_tutor.engine.spec import load_spec

R1 = load_spec(EX / "r1_house_prices.yaml")


def _first_non_finite_iteration(spec: dict, iterations: int) -> tuple[int | None, float]:
    """Plain-Python gradient descent on ŷ = w·x + b with the mean squared error (the independent route):
    the first iteration whose loss is not finite, and the last finite loss."""
    xs = [row[0] for row in spec["input"]]
    ys = [row[0] for row in spec["target"]]
    w, b, eta, n = spec["layers"][0]["dense"]["W"][0][0], spec["layers"][0]["dense"]["b"][0], \
        spec["learning_rate"], len(xs)
    last = None
    for it in range(iterations + 1):
        errors = [w * x + b - y for x, y in zip(xs, ys)]
        loss = sum(e * e for e in errors) / n          # e*e overflows to inf where e**2 would raise
        if not math.isfinite(loss):
            return it, last
        last = loss
        w, b = w - eta * 2 / n * sum(e * x for e, x in zip(errors, xs)), b - eta * 2 / n * sum(errors)
    return None, last


def test_training_stops_at_the_first_non_finite_loss_and_names_the_fix():
    expected_stop, last_loss = _first_non_finite_iteration(R1, 500)
    assert expected_stop is not None
    trace = walk(R1, WalkOptions(iterations=500))
    stopped = trace.info["stopped"]
    assert stopped["iteration"] == expected_stop and stopped["loss"] in ("infinite", "NaN")
    history = trace.info["loss_history"]
    assert len(history) == expected_stop and np.all(np.isfinite(history))
    assert history[-1] == pytest.approx(last_loss, rel=1e-9)
    table = trace.tables[0]
    assert table.rows[-1][0] == expected_stop - 1  # the last finite iteration closes the table
    assert f"stopped at iteration {expected_stop} of 500" in stopped["message"]
    assert "--lr 0.001" in stopped["message"] and stopped["message"] in trace.notes


def test_a_diverging_run_exits_1_with_the_reason_and_json_holds_no_nan(capsys, tmp_path):
    expected_stop, _ = _first_non_finite_iteration(R1, 500)
    out = tmp_path / "r1.json"
    code = main(["walk", str(EX / "r1_house_prices.yaml"), "--iterations", "500", "--format", "json",
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and f"Training stopped at iteration {expected_stop} of 500" in err

    def refuse(constant):
        raise AssertionError(f"{constant} in the JSON")

    data = json.loads(out.read_text(), parse_constant=refuse)  # NaN, Infinity, -Infinity are refused
    assert data["stopped"]["iteration"] == expected_stop and len(data["loss_history"]) == expected_stop


def test_the_slow_example_trains_without_stopping(capsys):
    assert main(["walk", str(EX / "r1_house_prices_slow.yaml"), "--iterations", "500"]) == 0
    assert "(log scale)" in capsys.readouterr().out


@pytest.mark.parametrize("weights, inputs, lr, fragment", [
    ([[1e200]], [1e200], 0.1, "step L1.z (pre-activation of layer 1 (weighted sum plus bias)) is infinite"),
    ([[1e200]], [1e200], 0.1, "scale the inputs or weights down"),
    ([[1.0]], [3.0], 1e308, "use a smaller learning rate, e.g. --lr 1e+306"),
])
def test_no_step_is_shown_infinite(weights, inputs, lr, fragment):
    spec = {"input": inputs, "target": [0], "loss": "half_sse", "learning_rate": lr,
            "layers": [{"dense": {"W": weights, "b": [0], "activation": "linear"}}]}
    with pytest.raises(NNTError, match=fragment.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
        walk(spec, WalkOptions())


@pytest.mark.parametrize("loss, activation, fix", [
    ("bce", "tanh", "(−1, 1); make it activation: sigmoid"),
    ("bce", "linear", "any real number; make it activation: sigmoid"),
    ("bce", "step", "exactly 0 or 1"),
    ("cross_entropy", "relu", "[0, ∞); make it activation: softmax"),
])
def test_probability_losses_need_probability_outputs(loss, activation, fix):
    spec = {"input": [0.5, -1.0], "target": [1, 0], "loss": loss,
            "layers": [{"dense": {"W": [[1, 2], [3, 4]], "b": [0, 0], "activation": activation}}]}
    with pytest.raises(NNTError, match=f"{loss} takes probabilities in \\(0, 1\\)") as info:
        walk(spec, WalkOptions())
    assert fix in str(info.value)


def test_probability_outputs_are_accepted_however_written(capsys, monkeypatch):
    """sigmoid as a layer of its own after a linear dense layer, and --loss bce on a sigmoid network."""
    spec = {"input": [0.5, -1.0], "target": [1], "loss": "bce",
            "layers": [{"dense": {"W": [[1, 2]], "b": [0]}}, {"activation": "sigmoid"}]}
    assert 0 < walk(spec, WalkOptions()).display("loss") < 10
    assert main(["walk", str(EX / "r2_two_layer_sigmoid.yaml"), "--loss", "bce"]) == 0
    linear = '{"input": [0.5], "target": [1], "layers": [{"dense": {"W": [[2]], "b": [0]}}], "loss": "half_sse"}'
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(linear))   # nnt walk - reads stdin
    assert main(["walk", "-", "--loss", "bce"]) == 2
    assert "bce takes probabilities in (0, 1), but the last layer's activation is linear" in capsys.readouterr().err


def test_bce_on_tanh_prints_no_log_of_a_negative_number(capsys):
    path = EX / "r2_two_layer_sigmoid.yaml"
    text = path.read_text().replace("activation: sigmoid}]", "activation: tanh}]")
    spec = load_spec(path)
    spec["layers"][-1]["dense"]["activation"] = "tanh"
    spec["loss"] = "bce"
    with pytest.raises(NNTError):
        walk(spec, WalkOptions())
    assert "ln(−" not in text


def test_rounding_noise_sits_at_relus_kink_and_shows_as_zero():
    # 0.1 + 0.2 − 0.3 is 0 in decimal arithmetic; float64 makes it 5.55e-17
    assert Decimal("0.1") + Decimal("0.2") - Decimal("0.3") == 0 and 0.1 + 0.2 - 0.3 != 0
    spec = {"input": [0.1, 0.2], "target": [1], "loss": "half_sse", "learning_rate": 0.1,
            "layers": [{"dense": {"W": [[1, 1]], "b": [-0.3], "activation": "relu"}}]}
    trace = walk(spec, WalkOptions())
    assert trace.display("L1.z")[0] == 0.0
    assert trace.display("L1.dadz")[0] == 0.0          # relu′(0) = 0, the convention shown
    text = render_trace(trace)
    assert "e-17" not in text and "z1 = W1·x + b1\n    = [[1, 1]]·[0.1, 0.2] + [-0.3]\n    = [0]" in text


def test_a_genuinely_tiny_sum_is_not_moved_to_the_kink():
    spec = {"input": [1e-20], "target": [1], "loss": "half_sse",
            "layers": [{"dense": {"W": [[1]], "b": [0], "activation": "relu"}}]}
    trace = walk(spec, WalkOptions())
    assert trace.display("L1.z")[0] == 1e-20 and trace.display("L1.dadz")[0] == 1.0


def test_conv_sums_within_rounding_noise_sit_at_the_kink():
    # one 1×3 filter [1, 1, −1] over [0.1, 0.2, 0.3]: 0.1 + 0.2 − 0.3, zero in exact decimal arithmetic
    spec = {"input": [[0.1, 0.2, 0.3]], "target": [1], "loss": "half_sse",
            "layers": [{"conv2d": {"filters": [[1, 1, -1]], "bias": [0], "activation": "relu"}},
                       {"flatten": {}}, {"dense": {"W": [[1]], "b": [0]}}]}
    trace = walk(spec, WalkOptions())
    assert trace.display("L1.z").ravel()[0] == 0.0 and trace.display("L1.dadz").ravel()[0] == 0.0


def test_the_terminal_curve_uses_a_log_scale_when_the_loss_spans_decades():
    decades = [1000.0 * 0.5 ** k for k in range(40)]   # 1000 down to about 1.8e-9
    curve = ascii_curve(decades, width=40, height=9)
    lines = curve.splitlines()
    assert "(log scale)" in lines[-1] and log_scale(decades)
    assert lines[0].lstrip().startswith("1000 │")
    bottom = 1000.0 * 0.5 ** 39
    assert float(lines[8].split("│")[0]) == pytest.approx(bottom, rel=1e-3)
    middle = 10 ** ((math.log10(1000.0) + math.log10(bottom)) / 2)   # the geometric mean, halfway up
    assert float(lines[4].split("│")[0]) == pytest.approx(middle, abs=5e-5)  # shown with 4 decimals
    # each point sits on the row of its log10: equal ratios make a straight line
    rows = [next(r for r, line in enumerate(lines[:9]) if line.split("│")[1][c] == "•") for c in range(0, 40, 13)]
    assert rows == sorted(rows) and rows[0] == 0 and rows[-1] >= 6
    flat = [5.0, 4.0, 3.5, 3.2]
    assert not log_scale(flat) and "(log scale)" not in ascii_curve(flat)
    assert not log_scale([1.0, 0.0])   # a loss that reaches 0 has no log scale


def test_a_causal_mask_keeps_its_minus_infinity_but_json_stays_json():
    """A mask sets future scores to −∞ by definition: shown as −∞, written to JSON as the string "-inf"."""
    spec = {"kind": "attention", "Q": [[1, 0], [0, 1]], "K": [[1, 0], [0, 1]], "V": [[1, 2], [3, 4]], "causal": True}
    trace = walk(spec, WalkOptions())
    data = json.loads(render_trace(trace, "json"), parse_constant=lambda c: pytest.fail(f"{c} in the JSON"))
    masked = next(s for s in data["steps"] if s["id"] == "S_masked")["value"]
    assert masked[0][1] == "-inf" and masked[1][0] == 0.0
    assert r"-\infty" in render_trace(trace, "latex")
    # softmax of the masked row gives the future position weight 0: row 0 attends only to itself
    assert trace.display("A")[0].tolist() == [1.0, 0.0]
