"""events: indexes of columns that stay empty for most of an event's life become partial
(WHERE column IS NOT NULL), so inserting a report and updating an open event's light (a
first deadline sweep updates a million) no longer write an entry into each of them

Revision ID: 0014sparse
Revises: 0006metrics
Create Date: 2026-12-05 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014sparse"
down_revision = "0006metrics"
branch_labels = None
depends_on = None

#: empty until the event is dispatched, closed, rated, merged; the phone only for residents
SPARSE = (
    "closed_at",
    "rated_at",
    "parent_id",
    "lead_department_id",
    "dispatched_at",
    "finish_deadline",
    "reporter_phone_hash",
)


def upgrade() -> None:
    for column in SPARSE:
        op.drop_index(f"ix_events_{column}", table_name="events")
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            f"ix_events_{column}",
            "events",
            [column],
            sqlite_where=where,
            postgresql_where=where,
        )


def downgrade() -> None:
    for column in SPARSE:
        op.drop_index(f"ix_events_{column}", table_name="events")
        op.create_index(f"ix_events_{column}", "events", [column])
