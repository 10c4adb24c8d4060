"""Time limits on a working-day calendar (pure functions; the sweep and the service use them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from shiyu.events.enums import Light

CHINA = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class WorkCalendar:
    """Monday–Friday, minus public holidays, plus weekend make-up days (调休)."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)
    tz: ZoneInfo = CHINA

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The same local time of day on the `days`-th working day after `start`'s date."""
        local = start.astimezone(self.tz)
        day, counted = local.date(), 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        moved = datetime.combine(day, local.timetz())
        return moved.astimezone(start.tzinfo)


@dataclass(frozen=True)
class Limits:
    sign_hours: float
    finish_working_days: int | None
    finish_hours: float | None


def deadlines(start: datetime, limits: Limits, calendar: WorkCalendar) -> tuple[datetime, datetime]:
    """(sign deadline, finish deadline) for a dispatch at `start`."""
    sign = start + timedelta(hours=limits.sign_hours)
    if limits.finish_hours is not None:
        finish = start + timedelta(hours=limits.finish_hours)
    else:
        finish = calendar.add_working_days(start, limits.finish_working_days or 1)
    return sign, finish


def light(
    now: datetime, start: datetime | None, deadline: datetime | None, *, yellow_at: float
) -> Light:
    """Green while under `yellow_at` of the time is used, yellow after, red once overdue."""
    if start is None or deadline is None:
        return Light.none
    if now >= deadline:
        return Light.red
    total = (deadline - start).total_seconds()
    used = (now - start).total_seconds()
    if total <= 0 or used / total >= yellow_at:
        return Light.yellow
    return Light.green
