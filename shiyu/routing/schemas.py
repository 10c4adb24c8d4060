from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, StrictBool


class Basis(StrEnum):
    territory = "territory"  # 属地
    owner = "owner"  # 权属 (主管/养护单位)
    fallback = "fallback"  # 兜底 (a rule without category)


class RuleIn(BaseModel):
    category_code: str | None = Field(
        default=None, max_length=32, description="NULL: the area's fallback (兜底) rule"
    )
    area_code: str | None = Field(
        default=None, max_length=32, description="jurisdiction whose subtree the rule covers"
    )
    basis: Basis = Basis.territory
    department_id: int
    note: str = Field(default="", max_length=200)


class RuleUpdate(BaseModel):
    department_id: int | None = None
    basis: Basis | None = None
    note: str | None = Field(default=None, max_length=200)
    is_active: StrictBool | None = None


class RuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    category_code: str | None
    area_code: str | None
    level: str
    basis: str
    department_id: int
    note: str
    is_active: bool
    updated_at: datetime


class CategoryDecision(BaseModel):
    category_code: str = Field(min_length=1, max_length=32)


class RouteQuery(BaseModel):
    category_code: str = Field(min_length=1, max_length=32)
    place_code: str = Field(min_length=1, max_length=32, description="grid or any unit")


class RouteRead(BaseModel):
    department_id: int | None
    department_name: str | None
    basis: str | None
    rule_id: int | None
    #: why: the rules tried in order (category, area, basis)
    explanation: str


class TopClass(BaseModel):
    label: str
    category_code: str | None
    probability: float


class SuggestionRead(BaseModel):
    """The intake suggestion shown to the dispatcher with the event."""

    model_config = ConfigDict(from_attributes=True)

    suggested_category: str | None
    #: the catalogue's name of the suggested category, for people (the code is for machines)
    suggested_category_name: str | None = None
    label: str
    confidence: float
    top: list[TopClass]
    suggested_department_id: int | None
    suggested_department_name: str | None = None
    route_basis: str | None
    model_id: int | None
    auto_dispatched: bool
    created_at: datetime
    decided_category: str | None = None
    decided_department_id: int | None = None
    decided_at: datetime | None = None


class WeekAccuracy(BaseModel):
    week: str = Field(description="ISO week of the decisions, e.g. 2026-W47")
    week_start: str
    decided: int
    category_correct: int
    department_correct: int
    both_correct: int
    category_accuracy: float | None
    department_accuracy: float | None
    auto_dispatched: int


class AccuracyReport(BaseModel):
    weeks: list[WeekAccuracy]
    decided: int
    category_accuracy: float | None
    department_accuracy: float | None
