"""events: a partial index for the residents' per-address rate limit, which otherwise read
every event of the last hour on each report

Revision ID: 0015residentaddr
Revises: 0014sparse
Create Date: 2026-12-05 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015residentaddr"
down_revision = "0014sparse"
branch_labels = None
depends_on = None

WHERE = sa.text("channel = 'resident'")


def upgrade() -> None:
    op.create_index(
        "ix_events_resident_address",
        "events",
        ["address", "reported_at"],
        sqlite_where=WHERE,
        postgresql_where=WHERE,
    )


def downgrade() -> None:
    op.drop_index("ix_events_resident_address", table_name="events")
