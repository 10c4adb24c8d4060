from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from shiyu.audit import repository
from shiyu.audit.models import AuditRecord
from shiyu.audit.schemas import ChainReport
from shiyu.auth.access import Actor
from shiyu.kit.clock import utcnow
from shiyu.logs import request_id_var

GENESIS = "0" * 64


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
) -> AuditRecord:
    """Append one record to the chain in the caller's transaction."""
    repository.lock_chain(session)
    prev = repository.last(session)
    summary: dict[str, Any] = _jsonable(
        {k: v for k, v in (("before", before), ("after", after), ("extra", extra)) if v is not None}
    )
    fields: dict[str, Any] = {
        "seq": (prev.seq + 1) if prev else 1,
        "prev_hash": prev.hash if prev else GENESIS,
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
    rec = AuditRecord(**fields, hash=_digest(**fields))
    session.add(rec)
    session.flush()
    return rec


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
