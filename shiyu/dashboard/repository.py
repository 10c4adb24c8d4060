"""SQL aggregates for the command centre. Every query is limited to events placed inside one
scope path (the caller's readable unit, checked by the service)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from shiyu.events.enums import OPEN_STATUSES
from shiyu.events.models import Category, Event
from shiyu.events.repository import overdue_condition
from shiyu.jurisdiction.models import Jurisdiction
from shiyu.kit.paths import within

_OPEN = [s.value for s in OPEN_STATUSES]


def _in_scope(scope_path: str) -> ColumnElement[bool]:
    return within(Event.scope_path, scope_path)


def _flag(condition: ColumnElement[bool]) -> Any:
    return case((condition, 1), else_=0)


def _count_since(session: Session, scope_path: str, column: Any, since: datetime) -> int:
    stmt = select(func.count()).select_from(Event).where(_in_scope(scope_path), column >= since)
    return int(session.scalar(stmt) or 0)


@dataclass(frozen=True)
class Today:
    received: int
    dispatched: int
    closed: int
    overdue: int
    open: int


def today(session: Session, scope_path: str, *, day_start: datetime, now: datetime) -> Today:
    current = (
        select(
            func.count().label("open"),
            func.coalesce(func.sum(_flag(overdue_condition(now))), 0),
        )
        .select_from(Event)
        .where(_in_scope(scope_path), Event.status.in_(_OPEN))
    )
    open_count, overdue = session.execute(current).one()
    return Today(
        received=_count_since(session, scope_path, Event.reported_at, day_start),
        dispatched=_count_since(session, scope_path, Event.dispatched_at, day_start),
        closed=_count_since(session, scope_path, Event.closed_at, day_start),
        overdue=int(overdue),
        open=int(open_count),
    )


def times_since(session: Session, scope_path: str, column: Any, since: datetime) -> list[datetime]:
    """The timestamps themselves: bucketed into local days by the service (a date function
    with a time zone differs between SQLite and PostgreSQL; a month of one city is small)."""
    stmt = select(column).where(_in_scope(scope_path), column >= since)
    return list(session.scalars(stmt))


def by_category(session: Session, scope_path: str, since: datetime) -> list[tuple[str, str, int]]:
    stmt = (
        select(Event.category_code, Category.name, func.count())
        .select_from(Event)
        .outerjoin(Category, Category.code == Event.category_code)
        .where(_in_scope(scope_path), Event.reported_at >= since)
        .group_by(Event.category_code, Category.name)
        .order_by(func.count().desc())
    )
    return [(code or "", name or "", int(n)) for code, name, n in session.execute(stmt)]


def by_channel(session: Session, scope_path: str, since: datetime) -> list[tuple[str, int]]:
    stmt = (
        select(Event.channel, func.count())
        .where(_in_scope(scope_path), Event.reported_at >= since)
        .group_by(Event.channel)
        .order_by(func.count().desc())
    )
    return [(channel, int(n)) for channel, n in session.execute(stmt)]


@dataclass(frozen=True)
class UnitRow:
    code: str
    name: str
    path: str


def units_at_level(session: Session, scope_path: str, level: str) -> list[UnitRow]:
    stmt = (
        select(Jurisdiction.code, Jurisdiction.name, Jurisdiction.path)
        .where(within(Jurisdiction.path, scope_path), Jurisdiction.level == level)
        .order_by(Jurisdiction.code)
    )
    return [UnitRow(code, name, path) for code, name, path in session.execute(stmt)]


def open_load(
    session: Session, scope_path: str, *, prefix_length: int, now: datetime
) -> dict[str, tuple[int, int]]:
    """(open, overdue) per path prefix of `prefix_length` characters: all units of one level
    have paths of the same length, so the prefix is the unit an event lies in."""
    key = func.substr(Event.scope_path, 1, prefix_length)
    stmt = (
        select(
            key,
            func.count(),
            func.coalesce(func.sum(_flag(overdue_condition(now))), 0),
        )
        .where(_in_scope(scope_path), Event.status.in_(_OPEN))
        .group_by(key)
    )
    return {prefix: (int(n), int(late)) for prefix, n, late in session.execute(stmt)}


def open_markers(session: Session, scope_path: str, limit: int) -> Sequence[Any]:
    stmt = (
        select(
            Event.code,
            Event.title,
            Event.status,
            Event.light,
            Event.urgency,
            Event.lng,
            Event.lat,
        )
        .where(
            _in_scope(scope_path),
            Event.status.in_(_OPEN),
            Event.lng.is_not(None),
            Event.lat.is_not(None),
            Event.code.is_not(None),
        )
        .order_by(Event.reported_at.desc(), Event.id.desc())
        .limit(limit + 1)
    )
    return session.execute(stmt).all()


def fingerprint(session: Session, scope_path: str) -> tuple[Any, ...]:
    """Changes whenever an event in scope is created or changed (updated_at moves on every
    change, the count and the highest id catch inserts in the same instant)."""
    stmt = select(func.max(Event.updated_at), func.max(Event.id), func.count()).where(
        _in_scope(scope_path)
    )
    row = session.execute(stmt).one()
    return (str(row[0]), row[1], row[2])


def extent(session: Session) -> tuple[float, float, float, float] | None:
    stmt = select(
        func.min(Jurisdiction.min_lng),
        func.min(Jurisdiction.min_lat),
        func.max(Jurisdiction.max_lng),
        func.max(Jurisdiction.max_lat),
    )
    min_lng, min_lat, max_lng, max_lat = session.execute(stmt).one()
    if min_lng is None or min_lat is None or max_lng is None or max_lat is None:
        return None
    return (float(min_lng), float(min_lat), float(max_lng), float(max_lat))
