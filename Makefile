# Minqing: one entry point for running, testing and measuring.
# Plain POSIX make: no GNU-only functions. Configuration is by MINQING_* environment
# variables only (see README.md); nothing here sets them.

PYTHON = python3.11
VENV = .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed
BENCH_SECONDS = 20
# axe-core (npm) for the browser tests' accessibility checks, pinned by package-lock.json.
AXE = tests/browser/node_modules/axe-core/axe.min.js

.PHONY: install run test lint db-init demo docs bench

install: $(STAMP) $(AXE)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

$(AXE): tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund
	touch $(AXE)

run: $(STAMP)
	$(BIN)/minqing serve

test: $(STAMP) $(AXE)
	$(BIN)/pytest
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy bench/projections.py

lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy bench/projections.py

db-init: $(STAMP)
	$(BIN)/minqing db init

demo: $(STAMP)
	$(BIN)/minqing demo

# The documents generated from the code (docs/events.md, parts of docs/domain.md); a test
# fails while the committed ones differ.
docs: $(STAMP)
	$(BIN)/python -m api.docs_gen

# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) and wrk (`apt-get install
# wrk`); see docs/performance.md.
bench: $(STAMP)
	$(BIN)/python bench/commands.py --seconds $(BENCH_SECONDS)
