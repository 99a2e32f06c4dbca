"""Network spec files (YAML or JSON): reading, and validation with one-line errors that say the fix.

Validation is hand-written rather than pydantic so that `nnt walk` starts fast and every error names
the layer, the shapes and the fix. The format:

    input: [0.5, 0.8]          # one sample; a list of samples is a batch; C×H×W nested lists for images
    target: [1]
    layers:
      - dense: {W: [[0.15, 0.20], [0.25, 0.30]], b: [0.35, 0.35], activation: sigmoid}
      - conv2d: {filters: [...], bias: [...], stride: 1, padding: 0}   # filters C_out×C_in×k×k
      - activation: relu
      - maxpool: {size: 2, stride: 2}                                  # also avgpool
      - flatten: {}
    loss: half_sse             # half_sse, sse, mse, bce, cross_entropy
    learning_rate: 0.5
    momentum: 0.0              # optional (SGD with momentum)
    classes: [dog, cat]        # optional names of the outputs
    conventions: {maxpool_ties: first, batch_reduction: mean}
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nn_tutor.engine.errors import NNTError
from nn_tutor.engine.ops import ACTIVATIONS, get_activation, get_loss

CONVENTIONS = {
    "maxpool_ties": ("first", "split"),     # gradient to the first max (row-major) or split equally
    "batch_reduction": ("mean", "sum"),     # loss over a batch: mean of per-sample losses, or their sum
}
DEFAULT_CONVENTIONS = {"maxpool_ties": "first", "batch_reduction": "mean"}
MAX_ELEMENTS = 5_000_000
# losses that take logs of the outputs: they need outputs in (0, 1), which these activations give
PROBABILITY_OUTPUTS = {"bce": ("sigmoid", "softmax"), "cross_entropy": ("softmax", "sigmoid")}
OUTPUT_RANGES = {"linear": "any real number", "relu": "[0, ∞)", "leaky_relu": "any real number",
                 "tanh": "(−1, 1)", "step": "exactly 0 or 1"}


# ---- reading ---------------------------------------------------------------------------------------

def load_spec(path: str | Path) -> dict:
    """Read a spec file (YAML or JSON) into a dict; unreadable or empty files raise NNTError."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NNTError(f"spec file '{p}' not found; give the path of a .yaml or .json spec "
                       f"(examples/ has one for every reference problem)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise NNTError(f"cannot read spec file '{p}': {exc.__class__.__name__}; "
                       f"it must be a UTF-8 text file") from None
    return parse_text(text, str(p))


