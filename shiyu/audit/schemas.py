from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from shiyu.kit.schemas import ORMModel


class AuditRecordRead(ORMModel):
    seq: int
    at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    object_type: str
    object_id: str
    summary: dict[str, Any]
    request_id: str | None
    hash: str


class AuditPage(BaseModel):
    items: list[AuditRecordRead]
    total: int
    page: int
    size: int


class ChainReport(BaseModel):
    ok: bool
    checked: int
    first_broken_seq: int | None = None
    reason: str | None = None
