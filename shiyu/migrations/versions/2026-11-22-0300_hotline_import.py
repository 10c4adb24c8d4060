"""hotline import: 12345 column mappings (with the built-in "appeals"), import jobs, bad rows

Revision ID: 0003hotline
Revises: 0002events
Create Date: 2026-11-22 03:00:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0003hotline"
down_revision = "0002events"
branch_labels = None
depends_on = None

# a copy of shiyu.intake.hotline.APPEALS_MAPPING as it was when this migration was written
APPEALS = {
    "name": "appeals",
    "source": "appeals",
    "label": "问政留言（appeals 数据集）",
    "columns": {
        "order_id": "message_id",
        "name": "user",
        "title": "subject",
        "reported_at": "time",
        "description": "detail",
        "category": "label_l1",
    },
    "category_map": {
        "城乡建设": "AP01",
        "劳动和社会保障": "AP02",
        "教育文体": "AP03",
        "商贸旅游": "AP04",
        "环境保护": "AP05",
        "卫生计生": "AP06",
        "交通运输": "AP07",
    },
    "appeal_kind_map": {},
    "owner_map": {},
    "time_format": "%Y-%m-%d %H:%M:%S",
    "owner_code": None,
    "send_receipts": True,
}


def upgrade() -> None:
    mappings = op.create_table(
        "hotline_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=48), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("category_map", sa.JSON(), nullable=False),
        sa.Column("appeal_kind_map", sa.JSON(), nullable=False),
        sa.Column("owner_map", sa.JSON(), nullable=False),
        sa.Column("time_format", sa.String(length=40), nullable=False),
        sa.Column("owner_code", sa.String(length=32), nullable=True),
        sa.Column("send_receipts", sa.Boolean(), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_code"],
            ["jurisdictions.code"],
            name=op.f("fk_hotline_mappings_owner_code_jurisdictions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotline_mappings")),
        sa.UniqueConstraint("name", name=op.f("uq_hotline_mappings_name")),
    )
    op.create_table(
        "hotline_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mapping_name", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("locked", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("resumed_from_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=64), nullable=False),
        sa.Column("scope_path", sa.String(length=255), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_hotline_imports_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["resumed_from_id"],
            ["hotline_imports.id"],
            name=op.f("fk_hotline_imports_resumed_from_id_hotline_imports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotline_imports")),
    )
    with op.batch_alter_table("hotline_imports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hotline_imports_scope_path"), ["scope_path"], unique=False
        )
        batch_op.create_index(
            "ix_hotline_imports_sha256", ["file_sha256", "mapping_name"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_hotline_imports_started_at"), ["started_at"], unique=False
        )

    op.create_table(
        "hotline_import_errors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["hotline_imports.id"],
            name=op.f("fk_hotline_import_errors_import_id_hotline_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotline_import_errors")),
    )
    with op.batch_alter_table("hotline_import_errors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hotline_import_errors_import_id"), ["import_id"], unique=False
        )

    now = datetime.now(UTC)
    op.bulk_insert(mappings, [{**APPEALS, "builtin": True, "created_at": now, "updated_at": now}])


def downgrade() -> None:
    with op.batch_alter_table("hotline_import_errors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hotline_import_errors_import_id"))
    op.drop_table("hotline_import_errors")
    with op.batch_alter_table("hotline_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hotline_imports_started_at"))
        batch_op.drop_index("ix_hotline_imports_sha256")
        batch_op.drop_index(batch_op.f("ix_hotline_imports_scope_path"))
    op.drop_table("hotline_imports")
    op.drop_table("hotline_mappings")
