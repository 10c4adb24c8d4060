#!/usr/bin/env bash
# `make test`: lint, then the whole suite on SQLite and again on a throwaway PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT=${SHIYU_TEST_PG_PORT:-54329}
only_pg=0; [ "${1:-}" = "--postgres-only" ] && only_pg=1

# PDF reports need Pango and a Chinese font; without them the PDF tests skip (not fail)
bash scripts/fonts.sh ensure || echo "fonts/poppler not installed: PDF report tests will be skipped" >&2
# the browser tests (tests/web) need Debian's Chromium and the built web app (`make web`)
bash scripts/chromium.sh

if [ $only_pg = 0 ]; then
  echo "== lint (ruff, mypy)"
  $BIN/ruff check shiyu tests bench
  $BIN/ruff format --check shiyu tests bench
  $BIN/mypy
  echo "== tests on SQLite"
  $BIN/python -m pytest -n auto -q -p no:cacheprovider
fi

echo "== tests on PostgreSQL 15"
bash scripts/pg.sh ensure
PGDATA_DIR=$(mktemp -d /tmp/shiyu-pg.XXXXXX)
trap 'bash scripts/pg.sh stop "$PGDATA_DIR"' EXIT
bash scripts/pg.sh start "$PGDATA_DIR" "$PORT"
SHIYU_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres" \
  $BIN/python -m pytest -n auto -q -p no:cacheprovider
