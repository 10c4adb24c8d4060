from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from shiyu.kit.schemas import ORMModel
from shiyu.warning.enums import RepeatKind


class WarningRead(ORMModel):
    id: int
    kind: str = Field(description="surge：事件激增")
    unit_code: str
    unit_level: str
    category_code: str = Field(description="一级分类编码，“*”表示全部分类合计")
    day: date = Field(description="预警日（北京时间）")
    count: int = Field(description="当日事件数")
    baseline_mean: float = Field(description="基线：前 N 日日均数")
    baseline_var: float = Field(description="基线：前 N 日方差")
    baseline_days: int
    model: str = Field(description="poisson 或 negbin（负二项）")
    p_value: float = Field(description="在基线模型下当日数不低于实际数的概率")
    title: str
    status: str
    created_at: datetime
    acknowledged_at: datetime | None
    ack_note: str


class WarningPage(BaseModel):
    total: int
    items: list[WarningRead]


class AcknowledgeIn(BaseModel):
    note: str = Field(default="", max_length=500, description="处理说明")


class SurgeRunReport(BaseModel):
    ran: bool
    days: list[date] = Field(default_factory=list)
    series: int = 0
    surges: int = 0
    created: int = 0
    notified: int = 0
    seconds: float = 0.0


class HotIssueRead(BaseModel):
    rank: int
    score: float = Field(description="热度（docs/intelligence.md）")
    title: str = Field(description="代表性标题：最居中的一条的标题")
    representative: str = Field(description="代表性事件编号（或留言编号）")
    place: str | None = Field(description="最常见的网格或地点")
    first_at: datetime | None
    last_at: datetime | None
    messages: int
    people: int
    places: int
    likes: int
    dislikes: int
    keywords: list[str]
    members: list[str] = Field(description="成员编号（最多 50 个）")


class HotIssueReport(BaseModel):
    start: datetime
    end: datetime
    scope_code: str
    messages: int = Field(description="参与聚类的事件数")
    truncated: bool = Field(description="期间事件超过上限，只聚类了最新的那些")
    items: list[HotIssueRead]


class RepeatRead(BaseModel):
    kind: RepeatKind
    event_code: str = Field(description="后一次诉求")
    title: str
    reported_at: datetime
    previous_codes: list[str] = Field(description="此前相似的诉求（窗口内）")
    similarity: float = Field(description="与最相似的一条的文本相似度")
    grid_code: str | None


class RepeatReport(BaseModel):
    start: datetime
    end: datetime
    scope_code: str
    truncated: bool
    items: list[RepeatRead]
