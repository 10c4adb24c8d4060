from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from shiyu.db import Base
from shiyu.kit.clock import utcnow
from shiyu.kit.types import UTCDateTime


class Category(Base):
    """The two-level catalogue (大类/小类); a city edits it, a migration seeds it."""

    __tablename__ = "event_categories"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("event_categories.code"))
    kind: Mapped[str] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)


class DeadlineRule(Base):
    """Time limits per category × urgency; category NULL is the default for an urgency.
    The finish limit is in working days, or in hours when `finish_hours` is set."""

    __tablename__ = "event_deadline_rules"
    __table_args__ = (UniqueConstraint("category_code", "urgency"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_code: Mapped[str | None] = mapped_column(ForeignKey("event_categories.code"))
    urgency: Mapped[str] = mapped_column(String(16))
    sign_hours: Mapped[float] = mapped_column(Float)
    finish_working_days: Mapped[int | None] = mapped_column(Integer)
    finish_hours: Mapped[float | None] = mapped_column(Float)


class CalendarDay(Base):
    """Exceptions to Monday–Friday: public holidays (is_workday False) and weekend make-up
    working days (调休, is_workday True)."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(32), default="")


def _sparse_index(column: str) -> Index:
    """An index of a column that stays empty for most of an event's life (partial: inserts
    and light updates of open events write no entry; migration 0014sparse)."""
    where = text(f"{column} IS NOT NULL")
    return Index(f"ix_events_{column}", column, sqlite_where=where, postgresql_where=where)


#: empty until dispatch, closure, rating or merging; the phone only for residents' reports
SPARSE_COLUMNS = (
    "closed_at",
    "rated_at",
    "parent_id",
    "lead_department_id",
    "dispatched_at",
    "finish_deadline",
    "reporter_phone_hash",
)


#: the predicate of the residents' partial index; queries must say it literally (a bound
#: parameter would not prove it to PostgreSQL's generic plans)
RESIDENT_CHANNEL_SQL = "channel = 'resident'"


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        # serves filters on the status alone too: a second index on it only cost every
        # insert and every change of status an entry more (migration 0017)
        Index("ix_events_status_light", "status", "light"),
        *(_sparse_index(column) for column in SPARSE_COLUMNS),
        # the residents' per-address rate limit (migration 0015residentaddr)
        Index(
            "ix_events_resident_address",
            "address",
            "reported_at",
            sqlite_where=text(RESIDENT_CHANNEL_SQL),
            postgresql_where=text(RESIDENT_CHANNEL_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str | None] = mapped_column(String(24), unique=True)
    channel: Mapped[str] = mapped_column(String(16), index=True)
    #: Where it came from (a hotline source, a sensor source, an Open311 client) and its id
    #: there: re-sending the same record never creates a second event.
    source: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category_code: Mapped[str | None] = mapped_column(
        ForeignKey("event_categories.code"), index=True
    )
    appeal_kind: Mapped[str | None] = mapped_column(String(16))
    urgency: Mapped[str] = mapped_column(String(16), default="normal")
    lng: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(300), default="")
    grid_code: Mapped[str | None] = mapped_column(ForeignKey("jurisdictions.code"), index=True)
    #: Path of the place (its grid, else the unit it was reported to): who may see it.
    scope_path: Mapped[str] = mapped_column(String(255), index=True)
    #: The unit that owns the event now (首接负责 until dispatched; moves up on escalation).
    owner_code: Mapped[str] = mapped_column(ForeignKey("jurisdictions.code"))
    owner_path: Mapped[str] = mapped_column(String(255))
    reporter_name: Mapped[str | None] = mapped_column(String(400))  # encrypted
    reporter_phone: Mapped[str | None] = mapped_column(String(400))  # encrypted
    reporter_phone_hash: Mapped[str | None] = mapped_column(String(64))
    reporter_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16))
    lead_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    sign_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finish_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: when the light turns yellow, so the sweep compares timestamps only
    yellow_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    light: Mapped[str] = mapped_column(String(8), default="none")
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reply: Mapped[str] = mapped_column(Text, default="")
    rating: Mapped[str | None] = mapped_column(String(24))
    #: 回访: whether the caller was reached and says the problem was solved (three rates)
    callback_contacted: Mapped[bool | None] = mapped_column(Boolean)
    callback_resolved: Mapped[bool | None] = mapped_column(Boolean)
    rating_comment: Mapped[str] = mapped_column(String(500), default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    return_count: Mapped[int] = mapped_column(Integer, default=0)
    escalation_count: Mapped[int] = mapped_column(Integer, default=0)
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    signed_on_time: Mapped[bool | None] = mapped_column(Boolean)
    finished_on_time: Mapped[bool | None] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class EventSearch(Base):
    """An event's full-text document (`shiyu.events.search`: its tokens, separated by spaces),
    in a table of its own. An event's row changes at every step of its life; on PostgreSQL
    each change writes a new row version that every index of the table gets an entry for,
    the GIN index with its ~250 tokens too, and the 1.7 KB of tokens doubled the row's width.
    Indexed by FTS5 table `event_search_fts` (SQLite) or GIN index `ix_event_search_document`
    (PostgreSQL), both built by migration 0018eventsearch (the FTS5 table holds event ids
    only, no positions, since 0019searchrowids)."""

    __tablename__ = "event_search"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    document: Mapped[str] = mapped_column(Text, default="")


class Assignment(Base):
    """A department's part in an event: one lead (主办) and any assisting units (协办)."""

    __tablename__ = "event_assignments"
    __table_args__ = (UniqueConstraint("event_id", "department_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    role: Mapped[str] = mapped_column(String(8))
    dispatched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reply: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Attachment(Base):
    __tablename__ = "event_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Action(Base):
    """The event's own timeline: every stage with who, when and why (the audit trail holds
    the tamper-evident copy)."""

    __tablename__ = "event_actions"
    #: period aggregates (shiyu/metrics) select dispatches and returns by action and time
    __table_args__ = (Index("ix_event_actions_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Extension(Base):
    """延期: asked for before the deadline; the centre approves or refuses."""

    __tablename__ = "event_extensions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    working_days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Supervision(Base):
    """督办: created when an event goes red; `level` rises as it escalates."""

    __tablename__ = "event_supervisions"
    __table_args__ = (UniqueConstraint("event_id", "level"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    level: Mapped[int] = mapped_column(Integer, default=1)
    reason: Mapped[str] = mapped_column(String(200))
    owner_code: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Whistle(Base):
    """吹哨: a street summons departments, each must check in (报到) in time and is rated."""

    __tablename__ = "event_whistles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    street_code: Mapped[str] = mapped_column(ForeignKey("jurisdictions.code"))
    type: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(String(500))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WhistleCall(Base):
    __tablename__ = "event_whistle_calls"
    __table_args__ = (UniqueConstraint("whistle_id", "department_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    whistle_id: Mapped[int] = mapped_column(
        ForeignKey("event_whistles.id", ondelete="CASCADE"), index=True
    )
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    checkin_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str] = mapped_column(String(500), default="")
