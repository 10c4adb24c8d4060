"""A bounded schemathesis run (every check) against a real `shiyu serve` process.

The long run is `python -m bench.bench_fuzz` (at least 5,000 requests). Both use the same
harness; this one sends a few hundred requests so that CI stays fast.

What must be zero: server errors, answers whose status, content type, headers or body the
OpenAPI document does not describe, and wrong `Allow` headers. Two checks judge the *input*
side and are reported but not failed on (see docs/operations.md §8):
- "Schema-valid request rejected": business rules a JSON Schema cannot state (a code that
  names no record, a weak password, a date range the wrong way round) answer 422;
- "Schema-violating request accepted": pydantic's lax mode reads `false` as 0 for numbers.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.bench_fuzz import FUZZ_STREAM_SECONDS, add_fuzz_admin, run_schemathesis
from shiyu.db import Database
from tests.conftest import TEST_SECRET, make_settings
from tests.factories.world import create_world
from tests.helpers import server_process

#: Input-side checks: counted, not failed on (module docstring).
INPUT_CHECKS = {"Schema-valid request rejected", "Schema-violating request accepted"}


@pytest.fixture
def fuzz_target(fresh_database: str) -> Iterator[tuple[str, str]]:
    settings = make_settings(fresh_database)
    db = Database(settings)
    with db.transaction() as session:
        create_world(session, settings)
    db.dispose()
    token = add_fuzz_admin(fresh_database, TEST_SECRET)
    uploads = tempfile.mkdtemp(prefix="shiyu-fuzz-uploads-")
    with server_process(
        fresh_database,
        SHIYU_UPLOAD_DIR=uploads,
        SHIYU_DASHBOARD_STREAM_SECONDS=FUZZ_STREAM_SECONDS,
    ) as base:
        yield base, token


def test_bounded_fuzz_run_finds_no_server_error_or_schema_violation(
    fuzz_target: tuple[str, str], tmp_path: Path
) -> None:
    base, token = fuzz_target
    result = run_schemathesis(
        base, token, workdir=tmp_path, max_examples=4, phases="examples,fuzzing"
    )
    assert result["requests"] >= 200
    logs = "\n".join(Path(p).read_text()[-6000:] for p in result["logs"])
    assert not result["errors"], f"{result['errors']}\n{logs}"
    failing = {k: v for k, v in result["failures_by_check"].items() if k not in INPUT_CHECKS}
    assert not failing, f"{failing}\n{logs}"
