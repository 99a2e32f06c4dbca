"""The Python API (nn_tutor.load_spec, walk, render, check, ask) and its notebook display, used from a
folder that is not the checkout, as a student's notebook would."""
from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

import nn_tutor as nnt


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


@pytest.fixture(autouse=True)
def elsewhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no examples/ here: the shipped ones are found


def test_walk_the_r2_example_by_its_name_and_read_the_numbers():
    w = nnt.walk("examples/r2_two_layer_sigmoid.yaml")
    # by hand: z1 = W1·x + b1 = [0.15·0.5 + 0.2·0.8 + 0.35, 0.25·0.5 + 0.3·0.8 + 0.35]
    z1 = [0.15 * 0.5 + 0.2 * 0.8 + 0.35, 0.25 * 0.5 + 0.3 * 0.8 + 0.35]
    a1 = [sigmoid(z) for z in z1]
    y_hat = sigmoid(0.4 * a1[0] + 0.45 * a1[1] + 0.6)
    np.testing.assert_allclose(w["L1.z"], z1, rtol=1e-12)
    assert w.loss == pytest.approx(0.5 * (y_hat - 1) ** 2, rel=1e-12)
    assert w["L2.delta"][0] == pytest.approx((y_hat - 1) * y_hat * (1 - y_hat), rel=1e-12)
    assert "L1.z" in w.steps and repr(w).startswith("<Walkthrough 'R2")
    assert "L1.dW[1][0] = (-0.0043)×0.5 = -0.0022" in w.step("L1.dW")


def test_specs_from_a_dict_and_from_yaml_text_give_the_same_walk():
    spec = {"input": [1.0], "target": [2.0], "loss": "half_sse", "learning_rate": 0.5,
            "layers": [{"dense": {"W": [[0.5]], "b": [0.0], "activation": "linear"}}]}
    text = "input: [1.0]\ntarget: [2.0]\nloss: half_sse\nlearning_rate: 0.5\n" \
           "layers:\n  - dense: {W: [[0.5]], b: [0.0], activation: linear}\n"
    a, b = nnt.walk(spec), nnt.walk(text)
    assert a.loss == b.loss == pytest.approx(0.5 * (0.5 - 2.0) ** 2)
    assert nnt.load_spec(spec) == spec and nnt.load_spec(spec) is not spec
    assert nnt.walk(spec, only="update").steps[:2] == ["L1.W_new", "L1.b_new"]


def test_notebook_display_is_markdown_with_typeset_maths_and_latex():
    w = nnt.walk("examples/r2_two_layer_sigmoid.yaml", only="backward")
    md = w._repr_markdown_()
    assert md.startswith("# R2") and "## Backpropagation" in md and "## Forward pass" not in md
    assert "$$\n\\begin{aligned}\n\\frac{\\partial L}{\\partial W_{2}}&=" in md
    tex = w._repr_latex_()
    assert tex.startswith("$$\\begin{aligned}") and tex.isascii() and tex.count("$$") % 2 == 0
    assert "\\texttt{[L2.dW]}" in tex


def test_render_formats_and_save(tmp_path):
    w = nnt.walk("examples/r6_one_neuron.yaml")
    assert nnt.render(w) == str(w) and nnt.render(w, "markdown").startswith("# ")
    data = json.loads(nnt.render("examples/r6_one_neuron.yaml", "json"))
    assert data["steps"][0]["id"] == "x"
    w.save(str(tmp_path / "w.tex"))
    assert (tmp_path / "w.tex").read_text().startswith("\\documentclass")
    with pytest.raises(nnt.NNTError, match="unknown format 'pdf'"):
        nnt.render(w, "pdf")


def test_check_homework_text_or_file_with_a_notebook_table():
    report = nnt.check("examples/homework/r2_wrong.md", "examples/r2_two_layer_sigmoid.yaml")
    wrong = [c for c in report.claims if c.verdict == "wrong"]
    # line 6 of the sample: 0.075 + 0.16 + 0.35 is 0.585, not 0.595
    assert not report.ok and any(c.line == 6 and c.expected == pytest.approx(0.585) for c in wrong)
    assert report._repr_markdown_().startswith("### examples/homework/r2_wrong.md")
    assert "✗ wrong" in str(report)
    one = nnt.check("z = 0.15×0.5 + 0.2×0.8 + 0.35 = 0.595")
    assert [c.verdict for c in one.claims] == ["wrong"] and one.claims[0].expected == pytest.approx(0.585)


def test_ask_answers_offline_with_citations():
    answer = nnt.ask("what is RAG?", offline=True)
    assert answer.citations[0] == "rag" and str(answer).startswith("**")
    assert answer._repr_markdown_() == answer.text and not answer.notices
    assert nnt.list_examples()[:1] == ["examples/conv_two_filters.yaml"]


def test_bad_input_is_one_line_nnterror():
    with pytest.raises(nnt.NNTError, match="spec file 'missing.yaml' not found"):
        nnt.walk("missing.yaml")
    with pytest.raises(nnt.NNTError, match="only must be forward, loss, backward or update"):
        nnt.walk("examples/r6_one_neuron.yaml", only="sideways")


def test_importing_the_package_is_cheap_and_a_students_tools_py_cannot_shadow_it(tmp_path):
    for name in ("tools.py", "agent.py", "engine.py"):
        (tmp_path / name).write_text("raise SystemExit('the student file was imported')\n")
    probe = ("import sys, nn_tutor; heavy = [m for m in ('numpy', 'langchain_core', 'langgraph') if m in sys.modules]; "
             "w = nn_tutor.walk('examples/r6_one_neuron.yaml'); print(heavy, w.steps[0])")
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[] x"
