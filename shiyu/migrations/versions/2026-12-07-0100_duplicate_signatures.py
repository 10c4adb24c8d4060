"""duplicate search: one signature row per event instead of 16 band rows under a key index

Revision ID: 0022bandmemory
Revises: 0021bandkeys
Create Date: 2026-12-07 01:00:00

Each report stored 16 band keys, random 64-bit values, in an index leading with the key: 16
random pages a report, most of the write-ahead log of an intake batch on SQLite, and a fifth
of the intake's rate at 50 clients. The keys are now looked up in memory
(`shiyu.duplicates.band_index`); the database keeps one row per event, appended in `seq`
order, with the keys packed (16 signed 64-bit integers, little-endian) and the time and place
its band rows carried. The downgrade unpacks them into band rows again.
"""

from __future__ import annotations

import struct
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0022bandmemory"
down_revision = "0021bandkeys"
branch_labels = None
depends_on = None

_BATCH = 5000
_PLACE = ("reported_at", "cell", "grid_code")

BANDS = sa.table(
    "duplicate_bands",
    sa.column("event_id", sa.Integer),
    sa.column("key", sa.BigInteger),
    # as stored, whatever the database's type: copied between the tables, never converted
    sa.column("reported_at"),
    sa.column("cell", sa.Integer),
    sa.column("grid_code", sa.String),
)
SIGNATURES = sa.table(
    "duplicate_signatures",
    sa.column("event_id", sa.Integer),
    sa.column("reported_at"),
    sa.column("cell", sa.Integer),
    sa.column("grid_code", sa.String),
    sa.column("keys", sa.LargeBinary),
)


def _pack(keys: list[int]) -> bytes:
    values = sorted(set(keys))
    return struct.pack(f"<{len(values)}q", *values)


def _unpack(blob: bytes) -> tuple[int, ...]:
    return struct.unpack(f"<{len(blob) // 8}q", bytes(blob))


def _create_signatures() -> None:
    op.create_table(
        "duplicate_signatures",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cell", sa.Integer(), server_default="0", nullable=False),
        sa.Column("grid_code", sa.String(length=32), nullable=True),
        sa.Column("keys", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name="fk_duplicate_signatures_event_id_events",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name="pk_duplicate_signatures"),
        sa.UniqueConstraint("event_id", name="uq_duplicate_signatures_event_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_duplicate_signatures_reported_at", "duplicate_signatures", ["reported_at"])


def _create_bands() -> None:
    op.create_table(
        "duplicate_bands",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cell", sa.Integer(), server_default="0", nullable=False),
        sa.Column("grid_code", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name="fk_duplicate_bands_event_id_events",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "key", name="pk_duplicate_bands"),
    )
    op.create_index(
        "ix_duplicate_bands_key_place",
        "duplicate_bands",
        ["key", "cell", "reported_at", "grid_code", "event_id"],
    )


def upgrade() -> None:
    _create_signatures()
    conn = op.get_bind()
    after = 0
    while True:
        # the band rows of the next events, in event order (an event's rows share its place)
        ids = conn.scalars(
            sa.select(BANDS.c.event_id)
            .distinct()
            .where(BANDS.c.event_id > after)
            .order_by(BANDS.c.event_id)
            .limit(_BATCH)
        ).all()
        if not ids:
            break
        rows = conn.execute(
            sa.select(BANDS.c.event_id, BANDS.c.key, *(BANDS.c[c] for c in _PLACE))
            .where(BANDS.c.event_id.in_(ids))
            .order_by(BANDS.c.event_id)
        ).all()
        signatures: dict[int, dict[str, Any]] = {}
        keys: dict[int, list[int]] = {}
        for event_id, key, *place in rows:
            signatures.setdefault(event_id, {"event_id": event_id, **dict(zip(_PLACE, place))})
            keys.setdefault(event_id, []).append(key)
        conn.execute(
            SIGNATURES.insert(),
            [{**row, "keys": _pack(keys[event_id])} for event_id, row in signatures.items()],
        )
        after = ids[-1]
    op.drop_table("duplicate_bands")


def downgrade() -> None:
    _create_bands()
    conn = op.get_bind()
    result = conn.execute(
        sa.select(SIGNATURES.c.event_id, SIGNATURES.c["keys"], *(SIGNATURES.c[c] for c in _PLACE))
    )
    while chunk := result.fetchmany(_BATCH):
        conn.execute(
            BANDS.insert(),
            [
                {"event_id": event_id, "key": key, **dict(zip(_PLACE, place))}
                for event_id, blob, *place in chunk
                for key in _unpack(blob)
            ],
        )
    op.drop_table("duplicate_signatures")
