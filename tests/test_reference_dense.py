"""Reference problems R1, R2, R4-R10, R13 against values derived independently.

Expected numbers come from scalar formulas written out by hand below (plain `math`, one neuron at a
time, the way the course derives them), closed forms, or finite differences; never from the engine.
"""
from __future__ import annotations

import math

import pytest

from reference import assert_close, run, sig


def test_r2_full_iteration_by_hand():
    t = run("r2_two_layer_sigmoid.yaml")
    x1, x2, y, eta = 0.5, 0.8, 1.0, 0.5
    w1, w2, w3, w4, w5, w6, b1, b2, b3 = 0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.35, 0.35, 0.60
    net_h1 = w1 * x1 + w2 * x2 + b1            # 0.075 + 0.16 + 0.35 = 0.585
    net_h2 = w3 * x1 + w4 * x2 + b2            # 0.125 + 0.24 + 0.35 = 0.715
    assert net_h1 == pytest.approx(0.585) and net_h2 == pytest.approx(0.715)
    h1, h2 = sig(net_h1), sig(net_h2)
    net_o = w5 * h1 + w6 * h2 + b3
    o = sig(net_o)
    loss = 0.5 * (y - o) ** 2
    assert_close(t.display("L1.z"), [net_h1, net_h2])
    assert_close(t.display("L1.a"), [h1, h2])
    assert_close(t.display("L2.a"), [o])
    assert_close(t.display("loss"), loss)
    # output delta: dE/dout · dout/dnet = (o − y) · o(1 − o)
    d_o = (o - y) * o * (1 - o)
    d_h1 = d_o * w5 * h1 * (1 - h1)
    d_h2 = d_o * w6 * h2 * (1 - h2)
    assert_close(t.display("L2.delta"), [d_o])
    assert_close(t.display("L2.dW"), [[d_o * h1, d_o * h2]])
    assert_close(t.display("L2.db"), [d_o])
    assert_close(t.display("L1.delta"), [d_h1, d_h2])
    assert_close(t.display("L1.dW"), [[d_h1 * x1, d_h1 * x2], [d_h2 * x1, d_h2 * x2]])
    assert_close(t.display("L1.db"), [d_h1, d_h2])
    # all weights update together, from the old values
    assert_close(t.display("L2.W_new"), [[w5 - eta * d_o * h1, w6 - eta * d_o * h2]])
    assert_close(t.display("L1.W_new")[0], [w1 - eta * d_h1 * x1, w2 - eta * d_h1 * x2])
    assert_close(t.display("L2.b_new"), [b3 - eta * d_o])
    # second forward pass with the new parameters: the loss went down
    nw = [w - eta * g for w, g in [(w1, d_h1 * x1), (w2, d_h1 * x2), (w3, d_h2 * x1), (w4, d_h2 * x2)]]
    nh1 = sig(nw[0] * x1 + nw[1] * x2 + b1 - eta * d_h1)
    nh2 = sig(nw[2] * x1 + nw[3] * x2 + b2 - eta * d_h2)
    no = sig((w5 - eta * d_o * h1) * nh1 + (w6 - eta * d_o * h2) * nh2 + b3 - eta * d_o)
    assert_close(t.info["loss_after"], 0.5 * (y - no) ** 2)
    assert t.info["loss_after"] < t.info["loss"]


