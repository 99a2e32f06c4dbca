"""Numbers students write on the way to a step that the trace does not record, as steps of their own.

The weighted sum before the bias, the output error ŷ − y and its square, the sums of a batch (Σ(ŷ − y), Σ(ŷ − y)², Σ δ·x, Σ δ), the
per-sample products δ·x, e^z and Σ e^z of a softmax, 1 − a of a sigmoid, the backward terms w·δ and
the update step η·g. Each is computed from trace steps (found by their typed fields), so it has a
true value and follows the student's own earlier numbers like any step. The aligner prefers a
step of the network itself when both fit.

Some of them are also a route into the network's own step: the softmax is e^z / Σ e^z, a
squared-error loss a multiple of the squares. The worlds compute the step through its route, so a
student's slip in e^z or in a square carries into the probabilities or the loss they compute next.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

import numpy as np

from nn_tutor.engine.trace import Op, Trace

AUX = "aux"          # the phase of these steps


# what each auxiliary quantity is, for the words around a number (`exponentiating gives …`)
KINDS = {"err": "error", "sq": "squared", "half_sq": "squared", "sum_sq": "sum", "sum_err": "sum",
         "err_x": "product", "sum_err_x": "sum", "exp": "exp", "expsum": "sum", "one_minus_a": "one_minus",
         "per_sample": "product", "sum": "sum", "sum_delta": "sum", "terms": "product", "step": "step",
         "wsum": "weighted", "products": "product"}


def kind_of(sid: str) -> str:
    """The kind of an auxiliary step (error, squared, sum, product, exp, one_minus, step)."""
    return KINDS.get(sid.rsplit(".", 1)[-1], "")


@dataclass(frozen=True)
class Route:
    """Another way to compute a step from quantities written on the way (internal values in, internal out)."""

    inputs: tuple[str, ...]
    fn: Callable


def with_auxiliary(trace: Trace) -> tuple[Trace, dict[str, str], dict[str, Route]]:
    """A copy of the trace with the auxiliary steps added, for each of them the step it follows, and
    the routes into network steps that pass through them."""
    out = Trace(trace.title, trace.batch_size, trace.conventions)
    out.info, out.notes, out.tables = dict(trace.info), list(trace.notes), list(trace.tables)
    for step in trace:
        out.steps[step.id] = step
    anchors: dict[str, str] = {}
    m = trace.batch_size
    for step in list(trace):
        if step.quantity in ("loss", "sample_losses") and len(step.inputs) == 2 and step.inputs[1] == "y":
            _errors(out, anchors, step, step.id[: step.id.index("loss")], m)
        elif step.quantity == "activation" and step.activation == "softmax":
            _softmax_parts(out, anchors, step, m)
        elif step.quantity == "activation" and step.activation == "sigmoid":
            _add(out, anchors, _aux_id(step.id, "one_minus_a"), "1 − a", step.id, (step.id,),
                 lambda a: 1.0 - a, step.batch_axis)
        elif step.quantity == "grad_weights" and len(step.inputs) == 2 and m > 1 and \
                np.ndim(trace[step.inputs[0]].value) == 2:
            _sample_products(out, anchors, step, m)
        elif step.quantity == "grad_activation" and len(step.inputs) == 2 and \
                trace[step.inputs[0]].quantity == "weights" and np.ndim(trace[step.inputs[0]].value) == 2:
            W, delta = step.inputs
            _add(out, anchors, _aux_id(step.id, "terms"), "w·δ terms of the backward sum", step.id, (W, delta),
                 lambda w, d: np.einsum("rj,rs->jrs", w, d), 2)                    # (n_in, n_out, m)
        elif step.quantity == "pre_activation" and any(trace[i].quantity in ("biases", "updated_biases")
                                                         for i in step.inputs):
            _weighted_sum(out, anchors, step, trace)
        elif step.quantity in ("updated_weights", "updated_biases") and len(step.inputs) == 3:
            p, lr, g = step.inputs
            if trace[lr].quantity == "learning_rate":
                _add(out, anchors, _aux_id(step.id, "step"), "the update step η·g", step.id, (lr, g),
                     lambda e, grad: e * grad, None)
    return out, anchors, _routes(out, trace)


def _routes(out: Trace, trace: Trace) -> dict[str, Route]:
    """The routes through e^z, Σ e^z and (ŷ − y)² that compute the same values as the steps they
    replace, checked on the true values and on a shifted input (so a cross-entropy is no multiple
    of the squares)."""
    routes = {}
    for step in trace:
        if step.quantity == "activation" and step.activation == "softmax":
            exp, expsum = _aux_id(step.id, "exp"), _aux_id(step.id, "expsum")
            if exp in out.steps and expsum in out.steps:
                route = Route((exp, expsum), lambda e, s: e / s)
                if _agrees(out, step, route):
                    routes[step.id] = route
        elif step.quantity in ("loss", "sample_losses") and len(step.inputs) == 2 and step.inputs[1] == "y":
            sq = f"{step.id[: step.id.index('loss')]}aux.sq"
            if sq not in out.steps:
                continue
            total = np.sum(out[sq].value, axis=0)
            if not np.all(np.abs(total) > 1e-12):
                continue
            ratio = np.ravel(np.asarray(step.value, dtype=np.float64) / total)[0]
            shape = np.shape(step.value)
            route = Route((sq,), lambda q, c=ratio, shape=shape: np.reshape(c * np.sum(q, axis=0), shape))
            if _agrees(out, step, route):
                routes[step.id] = route
    return routes


def _agrees(trace: Trace, step, route: Route) -> bool:
    """The route gives the step's value on the true inputs and with its first input shifted."""
    first = step.inputs[0]
    for shift in (0.0, 0.137):
        over = {first: np.asarray(trace[first].value, dtype=np.float64) + shift}
        try:
            with np.errstate(all="ignore"):
                direct = np.asarray(step.op.fn(*[_evaluate(trace, i, over) for i in step.inputs]), dtype=np.float64)
                routed = np.asarray(route.fn(*[_evaluate(trace, i, over) for i in route.inputs]), dtype=np.float64)
        except (ValueError, IndexError, TypeError):
            return False
        if direct.shape != routed.shape or not np.allclose(direct, routed, rtol=1e-9, atol=1e-12):
            return False
    return True


