from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    bindparam,
    delete,
    insert,
    or_,
    select,
    union,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import Executable

from shiyu.duplicates import cells
from shiyu.duplicates.models import DuplicateBand, DuplicateCandidate, MergeNotice
from shiyu.events.enums import OPEN_STATUSES, Status
from shiyu.events.models import Event

_OPEN = [s.value for s in OPEN_STATUSES]
#: at most this many band hits are scored for one event: boilerplate texts sharing a band with
#: thousands of events must not make intake slow
MAX_HITS = 200


@dataclass(frozen=True)
class Near:
    """Where the new event is, for the place filter: its grid, its point and the radius."""

    grid_code: str | None
    lng: float | None
    lat: float | None
    radius_m: float

    @property
    def has_point(self) -> bool:
        return self.lng is not None and self.lat is not None


#: a radius that spans more cells than this searches by text and time alone
MAX_CELLS = 400


@dataclass(frozen=True)
class Bands:
    """One event's band keys and where it is, as stored for the search."""

    event_id: int
    reported_at: datetime
    keys: list[int]
    near: Near


def insert_bands(session: Session, bands: Sequence[Bands]) -> None:
    """Every event's keys in one Core insert on the session's connection (the ORM's bulk
    path costs more than the rows)."""
    rows: list[dict[str, Any]] = []
    for b in bands:
        # one event's keys share its place and time: the row but for its key, made once
        common = {
            "event_id": b.event_id,
            "reported_at": b.reported_at,
            "cell": cells.cell_of(b.near.lng, b.near.lat),
            "grid_code": b.near.grid_code,
        }
        rows.extend({**common, "key": k} for k in set(b.keys))
    if rows:
        session.connection().execute(insert(DuplicateBand), rows)


#: a place condition on band rows: within these cells, without a grid, in this grid
_PLACE_CONDITIONS: dict[str, ColumnElement[bool]] = {
    "cells": DuplicateBand.cell.in_(bindparam("cells", expanding=True)),
    "no_grid": DuplicateBand.grid_code.is_(None),
    "grid": DuplicateBand.grid_code == bindparam("grid"),
}


