"""Classic models (R11): McCulloch-Pitts threshold units with truth tables, XOR from two layers, the perceptron rule.

Every number is recorded as a trace step, so a truth table or a perceptron epoch can be shown as
formula -> numbers -> result and recomputed from a student's own numbers.

Spec `kind: threshold` (fixed weights, no learning)::

    kind: threshold
    units:                                  # optional if `network` is given
      - {name: AND, weights: [1, 1], threshold: 2}
      - {name: NOT, weights: [-1], threshold: 0, target: [1, 0]}   # target: optional check
    network:                                # optional if `units` is given
      name: XOR
      layers:                               # a list of layers, each a list of units
        - [{name: NAND, weights: [-1, -1], threshold: -1}, {name: OR, weights: [1, 1], threshold: 1}]
        - [{name: AND, weights: [1, 1], threshold: 2}]
      target: [0, 1, 1, 0]                  # optional

A unit fires, out = 1, when z = Σ wᵢxᵢ ≥ θ, else out = 0. Truth tables list the 2ⁿ binary inputs
in counting order (x1 is the most significant bit); `inputs: [x1, x2]` renames the inputs.
Step ids: `U.x` (the table's inputs, shape (n, 2ⁿ): columns are table rows), `U.w`, `U.theta`,
`U.z`, `U.out` for a unit U; `N.x`, `N.L{l}.W` (n_out, n_in), `N.L{l}.theta`, `N.L{l}.z`,
`N.L{l}.out` (n_out, 2ⁿ) for layer l (1-based) of network N.

Spec `kind: perceptron` (Rosenblatt's learning rule with a step activation)::

    kind: perceptron
    name: AND
    data: [[0, 0, 0], [0, 1, 0], [1, 0, 0], [1, 1, 1]]   # rows [x1, ..., xn, y], y in {0, 1}
    w: [0, 0]
    b: 0
    learning_rate: 1        # η (WalkOptions.learning_rate overrides it)
    max_epochs: 20          # optional, default 20, at most 1000 (`--iterations N` > 1 overrides it)
    step_at_zero: 1         # optional: ŷ at z = 0 (default 1: ŷ = 1 if z ≥ 0 else 0)

Samples are visited in the order given, every epoch. Per sample: z = w·x + b, ŷ = step(z),
error = y − ŷ, w ← w + η·error·x, b ← b + η·error. Training stops after the first epoch with no
errors (converged), or after max_epochs (not converged). If the weights at the start of an epoch
repeat those of an earlier epoch, the rule cycles forever; that proves the data are not linearly
separable (on separable data every correction raises u·(w, b) for a separating u, so (w, b) can
never come back), and the trace says so.
Step ids (1-based): given `x` (n, m), `y` (m,), `w`, `b`, `lr`, `sample{i}.x`, `sample{i}.y`;
then `epoch{e}.sample{i}.z`, `.yhat`, `.error`, `.w_new`, `.b_new`, and `epoch{e}.errors`;
after training `after.z` and `after.yhat` (the final w, b on every sample).
"""
from __future__ import annotations

import re

import numpy as np

from nn_tutor.engine.errors import NNTError
from nn_tutor.engine.fields import check_fields, finite_number
from nn_tutor.engine.numfmt import fmt_array, fmt_num
from nn_tutor.engine.trace import Op, Table, Trace

MAX_TABLE_INPUTS = 10        # a truth table has 2ⁿ rows
MAX_EPOCHS = 1000
MAX_SAMPLES = 1000
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,30}$")

# Boolean functions recognised in notes (outputs over the truth-table rows in counting order)
_GATES = {
    (1, 0): "NOT", (0, 1): "identity",
    (0, 0, 0, 1): "AND", (0, 1, 1, 1): "OR", (1, 1, 1, 0): "NAND", (1, 0, 0, 0): "NOR",
    (0, 1, 1, 0): "XOR", (1, 0, 0, 1): "XNOR",
}


