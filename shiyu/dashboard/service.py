"""The command centre's figures for one readable unit (the caller's jurisdiction by default).
The three rates and the unit ranking come from the metrics service (one definition)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from shiyu.auth.access import Actor
from shiyu.config import Settings
from shiyu.dashboard import repository
from shiyu.dashboard.schemas import (
    DashboardLoad,
    DashboardSummary,
    Marker,
    ScopeRead,
    Share,
    ThreeRates,
    TodayFigures,
    TrendPoint,
    UnitLoad,
    UnitRates,
)
from shiyu.errors import InvalidInput
from shiyu.events.models import Event
from shiyu.jurisdiction import service as jurisdictions
from shiyu.jurisdiction.enums import Level
from shiyu.kit.clock import utcnow
from shiyu.metrics import service as metrics
from shiyu.metrics.schemas import MetricFigures
from shiyu.metrics.service import FINEST_LEVEL, LOCAL_TZ

#: Trends, breakdowns and the ranking look back this many local days (today included).
PERIOD_DAYS = 30


def child_level(level: Level) -> Level | None:
    """The level a click on the map drills down to; grids are the finest."""
    if level.rank >= FINEST_LEVEL.rank:
        return None
    return list(Level)[level.rank + 1]


def _scope(session: Session, actor: Actor, code: str | None) -> ScopeRead:
    unit = jurisdictions.get_readable_unit(session, actor, code or actor.jurisdiction_code)
    return ScopeRead(code=unit.code, name=unit.name, level=Level(unit.level))


def _path(session: Session, actor: Actor, code: str) -> str:
    return jurisdictions.get_readable_unit(session, actor, code).path


def local_day_start(now: datetime, days_back: int = 0) -> datetime:
    local = now.astimezone(LOCAL_TZ)
    start = datetime(local.year, local.month, local.day, tzinfo=LOCAL_TZ)
    return start - timedelta(days=days_back)


def _local_date(value: datetime) -> date:
    return value.astimezone(LOCAL_TZ).date()


def daily_trend(
    received: list[datetime], closed: list[datetime], days: list[date]
) -> list[TrendPoint]:
    got = Counter(_local_date(t) for t in received)
    done = Counter(_local_date(t) for t in closed)
    return [TrendPoint(day=d, received=got[d], closed=done[d]) for d in days]


def _three(figures: MetricFigures) -> ThreeRates:
    r = figures.rates
    return ThreeRates(
        response_rate=r.response_rate,
        resolution_rate=r.resolution_rate,
        satisfaction_rate=r.satisfaction_rate,
        callbacks=figures.counts.callbacks,
    )


def _rank_key(row: UnitRates) -> tuple[float, float, float, str]:
    # units without callbacks go last; ties keep code order
    def neg(value: float | None) -> float:
        return -(value if value is not None else -1.0)

    return (
        neg(row.satisfaction_rate),
        neg(row.resolution_rate),
        neg(row.response_rate),
        row.code,
    )


def summary(
    session: Session, settings: Settings, actor: Actor, *, code: str | None = None
) -> DashboardSummary:
    scope = _scope(session, actor, code)
    path = _path(session, actor, scope.code)
    now = utcnow()
    today_start = local_day_start(now)
    period_start = local_day_start(now, PERIOD_DAYS - 1)
    t = repository.today(session, path, day_start=today_start, now=now)
    finer = child_level(scope.level)
    report = metrics.jurisdiction_metrics(
        session,
        settings,
        actor,
        start=period_start,
        end=now + timedelta(seconds=1),
        level=finer or scope.level,
        jurisdiction_code=scope.code,
        as_of=now,
    )
    ranking = sorted(
        (UnitRates(code=i.code, name=i.name, **_three(i).model_dump()) for i in report.items),
        key=_rank_key,
    )
    days = [(period_start + timedelta(days=n)).date() for n in range(PERIOD_DAYS)]
    trend = daily_trend(
        repository.times_since(session, path, Event.reported_at, period_start),
        repository.times_since(session, path, Event.closed_at, period_start),
        days,
    )
    return DashboardSummary(
        scope=scope,
        child_level=finer,
        generated_at=now,
        period_days=PERIOD_DAYS,
        today=TodayFigures(
            received=t.received,
            dispatched=t.dispatched,
            closed=t.closed,
            overdue=t.overdue,
            open=t.open,
        ),
        rates=_three(report.total),
        trend=trend,
        categories=[
            Share(key=c, name=name or c or "未分类", count=n)
            for c, name, n in repository.by_category(session, path, period_start)
        ],
        channels=[
            Share(key=ch, name=ch, count=n)
            for ch, n in repository.by_channel(session, path, period_start)
        ],
        ranking=ranking,
    )


def load(
    session: Session,
    actor: Actor,
    *,
    code: str | None = None,
    level: Level | None = None,
    marker_limit: int = 1000,
) -> DashboardLoad:
    """Open and overdue events per unit at `level` (default: the child level) and the open
    events' positions for markers and the heat layer."""
    scope = _scope(session, actor, code)
    path = _path(session, actor, scope.code)
    target = level or child_level(scope.level) or scope.level
    if target.rank < scope.level.rank or target.rank > FINEST_LEVEL.rank:
        msg = f"层级须在“{scope.level.label_zh}”与“网格”之间"
        raise InvalidInput(msg, details=[{"loc": ["query", "level"], "msg": msg}])
    units = repository.units_at_level(session, path, target.value)
    now = utcnow()
    per_prefix: dict[str, tuple[int, int]] = {}
    if units:
        per_prefix = repository.open_load(session, path, prefix_length=len(units[0].path), now=now)
    items = [
        UnitLoad(code=u.code, name=u.name, open=o, overdue=late)
        for u in units
        for o, late in [per_prefix.get(u.path, (0, 0))]
    ]
    rows = repository.open_markers(session, path, marker_limit)
    markers = [
        Marker(
            code=r.code,
            title=r.title,
            status=r.status,
            light=r.light,
            urgency=r.urgency,
            lng=r.lng,
            lat=r.lat,
        )
        for r in rows[:marker_limit]
    ]
    return DashboardLoad(
        scope_code=scope.code,
        level=target,
        max_open=max((i.open for i in items), default=0),
        items=items,
        markers=markers,
        markers_truncated=len(rows) > marker_limit,
    )


def scope_path(session: Session, actor: Actor, code: str | None) -> str:
    """For the change stream: the readable unit's path (404 when not readable)."""
    return _path(session, actor, code or actor.jurisdiction_code)


def fingerprint(session: Session, path: str) -> tuple[object, ...]:
    return repository.fingerprint(session, path)


def city_centre(session: Session) -> list[float] | None:
    """The middle of everything drawn (units without outlines carry no extent)."""
    box = repository.extent(session)
    if box is None:
        return None
    min_lng, min_lat, max_lng, max_lat = box
    return [(min_lng + max_lng) / 2, (min_lat + max_lat) / 2]
