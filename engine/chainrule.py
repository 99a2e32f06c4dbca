"""The chain rule written out factor by factor for one weight (R13), evaluated with the network's numbers.

For a dense network with elementwise activations, ∂L/∂W_l[i,j] is the sum over every path from neuron i
of layer l to the outputs of the product of local derivatives:
    ∂L/∂ŷ_k · f′(z_n) · W_n[k,·] · … · f′(z_l[i]) · a_{l−1}[j].
Each factor is shown symbolically and with its value; the sum is checked against backprop's L{l}.dW.

Spec: a network spec with `kind: chain_rule` and `chain: ["L3.W[0,0]", "L1.W[0,0]"]` (default: w11 of
every layer). Indices are 0-based in ids; names in formulas are 1-based as the course writes them (w¹₁₁).
"""
from __future__ import annotations

import itertools
import re

import numpy as np

from nn_tutor.engine.errors import NNTError
from nn_tutor.engine.network import Network
from nn_tutor.engine.numfmt import fmt_num
from nn_tutor.engine.spec import parse_network
from nn_tutor.engine.trace import Trace

MAX_PATHS = 64
_PARAM = re.compile(r"^L(\d+)\.W\[(\d+),\s*(\d+)\]$")


def walk_chain_rule(data: dict, options) -> Trace:
    """Walk the network, then write out the chain of factors for each requested weight."""
    body = {k: v for k, v in data.items() if k not in ("kind", "chain")}
    spec = parse_network(body, options.loss, options.learning_rate, options.conventions)
    if any(l.kind != "dense" for l in spec.layers) or spec.batch_size != 1:
        raise NNTError("kind 'chain_rule' works on dense networks with one sample; "
                       "use 'nnt walk' for conv networks and batches")
    if any(l.activation == "softmax" for l in spec.layers):
        raise NNTError("kind 'chain_rule' needs elementwise activations; softmax mixes outputs "
                       "(see its Jacobian in a normal walkthrough)")
    if spec.loss is None:
        raise NNTError("kind 'chain_rule' needs a loss and a target")
    net = Network(spec)
    trace = Trace(spec.title or "Chain rule", 1, {"loss": spec.loss})
    net.step(trace, after=False)
    wanted = data.get("chain") or [f"L{l}.W[0,0]" for l in range(len(spec.layers), 0, -1)]
    if not isinstance(wanted, list):
        raise NNTError("'chain' must be a list of weights such as [\"L1.W[0,0]\"]")
    trace.phase = "backward"
    for item in wanted:
        _record_chain(trace, net, str(item))
    return trace


def _record_chain(trace: Trace, net: Network, item: str) -> None:
    match = _PARAM.match(item.replace(" ", ""))
    if not match:
        raise NNTError(f"chain entry '{item}' must look like L1.W[0,0] (layer, then row and column, 0-based)")
    l, i, j = (int(g) for g in match.groups())
    n_layers = len(net.layers)
    if not 1 <= l <= n_layers:
        raise NNTError(f"chain entry '{item}': layer {l} does not exist (layers 1 to {n_layers})")
    W = trace[f"L{l}.W"].value
    if i >= W.shape[0] or j >= W.shape[1]:
        raise NNTError(f"chain entry '{item}': W{l} has shape {W.shape}; use row < {W.shape[0]}, "
                       f"column < {W.shape[1]}")
    value = trace.display
    # paths: neuron i at layer l -> one neuron in each later layer -> an output neuron
    later = [range(trace[f"L{k}.W"].value.shape[0]) for k in range(l + 1, n_layers + 1)]
    paths = list(itertools.islice(itertools.product(*later), MAX_PATHS + 1))
    if len(paths) > MAX_PATHS:
        raise NNTError(f"chain entry '{item}' has more than {MAX_PATHS} paths to the output; "
                       f"use 'nnt walk --step L{l}.dW' for the matrix form")
    prev_sym = "x" if l == 1 else f"a{l - 1}"
    sym_terms, num_terms, total = [], [], 0.0
    for path in paths:
        neurons = (i,) + path
        k_out = neurons[-1] if path else i
        factors = [(f"∂L/∂ŷ{_sub(k_out)}", float(value(f"L{n_layers}.da")[k_out]))]
        for depth in range(n_layers, l - 1, -1):
            node = neurons[depth - l]
            act = net.layers[depth - 1].act.name
            factors.append((f"{act}′(z{depth}{_sub(node)})", float(value(f"L{depth}.dadz")[node])))
            if depth > l:
                src = neurons[depth - l - 1]
                factors.append((f"w{_sup(depth)}{_sub(node)}{_sub(src)}",
                                float(value(f"L{depth}.W")[node, src])))
        factors.append((f"{prev_sym}{_sub(j)}", float(value('x' if l == 1 else f'L{l - 1}.a')[j])))
        sym_terms.append(" · ".join(f for f, _ in factors))
        num_terms.append(" × ".join(fmt_num(v, 4) for _, v in factors))
        total += float(np.prod([v for _, v in factors]))
    name = f"w{_sup(l)}{_sub(i)}{_sub(j)}"
    backprop = float(value(f"L{l}.dW")[i, j])
    trace.add(f"chain.L{l}.W[{i},{j}]", f"chain rule for ∂L/∂{name} ({len(paths)} path(s) to the output)",
              f"∂L/∂{name} = " + "  +  ".join(sym_terms), np.asarray(total),
              (f"L{n_layers}.da", f"L{l}.dW"),
              note=("= " + "  +  ".join(num_terms) + f"  (backprop's L{l}.dW[{i}][{j}] = {fmt_num(backprop, 6)}"
                    + (", the same" if abs(backprop - total) <= 1e-12 * max(1, abs(total)) else ", DIFFERENT")
                    + ")"))


def _sub(k: int) -> str:
    """1-based index as a subscript: 0 -> ₁."""
    return str(k + 1).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def _sup(k: int) -> str:
    """Layer number as a superscript: 2 -> ²."""
    return str(k).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