def _place_filters(near: Near) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The place conditions (names in `_PLACE_CONDITIONS`) whose union holds every event whose
    place can agree with `near` (same grid, within the radius, or without the place that would
    refute it), each served by an index, and their parameters; `service.place_match` decides
    exactly. Empty when nothing can refute a match (the new event has no place) or the radius
    is too wide to list its cells."""
    if near.grid_code is None and not near.has_point:
        return (), {}
    names: list[str] = []
    params: dict[str, Any] = {}
    if near.has_point:
        assert near.lng is not None and near.lat is not None
        near_cells = cells.cells_near(near.lng, near.lat, near.radius_m)
        if len(near_cells) > MAX_CELLS:
            return (), {}
        # within the radius, or without a point (then only the grids can refute it)
        names.append("cells")
        params["cells"] = [0, *near_cells]
    else:
        names.append("no_grid")  # no grid there, no point here
    if near.grid_code is not None:
        names.append("grid")
        params["grid"] = near.grid_code
    return tuple(names), params


@functools.cache
def _hits_statement(places: tuple[str, ...]) -> Executable:
    """Built once per combination of place conditions and executed with parameters: building
    the statement cost four times what running it did."""
    base = select(DuplicateBand.event_id).where(
        DuplicateBand.key.in_(bindparam("keys", expanding=True)),
        DuplicateBand.reported_at >= bindparam("since"),
        DuplicateBand.reported_at <= bindparam("until"),
        DuplicateBand.event_id != bindparam("exclude_id"),
    )
    if not places:
        return base.distinct().limit(MAX_HITS)
    # one round trip: each place condition keeps its own limit and its own index
    limited = [
        base.where(_PLACE_CONDITIONS[name]).distinct().limit(MAX_HITS).subquery() for name in places
    ]
    return union(*(select(sub.c.event_id) for sub in limited))


def band_hits(
    session: Session,
    keys: list[int],
    *,
    since: datetime,
    until: datetime,
    exclude_id: int,
    near: Near,
) -> list[int]:
    """Events sharing a band key with `keys`, reported in [since, until], whose place can
    agree with `near`: at most `MAX_HITS` per place condition, so boilerplate reported all
    over the city cannot crowd out the copy next door."""
    places, params = _place_filters(near)
    params.update(keys=keys, since=since, until=until, exclude_id=exclude_id)
    rows = session.connection().execute(_hits_statement(places), params)
    return [row[0] for row in rows]


@dataclass(frozen=True)
class OpenText:
    id: int
    title: str
    description: str
    grid_code: str | None
    lng: float | None
    lat: float | None
    reported_at: datetime


_OPEN_TEXTS = select(
    Event.id,
    Event.title,
    Event.description,
    Event.grid_code,
    Event.lng,
    Event.lat,
    Event.reported_at,
).where(
    Event.id.in_(bindparam("ids", expanding=True)),
    Event.status.in_(_OPEN),
    Event.parent_id.is_(None),
)


def open_texts(session: Session, ids: Sequence[int]) -> list[OpenText]:
    """The text and place of those events that can still take a 子单 (open, not merged)."""
    if not ids:
        return []
    rows = session.connection().execute(_OPEN_TEXTS, {"ids": list(ids)})
    return [OpenText(*row) for row in rows]


def decided_with(session: Session, event_id: int, others: Iterable[int]) -> set[int]:
    """Of `others`, those already paired with the event in either direction (any status)."""
    ids = list(others)
    if not ids:
        return set()
    found: set[int] = set()
    for a, b in session.execute(
        select(DuplicateCandidate.event_id, DuplicateCandidate.candidate_id).where(
            or_(
                (DuplicateCandidate.event_id == event_id)
                & DuplicateCandidate.candidate_id.in_(ids),
                (DuplicateCandidate.candidate_id == event_id)
                & DuplicateCandidate.event_id.in_(ids),
            )
        )
    ):
        found.add(b if a == event_id else a)
    return found


def candidates_of(session: Session, event_id: int) -> Sequence[DuplicateCandidate]:
    return session.scalars(
        select(DuplicateCandidate)
        .where(DuplicateCandidate.event_id == event_id)
        .order_by(DuplicateCandidate.score.desc(), DuplicateCandidate.id)
    ).all()


def pair(session: Session, event_id: int, candidate_id: int) -> DuplicateCandidate | None:
    return session.scalars(
        select(DuplicateCandidate).where(
            DuplicateCandidate.event_id == event_id,
            DuplicateCandidate.candidate_id == candidate_id,
        )
    ).first()


def event_id_of(session: Session, code: str) -> int | None:
    return session.scalar(select(Event.id).where(Event.code == code))


def prune_closed(session: Session) -> int:
    """Band keys of events that can no longer be a 主单 are never searched again."""
    stale = select(Event.id).where(
        Event.id == DuplicateBand.event_id,
        or_(Event.status.not_in(_OPEN), Event.parent_id.is_not(None)),
    )
    result = session.execute(delete(DuplicateBand).where(stale.exists()))
    return int(result.rowcount)  # type: ignore[attr-defined]


def unannounced_children(session: Session, limit: int) -> Sequence[tuple[Event, Event]]:
    """Merged 子单 whose 主单 has closed and whose reporter has not been told yet."""
    parent = aliased(Event)
    announced = select(MergeNotice.child_id).where(MergeNotice.child_id == Event.id)
    rows = session.execute(
        select(Event, parent)
        .join(parent, parent.id == Event.parent_id)
        .where(
            Event.status == Status.merged.value,
            parent.status.in_([Status.closed.value, Status.rated.value]),
            ~announced.exists(),
        )
        .order_by(Event.id)
        .limit(limit)
    ).all()
    return [(child, par) for child, par in rows]


def open_without_bands(session: Session, after_id: int, limit: int) -> Sequence[Event]:
    has_bands = select(DuplicateBand.event_id).where(DuplicateBand.event_id == Event.id)
    return session.scalars(
        select(Event)
        .where(
            Event.id > after_id,
            Event.status.in_(_OPEN),
            Event.parent_id.is_(None),
            ~has_bands.exists(),
        )
        .order_by(Event.id)
        .limit(limit)
    ).all()
