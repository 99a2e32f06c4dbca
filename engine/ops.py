"""Activations and losses, each forward rule right beside its derivative (float64, numerically stable).

Conventions (shown to the user in every walkthrough):
- ReLU′(0) = 0 and step′ = 0 (step is not differentiable; it is for threshold units and perceptrons).
- Softmax runs over the class axis (axis 0: classes are rows, samples are columns).
- Losses are written per sample, summed over output components, then reduced over the batch of m
  samples by the batch reduction convention ('mean' by default, or 'sum').
- Logs are natural logs, clipped: log(max(p, 1e-12)).
- A weighted sum within its rounding noise of 0 is 0 (`zero_within_rounding`), so z = 0.1 + 0.2 − 0.3
  sits at the kink of ReLU, where the convention above decides, and is shown as 0.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from nn_tutor.engine.errors import NNTError

EPS = 1e-12
UNIT_ROUNDOFF = 2.0 ** -53  # u: the relative error of one float64 operation


def zero_within_rounding(total, magnitude, n_terms: int):
    """`total` = Σ of n_terms products, set to exactly 0 where it cannot be told from 0.

    Rounding error bound of a sum of n products (Higham, Accuracy and Stability, §3.1):
    |fl(Σ) − Σ| ≤ γ_n·Σ|terms| with γ_n = n·u / (1 − n·u); `magnitude` is Σ|terms|, elementwise.
    """
    gamma = n_terms * UNIT_ROUNDOFF / (1.0 - n_terms * UNIT_ROUNDOFF)
    with np.errstate(invalid="ignore"):  # inf·γ: an overflowing sum stays as it is (and is reported)
        noise = np.isfinite(total) & (np.abs(total) <= gamma * magnitude)
    return np.where(noise, 0.0, total)


# ---- activations ----------------------------------------------------------------------------------

def sigmoid(z):
    """σ(z) = 1 / (1 + e^(−z)), computed without overflow for large |z|."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax(z, axis: int | None = 0):
    """softmax along `axis` (default 0: classes are rows), shifted by the maximum for stability."""
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def softmax_jacobian(a):
    """∂p/∂z for each sample: diag(p) − p pᵀ; a is (K, m) -> (m, K, K)."""
    p = a.T  # (m, K)
    return np.einsum("mi,ij->mij", p, np.eye(p.shape[1])) - np.einsum("mi,mj->mij", p, p)


@dataclass(frozen=True)
class Activation:
    """An activation f with its derivative written as the course writes it."""

    name: str
    formula: str            # a = f(z)
    derivative_formula: str  # f′(z)
    fn: Callable[[np.ndarray], np.ndarray]
    deriv: Callable[[np.ndarray, np.ndarray], np.ndarray]  # f′ from (z, a), elementwise
    elementwise: bool = True


def _leaky(alpha: float) -> Activation:
    return Activation(
        "leaky_relu", f"max({alpha}·z, z)", f"1 if z > 0 else {alpha}",
        lambda z: np.where(z > 0, z, alpha * z),
        lambda z, a: np.where(z > 0, 1.0, alpha))


ACTIVATIONS: dict[str, Activation] = {
    "linear": Activation("linear", "z", "1", lambda z: z, lambda z, a: np.ones_like(z)),
    "step": Activation("step", "1 if z ≥ 0 else 0", "0 (step is not differentiable)",
                       lambda z: (z >= 0).astype(np.float64), lambda z, a: np.zeros_like(z)),
    "relu": Activation("relu", "max(0, z)", "1 if z > 0 else 0",
                       lambda z: np.maximum(z, 0.0), lambda z, a: (z > 0).astype(np.float64)),
    "leaky_relu": _leaky(0.01),
    "sigmoid": Activation("sigmoid", "1 / (1 + e^(−z))", "σ(z)·(1 − σ(z)) = a·(1 − a)",
                          sigmoid, lambda z, a: a * (1.0 - a)),
    "tanh": Activation("tanh", "(e^z − e^(−z)) / (e^z + e^(−z))", "1 − tanh²(z) = 1 − a²",
                       np.tanh, lambda z, a: 1.0 - a * a),
    "softmax": Activation("softmax", "e^(z_k) / Σ_j e^(z_j)", "diag(p) − p·pᵀ (Jacobian)",
                          softmax, lambda z, a: softmax_jacobian(a), elementwise=False),
}
ALIASES = {"identity": "linear", "none": "linear", "logistic": "sigmoid", "heaviside": "step",
           "leakyrelu": "leaky_relu", "leaky-relu": "leaky_relu", "lrelu": "leaky_relu"}


def get_activation(name: str, alpha: float | None = None) -> Activation:
    """Look an activation up by name (aliases accepted); `alpha` sets the leaky-ReLU slope."""
    key = str(name).strip().lower()
    key = ALIASES.get(key, key)
    if key not in ACTIVATIONS:
        raise NNTError(f"unknown activation '{name}'; use one of: {', '.join(ACTIVATIONS)}")
    if key == "leaky_relu" and alpha is not None:
        return _leaky(float(alpha))
    return ACTIVATIONS[key]


# ---- losses ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Loss:
    """A loss per sample (summed over outputs) and its gradient ∂L/∂ŷ for one sample."""

    name: str
    formula: str
    gradient_formula: str
    per_sample: Callable[[np.ndarray, np.ndarray], np.ndarray]  # (K, m), (K, m) -> (m,)
    grad: Callable[[np.ndarray, np.ndarray], np.ndarray]        # (K, m), (K, m) -> (K, m)
    grad_template: str = "∂L/∂ŷ({0}, {1})"  # {0} = ŷ, {1} = y, written elementwise


