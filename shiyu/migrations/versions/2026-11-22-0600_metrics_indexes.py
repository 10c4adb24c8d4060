"""metrics: indexes for period aggregates (dispatch cohort, callbacks, dispatch/return flow)

Revision ID: 0006metrics
Revises: 0002events
Create Date: 2026-11-22 06:00:00

The unit metrics select a period's events by `dispatched_at` or `rated_at` and its timeline
rows by (`action`, `at`); without these indexes every report scans the whole tables. Plain
CREATE INDEX (no batch mode): SQLite adds an index without rebuilding `events`, so the FTS
triggers of 0007search stay in place.
"""

from __future__ import annotations

from alembic import op

revision = "0006metrics"
down_revision = "0002events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_events_dispatched_at", "events", ["dispatched_at"])
    op.create_index("ix_events_rated_at", "events", ["rated_at"])
    op.create_index("ix_event_actions_action_at", "event_actions", ["action", "at"])


def downgrade() -> None:
    op.drop_index("ix_event_actions_action_at", table_name="event_actions")
    op.drop_index("ix_events_rated_at", table_name="events")
    op.drop_index("ix_events_dispatched_at", table_name="events")
