"""The engine, the checker and the knowledge base as tools: validate -> compute -> compact result.

`run_tool(name, args, spec)` is the one entry point the agent uses, with the model's raw arguments.
Results are small JSON-ready dicts (ids, values rounded to 4 decimals, shapes) rather than whole
traces; the agent keeps the spec and re-walks it (cached) when it renders the full trace. Bad
arguments come back as `ok=False` with a one-line error the model can act on.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from pydantic import ValidationError

from nn_tutor.engine.errors import NNTError
from nn_tutor.tools.schemas import TOOL_ARGS

RESULT_DECIMALS = 4  # values the model reads are rounded to this many decimals
INLINE_LIMIT = 16  # arrays with more elements are summarised by shape and their first values
PHASES_OF = {"forward_pass": ("given", "forward", "loss"), "backprop": ("backward",),
             "update_step": ("update", "after")}


@dataclass
class ToolOutcome:
    """What one tool call did: the compact result for the model, or the error, and any new spec."""

    name: str
    args: dict
    ok: bool
    result: dict = field(default_factory=dict)
    error: str | None = None
    spec: dict | None = None  # set by set_network: the new current network
    guessed: list[str] = field(default_factory=list)

    def content(self) -> str:
        """The text the model receives as the tool message."""
        if self.ok:
            return json.dumps(self.result, ensure_ascii=False, separators=(",", ":"))
        return f"error: {self.error}"


# spec and trace -------------------------------------------------------------------------------
def validate_spec(spec: dict) -> dict:
    """The spec if the engine can walk it (walking validates every shape), else NNTError naming the fix."""
    if not isinstance(spec, dict):
        raise NNTError("a network spec must be a mapping with input, target, layers, loss")
    trace_for(spec)
    return spec


def load_spec_file(path: str) -> dict:
    """Read a YAML/JSON spec file through the engine's loader."""
    from nn_tutor.engine.spec import load_spec

    return load_spec(path)


def _key(spec: dict) -> str:
    return json.dumps(spec, sort_keys=True, default=str)


@lru_cache(maxsize=16)
def _walk_cached(spec_key: str, iterations: int):
    from nn_tutor.engine.kinds import WalkOptions, walk

    return walk(json.loads(spec_key), WalkOptions(iterations=iterations))


def trace_for(spec: dict, iterations: int = 1):
    """The engine's Trace for a spec (cached: the same spec is walked once per process)."""
    return _walk_cached(_key(spec), int(iterations))


