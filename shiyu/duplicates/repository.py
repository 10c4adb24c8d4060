from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    JSON,
    ColumnElement,
    Select,
    Table,
    bindparam,
    delete,
    func,
    literal_column,
    or_,
    select,
    text,
    union,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import Executable

from shiyu.duplicates import cells
from shiyu.duplicates.models import DuplicateBand, DuplicateCandidate, MergeNotice
from shiyu.events.enums import OPEN_STATUSES, Status
from shiyu.events.models import Event
from shiyu.kit import bulk

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

    @functools.cached_property
    def cell(self) -> int:
        """The map cell its rows are filed under (stored by `insert_bands`, and met by the
        later events of its batch in `band_hits_many`)."""
        return cells.cell_of(self.near.lng, self.near.lat)


_BANDS = cast(Table, DuplicateBand.__table__)
_BAND_COLUMNS = ("event_id", "reported_at", "cell", "grid_code", "key")


def insert_bands(session: Session, bands: Sequence[Bands]) -> None:
    """Every event's keys in one statement run with many rows, given to the driver as they
    are: sixteen rows a report, each made by SQLAlchemy from a dict with its values bound one
    by one, cost twice as much as the database's work."""
    reported_at = bulk.bind_processor(session, _BANDS.c.reported_at)
    rows: list[tuple[Any, ...]] = []
    for b in bands:
        # one event's keys share its place and time: bound once
        common = (b.event_id, reported_at(b.reported_at), b.cell, b.near.grid_code)
        rows.extend((*common, k) for k in set(b.keys))
    bulk.insert_tuples(session, _BANDS, _BAND_COLUMNS, rows)


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


#: a key shared by more band rows than this in a batch's window is boilerplate: the events
#: with it are searched place first (`_hits_by_place`)
HEAVY_KEY_ROWS = 32


class BandRow(NamedTuple):
    """An event as its band rows place it (each of its rows has the same time and place):
    one read from `duplicate_bands`, or one of the batch being searched (not stored yet)."""

    event_id: int
    reported_at: datetime
    cell: int
    grid_code: str | None


def band_hits_many(session: Session, batch: Sequence[Bands], window: timedelta) -> list[list[int]]:
    """For each event of the batch, the events sharing one of its band keys, reported within
    `window` of it, whose place can agree with its place: at most `MAX_HITS` per place
    condition, so boilerplate reported all over the city cannot crowd out the copy next door.
    The batch's own keys are not stored yet: each event also finds those before it in the
    batch, as one-by-one intake would have.

    Most keys of a new text are shared by no open event, or by a few. So one statement counts
    the stored rows of all the batch's keys (an index seek per key; usually none has any), a
    second reads the rows of the keys that have some, and window and place are checked here.
    On PostgreSQL one statement does both: at most `HEAVY_KEY_ROWS` + 1 rows of each key
    (`_LIMITED_ROWS`). An event with a key held by more than `HEAVY_KEY_ROWS` rows shares a
    boilerplate text with many others: it is searched place first instead."""
    if not batch:
        return []
    conn = session.connection()
    span = {
        "since": min(b.reported_at for b in batch) - window,
        "until": max(b.reported_at for b in batch) + window,
    }
    every_key = sorted({k for b in batch for k in b.keys})
    counts: dict[int, int]
    if conn.dialect.name == "postgresql":
        params = {"keys": every_key, "n": HEAVY_KEY_ROWS + 1, **span}
        rows = conn.execute(_LIMITED_ROWS, params).all()
        counts = Counter(row[0] for row in rows)
        stored = _by_key(conn, [row for row in rows if counts[row[0]] <= HEAVY_KEY_ROWS])
    else:
        counts = _key_counts(conn, every_key, span)
        light = [k for k, n in counts.items() if n <= HEAVY_KEY_ROWS]
        stored = _stored_rows(conn, light, span) if light else {}
    earlier: dict[int, list[BandRow]] = {}  # the rows of the batch's events searched so far
    found: list[list[int]] = []
    for b in batch:
        keys = set(b.keys)
        if any(counts.get(k, 0) > HEAVY_KEY_ROWS for k in keys):
            in_batch = _matching(b, window, [r for k in keys for r in earlier.get(k, ())])
            found.append(list(dict.fromkeys([*_hits_by_place(conn, b, window), *in_batch])))
        else:
            rows = [r for k in keys for r in (*stored.get(k, ()), *earlier.get(k, ()))]
            found.append(_matching(b, window, rows))
        row = BandRow(b.event_id, b.reported_at, b.cell, b.near.grid_code)
        for k in keys:
            earlier.setdefault(k, []).append(row)
    return found


def _stored_rows(
    conn: Connection, keys: list[int], window: dict[str, Any]
) -> dict[int, list[BandRow]]:
    """The stored events of each key (`_by_key`)."""
    statement = _statement(_ROWS_OF_KEYS, conn)
    return _by_key(conn, conn.execute(statement, {"keys": keys, **window}).all())


