"""The LaTeX export is LaTeX maths (\\frac, bmatrix, \\sigma, \\partial), plain ASCII, and pdflatex
compiles it: every shipped example is compiled for real."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from reference import EX

from nn_tutor.agent import latex
from nn_tutor.agent.cli import main
from nn_tutor.agent.render import render_step, render_trace
from nn_tutor.engine.kinds import WalkOptions, walk
from nn_tutor.engine.spec import load_spec

SPECS = sorted(p for p in EX.rglob("*.yaml") if "homework" not in p.parts)


@pytest.mark.parametrize("formula, expected", [
    ("z1 = W1·x + b1", r"z_{1}=W_{1}\cdot x+b_{1}"),
    ("a2 = sigmoid(z2) = 1 / (1 + e^(−z))", r"a_{2}=\operatorname{sigmoid}(z_{2})=\frac{1}{1+e^{-z}}"),
    ("∂L/∂W2 = δ2·a1ᵀ", r"\frac{\partial L}{\partial W_{2}}=\delta_{2}\cdot a_{1}^{\top}"),
    ("L = ½·Σ_k (ŷ_k − y_k)²", r"L=\tfrac{1}{2}\cdot\sum_{k}(\hat{y}_{k}-y_{k})^{2}"),
    ("∂L/∂w³₁₁ = ∂L/∂ŷ₁ · linear′(z3₁)",
     r"\frac{\partial L}{\partial w_{11}^{3}}=\frac{\partial L}{\partial \hat{y}_{1}}\cdot\operatorname{linear}'(z_{3,1})"),
    ("x⁽1⁾", "x^{(1)}"),
    ("‖q‖ = √Σ q²", r"\|q\|=\sqrt{\sum q^{2}}"),
    ("S / √d_k", r"\frac{S}{\sqrt{d_{k}}}"),
    ("f′(z) = 1 if z > 0 else 0", r"f'(z)=1\text{ if }z>0\text{ else }0"),
    ("L1.z[0] = 5.551e-17", r"\mathtt{L1.z[0]}=5.551\times 10^{-17}"),
])
def test_formulas_become_latex_maths(formula, expected):
    assert latex.math(formula) == expected


def test_operands_are_matrices_and_columns():
    assert latex.array([[0.15, 0.2], [0.25, 0.3]]) == r"\begin{bmatrix}0.15 & 0.2 \\ 0.25 & 0.3\end{bmatrix}"
    assert latex.array([0.5, 0.8]) == r"\begin{bmatrix}0.5 \\ 0.8\end{bmatrix}"
    assert latex.math("{0}ᵀ·{1}", {"{0}": "A", "{1}": "B"}) == r"{A}^{\top}\cdot{B}"
    assert latex.array(list(range(12)))[:12] == r"\begin{bmatr"
    assert latex.array([list(range(12))]).startswith(r"\left[\begin{smallmatrix}")  # wider than 10 columns
    assert latex.array([[1.0] * 30] * 20, limit=400) == r"[20\times 30\ \text{array}]"


def test_prose_keeps_words_as_text_and_sets_the_maths():
    assert latex.prose("Loss: 0.0285 → after one update") == r"Loss: 0.0285 $\to$ after one update"
    assert latex.prose("Sigmoid + BCE: δ2 = ŷ − y (the σ′ factor cancels).") == \
        r"Sigmoid $+$ BCE: $\delta_{2}=\hat{y}-y$ (the $\sigma'$ factor cancels)."
    assert latex.prose("w5 = L2.W[0][0], 100% café — 🚀") == \
        r"$w_{5}=$ \texttt{L2.W[0][0]}, 100\% cafe --- [U+1F680]"


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_every_example_exports_plain_ascii_latex_maths(path):
    tex = render_trace(walk(load_spec(path), WalkOptions()), "latex")
    assert tex.isascii() and tex.startswith(r"\documentclass") and tex.rstrip().endswith(r"\end{document}")
    assert "\\begin{align*}" in tex and tex.count("\\begin{align*}") == tex.count("\\end{align*}")


def _pdflatex():
    found = shutil.which("pdflatex")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("pdflatex is missing: .ci/run installs Debian's texlive-latex-base")
        pytest.skip("pdflatex is not installed here (apt-get install texlive-latex-base); CI runs this test")
    return found


def assert_compiles(tex: str, folder, name: str) -> None:
    (folder / f"{name}.tex").write_text(tex, encoding="ascii")
    done = subprocess.run([_pdflatex(), "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
                          cwd=folder, capture_output=True, text=True, timeout=120)
    errors = [ln for ln in done.stdout.splitlines() if ln.startswith("!")]
    assert done.returncode == 0 and not errors, (name, errors, done.stdout[-1500:])
    assert (folder / f"{name}.pdf").stat().st_size > 1000


def test_pdflatex_compiles_every_example_trained_and_one_step(tmp_path):
    _pdflatex()
    for path in SPECS:
        spec = load_spec(path)
        trainable = spec.get("learning_rate") is not None and spec.get("kind", "network") == "network"
        trace = walk(spec, WalkOptions(iterations=30 if trainable else 1))
        assert_compiles(render_trace(trace, "latex"), tmp_path, path.stem)
    r2 = walk(load_spec(EX / "r2_two_layer_sigmoid.yaml"), WalkOptions())
    assert_compiles(render_step(r2, "L1.dW", 4, "latex"), tmp_path, "step")


def test_cli_latex_and_chat_export_compile(tmp_path, capsys, monkeypatch):
    import io

    out = tmp_path / "r3.tex"
    assert main(["walk", "examples/r3_cnn_edge.yaml", "--format", "latex", "--out", str(out)]) == 0
    assert_compiles(out.read_text(), tmp_path, "r3")
    monkeypatch.setattr("sys.stdin", io.StringIO(f"/load examples/r5_dog_cat_softmax_mse.yaml\n"
                                                f"/export {tmp_path / 'r5.tex'}\n"))
    assert main(["chat", "--offline"]) == 0
    assert_compiles((tmp_path / "r5.tex").read_text(), tmp_path, "r5")
