from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from shiyu.auth.access import Actor
from shiyu.errors import InvalidInput
from shiyu.events import search
from shiyu.events.enums import CLOCK_STATUSES, Light, Urgency
from shiyu.events.models import (
    RESIDENT_CHANNEL_SQL,
    Action,
    Assignment,
    Attachment,
    CalendarDay,
    Category,
    DeadlineRule,
    Event,
    EventSearch,
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


def max_event_id(session: Session) -> int:
    return session.scalar(select(func.max(Event.id))) or 0


def allocate_event_ids(session: Session, n: int) -> list[int]:
    """Ids for `n` new events before inserting them, so their codes (which contain the id)
    go in with the rows. SQLite: the writing transaction holds the database's write lock
    (BEGIN IMMEDIATE), so max(id) + k is ours; PostgreSQL: taken from the table's own
    sequence, as needed (ids kept in the process would outlive a restore of the database,
    whose sequence goes back, and collide later)."""
    if session.get_bind().dialect.name == "postgresql":
        return list(
            session.scalars(
                text(
                    "SELECT nextval(pg_get_serial_sequence('events', 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"n": n},
            )
        )
    top = max_event_id(session)
    return list(range(top + 1, top + 1 + n))


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
                Event.address == address,
                Event.reported_at >= since,
                text(RESIDENT_CHANNEL_SQL),  # literally: the partial index's predicate
            )
        )
        or 0
    )


# ---------------------------------------------------------------- lists


class ListSort(StrEnum):
    reported_at = "reported_at"  # newest first (the default of lists)
    reported_at_asc = "reported_at_asc"  # oldest first (the default of the to-do list)
    finish_deadline = "finish_deadline"  # nearest deadline first, events without one last
    urgency = "urgency"  # most urgent first, then newest
    updated_at = "updated_at"  # most recently changed first


class InvalidCursor(InvalidInput):
    code = "event.bad_cursor"
    message = "无效的分页游标"


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


_URGENCY_RANK = {Urgency.emergency.value: 0, Urgency.urgent.value: 1, Urgency.normal.value: 2}
_urgency_rank = case(_URGENCY_RANK, value=Event.urgency, else_=len(_URGENCY_RANK))


@dataclass(frozen=True)
class _Key:
    """One column of a sort order; `value` reads it from a loaded event for the cursor."""

    expr: ColumnElement[Any]
    value: Callable[[Event], Any]
    descending: bool = False
    #: NULLs sort after every value (only the finish deadline is nullable)
    nullable: bool = False
    is_time: bool = False


def _time(name: str, *, descending: bool, nullable: bool = False) -> _Key:
    column: ColumnElement[Any] = getattr(Event, name).expression
    return _Key(
        column,
        lambda e: getattr(e, name),
        descending=descending,
        nullable=nullable,
        is_time=True,
    )


def _id(*, descending: bool) -> _Key:
    column: ColumnElement[Any] = Event.id.expression
    return _Key(column, lambda e: e.id, descending=descending)


#: Every order ends with the id, so the keys of a row are unique and keyset paging is exact.
SORT_KEYS: dict[ListSort, tuple[_Key, ...]] = {
    ListSort.reported_at: (_time("reported_at", descending=True), _id(descending=True)),
    ListSort.reported_at_asc: (_time("reported_at", descending=False), _id(descending=False)),
    ListSort.finish_deadline: (
        _time("finish_deadline", descending=False, nullable=True),
        _id(descending=False),
    ),
    ListSort.urgency: (
        _Key(_urgency_rank, lambda e: _URGENCY_RANK.get(e.urgency, len(_URGENCY_RANK))),
        _time("reported_at", descending=True),
        _id(descending=True),
    ),
    ListSort.updated_at: (_time("updated_at", descending=True), _id(descending=True)),
}


def _order_by(keys: Sequence[_Key]) -> list[ColumnElement[Any]]:
    clauses: list[ColumnElement[Any]] = []
    for key in keys:
        clause = key.expr.desc() if key.descending else key.expr.asc()
        clauses.append(clause.nulls_last() if key.nullable else clause)
    return clauses


def _beyond(key: _Key, value: Any) -> ColumnElement[bool]:
    """Rows strictly after `value` in this key's order (NULLs come last)."""
    if value is None:
        return false()
    after = key.expr < value if key.descending else key.expr > value
    return or_(after, key.expr.is_(None)) if key.nullable else after


def _same(key: _Key, value: Any) -> ColumnElement[bool]:
    result: ColumnElement[bool] = key.expr.is_(None) if value is None else key.expr == value
    return result


def _after(keys: Sequence[_Key], values: Sequence[Any]) -> ColumnElement[bool]:
    """(k1, k2, ...) > (v1, v2, ...) in the sort's order, spelt out because row-value
    comparisons cannot mix directions or place NULLs."""
    branches = []
    for i, key in enumerate(keys):
        prefix = [_same(k, v) for k, v in zip(keys[:i], values[:i], strict=True)]
        branches.append(and_(*prefix, _beyond(key, values[i])))
    return or_(*branches)


