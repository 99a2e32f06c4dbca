"""Every shipped example walks in every format, and the momentum option does what SGD with momentum says."""
from __future__ import annotations

import json

import numpy as np
import pytest

from nn_tutor.agent.cli import main
from nn_tutor.engine.kinds import WalkOptions, walk
from reference import EX

EXAMPLES = sorted(p for p in EX.rglob("*.yaml")
                  if "homework" not in p.parts)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_walks_in_every_format(path, capsys):
    assert main(["walk", str(path), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["steps"] or data["tables"]
    for fmt in ("text", "markdown", "latex"):
        assert main(["walk", str(path), "--format", fmt]) == 0
        out = capsys.readouterr().out
        assert len(out.splitlines()) > 3


def test_momentum_update_by_hand():
    # one weight, x = 1, y = 2, ½(ŷ − y)², η = 0.5, μ = 0.9, w0 = b0 = 0
    spec = {"input": [1], "target": [2], "loss": "half_sse", "learning_rate": 0.5, "momentum": 0.9,
            "layers": [{"dense": {"W": [[0.0]], "b": [0.0]}}]}
    t = walk(spec, WalkOptions(iterations=3))
    # iteration 1: g = ŷ − y = −2; v = 0.9·0 − 0.5·(−2) = 1; w = 1 (and b = 1)
    assert t.display("L1.vW")[0, 0] == pytest.approx(1.0)
    assert t.display("L1.W_new")[0, 0] == pytest.approx(1.0)
    # iteration 2: ŷ = 2, g = 0; v = 0.9·1 = 0.9; w = 1.9 (momentum carries it past the optimum)
    # iteration 3: ŷ = 3.8, g = 1.8; v = 0.81 − 0.9 = −0.09; w = 1.81
    rows = t.tables[0].rows
    w_column = t.tables[0].columns.index("W1")
    np.testing.assert_allclose([r[w_column] for r in rows], [0.0, 1.0, 1.9, 1.81], atol=1e-12)
