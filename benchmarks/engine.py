"""Engine benchmarks, measured side by side in one run; prints ratios (no assertions).

(a) traced forward + backward + update of a 784-256-10 network, batch 64, vs bare NumPy (goal ≤ 2×)
(b) conv forward + backward, 3×28×28 input, 8 3×3 filters: vectorised vs naive loops (goal ≥ 20×)
(c) `nnt walk` on a reference problem as a whole process vs `python -c "import numpy"` (goal ≤ 3×)
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.conv_naive import naive_conv_backward, naive_conv_forward  # noqa: E402
from nn_tutor.engine.conv import conv_backward, conv_forward  # noqa: E402
from nn_tutor.engine.network import Network  # noqa: E402
from nn_tutor.engine.spec import parse_network  # noqa: E402
from nn_tutor.engine.trace import Trace  # noqa: E402


def best_of(fn, repeats: int, number: int = 1) -> float:
    """Median seconds of one call over `repeats` timings of `number` calls each."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return statistics.median(times)


def dense_benchmark() -> tuple[float, float]:
    rng = np.random.default_rng(0)
    m = 64
    X = rng.uniform(0, 1, (m, 784))
    Y = np.eye(10)[rng.integers(0, 10, m)]
    W1, b1 = rng.normal(0, 0.05, (256, 784)), np.zeros(256)
    W2, b2 = rng.normal(0, 0.05, (10, 256)), np.zeros(10)
    spec = parse_network({"input": X.tolist(), "target": Y.tolist(), "loss": "cross_entropy",
                          "learning_rate": 0.1,
                          "layers": [{"dense": {"W": W1.tolist(), "b": b1.tolist(), "activation": "relu"}},
                                     {"dense": {"W": W2.tolist(), "b": b2.tolist(), "activation": "softmax"}}]})
    net = Network(spec)

    def traced():
        net.step(Trace(batch_size=m), after=False)

    x, y, eta = X.T.copy(), Y.T.copy(), 0.1  # (784, m), (10, m)

    def bare():
        z1 = W1 @ x + b1[:, None]                     # (256, m)
        a1 = np.maximum(z1, 0)
        z2 = W2 @ a1 + b2[:, None]                    # (10, m)
        e = np.exp(z2 - z2.max(axis=0, keepdims=True))
        p = e / e.sum(axis=0, keepdims=True)
        _ = -np.sum(y * np.log(np.maximum(p, 1e-12))) / m
        d2 = (p - y) / m                              # (10, m)
        dW2, db2 = d2 @ a1.T, d2.sum(axis=1)
        d1 = (W2.T @ d2) * (z1 > 0)                   # (256, m)
        dW1, db1 = d1 @ x.T, d1.sum(axis=1)
        return W1 - eta * dW1, b1 - eta * db1, W2 - eta * dW2, b2 - eta * db2

    # same numbers both ways
    trace = Trace(batch_size=m)
    net.step(trace, after=False)
    assert np.allclose(trace["L1.W_new"].value, bare()[0])
    t_traced, t_bare = 0.0, 0.0
    for _ in range(5):  # interleave to share machine noise
        t_traced += best_of(traced, 5)
        t_bare += best_of(bare, 5)
    return t_traced / 5, t_bare / 5


def conv_benchmark() -> tuple[float, float]:
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, (1, 3, 28, 28))
    W, b = rng.normal(0, 0.3, (8, 3, 3, 3)), rng.normal(0, 0.1, 8)
    dz = rng.normal(0, 1, (1, 8, 26, 26))

    def fast():
        conv_forward(W, x, b)
        conv_backward(x, W, dz)

    def naive():
        naive_conv_forward(x, W, b)
        naive_conv_backward(x, W, dz)

    assert np.allclose(conv_forward(W, x, b), naive_conv_forward(x, W, b))
    return best_of(fast, 15, 5), best_of(naive, 3)


def process_benchmark() -> tuple[float, float]:
    nnt = [sys.executable, "-m", "nn_tutor.agent.cli", "walk", str(ROOT / "examples" / "r2_two_layer_sigmoid.yaml")]
    numpy_only = [sys.executable, "-c", "import numpy"]

    def run(cmd):
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)

    t_walk, t_np = [], []
    for _ in range(12):
        t_walk.append(best_of(lambda: run(nnt), 1))
        t_np.append(best_of(lambda: run(numpy_only), 1))
    return statistics.median(t_walk), statistics.median(t_np)


def main() -> None:
    traced, bare = dense_benchmark()
    print(f"(a) 784-256-10, batch 64, forward+backward+update: traced {traced * 1e3:.2f} ms, "
          f"bare NumPy {bare * 1e3:.2f} ms -> ratio {traced / bare:.2f}x (goal <= 2x)")
    fast, naive = conv_benchmark()
    print(f"(b) conv 3x28x28, 8 3x3 filters, forward+backward: vectorised {fast * 1e3:.3f} ms, "
          f"naive loops {naive * 1e3:.1f} ms -> {naive / fast:.0f}x faster (goal >= 20x)")
    walk, numpy_import = process_benchmark()
    print(f"(c) `nnt walk` R2 as a process {walk * 1e3:.0f} ms vs `python -c 'import numpy'` "
          f"{numpy_import * 1e3:.0f} ms -> ratio {walk / numpy_import:.2f}x (goal <= 3x)")


if __name__ == "__main__":
    main()
