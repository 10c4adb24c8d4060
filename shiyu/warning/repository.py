"""Queries of the early-warning domain: daily counts (grouped in SQL), warnings, and the events
read for repeated appeals and hot issues. Scoping is a path prefix (`within`), as elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shiyu.auth.access import Actor
from shiyu.events.models import Category, Event
from shiyu.jurisdiction.models import Jurisdiction
from shiyu.kit.paths import within
from shiyu.warning.models import EarlyWarning

#: statuses that do not count as appeals (作废: invalid reports)
NOT_COUNTED = ("cancelled",)


def local_day(session: Session, column: Any) -> ColumnElement[Any]:
    """The China Standard Time calendar day of a UTC timestamp column (no DST: +8 h)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("Asia/Shanghai", column))
    return func.date(column, "+8 hours")


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@dataclass(frozen=True)
class DailyCount:
    scope_path: str
    category_code: str | None
    day: date
    count: int


def daily_counts(session: Session, *, start: datetime, end: datetime) -> list[DailyCount]:
    """Events reported in [start, end) grouped by place, category and local day: one grouped
    query, so the cost does not depend on how many units or categories a city has."""
    day = local_day(session, Event.reported_at).label("day")
    stmt = (
        select(Event.scope_path, Event.category_code, day, func.count().label("n"))
        .where(
            Event.reported_at >= start,
            Event.reported_at < end,
            Event.status.not_in(NOT_COUNTED),
        )
        .group_by(Event.scope_path, Event.category_code, day)
    )
    return [
        DailyCount(path, category, _as_date(d), int(n))
        for path, category, d, n in session.execute(stmt)
    ]


def category_parents(session: Session) -> dict[str, tuple[str, str]]:
    """code → (first-level code, first-level name) for every category."""
    rows = session.execute(select(Category.code, Category.name, Category.parent_code)).all()
    names = {code: name for code, name, _ in rows}
    return {code: (parent or code, names.get(parent or code, name)) for code, name, parent in rows}


@dataclass(frozen=True)
class UnitRow:
    code: str
    path: str
    level: str
    name: str


def units_at_levels(session: Session, levels: Sequence[str]) -> list[UnitRow]:
    """The watched units, four columns only (a city has thousands of grids with geometry)."""
    stmt = (
        select(Jurisdiction.code, Jurisdiction.path, Jurisdiction.level, Jurisdiction.name)
        .where(Jurisdiction.level.in_(list(levels)))
        .order_by(Jurisdiction.path)
    )
    return [UnitRow(*row) for row in session.execute(stmt)]


def insert_warnings(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert, skipping (kind, unit, category, day) that exist; ids of the new rows only."""
    if not rows:
        return []
    ins = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = (
        ins(EarlyWarning)
        .on_conflict_do_nothing(index_elements=["kind", "unit_code", "category_code", "day"])
        .returning(EarlyWarning.id)
    )
    # the rows as parameter sets of one cached statement, not a statement with every row in
    # its text: building that held the interpreter for a second and more at each hourly run
    return list(session.scalars(stmt, rows))


def get_many(session: Session, ids: Sequence[int]) -> list[EarlyWarning]:
    if not ids:
        return []
    return list(session.scalars(select(EarlyWarning).where(EarlyWarning.id.in_(list(ids)))))


# ---------------------------------------------------------------- reading on a user's behalf


def readable_by(actor: Actor) -> Select[EarlyWarning]:
    """Warnings of units inside the actor's subtree."""
    return select(EarlyWarning).where(within(EarlyWarning.unit_path, actor.scope_path))


@dataclass(frozen=True)
class WarningFilter:
    path: str | None = None
    status: str | None = None
    kind: str | None = None
    level: str | None = None
    category_code: str | None = None
    day_from: date | None = None
    day_to: date | None = None


def list_readable(
    session: Session, actor: Actor, f: WarningFilter, *, limit: int, offset: int
) -> tuple[list[EarlyWarning], int]:
    stmt = readable_by(actor)
    if f.path:
        stmt = stmt.where(within(EarlyWarning.unit_path, f.path))
    if f.status:
        stmt = stmt.where(EarlyWarning.status == f.status)
    if f.kind:
        stmt = stmt.where(EarlyWarning.kind == f.kind)
    if f.level:
        stmt = stmt.where(EarlyWarning.unit_level == f.level)
    if f.category_code:
        stmt = stmt.where(EarlyWarning.category_code == f.category_code)
    if f.day_from:
        stmt = stmt.where(EarlyWarning.day >= f.day_from)
    if f.day_to:
        stmt = stmt.where(EarlyWarning.day <= f.day_to)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(EarlyWarning.day.desc(), EarlyWarning.p_value, EarlyWarning.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), int(total)


def mark_acknowledged(
    session: Session, warning_id: int, *, user_id: int | None, at: datetime, note: str
) -> bool:
    """Open → acknowledged in one conditional UPDATE: of two simultaneous requests one wins."""
    result = session.execute(
        update(EarlyWarning)
        .where(EarlyWarning.id == warning_id, EarlyWarning.status == "open")
        .values(
            status="acknowledged", acknowledged_by_id=user_id, acknowledged_at=at, ack_note=note
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def get_readable(session: Session, actor: Actor, warning_id: int) -> EarlyWarning | None:
    return session.scalars(readable_by(actor).where(EarlyWarning.id == warning_id)).first()


# ---------------------------------------------------------------- events for text analysis


@dataclass(frozen=True)
class EventText:
    id: int
    code: str
    title: str
    description: str
    address: str
    grid_code: str | None
    scope_path: str
    category_code: str | None
    lng: float | None
    lat: float | None
    reporter: str | None
    reported_at: datetime
    status: str


def events_in(
    session: Session, *, path: str, start: datetime, end: datetime, limit: int
) -> list[EventText]:
    """The newest `limit` counted events placed inside `path` and reported in [start, end)."""
    stmt = (
        select(
            Event.id,
            Event.code,
            Event.title,
            Event.description,
            Event.address,
            Event.grid_code,
            Event.scope_path,
            Event.category_code,
            Event.lng,
            Event.lat,
            Event.reporter_phone_hash,
            Event.reporter_user_id,
            Event.reported_at,
            Event.status,
        )
        .where(
            within(Event.scope_path, path),
            Event.reported_at >= start,
            Event.reported_at < end,
            Event.status.not_in(NOT_COUNTED),
        )
        .order_by(Event.reported_at.desc(), Event.id.desc())
        .limit(limit)
    )
    return [
        EventText(
            id=row[0],
            code=row[1] or "",
            title=row[2],
            description=row[3],
            address=row[4],
            grid_code=row[5],
            scope_path=row[6],
            category_code=row[7],
            lng=row[8],
            lat=row[9],
            reporter=row[10] or (f"user:{row[11]}" if row[11] is not None else None),
            reported_at=row[12],
            status=row[13],
        )
        for row in session.execute(stmt)
    ]


def unit_names(session: Session, codes: Sequence[str]) -> dict[str, str]:
    if not codes:
        return {}
    return dict(
        session.execute(
            select(Jurisdiction.code, Jurisdiction.name).where(Jurisdiction.code.in_(list(codes)))
        ).all()
    )
