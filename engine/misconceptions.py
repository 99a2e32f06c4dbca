"""The misconception catalogue: each named mistake computes the value it would produce.

A wrong claim is explained only when one alternative reproduces the student's number (within
the claim's tolerance) and differs from the true value; otherwise it stays plainly "wrong".
Alternatives are computed from the trace (true inputs) and, where the step has a recorded Op,
also from the student's own earlier numbers, so an explanation never rests on a guess.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from nn_tutor.engine.errors import NNTError
from nn_tutor.engine.verify import close, element, student_trace


@dataclass(frozen=True)
class Misconception:
    """A named mistake: what it is, how to fix it, and the values it produces at a step."""

    name: str
    title: str
    hint: str
    alternatives: Callable[[object, str], Iterator[np.ndarray]]  # (trace, step_id) -> display arrays


# --- helpers over a network trace ----------------------------------------------------------------

def _layer(step_id: str) -> int | None:
    m = re.match(r"L(\d+)\.", step_id)
    return int(m.group(1)) if m else None


def _d(trace, sid):
    return np.asarray(trace.display(sid), dtype=np.float64)


def _loss_name(trace) -> str:
    return str(trace.conventions.get("loss", "")).split(":")[0].strip()


def _activation(trace, k: int) -> str:
    sid = f"L{k}.a"
    if sid not in trace:
        return ""
    m = re.search(r"=\s*([a-z_]+)\(", trace[sid].formula)
    return m.group(1) if m else ""


def _last(trace) -> int | None:
    return _layer(trace.info.get("output_id", "") + ".")


def _recompute(trace, sid, overrides):
    try:
        return trace.recompute(sid, overrides)
    except (NNTError, ValueError, IndexError):
        return None


def _recomputed(trace, sid, overrides) -> Iterator[np.ndarray]:
    """The step recomputed with some inputs replaced, when that can be computed (yields 0 or 1 value)."""
    alt = _recompute(trace, sid, overrides)
    if alt is not None:
        yield alt


def _through_delta(trace, sid, k: int, delta) -> Iterator[np.ndarray]:
    """A wrong δ_k: itself at the δ step, and the ∂L/∂W_k and ∂L/∂b_k computed from it."""
    if sid == f"L{k}.delta":
        yield delta
    elif sid in (f"L{k}.dW", f"L{k}.db"):
        yield from _recomputed(trace, sid, {f"L{k}.delta": delta})


def _update_inputs(trace, sid):
    """(w, η, ∂L/∂w) of an update step L{k}.W_new or L{k}.b_new, or None."""
    if not (sid.endswith("_new") and sid.startswith("L")):
        return None
    p, g = sid[:-4], sid.replace(".W_new", ".dW").replace(".b_new", ".db")
    if p in trace and g in trace and "lr" in trace:
        return _d(trace, p), _d(trace, "lr"), _d(trace, g)
    return None


def _n_outputs(trace) -> int:
    out = trace.info.get("output_id")
    return int(np.size(_d(trace, out))) // max(trace.batch_size, 1) if out in trace else 1


# --- alternatives, one function per misconception -------------------------------------------------

def _missing_half(trace, sid):
    loss = _loss_name(trace)
    last = _last(trace)
    if loss in ("half_sse", "sse", "mse") and (sid in ("loss", "after.loss") or
                                                sid in (f"L{last}.da", f"L{last}.delta")):
        yield 2 * _d(trace, sid)
        yield 0.5 * _d(trace, sid)


def _mean_vs_sum(trace, sid):
    n = _n_outputs(trace) * max(trace.batch_size, 1)
    last = _last(trace)
    if n > 1 and (sid in ("loss", "after.loss") or sid == f"L{last}.da"):
        yield n * _d(trace, sid)
        yield _d(trace, sid) / n


def _update_sign(trace, sid):
    found = _update_inputs(trace, sid)
    if found is not None:
        w, lr, g = found
        yield w + lr * g


def _learning_rate_twice_or_missing(trace, sid):
    found = _update_inputs(trace, sid)
    if found is not None:
        w, lr, g = found
        yield w - g
        yield w - lr * lr * g


def _forgot_activation_derivative(trace, sid):
    k = _layer(sid)
    if k is None or f"L{k}.dadz" not in trace or _activation(trace, k) in ("", "linear", "softmax"):
        return
    da = f"L{k}.da"
    if da in trace:
        yield from _through_delta(trace, sid, k, _d(trace, da))


def _sigma_prime_wrong(trace, sid):
    k = _layer(sid)
    if k is None or _activation(trace, k) != "sigmoid" or f"L{k}.z" not in trace:
        return
    a, z = _d(trace, f"L{k}.a"), _d(trace, f"L{k}.z")
    for wrong in (a, z * (1 - z)):
        if sid == f"L{k}.dadz":
            yield wrong
        elif f"L{k}.da" in trace:
            yield from _through_delta(trace, sid, k, _d(trace, f"L{k}.da") * wrong)


def _preactivation_forwarded(trace, sid):
    k = _layer(sid)
    if k is None or k < 2 or f"L{k - 1}.z" not in trace or f"L{k - 1}.a" not in trace:
        return
    if sid in (f"L{k}.z", f"L{k}.dW") and f"L{k - 1}.a" in trace[sid].inputs:
        z_prev = _d(trace, f"L{k - 1}.z")
        if np.shape(z_prev) == np.shape(_d(trace, f"L{k - 1}.a")):
            yield from _recomputed(trace, sid, {f"L{k - 1}.a": z_prev})
    if sid == f"L{k}.a" and f"L{k}.z" in trace:
        z_alt = _recompute(trace, f"L{k}.z", {f"L{k - 1}.a": _d(trace, f"L{k - 1}.z")}) \
            if f"L{k - 1}.a" in trace[f"L{k}.z"].inputs else None
        if z_alt is not None:
            yield from _recomputed(trace, sid, {f"L{k}.z": z_alt})


def _wrong_backward_weight(trace, sid):
    """∂L/∂a_prev = Wᵀδ computed with W itself, or with another neuron's weights."""
    k = _layer(sid)
    if k is None or not sid.endswith(".da") or f"L{k + 1}.W" not in trace or \
            f"L{k + 1}.delta" not in trace or trace[sid].inputs[:1] != (f"L{k + 1}.W",):
        return
    W, delta = _d(trace, f"L{k + 1}.W"), _d(trace, f"L{k + 1}.delta")
    if W.ndim != 2:
        return
    if W.shape[0] == W.shape[1]:
        yield W @ delta
    for j in range(W.shape[1]):  # every element computed with column j's weights
        yield np.broadcast_to(W[:, j] @ delta, np.shape(_d(trace, sid))).copy()


