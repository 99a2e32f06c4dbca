"""Conv and pooling layers: R3 by hand, both max-pool tie rules, the naive-loop reference, finite differences.

Expected numbers come from scalar formulas derived by hand in the comments (plain `math`), from the
naive-loop implementation in benchmarks/conv_naive.py (which shares no code with engine/conv.py),
or from central finite differences on the loss; never from the engine's own output.
"""
from __future__ import annotations

import copy
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nn_tutor.engine.conv import conv_backward, conv_forward, pool_forward, pool_input_grad, pool_mask
from nn_tutor.engine.kinds import WalkOptions, walk
from nn_tutor.engine.spec import load_spec
from reference import EX, assert_close, run, sig

ROOT = Path(__file__).resolve().parent.parent

_naive_spec = importlib.util.spec_from_file_location("conv_naive", ROOT / "benchmarks" / "conv_naive.py")
naive = importlib.util.module_from_spec(_naive_spec)
_naive_spec.loader.exec_module(naive)


# ---- R3 by hand --------------------------------------------------------------------------------------
#
# Image rows are [0.1, 0.1, 0.9, 0.9]; filter rows are [-1, 0, 1]; bias -1.
# Window at (0, 0) covers columns 0..2 = [0.1, 0.1, 0.9]: per row −0.1 + 0 + 0.9 = 0.8.
# Window at (0, 1) covers columns 1..3 = [0.1, 0.9, 0.9]: per row −0.1 + 0 + 0.9 = 0.8.
# Rows 0..2 and 1..3 look the same, so every position is 3 × 0.8 − 1 = 1.4: the map is [[1.4, 1.4], [1.4, 1.4]].
# ReLU(1.4) = 1.4 everywhere; max-pool 2×2 → 1.4 (a four-way tie); flatten → [1.4].
# Dense: z = 0.6 × 1.4 + 0.1 = 0.94; ŷ = σ(0.94) = 1/(1 + e^−0.94) = 1/1.39063 ≈ 0.71910.
# BCE with y = 1: L = −ln ŷ ≈ 0.32976.
# Backward: sigmoid + BCE gives δ5 = ŷ − y ≈ −0.28090; ∂L/∂w = δ5 × 1.4 ≈ −0.39326; ∂L/∂b = δ5.
# Into the pool: g = w × δ5 = 0.6 × −0.28090 ≈ −0.16854.
# Tie rule 'first': all of g goes to the top-left position; ReLU′(1.4) = 1, so δ1 = [[g, 0], [0, 0]].
# Filter gradient ∂L/∂W[u, v] = Σ_{r,s} x[r+u, s+v]·δ1[r, s] = x[u, v]·g: every row [0.1g, 0.1g, 0.9g]
#   ≈ [−0.016854, −0.016854, −0.15169]; ∂L/∂b1 = Σ δ1 = g.
# Updates with η = 0.1: W ← W − 0.1·∂L/∂W, e.g. the first column −1 − 0.1·0.1g = −1 − 0.01g ≈ −0.99831;
#   b1 ← −1 − 0.1g ≈ −0.98315; w ← 0.6 − 0.1·1.4·δ5 ≈ 0.63933; b ← 0.1 − 0.1·δ5 ≈ 0.12809.
# After pass: column weights become (−1 − 0.01g, −0.01g, 1 − 0.09g), so per row
#   at (0, 0): 0.1(−1 − 0.01g) + 0.1(−0.01g) + 0.9(1 − 0.09g) = 0.8 − 0.083g → z' = 2.4 − 0.249g − 1 − 0.1g = 1.4 − 0.349g
#   at (0, 1): 0.1(−1 − 0.01g) + 0.9(−0.01g) + 0.9(1 − 0.09g) = 0.8 − 0.091g → z' = 1.4 − 0.373g
# With g < 0 the right column wins: pooled 1.4 − 0.373g ≈ 1.46287; z5' = 0.63933·1.46287 + 0.12809 ≈ 1.06334;
#   e^−1.06334 ≈ 0.34530, ŷ' = 1/1.34530 ≈ 0.74333 and L' = −ln ŷ' ≈ 0.29662 < 0.32976: the loss went down.