def _clip(p):
    return np.clip(p, EPS, 1.0 - EPS)


LOSSES: dict[str, Loss] = {
    "half_sse": Loss("half_sse", "L = ½·Σ_k (ŷ_k − y_k)²", "∂L/∂ŷ = ŷ − y",
                     lambda yh, y: 0.5 * np.sum((yh - y) ** 2, axis=0), lambda yh, y: yh - y,
                     "{0} − {1}"),
    "sse": Loss("sse", "L = Σ_k (ŷ_k − y_k)²", "∂L/∂ŷ = 2·(ŷ − y)",
                lambda yh, y: np.sum((yh - y) ** 2, axis=0), lambda yh, y: 2.0 * (yh - y),
                "2·({0} − {1})"),
    "mse": Loss("mse", "L = (1/K)·Σ_k (ŷ_k − y_k)²", "∂L/∂ŷ = (2/K)·(ŷ − y)",
                lambda yh, y: np.mean((yh - y) ** 2, axis=0),
                lambda yh, y: 2.0 * (yh - y) / yh.shape[0], "(2/K)·({0} − {1})"),
    "bce": Loss("bce", "L = −Σ_k [y_k·ln ŷ_k + (1 − y_k)·ln(1 − ŷ_k)]",
                "∂L/∂ŷ = −y/ŷ + (1 − y)/(1 − ŷ)",
                lambda yh, y: -np.sum(y * np.log(_clip(yh)) + (1 - y) * np.log(_clip(1 - yh)), axis=0),
                lambda yh, y: -y / _clip(yh) + (1 - y) / _clip(1 - yh),
                "−{1}/{0} + (1 − {1})/(1 − {0})"),
    "cross_entropy": Loss("cross_entropy", "L = −Σ_k y_k·ln p_k", "∂L/∂p = −y/p",
                          lambda yh, y: -np.sum(y * np.log(np.maximum(yh, EPS)), axis=0),
                          lambda yh, y: -y / np.maximum(yh, EPS), "−{1}/{0}"),
}
LOSS_ALIASES = {"half_mse": "half_sse", "squared_error": "sse", "mean_squared_error": "mse",
                "binary_cross_entropy": "bce", "log_loss": "bce", "ce": "cross_entropy",
                "categorical_cross_entropy": "cross_entropy", "cce": "cross_entropy"}

# (output activation, loss) pairs whose ∂L/∂z simplifies to ŷ − y (the Jacobian cancels)
FUSED = {("softmax", "cross_entropy"), ("sigmoid", "bce")}


def get_loss(name: str) -> Loss:
    """Look a loss up by name (aliases accepted)."""
    key = str(name).strip().lower()
    key = LOSS_ALIASES.get(key, key)
    if key not in LOSSES:
        raise NNTError(f"unknown loss '{name}'; use one of: {', '.join(LOSSES)}")
    return LOSSES[key]


# ---- R7: activation samples ----------------------------------------------------------------------

def walk_activations(spec: dict, options=None):
    """Evaluate activations at given points: `samples: [{activation: sigmoid, at: [0, 2, -2]}, ...]`.

    Each entry shows f(z) and f′(z) at every point (softmax: the distribution and its Jacobian).
    """
    from nn_tutor.engine.trace import Op, Trace

    samples = spec.get("samples")
    if not isinstance(samples, list) or not samples:
        raise NNTError("kind 'activations' needs 'samples': a list of {activation: NAME, at: [numbers]}")
    trace = Trace(spec.get("title", "Activation samples"))
    for n, entry in enumerate(samples, 1):
        if not isinstance(entry, dict) or "activation" not in entry or "at" not in entry:
            raise NNTError(f"samples[{n}] needs 'activation' and 'at' (a list of numbers)")
        act = get_activation(entry["activation"], entry.get("alpha"))
        z = _float_vector(entry["at"], f"samples[{n}].at")
        tag = f"{act.name}{n}"
        trace.given(f"{tag}.z", f"inputs to {act.name}", "z", z)
        trace.add(f"{tag}.a", f"{act.name}(z)", f"a = {act.formula}", act.fn(z[:, None])[:, 0],
                  (f"{tag}.z",), Op(lambda zz, f=act.fn: f(zz[:, None])[:, 0], f"{act.name}({{0}})"))
        if act.elementwise:
            trace.add(f"{tag}.da", f"{act.name}′(z)", f"f′(z) = {act.derivative_formula}",
                      act.deriv(z, act.fn(z)), (f"{tag}.z",),
                      Op(lambda zz, a=act: a.deriv(zz, a.fn(zz)), f"{act.name}′({{0}})"))
        else:
            trace.add(f"{tag}.jacobian", "softmax Jacobian ∂p/∂z", f"J = {act.derivative_formula}",
                      softmax_jacobian(act.fn(z[:, None]))[0], (f"{tag}.z",),
                      Op(lambda zz, a=act: softmax_jacobian(a.fn(zz[:, None]))[0],
                         "diag(p) − p·pᵀ with p = softmax({0})"))
    return trace


def _float_vector(value, where: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise NNTError(f"{where} must be a list of numbers") from None
    if arr.size == 0 or not np.all(np.isfinite(arr)):
        raise NNTError(f"{where} must be a non-empty list of finite numbers")
    return arr
