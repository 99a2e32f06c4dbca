"""nn-tutor's deterministic engine: every number the tutor shows is computed here, with NumPy, in float64."""