def r3_hand(ties: str):
    """R3's numbers from the derivation above; `ties` picks the tie rule for the pool gradient."""
    z5 = 0.6 * 1.4 + 0.1
    yhat = sig(z5)
    d5 = yhat - 1.0
    g = 0.6 * d5
    if ties == "first":
        delta1 = [[g, 0.0], [0.0, 0.0]]
        row = [0.1 * g, 0.1 * g, 0.9 * g]
    else:
        # 'split': each tied position gets g/4; ∂L/∂W[u, v] = (g/4)·Σ_{r,s} x[r+u, s+v]
        # column u = 0 sees x columns 0 and 1 (0.1 + 0.1), v = 1 sees 1 and 2 (0.1 + 0.9), v = 2 sees 2 and 3
        # (0.9 + 0.9), each for 2 rows: (g/4)·2·[0.2, 1.0, 1.8] = g·[0.1, 0.5, 0.9]
        delta1 = [[g / 4] * 2] * 2
        row = [0.1 * g, 0.5 * g, 0.9 * g]
    dW1 = [[[row] * 3]]                                      # (C_out, C_in, 3, 3) = (1, 1, 3, 3)
    W1_new = [[[-1 - 0.1 * row[0], 0 - 0.1 * row[1], 1 - 0.1 * row[2]]] * 3]
    b1_new = -1 - 0.1 * g
    w_new, b_new = 0.6 - 0.1 * 1.4 * d5, 0.1 - 0.1 * d5
    # after pass, straight from the updated weights (rows identical, so three times one row)
    cols = W1_new[0][0]
    z_after = [[3 * (cols[0] * 0.1 + cols[1] * 0.1 + cols[2] * 0.9) + b1_new,
                3 * (cols[0] * 0.1 + cols[1] * 0.9 + cols[2] * 0.9) + b1_new]] * 2
    pooled = max(max(r) for r in z_after)
    yhat_after = sig(w_new * pooled + b_new)
    return dict(z5=z5, yhat=yhat, loss=-math.log(yhat), d5=d5, g=g, delta1=delta1, dW1=dW1,
                W1_new=W1_new, b1_new=b1_new, w_new=w_new, b_new=b_new, z_after=z_after,
                loss_after=-math.log(yhat_after))


def test_r3_full_iteration_by_hand_ties_first():
    t = run("r3_cnn_edge.yaml")
    h = r3_hand("first")
    # the rounded hand values, as written in the derivation
    assert h["yhat"] == pytest.approx(0.71910, abs=1e-5)
    assert h["loss"] == pytest.approx(0.32976, abs=1e-5)
    assert h["g"] == pytest.approx(-0.16854, abs=1e-5)
    assert h["loss_after"] == pytest.approx(0.29662, abs=1e-5)

    assert_close(t.display("L1.z"), [[[1.4, 1.4], [1.4, 1.4]]])
    assert_close(t.display("L2.a"), [[[1.4, 1.4], [1.4, 1.4]]])
    assert_close(t.display("L3.a"), [[[1.4]]])
    assert_close(t.display("L4.a"), [1.4])
    assert_close(t.display("L5.z"), [h["z5"]])
    assert_close(t.display("L5.a"), [h["yhat"]])
    assert_close(t.display("loss"), h["loss"])
    assert_close(t.display("L5.delta"), [h["d5"]])
    assert_close(t.display("L5.dW"), [[1.4 * h["d5"]]])
    assert_close(t.display("L5.db"), [h["d5"]])
    assert_close(t.display("L3.da"), [[[h["g"]]]])
    assert_close(t.display("L3.mask"), [[[1, 0], [0, 0]]])          # where the max was: the first of the tie
    assert_close(t.display("L2.da"), [h["delta1"]])                # ∂L/∂(ReLU output)
    assert_close(t.display("L2.dadz"), [[[1, 1], [1, 1]]])          # ReLU′(1.4) = 1: the gate is open
    assert_close(t.display("L1.delta"), [h["delta1"]])
    assert_close(t.display("L1.dW"), h["dW1"])
    assert_close(t.display("L1.db"), [h["g"]])
    assert_close(t.display("L1.W_new"), [h["W1_new"]])
    assert_close(t.display("L1.b_new"), [h["b1_new"]])
    assert_close(t.display("L5.W_new"), [[h["w_new"]]])
    assert_close(t.display("L5.b_new"), [h["b_new"]])
    assert_close(t.display("after.L1.z"), [h["z_after"]])
    assert_close(t.display("after.loss"), h["loss_after"])
    assert float(t["after.loss"].value) < float(t["loss"].value)


