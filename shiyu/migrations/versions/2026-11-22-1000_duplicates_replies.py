"""duplicates and reply quality: LSH band keys, duplicate suggestions, merge notices, reply
scores

Revision ID: 0010duplicates
Revises: 0002events
Create Date: 2026-11-22 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010duplicates"
down_revision = "0002events"
branch_labels = None
depends_on = None


def _event_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["events.id"], name=op.f(f"fk_{table}_{column}_events"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "duplicate_bands",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        _event_fk("duplicate_bands", "event_id"),
        sa.PrimaryKeyConstraint("event_id", "key", name=op.f("pk_duplicate_bands")),
    )
    op.create_index(
        "ix_duplicate_bands_key_reported_at", "duplicate_bands", ["key", "reported_at"]
    )
    op.create_table(
        "duplicate_candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("same_grid", sa.Boolean(), nullable=True),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column("hours_apart", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        _event_fk("duplicate_candidates", "event_id"),
        _event_fk("duplicate_candidates", "candidate_id"),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_duplicate_candidates_decided_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_candidates")),
        sa.UniqueConstraint(
            "event_id", "candidate_id", name=op.f("uq_duplicate_candidates_event_id")
        ),
    )
    op.create_index(
        op.f("ix_duplicate_candidates_event_id"), "duplicate_candidates", ["event_id"]
    )
    op.create_index(
        op.f("ix_duplicate_candidates_candidate_id"), "duplicate_candidates", ["candidate_id"]
    )
    op.create_table(
        "duplicate_merge_notices",
        sa.Column("child_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sms_sent", sa.Boolean(), nullable=False),
        _event_fk("duplicate_merge_notices", "child_id"),
        _event_fk("duplicate_merge_notices", "parent_id"),
        sa.PrimaryKeyConstraint("child_id", name=op.f("pk_duplicate_merge_notices")),
    )
    op.create_table(
        "reply_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("relevance", sa.Float(), nullable=False),
        sa.Column("completeness", sa.Float(), nullable=False),
        sa.Column("timeliness", sa.Float(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        _event_fk("reply_scores", "event_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_scores")),
        sa.UniqueConstraint("event_id", "replied_at", name=op.f("uq_reply_scores_event_id")),
    )
    op.create_index(op.f("ix_reply_scores_event_id"), "reply_scores", ["event_id"])
    op.create_index(op.f("ix_reply_scores_replied_at"), "reply_scores", ["replied_at"])
    op.create_index(op.f("ix_reply_scores_flagged"), "reply_scores", ["flagged"])


def downgrade() -> None:
    op.drop_table("reply_scores")
    op.drop_table("duplicate_merge_notices")
    op.drop_table("duplicate_candidates")
    op.drop_table("duplicate_bands")
