"""sensor sources: sensor and video alarm sources of the signed alarm webhook

Revision ID: 0005sensors
Revises: 0002events
Create Date: 2026-11-22 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005sensors"
down_revision = "0002events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sensor_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=48), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("secret", sa.String(length=400), nullable=False),
        sa.Column("previous_secret", sa.String(length=400), nullable=True),
        sa.Column("previous_secret_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("owner_code", sa.String(length=32), nullable=False),
        sa.Column("owner_path", sa.String(length=255), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("secret_rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_code"],
            ["jurisdictions.code"],
            name=op.f("fk_sensor_sources_owner_code_jurisdictions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensor_sources")),
        sa.UniqueConstraint("code", name=op.f("uq_sensor_sources_code")),
    )
    with op.batch_alter_table("sensor_sources", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sensor_sources_owner_path"), ["owner_path"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("sensor_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sensor_sources_owner_path"))
    op.drop_table("sensor_sources")
