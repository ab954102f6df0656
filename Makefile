# Two commands on a fresh machine: `make run` and `make test`. Everything installs from the package registry.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench server worker api keys clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: the whole stack (Temporal dev server + UI :8233, worker, API :8000). Ctrl-C stops it.
run: $(STAMP)
	$(BIN)/python -m stack.dev

## test: linter, then the full suite against real Temporal servers from the venv
test: $(STAMP) lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

## bench: speed and memory figures as ratios to baselines measured in the same run
bench: $(STAMP)
	$(BIN)/python -m bench

## The parts alone, as production runs them
server: $(STAMP)
	$(BIN)/python -m stack.dev --only server
worker: $(STAMP)
	$(BIN)/python worker.py
api: $(STAMP)
	$(BIN)/python -m api

clean:
	rm -rf var .pytest_cache
