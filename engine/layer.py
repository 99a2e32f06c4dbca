"""The layer interface of a traced network, and the shape-agnostic layers (activation, flatten).

A layer records its forward steps into a Trace and, going back, its gradient steps:
forward(trace, in_id, prefix, params) -> id of its output; backward(trace, grad_out_id, in_id,
grad_in_id) records ∂L/∂(its parameters) and, when grad_in_id is given, ∂L/∂(its input).
Values are internal (batched): vectors (n, m), maps (m, C, H, W).
"""
from __future__ import annotations

import numpy as np

from nn_tutor.engine.numfmt import fmt_num, fmt_term
from nn_tutor.engine.ops import get_activation, softmax_jacobian
from nn_tutor.engine.trace import Op, Trace


def symbol(step_id: str) -> str:
    """How the course writes a step: L1.a -> a1, after.L2.z -> z2, L2.delta -> δ2, x -> x."""
    stem, _, name = step_id.rpartition(".")
    layer = stem.rpartition("L")[2] if "L" in stem else ""
    return {"delta": "δ"}.get(name, name) + layer if stem else step_id


def grad_id_for(out_id: str) -> str:
    """Id of ∂L/∂(a step): L2.a -> L2.da, L1.z -> L1.delta (δ is ∂L/∂z)."""
    stem, _, name = out_id.rpartition(".")
    return f"{stem}.delta" if name == "z" else f"{stem}.d{name}"


def batch_mean_expansion(expand, batch_mean: float, m: int):
    """A parameter gradient's element expansion with the batch mean written in front: (1/3)·(…)."""
    if batch_mean == 1.0:
        return expand
    return lambda inputs, idx, p: f"(1/{m})·({expand(inputs, idx, p)})"


def grad_kind(grad_id: str, layer: int) -> dict:
    """The typed fields of a gradient step made by grad_id_for: δ for a z, else ∂L/∂a."""
    return {"quantity": "delta" if grad_id.endswith(".delta") else "grad_activation", "layer": layer}


class Layer:
    """Base layer: index i (1-based), its parameters, the batch axis of its values."""

    kind = "layer"
    param_names: tuple[str, ...] = ()

    def __init__(self, spec, index: int, batch_axis: int):
        self.spec = spec
        self.i = index
        self.batch_axis = batch_axis  # of this layer's output
        self.out_name = "a"

    def params(self) -> dict[str, np.ndarray]:
        """Initial parameter values by name ('W', 'b')."""
        return {}

    def forward(self, trace: Trace, in_id: str, prefix: str, params: dict[str, str]) -> str:
        raise NotImplementedError

    def backward(self, trace: Trace, grad_out_id: str, in_id: str, grad_in_id: str | None) -> None:
        raise NotImplementedError


def elementwise_op(fn, name: str) -> Op:
    """An Op applying f elementwise, e.g. 'σ([0.3775, 0.3925])', expanding to 'σ(0.3775)'."""
    return Op(fn, f"{name}({{0}})", lambda inputs, idx, p: f"{name}({fmt_num(inputs[0][idx], p)})")


def record_activation(trace: Trace, act, z_id: str, a_id: str, label: str, batch_axis: int,
                      layer: int) -> str:
    """Record a = f(z) for the activation of layer `layer`."""
    z = trace[z_id].value
    trace.add(a_id, label, f"{symbol(a_id)} = {act.name}({symbol(z_id)}) = {act.formula}",
              act.fn(z), (z_id,), elementwise_op(act.fn, act.name), batch_axis,
              quantity="activation", layer=layer, activation=act.name)
    return a_id


def record_activation_backward(trace: Trace, act, z_id: str, a_id: str, grad_a_id: str,
                               batch_axis: int, layer: int, fused: tuple[str, object] | None = None) -> str:
    """Record f′(z) and δ = ∂L/∂z = ∂L/∂a ⊙ f′(z) (softmax: Jacobianᵀ·∂L/∂a).

    `fused` = (loss name, fn(ŷ, y) -> δ) when the output activation and the loss simplify to ŷ − y.
    """
    stem = z_id.rpartition(".")[0]
    dadz_id, delta_id = f"{stem}.dadz", grad_id_for(z_id)

    def kind(quantity: str) -> dict:
        return {"quantity": quantity, "layer": layer, "activation": act.name}
    n = stem.rpartition("L")[2]
    z, a = trace[z_id].value, trace[a_id].value
    if act.elementwise:
        trace.add(dadz_id, f"derivative of the {act.name} at layer {n}",
                  f"∂{symbol(a_id)}/∂{symbol(z_id)} = {act.name}′(z{n}) = {act.derivative_formula}",
                  act.deriv(z, a), (z_id, a_id),
                  Op(act.deriv, f"{act.name}′ with z = {{0}}, a = {{1}}",
                     lambda inp, idx, p, n=act.name: _deriv_expand(n, inp, idx, p)),
                  batch_axis, **kind("activation_derivative"))
    else:
        trace.add(dadz_id, f"softmax Jacobian at layer {n}", f"∂p/∂z{n} = diag(p) − p·pᵀ",
                  softmax_jacobian(a), (a_id,),
                  Op(softmax_jacobian, "diag({0}) − {0}·{0}ᵀ"), 0, **kind("activation_derivative"))
    if fused:
        loss_name, fused_fn = fused
        trace.add(delta_id, f"δ at layer {n} (∂L/∂z{n})",
                  f"δ{n} = ŷ − y  ({act.name} + {loss_name}: the activation's derivative cancels against"
                  f" the loss; the same value as ∂L/∂ŷ ⊙ f′(z))",
                  fused_fn(a, trace["y"].value), (a_id, "y"),
                  Op(fused_fn, "{0} − {1}",
                     lambda inp, idx, p: f"{fmt_term(inp[0][idx], p)} − {fmt_term(inp[1][idx], p)}"),
                  batch_axis, **kind("delta"))
    elif act.elementwise:
        trace.add(delta_id, f"δ at layer {n} (∂L/∂z{n})", f"δ{n} = ∂L/∂{symbol(a_id)} ⊙ {act.name}′(z{n})",
                  trace[grad_a_id].value * trace[dadz_id].value, (grad_a_id, dadz_id),
                  Op(np.multiply, "{0} ⊙ {1}",
                     lambda inp, idx, p: f"{fmt_term(inp[0][idx], p)} × {fmt_term(inp[1][idx], p)}"),
                  batch_axis, **kind("delta"))
    else:
        trace.add(delta_id, f"δ at layer {n} (∂L/∂z{n})", f"δ{n} = Jᵀ·∂L/∂p (J = softmax Jacobian)",
                  _jacobian_vec(trace[dadz_id].value, trace[grad_a_id].value), (dadz_id, grad_a_id),
                  Op(_jacobian_vec, "{0}ᵀ·{1}"), batch_axis, **kind("delta"))
    return delta_id


