"""Reference numbers for the notation tests, recomputed in a few lines of NumPy from each spec's givens.

Independent of the engine: only the YAML of examples/ is read; the forward pass, the loss, the
backward pass and the update are written out here by hand for each reference network.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _givens(name: str) -> dict:
    """The spec as plain YAML data: the givens only."""
    return yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))


def _dense(layer: dict) -> tuple[np.ndarray, np.ndarray]:
    return np.array(layer["dense"]["W"], dtype=float), np.array(layer["dense"]["b"], dtype=float)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def r2_truth() -> dict:
    """2-2-1 sigmoid, ½(y − ŷ)², one sample: forward, deltas, gradients."""
    g = _givens("r2_two_layer_sigmoid.yaml")
    x, y = np.array(g["input"], dtype=float), float(g["target"][0])   # (2,), scalar
    (W1, b1), (W2, b2) = (_dense(layer) for layer in g["layers"])     # (2, 2) (2,)  (1, 2) (1,)
    net_h = W1 @ x + b1                                                # (2,)
    out_h = sigmoid(net_h)                                            # (2,)
    net_o = float(W2[0] @ out_h + b2[0])
    out_o = float(sigmoid(net_o))
    dsig_o = out_o * (1 - out_o)
    delta_o = (out_o - y) * dsig_o
    delta_h = W2[0] * delta_o * out_h * (1 - out_h)                    # (2,)
    return {"net_h": net_h, "out_h": out_h, "net_o": net_o, "out_o": out_o, "E": 0.5 * (y - out_o) ** 2,
            "dsig_o": dsig_o, "delta_o": delta_o, "delta_h": delta_h, "dW1": np.outer(delta_h, x),
            "dW2": delta_o * out_h, "W1": W1, "b1": b1, "W2": W2, "b2": b2, "x": x, "y": y}


def r8_truth() -> dict:
    """Two linear units in a chain, ½(ŷ − y)², then the forward pass with the updated weights."""
    g = _givens("r8_linear_chain.yaml")
    x, y, lr = g["input"][0], g["target"][0], g["learning_rate"]
    (w1, b1), (w2, b2) = ((float(W[0, 0]), float(b[0])) for W, b in (_dense(layer) for layer in g["layers"]))
    h = w1 * x + b1
    y_hat = w2 * h + b2
    d_yhat = y_hat - y
    d_h = d_yhat * w2
    new = {"w1": w1 - lr * d_h * x, "b1": b1 - lr * d_h, "w2": w2 - lr * d_yhat * h, "b2": b2 - lr * d_yhat}
    h_after = new["w1"] * x + new["b1"]
    y_after = new["w2"] * h_after + new["b2"]
    return {"h": h, "y_hat": y_hat, "E": 0.5 * d_yhat ** 2, "d_yhat": d_yhat, "d_w2": d_yhat * h, "d_b2": d_yhat,
            "d_h": d_h, "d_w1": d_h * x, "d_b1": d_h, "new": new, "h_after": h_after, "y_after": y_after,
            "E_after": 0.5 * (y_after - y) ** 2}


def r9_truth() -> list[dict]:
    """One weight and a bias, ½(y − ŷ)², two gradient steps."""
    g = _givens("r9_one_weight_regression.yaml")
    x, y, lr = g["input"][0], g["target"][0], g["learning_rate"]
    W, b = _dense(g["layers"][0])
    w, b = float(W[0, 0]), float(b[0])
    steps = []
    for _ in range(2):
        y_hat = w * x + b
        d = y_hat - y
        steps.append({"y_hat": y_hat, "E": 0.5 * d ** 2, "d_yhat": d, "d_w": d * x, "d_b": d})
        w, b = w - lr * d * x, b - lr * d
        steps[-1].update(w=w, b=b)
    return steps


def r6_truth() -> dict:
    """One ReLU neuron, forward only: the three products, z and the output."""
    g = _givens("r6_one_neuron.yaml")
    W, b = _dense(g["layers"][0])
    z = float(W[0] @ np.array(g["input"], dtype=float) + b[0])
    return {"products": W[0] * np.array(g["input"]), "z": z, "a": max(z, 0.0)}


def r10_truth() -> dict:
    """2-2-1, ReLU hidden, sigmoid output, binary cross-entropy (natural log)."""
    g = _givens("r10_relu_bce_matrix.yaml")
    x, y, lr = np.array(g["input"], dtype=float), float(g["target"][0]), g["learning_rate"]
    (W1, b1), (W2, b2) = (_dense(layer) for layer in g["layers"])
    z1 = W1 @ x + b1                                                   # (2,)
    a1 = np.maximum(z1, 0)                                             # (2,)
    y_hat = float(sigmoid(W2[0] @ a1 + b2[0]))
    dz2 = y_hat - y                                                    # σ′ cancels against BCE
    da1 = W2[0] * dz2                                                  # (2,)
    dz1 = da1 * (z1 > 0)                                               # (2,)
    dW1 = np.outer(dz1, x)                                             # (2, 2)
    return {"z1": z1, "y_hat": y_hat, "L": -np.log(y_hat), "dz2": dz2, "dW2": dz2 * a1, "da1": da1,
            "dz1": dz1, "dW1": dW1, "W1_new": W1 - lr * dW1}


def r1_truth() -> dict:
    """ŷ = w·x + b over the batch of four houses, mean squared error, one step."""
    g = _givens("r1_house_prices.yaml")
    x = np.array(g["input"], dtype=float)[:, 0]                        # (4,)
    y = np.array(g["target"], dtype=float)[:, 0]                       # (4,)
    W, b = _dense(g["layers"][0])
    w, b, lr = float(W[0, 0]), float(b[0]), g["learning_rate"]
    e = w * x + b - y                                                  # (4,)
    d_w, d_b = 2 * np.mean(e * x), 2 * np.mean(e)
    return {"y_hat": w * x + b, "e": e, "mse": np.mean(e ** 2), "d_w": d_w, "d_b": d_b,
            "w": w - lr * d_w, "b": b - lr * d_b}


def r11_epoch1() -> list[dict]:
    """The perceptron rule on AND, first epoch, one row per sample: net, output, error, then w and b."""
    g = _givens("r11_perceptron_and.yaml")
    w, b, lr = np.array(g["w"], dtype=float), float(g["b"]), g["learning_rate"]
    rows = []
    for x1, x2, t in g["data"]:
        net = float(w @ [x1, x2] + b)
        out = 1.0 if net >= 0 else 0.0
        err = t - out
        w, b = w + lr * err * np.array([x1, x2]), b + lr * err
        rows.append({"net": net, "output": out, "error": err, "w1": w[0], "w2": w[1], "b": b})
    return rows


R2, R8, R9, R6, R10, R1, R11 = r2_truth(), r8_truth(), r9_truth(), r6_truth(), r10_truth(), r1_truth(), r11_epoch1()
