from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    bindparam,
    delete,
    insert,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased

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


def _place_filters(near: Near) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The place conditions (their SQL: `_place_sql`) whose union holds every event whose
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


@dataclass(frozen=True)
class HitQuery:
    """One new event's band search: its keys, the window of `reported_at`, itself (never its
    own hit) and its place."""

    keys: Sequence[int]
    since: datetime
    until: datetime
    exclude_id: int
    near: Near


def _place_sql(place: str, values: dict[str, Any], mark: str) -> tuple[str, list[Any]]:
    """The SQL (`mark`: the driver's placeholder) and parameters of a place condition named
    by `_place_filters`: within these cells, without a grid, in this grid."""
    if place == "cells":
        return f"cell IN ({', '.join([mark] * len(values['cells']))})", list(values["cells"])
    if place == "no_grid":
        return "grid_code IS NULL", []
    return f"grid_code = {mark}", [values["grid"]]


#: the rows per event the plain look-up (`_hits_by_key`) may read for a batch before the batch
#: is searched place first (`_hits_by_place`)
ROWS_PER_QUERY = 64


def band_hits_many(session: Session, queries: Sequence[HitQuery]) -> list[list[int]]:
    """For each query, the events sharing one of its band keys, reported in its window,
    whose place can agree with its place: at most `MAX_HITS` per place condition, so
    boilerplate reported all over the city cannot crowd out the copy next door.

    Most keys of a new text are shared by no open event, or by a few: one look-up of all the
    batch's keys reads their rows, and the window and the place are checked here (an index
    seek per key). A batch whose keys hold more rows than `ROWS_PER_QUERY` per event shares
    a boilerplate text with many events: it is searched place first instead."""
    if not queries:
        return []
    found = _hits_by_key(session, queries)
    return found if found is not None else _hits_by_place(session, queries)


_BY_KEY = (
    select(
        DuplicateBand.key,
        DuplicateBand.event_id,
        DuplicateBand.reported_at,
        DuplicateBand.cell,
        DuplicateBand.grid_code,
    )
    .where(
        DuplicateBand.key.in_(bindparam("keys", expanding=True)),
        DuplicateBand.reported_at >= bindparam("since"),
        DuplicateBand.reported_at <= bindparam("until"),
    )
    .limit(bindparam("limit"))
)


def _hits_by_key(session: Session, queries: Sequence[HitQuery]) -> list[list[int]] | None:
    """`band_hits_many` from the rows of the batch's keys, or None when they are too many."""
    keys = sorted({k for q in queries for k in q.keys})
    if not keys:
        return [[] for _ in queries]
    limit = ROWS_PER_QUERY * len(queries)
    rows = (
        session.connection()
        .execute(
            _BY_KEY,
            {
                "keys": keys,
                "since": min(q.since for q in queries),
                "until": max(q.until for q in queries),
                "limit": limit + 1,
            },
        )
        .all()
    )
    if len(rows) > limit:
        return None
    by_key: dict[int, list[Any]] = {}
    for row in rows:
        by_key.setdefault(row.key, []).append(row)
    return [_matching(q, [r for k in q.keys for r in by_key.get(k, ())]) for q in queries]


def _matching(query: HitQuery, rows: Sequence[Any]) -> list[int]:
    """The events of these band rows (of the query's keys) in its window and whose place can
    agree with its place, at most `MAX_HITS` per place condition (`_place_sql`'s, checked
    here)."""
    places, values = _place_filters(query.near)
    near_cells = frozenset(values.get("cells", ()))
    candidates = [
        r
        for r in rows
        if r.event_id != query.exclude_id and query.since <= r.reported_at <= query.until
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


def _hits_by_place(session: Session, queries: Sequence[HitQuery]) -> list[list[int]]:
    """`band_hits_many` in one statement, written here as SQL text: a UNION ALL of one
    limited subquery per event and place condition, each served by the index that leads
    with `key` and that condition's column. Its shape changes with every batch, so an
    expression built and compiled by SQLAlchemy each time would cost more than running it."""
    conn = session.connection()
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    as_stored = DuplicateBand.__table__.c.reported_at.type.bind_processor(conn.dialect)
    parts: list[str] = []
    params: list[Any] = []
    for i, query in enumerate(queries):
        if not query.keys:
            continue
        window = [query.since, query.until]
        if as_stored is not None:
            window = [as_stored(t) for t in window]
        base = (
            "SELECT DISTINCT event_id FROM duplicate_bands"
            f' WHERE "key" IN ({", ".join([mark] * len(query.keys))})'
            f" AND reported_at >= {mark} AND reported_at <= {mark} AND event_id <> {mark}"
        )
        base_params = [*query.keys, *window, query.exclude_id]
        places, values = _place_filters(query.near)
        conditions = [_place_sql(place, values, mark) for place in places] or [("", [])]
        for n, (condition, place_params) in enumerate(conditions):
            where = f" AND {condition}" if condition else ""
            parts.append(
                f"SELECT {i} AS q, event_id FROM ({base}{where} LIMIT {MAX_HITS}) AS hits_{i}_{n}"
            )
            params.extend([*base_params, *place_params])
    found: list[dict[int, None]] = [{} for _ in queries]
    if parts:
        for q, event_id in conn.exec_driver_sql(" UNION ALL ".join(parts), tuple(params)):
            found[q][event_id] = None
    return [list(ids) for ids in found]


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
