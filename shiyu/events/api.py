from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Annotated, Any
from urllib.parse import quote

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    Header,
    Query,
    Request,
    Response,
    UploadFile,
    status,
)
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from shiyu.auth.access import Actor
from shiyu.deps import IntakeWriterDep, SessionDep, request_settings
from shiyu.errors import InvalidInput, error_responses
from shiyu.events import attachments, export, repository, service
from shiyu.events.deadlines import CHINA
from shiyu.events.enums import AttachmentKind, Channel, Light, Status, Urgency
from shiyu.events.permissions import EventsAct, EventsCreate, EventsExport, EventsRead
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
from shiyu.kit.schemas import QueryBool, QueryDateTime

router = APIRouter(prefix="/events", tags=["events"])


class TodoOut(BaseModel):
    #: per status over the to-do list with every filter but `status` (badges of status tabs)
    counts: dict[str, int]
    #: red and yellow lights over the filtered to-do list
    lights: dict[str, int]
    items: list[EventRead]
    next_cursor: str | None = None


@dataclass(frozen=True)
class ListParams:
    """The filters shared by the list, the to-do list and the export."""

    status: list[Status] | None
    category_code: str | None
    channel: Channel | None
    urgency: Urgency | None
    jurisdiction_code: str | None
    reported_from: datetime | None
    reported_to: datetime | None
    overdue: bool | None
    light: Light | None
    department_id: int | None
    q: str | None


def list_params(
    status_: Annotated[
        list[Status] | None, Query(alias="status", description="any of these statuses")
    ] = None,
    category_code: Annotated[
        str | None, Query(max_length=32, description="a category or its subcategories")
    ] = None,
    channel: Channel | None = None,
    urgency: Urgency | None = None,
    jurisdiction_code: Annotated[
        str | None, Query(pattern=r"^\d{12,23}$", description="this unit and everything below")
    ] = None,
    reported_from: Annotated[
        QueryDateTime | None, Query(description="inclusive; without a zone: China time")
    ] = None,
    reported_to: Annotated[
        QueryDateTime | None, Query(description="exclusive; without a zone: China time")
    ] = None,
    overdue: Annotated[
        QueryBool | None, Query(description="past the finish deadline (red light)")
    ] = None,
    light: Light | None = None,
    department_id: Annotated[int | None, Query(ge=1, description="lead department")] = None,
    q: Annotated[
        str | None,
        Query(max_length=100, description="words in the title, description or address (all)"),
    ] = None,
) -> ListParams:
    return ListParams(
        status=status_,
        category_code=category_code,
        channel=channel,
        urgency=urgency,
        jurisdiction_code=jurisdiction_code,
        reported_from=_china_if_naive(reported_from),
        reported_to=_china_if_naive(reported_to),
        overdue=overdue,
        light=light,
        department_id=department_id,
        q=q,
    )


ListParamsDep = Annotated[ListParams, Depends(list_params)]
SortParam = Annotated[repository.ListSort, Query(description="order of the rows")]


def _china_if_naive(stamp: datetime | None) -> datetime | None:
    return stamp.replace(tzinfo=CHINA) if stamp and stamp.tzinfo is None else stamp


def _list_filter(session: Session, actor: Actor, params: ListParams) -> repository.ListFilter:
    """Checks the parameters that depend on each other or on the caller's jurisdiction."""
    if params.reported_from and params.reported_to and params.reported_from > params.reported_to:
        raise InvalidInput(
            "上报时间的结束不能早于开始",
            details=[{"loc": ["query", "reported_to"], "msg": "before reported_from"}],
        )
    path = None
    if params.jurisdiction_code:
        path = jurisdictions.get_readable_unit(session, actor, params.jurisdiction_code).path
    return repository.ListFilter(
        status=[s.value for s in params.status] if params.status else None,
        category_code=params.category_code,
        channel=params.channel.value if params.channel else None,
        urgency=params.urgency.value if params.urgency else None,
        jurisdiction_path=path,
        reported_from=params.reported_from,
        reported_to=params.reported_to,
        overdue=params.overdue,
        light=params.light.value if params.light else None,
        department_id=params.department_id,
        q=params.q,
    )


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=r"^[A-Za-z0-9_.:-]{8,100}$",
        description="客户端生成的唯一键（8–100 位字母、数字或 _.:-），重复提交只建一件事件",
    ),
]


