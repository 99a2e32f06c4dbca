"""The prompts, shipped inside the package as `nn_tutor.prompts` (read through nn_tutor.resources)."""
