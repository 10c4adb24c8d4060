from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from shiyu.config import Settings
from shiyu.dashboard import service
from shiyu.dashboard.permissions import DashboardRead
from shiyu.dashboard.schemas import DashboardLoad, DashboardSummary, MapConfig
from shiyu.db import Database
from shiyu.deps import SessionDep, request_settings
from shiyu.errors import InvalidInput, NotFound, error_responses
from shiyu.jurisdiction.enums import Level

router = APIRouter(prefix="/dashboard", tags=["dashboard"])
#: PUBLIC: the map's tile source, needed by the residents' page too. Holds no data.
public_router = APIRouter(prefix="/public", tags=["public"])

CodeQuery = Annotated[
    str | None,
    Query(pattern=r"^\d{12,23}$", description="辖区编码（默认：本人辖区）；须在本人辖区内"),
]
#: a comment line now and then keeps proxies from closing a quiet stream
HEARTBEAT_SECONDS = 15.0


@router.get(
    "/summary",
    response_model=DashboardSummary,
    operation_id="dashboard-summary",
    responses=error_responses(NotFound),
)
def summary(
    request: Request, session: SessionDep, actor: DashboardRead, jurisdiction: CodeQuery = None
) -> DashboardSummary:
    """今日受理/派遣/结案/超期、三率、30 天趋势、类别与渠道构成、下级单位三率排名。"""
    return service.summary(session, request_settings(request), actor, code=jurisdiction)


@router.get(
    "/load",
    response_model=DashboardLoad,
    operation_id="dashboard-load",
    responses=error_responses(InvalidInput, NotFound),
)
def load(
    session: SessionDep,
    actor: DashboardRead,
    jurisdiction: CodeQuery = None,
    level: Level | None = None,
    limit: Annotated[int, Query(ge=1, le=5000, description="事件点位上限")] = 1000,
) -> DashboardLoad:
    """各下级单位（或指定层级）在办与超期事件数，以及在办事件点位（地图与热力图）。"""
    return service.load(session, actor, code=jurisdiction, level=level, marker_limit=limit)


def _message(kind: str, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _look(db: Database, path: str) -> tuple[object, ...]:
    # a short read session per check: no connection is held while the stream waits
    with db.session(write=False) as session:
        return service.fingerprint(session, path)


async def _changes(
    request: Request,
    db: Database,
    settings: Settings,
    path: str,
    first: tuple[object, ...],
    seconds: float,
) -> AsyncIterator[str]:
    last = first
    yield "retry: 3000\n" + _message("ready", {"at": time.time()})
    started = quiet_since = time.monotonic()
    while time.monotonic() - started < seconds:
        await anyio.sleep(settings.dashboard_check_seconds)
        if await request.is_disconnected():
            return
        current = await anyio.to_thread.run_sync(_look, db, path)
        if current != last:
            last = current
            quiet_since = time.monotonic()
            yield _message("changed", {"at": time.time()})
        elif time.monotonic() - quiet_since > HEARTBEAT_SECONDS:
            quiet_since = time.monotonic()
            yield ": ping\n\n"
    # the page reconnects; a server shutting down cancels the sleep above instead


@router.get(
    "/stream",
    operation_id="dashboard-stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}, **error_responses(NotFound)},
)
def stream(
    request: Request,
    session: SessionDep,
    actor: DashboardRead,
    jurisdiction: CodeQuery = None,
    seconds: Annotated[
        float | None, Query(ge=0, le=3600, description="保持连接的秒数（默认：服务器设置）")
    ] = None,
) -> StreamingResponse:
    """Server-Sent Events: `ready` at once, then `changed` within about two seconds of any
    event in the unit being created or changed. Read it with fetch and the Authorization
    header (no token in the URL)."""
    settings = request_settings(request)
    limit = settings.dashboard_stream_seconds
    seconds = limit if seconds is None else seconds
    path = service.scope_path(session, actor, jurisdiction)
    first = service.fingerprint(session, path)
    db: Database = request.app.state.db
    return StreamingResponse(
        _changes(request, db, settings, path, first, min(seconds, limit)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@public_router.get("/map-config", response_model=MapConfig, operation_id="public-map-config")
def map_config(request: Request) -> MapConfig:
    """The map's tile source (empty: no tiles, a plain background; works offline)."""
    settings = request_settings(request)
    return MapConfig(tile_url=settings.map_tile_url, tile_attribution=settings.map_tile_attribution)
