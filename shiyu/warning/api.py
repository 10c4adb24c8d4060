from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from shiyu.deps import SessionDep, request_settings
from shiyu.errors import InvalidInput, NotFound, error_responses
from shiyu.jurisdiction.enums import Level
from shiyu.kit.schemas import QueryDate, QueryDateTime
from shiyu.warning import service
from shiyu.warning.enums import RepeatKind, WarningKind, WarningStatus
from shiyu.warning.permissions import WarningsAck, WarningsRead
from shiyu.warning.repository import WarningFilter
from shiyu.warning.schemas import (
    AcknowledgeIn,
    HotIssueReport,
    RepeatReport,
    WarningPage,
    WarningRead,
)

router = APIRouter(prefix="/warnings", tags=["warnings"])

CODE = r"^\d{12,23}$"
CodeQuery = Annotated[
    str | None, Query(pattern=CODE, description="只看该辖区（须在本人辖区内；默认本人辖区）")
]
StartQuery = Annotated[
    QueryDateTime | None, Query(description="起点（含）；不带时区按北京时间，如 2025-03-01")
]
EndQuery = Annotated[QueryDateTime | None, Query(description="终点（不含）；默认当前时刻")]


@router.get(
    "",
    response_model=WarningPage,
    operation_id="warnings-list",
    responses=error_responses(InvalidInput, NotFound),
)
def list_warnings(
    session: SessionDep,
    actor: WarningsRead,
    jurisdiction: CodeQuery = None,
    status: WarningStatus | None = None,
    kind: WarningKind | None = None,
    level: Level | None = None,
    category_code: Annotated[str | None, Query(max_length=32)] = None,
    day_from: QueryDate | None = None,
    day_to: QueryDate | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> WarningPage:
    """本人辖区内的预警（事件激增），按预警日倒序、显著性排序。"""
    f = WarningFilter(
        status=status.value if status else None,
        kind=kind.value if kind else None,
        level=level.value if level else None,
        category_code=category_code,
        day_from=day_from,
        day_to=day_to,
    )
    rows, total = service.list_warnings(
        session, actor, f, jurisdiction_code=jurisdiction, limit=limit, offset=offset
    )
    return WarningPage(total=total, items=[WarningRead.model_validate(r) for r in rows])


@router.get(
    "/hot-issues",
    response_model=HotIssueReport,
    operation_id="warnings-hot-issues",
    responses=error_responses(InvalidInput, NotFound),
)
def hot_issues(
    request: Request,
    session: SessionDep,
    actor: WarningsRead,
    start: StartQuery = None,
    end: EndQuery = None,
    jurisdiction: CodeQuery = None,
    top: Annotated[int, Query(ge=1, le=100)] = 10,
) -> HotIssueReport:
    """期间热点问题：相似诉求聚类，按数量、人数、地点分布与支持度排序（默认近 30 天）。"""
    return service.hot_issues(
        session,
        request_settings(request),
        actor,
        start=start,
        end=end,
        jurisdiction_code=jurisdiction,
        top=top,
    )


@router.get(
    "/repeats",
    response_model=RepeatReport,
    operation_id="warnings-repeats",
    responses=error_responses(InvalidInput, NotFound),
)
def repeats(
    request: Request,
    session: SessionDep,
    actor: WarningsRead,
    start: StartQuery = None,
    end: EndQuery = None,
    jurisdiction: CodeQuery = None,
    kind: RepeatKind | None = None,
) -> RepeatReport:
    """重复投诉：同一诉求人或同一地点、内容相似的再次诉求（默认近 7 天）。"""
    return service.repeats(
        session,
        request_settings(request),
        actor,
        start=start,
        end=end,
        jurisdiction_code=jurisdiction,
        kind=kind,
    )


@router.post(
    "/{warning_id}/acknowledge",
    response_model=WarningRead,
    operation_id="warnings-acknowledge",
    responses=error_responses(NotFound, service.AlreadyAcknowledged),
)
def acknowledge(
    session: SessionDep, actor: WarningsAck, warning_id: int, body: AcknowledgeIn
) -> WarningRead:
    """确认预警（已研判）；同一预警只能确认一次（409）。"""
    warning = service.acknowledge(session, actor, warning_id, note=body.note)
    return WarningRead.model_validate(warning)
