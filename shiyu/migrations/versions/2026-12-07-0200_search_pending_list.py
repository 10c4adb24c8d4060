"""event search: the GIN index's pending list may hold 16 MB (PostgreSQL)

Revision ID: 0023searchpending
Revises: 0022bandmemory
Create Date: 2026-12-07 02:00:00

New entries of `ix_event_search_document` wait in the index's pending list until
`shiyu.db.PendingListCleaner` moves them into the index proper, in runs of about 4 MB. Moving
more reports at a time costs PostgreSQL less for each (a token met by several of them is
inserted once): an in-process replay of intake batches spent 0.72–0.75 ms of server CPU a
report with a move every 0.25 s, 0.58–0.61 ms with one a second. At 1,000 reports a second
of real appeals' texts (about 250 tokens each) a second's entries take about 6 MB, past the 4 MB
default at which an insert merges the list itself while its batch waits; 16 MB leaves room
for the cleaner to fall behind by two seconds. A search reads the pending list whole: 1,100
reports waiting added about 1 ms to one. SQLite's FTS5 index has no pending list: nothing
changes there.
"""

from __future__ import annotations

from alembic import op

revision = "0023searchpending"
down_revision = "0022bandmemory"
branch_labels = None
depends_on = None

INDEX = "ix_event_search_document"
#: in kB, as PostgreSQL counts `gin_pending_list_limit`
PENDING_LIST_LIMIT_KB = 16 * 1024


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER INDEX {INDEX} SET (gin_pending_list_limit = {PENDING_LIST_LIMIT_KB})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER INDEX {INDEX} RESET (gin_pending_list_limit)")
