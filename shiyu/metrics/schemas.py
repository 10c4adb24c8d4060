"""The metrics reports. Every rate is a share between 0 and 1 (null when its denominator is 0);
docs/metrics.md gives the exact definition of every count."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from shiyu.jurisdiction.enums import Level


class MetricCounts(BaseModel):
    due: int = Field(description="应签收 = 应结案：期内派遣给该单位、未退回/挂账/作废/合并的事件")
    signed: int = Field(description="已签收（应结案中）")
    signed_on_time: int = Field(description="及时签收（签收期限内签收）")
    replied: int = Field(description="已办结反馈（应结案中）")
    finished_on_time: int = Field(description="按期办结（办理期限内办结反馈）")
    closed: int = Field(description="已结案（应结案中）")
    reworked: int = Field(description="返工过（核查不通过至少一次）")
    overdue: int = Field(description="超期：逾期办结，或截至统计时点仍未办结且已过期限")
    dispatches: int = Field(description="期内派遣次数（派遣 + 审定派遣，按流转记录）")
    returns: int = Field(description="期内退单次数（按流转记录）")
    callbacks: int = Field(description="有效回访：期内回访、回访结果已填写")
    contacted: int = Field(description="回访中已联系")
    resolved: int = Field(description="回访中已解决")
    satisfied: int = Field(description="回访中满意")
    basically_satisfied: int = Field(description="回访中基本满意")
    dissatisfied: int = Field(description="回访中不满意")


class MetricRates(BaseModel):
    timely_sign_rate: float | None = Field(description="及时签收率 = 及时签收 / 应签收")
    on_time_finish_rate: float | None = Field(description="按期办结率 = 按期办结 / 应结案")
    close_rate: float | None = Field(description="结案率 = 结案 / 应结案")
    rework_rate: float | None = Field(description="返工率 = 返工 / 应结案")
    overdue_rate: float | None = Field(description="超期率 = 超期 / 应结案")
    return_rate: float | None = Field(description="退单率 = 退单次数 / 派遣次数")
    response_rate: float | None = Field(description="响应率 = 已联系 / 有效回访")
    resolution_rate: float | None = Field(description="解决率 = 已解决 / 有效回访")
    satisfaction_rate: float | None = Field(
        description="满意率 = (满意 + 权重 × 基本满意) / 有效回访"
    )


class MetricFigures(BaseModel):
    counts: MetricCounts
    rates: MetricRates


class UnitMetrics(MetricFigures):
    department_id: int
    department_code: str
    department_name: str


class JurisdictionMetrics(MetricFigures):
    code: str
    name: str
    level: Level


class _Report(BaseModel):
    period_from: datetime = Field(description="统计期起点（含）")
    period_to: datetime = Field(description="统计期终点（不含）")
    as_of: datetime = Field(description="统计时点：判断“仍未办结且已超期”的时刻")
    scope_code: str = Field(description="统计范围（辖区编码）")
    satisfaction_basic_weight: float = Field(description="满意率中“基本满意”的权重")
    total: MetricFigures = Field(description="合计（各行之和）")


class UnitMetricsReport(_Report):
    items: list[UnitMetrics]


class JurisdictionMetricsReport(_Report):
    level: Level
    items: list[JurisdictionMetrics]
