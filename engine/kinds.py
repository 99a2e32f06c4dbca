"""Which engine routine walks which kind of spec file (`kind:` field), imported lazily.

Each routine takes the parsed spec (a dict from YAML/JSON) and WalkOptions and returns a Trace.
Modules are imported only when their kind is asked for, so `nnt walk` on a network never pays
for sympy or the LLM stack.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field

import numpy as np

from nn_tutor.engine.errors import NNTError

# kind -> "module:function"
KINDS: dict[str, str] = {
    "network": "nn_tutor.engine.network:walk_network",
    "activations": "nn_tutor.engine.ops:walk_activations",
    "threshold": "nn_tutor.engine.classic:walk_threshold",
    "perceptron": "nn_tutor.engine.classic:walk_perceptron",
    "calculus": "nn_tutor.engine.calculus:walk_calculus",
    "chain_rule": "nn_tutor.engine.chainrule:walk_chain_rule",
    "softmax_temperature": "nn_tutor.engine.llm_math:walk_softmax_temperature",
    "attention": "nn_tutor.engine.llm_math:walk_attention",
    "similarity": "nn_tutor.engine.llm_math:walk_similarity",
    "bm25": "nn_tutor.engine.llm_math:walk_bm25",
    "tokens": "nn_tutor.engine.llm_math:walk_tokens",
}


@dataclass
class WalkOptions:
    """What the user asked of a walkthrough, beyond the spec file itself."""

    iterations: int = 1
    loss: str | None = None                 # override the spec's loss
    conventions: dict[str, str] = field(default_factory=dict)  # e.g. {"maxpool_ties": "split"}
    learning_rate: float | None = None      # override the spec's learning rate


def walk(spec: dict, options: WalkOptions | None = None):
    """Dispatch a parsed spec to the routine for its kind and return the Trace."""
    options = options or WalkOptions()
    if not isinstance(spec, dict):
        raise NNTError("the spec must be a mapping with fields such as input, target, layers, loss; "
                       "see README 'Spec format'")
    kind = spec.get("kind", "network")
    if not isinstance(kind, str) or kind not in KINDS:
        raise NNTError(f"unknown kind '{kind}'; use one of: {', '.join(KINDS)}")
    module_name, func_name = KINDS[kind].split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise NNTError(f"kind '{kind}' is not available in this build ({exc.name} missing)") from None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # reported below, step by step
        trace = getattr(module, func_name)(spec, options)
    reject_non_finite(trace)
    return trace


MASK = "−∞"  # a step whose label says it sets values to −∞ (a causal mask) holds them on purpose


def reject_non_finite(trace) -> None:
    """No NaN or overflow reaches the screen or JSON: the first such value is named instead.

    The one exception is a mask that sets positions to −∞ by definition (its label says so).
    """
    for step in trace:
        value = np.asarray(step.value)
        if value.dtype.kind in "fc" and MASK in step.label:
            value = np.where(value == -np.inf, 0.0, value)
        if value.dtype.kind in "fc" and not np.all(np.isfinite(value)):
            what = "NaN" if np.any(np.isnan(value)) else "infinite"
            raise NNTError(f"step {step.id} ({step.label}) is {what}: the numbers overflow float64; "
                           f"use smaller values in the spec")
    for table in trace.tables:
        for row in table.rows:
            for cell in row:
                if isinstance(cell, (float, np.floating)) and not np.isfinite(cell):
                    raise NNTError(f"the table '{table.title}' holds a non-finite value; use smaller values "
                                   f"in the spec")
