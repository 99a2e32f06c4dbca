"""Student names -> engine step ids: net_h1, out_o1, z₁[0], ŷ, L, δ₂, ∂L/∂w₅, w₅_new, W^[2], pool, p_dog.

`align_name(name, index, trace)` lists the (step id, element index) pairs a name may denote, most
likely first; `canon` is the symbol-table key that makes w_{5}, w_5 and w₅ one quantity.
"""
from __future__ import annotations

import re

import numpy as np

_LOSS_NAMES = {"L", "E", "J", "C", "loss", "cost", "etotal", "ltotal", "Loss", "Cost",
               "Error", "Etotal", "Ltotal"}
_LR_NAMES = {"eta", "η", "lr", "alpha", "α"}
_Z_NAMES = {"z", "net", "in", "s"}
_A_NAMES = {"a", "out", "h", "o"}
_YHAT_NAMES = {"ŷ", "yhat", "output", "pred", "ypred", "p", "o"}
_DELTA_NAMES = {"δ", "delta", "d"}
# what a quantity written with a class name (p_dog, z_cat, δ_dog, y_cat, b_dog) is, by its prefix
_CLASS_QUANTITIES = {**dict.fromkeys(("p", "P", "yhat", "Yhat", "out", "a", "o", "pred", "prob", "output"), "a"),
                     **dict.fromkeys(("z", "net", "logit", "s", "in"), "z"),
                     **dict.fromkeys(("δ", "delta"), "delta"),
                     **dict.fromkeys(("y", "t", "target"), "y"), "b": "b"}


def canon(name: str) -> str:
    """The symbol-table key of a name: w_{5}, w_5 and w₅ are the same quantity."""
    s = str(name).replace("_", "").replace("{", "").replace("}", "").replace(" ", "")
    return s.replace("ŷ", "yhat")


def align_name(name: str, index: tuple | None, trace, sample: int | None = None) -> list[tuple[str, tuple | None]]:
    """Engine steps (id, element index) a student's name may denote, most likely first; in a batch,
    with the sample the work is in (1-based), a per-sample step's element of that sample."""
    def fits(c, partial=False):
        return _fits(trace, _of_sample(trace, c, sample), partial)

    try:
        declared = _declared(name, trace)
        if declared:              # (a declared family may name a row: v = L2.W[0] for v_j = L2.W[0][j-1])
            return [_of_sample(trace, c, sample) for c in declared if c[0] in trace and fits(c, True)]
        found = [c for c in _candidates(name, index, trace) if c[0] in trace and fits(c)]
    except (KeyError, ValueError, IndexError):
        found = []                 # a layered name in a problem without such layers (a perceptron's w1)
    try:
        found = found or [c for c in _by_quantity(name, index, trace) if fits(c)]
    except (KeyError, ValueError, IndexError):
        return []
    return [_of_sample(trace, c, sample) for c in found]


def _of_sample(trace, cand, sample: int | None):
    """z1 in sample 2 of a batch: the element of sample 2 (the step's batch axis) of what z1 names."""
    sid, idx = cand
    if not sample or trace.batch_size <= 1 or sid not in trace:
        return cand
    axis = trace[sid].batch_axis
    shape = np.shape(trace.display(sid))
    if axis is None or axis >= len(shape) or shape[axis] != trace.batch_size or sample > shape[axis]:
        return cand
    idx = tuple(idx) if idx is not None else ()
    if len(idx) != len(shape) - 1:
        return cand
    return sid, idx[:axis] + (sample - 1,) + idx[axis:]


_DECLARED_RE = re.compile(r"([A-Za-zα-ω][\w']*(?:\s*,\s*[A-Za-zα-ω][\w']*)*|[A-Za-z]+\d+\s*\.\.\s*[A-Za-z]+\d+)"
                          r"\s*=\s*(L\d+\.[A-Za-z]+)((?:\[[\d.]+\])*)")