def test_r3_ties_split_file_and_option_agree_with_hand():
    h = r3_hand("split")
    for t in (run("r3_cnn_edge_split.yaml"), run("r3_cnn_edge.yaml", conventions={"maxpool_ties": "split"})):
        assert_close(t.display("loss"), h["loss"])                  # the forward pass does not depend on the rule
        assert_close(t.display("L3.mask"), [[[0.25, 0.25], [0.25, 0.25]]])
        assert_close(t.display("L1.delta"), [h["delta1"]])
        assert_close(t.display("L1.dW"), h["dW1"])
        assert_close(t.display("L1.db"), [h["g"]])                  # g/4 four times
        assert_close(t.display("after.loss"), h["loss_after"])
        assert t.conventions["maxpool_ties"].startswith("split")


def test_r3_expansions_show_the_window_and_the_filter_gradient():
    t = run("r3_cnn_edge.yaml")
    text = t.expand("L1.z", (0, 0, 1))
    # window at (0, 1): columns 1..3 of each of three rows, then the bias
    assert text.startswith("L1.z[0][0][1] = -1×0.1 + 0×0.9 + 1×0.9 + -1×0.1 + 0×0.9 + 1×0.9 + -1×0.1")
    assert text.endswith("+ -1 = 1.4")
    assert text.count("×") == 9
    # ∂L/∂W[0, 0, 0, 2] = Σ_{r,s} x[r, 2 + s]·δ[r, s] = 0.9·g + 0.9·0 + 0.9·0 + 0.9·0
    assert t.expand("L1.dW", (0, 0, 0, 2)).startswith("L1.dW[0][0][0][2] = 0.9×-0.1685 + 0.9×0 + 0.9×0 + 0.9×0")
    assert t.expand("L3.a", (0, 0, 0)) == "L3.a[0][0][0] = max(1.4, 1.4, 1.4, 1.4) = 1.4"


def test_r3_recompute_pool_routing_from_a_students_upstream_gradient():
    t = run("r3_cnn_edge.yaml")
    # a student who got ∂L/∂pooled = −0.2: 'first' sends all of it to the top-left
    assert_close(t.recompute("L2.da", {"L3.da": [[[-0.2]]]}), [[[-0.2, 0], [0, 0]]])
    # and the filter gradient recomputed from a student's δ = [[1, 0], [0, 1]]: x[u,v] + x[u+1, v+1]
    assert_close(t.recompute("L1.dW", {"L1.delta": [[[1, 0], [0, 1]]]}), [[[[0.2, 1.0, 1.8]] * 3]])


# ---- pooling rules on hand-made maps --------------------------------------------------------------

def test_maxpool_tie_rules_on_a_hand_made_tie():
    x = np.array([[[[3., 1., 2., 5.],
                    [3., 0., 5., 4.],
                    [1., 1., 7., 7.],
                    [1., 1., 7., 7.]]]])                    # (1, 1, 4, 4)
    g = np.array([[[[1., 2.], [4., 8.]]]])                   # upstream gradient per window
    assert_close(pool_forward(x, "max", 2, 2), [[[[3, 5], [1, 7]]]])
    # top-left window [3, 1; 3, 0]: tie between (0,0) and (1,0); top-right [2, 5; 5, 4]: tie (0,3), (1,2)
    # bottom-left all 1: four-way tie; bottom-right all 7: four-way tie
    first = np.array([[1., 0., 0., 2.],
                      [0., 0., 0., 0.],
                      [4., 0., 8., 0.],
                      [0., 0., 0., 0.]])
    split = np.array([[0.5, 0., 0., 1.],
                      [0.5, 0., 1., 0.],
                      [1., 1., 2., 2.],
                      [1., 1., 2., 2.]])
    assert_close(pool_input_grad(g, x, "max", 2, 2, "first")[0, 0], first)
    assert_close(pool_input_grad(g, x, "max", 2, 2, "split")[0, 0], split)
    assert_close(pool_mask(x, "max", 2, 2, "first")[0, 0], (first > 0).astype(float))
    assert_close(pool_mask(x, "max", 2, 2, "split")[0, 0],
          [[.5, 0, 0, .5], [.5, 0, .5, 0], [.25, .25, .25, .25], [.25, .25, .25, .25]])
    # either way the routed gradient adds up to the upstream gradient (nothing lost, nothing doubled)
    assert pool_input_grad(g, x, "max", 2, 2, "split").sum() == pytest.approx(g.sum())


