"""The misconception catalogue: each named mistake computes the value it would give at a step.

A mistake is made in some world (the true numbers, or the student's own earlier ones: world.View)
at the step where it happens; steps computed from that step follow (a wrong δ gives wrong ∂L/∂W and
∂L/∂b). A wrong claim is named only when one alternative reproduces the student's number and
differs from the value the step should have. Steps are recognised by their typed fields
(quantity, layer, activation), never by their ids or formulas.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from nn_tutor.engine.errors import NNTError


@dataclass(frozen=True)
class Misconception:
    """A named mistake: what it is, how to put it right, and the values it gives at a step."""

    name: str
    title: str
    hint: str
    alternatives: Callable[[object, str], Iterator[np.ndarray]]    # (view, step id) -> display arrays


# --- finding steps by what they are ------------------------------------------------------------------

def _find(view, quantity: str, layer: int | None, phase: str | None = None) -> str | None:
    """The id of the step with this quantity and layer (not of the pass after the update)."""
    for s in view.trace:
        if s.quantity == quantity and s.layer == layer and s.phase != "after" and (phase is None or s.phase == phase):
            return s.id
    return None


def _output_layer(view) -> int | None:
    out = view.trace.info.get("output_id")
    return view.trace[out].layer if out in view else None


def _loss(view) -> str:
    return str(view.trace.info.get("loss_name") or "")


def _input_of(view, sid: str, quantity: str) -> str | None:
    """The input of step `sid` that is a `quantity` step."""
    for i in view.step(sid).inputs:
        if view.step(i).quantity == quantity:
            return i
    return None


def through(view, sid: str, changed: dict[str, np.ndarray], depth: int = 3) -> np.ndarray | None:
    """Step `sid` recomputed in `view` after the steps in `changed` took the given values."""
    if sid in changed:
        return changed[sid]
    step = view.step(sid)
    if step.op is None or depth == 0:
        return None
    over = {}
    for i in step.inputs:
        v = changed[i] if i in changed else through(view, i, changed, depth - 1)
        if v is not None:
            over[i] = v
    return view.recompute(sid, over) if over else None


def _yield(value) -> Iterator[np.ndarray]:
    if value is not None:
        yield value


# --- the alternatives, one function per mistake --------------------------------------------------------

def _scaled_loss(factor: float, losses: tuple[str, ...], gradient: bool):
    """The loss (and, when `gradient`, ∂L/∂ŷ and what follows from it) multiplied by `factor`."""
    def alternatives(view, sid):
        if _loss(view) not in losses:
            return
        step = view.step(sid)
        if step.quantity in ("loss", "sample_losses"):
            yield factor * view.value(sid)
            return
        last = _output_layer(view)
        da = _find(view, "grad_activation", last)
        if gradient and da is not None and step.phase in ("backward", "update"):
            yield from _yield(through(view, sid, {da: factor * view.value(da)}, depth=4))
    return alternatives


def _update(transform):
    """An update step w ← w − η·g computed with its gradient (or error) and η transformed."""
    def alternatives(view, sid):
        step = view.step(sid)
        if step.quantity not in ("updated_weights", "updated_biases"):
            return
        g = _input_of(view, sid, "grad_weights") or _input_of(view, sid, "grad_biases") or \
            _input_of(view, sid, "error")
        lr = _input_of(view, sid, "learning_rate")
        if g is None or lr is None:
            return
        new_g, new_lr = transform(view.value(g), view.value(lr))
        yield from _yield(view.recompute(sid, {g: new_g, lr: new_lr}))
    return alternatives


def _derivative(wrong, activations: tuple[str, ...]):
    """f′(z) replaced by wrong(z, a) in a layer with one of `activations`; δ, ∂L/∂W, ∂L/∂b follow."""
    def alternatives(view, sid):
        step = view.step(sid)
        k = step.layer
        if k is None or step.phase not in ("backward",):
            return
        dadz = _find(view, "activation_derivative", k)
        if dadz is None or view.step(dadz).activation not in activations:
            return
        z_id, a_id = view.step(dadz).inputs[:2]
        yield from _yield(through(view, sid, {dadz: wrong(view.value(z_id), view.value(a_id))}))
    return alternatives


def _delta_is(make):
    """δ at some layer replaced by make(view, layer) (None: not this layer); what follows follows."""
    def alternatives(view, sid):
        step = view.step(sid)
        k = step.layer
        if k is None or step.phase != "backward":
            return
        delta = _find(view, "delta", k)
        if delta is None:
            return
        value = make(view, k)
        if value is not None:
            yield from _yield(through(view, sid, {delta: value}))
    return alternatives


def _no_activation_derivative(view, k):
    dadz = _find(view, "activation_derivative", k)
    da = _find(view, "grad_activation", k)
    if dadz is None or da is None or view.step(dadz).activation in (None, "linear", "softmax"):
        return None
    return view.value(da)


def _softmax_shortcut(view, k):
    if k != _output_layer(view) or _loss(view) == "cross_entropy":
        return None
    a = _find(view, "activation", k)
    if a is None or view.step(a).activation != "softmax":
        return None
    return view.value(a) - view.value("y")


def _delta_sign(view, sid):
    """∂L/∂ŷ written y − ŷ (and δ = y − p): the sign of the output gradient flipped."""
    step = view.step(sid)
    last = _output_layer(view)
    da = _find(view, "grad_activation", last)
    if da is None or step.phase != "backward":
        return
    if step.quantity == "delta" and step.layer == last:
        yield -view.value(sid)
    yield from _yield(through(view, sid, {da: -view.value(da)}, depth=4))


def _error_sign(view, sid):
    """A perceptron's error written ŷ − y: the update moves the wrong way."""
    step = view.step(sid)
    if step.quantity != "updated_weights" and step.quantity != "updated_biases":
        return
    err = _input_of(view, sid, "error")
    if err is not None:
        yield from _yield(view.recompute(sid, {err: -view.value(err)}))


