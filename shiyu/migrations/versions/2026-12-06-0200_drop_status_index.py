"""events: drop the index on the status alone; (status, light) serves those look-ups

Revision ID: 0017statusindex
Revises: 0016searchtokens
Create Date: 2026-12-06 02:00:00

Every insert and every change of status wrote an entry into both indexes.
"""

from __future__ import annotations

from alembic import op

revision = "0017statusindex"
down_revision = "0016searchtokens"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_events_status", table_name="events")


def downgrade() -> None:
    op.create_index("ix_events_status", "events", ["status"])
