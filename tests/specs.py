"""Spec texts shared by the tests: R2 as a student pastes it (no comments, no title)."""

R2_YAML = """input: [0.5, 0.8]
target: [1]
layers:
  - dense: {W: [[0.15, 0.20], [0.25, 0.30]], b: [0.35, 0.35], activation: sigmoid}
  - dense: {W: [[0.40, 0.45]], b: [0.60], activation: sigmoid}
loss: half_sse
learning_rate: 0.5
"""