def declared_names(trace) -> dict[str, tuple[str, tuple | None]]:
    """Names the problem declares in its notes: `v1 = L2.W[0][0]`, `b1, b2 = L1.b`,
    `w1..w3 = L1.W[0][0..2]` -> canonical name -> (step id, index)."""
    cached = getattr(trace, "_declared_names", None)
    if cached is not None:
        return cached
    out: dict[str, tuple[str, tuple | None]] = {}
    for note in getattr(trace, "notes", []):
        out.update(_templates(str(note), trace))
        for m in _DECLARED_RE.finditer(str(note)):
            if str(note)[m.end():m.end() + 1] == "[":
                continue                         # an index of letters: a template, read above
            names, sid, idx_text = m.group(1), m.group(2), m.group(3)
            idx = re.findall(r"\[([\d.]+)\]", idx_text)
            if ".." in names:                    # w1..w3 = L1.W[0][0..2]
                a, b = [x.strip() for x in names.split("..")]
                base, lo, hi = re.sub(r"\d+$", "", a), int(re.search(r"\d+$", a).group()), int(re.search(r"\d+$", b).group())
                last = idx[-1] if idx else ""
                start = int(last.split("..")[0]) if ".." in last else 0
                for k, n in enumerate(range(lo, hi + 1)):
                    fixed = tuple(int(i) for i in idx[:-1])
                    out[canon(f"{base}{n}")] = (sid, fixed + (start + k,))
            elif "," in names:                   # b1, b2 = L1.b
                for k, n in enumerate(x.strip() for x in names.split(",")):
                    out[canon(n)] = (sid, tuple(int(i) for i in idx) + (k,))
            elif all(".." not in i for i in idx):
                out[canon(names)] = (sid, tuple(int(i) for i in idx) if idx else None)
    try:
        trace._declared_names = out
    except AttributeError:
        pass
    return out


_TEMPLATE_RE = re.compile(r"\b([A-Za-zα-ω]+)_([a-z]{1,2})\s*=\s*(L\d+\.[A-Za-z]+)((?:\[\s*(?:[a-z]\s*-\s*1|\d+)\s*\])+)")


def _templates(note: str, trace) -> dict[str, tuple[str, tuple]]:
    """`w_ij = L1.W[i-1][j-1]`, `v_j = L2.W[0][j-1]`: every name the template gives (w11, w12, …, v1, …)."""
    out = {}
    for m in _TEMPLATE_RE.finditer(note):
        base, letters, sid, brackets = m.groups()
        slots = re.findall(r"\[\s*([a-z])\s*-\s*1\s*\]|\[\s*(\d+)\s*\]", brackets)
        if sid not in trace or sorted(v for v, _ in slots if v) != sorted(letters):
            continue
        shape = np.shape(trace.display(sid))
        if len(slots) != len(shape):
            continue
        fixed = [int(f) for v, f in slots if not v]
        if all(not v for v, _ in slots[:len(fixed)]) and all(v for v, _ in slots[len(fixed):]):
            out.setdefault(canon(base), (sid, tuple(fixed) if fixed else None))   # v = L2.W[0]: all the v_j
        for idx in np.ndindex(shape):
            if any(not var and int(fixed) != i for (var, fixed), i in zip(slots, idx)):
                continue
            numbers = {var: i + 1 for (var, _), i in zip(slots, idx) if var}
            if all(n < 10 for n in numbers.values()):
                out[canon(base + "".join(str(numbers[v]) for v in letters))] = (sid, tuple(int(i) for i in idx))
    return out


def _declared(name: str, trace) -> list:
    """A name the problem declares: itself, or with _new / + its updated value."""
    table = declared_names(trace)
    if not table:
        return []
    s = canon(name)
    new = s.endswith("new") and s[:-3] in table
    key = s[:-3] if new else s
    if key not in table:
        if "ð" in s:                             # ∂E/∂v1 with v1 declared: its gradient
            num, _, den = s.partition("ð")
            if den[1:] in table and quantity(num[1:], trace) and quantity(num[1:], trace)[0] == "loss":
                sid, idx = table[den[1:]]
                stem, _, what = sid.rpartition(".")
                return [(f"{stem}.d{what}", idx)]
        return []
    sid, idx = table[key]
    return [(f"{sid}_new", idx)] if new else [(sid, idx)]


