# Shiyu: two commands do all set-up.
#   make demo   install, migrate, build the demo city (SQLite in ./var/) and serve on :8000
#   make test   install, start a throwaway PostgreSQL, run the suite on SQLite and PostgreSQL
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo serve test test-sqlite test-postgres lint bench install clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/shiyu demo
	$(BIN)/shiyu serve

serve: $(STAMP)
	$(BIN)/shiyu serve

lint: $(STAMP)
	$(BIN)/ruff check shiyu tests bench
	$(BIN)/ruff format --check shiyu tests bench
	$(BIN)/mypy

test: $(STAMP)
	bash scripts/test.sh

test-sqlite: $(STAMP)
	$(BIN)/python -m pytest -n auto -q

test-postgres: $(STAMP)
	bash scripts/test.sh --postgres-only

bench: $(STAMP)
	@$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