def test_overlapping_windows_accumulate_and_avgpool_spreads_evenly():
    x = np.array([[[[1., 2., 0.],
                    [0., 9., 1.],
                    [3., 0., 4.]]]])                         # (1, 1, 3, 3); 9 is the max of all four windows
    g = np.array([[[[1., 2.], [3., 4.]]]])
    dx = np.zeros((3, 3))
    dx[1, 1] = 1 + 2 + 3 + 4                                 # every window sends its gradient to the centre
    assert_close(pool_input_grad(g, x, "max", 2, 1, "first")[0, 0], dx)
    assert_close(pool_mask(x, "max", 2, 1, "first")[0, 0], [[0, 0, 0], [0, 4, 0], [0, 0, 0]])
    # average: each window gives g/4 to each of its 4 positions; the centre is in all four windows
    avg = np.array([[1, 1 + 2, 2],
                    [1 + 3, 1 + 2 + 3 + 4, 2 + 4],
                    [3, 3 + 4, 4]]) / 4
    assert_close(pool_input_grad(g, x, "avg", 2, 1)[0, 0], avg)
    assert_close(pool_forward(x, "avg", 2, 1), [[[[12 / 4, 12 / 4], [12 / 4, 14 / 4]]]])


# ---- vectorised conv against the naive loops --------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(m=st.integers(1, 3), c_in=st.integers(1, 3), c_out=st.integers(1, 3), h=st.integers(3, 8),
       w=st.integers(3, 8), k=st.integers(1, 3), stride=st.integers(1, 3), padding=st.integers(0, 2),
       seed=st.integers(0, 2 ** 31))
def test_vectorised_conv_matches_naive_loops(m, c_in, c_out, h, w, k, stride, padding, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(m, c_in, h, w))
    W = rng.normal(size=(c_out, c_in, k, k))
    b = rng.normal(size=c_out)
    z = conv_forward(W, x, b, stride, padding)
    assert_close(z, naive.naive_conv_forward(x, W, b, stride, padding), 1e-10)
    dz = rng.normal(size=z.shape)
    for got, want in zip(conv_backward(x, W, dz, stride, padding),
                         naive.naive_conv_backward(x, W, dz, stride, padding)):
        assert got.shape == want.shape
        assert_close(got, want, 1e-10)


def test_conv_input_gradient_against_finite_differences():
    # L = Σ R ⊙ conv(x): ∂L/∂x must match (L(x + h) − L(x − h)) / 2h element by element
    rng = np.random.default_rng(7)
    x, W, b = rng.normal(size=(2, 2, 5, 6)), rng.normal(size=(3, 2, 3, 2)), rng.normal(size=3)
    R = rng.normal(size=conv_forward(W, x, b, 2, 1).shape)
    dx, dW, db = conv_backward(x, W, R, 2, 1)
    eps = 1e-6
    for target, grad in ((x, dx), (W, dW), (b, db)):
        numeric = np.zeros_like(target)
        for idx in np.ndindex(target.shape):
            keep = target[idx]
            target[idx] = keep + eps
            up = np.sum(R * conv_forward(W, x, b, 2, 1))
            target[idx] = keep - eps
            down = np.sum(R * conv_forward(W, x, b, 2, 1))
            target[idx] = keep
            numeric[idx] = (up - down) / (2 * eps)
        assert_close(grad, numeric, 1e-7)


# ---- whole networks against finite differences on the loss ------------------------------------------

def loss_of(spec: dict) -> float:
    """The loss of a spec (forward only: no learning rate, so no update or after pass)."""
    spec = {k: v for k, v in spec.items() if k != "learning_rate"}
    return float(walk(spec, WalkOptions()).info["loss"])


def finite_difference_check(spec: dict, h: float = 1e-5) -> int:
    """Every parameter's traced gradient against central differences on the loss; returns how many checked."""
    trace = walk(spec, WalkOptions())
    checked = 0
    for i, layer in enumerate(spec["layers"], 1):
        (kind, body), = layer.items()
        for key, grad_name in (("filters", "dW"), ("W", "dW"), ("bias", "db"), ("b", "db")):
            if not isinstance(body, dict) or key not in body:
                continue
            value = np.asarray(body[key], dtype=float)
            analytic = np.asarray(trace[f"L{i}.{grad_name}"].value).reshape(value.shape)
            for idx in np.ndindex(value.shape):
                losses = []
                for sign in (1, -1):
                    bumped = copy.deepcopy(spec)
                    arr = np.array(value)
                    arr[idx] += sign * h
                    bumped["layers"][i - 1][kind][key] = arr.tolist()
                    losses.append(loss_of(bumped))
                numeric = (losses[0] - losses[1]) / (2 * h)
                assert analytic[idx] == pytest.approx(numeric, rel=1e-6, abs=1e-9), (f"L{i}.{grad_name}", idx)
                checked += 1
    return checked


