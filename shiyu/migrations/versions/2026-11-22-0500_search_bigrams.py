"""event search: character and bigram tokens instead of jieba words

Revision ID: 0012searchgrams
Revises: 0007search
Create Date: 2026-11-22 05:00:00

Stored events keep the jieba tokens of revision 0007 until their text changes, and queries are
now cut into bigrams: store every event's tokens again. On SQLite the update trigger of 0007
keeps the FTS5 index in step; on PostgreSQL the GIN index is over an expression of the column.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012searchgrams"
down_revision = "0007search"
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade() -> None:
    from shiyu.events.search import document_text

    conn = op.get_bind()
    events = sa.table(
        "events",
        sa.column("id", sa.Integer),
        sa.column("title", sa.String),
        sa.column("description", sa.Text),
        sa.column("address", sa.String),
        sa.column("search_text", sa.Text),
    )
    after = 0
    while True:
        rows = conn.execute(
            sa.select(events.c.id, events.c.title, events.c.description, events.c.address)
            .where(events.c.id > after)
            .order_by(events.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        conn.execute(
            events.update()
            .where(events.c.id == sa.bindparam("event_id"))
            .values(search_text=sa.bindparam("tokens")),
            [
                {"event_id": i, "tokens": document_text(title, description, address)}
                for i, title, description, address in rows
            ],
        )
        after = rows[-1][0]


def downgrade() -> None:
    """The bigram tokens stay; revision 0007's downgrade removes the index."""
