"""Lines of work as students type them: vectors printed with spaces, remarks in brackets, `w <- …`.

R2 (examples/r2_two_layer_sigmoid.yaml) by hand: net_h = [0.585, 0.715], out_h = σ(net_h) = [0.6422, 0.6715],
σ′ = out_h(1 − out_h) = [0.2298, 0.2206]; δ_o = −0.0434, ∂L/∂w5 = δ_o·out_h1 = −0.0279,
∂L/∂w6 = δ_o·out_h2 = −0.0292 (test_homework_prose.py derives δ_o); w5_new = 0.40 − 0.5·(−0.0279) = 0.4139.
"""
from __future__ import annotations

import pytest

from nn_tutor.engine.spec import load_spec
from nn_tutor.tools.homework import check_text

TEXT = """z = [.585 .715]   h = [.642 .672]
h(1-h): .230 .221
d = -.0434   (dw = d*h: -.0279 -.0292)
w5 <- .40 - .5*(-.0279) = .414
"""


@pytest.fixture(scope="module")
def claims():
    return check_text(TEXT, load_spec("examples/r2_two_layer_sigmoid.yaml")).claims


def test_vectors_printed_with_spaces_are_whole_claims(claims):
    pinned = {(c.line, c.step_id) for c in claims}
    assert {(1, "L1.z"), (1, "L1.a"), (2, "L1.dadz")} <= pinned, [(c.line, c.text, c.step_id) for c in claims]


def test_a_remark_in_brackets_is_read_on_its_own(claims):
    line3 = [(c.text, c.step_id) for c in claims if c.line == 3]
    assert ("d = -.0434", "L2.delta") in line3 and any(sid == "L2.dW" for _, sid in line3), line3


def test_an_assignment_arrow_states_the_new_value(claims):
    last = [c for c in claims if c.line == 4]
    assert [(c.step_id, c.index, c.verdict) for c in last] == [("L2.W_new", (0, 0), "correct")], \
        [(c.text, c.step_id, c.verdict) for c in last]


def test_every_claim_is_right(claims):
    assert all(c.verdict in ("correct", "rounding") for c in claims), [(c.text, c.verdict) for c in claims]


def test_names_each_followed_by_a_number_state_their_values():
    # the updates by hand: w5 = 0.40 + 0.5·0.027885 = 0.4139, w6 = 0.45 + 0.5·0.029157 = 0.4646,
    # b3 = 0.60 + 0.5·0.043420 = 0.6217 (the gradients are negative, so the weights grow)
    claims = check_text("w5 .4139  w6 .4646  b3 .6217\n", load_spec("examples/r2_two_layer_sigmoid.yaml")).claims
    assert [(c.step_id, c.index, c.verdict) for c in claims] == [
        ("L2.W_new", (0, 0), "correct"), ("L2.W_new", (0, 1), "correct"), ("L2.b_new", (0,), "correct")], \
        [(c.text, c.step_id, c.verdict) for c in claims]


def test_a_feature_map_written_out_flat_is_the_map():
    # R3: each 3×3 window of the edge image gives (−0.1 + 0.9)·3 − 1 = 1.4, so the conv map and the ReLU
    # map are 1.4 everywhere (either is right for these four numbers)
    claims = check_text("relu: 1.4 1.4 1.4 1.4\n", load_spec("examples/r3_cnn_edge.yaml")).claims
    assert [(c.step_id in ("L1.z", "L2.a"), c.index, c.verdict) for c in claims] == [(True, None, "correct")], \
        [(c.text, c.step_id) for c in claims]


def test_results_between_bars_and_neu_for_new():
    # ∂L/∂w5 = −0.0279, ∂L/∂w6 = −0.0292 and w5_new = 0.4139 (module docstring)
    text = "dL/dw5 = -0,0279 | dL/dw6 = -0,0292\nw5 neu = 0,4139\n"
    claims = check_text(text, load_spec("examples/r2_two_layer_sigmoid.yaml")).claims
    assert [(c.step_id, c.index, c.verdict) for c in claims] == [
        ("L2.dW", (0, 0), "correct"), ("L2.dW", (0, 1), "correct"), ("L2.W_new", (0, 0), "correct")], \
        [(c.text, c.step_id, c.verdict) for c in claims]


TABLE = """| unit | w·x summed | + b | net |
|---|---|---|---|
| h1 | 0.075 + 0.16 = 0.235 | 0.35 | 0.585 |
| h2 | 0.125 + 0.24 = 0.365 | 0.35 | 0.715 |

| quantity | value |
|---|---|
| out_h1, out_h2 | 0.6422, 0.6751 |
"""


def test_a_table_with_the_sum_before_the_bias_and_a_row_naming_two_quantities():
    # net_h = W·x + b = [0.235 + 0.35, 0.365 + 0.35] = [0.585, 0.715]; out_h = [0.6422, 0.6715], the second
    # written 0.6751
    claims = check_text(TABLE, load_spec("examples/r2_two_layer_sigmoid.yaml")).claims
    wrong = [(c.line, c.step_id, c.index) for c in claims if c.verdict == "wrong"]
    assert wrong == [(8, "L1.a", (1,))], [(c.line, c.text, c.verdict, c.step_id) for c in claims]


def test_a_layer_written_as_an_index_and_new_after_a_space():
    # δ_h = δ_o·w·σ′(net_h) = [−0.043420·0.40·0.229781, −0.043420·0.45·0.220590] = [−0.0040, −0.0043];
    # w6_new = 0.45 + 0.5·0.029157 = 0.4646
    claims = check_text("dZ[1] = [-0.0040, -0.0043]\nw6 new = 0.4646\n", load_spec("examples/r2_two_layer_sigmoid.yaml")).claims
    assert [(c.step_id, c.verdict) for c in claims] == [("L1.delta", "correct"), ("L2.W_new", "correct")], \
        [(c.text, c.step_id, c.verdict) for c in claims]
