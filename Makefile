# Minqing: one entry point for running, testing and measuring.
# Plain POSIX make: no GNU-only functions. Configuration is by MINQING_* environment
# variables only (see README.md); nothing here sets them.

PYTHON = python3.11
VENV = .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed
BENCH_SECONDS = 20

.PHONY: install run test lint db-init demo bench

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/minqing serve

test: $(STAMP)
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

# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) and wrk (`apt-get install
# wrk`); see docs/performance.md.
bench: $(STAMP)
	$(BIN)/python bench/commands.py --seconds $(BENCH_SECONDS)
