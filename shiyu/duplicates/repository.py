from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    bindparam,
    delete,
    or_,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, aliased

from shiyu.duplicates import band_index, cells
from shiyu.duplicates.band_index import BandRow
from shiyu.duplicates.models import DuplicateCandidate, DuplicateSignature, MergeNotice
from shiyu.events.enums import OPEN_STATUSES, Status
from shiyu.events.models import Event
from shiyu.kit import bulk

_OPEN = [s.value for s in OPEN_STATUSES]
#: at most this many band hits are scored for one event: boilerplate texts sharing a band with
#: thousands of events must not make intake slow
MAX_HITS = 200
#: the band index holds events reported this long before the search window too (a 12345
#: import's reports of the day before are still searched in memory)
KEEP_MARGIN = timedelta(days=1)


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

    @functools.cached_property
    def cell(self) -> int:
        """The map cell its rows are filed under (stored by `insert_bands`, and met by the
        later events of its batch in `band_hits_many`)."""
        return cells.cell_of(self.near.lng, self.near.lat)


_SIGNATURES = band_index.SIGNATURES
_SIGNATURE_COLUMNS = ("event_id", "reported_at", "cell", "grid_code", "keys")


def insert_bands(session: Session, bands: Sequence[Bands]) -> None:
    """Each event's keys as one signature row, given to the driver as tuples (`kit.bulk`)."""
    reported_at = bulk.bind_processor(session, _SIGNATURES.c.reported_at)
    rows = [
        (b.event_id, reported_at(b.reported_at), b.cell, b.near.grid_code, band_index.pack(b.keys))
        for b in bands
    ]
    bulk.insert_tuples(session, _SIGNATURES, _SIGNATURE_COLUMNS, rows)


def _place_filters(near: Near) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The place conditions (`_in_place`) whose union holds every event whose place can agree
    with `near` (same grid, within the radius, or without the place that would refute it),
    and their values; `service.place_match` decides exactly. Empty when nothing can refute a
    match (the new event has no place) or the radius is too wide to list its cells."""
    if near.grid_code is None and not near.has_point:
        return (), {}
    names: list[str] = []
    values: dict[str, Any] = {}
    if near.has_point:
        assert near.lng is not None and near.lat is not None
        near_cells = cells.cells_near(near.lng, near.lat, near.radius_m)
        if len(near_cells) > MAX_CELLS:
            return (), {}
        # within the radius, or without a point (then only the grids can refute it)
        names.append("cells")
        values["cells"] = [0, *near_cells]
    else:
        names.append("no_grid")  # no grid there, no point here
    if near.grid_code is not None:
        names.append("grid")
        values["grid"] = near.grid_code
    return tuple(names), values


def band_hits_many(session: Session, batch: Sequence[Bands], window: timedelta) -> list[list[int]]:
    """For each event of the batch, the events sharing one of its band keys, reported within
    `window` of it, whose place can agree with its place: at most `MAX_HITS` per place
    condition, so boilerplate reported all over the city cannot crowd out the copy next door.
    The batch's own keys are not stored yet: each event also finds those before it in the
    batch, as one-by-one intake would have.

    The keys are looked up in the process's index (`band_index`) and in the rows it does not
    hold: this transaction's, those committed since it was brought up to date, and those
    reported before its floor when the window reaches back there (`band_index.unread`). A
    database no other connection sees (SQLite in memory) is read by time instead."""
    if not batch:
        return []
    conn = session.connection()
    since = min(b.reported_at for b in batch) - window
    index = band_index.of_session(session, window + KEEP_MARGIN)
    with index.view() if index is not None else nullcontext() as memory:
        if memory is not None:
            stored = band_index.unread(session, memory, since)
        else:
            stored = [band_index.by_key(_in_windows(conn, batch, window))]
        earlier: dict[int, list[BandRow]] = {}  # the rows of the batch's events searched so far
        stored.append(earlier)
        found: list[list[int]] = []
        for b in batch:
            keys = set(b.keys)
            places = _place_filters(b.near)
            rows: list[BandRow] = []
            if memory is not None:
                cells, grids = _places_held(*places)
                rows = [r for k in keys for r in memory.rows_of(k, cells, grids)]
            rows += [r for k in keys for of_key in stored for r in of_key.get(k, ())]
            found.append(_matching(b, window, rows, places))
            row = BandRow(b.event_id, b.reported_at, b.cell, b.near.grid_code)
            for k in keys:
                earlier.setdefault(k, []).append(row)
    return found


def _in_windows(
    conn: Connection, batch: Sequence[Bands], window: timedelta
) -> list[band_index.Signature]:
    """The stored rows within `window` of any event of the batch: one read per run of
    overlapping windows."""
    spans: list[list[datetime]] = []
    for at in sorted(b.reported_at for b in batch):
        if spans and at - window <= spans[-1][1]:
            spans[-1][1] = at + window
        else:
            spans.append([at - window, at + window])
    return [row for since, until in spans for row in band_index.between(conn, since, until)]


def _places_held(
    places: tuple[str, ...], values: dict[str, Any]
) -> tuple[list[int] | None, list[str | None]]:
    """The place conditions as the band index files a boilerplate key's events: the cells,
    and the grids (None: without a grid)."""
    grids: list[str | None] = [None] if "no_grid" in places else []
    if "grid" in places:
        grids.append(values["grid"])
    return values.get("cells"), grids


def _matching(
    event: Bands,
    window: timedelta,
    rows: Sequence[BandRow],
    place_filters: tuple[tuple[str, ...], dict[str, Any]],
) -> list[int]:
    """The events of these band rows (of the event's keys) within `window` of it and whose
    place can agree with its place, at most `MAX_HITS` per place condition
    (`_place_filters`, checked by `_in_place`)."""
    places, values = place_filters
    near_cells = frozenset(values.get("cells", ()))
    since, until = event.reported_at - window, event.reported_at + window
    # a copy of the text shares all 16 keys: each event is looked at once
    of_events = {r.event_id: r for r in rows}.values()
    candidates = [
        r for r in of_events if r.event_id != event.event_id and since <= r.reported_at <= until
    ]
    found: dict[int, None] = {}
    for place in places or ("",):
        of_place: dict[int, None] = {}
        for r in candidates:
            if len(of_place) < MAX_HITS and _in_place(place, r, near_cells, values.get("grid")):
                of_place[r.event_id] = None
        found.update(of_place)
    return list(found)


def _in_place(place: str, row: BandRow, near_cells: frozenset[int], grid: str | None) -> bool:
    if place == "cells":
        return row.cell in near_cells
    if place == "no_grid":
        return row.grid_code is None
    if place == "grid":
        return row.grid_code == grid
    return True


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
    """The signatures of events that can no longer be a 主单: no process loads them again
    (those holding them drop them with their hour)."""
    stale = select(Event.id).where(
        Event.id == DuplicateSignature.event_id,
        or_(Event.status.not_in(_OPEN), Event.parent_id.is_not(None)),
    )
    result = session.execute(delete(DuplicateSignature).where(stale.exists()))
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
    has_bands = select(DuplicateSignature.event_id).where(DuplicateSignature.event_id == Event.id)
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
