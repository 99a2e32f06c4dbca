"""Gradient check: every backprop gradient against central finite differences (the oracle).

For each parameter element θ, the five-point central difference
(−L(θ+2h) + 8L(θ+h) − 8L(θ−h) + L(θ−2h)) / 12h (error O(h⁴)) versus the traced ∂L/∂θ. Large parameter
arrays are sampled (a fixed-seed subset of elements) so the check stays quick on big layers.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nn_tutor.engine.errors import NNTError
from nn_tutor.engine.network import Network, loss_value
from nn_tutor.engine.spec import parse_network
from nn_tutor.engine.trace import Trace


@dataclass
class GradResult:
    """One parameter's comparison: the worst relative error over the checked elements."""

    step_id: str
    checked: int
    max_rel_error: float
    max_abs_error: float
    passed: bool
    skipped_kinks: int = 0


@dataclass
class GradReport:
    """All parameters' results; `passed` when every one is within tolerance."""

    results: list[GradResult] = field(default_factory=list)
    tolerance: float = 1e-6

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)


def relative_error(a: float, b: float, floor: float = 1e-8) -> float:
    """|a − b| / max(|a|, |b|, floor): a relative error that stays sane near zero."""
    return abs(a - b) / max(abs(a), abs(b), floor)


def forward_pattern(net: Network, params: dict) -> list[np.ndarray]:
    """Signs of every forward value and every max-pool routing mask at these parameter values."""
    saved, net.params = net.params, params
    try:
        trace = Trace(batch_size=net.spec.batch_size)
        net.step(trace, after=False)
    finally:
        net.params = saved
    return [np.sign(s.value) for s in trace if s.phase == "forward"] + \
           [s.value for s in trace if s.id.endswith(".mask")]


def crosses_kink(net: Network, key: tuple, idx: tuple, reach: float) -> bool:
    """True when moving one parameter element by ±reach flips a ReLU or a max-pool choice."""
    base = forward_pattern(net, net.params)
    for shift in (reach, -reach):
        params = {k: v.copy() for k, v in net.params.items()}
        params[key][idx] += shift
        if any(not np.array_equal(a, b) for a, b in zip(base, forward_pattern(net, params))):
            return True
    return False


def gradcheck(data: dict, h: float = 1e-3, tolerance: float = 1e-6, max_per_param: int = 40,
              seed: int = 0, options=None) -> GradReport:
    """Compare the traced gradients of a network spec with central finite differences."""
    spec = parse_network(data, getattr(options, "loss", None), getattr(options, "learning_rate", None),
                         getattr(options, "conventions", None))
    if spec.loss is None:
        raise NNTError("--gradcheck needs a loss and a target in the spec")
    net = Network(spec)
    trace = Trace(batch_size=spec.batch_size)
    net.step(trace, after=False)
    rng = np.random.default_rng(seed)
    report = GradReport(tolerance=tolerance)
    for (i, name), value in net.params.items():
        grad = trace[f"L{i}.d{name}"].value
        indices = list(np.ndindex(value.shape))
        if len(indices) > max_per_param:
            picks = rng.choice(len(indices), size=max_per_param, replace=False)
            indices = [indices[k] for k in sorted(picks)]
        worst_rel = worst_abs = 0.0
        kinks = 0
        for idx in indices:
            def at(shift):
                params = {k: v.copy() for k, v in net.params.items()}
                params[(i, name)][idx] += shift
                return loss_value(net, params)
            if crosses_kink(net, (i, name), idx, 2 * h):
                kinks += 1  # a ReLU or max-pool kink within ±2h: no derivative to compare
                continue
            numeric = (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)
            analytic = float(grad[idx])
            worst_abs = max(worst_abs, abs(analytic - numeric))
            # finite differences carry ~1e-10 absolute noise: judge tiny gradients absolutely
            rel = relative_error(analytic, numeric, floor=1e-4)
            worst_rel = max(worst_rel, rel)
        report.results.append(GradResult(f"L{i}.d{name}", len(indices) - kinks, worst_rel, worst_abs,
                                         worst_rel <= tolerance, kinks))
    return report