def _evaluate(trace: Trace, sid: str, over: dict) -> np.ndarray:
    """A step's internal value with some steps replaced, recomputing the auxiliary steps on the way."""
    if sid in over:
        return over[sid]
    step = trace[sid]
    if step.phase != AUX:
        return step.value
    over[sid] = np.asarray(step.op.fn(*[_evaluate(trace, i, over) for i in step.inputs]), dtype=np.float64)
    return over[sid]


def _aux_id(sid: str, what: str) -> str:
    return f"{sid}.aux.{what}"


def _add(trace: Trace, anchors: dict, sid: str, label: str, anchor: str, inputs: tuple, fn, batch_axis) -> None:
    try:
        with np.errstate(all="ignore"):
            value = np.asarray(fn(*[trace[i].value for i in inputs]), dtype=np.float64)
    except (ValueError, IndexError, TypeError):
        return
    if not np.all(np.isfinite(value)):
        return
    trace.steps[sid] = dataclasses.replace(
        trace.steps[anchor], id=sid, label=label, formula=label, value=value, inputs=tuple(inputs),
        op=Op(fn, label), phase=AUX, batch_axis=batch_axis, note="", quantity="")
    anchors[sid] = anchor


def _errors(trace, anchors, loss_step, prefix: str, m: int) -> None:
    """ŷ − y, (ŷ − y)², ½(ŷ − y)² per output and sample, and their sums over the batch."""
    out_id = loss_step.inputs[0]
    base = f"{prefix}aux"
    if f"{base}.err" in trace.steps:
        return
    anchor = loss_step.id
    err, sq = f"{base}.err", f"{base}.sq"
    _add(trace, anchors, err, "ŷ − y", anchor, (out_id, "y"), lambda a, y: a - y, 1)
    if err not in trace.steps:
        return
    # each quantity from the one before it, as students compute them: a wrong ŷ − y carries on
    _add(trace, anchors, sq, "(ŷ − y)²", anchor, (err,), lambda e: e ** 2, 1)
    _add(trace, anchors, f"{base}.half_sq", "½(ŷ − y)²", anchor, (err,), lambda e: 0.5 * e ** 2, 1)
    if (m > 1 or np.size(trace[out_id].value) > 1) and sq in trace.steps:
        _add(trace, anchors, f"{base}.sum_sq", "Σ(ŷ − y)²", anchor, (sq,), lambda q: np.asarray(np.sum(q)), None)
    if m > 1:
        _add(trace, anchors, f"{base}.sum_err", "Σ(ŷ − y) over the batch", anchor, (err,),
             lambda e: np.sum(e, axis=-1), None)
        if "x" in trace.steps and np.ndim(trace["x"].value) == 2 and trace[out_id].layer == 1:
            err_x = f"{base}.err_x"
            _add(trace, anchors, err_x, "(ŷ − y)·x per sample", anchor, (err, "x"),
                 lambda e, x: np.einsum("ks,js->kjs", e, x), 2)
            if err_x in trace.steps:
                _add(trace, anchors, f"{base}.sum_err_x", "Σ(ŷ − y)·x over the batch", anchor, (err_x,),
                     lambda ex: np.sum(ex, axis=-1), None)


