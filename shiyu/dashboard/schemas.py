"""What the command centre shows. Every count is over events placed inside the scope unit."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from shiyu.jurisdiction.enums import Level


class ScopeRead(BaseModel):
    code: str
    name: str
    level: Level


class TodayFigures(BaseModel):
    received: int = Field(description="今日受理：今日（北京时间）上报的事件")
    dispatched: int = Field(description="今日派遣：今日派遣（交办）的事件")
    closed: int = Field(description="今日结案")
    overdue: int = Field(description="当前超期：红灯，或处置中已过办理期限")
    open: int = Field(description="当前在办（未结案、未作废、未挂账）")


class ThreeRates(BaseModel):
    """三率 over the period's callbacks (docs/metrics.md); null when there were none."""

    response_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None
    callbacks: int = Field(description="有效回访数")


class TrendPoint(BaseModel):
    day: date
    received: int
    closed: int


class Share(BaseModel):
    key: str
    name: str
    count: int


class UnitRates(ThreeRates):
    code: str
    name: str


class DashboardSummary(BaseModel):
    scope: ScopeRead
    child_level: Level | None = Field(description="下钻层级（网格为最细，无下级时为 null）")
    generated_at: datetime
    period_days: int = Field(description="趋势、构成与排名的统计天数")
    today: TodayFigures
    rates: ThreeRates = Field(description="统计期内三率（响应率、解决率、满意率）")
    trend: list[TrendPoint]
    categories: list[Share]
    channels: list[Share]
    ranking: list[UnitRates] = Field(description="下级单位按满意率、解决率、响应率排序")


class UnitLoad(BaseModel):
    code: str
    name: str
    open: int
    overdue: int


class Marker(BaseModel):
    code: str
    title: str
    status: str
    light: str
    urgency: str
    lng: float
    lat: float


class DashboardLoad(BaseModel):
    scope_code: str
    level: Level
    max_open: int = Field(description="各单位在办数的最大值（着色刻度）")
    items: list[UnitLoad]
    markers: list[Marker] = Field(description="在办事件的位置（最多 limit 个，最新的优先）")
    markers_truncated: bool


class MapConfig(BaseModel):
    tile_url: str = Field(description="底图瓦片地址；空：离线，不加载底图")
    tile_attribution: str
    centre: list[float] | None = Field(
        default=None, description="[lng, lat]：全市范围中心，地图默认视野（无辖区数据时为 null）"
    )
