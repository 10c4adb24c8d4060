# Shiyu: two commands do all set-up.
#   make demo   install, migrate, build the demo city (SQLite in ./var/) and serve on :8000
#   make test   install, build the web app and run vitest, start a throwaway PostgreSQL, run the
#               suite (browser tests included) on SQLite and PostgreSQL
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo serve test test-sqlite test-postgres lint bench install clean web web-test

# The web app (web/): `npm ci` only when the lock file changed (stamp inside node_modules, so
# deleting node_modules reinstalls); the typed client is regenerated from the app's OpenAPI
# document on every build, so it never drifts from the API.
WEB_STAMP := web/node_modules/.installed

$(WEB_STAMP): web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $(WEB_STAMP)

web: $(STAMP) $(WEB_STAMP)
	$(BIN)/shiyu openapi --out web/src/api/schema.json
	cd web && npm run --silent gen:api && npm run --silent build

web-test: web
	cd web && npm run --silent test

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP) web
	$(BIN)/shiyu demo
	$(BIN)/shiyu serve

serve: $(STAMP)
	$(BIN)/shiyu serve

lint: $(STAMP)
	$(BIN)/ruff check shiyu tests bench
	$(BIN)/ruff format --check shiyu tests bench
	$(BIN)/mypy

test: $(STAMP) web-test
	bash scripts/test.sh

test-sqlite: $(STAMP)
	$(BIN)/python -m pytest -n auto -q

test-postgres: $(STAMP)
	bash scripts/test.sh --postgres-only

bench: $(STAMP)
	@$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache web/node_modules web/dist