# a kind of name -> the step quantities it may mean (for problems whose steps are not L1.z, L2.a, …)
_QUANTITY_OF = {"z": ("pre_activation",), "a": ("activation", "prediction"), "yhat": ("prediction", "activation"),
                "delta": ("delta",), "loss": ("loss", "error"), "w": ("weights", "updated_weights"),
                "W": ("weights", "updated_weights"), "b": ("biases", "updated_biases"),
                "B": ("biases", "updated_biases"), "x": ("input",), "y": ("target",), "lr": ("learning_rate",),
                "error": ("error",)}


def _by_quantity(name: str, index, trace) -> list:
    """Every step of the quantity a name speaks of, in trace order (the aligner picks by place)."""
    s = canon(name)
    new = s.endswith("new") and len(s) > 3
    s = s[:-3] if new else s
    if "ð" in s:
        return []
    q = quantity(s, None)
    if q is None:
        return []
    kind, _, nums, _ = q
    wanted = _QUANTITY_OF.get(kind, ())
    if new:
        wanted = tuple(w for w in wanted if w.startswith("updated")) or wanted
    out = []
    if len(nums) > 1:
        return out                 # z11 in a problem without such a layer: not a guess to make
    for step in trace:
        if step.quantity not in wanted:
            continue
        size = int(np.size(trace.display(step.id)))
        if nums and size > 1:
            out.append((step.id, (nums[0] - 1,)))
        else:
            out.append((step.id, index))
    return out


def _fits(trace, cand, partial: bool = False) -> bool:
    sid, idx = cand
    if idx is None:
        return True
    shape = np.shape(trace.display(sid))
    return (len(idx) == len(shape) or (partial and 0 < len(idx) < len(shape))) and \
        all(0 <= i < n for i, n in zip(idx, shape))


def network_layers(trace) -> tuple[list[int], list[int], int]:
    """(layers with weights, every layer, the output layer) of a network trace, from its typed steps."""
    dense = sorted({s.layer for s in trace if s.quantity == "weights" and s.phase == "given" and s.layer})
    all_layers = sorted({s.layer for s in trace if s.layer and s.phase != "given"})
    out = trace.info.get("output_id")
    last = trace[out].layer if out in trace and trace[out].layer else (all_layers or [0])[-1]
    return dense, all_layers, last


def _side_layer(side: str, dense: list[int], last: int) -> int:
    return last if side == "o" else (dense[0] if dense else 1)


_GRADIENT_NAME_RE = re.compile(r"^(?:d|grad|g)((?:[wWbBzZaAh]|yhat|out|net)(?:\d*|Λ\d+\w*)|[ho]\d*)$")


def _candidates(name: str, index, trace) -> list:
    s = canon(name)
    m = _GRADIENT_NAME_RE.match(s)
    if m:                                        # dw1, dZ2, grad_w1, dA1: ∂L/∂(that)
        s = "dLðd" + m.group(1)
    new = False
    for suffix in ("new", "+"):
        if s.endswith(suffix) and len(s) > len(suffix):
            s, new = s[:-len(suffix)], True
    if "ð" in s:
        num, _, den = s.partition("ð")
        return _derivative(num[1:], den[1:], index, trace)
    found = class_quantity(s, trace)
    if found is not None:
        return _class_steps(*found, new, trace)
    q = quantity(s, trace)
    if q is None:
        return []
    kind, layer, numbers, side = q
    return _steps_for(kind, layer, numbers, side, index, new, trace)


def class_quantity(s: str, trace) -> tuple[str, int] | None:
    """(kind, class index) when a canonical name is a quantity of a named output, the spec naming
    its outputs (`classes: [dog, cat]`): p_dog, P(cat), ŷ_dog, out_dog -> "a"; z_cat -> "z";
    δ_dog -> "delta"; y_dog -> "y"; b_cat -> "b"."""
    classes = (trace.info.get("classes") or []) if trace is not None else []
    for k, name in enumerate(classes):
        key = canon(name).lower()
        prefix = s[:len(s) - len(key)]
        if key and s.lower().endswith(key) and prefix in _CLASS_QUANTITIES:
            return _CLASS_QUANTITIES[prefix], k
    return None


