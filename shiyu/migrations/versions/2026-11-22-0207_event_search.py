"""event search: jieba tokens in events.search_text, FTS5 (SQLite) or GIN (PostgreSQL) index

Revision ID: 0007search
Revises: 0002events
Create Date: 2026-11-22 02:07:00

On SQLite, `events_fts` is an external-content FTS5 table over `events.search_text`, kept in
step by triggers. A later migration that rebuilds the `events` table with batch mode (move and
copy) drops those triggers with the old table: it must create them again (SQLITE_TRIGGERS below)
and rebuild the index.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007search"
down_revision = "0002events"
branch_labels = None
depends_on = None

SQLITE_TABLE = (
    "CREATE VIRTUAL TABLE events_fts USING fts5("
    "search_text, content='events', content_rowid='id', tokenize='unicode61')"
)
SQLITE_TRIGGERS = (
    """CREATE TRIGGER events_fts_insert AFTER INSERT ON events BEGIN
        INSERT INTO events_fts(rowid, search_text) VALUES (new.id, new.search_text);
    END""",
    """CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
        INSERT INTO events_fts(events_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
    END""",
    # only when the tokens change: status updates do not touch the index
    """CREATE TRIGGER events_fts_update AFTER UPDATE OF search_text ON events BEGIN
        INSERT INTO events_fts(events_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
        INSERT INTO events_fts(rowid, search_text) VALUES (new.id, new.search_text);
    END""",
)
PG_INDEX = (
    "CREATE INDEX ix_events_search ON events "
    "USING gin (to_tsvector('simple'::regconfig, search_text))"
)


def _retokenise() -> None:
    """Events stored before this revision hold plain text: store their tokens."""
    from shiyu.events.search import IN_EVENTS, retokenise

    retokenise(op.get_bind(), into=IN_EVENTS)


def upgrade() -> None:
    _retokenise()
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(SQLITE_TABLE)
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
        op.execute("INSERT INTO events_fts(events_fts) VALUES ('rebuild')")
    elif dialect == "postgresql":
        op.execute(PG_INDEX)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("events_fts_insert", "events_fts_delete", "events_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS events_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_events_search")