@router.post(
    "",
    response_model=EventRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="events-create",
    responses={200: {"model": EventRead, "description": "同一 Idempotency-Key 的重复提交"}},
)
async def create_event(
    request: Request,
    response: Response,
    writer: IntakeWriterDep,
    actor: EventsCreate,
    body: EventCreate,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Report an event (grid patrol, department, or a call typed in by the hotline centre).
    The grid is found from the location; the receiving centre owns it until dispatch.

    With an `Idempotency-Key` header (a phone's offline queue, any client that retries), the
    same key from the same user creates one event: a repeat answers 200 with that event."""
    settings = request_settings(request)
    owner = actor.jurisdiction_code if "dispatcher" in actor.roles else None
    # the header (any client that retries) or the body's client_key (the grid worker's
    # offline queue) make the report idempotent per user
    key = idempotency_key or body.client_key
    data = IntakeData(
        **body.model_dump(exclude={"channel", "client_key"}),
        channel=Channel(body.channel),
        owner_code=owner,
        source=f"staff:{actor.user_id}" if key else None,
        external_id=key,
    )
    read, created = await writer.run_batched(
        service.STAFF_REPORTS, service.StaffReport(settings, data, actor, service.prepare(data))
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return read


@router.get(
    "",
    response_model=EventPage,
    operation_id="events-list",
    responses=error_responses(repository.InvalidCursor),
)
def list_events(
    request: Request,
    session: SessionDep,
    actor: EventsRead,
    params: ListParamsDep,
    sort: SortParam = repository.ListSort.reported_at,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
    with_total: QueryBool = False,
) -> Any:
    """Events the caller may see, filtered and sorted, with cursor pagination (a cursor only
    works with the sort it was made for)."""
    flt = _list_filter(session, actor, params)
    rows, next_cursor, total = service.list_events(
        session, actor, flt, sort=sort, cursor=cursor, size=size, with_total=with_total
    )
    settings = request_settings(request)
    return {
        "items": [service.to_read(session, settings, e, actor) for e in rows],
        "next_cursor": next_cursor,
        "total": total,
    }


@router.get(
    "/todo",
    response_model=TodoOut,
    operation_id="events-todo",
    responses=error_responses(repository.InvalidCursor),
)
def todo(
    request: Request,
    session: SessionDep,
    actor: EventsRead,
    params: ListParamsDep,
    sort: SortParam = repository.ListSort.reported_at_asc,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    """我的待办: what waits for the caller (their centre, department or grid), oldest first,
    with counts per status and per light and the list filters."""
    flt = _list_filter(session, actor, params)
    result = service.todo_page(session, actor, flt, sort=sort, cursor=cursor, size=size)
    settings = request_settings(request)
    return {
        "counts": result.counts,
        "lights": result.lights,
        "items": [service.to_read(session, settings, e, actor) for e in result.items],
        "next_cursor": result.next_cursor,
    }


@router.get(
    "/export.xlsx",
    operation_id="events-export",
    response_class=StreamingResponse,
    responses={
        200: {"content": {export.MEDIA_TYPE: {}}, "description": "Excel 工作簿"},
        **error_responses(export.ExportTooLarge),
    },
)
def export_events(
    request: Request,
    session: SessionDep,
    actor: EventsExport,
    params: ListParamsDep,
    sort: SortParam = repository.ListSort.reported_at,
) -> StreamingResponse:
    """The filtered list as an Excel workbook (Chinese headers, reporters masked as in the
    list); more rows than the export limit: 422."""
    flt = _list_filter(session, actor, params)
    out = export.write_xlsx(session, request_settings(request), actor, flt, sort=sort)
    name = export.filename()
    disposition = f"attachment; filename=\"events.xlsx\"; filename*=UTF-8''{quote(name)}"
    return StreamingResponse(
        _chunks(out), media_type=export.MEDIA_TYPE, headers={"Content-Disposition": disposition}
    )


def _chunks(out: IO[bytes], size: int = 64 * 1024) -> Iterator[bytes]:
    try:
        while chunk := out.read(size):
            yield chunk
    finally:
        out.close()


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
    return service.detail(session, request_settings(request), actor, code)


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
    settings = request_settings(request)
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
    settings = request_settings(request)
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
                attachments.read(request_settings(request), row),
                media_type=row.content_type,
                headers={"Content-Disposition": "attachment"},
            )
    raise service.EventNotFound("附件不存在")