def _by_key(conn: Connection, rows: Iterable[Any]) -> dict[int, list[BandRow]]:
    """Band rows (key, event, raw time, cell, grid) as each key's events. A copy of a text
    shares all 16 keys with it, so most rows repeat an event already read: each event's
    time is converted once (by SQLAlchemy, for every row, it was most of the search's cost
    when texts repeat)."""
    stamp = bulk.result_processor(conn, _BANDS.c.reported_at)
    events: dict[int, BandRow] = {}
    stored: dict[int, list[BandRow]] = {}
    for key, event_id, reported_at, cell, grid_code in rows:
        row = events.get(event_id)
        if row is None:
            row = events[event_id] = BandRow(event_id, stamp(reported_at), cell, grid_code)
        stored.setdefault(key, []).append(row)
    return stored


def _by_keys(*columns: Any) -> dict[str, Any]:
    """A select of `columns` from the band rows with the given keys (`keys`) reported in a
    window (`since`, `until`), per dialect (PostgreSQL reads them with `_LIMITED_ROWS`). A
    batch has hundreds of keys: SQLite takes them as one JSON list, so the statement's text
    stays the same whatever their number (SQLAlchemy renders no parameter per key, which
    cost more than the look-up)."""
    window = (
        DuplicateBand.reported_at >= bindparam("since"),
        DuplicateBand.reported_at <= bindparam("until"),
    )
    json_list: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(bindparam("keys", type_=JSON()))
    )
    return {
        "sqlite": select(*columns).where(DuplicateBand.key.in_(json_list), *window),
        "": select(*columns).where(
            DuplicateBand.key.in_(bindparam("keys", expanding=True)), *window
        ),
    }


_COUNTS_OF_KEYS = {
    dialect: statement.group_by(DuplicateBand.key)
    for dialect, statement in _by_keys(DuplicateBand.key, func.count()).items()
}
_ROWS_OF_KEYS = _by_keys(
    DuplicateBand.key,
    DuplicateBand.event_id,
    bulk.raw(_BANDS.c.reported_at),  # converted once per event (`_by_key`)
    DuplicateBand.cell,
    DuplicateBand.grid_code,
)


#: PostgreSQL: the band rows of each key in the window, at most `:n` of a key (one more than
#: `HEAVY_KEY_ROWS` tells a boilerplate key), in one statement
_LIMITED_ROWS = text(
    """
    SELECT b.key, b.event_id, b.reported_at, b.cell, b.grid_code
    FROM unnest(CAST(:keys AS bigint[])) AS k(key)
    CROSS JOIN LATERAL (
        SELECT key, event_id, reported_at, cell, grid_code FROM duplicate_bands
        WHERE duplicate_bands.key = k.key
          AND reported_at >= :since AND reported_at <= :until
        LIMIT :n
    ) AS b
    """
)


def _statement(statements: dict[str, Any], conn: Connection) -> Any:
    return statements.get(conn.dialect.name, statements[""])


def _key_counts(conn: Connection, keys: list[int], window: dict[str, Any]) -> dict[int, int]:
    """How many band rows in the window each key has (keys with none left out)."""
    if not keys:
        return {}
    rows = conn.execute(_statement(_COUNTS_OF_KEYS, conn), {"keys": keys, **window}).all()
    return dict(rows)


def _matching(event: Bands, window: timedelta, rows: Sequence[Any]) -> list[int]:
    """The events of these band rows (of the event's keys) within `window` of it and whose
    place can agree with its place, at most `MAX_HITS` per place condition
    (`_PLACE_CONDITIONS`, checked here)."""
    places, values = _place_filters(event.near)
    near_cells = frozenset(values.get("cells", ()))
    since, until = event.reported_at - window, event.reported_at + window
    # an event's rows share its time and place: each event is looked at once, in the order
    # of its first row (a copy of the text shares all 16 keys)
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


def _in_place(place: str, row: Any, near_cells: frozenset[int], grid: str | None) -> bool:
    if place == "cells":
        return bool(row.cell in near_cells)
    if place == "no_grid":
        return row.grid_code is None
    if place == "grid":
        return bool(row.grid_code == grid)
    return True


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


def _hits_by_place(conn: Connection, event: Bands, window: timedelta) -> list[int]:
    """`band_hits_many`'s stored hits of one event, place first: near cells through the band
    index's second column, the grid conditions from its entries (revision 0020bandindex)."""
    places, params = _place_filters(event.near)
    params.update(
        keys=sorted(set(event.keys)),
        since=event.reported_at - window,
        until=event.reported_at + window,
        exclude_id=event.event_id,
    )
    return [row[0] for row in conn.execute(_hits_statement(places), params)]


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
