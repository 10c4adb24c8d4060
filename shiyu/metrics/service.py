"""Unit metrics for a period: counts from SQL aggregates, rates computed here from the counts.

Scoping: a caller sees only events placed inside their jurisdiction (or inside the readable
unit they name), and in the per-department report only departments they may read. So a street
sees how each department performed on that street's events."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from shiyu.auth import service as auth_service
from shiyu.auth.access import Actor
from shiyu.config import Settings
from shiyu.errors import InvalidInput
from shiyu.jurisdiction import service as jurisdictions
from shiyu.jurisdiction.enums import Level
from shiyu.kit.clock import utcnow
from shiyu.metrics import repository
from shiyu.metrics.repository import Counts, Window
from shiyu.metrics.schemas import (
    JurisdictionMetrics,
    JurisdictionMetricsReport,
    MetricCounts,
    MetricFigures,
    MetricRates,
    UnitMetrics,
    UnitMetricsReport,
)

#: Dates and times given without a zone are local (China Standard Time) days and hours.
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
#: Events are placed down to grids: a finer level would only ever show zeros.
FINEST_LEVEL = Level.grid


def _query_error(field: str, msg: str) -> InvalidInput:
    return InvalidInput(msg, details=[{"loc": ["query", field], "msg": msg}])


# ---------------------------------------------------------------- rates (pure)


def _share(numerator: float, denominator: int) -> float | None:
    """A rate rounded to 6 places (no float noise such as 0.7799999999999999); None for 0/0."""
    return None if denominator == 0 else round(numerator / denominator, 6)


def rates(counts: Counts, *, basic_weight: float) -> MetricRates:
    c = counts
    return MetricRates(
        timely_sign_rate=_share(c.signed_on_time, c.due),
        on_time_finish_rate=_share(c.finished_on_time, c.due),
        close_rate=_share(c.closed, c.due),
        rework_rate=_share(c.reworked, c.due),
        overdue_rate=_share(c.overdue, c.due),
        return_rate=_share(c.returns, c.dispatches),
        response_rate=_share(c.contacted, c.callbacks),
        resolution_rate=_share(c.resolved, c.callbacks),
        satisfaction_rate=_share(c.satisfied + basic_weight * c.basically_satisfied, c.callbacks),
    )


def figures(counts: Counts, *, basic_weight: float) -> MetricFigures:
    return MetricFigures(
        counts=MetricCounts(**counts.as_dict()), rates=rates(counts, basic_weight=basic_weight)
    )


def _total(rows: list[Counts]) -> Counts:
    total = Counts()
    for row in rows:
        total.add(row.as_dict())
    return total


# ---------------------------------------------------------------- period and scope


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=LOCAL_TZ) if value.tzinfo is None else value


def window(start: datetime, end: datetime, *, as_of: datetime | None = None) -> Window:
    """The half-open period [start, end); `as_of` (default now) judges still-open events."""
    start, end = _aware(start), _aware(end)
    if end <= start:
        raise _query_error("to", "统计期终点须晚于起点")
    return Window(start=start, end=end, as_of=as_of or utcnow())


def _scope(session: Session, actor: Actor, jurisdiction_code: str | None) -> tuple[str, str, str]:
    """(code, path, level) of the unit to report on: the named one if readable (404 if not),
    else the caller's own jurisdiction."""
    if jurisdiction_code is None:
        return actor.jurisdiction_code, actor.scope_path, actor.level
    unit = jurisdictions.get_readable_unit(session, actor, jurisdiction_code)
    return unit.code, unit.path, unit.level


def _check_level(level: Level, scope_level: str) -> None:
    if level.rank < Level(scope_level).rank or level.rank > FINEST_LEVEL.rank:
        raise _query_error("level", f"统计层级须在“{Level(scope_level).label_zh}”与“网格”之间")


# ---------------------------------------------------------------- reports


def unit_metrics(
    session: Session,
    settings: Settings,
    actor: Actor,
    *,
    start: datetime,
    end: datetime,
    jurisdiction_code: str | None = None,
    as_of: datetime | None = None,
) -> UnitMetricsReport:
    """One row per department the caller may read, over events inside the scope."""
    w = window(start, end, as_of=as_of)
    code, path, _ = _scope(session, actor, jurisdiction_code)
    departments = list(auth_service.list_departments(session, actor))
    counts = repository.by_department(
        session, w, scope_path=path, department_ids=[d.id for d in departments]
    )
    weight = settings.satisfaction_basic_weight
    per_row = [counts.get(d.id, Counts()) for d in departments]
    items = [
        UnitMetrics(
            department_id=d.id,
            department_code=d.code,
            department_name=d.name,
            counts=f.counts,
            rates=f.rates,
        )
        for d, c in zip(departments, per_row, strict=True)
        for f in [figures(c, basic_weight=weight)]
    ]
    return UnitMetricsReport(
        period_from=w.start,
        period_to=w.end,
        as_of=w.as_of,
        scope_code=code,
        satisfaction_basic_weight=weight,
        total=figures(_total(per_row), basic_weight=weight),
        items=items,
    )


def jurisdiction_metrics(
    session: Session,
    settings: Settings,
    actor: Actor,
    *,
    start: datetime,
    end: datetime,
    level: Level = Level.street,
    jurisdiction_code: str | None = None,
    as_of: datetime | None = None,
) -> JurisdictionMetricsReport:
    """One row per jurisdiction unit at `level` inside the scope, over the events placed in
    each unit (whichever department handled them)."""
    w = window(start, end, as_of=as_of)
    code, path, scope_level = _scope(session, actor, jurisdiction_code)
    _check_level(level, scope_level)
    units = repository.units_at_level(session, scope_path=path, level=level.value)
    counts = repository.by_area(session, w, scope_path=path, unit_paths=[u.path for u in units])
    weight = settings.satisfaction_basic_weight
    per_row = [counts.get(u.path, Counts()) for u in units]
    items = [
        JurisdictionMetrics(
            code=u.code,
            name=u.name,
            level=Level(u.level),
            counts=f.counts,
            rates=f.rates,
        )
        for u, c in zip(units, per_row, strict=True)
        for f in [figures(c, basic_weight=weight)]
    ]
    return JurisdictionMetricsReport(
        period_from=w.start,
        period_to=w.end,
        as_of=w.as_of,
        scope_code=code,
        satisfaction_basic_weight=weight,
        level=level,
        total=figures(_total(per_row), basic_weight=weight),
        items=items,
    )
