from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class ReplyScoreRead(BaseModel):
    event_code: str
    title: str
    replied_at: datetime
    #: 0–100 (docs/intelligence.md "Reply quality")
    score: float
    relevance: float
    completeness: float
    timeliness: float
    flagged: bool
    weaknesses: list[str]


class ReplyScorePage(BaseModel):
    items: list[ReplyScoreRead]
