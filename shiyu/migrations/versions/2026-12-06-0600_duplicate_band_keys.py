"""duplicate bands: keys of the MinHash computed on code points

Revision ID: 0021bandkeys
Revises: 0020bandindex
Create Date: 2026-12-06 06:00:00

`shiyu.duplicates.similarity` now hashes a text's 3-grams from its code points in numpy (a
third of the cost, paid by every report) instead of CRC32-hashing each 3-gram. The keys
differ, so the stored ones are computed again from the events' text: a new report must find
the open events reported before the upgrade. The downgrade computes the old keys (their
function is kept here, as revision 0020bandindex's code made them).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import sqlalchemy as sa
from alembic import op

revision = "0021bandkeys"
down_revision = "0020bandindex"
branch_labels = None
depends_on = None

_BATCH = 2000

BANDS = sa.table(
    "duplicate_bands",
    sa.column("event_id", sa.Integer),
    sa.column("key", sa.BigInteger),
    # as stored, whatever the database's type: copied from the event's rows, never converted
    sa.column("reported_at"),
    sa.column("cell", sa.Integer),
    sa.column("grid_code", sa.String),
)
EVENTS = sa.table(
    "events",
    sa.column("id", sa.Integer),
    sa.column("title", sa.String),
    sa.column("description", sa.Text),
)


def _keys_until_0020(cleaned: str) -> list[int]:
    """The band keys before this revision: CRC32 per 3-gram, 64 functions (a·x + b) mod a
    prime above 2**32, BLAKE2b per band of 4."""

    def coefficient(label: str, i: int) -> int:
        digest = hashlib.blake2b(f"{label}{i}".encode(), digest_size=4).digest()
        return int.from_bytes(digest, "little") | 1

    if not cleaned:
        return []
    items = (
        {cleaned}
        if len(cleaned) <= 3
        else {cleaned[i : i + 3] for i in range(len(cleaned) - 2)}
    )
    a = np.array([coefficient("a", i) for i in range(64)], dtype=np.uint64)[:, None]
    b = np.array([coefficient("b", i) for i in range(64)], dtype=np.uint64)[:, None]
    hashes = np.fromiter((zlib.crc32(s.encode()) for s in items), dtype=np.uint64)
    sig = np.asarray(((a * hashes[None, :] + b) % np.uint64(4294967311)).min(axis=1))
    keys = []
    for band in range(16):
        chunk = sig[band * 4 : (band + 1) * 4].astype(np.uint64).tobytes()
        digest = hashlib.blake2b(bytes([band]) + chunk, digest_size=8).digest()
        keys.append(int.from_bytes(digest, "little", signed=True))
    return keys


def _keys_now(cleaned: str) -> list[int]:
    from shiyu.duplicates import similarity

    return similarity.keys_for(cleaned)


def _rekey(keys_of: Callable[[str], list[int]]) -> None:
    """Every event's band rows again, with `keys_of` its cleaned text, in batches of events
    (the place and time of its rows kept as they are)."""
    from shiyu.duplicates import similarity

    conn = op.get_bind()
    after = 0
    while True:
        rows = conn.execute(
            sa.select(
                BANDS.c.event_id,
                sa.func.min(BANDS.c.reported_at),
                sa.func.min(BANDS.c.cell),
                sa.func.min(BANDS.c.grid_code),
                EVENTS.c.title,
                EVENTS.c.description,
            )
            .join(EVENTS, EVENTS.c.id == BANDS.c.event_id)
            .where(BANDS.c.event_id > after)
            .group_by(BANDS.c.event_id, EVENTS.c.title, EVENTS.c.description)
            .order_by(BANDS.c.event_id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        fresh: list[dict[str, Any]] = []
        for event_id, reported_at, cell, grid_code, title, description in rows:
            for key in set(keys_of(similarity.clean(title, description))):
                fresh.append(
                    {
                        "event_id": event_id,
                        "key": key,
                        "reported_at": reported_at,
                        "cell": cell,
                        "grid_code": grid_code,
                    }
                )
        ids = [r[0] for r in rows]
        conn.execute(BANDS.delete().where(BANDS.c.event_id.in_(ids)))
        if fresh:
            conn.execute(BANDS.insert(), fresh)
        after = ids[-1]


def upgrade() -> None:
    _rekey(_keys_now)


def downgrade() -> None:
    _rekey(_keys_until_0020)
