"""No false alarms: the engine's own walkthrough of every reference problem, written out as a
student would (every number rounded to 2, 3 or 4 decimals), checks with zero wrong verdicts."""
from __future__ import annotations


import pytest

from nn_tutor.engine.kinds import walk
from nn_tutor.engine.spec import load_spec
from nn_tutor.tools.homework import check_text, neuron_name, student_lines, student_walkthrough
from reference import EX

EXAMPLES = sorted(EX.glob("r*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_reference_walkthroughs_raise_no_false_alarm(path):
    spec = load_spec(path)
    trace = walk(spec)
    for decimals in (2, 3, 4):
        text = student_walkthrough(trace, decimals)
        for use_spec in ((True, False) if decimals == 3 else (True,)):
            report = check_text(text, spec if use_spec else None)
            wrong = [(c.line, c.text, c.expected) for c in report.claims if c.verdict == "wrong"]
            assert wrong == [], f"{path.name} at {decimals} decimals (spec={use_spec}): {wrong[:3]}"
        if "L1.z" in trace and neuron_name("L1.z", (0,), trace):  # net_h1, out_o1, ∂E/∂w5 ...
            lines = student_lines(trace, decimals, style="neuron")
            report = check_text("\n".join(t for _, _, t in lines), spec)
            assert [c.text for c in report.claims if c.verdict == "wrong"] == []
        if trace.info.get("classes"):  # p_dog, z_cat, δ_dog, ∂L/∂p_dog ... for the output layer
            lines = student_lines(trace, decimals, style="class")
            assert any("_" + trace.info["classes"][0] in t for _, _, t in lines)
            report = check_text("\n".join(t for _, _, t in lines), spec)
            assert [c.text for c in report.claims if c.verdict == "wrong"] == []
            classed = [c for c in report.claims if any(f"_{k}" in c.label for k in trace.info["classes"])]
            assert classed and all(c.step_id for c in classed)   # every class name found its step


def test_the_walkthroughs_are_actually_checked():
    judged = 0
    for path in EXAMPLES:
        spec = load_spec(path)
        judged += check_text(student_walkthrough(walk(spec), 3), spec).summary["judged"]
    assert judged > 500