def encode_cursor(sort: ListSort, event: Event) -> str:
    values = []
    for key in SORT_KEYS[sort]:
        value = key.value(event)
        values.append(value.isoformat() if isinstance(value, datetime) else value)
    raw = json.dumps({"s": sort.value, "k": values}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(sort: ListSort, cursor: str) -> list[Any]:
    """The key values in `cursor`; a cursor made for another sort order is refused, since its
    values mean something else there."""
    details = [{"loc": ["query", "cursor"], "msg": "invalid cursor", "input": cursor}]
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        made_for, raw = data["s"], data["k"]
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidCursor(details=details) from exc
    if made_for != sort.value:
        raise InvalidCursor(
            f"分页游标属于排序“{made_for}”，不能用于排序“{sort.value}”",
            code="event.cursor_sort_mismatch",
            details=[{**details[0], "msg": "cursor made for another sort", "sort": made_for}],
        )
    keys = SORT_KEYS[sort]
    try:
        if not isinstance(raw, list) or len(raw) != len(keys):
            raise ValueError("wrong number of keys")
        return [_decode_value(key, value) for key, value in zip(keys, raw, strict=True)]
    except (ValueError, TypeError) as exc:
        raise InvalidCursor(details=details) from exc


def _decode_value(key: _Key, value: Any) -> Any:
    if value is None:
        if not key.nullable:
            raise ValueError("null key")
        return None
    if key.is_time:
        stamp = datetime.fromisoformat(str(value))
        if stamp.tzinfo is None:
            raise ValueError("naive time")
        return stamp
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("not an integer")
    return value


def page(
    session: Session,
    stmt: Select[Event],
    flt: ListFilter,
    *,
    now: datetime,
    sort: ListSort = ListSort.reported_at,
    cursor: str | None,
    size: int,
) -> tuple[Sequence[Event], str | None]:
    """One page in `sort` order, keyset-paginated on the sort's keys (ending with the id)."""
    keys = SORT_KEYS[sort]
    stmt = apply_filter(stmt, flt, now=now, dialect=session.get_bind().dialect.name)
    if cursor:
        stmt = stmt.where(_after(keys, decode_cursor(sort, cursor)))
    rows = session.scalars(stmt.order_by(*_order_by(keys)).limit(size + 1)).all()
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = encode_cursor(sort, rows[-1]) if more and rows else None
    return rows, next_cursor


def iterate(
    session: Session,
    stmt: Select[Event],
    flt: ListFilter,
    *,
    now: datetime,
    sort: ListSort,
    limit: int,
) -> Iterator[Event]:
    """Every matching event in `sort` order, fetched in batches (exports)."""
    stmt = apply_filter(stmt, flt, now=now, dialect=session.get_bind().dialect.name)
    stmt = stmt.order_by(*_order_by(SORT_KEYS[sort])).limit(limit)
    yield from session.scalars(stmt.execution_options(yield_per=1000))


def overdue_condition(now: datetime) -> ColumnElement[bool]:
    """Red light, or past the finish deadline while the clock runs (the sweep that turns
    lights red runs every minute; this does not wait for it)."""
    late = and_(
        Event.status.in_([s.value for s in CLOCK_STATUSES]),
        Event.finish_deadline.is_not(None),
        Event.finish_deadline <= now,
    )
    return or_(Event.light == Light.red.value, late)


def apply_filter(
    stmt: Select[Event], flt: ListFilter, *, now: datetime, dialect: str
) -> Select[Event]:
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
        stmt = stmt.where(overdue_condition(now))
    elif flt.overdue is False:
        stmt = stmt.where(not_(overdue_condition(now)))
    if flt.light:
        stmt = stmt.where(Event.light == flt.light)
    if flt.department_id:
        stmt = stmt.where(Event.lead_department_id == flt.department_id)
    terms = search.query_terms(flt.q) if flt.q else []
    if terms:
        stmt = stmt.where(search_condition(terms, dialect))
    return stmt


def search_condition(terms: Sequence[str], dialect: str) -> ColumnElement[bool]:
    """Every term among the event's tokens (`EventSearch`), through the index the search
    migration built: FTS5 table `event_search_fts` on SQLite, a GIN index on the tsvector on
    PostgreSQL."""
    if dialect == "sqlite":
        matching: Select[Any] = (
            select(literal_column("rowid"))
            .select_from(table("event_search_fts"))
            .where(
                literal_column("event_search_fts").op("MATCH")(literal(search.fts5_match(terms)))
            )
        )
        return Event.id.in_(matching)
    if dialect == "postgresql":
        # The ids come from the GIN index first (a materialised CTE): otherwise, sorting by a
        # column with an index, PostgreSQL may walk that index and rebuild the tsvector of
        # every row it passes (seconds on 50,000 events).
        # the same expression as the index, or PostgreSQL will not use it
        config: ColumnElement[Any] = literal_column("'simple'::regconfig")
        query = func.to_tsquery(config, literal(search.tsquery(terms)))
        vector = func.to_tsvector(config, EventSearch.document)
        ids = (
            select(EventSearch.event_id)
            .where(vector.op("@@")(query))
            .cte("search_ids")
            .prefix_with("MATERIALIZED")
        )
        return Event.id.in_(select(ids.c.event_id))
    # any other database: no index, but the same meaning (whole tokens, or their beginnings)
    padded = literal(" ") + EventSearch.document + literal(" ")
    return Event.id.in_(
        select(EventSearch.event_id).where(
            *(
                padded.contains(
                    f" {term}" if search.is_prefix(term) else f" {term} ", autoescape=True
                )
                for term in terms
            )
        )
    )


def count(session: Session, stmt: Select[Event], flt: ListFilter, *, now: datetime) -> int:
    filtered = apply_filter(stmt, flt, now=now, dialect=session.get_bind().dialect.name)
    return session.scalar(select(func.count()).select_from(filtered.subquery())) or 0


def count_by(
    session: Session,
    stmt: Select[Event],
    flt: ListFilter,
    column: str,
    *,
    now: datetime,
) -> dict[str, int]:
    """Matching events per value of `column` (e.g. status, light)."""
    sub = apply_filter(stmt, flt, now=now, dialect=session.get_bind().dialect.name).subquery()
    key = sub.c[column]
    return {str(k): int(n) for k, n in session.execute(select(key, func.count()).group_by(key))}
