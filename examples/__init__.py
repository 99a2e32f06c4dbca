"""Example specs and sample homework, shipped as `nn_tutor.examples` (`nnt examples` copies them out)."""
