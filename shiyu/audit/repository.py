from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from sqlalchemy import Select, Table, func, insert, select, text
from sqlalchemy.orm import Session

from shiyu.audit.models import AuditRecord
from shiyu.auth.access import Actor
from shiyu.kit.paths import within

GENESIS = "0" * 64
_RECORDS = cast(Table, AuditRecord.__table__)
_CHAIN_LOCK_KEY = 0x5348_4155  # "SHAU": serialises appends on PostgreSQL


def lock_chain(session: Session) -> None:
    """Hold the chain until commit. SQLite writers already hold the database lock (BEGIN
    IMMEDIATE); on PostgreSQL a transaction-scoped advisory lock orders the appends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK_KEY})


def head(session: Session) -> tuple[int, str]:
    """(seq, hash) of the newest record, or (0, the genesis hash)."""
    row = session.execute(
        select(AuditRecord.seq, AuditRecord.hash).order_by(AuditRecord.seq.desc()).limit(1)
    ).first()
    return (row[0], row[1]) if row else (0, GENESIS)


def insert_many(session: Session, rows: list[dict[str, Any]]) -> None:
    # Core on the session's connection: the ORM's bulk path cost as much again per row
    session.connection().execute(insert(_RECORDS), rows)


def readable_by(actor: Actor) -> Select[AuditRecord]:
    return select(AuditRecord).where(within(AuditRecord.scope_path, actor.scope_path))


def page_for(
    session: Session,
    actor: Actor,
    *,
    object_type: str | None,
    object_id: str | None,
    page: int,
    size: int,
) -> tuple[list[AuditRecord], int]:
    stmt = readable_by(actor)
    if object_type:
        stmt = stmt.where(AuditRecord.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditRecord.object_id == object_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(AuditRecord.seq.desc()).offset((page - 1) * size).limit(size)
    ).all()
    return list(rows), total


def iter_chain(session: Session, *, batch: int = 5000) -> Iterator[AuditRecord]:
    after = 0
    while True:
        stmt = select(AuditRecord).where(AuditRecord.seq > after)
        rows = session.scalars(stmt.order_by(AuditRecord.seq).limit(batch)).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].seq
