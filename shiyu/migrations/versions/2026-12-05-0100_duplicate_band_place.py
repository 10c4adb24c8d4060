"""duplicate bands carry the place: a map cell and the grid, so candidate search reads only
band keys near the new event

Revision ID: 0013dupplace
Revises: 0010duplicates
Create Date: 2026-12-05 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from shiyu.duplicates.cells import cell_of

revision = "0013dupplace"
down_revision = "0010duplicates"
branch_labels = None
depends_on = None

_BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table("duplicate_bands") as batch:
        batch.add_column(sa.Column("cell", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("grid_code", sa.String(length=32), nullable=True))
    _backfill()
    op.drop_index("ix_duplicate_bands_key_reported_at", table_name="duplicate_bands")
    op.create_index(
        "ix_duplicate_bands_key_cell_reported_at",
        "duplicate_bands",
        ["key", "cell", "reported_at"],
    )
    op.create_index(
        "ix_duplicate_bands_key_grid_reported_at",
        "duplicate_bands",
        ["key", "grid_code", "reported_at"],
    )


def _backfill() -> None:
    """The place of every event that has band keys, in batches of events."""
    conn = op.get_bind()
    after = 0
    while True:
        rows = conn.execute(
            sa.text(
                "SELECT id, lng, lat, grid_code FROM events WHERE id > :after AND id IN "
                "(SELECT event_id FROM duplicate_bands) ORDER BY id LIMIT :n"
            ),
            {"after": after, "n": _BATCH},
        ).all()
        if not rows:
            return
        conn.execute(
            sa.text("UPDATE duplicate_bands SET cell = :cell, grid_code = :grid WHERE event_id = :id"),
            [{"id": r[0], "cell": cell_of(r[1], r[2]), "grid": r[3]} for r in rows],
        )
        after = rows[-1][0]


def downgrade() -> None:
    op.drop_index("ix_duplicate_bands_key_grid_reported_at", table_name="duplicate_bands")
    op.drop_index("ix_duplicate_bands_key_cell_reported_at", table_name="duplicate_bands")
    op.create_index(
        "ix_duplicate_bands_key_reported_at", "duplicate_bands", ["key", "reported_at"]
    )
    with op.batch_alter_table("duplicate_bands") as batch:
        batch.drop_column("grid_code")
        batch.drop_column("cell")
