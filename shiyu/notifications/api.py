from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, StrictInt

from shiyu.auth.access import CurrentActor
from shiyu.deps import SessionDep
from shiyu.kit.schemas import ORMModel, QueryBool
from shiyu.notifications import service

router = APIRouter(prefix="/notifications", tags=["notifications"])


class NotificationRead(ORMModel):
    id: int
    kind: str
    title: str
    body: str
    event_id: int | None
    created_at: datetime
    read_at: datetime | None


class Inbox(BaseModel):
    unread: int
    items: list[NotificationRead]


class MarkRead(BaseModel):
    ids: list[StrictInt] | None = Field(default=None, max_length=1000, description="null: all")


class Marked(BaseModel):
    marked: int


@router.get("", response_model=Inbox, operation_id="notifications-inbox")
def inbox(
    session: SessionDep,
    actor: CurrentActor,
    unread_only: QueryBool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Inbox:
    """The caller's inbox with the unread count."""
    rows, unread = service.inbox(session, actor, unread_only=unread_only, limit=limit)
    return Inbox(unread=unread, items=[NotificationRead.model_validate(r) for r in rows])


@router.post("/read", response_model=Marked, operation_id="notifications-mark_read")
def mark_read(session: SessionDep, actor: CurrentActor, body: MarkRead) -> Marked:
    return Marked(marked=service.mark_read(session, actor, body.ids))
