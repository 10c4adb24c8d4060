from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shiyu.auth.models import User
from shiyu.db import Database
from tests.conftest import PG_URL


@pytest.mark.skipif(bool(PG_URL), reason="SQLite pragmas")
def test_sqlite_runs_in_wal_mode_with_foreign_keys(db: Database) -> None:
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_foreign_keys_are_enforced(session: Session) -> None:
    session.add(
        User(
            username="ghost",
            display_name="ghost",
            password_hash="x",
            jurisdiction_code="999999999999",
            jurisdiction_path="/999999999999/",
            is_active=True,
            token_version=0,
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()


def test_schema_comes_from_migrations(session: Session) -> None:
    from alembic.script import ScriptDirectory

    from shiyu.migrate import alembic_config

    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    applied = set(session.scalars(text("SELECT version_num FROM alembic_version")))
    assert applied == heads