# compact results -------------------------------------------------------------------------------
def compact_value(value, decimals: int = RESULT_DECIMALS):
    """A value as the model should read it: rounded; large arrays as shape plus their first values."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return round(float(arr), decimals)
    if arr.size <= INLINE_LIMIT:
        return np.round(arr, decimals).tolist()
    return {"shape": list(arr.shape), "first": np.round(arr.ravel()[:4], decimals).tolist(),
            "note": "large array; use show_step for single elements"}


def compact_steps(trace, phases: tuple[str, ...]) -> list[dict]:
    """id, label, shape and value of every step in the given phases."""
    out = []
    for step in trace.in_phase(*phases):
        value = trace.display(step.id)
        out.append({"id": step.id, "label": step.label, "shape": list(np.shape(value)),
                    "value": compact_value(value)})
    return out


def _scalar_info(trace, key):
    value = trace.info.get(key)
    if isinstance(value, (int, float, np.floating)):
        return round(float(value), RESULT_DECIMALS)
    return value


def _phase_result(trace, name: str) -> dict:
    result = {"steps": compact_steps(trace, PHASES_OF[name])}
    if name == "forward_pass":
        if "loss" in trace:
            result["loss"] = compact_value(trace.display("loss"))
        out_id = trace.info.get("output_id")
        if out_id:
            result["prediction_step"] = out_id
    if name == "update_step" and "after.loss" in trace:
        result["loss_before"] = compact_value(trace.display("loss")) if "loss" in trace else None
        result["loss_after"] = compact_value(trace.display("after.loss"))
    return result


def _table_result(trace, max_rows: int = 25) -> dict:
    tables = []
    for table in trace.tables:
        rows = table.rows if len(table.rows) <= max_rows else table.rows[:10] + table.rows[-10:]
        tables.append({"title": table.title, "columns": list(table.columns),
                       "rows": [[compact_value(c) if isinstance(c, (float, np.floating)) else c
                                 for c in r] for r in rows]})
    return {"tables": tables}


def _gradcheck_result(spec: dict) -> dict:
    from nn_tutor.engine.gradcheck import gradcheck as engine_gradcheck

    report = engine_gradcheck(spec)
    return {"passed": bool(report.passed), "tolerance": report.tolerance,
            "results": [{"step_id": r.step_id, "checked": r.checked, "passed": bool(r.passed),
                         "max_rel_error": float(f"{r.max_rel_error:.2e}")} for r in report.results]}


def _conv_result(spec: dict) -> dict:
    """Steps of the conv and pooling layers (forward and backward), by layer number in the spec."""
    layers = [i for i, layer in enumerate(spec.get("layers") or [], 1)
              if isinstance(layer, dict) and set(layer) & {"conv2d", "maxpool", "avgpool"}]
    if not layers:
        raise NNTError("the current network has no conv2d or pooling layer; forward_pass and backprop "
                       "show its dense layers")
    trace = trace_for(spec)
    prefixes = tuple(f"L{i}." for i in layers)
    steps = [s for s in compact_steps(trace, ("forward", "backward", "update"))
             if s["id"].startswith(prefixes)]
    return {"conv_layers": layers, "steps": steps}


def _homework_result(text: str, spec: dict | None) -> dict:
    from nn_tutor.tools.homework import check_text

    report = check_text(text, spec=spec)
    claims = []
    for c in report.claims:
        claims.append({"line": c.line, "text": c.text[:80], "verdict": c.verdict,
                       "claimed": c.claimed, "expected": c.expected,
                       "misconception": c.misconception, "hint": c.hint, "step_id": c.step_id})
    return {"claims": claims, "summary": report.summary}


def _knowledge_result(query: str) -> dict:
    """The top cards and whether they cover the question; when they do not, no bodies to answer from."""
    from nn_tutor.tools.knowledge import retrieve

    found = retrieve(query, k=3)
    cards = [{"id": h.card.id, "title": h.card.title, "score": round(float(h.score), 3)}
             | ({"body": h.card.body} if found.covered else {}) for h in found.hits]
    result = {"covered": found.covered, "reason": found.reason, "cards": cards}
    if not found.covered:
        result["note"] = ("not covered: the course cards do not answer this; say so (naming a close card "
                          "by id if one fits) rather than answering from general knowledge")
    return result


# dispatch --------------------------------------------------------------------------------------
def _format_validation(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err.get("loc", ())) or "arguments"
        parts.append(f"{where}: {err.get('msg')}")
    return "; ".join(parts) + "; fix these fields and call the tool again"


def run_tool(name: str, args: dict | None, spec: dict | None) -> ToolOutcome:
    """Validate the model's arguments, run the tool on the current network `spec`, compact the result."""
    args = dict(args or {})
    model = TOOL_ARGS.get(name)
    if model is None:
        return ToolOutcome(name, args, False, error=f"unknown tool '{name}'; use one of: "
                                                     f"{', '.join(TOOL_ARGS)}")
    try:
        parsed = model.model_validate(args)
    except ValidationError as exc:
        return ToolOutcome(name, args, False, error=_format_validation(exc))
    try:
        return _run_parsed(name, args, parsed, spec)
    except NNTError as exc:
        return ToolOutcome(name, args, False, error=str(exc))
    except ImportError as exc:
        return ToolOutcome(name, args, False, error=f"tool '{name}' is not available in this build ({exc})")


def _run_parsed(name: str, args: dict, parsed, spec: dict | None) -> ToolOutcome:
    if name == "set_network":
        new_spec = validate_spec(parsed.to_spec())
        trace = trace_for(new_spec)  # cached: validate_spec walked it already
        result = {"accepted": True, "steps": len(list(trace)), "guessed": list(parsed.guessed)}
        return ToolOutcome(name, args, True, result, spec=new_spec, guessed=list(parsed.guessed))
    if name == "check_homework":
        return ToolOutcome(name, args, True, _homework_result(parsed.text, spec))
    if name == "search_concepts":
        return ToolOutcome(name, args, True, _knowledge_result(parsed.query))
    if spec is None:
        return ToolOutcome(name, args, False, error="no network is loaded; call set_network with the "
                                                    "network first")
    if name in PHASES_OF:
        return ToolOutcome(name, args, True, _phase_result(trace_for(spec), name))
    if name == "conv_steps":
        return ToolOutcome(name, args, True, _conv_result(spec))
    if name == "train":
        return ToolOutcome(name, args, True, _table_result(trace_for(spec, parsed.iterations)))
    if name == "gradcheck":
        return ToolOutcome(name, args, True, _gradcheck_result(spec))
    if name == "show_step":
        trace = trace_for(spec)
        if parsed.index:
            text = trace.expand(parsed.step_id, tuple(parsed.index), RESULT_DECIMALS)
        else:
            step = trace[parsed.step_id]
            text = f"{step.id} = {step.formula} = {trace.substituted(step.id, RESULT_DECIMALS)}"
        return ToolOutcome(name, args, True, {"step_id": parsed.step_id, "text": text,
                                              "value": compact_value(trace.display(parsed.step_id))})
    raise NNTError(f"tool '{name}' has no runner")  # pragma: no cover - TOOL_ARGS and runners agree
