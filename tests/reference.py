"""Helpers for the reference-problem tests: walk a shipped example, compare with hand-derived numbers."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from nn_tutor.engine.kinds import WalkOptions, walk
from nn_tutor.engine.spec import load_spec
from nn_tutor.resources import examples_dir

EX = Path(str(examples_dir()))  # the examples shipped inside the package (nn_tutor.resources)


def run(name: str, **options):
    """The trace of examples/NAME with the given walk options."""
    return walk(load_spec(EX / name), WalkOptions(**options))


def sig(z: float) -> float:
    """σ(z) written out by hand, independent of the engine's stable form."""
    return 1.0 / (1.0 + math.exp(-z))


def assert_close(a, b, tol=1e-12):
    """Arrays equal to within tol, absolute and relative."""
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=tol, atol=tol)
