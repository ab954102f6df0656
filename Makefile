# Two commands on a fresh machine: `make run` and `make test`. Everything installs from the package registry,
# at exactly the versions in uv.lock; `make lock` / `make upgrade` are the only ways to move them.
PYTHON ?= python3
UV_VERSION := 0.13.9
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .tools
UV := $(TOOLS)/bin/uv
STAMP := $(VENV)/.installed
# uv uses this machine's Python and never downloads one of its own.
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test lint bench server worker api keys clean lock upgrade check-lock migrate postgres

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet uv==$(UV_VERSION)

# --locked: refuse to install if uv.lock does not match pyproject.toml (someone forgot `make lock`).
$(STAMP): pyproject.toml uv.lock $(UV)
	$(UV) sync --locked --extra dev --quiet
	touch $(STAMP)

## lock: re-resolve uv.lock after editing pyproject.toml (keeps every other pin); then run make test
lock: $(UV)
	$(UV) lock
	$(MAKE) test

## upgrade: move every pin to the newest release the ranges allow, then the whole suite must pass
upgrade: $(UV)
	$(UV) lock --upgrade
	$(MAKE) test

## check-lock: the venv holds exactly the locked versions (also a test in the suite)
check-lock: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_locked_install.py

## run: the whole stack (Temporal dev server + UI :8233, worker, API :8000). Ctrl-C stops it.
run: $(STAMP)
	$(BIN)/python -m stack.dev

## test: linter, then the full suite against real Temporal servers and a PostgreSQL server it starts itself
test: $(STAMP) lint postgres
	$(BIN)/python -m pytest

## postgres: Debian's PostgreSQL server binaries, installed once if missing (the tests start their own server)
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "Installing PostgreSQL (Debian package postgresql) for the test suite"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; \
	fi

## migrate: bring DATABASE_URL's schema to the newest migration (API and worker also do it when they start)
migrate: $(STAMP)
	$(BIN)/python -m store.migrate upgrade

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
	rm -rf var .pytest_cache $(TOOLS)