def _used_updated_weight(trace, sid):
    k = _layer(sid)
    if k is None or not sid.endswith(".da") or f"L{k + 1}.W_new" not in trace:
        return
    if f"L{k + 1}.W" in trace[sid].inputs:
        yield from _recomputed(trace, sid, {f"L{k + 1}.W": _d(trace, f"L{k + 1}.W_new")})


def _bias_forgotten(trace, sid):
    k = _layer(sid)
    if k is None or sid.startswith("after."):
        return
    b = f"L{k}.b"
    if sid == f"L{k}.z" and b in trace[sid].inputs:
        yield from _recomputed(trace, sid, {b: np.zeros_like(_d(trace, b))})
    elif sid == f"L{k}.a" and f"L{k}.z" in trace and b in trace[f"L{k}.z"].inputs:
        z0 = _recompute(trace, f"L{k}.z", {b: np.zeros_like(_d(trace, b))})
        if z0 is not None:
            yield from _recomputed(trace, sid, {f"L{k}.z": z0})
    elif sid == f"L{k}.b_new":
        yield _d(trace, b)


def _softmax_mse_shortcut(trace, sid):
    last = _last(trace)
    if last is None or _activation(trace, last) != "softmax" or _loss_name(trace) == "cross_entropy":
        return
    yield from _through_delta(trace, sid, last, _d(trace, f"L{last}.a") - _d(trace, "y"))


def _maxpool_everywhere(trace, sid):
    """The pooled gradient copied to every position of its window instead of the max only."""
    step = trace[sid]
    if "max-pool" not in step.label and "maxpool" not in step.label.replace("-", ""):
        return
    g_out, x = step.inputs[0], step.inputs[1]
    g, xv = _d(trace, g_out), _d(trace, x)
    if g.ndim < 2 or xv.ndim != g.ndim:
        return
    fh, fw = xv.shape[-2] // max(g.shape[-2], 1), xv.shape[-1] // max(g.shape[-1], 1)
    up = np.repeat(np.repeat(g, fh, axis=-2), fw, axis=-1)
    if up.shape == xv.shape:
        yield up


def _log10(trace, sid):
    if _loss_name(trace) in ("bce", "cross_entropy") and sid in ("loss", "after.loss"):
        yield _d(trace, sid) / math.log(10)


def _gradient_sign(trace, sid):
    last = _last(trace)
    if sid in (f"L{last}.da", f"L{last}.delta") or (
            sid.endswith((".dW", ".db", ".delta")) and sid.startswith("L")):
        yield -_d(trace, sid)


def _dw_wrong_input(trace, sid):
    """∂L/∂W_k = δ_k ⊗ x (the network input) instead of the previous layer's output."""
    k = _layer(sid)
    if k is None or k < 2 or sid != f"L{k}.dW":
        return
    prev = trace[sid].inputs[-1]
    if prev != "x" and "x" in trace and np.shape(_d(trace, "x")) == np.shape(_d(trace, prev)):
        yield from _recomputed(trace, sid, {prev: _d(trace, "x")})