def _missing_bias(view, sid):
    step = view.step(sid)
    k = step.layer
    if k is None or step.phase not in ("forward", "update"):
        return
    if step.quantity == "updated_biases":
        b = _input_of(view, sid, "biases")
        if b is not None:
            yield view.value(b)          # the bias never updated
        return
    z = sid if step.quantity == "pre_activation" else _find(view, "pre_activation", k)
    if z is None:
        return
    b = _input_of(view, z, "biases")
    if b is None:
        return
    yield from _yield(through(view, sid, {z: view.recompute(z, {b: np.zeros_like(view.value(b))})}))


def _transposed_weights(view, sid):
    """W read by columns going forward (W instead of its rows), or another neuron's weights going back."""
    step = view.step(sid)
    if step.quantity == "pre_activation" and step.phase == "forward":
        W = _input_of(view, sid, "weights")
        if W is not None and np.ndim(view.value(W)) == 2 and view.value(W).shape[0] == view.value(W).shape[1]:
            yield from _yield(view.recompute(sid, {W: view.value(W).T}))
    if step.quantity in ("grad_activation", "delta") and step.phase == "backward":
        target = sid
        W = _input_of(view, sid, "weights")
        if W is None:                      # δ: the mistake sits in the ∂L/∂a before it
            da = _find(view, "grad_activation", step.layer)
            if da is None or _input_of(view, da, "weights") is None:
                return
            target, W = da, _input_of(view, da, "weights")
        w = view.value(W)
        if np.ndim(w) != 2 or w.shape[1] > 4:
            return
        swapped = [w.T] if w.shape[0] == w.shape[1] else []
        swapped += [w[:, list(perm)] for perm in itertools.permutations(range(w.shape[1]))
                    if list(perm) != sorted(perm)]
        for other in swapped:
            alt = view.recompute(target, {W: other})
            yield from _yield(alt if target == sid else through(view, sid, {target: alt}))


def _net_instead_of_out(view, sid):
    """The next layer fed z (the pre-activation) instead of a = f(z)."""
    step = view.step(sid)
    if step.phase not in ("forward", "backward") or step.quantity not in ("pre_activation", "activation", "grad_weights"):
        return
    z = sid if step.quantity == "pre_activation" else _find(view, "pre_activation", step.layer)
    if z is None:
        return
    a_prev = next((i for i in view.step(z).inputs if view.step(i).quantity == "activation"), None)
    if a_prev is None:
        return
    z_prev = view.step(a_prev).inputs[0]
    if np.shape(view.value(z_prev)) != np.shape(view.value(a_prev)):
        return
    if step.quantity == "grad_weights":          # ∂L/∂W = δ ⊗ z_prev instead of δ ⊗ a_prev
        if a_prev in step.inputs:
            yield from _yield(view.recompute(sid, {a_prev: view.value(z_prev)}))
        return
    yield from _yield(through(view, sid, {z: view.recompute(z, {a_prev: view.value(z_prev)})}))


def _updated_weight_in_backprop(view, sid):
    step = view.step(sid)
    if step.phase != "backward" or step.layer is None:
        return
    da = sid if step.quantity == "grad_activation" else _find(view, "grad_activation", step.layer)
    if da is None:
        return
    W = _input_of(view, da, "weights")
    if W is None:
        return
    new = next((s.id for s in view.trace if s.quantity == "updated_weights" and s.layer == view.step(W).layer), None)
    if new is not None:
        yield from _yield(through(view, sid, {da: view.recompute(da, {W: view.value(new)})}))


