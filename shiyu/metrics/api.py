from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from shiyu.deps import SessionDep, request_settings
from shiyu.errors import InvalidInput, NotFound, error_responses
from shiyu.jurisdiction.enums import Level
from shiyu.kit.schemas import QueryDateTime
from shiyu.metrics import service
from shiyu.metrics.permissions import MetricsRead
from shiyu.metrics.schemas import JurisdictionMetricsReport, UnitMetricsReport

router = APIRouter(prefix="/metrics", tags=["metrics"])

CODE = r"^\d{12,23}$"
FromQuery = Annotated[
    QueryDateTime,
    Query(alias="from", description="统计期起点（含）；不带时区按北京时间，如 2025-03-01"),
]
ToQuery = Annotated[QueryDateTime, Query(description="统计期终点（不含），如 2025-04-01")]
CodeQuery = Annotated[
    str | None, Query(pattern=CODE, description="只统计该辖区内的事件（默认：本人辖区）")
]


@router.get(
    "/units",
    response_model=UnitMetricsReport,
    operation_id="metrics-units",
    responses=error_responses(InvalidInput, NotFound),
)
def units(
    request: Request,
    session: SessionDep,
    actor: MetricsRead,
    from_: FromQuery,
    to: ToQuery,
    jurisdiction_code: CodeQuery = None,
) -> UnitMetricsReport:
    """各职能部门考核指标：及时签收率、按期办结率、结案率、返工率、超期率、退单率与三率
    (docs/metrics.md)。"""
    return service.unit_metrics(
        session,
        request_settings(request),
        actor,
        start=from_,
        end=to,
        jurisdiction_code=jurisdiction_code,
    )


@router.get(
    "/jurisdictions",
    response_model=JurisdictionMetricsReport,
    operation_id="metrics-jurisdictions",
    responses=error_responses(InvalidInput, NotFound),
)
def jurisdictions(
    request: Request,
    session: SessionDep,
    actor: MetricsRead,
    from_: FromQuery,
    to: ToQuery,
    level: Level = Level.street,
    jurisdiction_code: CodeQuery = None,
) -> JurisdictionMetricsReport:
    """各辖区（按层级）考核指标，按事件所在位置归属 (docs/metrics.md)。"""
    return service.jurisdiction_metrics(
        session,
        request_settings(request),
        actor,
        start=from_,
        end=to,
        level=level,
        jurisdiction_code=jurisdiction_code,
    )