# ---------------------------------------------------------------------------------------------
# spec reading


def _vector(value, where: str, example: str) -> np.ndarray:
    if not isinstance(value, list) or not value:
        raise NNTError(f"{where} must be a non-empty list of numbers, e.g. {example}; got {value!r}")
    return np.array([finite_number(v, f"{where}[{k}]", example) for k, v in enumerate(value)])


def _binary(value, where: str, length: int) -> np.ndarray:
    vec = _vector(value, where, str([0] * length))
    if vec.size != length or not np.all((vec == 0) | (vec == 1)):
        raise NNTError(f"{where} must be {length} values, each 0 or 1; got {value!r}")
    return vec


def _name(value, where: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise NNTError(f"{where} must be a short name of letters, digits and _ starting with a letter, "
                       f"e.g. AND; got {value!r}")
    return value


def _input_names(spec: dict, n: int, where: str) -> list[str]:
    names = spec.get("inputs", [f"x{k + 1}" for k in range(n)])
    if not isinstance(names, list) or len(names) != n:
        raise NNTError(f"{where}.inputs must list {n} input names, e.g. {[f'x{k + 1}' for k in range(n)]}; "
                       f"got {names!r}")
    names = [_name(v, f"{where}.inputs[{k}]") for k, v in enumerate(names)]
    if len(set(names)) != n:
        raise NNTError(f"{where}.inputs has repeated names {names}; give each input its own name")
    return names


def _unit(spec, where: str, default_name: str, n_inputs: int | None = None) -> dict:
    """A threshold unit {name, weights, threshold, [target]}, validated."""
    check_fields(spec, ("name", "weights", "threshold", "target", "inputs"), where)
    name = _name(spec.get("name", default_name), f"{where}.name")
    if "weights" not in spec:
        raise NNTError(f"{where} ({name}) is missing 'weights'; add e.g. weights: [1, 1]")
    if "threshold" not in spec:
        raise NNTError(f"{where} ({name}) is missing 'threshold' (θ; the unit fires when Σ w·x ≥ θ); "
                       f"add e.g. threshold: 2")
    w = _vector(spec["weights"], f"{where}.weights", "[1, 1]")
    if n_inputs is not None and w.size != n_inputs:
        raise NNTError(f"{where} ({name}) has {w.size} weights but receives {n_inputs} inputs; "
                       f"give one weight per input")
    if w.size > MAX_TABLE_INPUTS:
        raise NNTError(f"{where} ({name}) has {w.size} inputs; a truth table is shown for at most "
                       f"{MAX_TABLE_INPUTS} inputs")
    theta = finite_number(spec["threshold"], f"{where}.threshold", "2")
    return {"name": name, "w": w, "theta": theta, "target": spec.get("target")}


def _truth_inputs(n: int) -> np.ndarray:
    """All 2ⁿ binary inputs as columns, in counting order with x1 the most significant bit."""
    rows = np.arange(2 ** n)                                            # (m,)
    return ((rows[None, :] >> np.arange(n - 1, -1, -1)[:, None]) & 1).astype(np.float64)  # (n, m)


# ---------------------------------------------------------------------------------------------
# threshold units


def _fire(z, theta):
    """McCulloch-Pitts output: 1 where z ≥ θ, else 0 (θ broadcast over the table's columns)."""
    z = np.asarray(z, dtype=np.float64)
    theta = np.asarray(theta, dtype=np.float64)
    if theta.ndim == 1 and z.ndim == 2:
        theta = theta[:, None]
    return (z >= theta).astype(np.float64)


def _expand_dot(w_pos: int, x_pos: int):
    """Element expansion of z = W·X (or w·X): one entry as a sum of weight×input products."""
    def expand(inputs, index, p):
        W, X = np.asarray(inputs[w_pos]), np.asarray(inputs[x_pos])
        row = W if W.ndim == 1 else W[index[0]]
        col = X[:, index[-1]]
        return " + ".join(f"{_signed(a, p)}×{_signed(b, p)}" for a, b in zip(row, col))
    return expand


def _signed(v, p: int) -> str:
    """A number for a product, in parentheses when negative: (-1)×1."""
    text = fmt_num(v, p)
    return f"({text})" if text.startswith("-") else text


def _expand_fire(inputs, index, p):
    z, theta = np.asarray(inputs[0]), np.asarray(inputs[1])
    t = theta if theta.ndim == 0 else theta[index[0]]
    return f"1[{fmt_num(z[index], p)} ≥ {fmt_num(t, p)}]"


def _recognise(out: np.ndarray) -> str | None:
    return _GATES.get(tuple(int(v) for v in out))


def _walk_unit(trace: Trace, unit: dict, where: str, spec: dict) -> None:
    name, w, theta = unit["name"], unit["w"], unit["theta"]
    n = w.size
    inputs = _input_names(spec, n, where)
    X = _truth_inputs(n)                                                # (n, m)
    trace.given(f"{name}.x", f"{name}: every input combination (columns are truth-table rows)",
                f"x = ({', '.join(inputs)})", X)
    trace.given(f"{name}.w", f"{name}: weights", "w", w)
    trace.given(f"{name}.theta", f"{name}: threshold", "θ", np.float64(theta))
    z = trace.add(f"{name}.z", f"{name}: weighted sum for every row", "z = Σ wᵢ·xᵢ",
                  w @ X, (f"{name}.w", f"{name}.x"),                    # (m,)
                  op=Op(lambda w_, X_: w_ @ X_, "{0}·{1}", _expand_dot(0, 1)))
    out = trace.add(f"{name}.out", f"{name}: output (fires when z ≥ θ)", "out = 1 if z ≥ θ else 0",
                    _fire(z, theta), (f"{name}.z", f"{name}.theta"),     # (m,)
                    op=Op(_fire, "1[{0} ≥ {1}]", _expand_fire))
    rows = [[*(int(v) for v in X[:, j]), float(z[j]), int(out[j])] for j in range(X.shape[1])]
    trace.tables.append(Table(f"{name}: w = {fmt_array(w)}, θ = {fmt_num(theta)}",
                              [*inputs, "z = Σ w·x", "out"], rows))
    trace.info.setdefault("truth_tables", {})[name] = out.astype(int).tolist()
    _note_function(trace, name, out)
    _check_target(trace, name, out, unit["target"], f"{where}.target")


def _note_function(trace: Trace, name: str, out: np.ndarray) -> None:
    gate = _recognise(out)
    if gate is None:
        return
    if gate.upper() == name.upper():
        trace.notes.append(f"{name} computes {gate}: its truth table is {out.astype(int).tolist()}.")
    else:
        trace.notes.append(f"the unit named {name} computes {gate} (truth table "
                           f"{out.astype(int).tolist()}), not what its name says.")


def _check_target(trace: Trace, name: str, out: np.ndarray, target, where: str) -> None:
    if target is None:
        return
    t = _binary(target, where, out.size)
    ok = bool(np.array_equal(out, t))
    trace.info.setdefault("matches_target", {})[name] = ok
    if ok:
        trace.notes.append(f"{name} reproduces its target truth table {t.astype(int).tolist()}.")
    else:
        wrong = [j + 1 for j in range(t.size) if out[j] != t[j]]
        trace.notes.append(f"{name} does NOT reproduce its target {t.astype(int).tolist()}: "
                           f"rows {wrong} differ (got {out.astype(int).tolist()}).")


def _walk_network(trace: Trace, spec, where: str) -> None:
    check_fields(spec, ("name", "inputs", "layers", "target"), where)
    name = _name(spec.get("name", "net"), f"{where}.name")
    layers = spec.get("layers")
    if not isinstance(layers, list) or not layers or not all(isinstance(l, list) and l for l in layers):
        raise NNTError(f"{where}.layers must be a list of layers, each a non-empty list of units, e.g. "
                       f"[[{{name: OR, weights: [1, 1], threshold: 1}}], [{{name: NOT, weights: [-1], "
                       f"threshold: 0}}]]")
    first = layers[0][0]
    n = len(first.get("weights", [])) if isinstance(first, dict) and isinstance(first.get("weights"), list) else 0
    if n == 0:
        raise NNTError(f"{where}.layers[0][0] needs 'weights', one per input, e.g. weights: [1, 1]")
    inputs = _input_names(spec, n, where)
    X = _truth_inputs(n)                                                # (n, m)
    trace.given(f"{name}.x", f"{name}: every input combination (columns are truth-table rows)",
                f"x = ({', '.join(inputs)})", X)
    prev_id, prev_width, seen, terms = f"{name}.x", n, set(), list(inputs)
    columns, outs = [*inputs], []
    for l, layer in enumerate(layers, start=1):
        for k, u in enumerate(layer):
            if isinstance(u, dict) and "inputs" in u:
                raise NNTError(f"{where}.layers[{l - 1}][{k}]: a unit inside a network reads the layer "
                               f"before it; name the inputs once, as {where}.inputs")
        units = [_unit(u, f"{where}.layers[{l - 1}][{k}]", f"L{l}u{k + 1}", prev_width)
                 for k, u in enumerate(layer)]
        for u in units:
            if u["name"] in seen:
                raise NNTError(f"{where}: unit name '{u['name']}' is used twice; give every unit its own name")
            seen.add(u["name"])
        W = np.stack([u["w"] for u in units])                          # (n_out, n_in)
        theta = np.array([u["theta"] for u in units])                   # (n_out,)
        lid = f"{name}.L{l}"
        unit_names = ", ".join(u["name"] for u in units)
        trace.given(f"{lid}.W", f"{name} layer {l} weights (rows: {unit_names})", f"W{l}", W)
        trace.given(f"{lid}.theta", f"{name} layer {l} thresholds ({unit_names})", f"θ{l}", theta)
        a_sym = "x" if l == 1 else f"out{l - 1}"
        z = trace.add(f"{lid}.z", f"{name} layer {l}: weighted sums", f"z{l} = W{l}·{a_sym}",
                      W @ trace[prev_id].value, (f"{lid}.W", prev_id),  # (n_out, m)
                      op=Op(lambda W_, A_: W_ @ A_, "{0}·{1}", _expand_dot(0, 1)))
        out = trace.add(f"{lid}.out", f"{name} layer {l}: outputs ({unit_names})",
                        f"out{l} = 1 if z{l} ≥ θ{l} else 0", _fire(z, theta),
                        (f"{lid}.z", f"{lid}.theta"), op=Op(_fire, "1[{0} ≥ {1}]", _expand_fire))
        for k, u in enumerate(units):
            columns.append(f"{u['name']} (L{l})")
            outs.append(out[k])
            if l == 1:  # deeper units are functions of their own inputs, not of x
                _note_function(trace, u["name"], out[k])
        terms = [f"{u['name']}({', '.join(terms)})" for u in units]
        prev_id, prev_width = f"{lid}.out", len(units)
    final = trace[prev_id].value                                        # (n_last, m)
    rows = [[*(int(v) for v in X[:, j]), *(int(o[j]) for o in outs)] for j in range(X.shape[1])]
    trace.tables.append(Table(f"{name}: truth table, layer by layer", columns, rows))
    trace.info["network_output_id"] = prev_id
    trace.info.setdefault("truth_tables", {})[name] = final.astype(int).tolist() if final.shape[0] > 1 \
        else final[0].astype(int).tolist()
    if final.shape[0] == 1:
        if len(terms[0]) <= 200:
            trace.notes.append(f"{name} = {terms[0]}, layer by layer.")
        gate = _recognise(final[0])
        if gate:
            trace.notes.append(f"the network {name} computes {gate}: {final[0].astype(int).tolist()}.")
        _check_target(trace, name, final[0], spec.get("target"), f"{where}.target")
    elif spec.get("target") is not None:
        raise NNTError(f"{where}.target checks a single output unit; the last layer has {final.shape[0]}")


def walk_threshold(spec: dict, options=None) -> Trace:
    """Truth tables of McCulloch-Pitts units and of a layered network of them (e.g. XOR)."""
    check_fields(spec, ("kind", "title", "units", "network"), "threshold spec")
    if not spec.get("units") and not spec.get("network"):
        raise NNTError("threshold spec needs 'units' (a list such as [{name: AND, weights: [1, 1], "
                       "threshold: 2}]) or 'network' (layers of units); add one of them")
    trace = Trace(spec.get("title", "McCulloch-Pitts threshold units"), conventions={
        "threshold_unit": "out = 1 if z = Σ w·x ≥ θ else 0",
        "truth_table": "rows in binary counting order, x1 most significant; x holds the rows as columns",
    })
    units = spec.get("units") or []
    if not isinstance(units, list):
        raise NNTError("threshold field 'units' must be a list of units, e.g. "
                       "[{name: AND, weights: [1, 1], threshold: 2}]")
    names = set()
    for k, raw in enumerate(units):
        unit = _unit(raw, f"units[{k}]", f"unit{k + 1}")
        if unit["name"] in names:
            raise NNTError(f"units[{k}]: unit name '{unit['name']}' is used twice; give every unit its own name")
        names.add(unit["name"])
        _walk_unit(trace, unit, f"units[{k}]", raw)
    if spec.get("network"):
        net_name = spec["network"].get("name", "net") if isinstance(spec["network"], dict) else None
        if not isinstance(net_name, (str, type(None))):
            raise NNTError(f"network name must be a word such as xor; got {net_name!r}")
        if net_name in names:
            raise NNTError(f"network name '{net_name}' is also a unit name; rename one of them")
        _walk_network(trace, spec["network"], "network")
    return trace


# ---------------------------------------------------------------------------------------------
# the perceptron rule


def _step_fn(at_zero: float):
    """ŷ = step(z): 1 for z > 0, 0 for z < 0, and `at_zero` at z = 0."""
    def step(z):
        z = np.asarray(z, dtype=np.float64)
        return np.where(z > 0, 1.0, np.where(z < 0, 0.0, at_zero))
    return step


def _perceptron_data(spec: dict):
    data = spec.get("data")
    example = "data: [[0, 0, 0], [0, 1, 0], [1, 0, 0], [1, 1, 1]]"
    if not isinstance(data, list) or not data or not all(isinstance(r, list) for r in data):
        raise NNTError(f"perceptron spec needs 'data': a list of rows [x1, ..., xn, y], e.g. {example}")
    width = len(data[0])
    if width < 2:
        raise NNTError(f"perceptron data rows need at least one input and the label y, e.g. {example}")
    if len(data) > MAX_SAMPLES:
        raise NNTError(f"perceptron data has {len(data)} rows; the limit is {MAX_SAMPLES}")
    for i, row in enumerate(data):
        if len(row) != width:
            raise NNTError(f"perceptron data row {i + 1} has {len(row)} values but row 1 has {width}; "
                           f"every row is [x1, ..., xn, y]")
    rows = np.array([[finite_number(v, f"perceptron data row {i + 1}", "[0, 1, 0]") for v in row]
                     for i, row in enumerate(data)])                    # (m, n + 1)
    y = rows[:, -1]                                                     # (m,)
    if not np.all((y == 0) | (y == 1)):
        raise NNTError(f"perceptron labels (the last value of each data row) must be 0 or 1; "
                       f"got {y.tolist()}")
    return rows[:, :-1].T.copy(), y                                     # (n, m), (m,)


def _perceptron_settings(spec: dict, n: int, options) -> tuple:
    for key in ("w", "b"):
        if key not in spec:
            raise NNTError(f"perceptron spec is missing '{key}' (the starting "
                           f"{'weights, one per input' if key == 'w' else 'bias'}); add e.g. "
                           f"{key}: {[0] * n if key == 'w' else 0}")
    w = _vector(spec["w"], "perceptron field 'w'", str([0] * n))
    if w.size != n:
        raise NNTError(f"perceptron field 'w' has {w.size} weights but the data rows have {n} inputs; "
                       f"give one weight per input, e.g. w: {[0] * n}")
    b = finite_number(spec["b"], "perceptron field 'b'", "0")
    lr = getattr(options, "learning_rate", None)               # `nnt walk` overrides win
    if lr is None:
        if "learning_rate" not in spec:
            raise NNTError("perceptron spec is missing 'learning_rate' (η); add e.g. learning_rate: 1")
        lr = spec["learning_rate"]
    lr = finite_number(lr, "perceptron learning_rate", "1")
    if lr <= 0:
        raise NNTError(f"perceptron learning_rate must be positive; got {lr}")
    iterations = getattr(options, "iterations", 1)
    epochs = iterations if isinstance(iterations, int) and iterations > 1 else spec.get("max_epochs", 20)
    if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= MAX_EPOCHS:
        raise NNTError(f"perceptron max_epochs must be a whole number from 1 to {MAX_EPOCHS}; got {epochs!r}")
    at_zero = spec.get("step_at_zero", 1)
    if at_zero not in (0, 1) or isinstance(at_zero, bool):
        raise NNTError(f"perceptron step_at_zero must be 0 or 1 (the output when z = 0); got {at_zero!r}")
    return w, b, lr, epochs, float(at_zero)


def _mark(k: int, value) -> str:
    """Placeholder {k} for a substituted template, in parentheses when the scalar is negative."""
    return "({%d})" % k if float(value) < 0 else "{%d}" % k


def _expand_w_new(inputs, index, p):
    w, lr, err, x = (np.asarray(v) for v in inputs)
    k = index[0]
    return f"{fmt_num(w[k], p)} + {fmt_num(lr, p)}×{_signed(err, p)}×{_signed(x[k], p)}"


def walk_perceptron(spec: dict, options=None) -> Trace:
    """Rosenblatt's perceptron rule, sample by sample and epoch by epoch, until no errors or max_epochs."""
    check_fields(spec, ("kind", "title", "name", "inputs", "data", "w", "b", "learning_rate",
                         "max_epochs", "step_at_zero"), "perceptron spec")
    X, y = _perceptron_data(spec)                                       # (n, m), (m,)
    n, m = X.shape
    w0, b0, lr, max_epochs, at_zero = _perceptron_settings(spec, n, options)
    name = _name(spec.get("name", "data"), "perceptron field 'name'")
    inputs = _input_names(spec, n, "perceptron")
    step = _step_fn(at_zero)
    trace = Trace(spec.get("title", f"Perceptron learning rule on {name}"), conventions={
        "activation": f"ŷ = step(z) = 1 if z > 0, 0 if z < 0, {int(at_zero)} at z = 0",
        "update": "w ← w + η(y − ŷ)x, b ← b + η(y − ŷ), after every sample, samples in the given order",
        "stop": "after the first epoch with no errors, or after max_epochs",
    })
    trace.given("x", f"inputs ({', '.join(inputs)}), one column per sample", "x", X, quantity="input")
    trace.given("y", "labels", "y", y, quantity="target")
    trace.given("w", "starting weights", "w", w0, quantity="weights", layer=1)
    trace.given("b", "starting bias", "b", np.float64(b0), quantity="biases", layer=1)
    trace.given("lr", "learning rate", "η", np.float64(lr), quantity="learning_rate")
    for i in range(1, m + 1):
        trace.given(f"sample{i}.x", f"sample {i} inputs", f"x⁽{i}⁾", X[:, i - 1].copy(), quantity="input")
        trace.given(f"sample{i}.y", f"sample {i} label", f"y⁽{i}⁾", np.float64(y[i - 1]), quantity="target")

    w_id, b_id = "w", "b"
    w, b = w0.copy(), np.float64(b0)
    samples = Table(f"Perceptron on {name}: every sample (η = {fmt_num(lr)})",
                    ["epoch", "sample", *inputs, "y", "z = w·x + b", "ŷ", "y − ŷ", "w after", "b after"])
    epochs_table = Table(f"Perceptron on {name}: epoch by epoch",
                         ["epoch", "w at start", "b at start", "errors", "w at end", "b at end"])
    starts: list[tuple[np.ndarray, float]] = []
    errors_per_epoch: list[int] = []
    converged_epoch, cycle = None, None
    for e in range(1, max_epochs + 1):
        if cycle is None:
            for k, (ws, bs) in enumerate(starts, start=1):
                if np.allclose(ws, w, rtol=0, atol=1e-9) and abs(bs - b) <= 1e-9:
                    cycle = {"epoch": e, "repeats_epoch": k}
                    break
        starts.append((w.copy(), float(b)))
        error_ids = []
        for i in range(1, m + 1):
            sid, xi, yi = f"epoch{e}.sample{i}", f"sample{i}.x", f"sample{i}.y"
            z = trace.add(f"{sid}.z", f"epoch {e}, sample {i}: weighted sum", "z = w·x + b",
                          w @ X[:, i - 1] + b, (xi, w_id, b_id),
                          op=Op(lambda x_, w_, b_: w_ @ x_ + b_, "{1}·{0} + " + _mark(2, b)),
                          phase="forward", quantity="pre_activation", layer=1, activation="step")
            yhat = trace.add(f"{sid}.yhat", f"epoch {e}, sample {i}: prediction", "ŷ = step(z)",
                             step(z), (f"{sid}.z",), op=Op(step, "step({0})"), phase="forward",
                             quantity="prediction", layer=1, activation="step")
            err = trace.add(f"{sid}.error", f"epoch {e}, sample {i}: error", "y − ŷ",
                            y[i - 1] - yhat, (yi, f"{sid}.yhat"),
                            op=Op(lambda y_, yh_: y_ - yh_, "{0} − {1}"), phase="loss", quantity="error")
            w = trace.add(f"{sid}.w_new", f"epoch {e}, sample {i}: new weights", "w ← w + η(y − ŷ)x",
                          w + lr * err * X[:, i - 1], (w_id, "lr", f"{sid}.error", xi),
                          op=Op(lambda w_, lr_, err_, x_: w_ + lr_ * err_ * x_,
                                "{0} + {1}×" + _mark(2, err) + "×{3}", _expand_w_new), phase="update",
                          quantity="updated_weights", layer=1)
            b = trace.add(f"{sid}.b_new", f"epoch {e}, sample {i}: new bias", "b ← b + η(y − ŷ)",
                          b + lr * err, (b_id, "lr", f"{sid}.error"),
                          op=Op(lambda b_, lr_, err_: b_ + lr_ * err_, "{0} + {1}×" + _mark(2, err)),
                          phase="update", quantity="updated_biases", layer=1)
            w_id, b_id = f"{sid}.w_new", f"{sid}.b_new"
            error_ids.append(f"{sid}.error")
            samples.rows.append([e, i, *(float(v) for v in X[:, i - 1]), float(y[i - 1]), float(z),
                                 float(yhat), float(err), w.tolist(), float(b)])
        count = trace.add(f"epoch{e}.errors", f"epoch {e}: misclassified samples", "Σ |y − ŷ|",
                          np.float64(sum(abs(trace[k].value) for k in error_ids)), tuple(error_ids),
                          op=Op(lambda *errs: np.float64(sum(np.abs(v) for v in errs)),
                                " + ".join(f"|{{{k}}}|" for k in range(m))), phase="loss",
                          quantity="error_count")
        errors_per_epoch.append(int(count))
        ws, bs = starts[-1]
        epochs_table.rows.append([e, ws.tolist(), bs, int(count), w.tolist(), float(b)])
        if count == 0:
            converged_epoch = e
            break

    trace.add("after.z", "final weights on every sample: weighted sums", "z = w·x + b",
              w @ X + b, ("x", w_id, b_id),                              # (m,)
              op=Op(lambda X_, w_, b_: w_ @ X_ + b_, "{1}·{0} + " + _mark(2, b)), phase="after",
              quantity="pre_activation", layer=1, activation="step")
    yhat_all = trace.add("after.yhat", "final weights on every sample: predictions", "ŷ = step(z)",
                         step(w @ X + b), ("after.z",), op=Op(step, "step({0})"), phase="after",
                         quantity="prediction", layer=1, activation="step")
    trace.tables += [samples, epochs_table]
    _perceptron_conclusion(trace, name, w, float(b), yhat_all, y, errors_per_epoch,
                           converged_epoch, cycle, max_epochs, inputs, (w_id, b_id))
    return trace


def _linear_text(w, b: float, inputs: list[str]) -> str:
    """w·x + b written out with signs: '2·x1 + 1·x2 − 3'."""
    text = ""
    for wk, x in zip(w, inputs):
        sign = "−" if wk < 0 else "+"
        text += f" {sign} {fmt_num(abs(wk))}·{x}" if text else f"{'−' if wk < 0 else ''}{fmt_num(abs(wk))}·{x}"
    return f"{text} {'−' if b < 0 else '+'} {fmt_num(abs(b))}"


def _perceptron_conclusion(trace, name, w, b, yhat, y, errors_per_epoch, converged_epoch, cycle,
                           max_epochs, inputs, final_ids) -> None:
    boundary = _linear_text(w, b, inputs) + " = 0"
    trace.info.update(converged=converged_epoch is not None, epochs=len(errors_per_epoch),
                      converged_epoch=converged_epoch, errors_per_epoch=errors_per_epoch,
                      w=w.tolist(), b=b, w_id=final_ids[0], b_id=final_ids[1],
                      output_id="after.yhat", cycle=cycle,
                      training_errors=int(np.sum(yhat != y)))
    if converged_epoch is not None:
        trace.info.update(linearly_separable=True, reason="converged")
        trace.notes.append(f"converged: epoch {converged_epoch} made no errors on {name}. Final "
                           f"w = {fmt_array(w)}, b = {fmt_num(b)}; the line {boundary} separates the "
                           f"classes (ŷ = 1 on one side, 0 on the other).")
        return
    errors = ", ".join(map(str, errors_per_epoch[:20])) + (" ..." if len(errors_per_epoch) > 20 else "")
    trace.notes.append(f"not converged: after {max_epochs} epochs the rule still misclassifies samples "
                       f"(errors per epoch: {errors}).")
    if cycle is not None:
        trace.info.update(linearly_separable=False, reason="not linearly separable")
        trace.notes.append(
            f"reason: {name} is not linearly separable. Epoch {cycle['epoch']} starts with the same w and b "
            f"as epoch {cycle['repeats_epoch']}, so the same epochs repeat forever and no epoch can be "
            f"error-free. On linearly separable data that is impossible: every correction increases u·(w, b) "
            f"for a separating (u, c), so the weights never come back. No line w·x + b = 0 puts every y = 1 "
            f"on one side and every y = 0 on the other.")
    else:
        trace.info.update(linearly_separable=None, reason="max_epochs reached")
        trace.notes.append(f"the weights did not repeat within {max_epochs} epochs, so this run does not "
                           f"prove that {name} is inseparable; raise max_epochs to train longer.")
