"""Routes of the sensor and video alarm intake: the signed webhook (public: the signature is
the authentication) and the admin API for alarm sources."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response, status

from shiyu.auth.access import Actor, define, requires
from shiyu.deps import SessionDep, request_settings
from shiyu.errors import ShiyuError, error_responses
from shiyu.intake import sensors
from shiyu.intake.sensor_models import SensorSource
from shiyu.intake.sensor_schemas import (
    AlarmIn,
    AlarmReceipt,
    RotateIn,
    SourceCreate,
    SourceRead,
    SourceUpdate,
    SourceWithSecret,
)
from shiyu.jurisdiction.service import UnitNotFound

SENSOR_MANAGE = define("sensor:manage", "管理物联感知与视频告警来源", roles=set())
SensorsManage = Annotated[Actor, requires(SENSOR_MANAGE)]

#: Read before the signature is checked, so it is bounded; alarms are small JSON objects.
MAX_ALARM_BYTES = 64 * 1024


class PayloadTooLarge(ShiyuError):
    status_code = 413
    code = "sensor.payload_too_large"
    message = "告警内容过大"


async def _raw_body(request: Request) -> bytes:
    """The exact bytes that were signed (a parsed and re-serialised body would not match)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_ALARM_BYTES:
        raise PayloadTooLarge()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_ALARM_BYTES:
            raise PayloadTooLarge()
    return bytes(body)


# ---------------------------------------------------------------- webhook

#: PUBLIC: no token. The HMAC signature of each source authenticates the request; nothing
#: is stored before it is checked.
public_router = APIRouter(prefix="/intake", tags=["intake"])


@public_router.post(
    "/alarms/{source_code}",
    response_model=AlarmReceipt,
    status_code=status.HTTP_201_CREATED,
    operation_id="intake-receive-alarm",
    responses={
        200: {"model": AlarmReceipt, "description": "重复告警：返回已有事件"},
        **error_responses(sensors.AlarmUnauthorized, PayloadTooLarge),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": AlarmIn.model_json_schema()}},
        }
    },
)
def receive_alarm(
    request: Request,
    response: Response,
    session: SessionDep,
    source_code: str,
    body: Annotated[bytes, Depends(_raw_body)],
    timestamp: Annotated[str | None, Header(alias=sensors.TIMESTAMP_HEADER)] = None,
    signature: Annotated[str | None, Header(alias=sensors.SIGNATURE_HEADER)] = None,
) -> Any:
    """A sensor or video alarm, signed with the source's secret (see the headers). A repeated
    alarm_id answers 200 with the event already made for it and `duplicate: true`."""
    event, created = sensors.receive(
        session,
        request_settings(request),
        source_code=source_code,
        timestamp=timestamp,
        signature=signature,
        body=body,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return {"code": event.code, "status": event.status, "duplicate": not created}


# ---------------------------------------------------------------- sources (admin)

router = APIRouter(prefix="/intake/alarm-sources", tags=["intake"])


def _with_secret(source: SensorSource, secret: str) -> dict[str, Any]:
    return {
        **SourceRead.model_validate(source).model_dump(),
        "secret": secret,
        "webhook_path": f"/api/v1/intake/alarms/{source.code}",
        "signing": sensors.SIGNING_HELP,
    }


@router.get("", response_model=list[SourceRead], operation_id="intake-list-alarm-sources")
def list_sources(session: SessionDep, actor: SensorsManage) -> Any:
    """Alarm sources whose receiving unit lies in the caller's jurisdiction."""
    return sensors.list_sources(session, actor)


@router.post(
    "",
    response_model=SourceWithSecret,
    status_code=status.HTTP_201_CREATED,
    operation_id="intake-create-alarm-source",
    responses=error_responses(UnitNotFound),
)
def create_source(
    request: Request, session: SessionDep, actor: SensorsManage, body: SourceCreate
) -> Any:
    """Register a source; the answer holds its signing secret, which is never shown again."""
    source, secret = sensors.create_source(session, request_settings(request), actor, body)
    return _with_secret(source, secret)


@router.get(
    "/{code}",
    response_model=SourceRead,
    operation_id="intake-get-alarm-source",
    responses=error_responses(sensors.SourceNotFound),
)
def get_source(session: SessionDep, actor: SensorsManage, code: str) -> Any:
    return sensors.get_source(session, actor, code)


@router.patch(
    "/{code}",
    response_model=SourceRead,
    operation_id="intake-update-alarm-source",
    responses=error_responses(sensors.SourceNotFound),
)
def update_source(session: SessionDep, actor: SensorsManage, code: str, body: SourceUpdate) -> Any:
    """Change the name, receiving unit, type mapping (replaced whole) or switch it off."""
    return sensors.update_source(session, actor, code, body)


@router.post(
    "/{code}/rotate-secret",
    response_model=SourceWithSecret,
    operation_id="intake-rotate-alarm-source-secret",
    responses=error_responses(sensors.SourceNotFound),
)
def rotate_secret(
    request: Request,
    session: SessionDep,
    actor: SensorsManage,
    code: str,
    body: RotateIn | None = None,
) -> Any:
    """A new secret; the old one keeps working for `grace_minutes` (default 60)."""
    grace = (body or RotateIn()).grace_minutes
    source, secret = sensors.rotate_secret(
        session, request_settings(request), actor, code, grace_minutes=grace
    )
    return _with_secret(source, secret)