CATALOGUE: list[Misconception] = [
    Misconception("missing_half", "missing ½ (or an extra 2)",
                  "with L = ½Σ(ŷ−y)² the 2 from the square cancels the ½: ∂L/∂ŷ = ŷ − y; "
                  "with Σ(ŷ−y)² it is 2(ŷ − y)", _missing_half),
    Misconception("mean_vs_sum", "mean and sum confused",
                  "check the convention: a mean divides the summed loss (and its gradient) by the "
                  "number of outputs or samples, a sum does not", _mean_vs_sum),
    Misconception("update_sign", "update sign flipped (w + η·g)",
                  "gradient descent moves against the gradient: w_new = w − η·∂L/∂w", _update_sign),
    Misconception("learning_rate", "learning rate applied twice or not at all",
                  "multiply the gradient by η exactly once: w_new = w − η·∂L/∂w",
                  _learning_rate_twice_or_missing),
    Misconception("forgot_activation_derivative", "activation derivative forgotten",
                  "δ = ∂L/∂a ⊙ f′(z): multiply by the activation's derivative at this layer",
                  _forgot_activation_derivative),
    Misconception("sigmoid_derivative", "σ′ computed as σ(z), or from z instead of a",
                  "σ′(z) = a(1 − a) with a = σ(z): use the activation, not z, and not σ(z) alone",
                  _sigma_prime_wrong),
    Misconception("preactivation_forwarded", "pre-activation passed to the next layer",
                  "the next layer takes a = f(z), the activation's output, not z", _preactivation_forwarded),
    Misconception("wrong_backward_weight", "wrong weight in the backward sum (another neuron's, or W "
                  "instead of Wᵀ)", "∂L/∂a_prev[j] = Σ_r W[r, j]·δ[r]: use the weights leaving neuron j "
                  "(a column of W, i.e. Wᵀ·δ)", _wrong_backward_weight),
    Misconception("used_updated_weight", "updated weight used in backpropagation",
                  "backpropagate with the weights of the forward pass, before the update",
                  _used_updated_weight),
    Misconception("bias_forgotten", "bias forgotten", "z = W·a + b: add the bias (and update it)",
                  _bias_forgotten),
    Misconception("softmax_mse_shortcut", "p − y used for a squared loss through softmax",
                  "p − y is the softmax + cross-entropy shortcut; with a squared loss use "
                  "δ = Jᵀ·∂L/∂p with the softmax Jacobian J = diag(p) − p·pᵀ", _softmax_mse_shortcut),
    Misconception("maxpool_everywhere", "max-pool gradient sent to every position",
                  "max-pool passes the gradient only to the position that held the maximum; the "
                  "others get 0", _maxpool_everywhere),
    Misconception("log10", "log base 10 instead of natural log",
                  "cross-entropy uses the natural log ln; log10 gives values smaller by a factor ln 10",
                  _log10),
    Misconception("gradient_sign", "sign flipped (y − ŷ instead of ŷ − y)",
                  "∂L/∂ŷ = ŷ − y for a squared loss: prediction minus target", _gradient_sign),
    Misconception("dw_wrong_input", "weight gradient formed with the network input",
                  "∂L/∂W_k = δ_k ⊗ a_{k−1}: use the output of the layer feeding this one", _dw_wrong_input),
]
BY_NAME = {m.name: m for m in CATALOGUE}

ARITHMETIC = [
    ("sign_slip", "sign slip", "check the sign of each term", lambda e: -e),
    ("factor_of_two", "factor of 2", "a factor 2 (or ½) went missing or was added",
     lambda e: 2 * e),
    ("factor_of_two", "factor of 2", "a factor 2 (or ½) went missing or was added",
     lambda e: 0.5 * e),
]


def _reproduces(m: Misconception, world, sid, index, claimed, true, tol) -> bool:
    """Does mistake m, made in this world (true or the student's numbers), give the claim?"""
    try:
        for alt in m.alternatives(world, sid):
            if alt is None:
                continue
            alt_e = element(alt, index)
            if np.shape(alt_e) == np.shape(true) and close(claimed, alt_e, tol) and \
                    not close(true, alt_e, tol):
                return True
    except (NNTError, ValueError, IndexError, KeyError, TypeError):
        return False
    return False


def diagnose(trace, target, claimed, tol, own: dict | None = None,
             link_values: tuple | None = None) -> tuple[str, str] | None:
    """(name, hint) of the first catalogued mistake that reproduces the claim, or None."""
    claimed = np.asarray(claimed, dtype=np.float64)
    tol = np.asarray(tol, dtype=np.float64)
    if trace is not None and target is not None:
        sid, index = target
        true = element(trace.display(sid), index)
        worlds = [trace]
        if own:
            try:  # the mistake may sit on top of the student's own (carried) earlier numbers
                worlds.append(student_trace(trace, {k: v for k, v in own.items() if k != sid}))
            except (NNTError, ValueError, IndexError, TypeError):
                pass
        matches = []
        for m in CATALOGUE:
            for world in worlds:
                if _reproduces(m, world, sid, index, claimed, true, tol):
                    matches.append(m)
                    break
        if matches:
            first, others = matches[0], matches[1:]
            also = "; the same number also comes from: " + ", ".join(o.title for o in others) if others else ""
            return first.name, f"{first.title}: {first.hint}{also}"
    if link_values is not None:
        own_value, _ = link_values
        if own_value is not None:
            e = np.asarray(own_value, dtype=np.float64)
            for name, title, hint, fn in ARITHMETIC:
                alt = fn(e)
                if close(claimed, alt, tol) and not close(e, alt, tol):
                    return name, f"{title}: {hint}"
    return None
