"""`shiyu backup` and `shiyu restore` on the test's database kind (SQLite by default,
PostgreSQL with SHIYU_TEST_DATABASE_URL): a restore into a fresh database has the same rows
in every table and the same verified audit chain."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from shiyu.db import Database
from tests.conftest import PG_URL, create_database, drop_database, make_settings
from tests.factories.world import create_world
from tests.helpers import run_cli


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        tables = inspect(conn).get_table_names()
        counts = {
            t: int(conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()) for t in tables
        }
    engine.dispose()
    return counts


def _head_hash(url: str) -> str:
    engine = create_engine(url)
    with engine.connect() as conn:
        head = conn.execute(text("SELECT hash FROM audit_records ORDER BY seq DESC LIMIT 1"))
        value = str(head.scalar_one())
    engine.dispose()
    return value


@pytest.fixture
def second_database() -> Iterator[str]:
    url = create_database("restore")
    yield url
    drop_database(url)


@pytest.fixture
def populated(fresh_database: str) -> str:
    settings = make_settings(fresh_database)
    db = Database(settings)
    with db.transaction() as session:
        create_world(session, settings)
    db.dispose()
    return fresh_database


def test_backup_and_restore_round_trip(populated: str, second_database: str) -> None:
    out = Path(tempfile.mkdtemp(prefix="shiyu-backup-")) / "city.backup"
    made = run_cli(populated, "backup", "--out", str(out))
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["kind"] == ("postgresql" if PG_URL else "sqlite")
    assert out.stat().st_size > 0

    restored = run_cli(second_database, "restore", "--from", str(out))
    assert restored.returncode == 0, restored.stderr

    before, after = _counts(populated), _counts(second_database)
    assert before == after
    assert before["events"] >= 2 and before["audit_records"] > 0 and before["users"] > 5
    verify = run_cli(second_database, "audit", "verify")
    assert verify.returncode == 0, verify.stdout
    report = json.loads(verify.stdout)
    assert report["ok"] and report["checked"] == before["audit_records"]
    assert _head_hash(second_database) == _head_hash(populated)

    # the restored database now holds data: a second restore must be forced
    again = run_cli(second_database, "restore", "--from", str(out))
    assert again.returncode == 1
    assert "--force" in json.loads(again.stderr)["error"]
    forced = run_cli(second_database, "restore", "--from", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    assert _counts(second_database) == before


def test_restore_refuses_a_file_of_the_other_kind(fresh_database: str, tmp_path: Path) -> None:
    bogus = tmp_path / "not-a-backup"
    bogus.write_bytes(b"hello")
    done = run_cli(fresh_database, "restore", "--from", str(bogus))
    assert done.returncode == 1
    assert "不是" in json.loads(done.stderr)["error"]
    missing = run_cli(fresh_database, "restore", "--from", str(tmp_path / "nope"))
    assert missing.returncode == 1


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL tools only matter on PostgreSQL")
def test_missing_pg_tools_are_named(fresh_database: str, tmp_path: Path) -> None:
    done = run_cli(
        fresh_database, "backup", "--out", str(tmp_path / "x"), SHIYU_PG_BIN_DIR=str(tmp_path)
    )
    assert done.returncode == 1
    assert "pg_dump" in json.loads(done.stderr)["error"]
