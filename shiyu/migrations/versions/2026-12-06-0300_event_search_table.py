"""event search: the documents move from `events.search_text` into a table of their own

Revision ID: 0018eventsearch
Revises: 0017statusindex
Create Date: 2026-12-06 03:00:00

An event's row changes at every step of its life. On PostgreSQL each change writes a new row
version, and every index of `events` gets an entry for it: the GIN index too, ~250 tokens per
event, whose pending list the inserts then had to merge. The tokens (1.7 KB on average) also
made the rows of `events` twice as wide, for every scan of a work list. `event_search` holds
them once per event (`shiyu.events.models.EventSearch`), written when the text is.

SQLite: FTS5 table `event_search_fts` over `event_search` (external content, kept in step by
triggers), replacing `events_fts`. PostgreSQL: GIN index `ix_event_search_document`, replacing
`ix_events_search`. `events.search_text` is dropped.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = "0018eventsearch"
#: also merges the search branch (0007search, 0012searchgrams), which built `events_fts` and
#: `ix_events_search`: it must have run before this one
down_revision = ("0017statusindex", "0012searchgrams")
branch_labels = None
depends_on = None

SQLITE_TABLE = (
    "CREATE VIRTUAL TABLE event_search_fts USING fts5("
    "document, content='event_search', content_rowid='event_id', tokenize='unicode61')"
)
SQLITE_TRIGGERS = (
    """CREATE TRIGGER event_search_fts_insert AFTER INSERT ON event_search BEGIN
        INSERT INTO event_search_fts(rowid, document) VALUES (new.event_id, new.document);
    END""",
    """CREATE TRIGGER event_search_fts_delete AFTER DELETE ON event_search BEGIN
        INSERT INTO event_search_fts(event_search_fts, rowid, document)
        VALUES ('delete', old.event_id, old.document);
    END""",
    """CREATE TRIGGER event_search_fts_update AFTER UPDATE OF document ON event_search BEGIN
        INSERT INTO event_search_fts(event_search_fts, rowid, document)
        VALUES ('delete', old.event_id, old.document);
        INSERT INTO event_search_fts(rowid, document) VALUES (new.event_id, new.document);
    END""",
)
PG_INDEX = (
    "CREATE INDEX ix_event_search_document ON event_search "
    "USING gin (to_tsvector('simple'::regconfig, document))"
)


def _revision_0007() -> Any:
    """Revision 0007search's module: its FTS5 table, triggers and GIN index are what this
    revision drops and its downgrade builds again, as 0007 wrote them."""
    return context.script.get_revision("0007search").module


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "event_search",
        sa.Column("event_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_search_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_event_search")),
    )
    op.execute("INSERT INTO event_search (event_id, document) SELECT id, search_text FROM events")
    if dialect == "sqlite":
        for name in ("events_fts_insert", "events_fts_delete", "events_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS events_fts")
        op.execute(SQLITE_TABLE)
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
        op.execute("INSERT INTO event_search_fts(event_search_fts) VALUES ('rebuild')")
        # SQLite 3.35+ drops a column in place (no copy of the table, which keeps its triggers)
        op.execute("ALTER TABLE events DROP COLUMN search_text")
    else:
        if dialect == "postgresql":
            op.execute("DROP INDEX IF EXISTS ix_events_search")
            op.execute(PG_INDEX)
        op.drop_column("events", "search_text")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column(
        "events", sa.Column("search_text", sa.Text(), nullable=False, server_default="")
    )
    op.execute(
        "UPDATE events SET search_text = COALESCE("
        "(SELECT document FROM event_search WHERE event_search.event_id = events.id), '')"
    )
    if dialect == "sqlite":
        for name in ("event_search_fts_insert", "event_search_fts_delete", "event_search_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS event_search_fts")
        old = _revision_0007()
        op.execute(old.SQLITE_TABLE)
        for trigger in old.SQLITE_TRIGGERS:
            op.execute(trigger)
        op.execute("INSERT INTO events_fts(events_fts) VALUES ('rebuild')")
    elif dialect == "postgresql":
        op.execute(_revision_0007().PG_INDEX)
    op.drop_table("event_search")