def _class_steps(kind: str, k: int, new: bool, trace) -> list:
    """The element of the output layer (or target) that class k's quantity is."""
    last = network_layers(trace)[2]
    after = "after." if new else ""
    out = trace.info.get("output_id", f"L{last}.a")
    return {"a": [(after + out, (k,))], "z": [(f"{after}L{last}.z", (k,))], "delta": [(f"L{last}.delta", (k,))],
            "y": [("y", (k,))], "b": [(f"L{last}.b" + ("_new" if new else ""), (k,))]}[kind]


def _class_derivative(num: str, den: tuple[str, int], trace) -> list:
    """∂L/∂p_dog -> L{n}.da[0], ∂L/∂z_dog -> δ[0], ∂L/∂b_dog -> ∂L/∂b[0], ∂p_dog/∂z_cat -> the
    softmax Jacobian's element [0, 1] (f′(z)[0] for an element-wise activation)."""
    last = network_layers(trace)[2]
    dkind, k = den
    nq = quantity(num, trace) if num else None
    if nq is not None and nq[0] == "loss":
        return {"a": [(f"L{last}.da", (k,))], "z": [(f"L{last}.delta", (k,))],
                "b": [(f"L{last}.db", (k,))]}.get(dkind, [])
    nc = class_quantity(num, trace)
    dadz = f"L{last}.dadz"
    if nc is None or nc[0] != "a" or dkind != "z" or dadz not in trace:
        return []
    if np.ndim(trace.display(dadz)) == 2:
        return [(dadz, (nc[1], k))]
    return [(dadz, (k,))] if nc[1] == k else []


def quantity(s: str, trace):
    """(kind, layer, numbers, side) for a canonical name, or None when it names nothing known."""
    m = re.fullmatch(r"(net|in|z|out|a|δ|delta|dadz)?(hidden|hid|output|out|h|o)(\d?)", s)
    if m and (m.group(1) or m.group(3)):          # net_h1, out_o2, δ_out, z_hidden
        base = m.group(1) or "neuron"
        kind = {"net": "z", "in": "z", "z": "z", "out": "a", "a": "a", "δ": "delta", "delta": "delta",
                "dadz": "dadz", "neuron": "neuron"}[base]
        side = "h" if m.group(2).startswith("h") else "o"
        return kind, None, ((int(m.group(3)),) if m.group(3) else ()), side
    if s == "h":                                  # h alone: the hidden layer's output
        return "a", None, (), "h"
    m = re.fullmatch(r"([A-Za-zα-ωŷ]+?)(?:Λ(\d))?(\d*)", s)
    if not m:
        return None
    base, layer, digits = m.group(1), m.group(2), m.group(3)
    layer = int(layer) if layer else None
    nums = tuple(int(ch) for ch in digits) if digits else ()
    low = base.lower()
    if base in ("W",):
        return "W", layer, nums, None
    if base == "w":
        return "w", layer, (int(digits),) if digits else (), None
    if low == "b":
        return ("B" if base == "B" else "b"), layer, (int(digits),) if digits else (), None
    if low in _Z_NAMES:
        return "z", layer, nums, None
    if low == "p" and not nums and _pooled_not_probability(trace):
        return "pool", layer, nums, None      # p of a network that pools and outputs no probability
    if low in _YHAT_NAMES and not nums:
        return "yhat", layer, nums, None
    if low in _A_NAMES:
        return "a", layer, nums, None
    if low in _DELTA_NAMES:
        return "delta", layer, nums, None
    if low in ("x", "i"):
        return "x", layer, nums, None
    if low in ("pool", "pooled", "maxpool", "avgpool"):
        return "pool", layer, nums, None
    if low in ("map", "fmap", "featuremap", "conv", "convmap", "relumap"):
        return "map", layer, nums, None
    if low in ("y", "t", "target") and not layer:
        return "y", None, nums, None
    if (base in _LOSS_NAMES or (len(base) > 1 and low in _LOSS_NAMES)) and not nums:
        return "loss", None, (), None
    if low in _LR_NAMES:
        return "lr", None, (), None
    if low in ("err", "error", "e") and base != "E":
        return "error", None, nums, None      # ŷ − y (or the perceptron's y − ŷ), not the loss
    return None


def _pooled_not_probability(trace) -> bool:
    if trace is None or not any(step.quantity == "pool" for step in trace):
        return False
    out = trace.info.get("output_id")
    return out in trace and trace[out].activation not in ("softmax", "sigmoid")


