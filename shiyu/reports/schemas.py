"""The content of an analysis report, independent of how it is rendered (HTML, PDF)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from shiyu.reports.enums import ReportPeriod
from shiyu.warning.schemas import HotIssueRead


class CategoryRow(BaseModel):
    code: str
    name: str
    count: int
    previous: int


class SurgeRow(BaseModel):
    day: date
    title: str
    count: int
    baseline_mean: float
    p_value: float
    status: str


class OverdueRow(BaseModel):
    name: str
    due: int
    overdue: int
    overdue_rate: float | None


class Rates(BaseModel):
    callbacks: int
    response_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None


class AnalysisReport(BaseModel):
    title: str
    period: ReportPeriod
    scope_code: str
    scope_name: str
    start: date
    end: date  # inclusive last day
    previous_start: date
    previous_end: date
    generated_at: datetime
    total: int
    previous_total: int
    #: daily counts of the chart: x labels and the two series (this period, previous one)
    chart_labels: list[str]
    chart_current: list[int]
    chart_previous: list[int]
    chart_current_name: str
    chart_previous_name: str
    categories: list[CategoryRow]
    hot_issues: list[HotIssueRead]
    hot_truncated: bool
    surges: list[SurgeRow]
    overdue_departments: list[OverdueRow]
    overdue_units: list[OverdueRow]
    rates: Rates
    previous_rates: Rates
