"""Work written in sections (`Epoch 2`, `the third sample`, `For sample 2,`): each number belongs to
the epoch and sample the text says it is in.

The perceptron on AND (examples/r11_perceptron_and.yaml: w = (0, 0), b = 0, η = 1, step(0) = 1), by hand:
epoch 1: s1 z = 0 → ŷ 1, error −1, b = −1; s2 z = −1; s3 z = −1; s4 z = −1 → ŷ 0, error 1, w = (1, 1), b = 0
epoch 2: s1 z = 0 → error −1, b = −1; s2 z = 0 → error −1, w = (1, 0), b = −2; s3 z = −1; s4 z = −1
Many of these z are equal, so only the words say which sample a z = −1 is.
"""
from __future__ import annotations

from nn_tutor.engine.spec import load_spec, parse_text
from nn_tutor.tools.homework import check_text
from nn_tutor.tools.homework.sections import markers

AND = "examples/r11_perceptron_and.yaml"

PROSE = """Perceptron on AND.
Epoch 1. The first sample gives z = 0, so the bias drops to b = -1. The second sample gives z = -1
and the third sample gives z = -1. The fourth sample gives z = -1, so w = (1, 1) and b = 0.
Epoch 2. For sample 1, z = 0 and b = -1. For sample 2, z = 0, so w = (1, 0) and b = -2.
For sample 3, z = 1. For sample 4, z = -1.
"""


def _z_claims(report):
    return [c for c in report.claims if c.text.startswith("z =")]


def test_each_z_is_pinned_to_the_sample_the_words_name():
    report = check_text(PROSE, load_spec(AND))
    steps = [c.step_id for c in _z_claims(report)]
    assert steps == ["epoch1.sample1.z", "epoch1.sample2.z", "epoch1.sample3.z", "epoch1.sample4.z",
                     "epoch2.sample1.z", "epoch2.sample2.z", "epoch2.sample3.z", "epoch2.sample4.z"], steps


def test_a_slip_is_found_in_its_own_sample():
    report = check_text(PROSE, load_spec(AND))
    verdicts = {c.step_id: c.verdict for c in _z_claims(report)}
    assert verdicts["epoch2.sample3.z"] == "wrong"          # written 1, true −1
    assert all(v == "correct" for sid, v in verdicts.items() if sid != "epoch2.sample3.z"), verdicts


def test_markers_read_numbers_ordinals_and_circled_digits():
    found = markers(["Epoch 2: the third sample", "Sample #4, ② and iteration 3", "Example 2, epoch 1.5", "ep1"])
    assert [(m.line, m.kind, m.number) for m in found] == [
        (1, "epoch", 2), (1, "sample", 3), (2, "sample", 4), (2, "sample", 2), (2, "iteration", 3), (4, "epoch", 1)]


SPACED = """AND by the perceptron rule, eta = 1
ep  s  x      y | z    ŷ   err | w new    b new
1   1  (0,0)  0 | 0    1   -1  | (0,0)    -1
1   2  (0,1)  0 | -1   0   0   | (0,0)    -1
1   3  (1,0)  0 | -1   0   0   | (0,0)    -1
1   4  (1,1)  1 | -1   0   1   | (1,1)    1
"""


def test_a_table_aligned_with_spaces_is_read_row_by_row():
    # by hand (module docstring): the fourth sample updates b = −1 + 1·1 = 0, written 1
    claims = check_text(SPACED, load_spec(AND)).claims
    z = [c.step_id for c in claims if c.text.startswith("z =")]
    assert z == [f"epoch1.sample{k}.z" for k in range(1, 5)], [(c.text, c.step_id) for c in claims]
    wrong = [(c.line, c.text) for c in claims if c.verdict == "wrong"]
    assert wrong == [(6, "b_new = 1")], [(c.line, c.text, c.verdict, c.step_id) for c in claims]


def test_a_name_in_a_sample_of_a_batch_means_that_samples_element():
    spec = parse_text("input: [[1, 0], [0, 1]]\ntarget: [[1, 0], [0, 1]]\nlayers:\n"
                      "  - dense: {W: [[0.5, -0.5], [0.2, 0.3]], b: [0, 0], activation: linear}\n"
                      "loss: mse\nlearning_rate: 0.1\n")
    # sample 1 = (1, 0): z1 = 0.5, z2 = 0.2; sample 2 = (0, 1): z1 = −0.5, z2 = 0.3 (written 0.4)
    claims = check_text("Sample 1: z1 = 0.5, z2 = 0.2\nSample 2: z1 = -0.5, z2 = 0.4\n", spec).claims
    assert [(c.step_id, c.index, c.verdict) for c in claims] == [
        ("L1.z", (0, 0), "correct"), ("L1.z", (1, 0), "correct"), ("L1.z", (0, 1), "correct"),
        ("L1.z", (1, 1), "wrong")], [(c.text, c.step_id, c.index) for c in claims]


def test_a_sample_named_after_its_number_is_that_numbers_sample():
    spec = parse_text("input: [[1, 0], [0, 1], [1, 1]]\ntarget: [[1], [0], [1]]\nlayers:\n"
                      "  - dense: {W: [[0.5, -0.2]], b: [0.1], activation: linear}\nloss: mse\nlearning_rate: 0.1\n")
    # ŷ = 0.5·x1 − 0.2·x2 + 0.1: 0.6, −0.1 and 0.4; the third is written 0.5
    claims = check_text("The neuron predicts 0.6 for the first sample, -0.1 for the second and 0.5 for the third.\n",
                        spec).claims
    assert [(c.index, c.verdict) for c in claims] == [((0, 0), "correct"), ((0, 1), "correct"), ((0, 2), "wrong")], \
        [(c.text, c.step_id, c.index, c.verdict) for c in claims]


COMPACT = """ep1
(0,0) y=0: z=0 ŷ=1 err=-1 → w=(0,0) b=-1
(0,1) y=0: z=-1 ŷ=0 ok
(1,0) y=0: z=-1 ŷ=0 ok
(1,1) y=1: z=-1 ŷ=0 err=1 → w=(1,1) b=1
"""


def test_the_numbers_of_one_line_belong_to_one_sample():
    # by hand (module docstring): after the fourth sample b = −1 + 1 = 0, written 1; b = −1 after the
    # first is that sample's update, though the bias is −1 after the second and third samples too
    claims = check_text(COMPACT, load_spec(AND)).claims
    b = [(c.line, c.step_id, c.verdict) for c in claims if c.text.startswith("b =")]
    assert b == [(2, "epoch1.sample1.b_new", "correct"), (5, "epoch1.sample4.b_new", "wrong")], \
        [(c.line, c.text, c.step_id, c.verdict) for c in claims]
