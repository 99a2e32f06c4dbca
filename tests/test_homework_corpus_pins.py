"""Verdicts pinned on a few submissions of the independently written homework corpus.

The submissions and their answer keys (tests/data/corpus/, copied with their specs) were written by
others, who recomputed every keyed number in their own NumPy; these cases are ones the checker reads in
full, so any change that loses one of their verdicts fails here. The corpus benchmark
(benchmarks/checker_corpus.py) measures the whole corpus; this file only guards against regressions.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nn_tutor.engine.spec import load_spec
from nn_tutor.tools.homework import check_submission

CORPUS = Path(__file__).parent / "data" / "corpus"
KEYS = sorted(CORPUS.glob("*/key_*.json"))
GOOD = {"correct", "rounding"}


def _elements(value) -> list[float]:
    return [float(v) for v in np.ravel(np.asarray(value, dtype=np.float64))]


def _same(a: float, b: float) -> bool:
    """The corpus's matching rule: equal, or within 0.5 % of the key's number."""
    return a == b if b == 0 else abs(a - b) <= 0.005 * abs(b)


def _checked_elements(report) -> dict[int, list[list]]:
    """line -> [value, verdict, used] for every element of every claim on it."""
    out: dict[int, list[list]] = {}
    for c in report.claims:
        if c.claimed is None:
            continue
        values = _elements(c.claimed)
        verdicts = list(c.elements) if c.elements and len(c.elements) == len(values) else [c.verdict] * len(values)
        out.setdefault(c.line, []).extend([v, verdict, False] for v, verdict in zip(values, verdicts))
    return out


@pytest.mark.parametrize("key_path", KEYS, ids=[k.stem[4:] for k in KEYS])
def test_keyed_verdicts_hold(key_path):
    key = json.loads(key_path.read_text(encoding="utf-8"))
    work = key_path.parent / key["submission"]
    report = check_submission(work.read_bytes(), work.name, load_spec(key_path.parent / key["spec"]))
    checked = _checked_elements(report)
    disagreements = []
    for claim in key["claims"]:
        values = _elements(claim["claimed"])
        labels = claim.get("element_truth") or [claim["truth"]] * len(values)
        labels = [label if isinstance(label, str) else label["truth"] for label in np.ravel(np.asarray(labels, dtype=object))]
        for value, label in zip(values, labels):
            slot = next((s for s in checked.get(claim["line"], []) if not s[2] and _same(s[0], value)), None)
            if slot is None:
                disagreements.append((claim["line"], value, label, "no verdict"))
                continue
            slot[2] = True
            if not (slot[1] == label or (label == "correct" and slot[1] in GOOD)):
                disagreements.append((claim["line"], value, label, slot[1]))
    extra_wrong = [(line, s[0]) for line, slots in checked.items() for s in slots if not s[2] and s[1] == "wrong"]
    assert not disagreements, disagreements
    assert not extra_wrong, f"wrong verdicts on numbers the key does not call work: {extra_wrong}"
    assert report.ok == all(c["truth"] != "wrong" and "wrong" not in str(c.get("element_truth", ""))
                            for c in key["claims"])
