"""Queries of the Open311 intake. Events, categories and departments are read here (read-only)
because the events and auth services have no unscoped public listing to call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from shiyu.auth.access import Actor
from shiyu.auth.models import Department
from shiyu.events.models import Category, Event
from shiyu.kit.paths import within
from shiyu.open311.models import Open311Client, Open311Submission


def client_by_key_hash(session: Session, key_hash: str) -> Open311Client | None:
    return session.scalars(select(Open311Client).where(Open311Client.key_hash == key_hash)).first()


def client_by_name(session: Session, name: str) -> Open311Client | None:
    return session.scalars(select(Open311Client).where(Open311Client.name == name)).first()


def readable_clients(actor: Actor) -> Select[Open311Client]:
    return select(Open311Client).where(within(Open311Client.jurisdiction_path, actor.scope_path))


def list_clients(session: Session, actor: Actor) -> Sequence[Open311Client]:
    return session.scalars(readable_clients(actor).order_by(Open311Client.name)).all()


def get_readable_client(session: Session, actor: Actor, name: str) -> Open311Client | None:
    return session.scalars(readable_clients(actor).where(Open311Client.name == name)).first()


def submission_of_event(session: Session, event_id: int) -> Open311Submission | None:
    return session.scalars(
        select(Open311Submission).where(Open311Submission.event_id == event_id)
    ).first()


def submission_by_token(session: Session, token: str) -> Open311Submission | None:
    return session.scalars(
        select(Open311Submission).where(Open311Submission.token == token)
    ).first()


def categories(session: Session) -> Sequence[Category]:
    return session.scalars(select(Category).order_by(Category.sort, Category.code)).all()


def department_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Department.id, Department.name).where(Department.id.in_(ids)))
    return {row.id: row.name for row in rows}


def event_code_of(session: Session, event_id: int) -> str | None:
    return session.scalar(select(Event.code).where(Event.id == event_id))


@dataclass(frozen=True)
class RequestFilter:
    channels: tuple[str, ...]
    codes: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    limit: int = 1000


def public_events(session: Session, flt: RequestFilter) -> Sequence[Event]:
    """Events published through GeoReport, newest first. A list of codes overrides every
    other argument (spec), but never the channel restriction."""
    stmt = select(Event).where(Event.channel.in_(flt.channels), Event.code.is_not(None))
    if flt.codes:
        stmt = stmt.where(Event.code.in_(flt.codes))
    else:
        if flt.service_codes:
            stmt = stmt.where(Event.category_code.in_(flt.service_codes))
        if flt.statuses:
            stmt = stmt.where(Event.status.in_(flt.statuses))
        if flt.start is not None:
            stmt = stmt.where(Event.reported_at >= flt.start)
        if flt.end is not None:
            stmt = stmt.where(Event.reported_at <= flt.end)
    stmt = stmt.order_by(Event.reported_at.desc(), Event.id.desc()).limit(flt.limit)
    return session.scalars(stmt).all()