def _jacobian_vec(J, g):
    """Per sample Jᵀ·g: J (m, K, K), g (K, m) -> (K, m)."""
    return np.einsum("mji,jm->im", J, g)


def _deriv_expand(name: str, inputs, idx, p) -> str:
    z, a = fmt_term(inputs[0][idx], p), fmt_term(inputs[1][idx], p)
    if name == "sigmoid":
        return f"{a} × (1 − {a})"
    if name == "tanh":
        return f"1 − {a}²"
    return f"{name}′({z})"


class ActivationLayer(Layer):
    """An activation used as a layer of its own: a = f(previous output), any shape."""

    kind = "activation"

    def __init__(self, spec, index, batch_axis):
        super().__init__(spec, index, batch_axis)
        self.act = get_activation(spec.activation, spec.alpha)

    def forward(self, trace, in_id, prefix, params):
        return record_activation(trace, self.act, in_id, f"{prefix}L{self.i}.a",
                                 f"{self.act.name} of layer {self.i - 1}'s output", self.batch_axis, self.i)

    def backward(self, trace, grad_out_id, in_id, grad_in_id):
        if grad_in_id is None:
            return
        # the input of this layer plays the role of z; its gradient id is named by the layer before
        z = trace[in_id].value
        a = trace[f"L{self.i}.a"].value
        dadz_id = f"L{self.i}.dadz"
        trace.add(dadz_id, f"{self.act.name}′ at layer {self.i}",
                  f"f′ = {self.act.derivative_formula}" + (" (a gate: passes where the input > 0)"
                                                          if self.act.name == "relu" else ""),
                  self.act.deriv(z, a), (in_id, f"L{self.i}.a"), Op(self.act.deriv, "f′({0})"),
                  self.batch_axis, quantity="activation_derivative", layer=self.i, activation=self.act.name)
        trace.add(grad_in_id, f"gradient through the {self.act.name} of layer {self.i}",
                  "∂L/∂(input) = ∂L/∂a ⊙ f′", trace[grad_out_id].value * trace[dadz_id].value,
                  (grad_out_id, dadz_id),
                  Op(np.multiply, "{0} ⊙ {1}",
                     lambda inp, idx, p: f"{fmt_term(inp[0][idx], p)} × {fmt_term(inp[1][idx], p)}"),
                  self.batch_axis, **grad_kind(grad_in_id, self.i - 1))


class FlattenLayer(Layer):
    """Maps (m, C, H, W) -> vectors (C·H·W, m), row-major (channel, row, column)."""

    kind = "flatten"

    def forward(self, trace, in_id, prefix, params):
        x = trace[in_id].value
        return_id = f"{prefix}L{self.i}.a"
        trace.add(return_id, f"flatten layer {self.i - 1}'s maps into a vector",
                  "a = flatten(maps) (channel, then row, then column)", _flatten(x), (in_id,),
                  Op(_flatten, "flatten({0})"), 1, quantity="flatten", layer=self.i)
        return return_id

    def backward(self, trace, grad_out_id, in_id, grad_in_id):
        if grad_in_id is None:
            return
        shape = trace[in_id].value.shape
        trace.add(grad_in_id, f"gradient reshaped back to maps (undo flatten of layer {self.i})",
                  "∂L/∂maps = reshape(∂L/∂a)", _unflatten(trace[grad_out_id].value, shape),
                  (grad_out_id, in_id), Op(lambda g, x: _unflatten(g, x.shape), "reshape({0})"), 0,
                  **grad_kind(grad_in_id, self.i - 1))


def _flatten(x):
    return x.reshape(x.shape[0], -1).T


def _unflatten(g, shape):
    return g.T.reshape(shape)
