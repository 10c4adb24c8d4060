from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class DuplicateRead(BaseModel):
    candidate_code: str
    title: str
    status: str
    reported_at: datetime
    grid_code: str | None
    #: 3-gram Jaccard similarity of the two texts (0–1)
    score: float
    same_grid: bool | None
    distance_m: float | None
    hours_apart: float
    #: suggested, rejected or merged
    decision: str
    decided_at: datetime | None
    reason: str


class DuplicateList(BaseModel):
    code: str
    items: list[DuplicateRead]


class RejectIn(BaseModel):
    reason: str = Field(default="", max_length=500)


class DecisionRead(BaseModel):
    code: str
    candidate_code: str
    decision: str
