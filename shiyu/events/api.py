from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile, status
from pydantic import BaseModel

from shiyu.config import Settings
from shiyu.deps import SessionDep
from shiyu.errors import error_responses
from shiyu.events import attachments, repository, service
from shiyu.events.enums import AttachmentKind, Channel, Light, Status, Urgency
from shiyu.events.permissions import EventsAct, EventsCreate, EventsRead
from shiyu.events.schemas import (
    ActionIn,
    AttachmentRead,
    CategoryRead,
    EventCreate,
    EventDetail,
    EventPage,
    EventRead,
    IntakeData,
    TransitionRead,
)
from shiyu.events.transitions import TABLE
from shiyu.jurisdiction import service as jurisdictions

router = APIRouter(prefix="/events", tags=["events"])


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


class TodoOut(BaseModel):
    counts: dict[str, int]
    items: list[EventRead]


@router.post(
    "",
    response_model=EventRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="events-create",
)
def create_event(
    request: Request, session: SessionDep, actor: EventsCreate, body: EventCreate
) -> Any:
    """Report an event (grid patrol, department, or a call typed in by the hotline centre).
    The grid is found from the location; the receiving centre owns it until dispatch."""
    settings = _settings(request)
    owner = actor.jurisdiction_code if "dispatcher" in actor.roles else None
    event, _ = service.create(
        session,
        settings,
        IntakeData(
            **body.model_dump(exclude={"channel"}), channel=Channel(body.channel), owner_code=owner
        ),
        actor=actor,
    )
    return service.to_read(session, settings, event, actor)


@router.get("", response_model=EventPage, operation_id="events-list")
def list_events(
    request: Request,
    session: SessionDep,
    actor: EventsRead,
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    category_code: Annotated[str | None, Query(max_length=32)] = None,
    channel: Channel | None = None,
    urgency: Urgency | None = None,
    jurisdiction_code: Annotated[str | None, Query(pattern=r"^\d{12,23}$")] = None,
    reported_from: datetime | None = None,
    reported_to: datetime | None = None,
    overdue: bool | None = None,
    light: Light | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
    with_total: bool = False,
) -> Any:
    """Events the caller may see, newest first, with filters and cursor pagination."""
    path = None
    if jurisdiction_code:
        path = jurisdictions.get_readable_unit(session, actor, jurisdiction_code).path
    flt = repository.ListFilter(
        status=[s.value for s in status_] if status_ else None,
        category_code=category_code,
        channel=channel.value if channel else None,
        urgency=urgency.value if urgency else None,
        jurisdiction_path=path,
        reported_from=reported_from,
        reported_to=reported_to,
        overdue=overdue,
        light=light.value if light else None,
        q=q,
    )
    rows, next_cursor, total = service.list_events(
        session, actor, flt, cursor=cursor, size=size, with_total=with_total
    )
    settings = _settings(request)
    return {
        "items": [service.to_read(session, settings, e, actor) for e in rows],
        "next_cursor": next_cursor,
        "total": total,
    }


@router.get("/todo", response_model=TodoOut, operation_id="events-todo")
def todo(
    request: Request,
    session: SessionDep,
    actor: EventsRead,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    """我的待办: what waits for the caller (their centre, department or grid), oldest first."""
    counts, rows = service.todo(session, actor, size=size)
    settings = _settings(request)
    return {"counts": counts, "items": [service.to_read(session, settings, e, actor) for e in rows]}


@router.get(
    "/meta/transitions", response_model=list[TransitionRead], operation_id="events-transitions"
)
def transitions(_actor: EventsRead) -> Any:
    """The lifecycle table: every action, from which statuses, to which, by whom."""
    return [
        {
            "action": t.action,
            "label": t.label,
            "sources": sorted(t.sources),
            "target": t.target,
            "roles": sorted(t.roles),
            "needs_reason": t.needs_reason,
        }
        for t in TABLE.values()
    ]


@router.get("/meta/categories", response_model=list[CategoryRead], operation_id="events-categories")
def categories(session: SessionDep, _actor: EventsRead) -> Any:
    return repository.categories(session)


@router.get(
    "/{code}",
    response_model=EventDetail,
    operation_id="events-get",
    responses=error_responses(service.EventNotFound),
)
def get_event(request: Request, session: SessionDep, actor: EventsRead, code: str) -> Any:
    """One event with its timeline, attachments and assignments."""
    return service.detail(session, _settings(request), actor, code)


@router.post(
    "/{code}/actions",
    response_model=EventRead,
    operation_id="events-act",
    responses=error_responses(
        service.EventNotFound, service.TransitionNotAllowed, service.UnknownAction
    ),
)
def act(request: Request, session: SessionDep, actor: EventsAct, code: str, body: ActionIn) -> Any:
    """Take one lifecycle action; 409 lists the actions allowed from the current status."""
    settings = _settings(request)
    event = service.act(session, settings, actor, code, body)
    return service.to_read(session, settings, event, actor)


@router.post(
    "/{code}/attachments",
    response_model=AttachmentRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="events-attach",
)
def attach(
    request: Request,
    session: SessionDep,
    actor: EventsAct,
    code: str,
    file: Annotated[UploadFile, File()],
    kind: Annotated[AttachmentKind, Form()] = AttachmentKind.photo,
) -> Any:
    """Add a photo (or a before/after photo of on-the-spot resolution) or a PDF."""
    settings = _settings(request)
    event = service.get_event(session, actor, code)
    data = file.file.read(settings.upload_max_bytes + 1)
    return attachments.add(
        session, settings, actor, event, kind=kind, filename=file.filename or "", data=data
    )


@router.get(
    "/{code}/attachments/{attachment_id}",
    operation_id="events-attachment",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "application/pdf": {}}}},
)
def download(
    request: Request, session: SessionDep, actor: EventsRead, code: str, attachment_id: int
) -> Response:
    event = service.get_event(session, actor, code)
    for row in repository.attachments(session, event.id):
        if row.id == attachment_id:
            return Response(
                attachments.read(_settings(request), row),
                media_type=row.content_type,
                headers={"Content-Disposition": "attachment"},
            )
    raise service.EventNotFound("附件不存在")