def _batch_scaled(factor_of):
    """A batch loss or parameter gradient summed where it is averaged (or the reverse)."""
    def alternatives(view, sid):
        m = view.trace.batch_size
        factor = factor_of(view, m)
        if factor is None:
            return
        step = view.step(sid)
        if step.quantity == "loss" and step.phase != "after":
            yield factor * view.value(sid)
        elif step.quantity in ("grad_weights", "grad_biases"):
            yield factor * view.value(sid)
        elif step.quantity in ("updated_weights", "updated_biases"):
            g = _input_of(view, sid, "grad_weights") or _input_of(view, sid, "grad_biases")
            if g is not None:
                yield from _yield(view.recompute(sid, {g: factor * view.value(g)}))
    return alternatives


def _sum_factor(view, m):
    return float(m) if m > 1 and view.trace.info.get("batch_reduction") == "mean" else None


def _mean_factor(view, m):
    out = view.trace.info.get("output_id")
    k = int(np.size(view.world.truth[out])) // max(m, 1) if out in view else 1
    n = (m if view.trace.info.get("batch_reduction") == "sum" else 1) * (k if _loss(view) != "mse" else 1)
    return 1.0 / n if n > 1 else None


def _log10(view, sid):
    if _loss(view) in ("bce", "cross_entropy") and view.step(sid).quantity in ("loss", "sample_losses"):
        yield view.value(sid) / math.log(10)


def _pool_gradient(divided: bool, mode: str):
    """The pooled gradient copied to every cell of its window (max-pool: not only the maximum;
    average-pool: not divided by the window size)."""
    def alternatives(view, sid):
        step = view.step(sid)
        if step.quantity not in ("grad_activation", "delta") or step.phase != "backward":
            return
        route = sid
        if not _is_pool_route(view, route, mode):
            route = next((i for i in step.inputs if _is_pool_route(view, i, mode)), None)
            if route is None:
                deeper = [j for i in step.inputs for j in view.step(i).inputs if _is_pool_route(view, j, mode)]
                route = deeper[0] if deeper else None
        if route is None:
            return
        g_id, x_id = view.step(route).inputs[:2]
        g, x = view.value(g_id), view.value(x_id)
        if np.ndim(g) < 2 or np.ndim(x) != np.ndim(g):
            return
        fh, fw = x.shape[-2] // max(g.shape[-2], 1), x.shape[-1] // max(g.shape[-1], 1)
        up = np.repeat(np.repeat(g, fh, axis=-2), fw, axis=-1)
        if up.shape != x.shape:
            return
        yield from _yield(through(view, sid, {route: up}))
    return alternatives


def _is_pool_route(view, sid, mode) -> bool:
    """Is `sid` the gradient routed back through a pooling layer of this mode (max or avg)?"""
    step = view.step(sid)
    if step.quantity not in ("grad_activation", "delta") or step.layer is None:
        return False
    pool = _find(view, "pool", step.layer + 1)
    if pool is None:
        return False
    has_mask = _find(view, "pool_mask", step.layer + 1) is not None
    return has_mask if mode == "max" else not has_mask


def _weight_gradient_with_input(view, sid):
    step = view.step(sid)
    if step.quantity != "grad_weights" or step.layer is None or step.layer < 2:
        return
    prev = step.inputs[-1]
    if prev != "x" and "x" in view and np.shape(view.value("x")) == np.shape(view.value(prev)):
        yield from _yield(view.recompute(sid, {prev: view.value("x")}))


