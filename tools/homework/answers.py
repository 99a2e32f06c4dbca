"""The structured form: a YAML file with the spec and the student's answers keyed by step id or name.

`structured(text)` recognises it; `check_answers` judges the answers in step order with the same
Checker as free text, each pinned to the step its key names.
"""
from __future__ import annotations

import re

from nn_tutor.engine.errors import NNTError
from nn_tutor.tools.homework.claims import Claim, literal_value
from nn_tutor.tools.homework.expr import ExprError, tokenize
from nn_tutor.tools.homework.names import align_name
from nn_tutor.tools.homework.notation import Line, normalise_line
from nn_tutor.tools.homework.problem import Place
from nn_tutor.tools.homework.report import CheckedClaim, Report
from nn_tutor.tools.homework.statement import Label, Statement, parse_form

def structured(text: str) -> dict | None:
    """The YAML structured form, when the text is a mapping with an `answers:` mapping."""
    if not re.search(r"(?m)^answers\s*:", text):
        return None
    import yaml
    try:
        data = yaml.load(text, Loader=yaml.BaseLoader)  # strings: keeps the decimals as written
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise NNTError(f"the answers file is not valid YAML{where}; fix the indentation or quoting") from None
    if not isinstance(data, dict) or not isinstance(data.get("answers"), dict):
        raise NNTError("the structured form needs 'answers:' as a mapping of step id to value, "
                       "e.g. answers: {L1.z: [0.585, 0.715], loss: 0.0285}")
    return data


def _as_text(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_as_text(v) for v in value) + "]"
    if isinstance(value, dict):
        raise NNTError("an answer must be a number, a list or an expression, not a mapping")
    return str(value)


_KEY_RE = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(?:\[([\d,\s]+)\])?\s*$")


def check_answers(data: dict, text: str, spec: dict | None, rtol=None, atol=None, source: str = "answers") -> Report:
    """The structured form: answers keyed by step id (or a student name), judged in step order."""
    from nn_tutor.tools.homework import problem_for
    from nn_tutor.tools.homework.check import Checker

    spec = _spec_of(data, spec, source)
    problem = problem_for(spec)
    checker = Checker(problem, rtol, atol)
    trace = problem.trace
    items = []
    lines = text.splitlines()
    start = next((n for n, l in enumerate(lines) if re.match(r"answers\s*:", l)), 0)
    for key, value in data["answers"].items():
        k = next((n for n, l in enumerate(lines[start:], start + 1) if str(key) in l), 1)
        place = _place_of(str(key), trace)
        text = f"{key} = {_as_text(value)}"
        if place is None:
            checker.out.append(CheckedClaim(k, text, verdict="unchecked", rule="U-unpinned", label=str(key),
                                            reason=f"'{key}' is not a step of this problem; write e.g. L1.z, "
                                                   f"loss, 'L1.dW[0, 1]', net_h1, '∂E/∂w5'"))
            continue
        items.append((problem.order.get(place.sid, 0), k, key, place, _as_text(value)))
    for _, k, key, place, value_text in sorted(items, key=lambda t: (t[0], t[1])):   # in step order
        claim = _claim(k, str(key), value_text)
        if claim is None:
            checker.out.append(CheckedClaim(k, f"{key} = {value_text}", verdict="unchecked",
                                            rule="U-uncomputable", label=str(key),
                                            reason=f"cannot read the value '{value_text}'; write a number or "
                                                   f"a list such as [0.5, 0.8]"))
            continue
        claim.override = checker.override
        checker.check_at(claim, place)
    return Report(sorted(checker.out, key=lambda c: c.line), source)


def _spec_of(data: dict, spec: dict | None, source: str) -> dict:
    if spec is not None:
        return spec
    spec = data.get("spec")
    if isinstance(spec, str):
        from pathlib import Path

        from nn_tutor.engine.spec import load_spec
        base = Path(source).parent if source not in ("-", "input", "answers") else Path(".")
        path = Path(spec) if Path(spec).is_absolute() or Path(spec).exists() else base / spec
        return load_spec(path)
    if isinstance(spec, dict):
        import yaml
        return yaml.safe_load(yaml.safe_dump(_numbers(spec)))
    raise NNTError("the structured form needs a spec: give --spec FILE or a 'spec:' entry "
                   "(a path or the network itself)")


def _place_of(key: str, trace) -> Place | None:
    """A step id (`L1.z`, `L1.dW[0, 1]`) or a student name (`net_h1`, `∂E/∂w5`) -> its place."""
    m = _KEY_RE.match(key)
    if m and m.group(1) in trace:
        idx = tuple(int(i) for i in m.group(2).split(",")) if m.group(2) else ()
        return Place(m.group(1), idx)
    try:
        toks = tokenize(normalise_line(key))[:-1]
    except ExprError:
        return None
    if not toks or toks[0].kind != "NAME":
        return None
    index = None
    if len(toks) > 2 and toks[1].kind == "LB" and toks[-1].kind == "RB":
        index = tuple(int(t.value) for t in toks[2:-1] if t.kind == "NUM")
    found = align_name(toks[0].text, index, trace)
    if not found:
        return None
    sid, idx = found[0]
    return Place(sid, tuple(idx) if idx is not None else ())


def _claim(k: int, key: str, value_text: str) -> Claim | None:
    """The answer as a claim of the student's (a number, or a vector/matrix of numbers)."""
    line = Line.raw(value_text)
    try:
        toks = tokenize(normalise_line(value_text))[:-1]
    except ExprError:
        return None
    form = parse_form(toks, line, prefix_ok=False, tail_ok=False)
    lit = literal_value(form.node) if form is not None else None
    if lit is None:
        return None
    value, decimals, nodes = lit
    stmt = Statement(k, Label(key), [form], source="answers")
    return Claim(k, 0, value, decimals, "definition", stmt, None, nodes[0], parts=nodes)


def _numbers(value):
    """BaseLoader strings back to numbers for an inline spec."""
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                return value
    return value