def random_conv_net(seed: int, pool: str, m: int = 3, conv_act: str = "tanh") -> dict:
    """2-channel 6×6 images (batch m), 3 filters 3×3 at stride 2 padding 1 → 3×3×3, a pool, a 2-filter
    conv (so the first conv's ∂L/∂x path through the second is exercised), flatten, dense softmax."""
    rng = np.random.default_rng(seed)
    r = lambda *s: np.round(rng.normal(scale=0.5, size=s), 3).tolist()  # noqa: E731
    return {
        "input": r(m, 2, 6, 6),
        "target": np.eye(2)[rng.integers(0, 2, size=m)].tolist(),
        "layers": [
            {"conv2d": {"filters": r(3, 2, 3, 3), "bias": r(3), "stride": 2, "padding": 1,
                        "activation": conv_act}},                                  # (3, 3, 3)
            {pool: {"size": 2, "stride": 1}},                                      # (3, 2, 2), overlapping
            {"conv2d": {"filters": r(2, 3, 2, 2), "bias": r(2), "stride": 1, "padding": 1}},  # (2, 3, 3)
            {"activation": "sigmoid"},
            {"flatten": {}},
            {"dense": {"W": r(2, 18), "b": r(2), "activation": "softmax"}},
        ],
        "loss": "cross_entropy",
        "learning_rate": 0.1,
    }


@pytest.mark.parametrize("pool", ["maxpool", "avgpool"])
@pytest.mark.parametrize("seed", [0, 1])
def test_conv_pool_network_gradients_match_finite_differences(pool, seed):
    spec = random_conv_net(seed, pool)
    # random real-valued maps: no ties in any max window (checked, so a tie cannot hide a wrong rule)
    trace = walk(spec, WalkOptions())
    maps = trace["L1.a"].value                                # (3, 3, 3, 3)
    windows = np.lib.stride_tricks.sliding_window_view(maps, (2, 2), axis=(2, 3)).reshape(3, 3, 2, 2, 4)
    assert np.all(np.sort(windows, axis=-1)[..., -1] - np.sort(windows, axis=-1)[..., -2] > 1e-4)
    assert finite_difference_check(spec) == 3 * 2 * 9 + 3 + 2 * 3 * 4 + 2 + 2 * 18 + 2


def test_conv_relu_with_batch_sum_reduction_matches_finite_differences():
    spec = random_conv_net(3, "maxpool", m=3, conv_act="relu")
    spec["conventions"] = {"batch_reduction": "sum"}
    z = walk(spec, WalkOptions())["L1.z"].value
    assert np.min(np.abs(z)) > 1e-3                           # no ReLU input sits on its kink
    finite_difference_check(spec)


def test_two_filter_example_gradients_match_finite_differences():
    spec = load_spec(EX / "conv_two_filters.yaml")
    t = walk(spec, WalkOptions())
    assert t.display("L1.z").shape == (2, 3, 3)               # ⌊(5 + 2 − 3)/2⌋ + 1 = 3
    assert t.display("L2.a").shape == (2, 2, 2)               # overlapping 2×2 windows at stride 1
    assert np.min(np.abs(t["L1.z"].value)) > 1e-3
    finite_difference_check(spec)
    assert float(t["after.loss"].value) < float(t["loss"].value)


def test_avgpool_records_no_mask_and_maxpool_does():
    spec = random_conv_net(0, "avgpool", m=1)
    assert "L2.mask" not in walk(spec, WalkOptions())
    spec = random_conv_net(0, "maxpool", m=1)
    t = walk(spec, WalkOptions())
    # overlapping windows: the mask counts how many windows pick each position; 4 windows in all per map
    assert t.display("L2.mask").shape == (3, 3, 3)
    assert_close(t.display("L2.mask").sum(axis=(1, 2)), [4, 4, 4])


def test_softmax_on_conv_maps_is_a_one_line_error():
    from nn_tutor.engine.errors import NNTError
    spec = {"input": [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]], "target": [1], "loss": "bce",
            "layers": [{"conv2d": {"filters": [[1, 0], [0, 1]], "bias": [0], "activation": "softmax"}},
                       {"flatten": {}}, {"dense": {"W": [[1, 1, 1, 1]], "b": [0], "activation": "sigmoid"}}]}
    with pytest.raises(NNTError, match=r"layer 1 \(conv2d\): softmax .* flatten"):
        walk(spec, WalkOptions())