CATALOGUE: list[Misconception] = [
    Misconception("missing_half", "the ½ of ½·Σ(ŷ − y)² left out",
                  "with L = ½Σ(ŷ − y)² the 2 from the square cancels the ½: ∂L/∂ŷ = ŷ − y",
                  _scaled_loss(2.0, ("half_sse",), gradient=True)),
    Misconception("extra_half", "a ½ the loss does not have",
                  "this loss has no ½: L = Σ(ŷ − y)² (or its mean) and ∂L/∂ŷ = 2(ŷ − y)",
                  _scaled_loss(0.5, ("sse", "mse"), gradient=True)),
    Misconception("update_sign", "moved along the gradient (w + η·g)",
                  "gradient descent moves against the gradient: w_new = w − η·∂L/∂w", _update(lambda g, lr: (-g, lr))),
    Misconception("learning_rate_missing", "η left out of the update",
                  "multiply the gradient by η once: w_new = w − η·∂L/∂w", _update(lambda g, lr: (g, np.ones_like(lr)))),
    Misconception("learning_rate_twice", "η applied twice",
                  "multiply the gradient by η once: w_new = w − η·∂L/∂w", _update(lambda g, lr: (g, lr * lr))),
    Misconception("perceptron_error_sign", "perceptron error taken as ŷ − y",
                  "the perceptron rule adds η·(y − ŷ)·x: target minus prediction", _error_sign),
    Misconception("sigmoid_prime_as_sigmoid", "σ(z) used where σ′(z) belongs",
                  "σ′(z) = σ(z)(1 − σ(z)) = a(1 − a), not σ(z) itself",
                  _derivative(lambda z, a: a, ("sigmoid",))),
    Misconception("tanh_derivative_in_sigmoid_layer", "tanh′ = 1 − a² used in a sigmoid layer",
                  "for the sigmoid σ′ = a(1 − a); 1 − a² is the derivative of tanh",
                  _derivative(lambda z, a: 1 - a * a, ("sigmoid",))),
    Misconception("sigmoid_derivative_from_z", "σ′ computed from z instead of a",
                  "σ′(z) = a(1 − a) with a = σ(z): use the activation, not z",
                  _derivative(lambda z, a: z * (1 - z), ("sigmoid",))),
    Misconception("sigmoid_derivative_in_tanh_layer", "σ′ = a(1 − a) used in a tanh layer",
                  "for tanh the derivative is 1 − a²", _derivative(lambda z, a: a * (1 - a), ("tanh",))),
    Misconception("relu_derivative_negative", "ReLU′ taken as 1 at a negative z",
                  "ReLU′(z) = 0 for z < 0 (leaky ReLU: α), so no gradient passes there",
                  _derivative(lambda z, a: np.ones_like(z), ("relu", "leaky_relu"))),
    Misconception("missing_activation_derivative", "the activation's derivative left out of δ",
                  "δ = ∂L/∂a ⊙ f′(z): multiply by the activation's derivative at this layer",
                  _delta_is(_no_activation_derivative)),
    Misconception("softmax_shortcut_with_squared_loss", "δ = p − y used with a squared loss",
                  "p − y is the softmax + cross-entropy shortcut; with a squared loss use δ = Jᵀ·∂L/∂p with "
                  "the softmax Jacobian J = diag(p) − p·pᵀ", _delta_is(_softmax_shortcut)),
    Misconception("delta_sign", "the output gradient's sign flipped (y − ŷ)",
                  "∂L/∂ŷ = ŷ − y (prediction minus target) for a squared loss, and δ = p − y for "
                  "softmax with cross-entropy", _delta_sign),
    Misconception("transposed_weights", "another neuron's weights used (W read by columns)",
                  "row i of W holds the weights into neuron i; going back, ∂L/∂a_prev[j] = Σ_r W[r, j]·δ[r] "
                  "uses the weights leaving neuron j", _transposed_weights),
    Misconception("missing_bias", "the bias left out (or never updated)",
                  "z = W·a + b: add the bias, and update it with its own gradient", _missing_bias),
    Misconception("net_instead_of_out", "the pre-activation z passed on instead of a = f(z)",
                  "the next layer takes the activation's output a = f(z), not z", _net_instead_of_out),
    Misconception("updated_weight_in_backprop", "the already-updated weights used going back",
                  "backpropagate with the weights of the forward pass; update them afterwards",
                  _updated_weight_in_backprop),
    Misconception("sum_instead_of_mean", "a batch summed where it is averaged",
                  "the batch loss is the mean of the sample losses, so its gradients are means too",
                  _batch_scaled(_sum_factor)),
    Misconception("mean_instead_of_sum", "averaged where the loss sums",
                  "this loss sums over the outputs (and samples): do not divide", _batch_scaled(_mean_factor)),
    Misconception("log10_instead_of_ln", "log base 10 instead of the natural log",
                  "cross-entropy uses ln; log10 gives values smaller by a factor ln 10", _log10),
    Misconception("maxpool_gradient_spread", "max-pool gradient sent to every cell of the window",
                  "max-pool passes the gradient only to the cell that held the maximum; the others get 0",
                  _pool_gradient(False, "max")),
    Misconception("avgpool_gradient_not_divided", "average-pool gradient not divided by the window size",
                  "each cell of a k×k average-pool window gets 1/k² of the pooled gradient",
                  _pool_gradient(False, "avg")),
    Misconception("weight_gradient_with_network_input", "∂L/∂W formed with the network input",
                  "∂L/∂W_k = δ_k ⊗ a_{k−1}: use the output of the layer feeding this one",
                  _weight_gradient_with_input),
]


def alternatives(view, sid: str, index: tuple) -> Iterator[tuple[Misconception, np.ndarray]]:
    """(mistake, the value it gives at step[index]) for every catalogued mistake that applies."""
    for m in CATALOGUE:
        try:
            for alt in m.alternatives(view, sid):
                if alt is not None and np.shape(alt) == np.shape(view.world.truth[sid]):
                    yield m, np.asarray(alt, dtype=np.float64)[index]
        except (NNTError, ValueError, IndexError, KeyError, TypeError, FloatingPointError):
            continue
