from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from shiyu.audit import repository
from shiyu.audit.models import AuditRecord
from shiyu.audit.schemas import ChainReport
from shiyu.auth.access import Actor
from shiyu.kit.clock import utcnow
from shiyu.logs import request_id_var

GENESIS = repository.GENESIS


def _digest(
    *,
    seq: int,
    prev_hash: str,
    at: datetime,
    actor_id: int | None,
    actor_name: str,
    action: str,
    object_type: str,
    object_id: str,
    scope_path: str,
    summary: dict[str, Any],
    request_id: str | None,
) -> str:
    canonical = json.dumps(
        [
            seq,
            prev_hash,
            at.isoformat(timespec="microseconds"),
            actor_id,
            actor_name,
            action,
            object_type,
            object_id,
            scope_path,
            summary,
            request_id,
        ],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _jsonable(value: Any) -> Any:
    """Summaries are stored as JSON and hashed; normalise them once so the stored value and
    the hashed value are the same."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


@dataclass(frozen=True)
class _Pending:
    """A record waiting for its place in the chain, and the transaction it belongs to (a
    savepoint that rolls back takes its records with it)."""

    fields: dict[str, Any]
    transaction: SessionTransaction | None


_PENDING_KEY = "shiyu.audit.pending"


def record(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    object_type: str,
    object_id: str | int,
    scope_path: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Add one record to the caller's transaction.

    It is chained (seq, previous hash) when the transaction commits, not now: the chain is
    a single sequence, and holding its lock from the first record to the end of a request
    serialised every write and deadlocked busy servers waiting for pool connections."""
    summary: dict[str, Any] = _jsonable(
        {k: v for k, v in (("before", before), ("after", after), ("extra", extra)) if v is not None}
    )
    fields: dict[str, Any] = {
        "at": utcnow(),
        "actor_id": actor.user_id if actor else None,
        "actor_name": actor.username if actor else "system",
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "scope_path": scope_path,
        "summary": summary,
        "request_id": request_id_var.get(),
    }
    pending: list[_Pending] = session.info.setdefault(_PENDING_KEY, [])
    pending.append(_Pending(fields, session.get_nested_transaction() or session.get_transaction()))


def write_pending(session: Session) -> int:
    """Chain and insert the session's pending records under the chain lock (held until
    the commit that follows, which is moments away). Returns how many were written."""
    pending: list[_Pending] = session.info.pop(_PENDING_KEY, None) or []
    if not pending:
        return 0
    repository.lock_chain(session)
    seq, prev_hash = repository.head(session)
    rows: list[dict[str, Any]] = []
    for item in pending:
        seq += 1
        fields = {**item.fields, "seq": seq, "prev_hash": prev_hash}
        prev_hash = _digest(**fields)
        rows.append({**fields, "hash": prev_hash})
    repository.insert_many(session, rows)
    return len(rows)


def _inside(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "before_commit")
def _chain_before_commit(session: Session) -> None:
    write_pending(session)


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous: SessionTransaction) -> None:
    pending: list[_Pending] | None = session.info.get(_PENDING_KEY)
    if pending:
        pending[:] = [p for p in pending if not _inside(p.transaction, previous)]


@event.listens_for(Session, "do_orm_execute")
def _chain_before_reading(state: ORMExecuteState) -> None:
    """A transaction that reads or changes the trail sees its own records first, as it
    would with any other table."""
    if state.session.info.get(_PENDING_KEY) and any(
        m.class_ is AuditRecord for m in state.all_mappers
    ):
        write_pending(state.session)


def list_records(
    session: Session,
    actor: Actor,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    page: int = 1,
    size: int = 50,
) -> tuple[list[AuditRecord], int]:
    return repository.page_for(
        session, actor, object_type=object_type, object_id=object_id, page=page, size=size
    )


def verify(session: Session) -> ChainReport:
    """Walk the chain in order; report the first record whose link or content is wrong."""
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    for rec in repository.iter_chain(session):
        if rec.seq != expected_seq:
            return ChainReport(
                ok=False,
                checked=checked,
                first_broken_seq=rec.seq,
                reason=f"missing record(s) before seq {rec.seq} (expected {expected_seq})",
            )
        if rec.prev_hash != expected_prev:
            return ChainReport(
                ok=False,
                checked=checked,
                first_broken_seq=rec.seq,
                reason="link to previous record broken (deleted or reordered)",
            )
        actual = _digest(
            seq=rec.seq,
            prev_hash=rec.prev_hash,
            at=rec.at,
            actor_id=rec.actor_id,
            actor_name=rec.actor_name,
            action=rec.action,
            object_type=rec.object_type,
            object_id=rec.object_id,
            scope_path=rec.scope_path,
            summary=rec.summary,
            request_id=rec.request_id,
        )
        if actual != rec.hash:
            return ChainReport(
                ok=False,
                checked=checked,
                first_broken_seq=rec.seq,
                reason="record content does not match its hash (edited)",
            )
        expected_prev, expected_seq, checked = rec.hash, rec.seq + 1, checked + 1
    return ChainReport(ok=True, checked=checked)