def _weighted_sum(trace, anchors, step, original) -> None:
    """W·a before the bias is added (`0.5 + 0.6 + 0.1 = 1.2, and with the bias −0.4 that is 0.8`),
    and for a dense layer each product w·a of it (`0.5 times 0.8 is 0.4`)."""
    bias = next(k for k, i in enumerate(step.inputs) if original[i].quantity in ("biases", "updated_biases"))
    fn = step.op.fn

    def unbiased(*args, bias=bias, fn=fn):
        return fn(*[np.zeros_like(a) if k == bias else a for k, a in enumerate(args)])

    _add(trace, anchors, _aux_id(step.id, "wsum"), "W·a before the bias", step.id, step.inputs, unbiased,
         step.batch_axis)
    weights = next((i for i in step.inputs if original[i].quantity in ("weights", "updated_weights")), None)
    source = next((i for i in step.inputs if i != weights and original[i].quantity not in ("biases", "updated_biases")),
                  None)
    if weights is not None and source is not None and np.ndim(original[weights].value) == 2 and \
            np.ndim(original[source].value) == 2:
        _add(trace, anchors, _aux_id(step.id, "products"), "each product w·a", step.id, (weights, source),
             lambda w, a: np.einsum("ij,js->ijs", w, a), 2)                     # (n_out, n_in, m)


def _softmax_parts(trace, anchors, step, m: int) -> None:
    z_id = step.inputs[0]
    exp = _aux_id(step.id, "exp")
    _add(trace, anchors, exp, "e^z", step.id, (z_id,), lambda z: np.exp(z), step.batch_axis)
    if exp in trace.steps:
        _add(trace, anchors, _aux_id(step.id, "expsum"), "Σ e^z", step.id, (exp,),
             lambda e: np.sum(e, axis=0), 0 if step.batch_axis is not None else None)


def _sample_products(trace, anchors, step, m: int) -> None:
    """A batch's per-sample δ·a products of a weight gradient, and the sums before the mean."""
    delta_id, a_id = step.inputs
    _add(trace, anchors, _aux_id(step.id, "per_sample"), "δ·a per sample", step.id, (delta_id, a_id),
         lambda d, a: np.einsum("is,js->ijs", d, a), 2)
    _add(trace, anchors, _aux_id(step.id, "sum"), "Σ_samples δ·a", step.id, (delta_id, a_id),
         lambda d, a: d @ a.T, None)
    _add(trace, anchors, _aux_id(step.id, "sum_delta"), "Σ_samples δ", step.id, (delta_id,),
         lambda d: d.sum(axis=1), None)
