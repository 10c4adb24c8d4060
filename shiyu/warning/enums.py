from __future__ import annotations

from enum import StrEnum


class WarningKind(StrEnum):
    surge = "surge"  # 事件激增


class WarningStatus(StrEnum):
    open = "open"  # 待处理
    acknowledged = "acknowledged"  # 已确认


class CountModel(StrEnum):
    poisson = "poisson"
    negbin = "negbin"  # negative binomial: the baseline varies more than Poisson allows


class RepeatKind(StrEnum):
    same_reporter = "same_reporter"  # 同一来电人/上报人
    same_place = "same_place"  # 同一地点


#: the category of a surge over all categories of a unit
ALL_CATEGORIES = "*"
