"""Hand-written submissions in twelve notations, each checked against an answer key written by hand.

Every sample under tests/data/notation/ is one student's working on a reference network of
examples/: mostly right, one or two deliberate mistakes, and steps that follow from a mistake. The key
gives the verdict of every number the student claims, derived by hand in the comments; the true value
of each wrong number comes from notation_truth.py, a few lines of NumPy per network that read only the
spec's givens (never the engine). Tolerance as the checker states it: a written number stands for
every value within half a unit of its last decimal (at least 2 decimals counted; whole numbers exact).
  correct   within that of the true value
  rounding  not, but within it of the computation from the student's own right (rounded) numbers
  carried   computed correctly from an earlier wrong number of the student's
  wrong     the mistake itself
Where the checker disagrees with the key, the case is a strict xfail whose reason says what it does.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from nn_tutor.engine.spec import load_spec
from nn_tutor.tools.homework import check_text
from notation_truth import R1, R2, R6, R8, R9, R10, R11, sigmoid

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data" / "notation"


# ---------------------------------------------------------------- the keys

@dataclass(frozen=True)
class Key:
    """The verdict of one claimed number: its line, its value, and where on the line when it repeats."""

    line: int
    value: float
    verdict: str
    true: float | None = None   # for a wrong number: its true value (from the recomputations above)
    after: str = ""             # the claim is the first with this value after this text on the line
    cell: int = 0               # in a Markdown table row: the column, counted from 1
    xfail: str = ""             # a disagreement with the checker, kept visible


def ok(line, value, **kw):
    return Key(line, value, "correct", **kw)


def rounding(line, value, **kw):
    return Key(line, value, "rounding", **kw)


def carried(line, value, **kw):
    return Key(line, value, "carried", **kw)


def wrong(line, value, true, **kw):
    return Key(line, value, "wrong", true=float(true), **kw)


@dataclass(frozen=True)
class Sample:
    """One submission under tests/data/notation/, the spec it answers, and its key."""

    file: str
    spec: str
    keys: tuple[Key, ...]
    decimal_comma: bool = False
    stray_wrong: str = ""       # xfail reason when the checker calls a number outside the key wrong


SAMPLES = [
    # 1. Plain text, per-neuron names. True: net_h = [0.585, 0.715], out_h = [0.642217, 0.671505],
    # net_o = 1.159064, out_o = 0.761163, E = 0.028522, σ′(net_o) = 0.181794.
    Sample("01_plain_names_r2.txt", "r2_two_layer_sigmoid.yaml", (
        ok(2, 0.585), ok(3, 0.6422), ok(4, 0.715), ok(5, 0.6715),
        ok(6, 1.1591),                     # 0.4·0.6422 + 0.45·0.6715 + 0.6 = 1.159055; true 1.159064
        ok(7, 0.7612), ok(8, 0.0285),      # ½·0.2388² = 0.028513 and true 0.028522 both give 0.0285
        ok(10, -0.2388),
        wrong(11, 0.1881, R2["dsig_o"]),   # 0.7612·0.2388 = 0.181775: digits swapped
        carried(12, -0.0449),              # −0.2388·0.1881 = −0.044918; true −0.043419
        carried(13, -0.0288),              # −0.0449·0.6422 = −0.028835; true −0.027885
        carried(14, 0.4144),               # 0.40 + 0.5·0.0288 = 0.4144; true 0.413942
    )),
    # 2. Markdown table, row numbers, value and computation columns. R8: h = 2, ŷ = 7, E = 2,
    # ∂E/∂ŷ = 2, ∂E/∂w2 = 2·h = 4, ∂E/∂b2 = 2, ∂E/∂h = 2·w2 = 6, ∂E/∂w1 = 6; w2′ = 2.6, b2′ = 0.8, w1′ = 1.4.
    Sample("02_markdown_table_r8.md", "r8_linear_chain.yaml", (
        ok(5, 2, cell=3), ok(6, 7, cell=3), ok(7, 2, cell=3), ok(8, 2, cell=3), ok(9, 4, cell=3),
        wrong(10, 4, R8["d_b2"], cell=3),          # multiplied by h as for the weight
        ok(11, 2.6, cell=3),
        carried(12, 0.6, cell=3),                  # 1 − 0.1·4; true 0.8
        wrong(13, 5.2, R8["d_h"], cell=3),         # through the updated w2 = 2.6
        carried(14, 5.2, cell=3),                  # 5.2·x; true 6
        carried(15, 1.48, cell=3),                 # 2 − 0.1·5.2; true 1.4
    )),
    # 3. LaTeX align*. R2 as in 1, plus ∂E/∂w6 = δ_o·out_h2 = −0.029156, δ_h2 = −0.004310,
    # ∂E/∂w3 = δ_h2·x1 = −0.002155, w3′ = 0.251077.
    Sample("03_latex_align_r2.md", "r2_two_layer_sigmoid.yaml", (
        ok(4, 0.585), ok(5, 0.6422), ok(6, 0.715), ok(7, 0.6715), ok(8, 1.1591), ok(9, 0.7612),
        ok(10, 0.0285),
        ok(11, -0.0434),                   # −0.2388·0.1818 = −0.043414; true −0.043419
        rounding(12, -0.0291),             # −0.0434·0.6715 = −0.029143, but true −0.029156 is −0.0292
        wrong(13, -0.0195, R2["delta_h"][1]),   # σ′(net_h2) = 0.2206 left out: −0.0434·0.45
        carried(14, -0.00975),             # −0.0195·0.5; true −0.002155
        carried(15, 0.2549),               # 0.25 + 0.5·0.00975 = 0.254875; true 0.251077
    )),
    # 4. Unicode: σ, ŷ, δ, ⁽¹⁾, w₁₁, e⁻⁰·⁵⁸⁵. True δ_h1 = −0.003991, ∂E/∂w1 = −0.001995, w1′ = 0.150998.
    Sample("04_unicode_r2.txt", "r2_two_layer_sigmoid.yaml", (
        ok(2, 0.585), ok(3, 0.6422), ok(4, 0.715), ok(5, 0.6715), ok(6, 1.1591), ok(7, 0.7612),
        wrong(8, 0.0570, R2["E"]),          # 0.2388² = 0.057025: the ½ dropped
        ok(9, -0.0434),                     # −0.2388·0.7612·0.2388 = −0.043408
        wrong(10, -0.0045, R2["delta_h"][0]),   # w₁₂⁽²⁾ = 0.45 used for w₁₁⁽²⁾ = 0.40: −0.004488
        carried(11, -0.00225),              # −0.0045·0.5; true −0.001995
        carried(12, 0.1511),                # 0.15 + 0.5·0.00225 = 0.151125; true 0.150998
    )),
    # 5. Several equations on a line. R9 (x = 1, y = 2, w = b = 0, η = 0.5): ŷ = 0, E = 2, ∂E/∂ŷ = −2,
    # ∂E/∂w = ∂E/∂b = −2, w′ = b′ = 1; iteration 2: ŷ = 2, E = 0.
    Sample("05_one_line_r9.txt", "r9_one_weight_regression.yaml", (
        ok(2, 0, after="1 + 0 ="), ok(2, 2),
        wrong(3, 2, R9[0]["d_yhat"], after="∂E/∂ŷ ="),   # y − ŷ instead of ŷ − y
        carried(3, 2, after="2·1 ="),                   # ∂E/∂w = 2·x; true −2
        carried(3, 2, after="∂E/∂b ="),                 # true −2
        carried(4, -1, after="w ="), carried(4, -1, after="b ="),      # 0 − 0.5·2; true 1 and 1
        carried(5, -2, after="(−1) ="),                 # −1·1 − 1; true 2
        carried(5, 8, after="E ="),                     # ½(2 + 2)²; true 0
    )),
    # 6. Prose. R6: products 0.4, 0.21, 0.1; Σ = 0.71; z = 0.71 − 0.3 = 0.41; ReLU(0.41) = 0.41.
    Sample("06_prose_r6.txt", "r6_one_neuron.yaml", (
        ok(2, 0.4),
        ok(2, 0.21),
        ok(2, 0.1),
        ok(3, 0.71),
        wrong(4, 1.01, R6["z"]),                         # the bias −0.3 added as +0.3
        carried(5, 1.01, after="about"),                 # ReLU(1.01); true 0.41
    )),
    # 7. Decimal commas. R2 as in 1; out_h2 = 0,6715 written 0,6751, everything after it carried:
    # true net_o = 1,159064, out_o = 0,761163, E = 0,028522, ∂E/∂out = −0,238837, σ′ = 0,181794,
    # δ_o = −0,043419, ∂E/∂w5 = −0,027885, b3′ = 0,621710.
    Sample("07_decimal_comma_r2.txt", "r2_two_layer_sigmoid.yaml", (
        ok(2, 0.585), ok(3, 0.6422), ok(4, 0.715),
        wrong(5, 0.6751, R2["out_h"][1]),   # digits swapped
        carried(6, 1.1607),                 # 0,25688 + 0,303795 + 0,60 = 1,160675
        carried(7, 0.7615),                 # σ(1,1607) = 0,761460
        carried(8, 0.0284),                 # ½·0,2385² = 0,028441
        carried(9, -0.2385),
        carried(10, 0.1816),                # 0,7615·0,2385 = 0,181618
        carried(11, -0.0433),               # −0,2385·0,1816 = −0,043312
        carried(12, -0.0278),               # −0,0433·0,6422 = −0,027807
        carried(13, 0.62165),               # 0,60 + 0,02165
    ), decimal_comma=True),
    # 8. Primes and updated names: w2', b2_new, w1(new), b1+, h', y_hat', E'. R8 as in 2, and after the
    # step: h′ = 1.4 − 0.6 = 0.8, ŷ′ = 2.6·0.8 + 0.8 = 2.88, E′ = ½(2.88 − 5)² = 2.2472.
    Sample("08_primes_r8.txt", "r8_linear_chain.yaml", (
        ok(1, 2), ok(2, 7), ok(3, 2), ok(4, 2), ok(5, 4), ok(6, 2),
        ok(7, 6), ok(8, 6), ok(9, 6), ok(10, 2.6),
        wrong(11, 0.98, R8["new"]["b2"]),   # 0.1·2 taken as 0.02
        ok(12, 1.4), ok(13, -0.6),
        ok(14, 0.8, after="h'"),
        carried(14, 3.06),                  # 2.08 + 0.98; true 2.88
        carried(15, 1.8818),                # ½·1.94² = 1.8818; true 2.2472
    )),
    # 9. 1-based indices z1[1], W[1,2]. R10: z1 = [0.21, 0.47], ŷ = σ(0.487) = 0.619399, L = −ln ŷ = 0.479005,
    # dz2 = −0.380601, dW2 = [−0.079926, −0.178882], da1 = [−0.190300, −0.228360], dW1[2,1] = −0.114180,
    # W1[2,1]′ = 0.311418.
    Sample("09_one_based_r10.txt", "r10_relu_bce_matrix.yaml", (
        ok(2, 0.21), ok(3, 0.47), ok(4, 0.21), ok(4, 0.47), ok(5, 0.487), ok(6, 0.6194),
        wrong(7, 0.2080, R10["L"]),          # log₁₀ instead of ln
        ok(9, -0.3806),
        ok(10, -0.0799),
        ok(11, -0.1789),
        wrong(12, -0.1903, R10["da1"][1]),   # W2[1,1] = 0.5 used for W2[1,2] = 0.6
        carried(13, -0.1903, after="·1 ="),  # ReLU′(0.47) = 1; true −0.228360
        carried(14, -0.0952),                # −0.1903·0.5 = −0.09515 (the value of dW1[1,1], not [2,1])
        carried(15, 0.30952),                # 0.3 + 0.1·0.0952; true 0.311418
    )),
    # 10. The problem restated, then the work: the givens get no verdict (or correct). w6 copied as 0.54
    # into net_o; true net_o = 1.159064, out_o = 0.761163, E = 0.028522, ∂E/∂out = −0.238837,
    # σ′ = 0.181794, ∂E/∂w6 = −0.029156, w6′ = 0.464578, ∂E/∂b3 = −0.043419, b3′ = 0.621710.
    Sample("10_statement_r2.txt", "r2_two_layer_sigmoid.yaml", (
        ok(8, 0.585), ok(8, 0.6422), ok(9, 0.715), ok(9, 0.6715),
        wrong(10, 1.2195, R2["net_o"]),      # 0.25688 + 0.54·0.6715 + 0.6 = 1.21949
        carried(11, 0.7720),                 # σ(1.2195) = 0.771976
        carried(12, 0.0260),                 # ½·0.228² = 0.025992
        carried(13, -0.2280), carried(14, 0.1760),        # 0.772·0.228 = 0.176016
        carried(15, -0.0269),                # −0.228·0.176·0.6715 = −0.026946
        carried(16, 0.46345),                # 0.45 + 0.01345
        carried(17, -0.0401),                # −0.228·0.176 = −0.040128
        carried(18, 0.62005),                # 0.60 + 0.02005
    )),
    # 11. A batch sample by sample. R1: ŷ = [6, 8.5, 11, 13.5], e = ŷ − y = [−24, −36.5, −44, −56.5],
    # MSE = 1759.125, ∂L/∂w = (2/4)Σe·x = −1540, ∂L/∂b = (2/4)Σe = −80.5, w′ = 15.9, b′ = 1.805.
    Sample("11_batch_r1.txt", "r1_house_prices.yaml", (
        ok(2, 6, after="1 ="), ok(2, -24, after="30 ="), ok(2, 576),
        ok(3, 8.5, after="1 ="), ok(3, -36.5, after="45 ="), ok(3, 1332.25),
        ok(4, 11, after="1 ="),
        wrong(4, -34, R1["e"][2], after="55 ="),   # 11 − 55 slipped
        carried(4, 1156),                          # 34²; true 1936
        ok(5, 13.5, after="1 ="), ok(5, -56.5, after="70 ="), ok(5, 3192.25),
        carried(6, 1564.125),                      # 6256.5/4; true 1759.125
        carried(7, -1440),                         # ½(−240 − 547.5 − 680 − 1412.5); true −1540
        carried(8, -75.5),                         # ½(−151); true −80.5
        carried(9, 14.9), carried(10, 1.755),      # true 15.9 and 1.805
    )),
    # 12. A perceptron epoch as a Markdown table (cells: x1 x2 target | net output error | w1 w2 b).
    # True rows: (0, 1, −1 | 0, 0, −1), (−1, 0, 0 | 0, 0, −1), (−1, 0, 0 | 0, 0, −1), (−1, 0, 1 | 1, 1, 0).
    # Row 2 takes b = 0 (the start) instead of −1 in its net; the rest follows from that.
    Sample("12_perceptron_table_r11.md", "r11_perceptron_and.yaml", (
        ok(5, 0, cell=4), ok(5, 1, cell=5), ok(5, -1, cell=6), ok(5, 0, cell=7), ok(5, 0, cell=8), ok(5, -1, cell=9),
        wrong(6, 0, R11[1]["net"], cell=4),
        carried(6, 1, cell=5), carried(6, -1, cell=6),   # step(0), 0 − 1
        ok(6, 0, cell=7),                                          # w1 + (−1)·0 = 0
        carried(6, -1, cell=8),                  # 0 + (−1)·1; true 0
        carried(6, -2, cell=9),   # −1 − 1; true −1
        carried(7, -2, cell=4),                  # 0·1 − 1·0 − 2; true −1
        ok(7, 0, cell=5), ok(7, 0, cell=6), ok(7, 0, cell=7),
        carried(7, -1, cell=8), carried(7, -2, cell=9),  # true 0, −1
        carried(8, -3, cell=4),                  # 0 − 1 − 2; true −1
        ok(8, 0, cell=5), ok(8, 1, cell=6), ok(8, 1, cell=7),
        carried(8, 0, cell=8), carried(8, -1, cell=9),  # true 1, 0
    )),
]


# ---------------------------------------------------------------- finding a keyed claim in the report

def _text(sample: Sample) -> str:
    return (DATA / sample.file).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=None)
def _report(file: str):
    sample = next(s for s in SAMPLES if s.file == file)
    return check_text(_text(sample), load_spec(ROOT / "examples" / sample.spec))


def _scalar(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _find(sample: Sample, key: Key):
    """The claim the key is about, or None when the checker did not read it."""
    line_text = _text(sample).splitlines()[key.line - 1]
    start = line_text.index(key.after) if key.after else 0
    found = [c for c in _report(sample.file).claims
             if c.line == key.line and c.column >= start
             and _scalar(c.claimed) is not None and abs(_scalar(c.claimed) - key.value) <= 1e-9
             and (not key.cell or line_text[:c.column].count("|") == key.cell)]
    found.sort(key=lambda c: c.column)
    if not found:
        return None
    return found[0] if key.after or key.cell else found[-1]


def _numbers(line: str, decimal_comma: bool) -> list[float]:
    line = line.replace("−", "-")
    if decimal_comma:
        line = re.sub(r"(\d),(\d)", r"\1.\2", line)
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", line)]


def _cases():
    for sample in SAMPLES:
        for key in sample.keys:
            marks = [pytest.mark.xfail(strict=True, reason=key.xfail)] if key.xfail else []
            where = f"-c{key.cell}" if key.cell else (f"-after[{key.after}]" if key.after else "")
            yield pytest.param(sample, key, marks=marks, id=f"{sample.file[:2]}-L{key.line}-{key.value:g}{where}")


def _stray_cases():
    for sample in SAMPLES:
        marks = [pytest.mark.xfail(strict=True, reason=sample.stray_wrong)] if sample.stray_wrong else []
        yield pytest.param(sample, marks=marks, id=sample.file[:2])


# ---------------------------------------------------------------- the tests

@pytest.mark.parametrize("sample, key", list(_cases()))
def test_keyed_claim_gets_its_verdict(sample, key):
    claim = _find(sample, key)
    line = _text(sample).splitlines()[key.line - 1]
    assert claim is not None, f"no claim of {key.value:g} read on line {key.line}: {line!r}"
    assert claim.verdict == key.verdict, (claim.verdict, claim.rule, claim.expected, claim.misconception, line)
    if key.verdict == "wrong":
        assert _scalar(claim.expected) == pytest.approx(key.true, abs=1e-6), (claim.expected, key.true)


@pytest.mark.parametrize("sample", list(_stray_cases()))
def test_no_number_outside_the_key_is_wrong(sample):
    keyed = {id(_find(sample, key)) for key in sample.keys}
    stray = [(c.line, c.text, c.claimed, c.expected, c.rule) for c in _report(sample.file).claims
             if c.verdict == "wrong" and id(c) not in keyed]
    assert stray == []


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.file[:2])
def test_key_matches_the_written_text(sample):
    """Each keyed value stands on its line as written, and each sample holds one or two mistakes
    with at least one step carried from them."""
    lines = _text(sample).splitlines()
    for key in sample.keys:
        line = lines[key.line - 1]
        assert key.after in line and key.value in _numbers(line[line.index(key.after):], sample.decimal_comma), \
            (key, line)
    verdicts = [key.verdict for key in sample.keys]
    assert 1 <= verdicts.count("wrong") <= 2 and "carried" in verdicts


def test_recomputations_agree_with_hand_derivations():
    """The NumPy routes of notation_truth.py against numbers worked out by hand (two routes to the same truth)."""
    assert (R8["h"], R8["y_hat"], R8["E"], R8["d_w2"], R8["d_b2"], R8["d_h"]) == (2, 7, 2, 4, 2, 6)
    assert R8["new"] == pytest.approx({"w1": 1.4, "b1": -0.6, "w2": 2.6, "b2": 0.8})
    assert (R8["h_after"], R8["y_after"], R8["E_after"]) == pytest.approx((0.8, 2.88, 2.2472))
    assert [(s["y_hat"], s["E"], s["d_yhat"], s["w"], s["b"]) for s in R9] == [(0, 2, -2, 1, 1), (2, 0, 0, 1, 1)]
    assert R6["z"] == pytest.approx(0.41) and R6["products"] == pytest.approx([0.4, 0.21, 0.1])
    assert (R1["mse"], R1["d_w"], R1["d_b"], R1["w"], R1["b"]) == pytest.approx((1759.125, -1540, -80.5, 15.9, 1.805))
    assert [(r["net"], r["output"], r["error"], r["w1"], r["w2"], r["b"]) for r in R11] == [
        (0, 1, -1, 0, 0, -1), (-1, 0, 0, 0, 0, -1), (-1, 0, 0, 0, 0, -1), (-1, 0, 1, 1, 1, 0)]
    assert R10["z1"] == pytest.approx([0.21, 0.47]) and R10["L"] == pytest.approx(-np.log(sigmoid(0.487)))
    assert R2["net_h"] == pytest.approx([0.585, 0.715])


def _r2_loss(W1, W2) -> float:
    out_h = sigmoid(W1 @ R2["x"] + R2["b1"])
    return 0.5 * (R2["y"] - sigmoid(W2[0] @ out_h + R2["b2"][0])) ** 2


def test_r2_backprop_matches_finite_differences():
    """The R2 gradients used for the keys, against central differences of the loss."""
    eps = 1e-6
    for i, j in np.ndindex(2, 2):
        step = np.zeros((2, 2))
        step[i, j] = eps
        fd = (_r2_loss(R2["W1"] + step, R2["W2"]) - _r2_loss(R2["W1"] - step, R2["W2"])) / (2 * eps)
        assert R2["dW1"][i, j] == pytest.approx(fd, rel=1e-6)
    for j in range(2):
        step = np.zeros((1, 2))
        step[0, j] = eps
        fd = (_r2_loss(R2["W1"], R2["W2"] + step) - _r2_loss(R2["W1"], R2["W2"] - step)) / (2 * eps)
        assert R2["dW2"][j] == pytest.approx(fd, rel=1e-6)
