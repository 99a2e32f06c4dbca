"""The concept cards, shipped inside the package as `nn_tutor.knowledge` (read through nn_tutor.resources)."""