def _steps_for(kind, layer, nums, side, index, new, trace) -> list:
    dense, all_layers, last = network_layers(trace)
    after = "after." if new else ""
    if kind == "loss":
        return [(f"{after}loss", None)]
    if kind == "lr":
        return [("lr", None)]
    if kind == "yhat":
        out = trace.info.get("output_id", f"L{last}.a")
        return [(after + out, index)] + ([(after + out, (0,))] if index is None else [])
    if kind in ("x", "y"):
        if nums:
            return [(kind, (nums[0] - 1,) + tuple(nums[1:]))] if len(nums) <= 2 else []
        return [(kind, index)]
    if kind == "neuron":         # h1, o2: the neuron's output, or its net input
        return _steps_for("a", layer, nums, side, index, new, trace) + \
            _steps_for("z", layer, nums, side, index, new, trace)
    if kind in ("z", "a", "delta", "dadz"):
        step = {"z": "z", "a": "a", "delta": "delta", "dadz": "dadz"}[kind]
        pre = after if kind in ("z", "a") else ""
        if side is not None:
            lay = _side_layer(side, dense, last)
            idx = (nums[0] - 1,) if nums else index
            if kind == "a" and side == "o":
                return [(pre + trace.info.get("output_id", f"L{lay}.a"), idx)]
            return [(f"{pre}L{lay}.{step}", idx)]
        cands = []
        if layer is not None:
            cands.append((f"{pre}L{layer}.{step}", index))
            if nums:
                cands.append((f"{pre}L{layer}.{step}", (nums[0] - 1,)))
        elif nums:
            k = nums[0]
            if len(nums) == 1:
                cands.append((f"{pre}L{k}.{step}", index))
                if index is None:                  # z1 without an index may be neuron 1 (of the last layer)
                    for lay in dense:
                        cands.append((f"{pre}L{lay}.{step}", (k - 1,)))
            elif len(nums) == 2:
                cands.append((f"{pre}L{nums[0]}.{step}", (nums[1] - 1,)))
                for lay in dense:                  # z11 on a feature map: row 1, column 1
                    sid = f"{pre}L{lay}.{step}"
                    if sid in trace and np.ndim(trace.display(sid)) == 3:
                        cands.append((sid, (0, nums[0] - 1, nums[1] - 1)))
        else:
            layers = dense if kind != "a" else all_layers
            for lay in reversed(layers):
                cands.append((f"{pre}L{lay}.{step}", index))
                if index is None:
                    cands.append((f"{pre}L{lay}.{step}", (0,)))
        return cands
    if kind in ("W", "w", "b", "B"):
        p = "W" if kind in ("W", "w") else "b"
        suffix = "_new" if new else ""
        return _param_candidates(p, kind, layer, nums, index, suffix, dense, trace)
    if kind == "pool":   # the output of a pooling layer
        return [(s.id, index) for s in trace if s.quantity == "pool" and s.phase != "after"]
    if kind == "map":    # a conv layer's feature map, after its activation when one follows
        out = []
        for k in dense:
            if np.ndim(trace.display(f"L{k}.W")) == 4:
                nxt = f"L{k + 1}.a"
                if nxt in trace and trace[nxt].inputs == (f"L{k}.z",):
                    out.append((nxt, index))
                out.append((f"L{k}.z", index))
        return out
    return []


