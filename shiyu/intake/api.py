"""Public intake for residents (no account): report, follow, rate. Rate-limited per phone
and per address; the same 404 for an unknown code and a wrong phone."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile, status

from shiyu.deps import IntakeWriterDep, SessionDep, request_settings
from shiyu.events import repository
from shiyu.events.schemas import (
    AttachmentRead,
    CategoryRead,
    PublicEventView,
    ResidentRating,
    ResidentReceipt,
    ResidentReport,
)
from shiyu.intake import resident

#: PUBLIC: no token. Every route here must validate and rate-limit on its own.
public_router = APIRouter(prefix="/public", tags=["public"])

PHONE = r"^\+?[0-9][0-9\- ]{4,19}$"


@public_router.post(
    "/events",
    response_model=ResidentReceipt,
    status_code=status.HTTP_201_CREATED,
    operation_id="public-report",
)
async def report(request: Request, writer: IntakeWriterDep, body: ResidentReport) -> Any:
    """A resident reports a problem; the answer carries the event code to follow it."""
    settings = request_settings(request)
    code, state = await writer.run_batched(
        resident.RESIDENT_REPORTS, resident.ResidentJob.of(settings, body)
    )
    return {
        "code": code,
        "status": state,
        "message": f"已受理，编号 {code}，请凭编号和手机号查询办理进度。",
    }


@public_router.get("/events/{code}", response_model=PublicEventView, operation_id="public-follow")
def follow(
    request: Request,
    session: SessionDep,
    code: str,
    phone: Annotated[str, Query(pattern=PHONE)],
) -> Any:
    """Follow an event by its code and the phone number it was reported with."""
    return resident.view(session, request_settings(request), code, phone)


@public_router.post(
    "/events/{code}/rating", response_model=PublicEventView, operation_id="public-rate"
)
def rate(request: Request, session: SessionDep, code: str, body: ResidentRating) -> Any:
    """Rate the result once the event is closed; '不满意' sends it back to be handled again."""
    settings = request_settings(request)
    resident.rate(session, settings, code, body)
    return resident.view(session, settings, code, body.phone)


@public_router.get(
    "/categories", response_model=list[CategoryRead], operation_id="public-categories"
)
def categories(session: SessionDep) -> Any:
    return [c for c in repository.categories(session) if c.is_active]


@public_router.post(
    "/events/{code}/photos",
    response_model=AttachmentRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="public-photo",
)
def add_photo(
    request: Request,
    session: SessionDep,
    code: str,
    phone: Annotated[str, Form(pattern=PHONE)],
    file: Annotated[UploadFile, File()],
) -> Any:
    """A photo of one's own report (code + phone), while it waits to be accepted."""
    settings = request_settings(request)
    data = file.file.read(settings.upload_max_bytes + 1)
    return resident.add_photo(
        session, settings, code, phone, filename=file.filename or "", data=data
    )
