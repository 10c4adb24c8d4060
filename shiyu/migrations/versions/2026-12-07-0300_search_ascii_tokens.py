"""event search: SQLite's FTS5 index splits on ASCII separators only and merges 16 segments at a time

Revision ID: 0024searchmerge
Revises: 0023searchpending
Create Date: 2026-12-07 03:00:00

FTS5 keeps an intake batch's tokens (about 250 a report) as a new segment, and merges segments
as they pile up. Its default merges every 4 segments of a level into one of the next: each
token is written again at every level. Merging 16 at a time (the most FTS5 allows) writes each
token fewer times, for a few more segments to read at a search. The documents are already
split into tokens separated by spaces and normalised (`shiyu.events.search`): the `ascii`
tokenizer splits them on spaces as `unicode61` did, without looking up each character's
Unicode class (every character beyond ASCII is part of a token), and keeps accents as
PostgreSQL's `simple` configuration does.

Measured on 12,015 real appeals' documents stored 25 a transaction, as intake does, storing
a report's tokens cost 142 µs with the old index and 107 µs with this one at 100,000 reports,
158 and 116 µs at 1,000,000 (each level of merging the old one adds costs more as the index
grows). A search's first page took 0.04–0.29 ms with the old index and 0.06–0.46 ms with this
one at 100,000 reports, 0.08–1.04 and 0.13–1.34 ms at 1,000,000; counting the matches,
0.06–3.03 and 0.08–3.18 ms. PostgreSQL is unchanged.
"""

from __future__ import annotations

from typing import Any

from alembic import context, op

revision = "0024searchmerge"
down_revision = "0023searchpending"
branch_labels = None
depends_on = None

SQLITE_TABLE = (
    "CREATE VIRTUAL TABLE event_search_fts USING fts5("
    "document, content='event_search', content_rowid='event_id', tokenize='ascii', "
    "detail=none)"
)
#: segments of one level merged into one of the next (FTS5: 4 by default, at most 16)
AUTOMERGE = 16


def _revision_0019() -> Any:
    """Revision 0019searchrowids's module: its FTS5 table and rebuild are what the downgrade
    makes again."""
    return context.script.get_revision("0019searchrowids").module


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _revision_0019()._rebuild(SQLITE_TABLE)
        op.execute(
            f"INSERT INTO event_search_fts(event_search_fts, rank) VALUES ('automerge', {AUTOMERGE})"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        revision_0019 = _revision_0019()
        revision_0019._rebuild(revision_0019.SQLITE_TABLE)
