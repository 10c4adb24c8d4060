"""duplicate bands: one index, holding all a place-first search reads

Revision ID: 0020bandindex
Revises: 0019searchrowids, 0013dupplace
Create Date: 2026-12-06 05:00:00

Each report stores 16 band keys, random 64-bit values. Every index that leads with the key
takes them at random pages: two such indexes, `(key, cell, reported_at)` and `(key,
grid_code, reported_at)`, were two thirds of the write-ahead log an intake batch wrote on
SQLite (3.1 MB of 4.7 per 25 reports; with one of them dropped, 2.0) and a share of each
report's insert. Since revision 0018 most searches read a key's rows by the key alone
(`shiyu.duplicates.repository.band_hits_many`); only keys held by many rows (boilerplate)
are searched place first. One index `(key, cell, reported_at, grid_code, event_id)` serves
that search: cells through its second column, the grid conditions from its own entries
without reading the table.
"""

from __future__ import annotations

from alembic import op

revision = "0020bandindex"
#: also merges the duplicates branch (0010duplicates, 0013dupplace), whose indexes it replaces
down_revision = ("0019searchrowids", "0013dupplace")
branch_labels = None
depends_on = None

INDEX = "ix_duplicate_bands_key_place"
COLUMNS = ["key", "cell", "reported_at", "grid_code", "event_id"]
#: revision 0013dupplace's indexes, which this one replaces
OLD = {
    "ix_duplicate_bands_key_cell_reported_at": ["key", "cell", "reported_at"],
    "ix_duplicate_bands_key_grid_reported_at": ["key", "grid_code", "reported_at"],
}


def upgrade() -> None:
    for name in OLD:
        op.drop_index(name, table_name="duplicate_bands")
    op.create_index(INDEX, "duplicate_bands", COLUMNS)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="duplicate_bands")
    for name, columns in OLD.items():
        op.create_index(name, "duplicate_bands", columns)
