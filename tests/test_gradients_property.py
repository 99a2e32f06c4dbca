"""Property test: on random architectures, backprop agrees with central finite differences.

The finite differences below are written here, from the forward pass alone (engine.network.loss_value),
so they are an oracle independent of the backward rules they check.
"""
from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nn_tutor.engine.kinds import WalkOptions, walk
from nn_tutor.engine.network import Network, loss_value
from nn_tutor.engine.spec import parse_network
from nn_tutor.engine.gradcheck import crosses_kink

SMOOTH = ["linear", "sigmoid", "tanh", "relu", "leaky_relu"]
LOSSES = ["half_sse", "sse", "mse", "bce", "cross_entropy"]


@st.composite
def dense_specs(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    sizes = [draw(st.integers(1, 4)) for _ in range(draw(st.integers(2, 4)))]
    m = draw(st.integers(1, 3))
    loss = draw(st.sampled_from(LOSSES))
    out_act = {"bce": "sigmoid", "cross_entropy": "softmax"}.get(loss, draw(st.sampled_from(SMOOTH + ["softmax"])))
    if out_act == "softmax" and sizes[-1] < 2:
        sizes[-1] = 2
    layers = []
    for k in range(1, len(sizes)):
        act = out_act if k == len(sizes) - 1 else draw(st.sampled_from(SMOOTH))
        layers.append({"dense": {"W": rng.normal(0, 0.8, (sizes[k], sizes[k - 1])).tolist(),
                                 "b": rng.normal(0, 0.3, sizes[k]).tolist(), "activation": act}})
    x = rng.normal(0, 1, (m, sizes[0]))
    if loss == "cross_entropy":
        y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], m)]
    elif loss == "bce":
        y = rng.uniform(0, 1, (m, sizes[-1]))
    else:
        y = rng.normal(0, 1, (m, sizes[-1]))
    shape = (lambda a: a[0].tolist()) if m == 1 else (lambda a: a.tolist())
    return {"input": shape(x), "target": shape(y), "layers": layers, "loss": loss, "learning_rate": 0.1}


def finite_difference_check(spec_dict, h=1e-3):
    """Max relative error between traced ∂L/∂θ and the five-point central difference over every parameter.

    (−L(θ+2h) + 8L(θ+h) − 8L(θ−h) + L(θ−2h)) / 12h has error O(h⁴) ≈ 1e-12 at h = 1e-3, and round-off
    ≈ 1e-16·L/h stays far below the 1e-6 relative tolerance. Elements whose ±2h neighbourhood crosses a
    ReLU or max-pool kink are skipped: the loss has no derivative to compare there.
    """
    spec = parse_network(spec_dict)
    trace = walk(spec_dict, WalkOptions())
    net = Network(spec)
    worst = 0.0
    for (i, name), value in net.params.items():
        grad = trace[f"L{i}.d{name}"].value
        for idx in np.ndindex(value.shape):
            def at(shift):
                params = {k: v.copy() for k, v in net.params.items()}
                params[(i, name)][idx] += shift
                return loss_value(net, params)
            if crosses_kink(net, (i, name), idx, 2 * h):
                continue  # a ReLU sign or a max-pool winner changes within ±2h: not differentiable there
            numeric = (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)
            # relative error with a floor: gradients below 1e-4 are judged absolutely (FD noise ~1e-10)
            worst = max(worst, abs(grad[idx] - numeric) / max(abs(grad[idx]), abs(numeric), 1e-4))
    return worst


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dense_specs())
def test_dense_backprop_matches_finite_differences(spec_dict):
    assert finite_difference_check(spec_dict) <= 1e-6


@st.composite
def conv_specs(draw):
    """Random conv → [activation] → pool → flatten → dense networks, every activation and loss."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    m, c_in = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    h, w = draw(st.integers(4, 7)), draw(st.integers(4, 7))
    c_out, k = draw(st.integers(1, 3)), draw(st.integers(2, 3))
    stride, padding = draw(st.integers(1, 2)), draw(st.integers(0, 1))
    layers = [{"conv2d": {"filters": rng.normal(0, 0.5, (c_out, c_in, k, k)).tolist(),
                          "bias": rng.normal(0, 0.2, c_out).tolist(), "stride": stride, "padding": padding,
                          "activation": draw(st.sampled_from(SMOOTH))}}]
    if draw(st.booleans()):
        layers.append({"activation": draw(st.sampled_from(SMOOTH))})
    ho, wo = (h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1
    size = draw(st.integers(1, min(2, ho, wo)))
    layers.append({draw(st.sampled_from(["maxpool", "avgpool"])): {"size": size, "stride": size}})
    flat = c_out * ((ho - size) // size + 1) * ((wo - size) // size + 1)
    loss = draw(st.sampled_from(LOSSES))
    out_act = {"bce": "sigmoid", "cross_entropy": "softmax"}.get(loss, draw(st.sampled_from(SMOOTH)))
    n_out = 2 if out_act == "softmax" else draw(st.integers(1, 2))
    layers += [{"flatten": {}}, {"dense": {"W": rng.normal(0, 0.5, (n_out, flat)).tolist(),
                                           "b": rng.normal(0, 0.2, n_out).tolist(), "activation": out_act}}]
    x = rng.normal(0, 1, (m, c_in, h, w))
    if loss == "cross_entropy":
        y = np.eye(n_out)[rng.integers(0, n_out, m)]
    elif loss == "bce":
        y = rng.uniform(0, 1, (m, n_out))
    else:
        y = rng.normal(0, 1, (m, n_out))
    return {"input": x.tolist(), "target": (y[0] if m == 1 else y).tolist(), "layers": layers,
            "loss": loss, "learning_rate": 0.1}


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conv_specs())
def test_conv_pool_backprop_matches_finite_differences(spec_dict):
    assert finite_difference_check(spec_dict) <= 1e-6


def test_float64_throughout():
    spec = {"input": [1, 2], "target": [1], "loss": "half_sse", "learning_rate": 0.1,
            "layers": [{"dense": {"W": [[1, 2]], "b": [0], "activation": "sigmoid"}}]}
    trace = walk(spec, WalkOptions())
    assert {np.asarray(s.value).dtype for s in trace} == {np.dtype("float64")}


def test_stable_sigmoid_and_softmax_and_clipped_logs():
    spec = {"input": [1000.0, -1000.0], "target": [1, 0], "loss": "cross_entropy",
            "layers": [{"dense": {"W": [[1, 0], [0, 1]], "b": [0, 0], "activation": "softmax"}}]}
    trace = walk(spec, WalkOptions())
    assert np.all(np.isfinite(trace.display("L1.a")))
    assert np.allclose(trace.display("L1.a"), [1.0, 0.0])
    bce = {"input": [-800.0], "target": [1], "loss": "bce",
           "layers": [{"dense": {"W": [[1]], "b": [0], "activation": "sigmoid"}}]}
    t = walk(bce, WalkOptions())
    # σ(−800) underflows to 0 in float64, but the loss comes from the logit: −ln σ(−800) = 800 + ln(1 + e^−800)
    assert float(t.display("loss")) == 800.0
    # a pairing without a logit form clips: cross-entropy on a sigmoid output that underflows to 0
    clipped = {"input": [-800.0], "target": [1], "loss": "cross_entropy",
               "layers": [{"dense": {"W": [[1.0]], "b": [0.0], "activation": "sigmoid"}}]}
    # p = σ(−800) = 0 in float64, clipped at 1e-12: L = −ln(1e-12) = 12·ln 10
    assert abs(float(walk(clipped, WalkOptions()).display("loss")) - 12 * np.log(10)) < 1e-9
