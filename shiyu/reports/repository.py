"""Counts for reports, grouped in SQL: events per local day and per category in a subtree."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from shiyu.events.models import Category, Event
from shiyu.kit.paths import within

NOT_COUNTED = ("cancelled",)


def _local_day(session: Session, column: Any) -> ColumnElement[Any]:
    """China Standard Time calendar day of a UTC timestamp (no DST: +8 h)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("Asia/Shanghai", column))
    return func.date(column, "+8 hours")


def counts_by_day_and_category(
    session: Session, *, path: str, start: datetime, end: datetime
) -> list[tuple[date, str | None, int]]:
    """(local day, category code, events) for events placed inside `path`, reported in
    [start, end), cancelled ones excepted."""
    day = _local_day(session, Event.reported_at).label("day")
    stmt = (
        select(day, Event.category_code, func.count())
        .where(
            within(Event.scope_path, path),
            Event.reported_at >= start,
            Event.reported_at < end,
            Event.status.not_in(NOT_COUNTED),
        )
        .group_by(day, Event.category_code)
    )
    out: list[tuple[date, str | None, int]] = []
    for d, category, n in session.execute(stmt):
        out.append((d if isinstance(d, date) else date.fromisoformat(str(d)), category, int(n)))
    return out


def first_level_categories(session: Session) -> dict[str, tuple[str, str]]:
    """code → (first-level code, first-level name)."""
    rows = session.execute(select(Category.code, Category.name, Category.parent_code)).all()
    names = {code: name for code, name, _ in rows}
    return {c: (p or c, names.get(p or c, n)) for c, n, p in rows}
