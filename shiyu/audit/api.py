from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from shiyu.audit import service
from shiyu.audit.permissions import AuditRead
from shiyu.audit.schemas import AuditPage, AuditRecordRead
from shiyu.deps import SessionDep

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("/records", response_model=AuditPage, operation_id="audit-list_records")
def list_records(
    session: SessionDep,
    actor: AuditRead,
    object_type: Annotated[str | None, Query(max_length=32)] = None,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditPage:
    """操作留痕: the trail of objects inside the caller's jurisdiction, newest first."""
    rows, total = service.list_records(
        session, actor, object_type=object_type, object_id=object_id, page=page, size=size
    )
    return AuditPage(
        items=[AuditRecordRead.model_validate(r) for r in rows], total=total, page=page, size=size
    )
