from __future__ import annotations

from enum import StrEnum


class ReportPeriod(StrEnum):
    day = "day"
    week = "week"
    quarter = "quarter"

    @property
    def label_zh(self) -> str:
        return {"day": "日报", "week": "周报", "quarter": "季报"}[self.value]


class ReportFormat(StrEnum):
    html = "html"
    pdf = "pdf"