def test_r1_house_prices_step_and_closed_form():
    xs, ys = [10, 15, 20, 25], [30, 45, 55, 70]
    t = run("r1_house_prices.yaml")
    # ŷ = 0.5x + 1 = [6, 8.5, 11, 13.5]; residuals y − ŷ = [24, 36.5, 44, 56.5]
    # L = (24² + 36.5² + 44² + 56.5²)/4 = (576 + 1332.25 + 1936 + 3192.25)/4 = 1759.125
    assert_close(t.display("loss"), 1759.125)
    # ∂L/∂w = (−2/4)·Σ x(y − ŷ) = −0.5·(240 + 547.5 + 880 + 1412.5) = −1540; ∂L/∂b = −0.5·161 = −80.5
    assert_close(t.display("L1.dW"), [[-1540.0]])
    assert_close(t.display("L1.db"), [-80.5])
    # η = 0.01: w = 0.5 + 15.4 = 15.9, b = 1 + 0.805 = 1.805; predictions overshoot the targets
    assert_close(t.display("L1.W_new"), [[15.9]], 1e-12)
    assert_close(t.display("after.L1.a"), [[15.9 * x + 1.805 for x in xs]], 1e-12)
    assert all(p > y for p, y in zip(t.display("after.L1.a")[0], ys))
    assert t.info["loss_after"] > t.info["loss"]
    slow = run("r1_house_prices_slow.yaml", iterations=500)
    assert_close(slow.display("L1.W_new"), [[0.5 + 1.54]])  # η = 0.001: w = 2.04, b = 1.0805
    assert_close(slow.display("L1.b_new"), [1.0805])
    assert slow.info["loss_after"] < slow.info["loss"]
    table = {row[0]: row for row in slow.tables[0].rows}
    assert {0, 1, 10, 50, 100, 500} <= set(table)
    assert table[1][1] == pytest.approx(slow.info["loss_after"])
    # closed form: x̄ = 17.5, ȳ = 50, Sxy = 325, Sxx = 125 -> w* = 2.6, b* = 50 − 2.6·17.5 = 4.5
    optimum = slow.tables[-1].rows[0]
    assert_close(optimum[:2], [2.6, 4.5], 1e-9)
    residuals = [y - (2.6 * x + 4.5) for x, y in zip(xs, ys)]   # [-0.5, 1.5, -1.5, 0.5]
    assert_close(optimum[2], sum(r * r for r in residuals) / 4)         # 1.25
    losses = [table[k][1] for k in (0, 1, 10, 50, 100, 500)]
    assert all(a >= b for a, b in zip(losses, losses[1:])) and losses[-1] >= optimum[2]


def _r4_forward():
    """R4 by hand: one neuron at a time with plain loops."""
    x = [0.1, 0.7, 0.2, 0.1, 0.2, 0.8, 0.2, 0.1, 0.1, 0.6, 0.3, 0.2, 0.1, 0.7, 0.1, 0.1]
    W1 = [[0.5, 0.8, 0.1, 0.0, 0.3, 0.9, 0.2, 0.0, 0.4, 0.7, 0.1, 0.1, 0.2, 0.8, 0.0, 0.0],
          [0.1, 0.2, 0.3, 0.1, 0.2, 0.1, 0.2, 0.1, 0.3, 0.2, 0.1, 0.1, 0.2, 0.3, 0.1, 0.1],
          [0.2, 0.1, 0.4, 0.2, 0.1, 0.2, 0.3, 0.1, 0.2, 0.1, 0.3, 0.2, 0.1, 0.2, 0.2, 0.1],
          [0.1, 0.3, 0.2, 0.1, 0.1, 0.2, 0.1, 0.1, 0.1, 0.2, 0.2, 0.1, 0.1, 0.3, 0.1, 0.1]]
    b1 = [-0.5, -0.2, -0.3, -0.1]
    h1 = [max(0.0, sum(w * v for w, v in zip(row, x)) + b) for row, b in zip(W1, b1)]
    W2 = [[0.6, 0.3, 0.2, 0.1], [0.2, 0.5, 0.4, 0.3], [0.1, 0.4, 0.3, 0.5]]
    h2 = [max(0.0, sum(w * v for w, v in zip(row, h1)) + b) for row, b in zip(W2, [-0.2, -0.1, -0.15])]
    z = [sum(w * v for w, v in zip(row, h2)) + b for row, b in zip([[0.8, 0.4, 0.2], [0.1, 0.3, 0.5]], [-0.3, -0.2])]
    e = [math.exp(v) for v in z]
    return h1, h2, [v / sum(e) for v in e]


def test_r4_forward_and_both_losses():
    h1, h2, p = _r4_forward()
    # neuron 1 of hidden 1: 0.05+0.56+0.02+0+0.06+0.72+0.04+0+0.04+0.42+0.03+0.02+0.02+0.56 = 2.54; −0.5 -> 2.04
    assert h1[0] == pytest.approx(2.04)
    sse = run("r4_digit_sse.yaml")
    assert_close(sse.display("L1.a"), h1)
    assert_close(sse.display("L2.a"), h2)
    assert_close(sse.display("L3.a"), p)
    assert_close(sse.display("loss"), (1 - p[0]) ** 2 + (0 - p[1]) ** 2)   # Σ(y − p)², no ½
    ce = run("r4_digit_ce.yaml")
    assert_close(ce.display("loss"), -math.log(p[0]))
    # softmax + cross-entropy: δ = p − y exactly
    assert_close(ce.display("L3.delta"), [p[0] - 1, p[1]])


