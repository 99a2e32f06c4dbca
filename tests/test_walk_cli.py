"""`nnt walk` as users run it: formats, options, and one-line errors with exit code 2 on bad input."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nn_tutor.agent.cli import main
from specs import R2_YAML

ROOT = Path(__file__).resolve().parent.parent
R2 = str(ROOT / "examples" / "r2_two_layer_sigmoid.yaml")
GOOD = R2_YAML


def walk_cli(capsys, *args):
    code = main(["walk", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_text_walkthrough_shows_formula_numbers_result_and_shapes(capsys):
    code, out, _ = walk_cli(capsys, R2)
    assert code == 0
    assert "z1 = W1·x + b1" in out
    assert "= [[0.15, 0.2], [0.25, 0.3]]·[0.5, 0.8] + [0.35, 0.35]" in out
    assert "L1.z[0] = 0.15×0.5 + 0.2×0.8 + 0.35 = 0.585" in out   # 0.075 + 0.16 + 0.35
    assert "shape (2, 2)" in out
    for heading in ("Forward pass", "Loss", "Backpropagation", "Gradient-descent update",
                    "Forward pass with the updated parameters"):
        assert heading in out
    assert "went down" in out


def test_only_and_precision(capsys):
    _, out, _ = walk_cli(capsys, R2, "--only", "forward", "--precision", "6")
    assert "Backpropagation" not in out and "[L2.a]" in out
    assert "0.585" in out and "0.642217" in out  # σ(0.585) = 0.6422170...


def test_json_has_steps_with_dependencies(capsys):
    _, out, _ = walk_cli(capsys, R2, "--format", "json")
    data = json.loads(out)
    steps = {s["id"]: s for s in data["steps"]}
    assert steps["L1.z"]["inputs"] == ["L1.W", "x", "L1.b"]
    assert steps["L1.z"]["value"] == pytest.approx([0.585, 0.715])
    assert steps["L2.dW"]["shape"] == [1, 2]
    assert data["loss"] > data["loss_after"]


def test_markdown_and_latex_and_out_file(capsys, tmp_path):
    md = tmp_path / "r2.md"
    code, _, err = walk_cli(capsys, R2, "--format", "markdown", "--out", str(md))
    assert code == 0 and "wrote" in err
    text = md.read_text()
    assert text.startswith("# ") and "## Backpropagation" in text and "```" in text
    _, tex, _ = walk_cli(capsys, R2, "--format", "latex")
    assert tex.startswith("\\documentclass") and "\\end{document}" in tex and tex.isascii()
    # maths, not escaped text: ∂L/∂W2 as a fraction, W1 as a matrix, σ′ as \sigma
    assert r"\frac{\partial L}{\partial W_{2}}" in tex
    assert r"W_{1} &= \begin{bmatrix}0.15 & 0.2 \\ 0.25 & 0.3\end{bmatrix}" in tex
    assert r"\sigma(z)\cdot(1-\sigma(z))" in tex


def test_iterations_table_curve_and_plot(capsys, tmp_path):
    png = tmp_path / "loss.png"
    code, out, _ = walk_cli(capsys, str(ROOT / "examples" / "r1_house_prices_slow.yaml"),
                            "--iterations", "50", "--plot", str(png))
    assert code == 0
    assert "Training for 50 iterations" in out and "Loss curve" in out and "Closed-form" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_step_view_writes_every_element(capsys):
    _, out, _ = walk_cli(capsys, R2, "--step", "L1.dW")
    assert out.count("L1.dW[") == 4


def test_gradcheck_passes(capsys):
    code, out, _ = walk_cli(capsys, R2, "--gradcheck")
    assert code == 0 and "all gradients agree" in out and "MISMATCH" not in out


BAD = [
    ("shape", GOOD.replace("[[0.40, 0.45]]", "[[0.40, 0.45, 0.5]]"),
     ["layer 2", "(1, 3)", "(1, 2)"]),
    ("activation", GOOD.replace("activation: sigmoid}\n  - dense", "activation: sigmoidd}\n  - dense"),
     ["layer 1", "sigmoidd", "relu"]),
    ("missing", GOOD.replace("input: [0.5, 0.8]\n", ""), ["input"]),
    ("nan", GOOD.replace("0.35, 0.35", "0.35, .nan"), ["NaN", "layer 1"]),
    ("inf", GOOD.replace("0.60", ".inf"), ["infinity", "layer 2"]),
    ("empty", "", ["empty"]),
    ("bias", GOOD.replace("b: [0.35, 0.35]", "b: [0.35, 0.35, 1]"), ["layer 1", "3 values", "2"]),
    ("target", GOOD.replace("target: [1]", "target: [1, 0]"), ["target", "outputs 1"]),
    ("yaml", "input: [0.5\nlayers: x", ["invalid YAML", "line"]),
    ("ragged", GOOD.replace("[[0.15, 0.20], [0.25, 0.30]]", "[[0.15, 0.20], [0.25]]"), ["layer 1", "ragged"]),
    ("unknown layer", GOOD.replace("- dense: {W: [[0.40", "- dens: {W: [[0.40"), ["layer 2", "dens"]),
]


@pytest.mark.parametrize("name,text,words", BAD, ids=[b[0] for b in BAD])
def test_bad_input_one_line_exit_2(capsys, tmp_path, name, text, words):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    code, out, err = walk_cli(capsys, str(path))
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nnt: error: ")
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0], (word, lines[0])


def test_missing_file_and_whole_process_has_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "nn_tutor.agent.cli", "walk", str(tmp_path / "nope.yaml")],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "not found" in proc.stderr and "Traceback" not in proc.stderr


def test_convention_errors(capsys):
    code, _, err = walk_cli(capsys, R2, "--convention", "maxpool_ties=random")
    assert code == 2 and "maxpool_ties" in err and "first" in err


CONV_BAD = [
    ("softmax conv", {"conv2d": {"filters": [[1, 0], [0, 1]], "activation": "softmax"}}, ["layer 1", "softmax"]),
    ("huge padding", {"conv2d": {"filters": [[1, 0], [0, 1]], "padding": 100000}}, ["layer 1", "padding", "limit"]),
]


@pytest.mark.parametrize("name,layer,words", CONV_BAD, ids=[c[0] for c in CONV_BAD])
def test_conv_spec_errors_are_one_line(capsys, tmp_path, name, layer, words):
    import json as _json
    path = tmp_path / "bad.json"
    path.write_text(_json.dumps({"input": [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]],
                                 "layers": [layer, {"flatten": {}}]}))
    code, _, err = walk_cli(capsys, str(path))
    assert code == 2 and err.count("\n") == 1
    for word in words:
        assert word in err


def test_image_whose_first_layer_is_an_activation(capsys, tmp_path):
    path = tmp_path / "img.yaml"
    path.write_text("input: [[0.1, -0.2], [0.3, 0.4]]\nlayers:\n  - activation: relu\n  - maxpool: {size: 2}\n"
                    "  - flatten: {}\n")
    code, out, _ = walk_cli(capsys, str(path), "--format", "json")
    assert code == 0
    steps = {s["id"]: s for s in json.loads(out)["steps"]}
    assert steps["L2.a"]["value"] == [[[0.4]]]   # max of relu([0.1, -0.2, 0.3, 0.4]) = 0.4
