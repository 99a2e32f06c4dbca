"""The structured form: a YAML file with the spec and the student's answers keyed by step id or name.

`structured(text)` recognises it; `check_answers` judges the answers in step order with the same
Checker as free text.
"""
from __future__ import annotations

import re

import numpy as np

from nn_tutor.engine.errors import NNTError
from nn_tutor.engine.expr import ExprError, tokenize
from nn_tutor.engine.verify import CheckReport, Claim, value_tolerance
from nn_tutor.tools.homework_check import Checker
from nn_tutor.tools.homework_names import align_name
from nn_tutor.tools.homework_notation import normalise_line
from nn_tutor.tools.homework_read import Chain, Part, decimals_of, label_of, parse_tokens

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


def check_answers(data: dict, text: str, spec: dict | None, rtol=None, atol=None,
                  source: str = "answers") -> CheckReport:
    """The structured form: answers keyed by step id (or a student name), judged in step order."""
    if spec is None:
        spec = data.get("spec")
        if isinstance(spec, str):
            from nn_tutor.engine.spec import load_spec
            from pathlib import Path
            base = Path(source).parent if source not in ("-", "input", "answers") else Path(".")
            path = Path(spec) if Path(spec).is_absolute() or Path(spec).exists() else base / spec
            spec = load_spec(path)
        elif isinstance(spec, dict):
            import yaml
            spec = yaml.safe_load(yaml.safe_dump(_numbers(spec)))
        else:
            raise NNTError("the structured form needs a spec: give --spec FILE or a 'spec:' entry "
                           "(a path or the network itself)")
    checker = Checker(spec, rtol, atol)
    order = {sid: k for k, sid in enumerate(checker.trace.steps)}
    lines = text.splitlines()
    items = []
    for key, value in data["answers"].items():
        m = _KEY_RE.match(str(key))
        if m:
            sid, idx = m.group(1), (tuple(int(i) for i in m.group(2).split(",")) if m.group(2) else None)
        else:  # a student name such as ∂E/∂w₅ or z₁[0]
            try:
                sid, idx, rest = label_of(tokenize(normalise_line(str(key)))[:-1])
            except ExprError:
                sid, rest = None, True
            if sid is None or rest:
                raise NNTError(f"answer key '{key}' is not a step id or a name; write e.g. L1.z, loss, "
                               f"'L1.dW[0, 1]', net_h1, '∂E/∂w5'")
        start = next((k for k, l in enumerate(lines) if re.match(r"answers\s*:", l)), 0)
        line = next((k for k, l in enumerate(lines[start:], start + 1) if str(key) in l), 0)
        if sid not in checker.trace:
            try:
                name = tokenize(normalise_line(sid))[0].text
            except ExprError:
                name = sid
            cands = align_name(name, idx, checker.trace)
            if not cands:
                checker.claims.append(Claim(line, f"{key}: {_as_text(value)}", verdict="unchecked",
                                            reason=f"'{key}' is not a step of this problem",
                                            label=str(key)))
                continue
            sid, idx = cands[0]
        items.append((order.get(sid, 0), line, key, sid, idx, _as_text(value)))
    for _, line, key, sid, idx, value_text in sorted(items, key=lambda t: (t[0], t[1])):
        chain_text = f"{key} = {value_text}"
        try:  # unreadable, incomputable or unjudgeable values are unchecked, with the reason
            node, used = parse_tokens(tokenize(normalise_line(value_text))[:-1], prefix_ok=False)
            if node is None:
                raise ExprError(f"cannot read the value '{value_text}'")
            v = checker.evaluate(node, True)
            tol = value_tolerance(v, decimals_of(node)) + checker.spread(node, True, only_rounded=True)
            verdict, true, mine = checker.judge_target((sid, idx), v, tol)
        except NNTError as exc:
            checker.claims.append(Claim(line, chain_text, verdict="unchecked", reason=str(exc),
                                        label=str(key)))
            continue
        chain = Chain(line, None, None, [Part(value_text, node, line)], chain_text)
        checker.add_claim(chain, chain_text, v, true, verdict, (sid, idx), mine, tol)
        checker.claims[-1].label = str(key)
        decimals = decimals_of(node)
        checker.record_own((sid, idx), v, verdict in ("wrong", "carried"), decimals)
        checker.table.claimed.extend((x, decimals) for x in np.atleast_1d(v).ravel()[:1000].tolist())
    checker.claims.sort(key=lambda c: c.line)
    return CheckReport(checker.claims, source)


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

