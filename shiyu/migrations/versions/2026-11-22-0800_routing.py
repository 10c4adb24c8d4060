"""classifier models, responsibility list (权责清单) and routing suggestions

Revision ID: 0008routing
Revises: 0002events
Create Date: 2026-11-22 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0008routing"
down_revision = "0002events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "classifier_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("header", sa.JSON(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_classifier_models_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classifier_models")),
    )
    op.create_index(op.f("ix_classifier_models_sha256"), "classifier_models", ["sha256"])
    op.create_index(op.f("ix_classifier_models_is_active"), "classifier_models", ["is_active"])
    op.create_table(
        "routing_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_code", sa.String(length=32), nullable=True),
        sa.Column("area_code", sa.String(length=32), nullable=True),
        sa.Column("area_path", sa.String(length=255), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("basis", sa.String(length=12), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_code"],
            ["event_categories.code"],
            name=op.f("fk_routing_rules_category_code_event_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["area_code"],
            ["jurisdictions.code"],
            name=op.f("fk_routing_rules_area_code_jurisdictions"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_routing_rules_department_id_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rules")),
    )
    op.create_index(op.f("ix_routing_rules_category_code"), "routing_rules", ["category_code"])
    op.create_table(
        "routing_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=True),
        sa.Column("model_sha256", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("suggested_category", sa.String(length=32), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("top", sa.JSON(), nullable=False),
        sa.Column("suggested_department_id", sa.Integer(), nullable=True),
        sa.Column("route_basis", sa.String(length=12), nullable=True),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("auto_dispatched", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_category", sa.String(length=32), nullable=True),
        sa.Column("decided_department_id", sa.Integer(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_routing_suggestions_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["suggested_department_id"],
            ["departments.id"],
            name=op.f("fk_routing_suggestions_suggested_department_id_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_suggestions")),
        sa.UniqueConstraint("event_id", name=op.f("uq_routing_suggestions_event_id")),
    )
    op.create_index(
        op.f("ix_routing_suggestions_created_at"), "routing_suggestions", ["created_at"]
    )
    op.create_index(
        op.f("ix_routing_suggestions_decided_at"), "routing_suggestions", ["decided_at"]
    )


def downgrade() -> None:
    op.drop_table("routing_suggestions")
    op.drop_table("routing_rules")
    op.drop_table("classifier_models")