def test_r5_gradient_through_softmax_with_squared_error_is_not_p_minus_y():
    t = run("r5_dog_cat_softmax_mse.yaml")
    x = [0.9, 0.2, 0.8, 0.3]
    W1 = [[0.6, 0.4, 0.5, 0.3], [0.2, 0.7, 0.3, 0.6], [0.3, 0.5, 0.2, 0.8]]
    h = [max(0.0, sum(w * v for w, v in zip(r, x)) + b) for r, b in zip(W1, [-0.4, -0.3, -0.5])]
    # h = [0.54+0.08+0.4+0.09−0.4, 0.18+0.14+0.24+0.18−0.3, 0.27+0.1+0.16+0.24−0.5] = [0.71, 0.44, 0.27]
    assert_close(h, [0.71, 0.44, 0.27], 1e-12)

    def loss_for(w11: float) -> float:
        z = [w11 * h[0] + 0.6 * h[1] + 0.3 * h[2] - 0.2, 0.3 * h[0] + 0.7 * h[1] + 0.9 * h[2] - 0.3]
        e = [math.exp(v) for v in z]
        p = [v / sum(e) for v in e]
        return 0.5 * ((p[0] - 1) ** 2 + p[1] ** 2)

    eps = 1e-6
    numeric = (loss_for(0.8 + eps) - loss_for(0.8 - eps)) / (2 * eps)
    assert_close(t.display("loss"), loss_for(0.8))
    assert t.display("L2.dW")[0, 0] == pytest.approx(numeric, rel=1e-7)
    # the cross-entropy shortcut (p − y)·h1 would give a different, wrong number
    p = t.display("L2.a")
    assert abs((p[0] - 1) * h[0] - numeric) > 0.1 * abs(numeric)
    assert_close(t.display("L2.W_new")[0, 0], 0.8 - 0.01 * t.display("L2.dW")[0, 0])


def test_r6_one_neuron():
    t = run("r6_one_neuron.yaml")
    assert_close(t.display("L1.z"), [0.8 * 0.5 + 0.3 * 0.7 + 0.5 * 0.2 - 0.3])  # 0.4 + 0.21 + 0.1 − 0.3 = 0.41
    assert_close(t.display("L1.a"), [0.41], 1e-12)
    assert "loss" not in t


def test_r7_activation_samples():
    t = run("r7_activation_samples.yaml")
    assert_close(t.display("sigmoid1.a"), [0.5, 1 / (1 + math.exp(-2)), 1 / (1 + math.exp(2))])
    assert_close(t.display("sigmoid1.da"), [0.25, sig(2) * (1 - sig(2)), sig(-2) * (1 - sig(-2))])
    assert_close(t.display("relu2.a"), [0, 0, 1.7, 5.2, 0, 0.3, 2.7])
    e = [math.exp(2.0), math.exp(1.0), math.exp(0.1)]
    assert_close(t.display("softmax3.a"), [v / sum(e) for v in e])
    # two classes: softmax = sigmoid of the difference
    assert_close(t.display("softmax4.a"), [sig(1.5), sig(-1.5)])


def test_r8_linear_chain_overshoots():
    t = run("r8_linear_chain.yaml")
    # a1 = 2·1 + 0 = 2; a2 = 3·2 + 1 = 7; L = ½(7 − 5)² = 2
    assert_close(t.display("loss"), 2.0)
    # ∂L/∂a2 = 2; ∂L/∂w2 = 2·a1 = 4; ∂L/∂b2 = 2; ∂L/∂a1 = 2·w2 = 6; ∂L/∂w1 = 6·x = 6; ∂L/∂b1 = 6
    assert_close(t.display("L2.dW"), [[4.0]])
    assert_close(t.display("L2.db"), [2.0])
    assert_close(t.display("L1.da"), [6.0])
    assert_close(t.display("L1.dW"), [[6.0]])
    assert_close(t.display("L1.db"), [6.0])
    # α = 0.1: w1 = 1.4, b1 = −0.6, w2 = 2.6, b2 = 0.8; a2 = 2.6·0.8 + 0.8 = 2.88; L = ½(2.12)² = 2.2472
    assert_close(t.display("L1.W_new"), [[1.4]])
    assert_close(t.display("L2.b_new"), [0.8])
    assert_close(t.info["loss_after"], 0.5 * (2.88 - 5) ** 2)


