from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from shiyu.auth.access import Actor
from shiyu.events.models import (
    Action,
    Assignment,
    Attachment,
    CalendarDay,
    Category,
    DeadlineRule,
    Event,
    Extension,
    Whistle,
    WhistleCall,
)
from shiyu.kit.paths import within


def readable_by(actor: Actor) -> Select[Event]:
    """Events in the actor's subtree; a department user sees those assigned to the
    department (lead or assisting) and those it was summoned to by a whistle."""
    if actor.department_id is not None:
        assigned = exists().where(
            Assignment.event_id == Event.id,
            Assignment.department_id == actor.department_id,
            Assignment.active.is_(True),
        )
        summoned = exists().where(
            Whistle.event_id == Event.id,
            WhistleCall.whistle_id == Whistle.id,
            WhistleCall.department_id == actor.department_id,
        )
        return select(Event).where(or_(assigned, summoned))
    return select(Event).where(within(Event.scope_path, actor.scope_path))


def get_readable(session: Session, actor: Actor, code: str) -> Event | None:
    return session.scalars(readable_by(actor).where(Event.code == code)).first()


def get_by_code(session: Session, code: str) -> Event | None:
    return session.scalars(select(Event).where(Event.code == code)).first()


def get_by_external(session: Session, source: str, external_id: str) -> Event | None:
    return session.scalars(
        select(Event).where(Event.source == source, Event.external_id == external_id)
    ).first()


def codes_of(session: Session, ids: Sequence[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {
        i: c
        for i, c in session.execute(select(Event.id, Event.code).where(Event.id.in_(ids))).all()
        if c
    }


def children_codes(session: Session, event_id: int) -> list[str]:
    return [
        c
        for c in session.scalars(
            select(Event.code).where(Event.parent_id == event_id).order_by(Event.id)
        )
        if c
    ]


def timeline(session: Session, event_id: int) -> Sequence[Action]:
    return session.scalars(
        select(Action).where(Action.event_id == event_id).order_by(Action.at, Action.id)
    ).all()


def attachments(session: Session, event_id: int) -> Sequence[Attachment]:
    return session.scalars(
        select(Attachment).where(Attachment.event_id == event_id).order_by(Attachment.id)
    ).all()


def attachment_kinds(session: Session, event_id: int) -> set[str]:
    return set(session.scalars(select(Attachment.kind).where(Attachment.event_id == event_id)))


def assignments(session: Session, event_id: int) -> Sequence[Assignment]:
    return session.scalars(
        select(Assignment).where(Assignment.event_id == event_id).order_by(Assignment.id)
    ).all()


def pending_extension(session: Session, event_id: int) -> Extension | None:
    return session.scalars(
        select(Extension).where(Extension.event_id == event_id, Extension.status == "pending")
    ).first()


def open_calls(session: Session, event_id: int, department_id: int) -> Sequence[WhistleCall]:
    return session.scalars(
        select(WhistleCall)
        .join(Whistle, Whistle.id == WhistleCall.whistle_id)
        .where(Whistle.event_id == event_id, WhistleCall.department_id == department_id)
        .order_by(WhistleCall.id)
    ).all()


def category(session: Session, code: str) -> Category | None:
    return session.get(Category, code)


def categories(session: Session) -> Sequence[Category]:
    return session.scalars(select(Category).order_by(Category.sort, Category.code)).all()


def deadline_rule(session: Session, category_code: str | None, urgency: str) -> DeadlineRule | None:
    """The most specific rule: the category, its parent, then the default for the urgency."""
    codes: list[str | None] = []
    if category_code:
        cat = session.get(Category, category_code)
        codes += [category_code] + ([cat.parent_code] if cat and cat.parent_code else [])
    for code in [*codes, None]:
        cond = (
            DeadlineRule.category_code.is_(None)
            if code is None
            else (DeadlineRule.category_code == code)
        )
        rule = session.scalars(
            select(DeadlineRule).where(cond, DeadlineRule.urgency == urgency)
        ).first()
        if rule:
            return rule
    return None


def calendar_days(session: Session) -> Sequence[CalendarDay]:
    return session.scalars(select(CalendarDay)).all()


def count_recent_by_phone(session: Session, phone_hash: str, since: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.reporter_phone_hash == phone_hash, Event.reported_at >= since)
        )
        or 0
    )


def count_recent_by_address(session: Session, address: str, since: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Event)
            .where(
                Event.address == address, Event.reported_at >= since, Event.channel == "resident"
            )
        )
        or 0
    )


# ---------------------------------------------------------------- lists


@dataclass(frozen=True)
class ListFilter:
    status: list[str] | None = None
    category_code: str | None = None
    channel: str | None = None
    urgency: str | None = None
    jurisdiction_path: str | None = None
    reported_from: datetime | None = None
    reported_to: datetime | None = None
    overdue: bool | None = None
    light: str | None = None
    q: str | None = None
    department_id: int | None = None


def _encode_cursor(reported_at: datetime, event_id: int) -> str:
    raw = json.dumps([reported_at.isoformat(), event_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    padded = cursor + "=" * (-len(cursor) % 4)
    at, event_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
    return datetime.fromisoformat(at), int(event_id)


def page(
    session: Session,
    stmt: Select[Event],
    flt: ListFilter,
    *,
    now: datetime,
    cursor: str | None,
    size: int,
) -> tuple[Sequence[Event], str | None]:
    """Newest first, keyset-paginated on (reported_at, id)."""
    stmt = apply_filter(stmt, flt, now=now)
    if cursor:
        at, event_id = decode_cursor(cursor)
        stmt = stmt.where(
            or_(Event.reported_at < at, and_(Event.reported_at == at, Event.id < event_id))
        )
    rows = session.scalars(
        stmt.order_by(Event.reported_at.desc(), Event.id.desc()).limit(size + 1)
    ).all()
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = _encode_cursor(rows[-1].reported_at, rows[-1].id) if more and rows else None
    return rows, next_cursor


def apply_filter(stmt: Select[Event], flt: ListFilter, *, now: datetime) -> Select[Event]:
    if flt.status:
        stmt = stmt.where(Event.status.in_(flt.status))
    if flt.category_code:
        stmt = stmt.where(
            or_(
                Event.category_code == flt.category_code,
                Event.category_code.in_(
                    select(Category.code).where(Category.parent_code == flt.category_code)
                ),
            )
        )
    if flt.channel:
        stmt = stmt.where(Event.channel == flt.channel)
    if flt.urgency:
        stmt = stmt.where(Event.urgency == flt.urgency)
    if flt.jurisdiction_path:
        stmt = stmt.where(within(Event.scope_path, flt.jurisdiction_path))
    if flt.reported_from:
        stmt = stmt.where(Event.reported_at >= flt.reported_from)
    if flt.reported_to:
        stmt = stmt.where(Event.reported_at < flt.reported_to)
    if flt.overdue is True:
        stmt = stmt.where(Event.light == "red")
    elif flt.overdue is False:
        stmt = stmt.where(Event.light != "red")
    if flt.light:
        stmt = stmt.where(Event.light == flt.light)
    if flt.department_id:
        stmt = stmt.where(Event.lead_department_id == flt.department_id)
    if flt.q:
        for term in flt.q.split():
            stmt = stmt.where(Event.search_text.like(f"%{_escape_like(term)}%", escape="\\"))
    return stmt


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def count(session: Session, stmt: Select[Event], flt: ListFilter, *, now: datetime) -> int:
    filtered = apply_filter(stmt, flt, now=now)
    return session.scalar(select(func.count()).select_from(filtered.subquery())) or 0
