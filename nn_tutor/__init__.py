"""nn-tutor's installed import name: `nn_tutor.engine`, `nn_tutor.tools`, `nn_tutor.agent`.

The code lives in the top-level folders engine/, tools/ and agent/ of the checkout; pyproject.toml maps
them under this package so that a student's own `tools.py` or `agent.py` cannot shadow them.
"""