def _param_candidates(p, kind, layer, nums, index, suffix, dense, trace) -> list:
    """w5 (numbered through the network), w11 / w_12 (row, column), W2 (layer matrix), b3, b2 (vector)."""
    cands = []
    if layer is not None:
        cands.append((f"L{layer}.{p}{suffix}", index))
        if p == "W" and len(nums) == 1 and nums[0] >= 11:
            r, c = divmod(nums[0], 10)
            cands.append((f"L{layer}.{p}{suffix}", (r - 1, c - 1)))
        elif nums:
            cands.append((f"L{layer}.{p}{suffix}", (nums[0] - 1,) if p == "b" else None))
        return cands
    if not nums:
        for lay in reversed(dense):
            cands.append((f"L{lay}.{p}{suffix}", index))
            if p == "b" and index is None:
                cands.append((f"L{lay}.{p}{suffix}", (0,)))
            if p == "W" and index is None:
                cands.append((f"L{lay}.{p}{suffix}", (0, 0)))
        return cands
    n = nums[0]
    if kind in ("W", "B") or (index is not None and len(nums) == 1):
        cands.append((f"L{n}.{p}{suffix}", index))
    flat = []
    for lay in dense:
        shape = np.shape(trace.display(f"L{lay}.{p}"))
        flat.extend((f"L{lay}.{p}{suffix}", tuple(int(i) for i in ix)) for ix in np.ndindex(shape))
    if 1 <= n <= len(flat):
        cands.append(flat[n - 1])
    if kind in ("w", "b") and p == "b" and n in dense:
        cands.append((f"L{n}.b{suffix}", None))
    if p == "W" and n >= 11:
        r, c = divmod(n, 10)
        for lay in dense:
            cands.append((f"L{lay}.W{suffix}", (r - 1, c - 1)))
    if kind == "w" and n in dense:
        cands.append((f"L{n}.W{suffix}", None))
    return cands


def _derivative(num: str, den: str, index, trace) -> list:
    """∂num/∂den names: ∂L/∂w5 -> weight gradient, ∂L/∂ŷ -> L{n}.da, ∂out/∂net -> L{k}.dadz."""
    dense, all_layers, last = network_layers(trace)
    dc = class_quantity(den, trace)
    if dc is not None:
        return _class_derivative(num, dc, trace)
    nq = quantity(num, trace) if num else None
    dq = quantity(den, trace)
    if dq is None:
        return []
    dkind, dlayer, dnums, dside = dq
    if nq is not None and nq[0] == "loss":
        if dkind in ("W", "w", "b", "B"):
            p = "W" if dkind in ("W", "w") else "b"
            return [(c[0].replace(f".{p}", f".d{p}", 1), c[1])
                    for c in _param_candidates(p, dkind, dlayer, dnums, index, "", dense, trace)]
        if dkind in ("z", "delta"):
            return _steps_for("delta", dlayer, dnums, dside, index, False, trace)
        if dkind == "yhat":
            return [(f"L{last}.da", index)] + ([(f"L{last}.da", (0,))] if index is None else [])
        if dkind in ("a", "pool", "map"):
            return [(c[0][:-2] + (".da" if c[0].endswith(".a") else ".delta"), c[1]) for c in
                    _steps_for(dkind, dlayer, dnums, dside, index, False, trace)
                    if c[0].endswith((".a", ".z"))]
        return []
    if nq is not None and nq[0] == "z" and dkind in ("w", "W"):
        # ∂z/∂w = the input that weight multiplies: a_{k−1}[c] (x[c] for the first layer)
        out = []
        for sid, idx in _param_candidates("W", dkind, dlayer, dnums, index, "", dense, trace):
            k = int(sid[1:].split(".")[0])
            if idx is not None and len(idx) == 2:
                src = trace[f"L{k}.z"].inputs[1] if f"L{k}.z" in trace else None
                if src:
                    out.append((src, (idx[1],)))
        return out
    if nq is not None and nq[0] in ("a", "yhat") and dkind == "z":
        base = _steps_for("z", dlayer if dlayer else nq[1], dnums or nq[2], dside or nq[3], index, False, trace)
        if nq[0] == "yhat" and not (dnums or nq[2]):
            base = [(f"L{last}.z", index)] + ([(f"L{last}.z", (0,))] if index is None else [])
        return [(c[0].replace(".z", ".dadz"), c[1]) for c in base]
    return []


def is_bare(label: str | None) -> bool:
    """A name with no number, side (h/o) or layer: z, a, net, out, δ, w, b, ∂L/∂w."""
    if not label:
        return True
    s = canon(label)
    if "ð" in s:
        s = s.partition("ð")[2][1:]
    if s.lower() in ("pool", "pooled", "maxpool", "avgpool", "map", "fmap", "featuremap", "convmap",
                     "relumap"):
        return False  # one pooling or feature-map layer is what these words name
    return not any(ch.isdigit() for ch in s) and "Λ" not in s
