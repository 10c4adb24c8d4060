"""warnings: stored surge warnings (one per unit × category × local day)

Revision ID: 0009warnings
Revises: 0002events
Create Date: 2026-11-22 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009warnings"
down_revision = "0002events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "warnings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("unit_path", sa.String(length=255), nullable=False),
        sa.Column("unit_level", sa.String(length=16), nullable=False),
        sa.Column("category_code", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("baseline_mean", sa.Float(), nullable=False),
        sa.Column("baseline_var", sa.Float(), nullable=False),
        sa.Column("baseline_days", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=16), nullable=False),
        sa.Column("p_value", sa.Float(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("notified", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ack_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_code"], ["jurisdictions.code"], name=op.f("fk_warnings_unit_code_jurisdictions")
        ),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"], ["users.id"], name=op.f("fk_warnings_acknowledged_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warnings")),
        sa.UniqueConstraint(
            "kind", "unit_code", "category_code", "day", name=op.f("uq_warnings_kind")
        ),
    )
    with op.batch_alter_table("warnings", schema=None) as batch_op:
        batch_op.create_index("ix_warnings_day_status", ["day", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_warnings_unit_path"), ["unit_path"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # subtree filters are `unit_path LIKE '/a/b/%'`: needs the pattern operator class
        op.execute(
            "CREATE INDEX ix_warnings_unit_path_prefix ON warnings (unit_path varchar_pattern_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_warnings_unit_path_prefix")
    with op.batch_alter_table("warnings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_warnings_unit_path"))
        batch_op.drop_index("ix_warnings_day_status")
    op.drop_table("warnings")
