"""Dense (fully connected) layer: z = W·a_prev + b, a = f(z), and its backward rules, traced."""
from __future__ import annotations

import numpy as np

from nn_tutor.engine.layer import Layer, batch_mean_expansion, grad_kind, record_activation, record_activation_backward
from nn_tutor.engine.numfmt import fmt_term
from nn_tutor.engine.ops import get_activation, zero_within_rounding
from nn_tutor.engine.trace import Op

MAX_TERMS = 8  # element expansions longer than this are elided in the middle


def _affine(W, a, b):
    """z = W·a + b for a batch: W (n_out, n_in), a (n_in, m), b (n_out,) -> (n_out, m).

    A sum within rounding noise of 0 is exactly 0 (the kink conventions apply to it).
    """
    magnitude = np.abs(W) @ np.abs(a) + np.abs(b)[:, None]                     # (n_out, m)
    return zero_within_rounding(W @ a + b[:, None], magnitude, W.shape[1] + 1)


def _sum_of_products(pairs: list[tuple[str, str]], tail: str = "") -> str:
    terms = [f"{w}×{v}" for w, v in pairs]
    if len(terms) > MAX_TERMS:
        terms = terms[:3] + [f"… ({len(terms) - 5} more terms) …"] + terms[-2:]
    text = " + ".join(terms)
    return f"{text} + {tail}" if tail else text


def _expand_affine(inputs, idx, p):
    W, a, b = inputs
    r, col = idx
    pairs = [(fmt_term(W[r, k], p), fmt_term(a[k, col], p)) for k in range(W.shape[1])]
    return _sum_of_products(pairs, fmt_term(b[r], p))


def _outer(delta, a):
    """∂L/∂W = δ·aᵀ summed over the batch: (n_out, m), (n_in, m) -> (n_out, n_in)."""
    return delta @ a.T


def _expand_outer(inputs, idx, p):
    delta, a = inputs
    r, c = idx
    pairs = [(fmt_term(delta[r, s], p), fmt_term(a[c, s], p)) for s in range(delta.shape[1])]
    return _sum_of_products(pairs)


def _backprop(W, delta):
    """∂L/∂a_prev = Wᵀ·δ: (n_out, n_in), (n_out, m) -> (n_in, m)."""
    return W.T @ delta


def _expand_backprop(inputs, idx, p):
    W, delta = inputs
    c, s = idx
    pairs = [(fmt_term(W[r, c], p), fmt_term(delta[r, s], p)) for r in range(W.shape[0])]
    return _sum_of_products(pairs)


def _over_batch(m: int, batch_mean: float) -> str:
    """How a parameter gradient combines the samples of a batch, for its formula."""
    if m == 1:
        return ""
    return ", averaged over the batch" if batch_mean != 1.0 else ", summed over the batch"


def _bias_grad(delta):
    """∂L/∂b = δ summed over the batch: (n_out, m) -> (n_out,)."""
    return delta.sum(axis=1)


class DenseLayer(Layer):
    """A traced dense layer with activation f."""

    kind = "dense"
    param_names = ("W", "b")

    def __init__(self, spec, index):
        super().__init__(spec, index, batch_axis=1)
        self.act = get_activation(spec.activation, spec.alpha)

    def params(self):
        return {"W": self.spec.W, "b": self.spec.b}

    def forward(self, trace, in_id, prefix, params):
        i = self.i
        W_id, b_id = params["W"], params["b"]
        prev = in_id.rpartition(".")[2] if "." in in_id else in_id
        prev = f"a{i - 1}" if prev == "a" else prev
        z_id, a_id = f"{prefix}L{i}.z", f"{prefix}L{i}.a"
        z = _affine(trace[W_id].value, trace[in_id].value, trace[b_id].value)  # (n_out, m)
        trace.add(z_id, f"pre-activation of layer {i} (weighted sum plus bias)",
                  f"z{i} = W{i}·{prev} + b{i}", z, (W_id, in_id, b_id),
                  Op(_affine, "{0}·{1} + {2}", _expand_affine), 1,
                  quantity="pre_activation", layer=i, activation=self.act.name)
        record_activation(trace, self.act, z_id, a_id, f"activation of layer {i}", 1, i)
        return a_id

    def backward(self, trace, grad_out_id, in_id, grad_in_id, fused=None, batch_mean=1.0):
        """δ, ∂L/∂W = (1/m)·Σ_samples δ·a_prevᵀ, ∂L/∂b = (1/m)·Σ_samples δ, ∂L/∂a_prev = Wᵀ·δ
        (batch_mean = 1/m for a batch averaged, 1 when it is summed or m = 1)."""
        i = self.i
        delta_id = record_activation_backward(trace, self.act, f"L{i}.z", f"L{i}.a", grad_out_id, 1, i, fused)
        delta, a_prev = trace[delta_id].value, trace[in_id].value
        over = _over_batch(trace.batch_size, batch_mean)
        dW = lambda d, a: batch_mean * _outer(d, a)   # noqa: E731
        db = lambda d: batch_mean * _bias_grad(d)     # noqa: E731
        trace.add(f"L{i}.dW", f"gradient of the loss for layer {i}'s weights",
                  f"∂L/∂W{i} = δ{i}·a{i - 1}ᵀ (outer product{over})",
                  dW(delta, a_prev), (delta_id, in_id),
                  Op(dW, "{0} ⊗ {1}", batch_mean_expansion(_expand_outer, batch_mean, trace.batch_size)),
                  phase="backward", quantity="grad_weights", layer=i)
        trace.add(f"L{i}.db", f"gradient of the loss for layer {i}'s biases",
                  f"∂L/∂b{i} = δ{i}" + (f" ({over[2:]})" if over else ""),
                  db(delta), (delta_id,), Op(db, "Σ {0}"), phase="backward",
                  quantity="grad_biases", layer=i)
        if grad_in_id is not None:
            W_id = f"L{i}.W"
            trace.add(grad_in_id, f"gradient passed back to layer {i - 1}'s output",
                      f"∂L/∂a{i - 1} = W{i}ᵀ·δ{i}", _backprop(trace[W_id].value, delta), (W_id, delta_id),
                      Op(_backprop, "{0}ᵀ·{1}", _expand_backprop), 1,
                      **grad_kind(grad_in_id, i - 1))