def test_r9_converges_in_one_step():
    t = run("r9_one_weight_regression.yaml", iterations=2)
    # ŷ = 0, L = ½·4 = 2; ∂L/∂w = ∂L/∂b = (0 − 2)·1 = −2; w = b = 0 + 0.5·2 = 1 -> ŷ = 2 = y
    assert_close(t.display("L1.W_new"), [[1.0]])
    assert_close(t.display("L1.b_new"), [1.0])
    assert_close(t.info["loss_after"], 0.0)
    rows = t.tables[0].rows
    assert_close([r[1] for r in rows], [2.0, 0.0, 0.0])


def test_r10_matrix_form_by_hand():
    t = run("r10_relu_bce_matrix.yaml")
    z1 = [0.1 * 0.5 + 0.2 * 0.3 + 0.1, 0.3 * 0.5 + 0.4 * 0.3 + 0.2]   # [0.21, 0.47]
    z2 = 0.5 * z1[0] + 0.6 * z1[1] + 0.1                              # 0.105 + 0.282 + 0.1 = 0.487
    yhat = sig(z2)
    assert_close(t.display("L1.z"), z1)
    assert_close(t.display("loss"), -math.log(yhat))
    d2 = yhat - 1.0                                  # σ + BCE: δ2 = ŷ − y
    d1 = [0.5 * d2, 0.6 * d2]                        # W2ᵀδ2 ⊙ ReLU′(z1), both z1 > 0
    assert_close(t.display("L2.delta"), [d2])
    assert_close(t.display("L2.dW"), [[d2 * z1[0], d2 * z1[1]]])
    assert_close(t.display("L1.dW"), [[d1[0] * 0.5, d1[0] * 0.3], [d1[1] * 0.5, d1[1] * 0.3]])
    assert_close(t.display("L1.W_new"), [[0.1 - 0.1 * d1[0] * 0.5, 0.2 - 0.1 * d1[0] * 0.3],
                                  [0.3 - 0.1 * d1[1] * 0.5, 0.4 - 0.1 * d1[1] * 0.3]])
    # the unfused route gives the same δ2: ∂L/∂ŷ · σ′ = (−1/ŷ)·ŷ(1 − ŷ) = ŷ − 1
    assert_close(t.display("L2.da")[0] * t.display("L2.dadz")[0], d2)
    assert [s.shape for s in (t.display("L1.W"), t.display("L1.dW"), t.display("L2.dW"))] == [(2, 2)] * 2 + [(1, 2)]


def test_r13_chain_of_factors_by_hand():
    t = run("r13_relu_regression_2221.yaml")
    # z1 = [0.5+1, 0.25+1] = [1.5, 1.25]; z2 = [1.5, 0.75+0.625] = [1.5, 1.375]; ŷ = 1.2 + 0.55 + 0.75 = 2.5
    assert_close(t.display("L3.a"), [2.5])
    assert_close(t.display("loss"), 0.5 * 1.5 ** 2)
    # ∂L/∂w³₁₁ = (ŷ − y)·1·a²₁ = 1.5·1.5; ∂L/∂w²₁₁ = 1.5·w³₁₁·1·a¹₁ = 1.5·0.8·1.5
    assert_close(t.display("chain.L3.W[0,0]"), 2.25)
    assert_close(t.display("chain.L2.W[0,0]"), 1.8)
    # two paths through hidden 2: 1.5·(0.8·1·1.0 + 0.4·1·0.5)·1·x₁ = 1.5·1.0 = 1.5
    assert_close(t.display("chain.L1.W[0,0]"), 1.5)
    assert "w³₁₂" in t["chain.L1.W[0,0]"].formula


def test_batch_reduction_convention_is_switchable():
    mean = run("r1_house_prices.yaml")
    total = run("r1_house_prices.yaml", conventions={"batch_reduction": "sum"})
    assert_close(total.display("loss"), 4 * mean.display("loss"))
    assert_close(total.display("L1.dW"), 4 * mean.display("L1.dW"))
