# Two commands on a fresh machine: `make run` and `make test`. Everything installs from the package registry,
# at exactly the versions in uv.lock; `make lock` / `make upgrade` are the only ways to move them.
PYTHON ?= python3
UV_VERSION := 0.13.9
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .tools
UV := $(TOOLS)/bin/uv
# Named after the pinned version: changing UV_VERSION makes every target re-install uv, then re-sync the venv.
UV_STAMP := $(TOOLS)/.uv-$(UV_VERSION)
STAMP := $(VENV)/.installed
# The test suite starts its own PostgreSQL server from these binaries (Debian's package `postgresql`).
POSTGRES_BINARIES ?= /usr/lib/postgresql/*/bin/initdb
# The console's browser tests drive this browser (Debian's package `chromium`).
CHROMIUM ?= chromium
# uv uses this machine's Python and never downloads one of its own.
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test lint bench server worker api keys clean lock upgrade check-lock migrate postgres chromium

$(UV_STAMP):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet uv==$(UV_VERSION)
	rm -f $(TOOLS)/.uv-*
	touch $(UV_STAMP)

# --locked: refuse to install if uv.lock does not match pyproject.toml (someone forgot `make lock`).
$(STAMP): pyproject.toml uv.lock $(UV_STAMP)
	$(UV) sync --locked --extra dev --quiet
	touch $(STAMP)

## lock: re-resolve uv.lock after editing pyproject.toml (keeps every other pin); then run make test
lock: $(UV_STAMP)
	$(UV) lock
	$(MAKE) test

## upgrade: move every pin to the newest release the ranges allow, then the whole suite must pass
upgrade: $(UV_STAMP)
	$(UV) lock --upgrade
	$(MAKE) test

## check-lock: the venv holds exactly the locked versions (also a test in the suite)
check-lock: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_locked_install.py

## run: the whole stack (Temporal dev server + UI :8233, worker, API :8000). Ctrl-C stops it.
run: $(STAMP)
	$(BIN)/python -m stack.dev

## test: linter, then the full suite against real Temporal servers, a PostgreSQL server it starts itself, and
## headless Chromium for the console
test: $(STAMP) lint postgres chromium
	$(BIN)/python -m pytest

# $(call debian_package,PACKAGE,FOR WHAT,PRESENT WHEN,HOW TO TELL): installs Debian's PACKAGE once, when the
# command PRESENT WHEN fails; as root with apt-get, else through sudo; if neither can, says what to install and stops.
define debian_package
	@if ! $(3) >/dev/null 2>&1; then \
		echo "Installing $(2) (Debian package $(1)) for the test suite"; \
		if [ "$$(id -u)" = 0 ]; then as_root=""; elif command -v sudo >/dev/null 2>&1; then as_root=sudo; \
		else as_root=none; fi; \
		if [ "$$as_root" = none ] || ! { $$as_root apt-get update && \
			$$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y $(1); }; then \
			echo "Could not install $(2) (needs root or sudo, and apt-get). Install it yourself" \
				"(Debian/Ubuntu: 'sudo apt-get install $(1)'; $(4)), then run make test again." >&2; \
			exit 1; \
		fi; \
	fi
endef

## postgres: Debian's PostgreSQL server binaries, installed once if missing (the tests start their own server)
postgres:
	$(call debian_package,postgresql,PostgreSQL,ls $(POSTGRES_BINARIES),initdb must match $(POSTGRES_BINARIES))

## chromium: Debian's Chromium, installed once if missing: the console's browser tests drive it with Playwright
## (Playwright's own browser download cannot work here)
chromium:
	$(call debian_package,chromium,Chromium,command -v $(CHROMIUM),the tests look for $(CHROMIUM) on PATH)

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
