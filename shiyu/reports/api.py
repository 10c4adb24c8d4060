from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from shiyu.deps import SessionDep, request_settings
from shiyu.errors import InvalidInput, NotFound, error_responses
from shiyu.reports import render, service
from shiyu.reports.enums import ReportFormat, ReportPeriod
from shiyu.reports.permissions import ReportsRead

router = APIRouter(prefix="/reports", tags=["reports"])


@router.get(
    "/analysis",
    operation_id="reports-analysis",
    response_class=Response,
    responses={
        200: {"content": {"text/html": {}, "application/pdf": {}}, "description": "研判报告"},
        **error_responses(InvalidInput, NotFound, service.PdfUnavailable),
    },
)
def analysis(
    request: Request,
    session: SessionDep,
    actor: ReportsRead,
    period: ReportPeriod,
    jurisdiction: Annotated[
        str | None, Query(pattern=r"^\d{12,23}$", description="辖区编码（默认本人辖区）")
    ] = None,
    date: Annotated[
        str | None, Query(description="报告期内的任一天（YYYY-MM-DD），默认昨天")
    ] = None,
    format: ReportFormat = ReportFormat.html,
) -> Response:
    """研判报告（日报、周报、季报）：诉求量与趋势、主要类别、热点问题、激增预警、超期单位与三率。"""
    report = service.build(
        session,
        request_settings(request),
        actor,
        period=period,
        jurisdiction_code=jurisdiction,
        day=service.parse_day(date),
    )
    html_text = render.render_html(report)
    if format is ReportFormat.pdf:
        return Response(service.to_pdf(html_text), media_type="application/pdf")
    return Response(html_text, media_type="text/html; charset=utf-8")
