"""event search: character and bigram tokens instead of jieba words

Revision ID: 0012searchgrams
Revises: 0007search
Create Date: 2026-11-22 05:00:00

Stored events keep the jieba tokens of revision 0007 until their text changes, and queries are
now cut into bigrams: store every event's tokens again. On SQLite the update trigger of 0007
keeps the FTS5 index in step; on PostgreSQL the GIN index is over an expression of the column.
"""

from __future__ import annotations

from alembic import op

revision = "0012searchgrams"
down_revision = "0007search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from shiyu.events.search import IN_EVENTS, retokenise

    retokenise(op.get_bind(), into=IN_EVENTS)


def downgrade() -> None:
    """The bigram tokens stay; revision 0007's downgrade removes the index."""
