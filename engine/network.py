"""A traced network: forward pass, loss, backpropagation, SGD update and a second forward pass.

`walk_network(spec_dict, options)` is what `nnt walk` runs for a network spec: one full iteration
traced step by step, then (with --iterations N) a table of the loss and parameters over N steps.
"""
from __future__ import annotations

import numpy as np

from nn_tutor.engine.dense import DenseLayer
from nn_tutor.engine.errors import NNTError
from nn_tutor.engine.layer import ActivationLayer, FlattenLayer, grad_id_for
from nn_tutor.engine.numfmt import fmt_term
from nn_tutor.engine.ops import FUSED, get_loss
from nn_tutor.engine.spec import NetworkSpec, parse_network
from nn_tutor.engine.trace import Op, Table, Trace

PARAM_QUANTITY = {"W": "weights", "b": "biases"}
UPDATED_QUANTITY = {"W": "updated_weights", "b": "updated_biases"}

TABLE_ROWS = (0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
MAX_ITERATIONS = 100_000


def build_layers(spec: NetworkSpec) -> list:
    """Turn validated layer specs into traced layer objects."""
    layers = []
    for i, ls in enumerate(spec.layers, 1):
        if ls.kind == "dense":
            layers.append(DenseLayer(ls, i))
        elif ls.kind in ("conv2d", "pool"):
            from nn_tutor.engine.conv import Conv2DLayer, PoolLayer
            layers.append(Conv2DLayer(ls, i) if ls.kind == "conv2d" else PoolLayer(ls, i, spec.conventions))
        elif ls.kind == "flatten":
            layers.append(FlattenLayer(ls, i, batch_axis=1))
        else:
            on_maps = layers[-1].batch_axis == 0 if layers else spec.image_input
            layers.append(ActivationLayer(ls, i, batch_axis=0 if on_maps else 1))
    return layers


class Network:
    """Layers plus current parameter values; `step` records one traced training iteration."""

    def __init__(self, spec: NetworkSpec):
        self.spec = spec
        self.layers = build_layers(spec)
        self.params = {(l.i, name): np.array(v, dtype=np.float64)
                       for l in self.layers for name, v in l.params().items()}
        self.velocity = {key: np.zeros_like(v) for key, v in self.params.items()}
        self.loss = get_loss(spec.loss) if spec.loss else None
        m = spec.batch_size
        self.reduce = 1.0 / m if spec.conventions["batch_reduction"] == "mean" else 1.0

    # ---- one traced iteration -----------------------------------------------------------------
    def step(self, trace: Trace, after: bool = True) -> Trace:
        """Record given values, forward, loss, backward, update and (optionally) the after pass."""
        s = self.spec
        self.record_givens(trace)
        trace.phase = "forward"
        out_id = self.forward(trace, "")
        trace.info["output_id"] = out_id
        if self.loss is None:
            return trace
        trace.phase = "loss"
        trace.info["loss_name"] = self.loss.name
        trace.info["batch_reduction"] = self.spec.conventions["batch_reduction"]
        trace.info["loss"] = float(self.record_loss(trace, out_id, ""))
        trace.phase = "backward"
        self.backward(trace, out_id)
        if s.learning_rate is None:
            return trace
        trace.phase = "update"
        self.update(trace)
        if after:
            trace.phase = "after"
            new = {(i, name): f"L{i}.{name}_new" for (i, name) in self.params}
            out_after = self.forward(trace, "after.", new)
            trace.info["loss_after"] = float(self.record_loss(trace, out_after, "after."))
        return trace

    def record_givens(self, trace: Trace) -> None:
        """Record the input, the target and the current parameters as given steps."""
        s = self.spec
        trace.given("x", "input" + (f" (batch of {s.batch_size}, one column per sample)"
                                    if s.batch_size > 1 and not s.image_input else ""), "x", s.x,
                    0 if s.image_input else 1, quantity="input")
        if s.y is not None:
            trace.given("y", "target", "y", s.y, 1, quantity="target")
        for (i, name), value in self.params.items():
            trace.given(f"L{i}.{name}", f"layer {i} {'weights' if name == 'W' else 'biases'}",
                        f"{name}{i}", value, quantity=PARAM_QUANTITY[name], layer=i)

    def forward(self, trace: Trace, prefix: str, param_ids: dict | None = None) -> str:
        """Record every layer's forward steps; returns the id of the prediction ŷ."""
        cur = "x"
        for layer in self.layers:
            ids = {name: (param_ids or {}).get((layer.i, name), f"L{layer.i}.{name}")
                   for name in layer.param_names}
            cur = layer.forward(trace, cur, prefix, ids)
        return cur

    def fused_output(self) -> bool:
        """True when the last layer and the loss pair up (softmax + cross-entropy, sigmoid + BCE)."""
        last = self.layers[-1]
        return (last.kind == "dense" and self.loss is not None
                and (last.act.name, self.loss.name) in FUSED)

    def per_sample_loss(self, trace: Trace, out_id: str, prefix: str) -> np.ndarray:
        """Each sample's loss; for a fused output pair it is computed from the logits z, exactly."""
        y = trace["y"].value
        if self.fused_output():
            z = trace[f"{prefix}L{self.layers[-1].i}.z"].value  # (K, m)
            return logit_loss(self.layers[-1].act.name, z, y)
        return self.loss.per_sample(trace[out_id].value, y)

    def record_loss(self, trace: Trace, out_id: str, prefix: str):
        """Record the loss (per sample when m > 1, then the batch reduction)."""
        loss, m, r = self.loss, self.spec.batch_size, self.reduce
        per_sample = self.per_sample_loss(trace, out_id, prefix)
        note = ("computed from the logits z (log-sum-exp), so it stays exact where ŷ rounds to 0 or 1"
                if self.fused_output() else "")
        if m > 1:
            trace.add(f"{prefix}loss.samples", "loss of each sample", loss.formula, per_sample, (out_id, "y"),
                      Op(loss.per_sample, f"{loss.name}(ŷ = {{0}}, y = {{1}})"), note=note,
                      quantity="sample_losses")
            how = "mean" if r != 1.0 else "sum"
            return trace.add(f"{prefix}loss", f"loss over the batch ({how} of the {m} sample losses)",
                             f"L = ({'1/m' if how == 'mean' else '1'})·Σ_samples L_s",
                             np.asarray(np.sum(trace[f'{prefix}loss.samples'].value) * r),
                             (f"{prefix}loss.samples",),
                             Op(lambda v: np.asarray(np.sum(v) * r), f"{how}({{0}})"), quantity="loss")
        return trace.add(f"{prefix}loss", f"loss ({loss.name})", loss.formula,
                         np.asarray(per_sample[0]), (out_id, "y"),
                         Op(lambda yh, y: np.asarray(loss.per_sample(yh, y)[0]),
                            f"{loss.name}(ŷ = {{0}}, y = {{1}})", _loss_expand(loss.name)), note=note,
                         quantity="loss")

    def backward(self, trace: Trace, out_id: str) -> None:
        """Record ∂L/∂ŷ, then every layer's gradients from the last layer back to the first."""
        loss, r, m = self.loss, self.reduce, self.spec.batch_size
        grad_id = grad_id_for(out_id)
        per_sample = " (each sample's own loss; the batch mean is taken at ∂L/∂W and ∂L/∂b)" \
            if m > 1 and r != 1.0 else ""
        trace.add(grad_id, "gradient of the loss for the prediction ŷ" + (", per sample" if m > 1 else ""),
                  loss.gradient_formula + per_sample,
                  loss.grad(trace[out_id].value, trace["y"].value), (out_id, "y"),
                  Op(lambda yh, y: loss.grad(yh, y), loss.grad_template.format("ŷ", "y") + " with ŷ = {0}, y = {1}",
                     lambda inp, idx, p: loss.grad_template.format(fmt_term(inp[0][idx], p),
                                                                   fmt_term(inp[1][idx], p))), 1,
                  quantity="grad_activation", layer=self.layers[-1].i)
        fused = (loss.name, lambda yh, y: yh - y) if self.fused_output() else None
        for idx in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[idx]
            in_id = "x" if idx == 0 else self._out_id(idx - 1)
            grad_in = None if idx == 0 else grad_id_for(in_id)
            if layer.kind == "dense":
                layer.backward(trace, grad_id, in_id, grad_in, fused if idx == len(self.layers) - 1 else None,
                               batch_mean=r)
            elif layer.kind == "conv2d":
                layer.backward(trace, grad_id, in_id, grad_in, batch_mean=r)
            else:
                layer.backward(trace, grad_id, in_id, grad_in)
            grad_id = grad_in

    def _out_id(self, idx: int) -> str:
        layer = self.layers[idx]
        return f"L{layer.i}.{layer.out_name}"

    def update(self, trace: Trace) -> None:
        """Record the SGD (with optional momentum) update of every parameter."""
        lr, mu = self.spec.learning_rate, self.spec.momentum
        trace.given("lr", "learning rate", "η", np.asarray(lr), quantity="learning_rate")
        if mu:
            trace.given("momentum", "momentum", "μ", np.asarray(mu), quantity="momentum")
        for (i, name), value in self.params.items():
            pid, gid = f"L{i}.{name}", f"L{i}.d{name}"
            if mu:
                vid = f"L{i}.v{name}"
                trace.given(f"{vid}_prev", f"previous velocity of {pid}", f"v{i}", self.velocity[(i, name)],
                            quantity="velocity", layer=i)
                trace.add(vid, f"velocity of {pid}", f"v = μ·v_prev − η·∂L/∂{name}{i}",
                          mu * self.velocity[(i, name)] - lr * trace[gid].value,
                          ("momentum", f"{vid}_prev", "lr", gid),
                          Op(lambda m_, v, e, g: m_ * v - e * g, "{0}×{1} − {2}×{3}"),
                          quantity="velocity", layer=i)
                trace.add(f"{pid}_new", f"updated {pid}", f"{name}{i} ← {name}{i} + v",
                          value + trace[vid].value, (pid, vid), Op(np.add, "{0} + {1}"),
                          quantity=UPDATED_QUANTITY[name], layer=i)
            else:
                trace.add(f"{pid}_new", f"updated {pid}", f"{name}{i} ← {name}{i} − η·∂L/∂{name}{i}",
                          value - lr * trace[gid].value, (pid, "lr", gid),
                          Op(lambda w, e, g: w - e * g, "{0} − {1}×{2}",
                             lambda inp, idx, p: f"{fmt_term(inp[0][idx], p)} − "
                                                 f"{fmt_term(inp[1], p)}×{fmt_term(inp[2][idx], p)}"),
                          quantity=UPDATED_QUANTITY[name], layer=i)

    def apply_update(self, trace: Trace) -> None:
        """Make the updated parameters of `trace` the current ones (for the next iteration)."""
        for (i, name) in self.params:
            self.params[(i, name)] = trace[f"L{i}.{name}_new"].value
            if self.spec.momentum:
                self.velocity[(i, name)] = trace[f"L{i}.v{name}"].value


def logit_loss(activation: str, z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-sample BCE of σ(z) or cross-entropy of softmax(z), from the logits z (K, m) -> (m,).

    BCE: max(z, 0) − z·y + ln(1 + e^(−|z|)); cross-entropy: −Σ y·(z − logsumexp(z)).
    """
    if activation == "sigmoid":
        return np.sum(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))), axis=0)
    zmax = np.max(z, axis=0, keepdims=True)
    log_p = z - zmax - np.log(np.sum(np.exp(z - zmax), axis=0, keepdims=True))
    return -np.sum(y * log_p, axis=0)


def _loss_expand(name: str):
    """Element expansion for a single-sample loss: the sum over outputs with numbers."""
    def expand(inputs, idx, p):
        yh, y = inputs[0][:, 0], inputs[1][:, 0]
        terms = []
        for a, b in zip(yh, y):
            A, B = fmt_term(a, p), fmt_term(b, p)
            if name == "half_sse":
                terms.append(f"½({A} − {B})²")
            elif name in ("sse", "mse"):
                terms.append(f"({A} − {B})²")
            elif name == "bce":
                terms.append(f"−[{B}·ln {A} + (1 − {B})·ln(1 − {A})]")
            else:
                terms.append(f"−{B}·ln {A}")
        body = " + ".join(terms)
        return f"(1/{len(terms)})·({body})" if name == "mse" and len(terms) > 1 else body
    return expand


# ---- walking ---------------------------------------------------------------------------------------

def walk_network(data: dict, options) -> Trace:
    """Trace one full iteration of a network spec; with options.iterations > 1 add a history table."""
    spec = parse_network(data, options.loss, options.learning_rate, options.conventions)
    net = Network(spec)
    trace = Trace(spec.title or "Network walkthrough", spec.batch_size,
                  _conventions_shown(spec))
    trace.notes.extend(spec.notes)
    if spec.classes:
        trace.info["classes"] = list(spec.classes)
    net.step(trace)
    check_finite(trace, spec)
    iterations = int(options.iterations or 1)
    if iterations > 1:
        if spec.loss is None or spec.learning_rate is None:
            raise NNTError("--iterations needs a loss, a target and a learning_rate in the spec")
        if iterations > MAX_ITERATIONS:
            raise NNTError(f"--iterations is at most {MAX_ITERATIONS}; got {iterations}")
        table, trace.info["loss_history"], stopped = training_history(spec, iterations)
        trace.tables.append(table)
        if stopped:
            trace.info["stopped"] = stopped
            trace.notes.append(stopped["message"])
    optimum = closed_form_optimum(spec)
    if optimum is not None:
        trace.tables.append(optimum)
    return trace


def chained_iterations(data: dict, iterations: int) -> Trace:
    """One trace of several training steps, for following work that keeps going.

    Iteration 1 has the usual ids; iteration k ≥ 2 has them prefixed `it{k}.`, and its parameters are
    steps computed from the previous iteration's update (identity), so a value changed in an earlier
    iteration flows through every later one when the trace is recomputed.
    """
    spec = parse_network(data, None, None, None)
    if spec.loss is None or spec.learning_rate is None:
        raise NNTError("following several iterations needs a loss, a target and a learning_rate in the spec")
    net = Network(spec)
    trace = Trace(spec.title or "Network walkthrough", spec.batch_size, _conventions_shown(spec))
    trace.notes.extend(spec.notes)
    if spec.classes:
        trace.info["classes"] = list(spec.classes)
    net.step(trace)
    previous, before = trace, ""
    for k in range(2, int(iterations) + 1):
        net.apply_update(previous)
        nxt = Trace(batch_size=spec.batch_size)
        net.step(nxt)
        prefix = f"it{k}."
        for step in nxt:
            inputs = tuple(prefix + i for i in step.inputs)
            if step.op is None and step.quantity in ("weights", "biases"):
                source = f"{before}{step.id}_new"
                trace.add(prefix + step.id, f"{step.label} at the start of iteration {k}",
                          f"{step.formula} (after iteration {k - 1})", step.value, (source,),
                          Op(lambda v: v, "{0}"), phase="update", quantity=step.quantity, layer=step.layer)
                continue
            trace.add(prefix + step.id, f"iteration {k}: {step.label}", step.formula, step.value, inputs,
                      step.op, step.batch_axis, step.note, step.phase,
                      quantity=step.quantity, layer=step.layer, activation=step.activation)
        previous, before = nxt, prefix
    return trace


def _conventions_shown(spec: NetworkSpec) -> dict:
    conv = {"loss": f"{spec.loss}: {get_loss(spec.loss).formula}" if spec.loss else "none (forward only)",
            "batch_reduction": spec.conventions["batch_reduction"] + f" over m = {spec.batch_size}",
            "layout": "W is (n_out, n_in), z = W·a + b; samples are columns",
            "logs": "natural log; softmax + cross-entropy and sigmoid + BCE from the logits (exact), "
                    "other pairings clip probabilities at 1e-12", "relu′(0)": "0"}
    if any(l.kind == "conv2d" for l in spec.layers):
        conv["conv"] = "cross-correlation (no kernel flip), filters W (C_out, C_in, k, k), maps (C, H, W)"
    if any(l.kind == "pool" and l.mode == "max" for l in spec.layers):
        conv["maxpool_ties"] = spec.conventions["maxpool_ties"] + (
            " (gradient to the first maximum in row-major order)"
            if spec.conventions["maxpool_ties"] == "first" else " (gradient split equally among tied maxima)")
    if spec.momentum:
        conv["optimiser"] = f"SGD with momentum μ = {spec.momentum}"
    return conv


def check_finite(trace: Trace, spec: NetworkSpec) -> None:
    """Nothing infinite or NaN is shown: the first such step is named with its cause and the fix."""
    for step in trace:
        value = np.asarray(step.value)
        if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
            what = "NaN" if np.any(np.isnan(value)) else "infinite"
            if step.phase in ("update", "after"):
                raise NNTError(f"step {step.id} ({step.label}) is {what}: the update with learning rate "
                               f"η = {spec.learning_rate:g} overflows float64; use a smaller learning rate, "
                               f"e.g. --lr {spec.learning_rate / 100:g}")
            raise NNTError(f"step {step.id} ({step.label}) is {what}: the numbers grow past what float64 holds "
                           f"(about 1.8e308); scale the inputs or weights down")


def divergence(iteration: int, iterations: int, loss: float, learning_rate: float) -> dict:
    """Why training stopped at `iteration` (a non-finite loss) and the fix, for the table's note."""
    what = "NaN" if np.isnan(loss) else "infinite"
    smaller = learning_rate / 10
    return {"iteration": iteration, "loss": what, "learning_rate": learning_rate,
            "message": f"Training stopped at iteration {iteration} of {iterations}: the loss became {what} "
                       f"(each step overshot by more than the last until float64 overflowed). The learning "
                       f"rate η = {learning_rate:g} is too large for this problem; try a smaller one, "
                       f"e.g. --lr {smaller:g}."}


def training_history(spec: NetworkSpec, iterations: int) -> tuple[Table, list[float], dict | None]:
    """Train for N steps: a table of the loss and (small) parameters at iterations 0, 1, 2, 3, 5, 10, …, N,
    the loss at every iteration (for the curve), and why training stopped early (None if it did not).

    Training stops at the first non-finite loss: the table and the curve end at the last finite one."""
    rows_at = set(t for t in TABLE_ROWS if t <= iterations) | {iterations}
    net = Network(spec)
    show_params = sum(v.size for v in net.params.values()) <= 6
    columns = ["iteration", "loss"]
    if show_params:
        columns += [f"{name}{i}" + ("" if v.size == 1 else str(list(idx)))
                    for (i, name), v in net.params.items() for idx in np.ndindex(v.shape)]
    table = Table(f"Training for {iterations} iterations (η = {spec.learning_rate})", columns)
    losses: list[float] = []
    row: list = []
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is detected below, on the loss
        for it in range(iterations + 1):
            trace = Trace(batch_size=spec.batch_size)
            net.step(trace, after=False)
            loss = float(trace["loss"].value)
            if not np.isfinite(loss):
                if row and table.rows[-1] is not row:
                    table.rows.append(row)  # the last finite iteration
                return table, losses, divergence(it, iterations, loss, spec.learning_rate)
            losses.append(loss)
            params = [float(v[idx]) for v in net.params.values() for idx in np.ndindex(v.shape)]
            row = [it, loss] + (params if show_params else [])
            if it in rows_at:
                table.rows.append(row)
            net.apply_update(trace)
    return table, losses, None


def closed_form_optimum(spec: NetworkSpec) -> Table | None:
    """Least-squares optimum for a single linear dense layer with a squared loss (linear regression)."""
    if len(spec.layers) != 1 or spec.layers[0].kind != "dense" or spec.layers[0].activation != "linear":
        return None
    if spec.loss not in ("half_sse", "sse", "mse") or spec.y is None or spec.batch_size < 2:
        return None
    X = np.vstack([spec.x, np.ones((1, spec.batch_size))]).T  # (m, n_in + 1)
    sol, *_ = np.linalg.lstsq(X, spec.y.T, rcond=None)          # (n_in + 1, K)
    W, b = sol[:-1].T, sol[-1]
    net = Network(spec)
    net.params[(1, "W")], net.params[(1, "b")] = W, b
    trace = Trace(batch_size=spec.batch_size)
    net.step(trace, after=False)
    row = [float(v) for v in W.reshape(-1)] + [float(v) for v in b] + [float(trace["loss"].value)]
    cols = [f"W1[{i}]" if W.size > 1 else "W1" for i in range(W.size)] + \
           [f"b1[{i}]" if b.size > 1 else "b1" for i in range(b.size)] + ["loss"]
    return Table("Closed-form least-squares optimum (normal equations: [W b] = (XᵀX)⁻¹Xᵀy)", cols, [row])


def loss_value(net: Network, params: dict | None = None) -> float:
    """The loss for the given parameter values (default: the current ones), forward pass only."""
    saved = net.params
    if params is not None:
        net.params = params
    try:
        trace = Trace(batch_size=net.spec.batch_size)
        net.record_givens(trace)
        out_id = net.forward(trace, "")
        return float(net.record_loss(trace, out_id, ""))
    finally:
        net.params = saved