def parse_text(text: str, source: str = "spec") -> dict:
    """Parse spec text (JSON if it looks like JSON, else YAML) into a dict."""
    if not text.strip():
        raise NNTError(f"{source} is empty; write a spec with input, layers and loss "
                       f"(see README 'Spec format')")
    if source.endswith(".json") or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise NNTError(f"{source}: invalid JSON at line {exc.lineno}, column {exc.colno}: "
                           f"{exc.msg}") from None
    else:
        import yaml
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or "syntax error"
            raise NNTError(f"{source}: invalid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise NNTError(f"{source} must be a mapping with fields such as input, target, layers, loss")
    return data


# ---- validated network spec -------------------------------------------------------------------------

@dataclass
class DenseSpec:
    """A fully connected layer: z = W·a_prev + b, a = f(z); W is (n_out, n_in)."""

    W: np.ndarray
    b: np.ndarray
    activation: str = "linear"
    alpha: float | None = None
    kind: str = "dense"


@dataclass
class Conv2DSpec:
    """A 2-D convolution (cross-correlation, as frameworks compute it); W is (C_out, C_in, kh, kw)."""

    W: np.ndarray
    b: np.ndarray
    stride: int = 1
    padding: int = 0
    activation: str = "linear"
    alpha: float | None = None
    kind: str = "conv2d"


@dataclass
class PoolSpec:
    """Max- or average-pooling over size×size windows moved by stride."""

    mode: str
    size: int
    stride: int
    kind: str = "pool"


@dataclass
class ActivationSpec:
    """An activation applied as its own layer (after a conv, for instance)."""

    activation: str
    alpha: float | None = None
    kind: str = "activation"


@dataclass
class FlattenSpec:
    """Flatten C×H×W maps into one vector (row-major: channel, then row, then column)."""

    kind: str = "flatten"


@dataclass
class NetworkSpec:
    """A validated network: input batch, target, layers, loss, optimiser and conventions."""

    x: np.ndarray               # internal: (n, m) for vectors, (m, C, H, W) for images
    y: np.ndarray | None        # internal: (K, m)
    layers: list
    loss: str | None
    learning_rate: float | None
    momentum: float = 0.0
    batch_size: int = 1
    image_input: bool = False
    conventions: dict = field(default_factory=lambda: dict(DEFAULT_CONVENTIONS))
    title: str = ""
    notes: list = field(default_factory=list)
    classes: list = field(default_factory=list)  # names of the outputs, e.g. [dog, cat]


def parse_network(data: dict, loss_override: str | None = None,
                  lr_override: float | None = None, conventions: dict | None = None) -> NetworkSpec:
    """Validate a network spec dict: every shape is checked layer by layer, errors name the fix."""
    known = {"kind", "title", "input", "target", "layers", "loss", "learning_rate", "lr", "eta",
             "momentum", "conventions", "description", "notes", "classes"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise NNTError(f"unknown field(s) {', '.join(unknown)}; a network spec has: "
                       f"{', '.join(sorted(known - {'lr', 'eta'}))}")
    if "input" not in data:
        raise NNTError("missing field 'input': give one sample as a list, e.g. input: [0.5, 0.8]")
    layers_raw = data.get("layers")
    if not isinstance(layers_raw, list) or not layers_raw:
        raise NNTError("missing field 'layers': give a list such as "
                       "- dense: {W: [[...]], b: [...], activation: sigmoid}")
    layers = [_parse_layer(item, i) for i, item in enumerate(layers_raw, 1)]
    structural = next((l for l in layers if l.kind != "activation"), layers[0])
    image_input = structural.kind in ("conv2d", "pool", "flatten")
    x, m = _parse_input(data["input"], image_input)
    if x.size > MAX_ELEMENTS:
        raise NNTError(f"input has {x.size} numbers; the limit is {MAX_ELEMENTS}")
    shape = x.shape[1:] if image_input else (x.shape[0],)
    for i, layer in enumerate(layers, 1):
        if layer.kind == "conv2d" and len(shape) == 3:
            padded = m * shape[0] * (shape[1] + 2 * layer.padding) * (shape[2] + 2 * layer.padding)
            if padded > MAX_ELEMENTS:
                raise NNTError(f"layer {i} (conv2d): padding {layer.padding} makes {padded} numbers; "
                               f"the limit is {MAX_ELEMENTS}, use less padding")
        shape = _check_layer(layer, i, shape)
        if m * int(np.prod(shape)) > MAX_ELEMENTS:
            raise NNTError(f"layer {i} ({layer.kind}) outputs {m}×{'×'.join(map(str, shape))} numbers; "
                           f"the limit is {MAX_ELEMENTS}, use a smaller input or layer")
    out_dim = shape[0] if len(shape) == 1 else None

    loss = loss_override or data.get("loss")
    if loss is not None:
        loss = get_loss(loss).name
    y = None
    if data.get("target") is not None:
        if out_dim is None:
            raise NNTError(f"the last layer outputs maps of shape {shape}; add '- flatten: {{}}' and a "
                           f"dense layer before comparing with a target")
        y = _parse_target(data["target"], out_dim, m, loss)
    elif loss is not None and data.get("target") is None and "target" in data:
        raise NNTError("field 'target' is empty; give the target values, e.g. target: [1]")
    if loss is not None and y is None:
        raise NNTError(f"loss '{loss}' needs a target; add e.g. target: {[0] * (out_dim or 1)}")
    if loss in ("bce", "cross_entropy") and y is not None and (np.any(y < 0) or np.any(y > 1)):
        raise NNTError(f"{loss} needs targets between 0 and 1 (probabilities or one-hot); got {y.T.tolist()}")
    if loss in PROBABILITY_OUTPUTS:
        _check_probability_output(loss, _output_activation(layers))

    lr = lr_override if lr_override is not None else data.get("learning_rate",
                                                              data.get("lr", data.get("eta")))
    if lr is not None:
        lr = _finite_float(lr, "learning_rate")
        if lr <= 0:
            raise NNTError(f"learning_rate must be positive; got {lr}")
    momentum = _finite_float(data.get("momentum", 0.0), "momentum")
    if not 0 <= momentum < 1:
        raise NNTError(f"momentum must be in [0, 1); got {momentum}")

    conv = dict(DEFAULT_CONVENTIONS)
    for source in (data.get("conventions") or {}), (conventions or {}):
        if not isinstance(source, dict):
            raise NNTError("conventions must be a mapping, e.g. conventions: {maxpool_ties: split}")
        for key, value in source.items():
            if key not in CONVENTIONS:
                raise NNTError(f"unknown convention '{key}'; known: {', '.join(CONVENTIONS)}")
            if value not in CONVENTIONS[key]:
                raise NNTError(f"convention {key} must be one of {', '.join(CONVENTIONS[key])}; "
                               f"got '{value}'")
            conv[key] = value
    classes = data.get("classes") or []
    if not isinstance(classes, list) or (out_dim is not None and classes and len(classes) != out_dim):
        raise NNTError(f"classes must be a list with one name per output ({out_dim}), e.g. classes: [dog, cat]")
    notes = data.get("notes") or []
    if not isinstance(notes, list):
        notes = [notes]
    return NetworkSpec(x, y, layers, loss, lr, momentum, m, image_input, conv,
                       str(data.get("title", "")), [str(n) for n in notes], [str(c) for c in classes])


def _output_activation(layers: list) -> str:
    """The activation that produces the network's output (pooling and flatten keep its range)."""
    for layer in reversed(layers):
        if layer.kind in ("dense", "conv2d", "activation"):
            return layer.activation
    return "linear"


def _check_probability_output(loss: str, activation: str) -> None:
    """bce and cross_entropy take ln of the outputs: the last activation must keep them in (0, 1)."""
    allowed = PROBABILITY_OUTPUTS[loss]
    if activation not in allowed:
        raise NNTError(f"{loss} takes probabilities in (0, 1), but the last layer's activation is {activation}, "
                       f"whose outputs are {OUTPUT_RANGES.get(activation, 'not probabilities')}; make it "
                       f"activation: {allowed[0]} (or {allowed[1]}), or use a squared-error loss such as half_sse")


# ---- layers ------------------------------------------------------------------------------------------

LAYER_KINDS = ("dense", "conv2d", "maxpool", "avgpool", "activation", "flatten")


def _parse_layer(item, i: int):
    if isinstance(item, str) and item.strip().lower() == "flatten":
        return FlattenSpec()
    if not isinstance(item, dict) or len(item) != 1:
        raise NNTError(f"layer {i}: write each layer as one of '- dense: {{...}}', '- conv2d: {{...}}', "
                       f"'- activation: relu', '- maxpool: {{size: 2, stride: 2}}', '- flatten: {{}}'")
    (kind, body), = item.items()
    kind = str(kind).lower()
    if kind == "activation":
        if isinstance(body, dict):
            name, alpha = body.get("name", body.get("activation")), body.get("alpha")
        else:
            name, alpha = body, None
        _check_activation(name, i)
        return ActivationSpec(str(name).lower(), alpha)
    if kind == "flatten":
        return FlattenSpec()
    if kind not in LAYER_KINDS:
        raise NNTError(f"layer {i}: unknown layer '{kind}'; use one of: {', '.join(LAYER_KINDS)}")
    body = body or {}
    if not isinstance(body, dict):
        raise NNTError(f"layer {i} ({kind}): its settings must be a mapping, e.g. {{size: 2, stride: 2}}")
    if kind == "dense":
        _only(body, {"W", "w", "weights", "b", "bias", "activation", "alpha"}, i, kind)
        W = _array(_first(body, "W", "w", "weights", where=f"layer {i} (dense)", fix="W: [[...]] with "
                          "one row per neuron"), f"layer {i} (dense) W")
        if W.ndim == 0:
            W = W.reshape(1, 1)
        elif W.ndim == 1:
            W = W.reshape(1, -1)
        elif W.ndim != 2:
            raise NNTError(f"layer {i} (dense): W must be a matrix (n_out, n_in); got {W.ndim} dimensions")
        b = _bias(body, W.shape[0], i, kind)
        act = body.get("activation", "linear")
        _check_activation(act, i)
        return DenseSpec(W, b, str(act).lower(), body.get("alpha"))
    if kind == "conv2d":
        _only(body, {"filters", "W", "kernel", "bias", "b", "stride", "padding", "activation", "alpha"},
              i, kind)
        W = _array(_first(body, "filters", "W", "kernel", where=f"layer {i} (conv2d)",
                          fix="filters: C_out×C_in×k×k nested lists"), f"layer {i} (conv2d) filters")
        if W.ndim == 2:
            W = W[None, None]
        elif W.ndim != 4:
            raise NNTError(f"layer {i} (conv2d): filters must be k×k (one single-channel filter) or "
                           f"C_out×C_in×k×k; got shape {W.shape}")
        b = _bias(body, W.shape[0], i, kind)
        stride, padding = _int(body.get("stride", 1), i, "stride", 1), _int(body.get("padding", 0), i,
                                                                           "padding", 0)
        act = body.get("activation", "linear")
        _check_activation(act, i)
        return Conv2DSpec(W, b, stride, padding, str(act).lower(), body.get("alpha"))
    # pooling
    _only(body, {"size", "stride"}, i, kind)
    size = _int(body.get("size", 2), i, "size", 1)
    stride = _int(body.get("stride", size), i, "stride", 1)
    return PoolSpec("max" if kind == "maxpool" else "avg", size, stride)


def _check_layer(layer, i: int, shape: tuple) -> tuple:
    """Check the layer against the incoming shape; return the outgoing shape."""
    if layer.kind == "dense":
        if len(shape) != 1:
            raise NNTError(f"layer {i} (dense) receives maps of shape {shape}; insert '- flatten: {{}}' "
                           f"before it (it then receives {int(np.prod(shape))} values)")
        n_out, n_in = layer.W.shape
        if n_in != shape[0]:
            raise NNTError(f"layer {i} (dense): W is ({n_out}, {n_in}) but it receives {shape[0]} values; "
                           f"W must be ({n_out}, {shape[0]}) (one row per neuron, one column per input)")
        if layer.activation == "softmax" and n_out < 2:
            raise NNTError(f"layer {i} (dense): softmax over {n_out} output is always 1; "
                           f"use sigmoid for one output or give 2+ rows in W")
        return (n_out,)
    if layer.kind == "conv2d":
        if len(shape) != 3:
            raise NNTError(f"layer {i} (conv2d) receives a vector of {shape[0]} values; conv needs C×H×W "
                           f"maps (give the input as nested lists, channels first)")
        c, h, w = shape
        c_out, c_in, kh, kw = layer.W.shape
        if layer.activation == "softmax":
            raise NNTError(f"layer {i} (conv2d): softmax needs a vector of class scores; use relu here and "
                           f"softmax on a dense layer after '- flatten: {{}}'")
        if c_in != c:
            raise NNTError(f"layer {i} (conv2d): filters are {layer.W.shape} (C_out, C_in, k, k) but the "
                           f"input has {c} channel(s); make C_in = {c}")
        ho = (h + 2 * layer.padding - kh) // layer.stride + 1
        wo = (w + 2 * layer.padding - kw) // layer.stride + 1
        if ho < 1 or wo < 1:
            raise NNTError(f"layer {i} (conv2d): a {kh}×{kw} filter does not fit a {h}×{w} input with "
                           f"padding {layer.padding}; use a smaller filter or more padding")
        return (c_out, ho, wo)
    if layer.kind == "pool":
        if len(shape) != 3:
            raise NNTError(f"layer {i} ({layer.mode}pool) receives a vector; pooling needs C×H×W maps")
        c, h, w = shape
        ho, wo = (h - layer.size) // layer.stride + 1, (w - layer.size) // layer.stride + 1
        if ho < 1 or wo < 1:
            raise NNTError(f"layer {i} ({layer.mode}pool): a {layer.size}×{layer.size} window does not fit "
                           f"{h}×{w} maps; use size ≤ {min(h, w)}")
        return (c, ho, wo)
    if layer.kind == "flatten":
        return (int(np.prod(shape)),)
    if layer.activation == "softmax" and len(shape) != 1:
        raise NNTError(f"layer {i} (activation softmax) needs a vector; flatten the maps first")
    return shape


# ---- small validators --------------------------------------------------------------------------------

def _only(body: dict, allowed: set, i: int, kind: str) -> None:
    extra = sorted(set(body) - allowed)
    if extra:
        raise NNTError(f"layer {i} ({kind}): unknown setting(s) {', '.join(extra)}; "
                       f"allowed: {', '.join(sorted(allowed))}")


def _first(body: dict, *names: str, where: str, fix: str):
    for n in names:
        if n in body:
            return body[n]
    raise NNTError(f"{where}: missing '{names[0]}'; give {fix}")


def _array(value, where: str) -> np.ndarray:
    if isinstance(value, bool) or value is None:
        raise NNTError(f"{where} must be numbers; got {value!r}")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise NNTError(f"{where} must be numbers in nested lists of equal length (a ragged or "
                       f"non-numeric list was given)") from None
    if arr.size == 0:
        raise NNTError(f"{where} is empty; give at least one number")
    if not np.all(np.isfinite(arr)):
        raise NNTError(f"{where} contains NaN or infinity; give finite numbers")
    return arr


def _bias(body: dict, n_out: int, i: int, kind: str) -> np.ndarray:
    raw = body.get("b", body.get("bias"))
    if raw is None:
        return np.zeros(n_out)
    b = _array(raw, f"layer {i} ({kind}) b").reshape(-1)
    if b.size == 1 and n_out > 1:
        raise NNTError(f"layer {i} ({kind}): b has 1 value but the layer has {n_out} neurons/filters; "
                       f"give {n_out} biases")
    if b.size != n_out:
        raise NNTError(f"layer {i} ({kind}): b has {b.size} values but the layer has {n_out} "
                       f"neurons/filters; give one bias each")
    return b


def _int(value, i: int, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise NNTError(f"layer {i}: {name} must be a whole number; got {value!r}")
    if value < minimum:
        raise NNTError(f"layer {i}: {name} must be at least {minimum}; got {value}")
    return int(value)


def _finite_float(value, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise NNTError(f"{name} must be a number; got {value!r}") from None
    if not np.isfinite(v):
        raise NNTError(f"{name} must be finite; got {value!r}")
    return v


def _check_activation(name, i: int) -> None:
    if not isinstance(name, str):
        raise NNTError(f"layer {i}: activation must be a name such as relu; got {name!r}")
    try:
        get_activation(name)
    except NNTError:
        raise NNTError(f"layer {i}: unknown activation '{name}'; use one of: "
                       f"{', '.join(ACTIVATIONS)}") from None


def _parse_input(value, image_input: bool) -> tuple[np.ndarray, int]:
    """Input as the course writes it -> internal layout and batch size m."""
    x = _array(value, "input")
    if image_input:
        if x.ndim == 2:
            x = x[None, None]
        elif x.ndim == 3:
            x = x[None]
        elif x.ndim != 4:
            raise NNTError(f"input for a conv/pool network must be H×W, C×H×W or a batch m×C×H×W; "
                           f"got shape {x.shape}")
        return x, x.shape[0]
    if x.ndim == 0:
        x = x.reshape(1)
    if x.ndim == 1:
        return x[:, None], 1
    if x.ndim == 2:
        return x.T.copy(), x.shape[0]  # rows are samples -> columns
    raise NNTError(f"input for a dense network must be one sample (a list) or a batch (a list of lists); "
                   f"got shape {x.shape}; start with '- flatten: {{}}' for images")


def _parse_target(value, out_dim: int, m: int, loss: str | None) -> np.ndarray:
    """Target as written -> (K, m); a class index is one-hot encoded for cross-entropy."""
    y = _array(value, "target")
    if loss == "cross_entropy" and out_dim > 1 and y.ndim == 0 and float(y).is_integer():
        k = int(y)
        if not 0 <= k < out_dim:
            raise NNTError(f"target class {k} is outside the {out_dim} outputs (0 to {out_dim - 1})")
        y = np.eye(out_dim)[k]
    if m == 1:
        y = y.reshape(-1)
        if y.size != out_dim:
            raise NNTError(f"target has {y.size} value(s) but the network outputs {out_dim}; "
                           f"give {out_dim} target value(s)")
        return y[:, None]
    if y.ndim == 1 and out_dim == 1 and y.size == m:
        return y[None, :]
    if y.shape != (m, out_dim):
        raise NNTError(f"target has shape {y.shape} but a batch of {m} samples with {out_dim} output(s) "
                       f"needs ({m}, {out_dim}): one row per sample")
    return y.T.copy()
