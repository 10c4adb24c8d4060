"""events: catalogue, deadlines, calendar, events and their stages, notifications, leases

Revision ID: 0002events
Revises: 0001foundation
Create Date: 2026-11-22 01:58:21.729332
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0002events"
down_revision = "0001foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("is_workday", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_days")),
    )
    op.create_table(
        "event_categories",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("parent_code", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("sort", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_code"],
            ["event_categories.code"],
            name=op.f("fk_event_categories_parent_code_event_categories"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_event_categories")),
    )
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_leases")),
    )
    op.create_table(
        "event_deadline_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_code", sa.String(length=32), nullable=True),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("sign_hours", sa.Float(), nullable=False),
        sa.Column("finish_working_days", sa.Integer(), nullable=True),
        sa.Column("finish_hours", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["category_code"],
            ["event_categories.code"],
            name=op.f("fk_event_deadline_rules_category_code_event_categories"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_deadline_rules")),
        sa.UniqueConstraint(
            "category_code", "urgency", name=op.f("uq_event_deadline_rules_category_code")
        ),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=24), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category_code", sa.String(length=32), nullable=True),
        sa.Column("appeal_kind", sa.String(length=16), nullable=True),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("lng", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("grid_code", sa.String(length=32), nullable=True),
        sa.Column("scope_path", sa.String(length=255), nullable=False),
        sa.Column("owner_code", sa.String(length=32), nullable=False),
        sa.Column("owner_path", sa.String(length=255), nullable=False),
        sa.Column("reporter_name", sa.String(length=400), nullable=True),
        sa.Column("reporter_phone", sa.String(length=400), nullable=True),
        sa.Column("reporter_phone_hash", sa.String(length=64), nullable=True),
        sa.Column("reporter_user_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("lead_department_id", sa.Integer(), nullable=True),
        sa.Column("sign_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finish_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("yellow_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("light", sa.String(length=8), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("rating", sa.String(length=24), nullable=True),
        sa.Column("callback_contacted", sa.Boolean(), nullable=True),
        sa.Column("callback_resolved", sa.Boolean(), nullable=True),
        sa.Column("rating_comment", sa.String(length=500), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("rework_count", sa.Integer(), nullable=False),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("return_count", sa.Integer(), nullable=False),
        sa.Column("escalation_count", sa.Integer(), nullable=False),
        sa.Column("extended", sa.Boolean(), nullable=False),
        sa.Column("signed_on_time", sa.Boolean(), nullable=True),
        sa.Column("finished_on_time", sa.Boolean(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_code"],
            ["event_categories.code"],
            name=op.f("fk_events_category_code_event_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_events_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["grid_code"], ["jurisdictions.code"], name=op.f("fk_events_grid_code_jurisdictions")
        ),
        sa.ForeignKeyConstraint(
            ["lead_department_id"],
            ["departments.id"],
            name=op.f("fk_events_lead_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_code"], ["jurisdictions.code"], name=op.f("fk_events_owner_code_jurisdictions")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["events.id"], name=op.f("fk_events_parent_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["reporter_user_id"], ["users.id"], name=op.f("fk_events_reporter_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("code", name=op.f("uq_events_code")),
        sa.UniqueConstraint("source", "external_id", name=op.f("uq_events_source")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_events_category_code"), ["category_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_events_channel"), ["channel"], unique=False)
        batch_op.create_index(batch_op.f("ix_events_closed_at"), ["closed_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_events_finish_deadline"), ["finish_deadline"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_events_grid_code"), ["grid_code"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_events_lead_department_id"), ["lead_department_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_events_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_events_reported_at"), ["reported_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_events_reporter_phone_hash"), ["reporter_phone_hash"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_events_scope_path"), ["scope_path"], unique=False)
        batch_op.create_index(batch_op.f("ix_events_status"), ["status"], unique=False)
        batch_op.create_index("ix_events_status_light", ["status", "light"], unique=False)

    op.create_table(
        "event_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_event_actions_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_actions_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_actions")),
    )
    with op.batch_alter_table("event_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_actions_event_id"), ["event_id"], unique=False)

    op.create_table(
        "event_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_event_assignments_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_assignments_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_assignments")),
        sa.UniqueConstraint(
            "event_id", "department_id", name=op.f("uq_event_assignments_event_id")
        ),
    )
    with op.batch_alter_table("event_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_assignments_department_id"), ["department_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_event_assignments_event_id"), ["event_id"], unique=False
        )

    op.create_table(
        "event_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_attachments_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_event_attachments_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_attachments")),
    )
    with op.batch_alter_table("event_attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_attachments_event_id"), ["event_id"], unique=False
        )

    op.create_table(
        "event_extensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("working_days", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_event_extensions_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_extensions_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_event_extensions_requested_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_extensions")),
    )
    with op.batch_alter_table("event_extensions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_extensions_event_id"), ["event_id"], unique=False
        )

    op.create_table(
        "event_supervisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("owner_code", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_supervisions_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_supervisions")),
        sa.UniqueConstraint("event_id", "level", name=op.f("uq_event_supervisions_event_id")),
    )
    with op.batch_alter_table("event_supervisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_supervisions_event_id"), ["event_id"], unique=False
        )

    op.create_table(
        "event_whistles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("street_code", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_whistles_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_id"], ["users.id"], name=op.f("fk_event_whistles_issued_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["street_code"],
            ["jurisdictions.code"],
            name=op.f("fk_event_whistles_street_code_jurisdictions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_whistles")),
    )
    with op.batch_alter_table("event_whistles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_whistles_event_id"), ["event_id"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_notifications_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notifications_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index("ix_notifications_user_unread", ["user_id", "read_at"], unique=False)

    op.create_table(
        "outbound_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=400), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_outbound_messages_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_messages")),
    )
    op.create_table(
        "event_whistle_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("whistle_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("checkin_deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_in_by_id", sa.Integer(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rating_comment", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["checked_in_by_id"],
            ["users.id"],
            name=op.f("fk_event_whistle_calls_checked_in_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_event_whistle_calls_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["whistle_id"],
            ["event_whistles.id"],
            name=op.f("fk_event_whistle_calls_whistle_id_event_whistles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_whistle_calls")),
        sa.UniqueConstraint(
            "whistle_id", "department_id", name=op.f("uq_event_whistle_calls_whistle_id")
        ),
    )
    with op.batch_alter_table("event_whistle_calls", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_whistle_calls_department_id"), ["department_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_event_whistle_calls_whistle_id"), ["whistle_id"], unique=False
        )

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_events_scope_path_prefix ON events (scope_path varchar_pattern_ops)"
        )
    _seed_catalogue()


# 数字城管 event (事件) and component (部件) classes, 12345 appeal classes, and the seven
# first-level classes of the provincial message board; cities edit the table afterwards.
CATALOGUE: list[tuple[str, str, str, list[str]]] = [
    ("SJ01", "市容环境", "event", ["暴露垃圾", "积存垃圾渣土", "道路不洁", "乱涂乱画", "焚烧垃圾"]),
    ("SJ02", "宣传广告", "event", ["非法小广告", "违规户外广告", "占道广告牌"]),
    ("SJ03", "施工管理", "event", ["施工扰民", "工地扬尘", "无证掘路", "施工废弃物"]),
    ("SJ04", "突发事件", "event", ["路面塌陷", "供水管道爆裂", "燃气泄漏", "道路积水", "火情"]),
    ("SJ05", "街面秩序", "event", ["无照游商", "店外经营", "占道经营", "乱堆物料", "机动车乱停放"]),
    ("BJ01", "公用设施", "component", ["井盖", "消防栓", "路灯", "电力设施"]),
    ("BJ02", "道路交通", "component", ["交通信号灯", "护栏", "公交站亭", "道路标志"]),
    ("BJ03", "市容环境设施", "component", ["垃圾箱", "公共厕所", "广告牌"]),
    ("BJ04", "园林绿化", "component", ["行道树", "绿地", "花坛"]),
    ("BJ05", "房屋土地", "component", ["违法建设", "危房"]),
    ("BJ06", "其他设施", "component", ["其他设施"]),
    ("RX01", "城市管理", "appeal", ["市容市貌", "违章建筑", "噪音扰民"]),
    ("RX02", "水电气热", "appeal", ["停水", "停电", "燃气", "供暖"]),
    ("RX03", "住房与物业", "appeal", ["物业服务", "房屋质量", "拆迁安置"]),
    ("RX04", "市场监管", "appeal", ["消费维权", "食品安全", "价格"]),
    ("RX05", "社会保障", "appeal", ["社保医保", "劳动纠纷", "欠薪"]),
    ("RX06", "公共安全", "appeal", ["治安隐患", "消防隐患", "安全生产"]),
    ("RX07", "其他诉求", "appeal", ["其他"]),
    ("AP01", "城乡建设", "appeal", []),
    ("AP02", "劳动和社会保障", "appeal", []),
    ("AP03", "教育文体", "appeal", []),
    ("AP04", "商贸旅游", "appeal", []),
    ("AP05", "环境保护", "appeal", []),
    ("AP06", "卫生计生", "appeal", []),
    ("AP07", "交通运输", "appeal", []),
]

# (category or None for the default, urgency, sign hours, finish working days, finish hours)
DEADLINES: list[tuple[str | None, str, float, int | None, float | None]] = [
    (None, "normal", 2, 5, None),
    (None, "urgent", 1, None, 24),
    (None, "emergency", 0.5, None, 2),
    ("RX02", "normal", 1, None, 24),  # 水电气热: 24 h
    ("SJ04", "normal", 0.5, None, 4),  # 突发事件
    ("AP03", "normal", 2, 3, None),
]


def _seed_catalogue() -> None:
    categories = sa.table(
        "event_categories",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("parent_code", sa.String),
        sa.column("kind", sa.String),
        sa.column("is_active", sa.Boolean),
        sa.column("sort", sa.Integer),
    )
    rows = []
    for sort, (code, name, kind, children) in enumerate(CATALOGUE):
        rows.append(
            {
                "code": code,
                "name": name,
                "parent_code": None,
                "kind": kind,
                "is_active": True,
                "sort": sort * 100,
            }
        )
        for i, child in enumerate(children, start=1):
            rows.append(
                {
                    "code": f"{code}{i:02d}",
                    "name": child,
                    "parent_code": code,
                    "kind": kind,
                    "is_active": True,
                    "sort": sort * 100 + i,
                }
            )
    op.bulk_insert(categories, rows)
    rules = sa.table(
        "event_deadline_rules",
        sa.column("category_code", sa.String),
        sa.column("urgency", sa.String),
        sa.column("sign_hours", sa.Float),
        sa.column("finish_working_days", sa.Integer),
        sa.column("finish_hours", sa.Float),
    )
    op.bulk_insert(
        rules,
        [
            {
                "category_code": c,
                "urgency": u,
                "sign_hours": sh,
                "finish_working_days": d,
                "finish_hours": h,
            }
            for c, u, sh, d, h in DEADLINES
        ],
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_events_scope_path_prefix")
    with op.batch_alter_table("event_whistle_calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_whistle_calls_whistle_id"))
        batch_op.drop_index(batch_op.f("ix_event_whistle_calls_department_id"))

    op.drop_table("event_whistle_calls")
    op.drop_table("outbound_messages")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_user_unread")
        batch_op.drop_index(batch_op.f("ix_notifications_created_at"))

    op.drop_table("notifications")
    with op.batch_alter_table("event_whistles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_whistles_event_id"))

    op.drop_table("event_whistles")
    with op.batch_alter_table("event_supervisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_supervisions_event_id"))

    op.drop_table("event_supervisions")
    with op.batch_alter_table("event_extensions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_extensions_event_id"))

    op.drop_table("event_extensions")
    with op.batch_alter_table("event_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_attachments_event_id"))

    op.drop_table("event_attachments")
    with op.batch_alter_table("event_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_assignments_event_id"))
        batch_op.drop_index(batch_op.f("ix_event_assignments_department_id"))

    op.drop_table("event_assignments")
    with op.batch_alter_table("event_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_actions_event_id"))

    op.drop_table("event_actions")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_status_light")
        batch_op.drop_index(batch_op.f("ix_events_status"))
        batch_op.drop_index(batch_op.f("ix_events_scope_path"))
        batch_op.drop_index(batch_op.f("ix_events_reporter_phone_hash"))
        batch_op.drop_index(batch_op.f("ix_events_reported_at"))
        batch_op.drop_index(batch_op.f("ix_events_parent_id"))
        batch_op.drop_index(batch_op.f("ix_events_lead_department_id"))
        batch_op.drop_index(batch_op.f("ix_events_grid_code"))
        batch_op.drop_index(batch_op.f("ix_events_finish_deadline"))
        batch_op.drop_index(batch_op.f("ix_events_closed_at"))
        batch_op.drop_index(batch_op.f("ix_events_channel"))
        batch_op.drop_index(batch_op.f("ix_events_category_code"))

    op.drop_table("events")
    op.drop_table("event_deadline_rules")
    op.drop_table("job_leases")
    op.drop_table("event_categories")
    op.drop_table("calendar_days")
