"""The duplicate search's index in memory: each process holds the band keys of the events
reported in the last `keep` (the search window and a margin), read from `duplicate_signatures`
and kept up to date by reading the rows committed since, in `seq` order.

Why in memory: a band key is a random 64-bit value, so an index in the database takes each
report's 16 keys at 16 random pages: on SQLite 21 of the 34 pages an intake batch wrote to
the log per report. A signature row is appended instead, and looking keys up in a dict costs
less than the index seek did: 50-client creation on SQLite rose from 878–979 to 1,133–1,233
reports/s (alternating runs on the same city, revision 0022bandmemory).

Consistency:
- The index holds committed rows only, read through a connection of its own. A search also
  reads, on the searching session's connection, the rows newer than the index
  (`seq > last`, and the holes below): its own transaction's rows, not committed yet, and any
  committed since the refresh (`unread`: each once per transaction).
- PostgreSQL hands out `seq` values before commit, so a transaction can commit a lower value
  after a higher one was read: the values skipped are holes, read again at each refresh until
  found, or for `HOLE_SECONDS` (a rolled-back insert's value never comes). SQLite writes one
  transaction at a time, so there it only meets the values of rows deleted before it read them.
- Rows are never removed but by age: the events of a key are checked afterwards (open, not
  merged; `repository.open_texts`), so a closed event's keys only cost a look-up until they
  age out. A search whose window reaches back before the index's `floor` (a report of old
  date, as a 12345 import's) also reads the rows reported before the floor from the
  database, once per transaction (`unread`).
- Memory: an event costs about 1.5–1.9 KB (16 dict entries and their keys, its row; a key
  held by one event keeps the row itself, not a list). A city taking 20,000 reports a day
  holds about 80,000 events with the default 72 hours and a day: 117 MB (tracemalloc).
"""

from __future__ import annotations

import struct
import threading
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from time import monotonic
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, event, func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, SessionTransaction

from shiyu.db import make_engine
from shiyu.duplicates.models import DuplicateSignature
from shiyu.kit import bulk
from shiyu.kit.clock import utcnow

SIGNATURES = cast(Table, DuplicateSignature.__table__)
#: a value skipped by the rows read is looked for again this long, then taken for a rollback
HOLE_SECONDS = 60.0
#: at most this many holes are looked for (a burst of rolled-back inserts cannot grow it)
MAX_HOLES = 1000


class BandRow(NamedTuple):
    """An event as the search meets it under each of its keys: its time and place."""

    event_id: int
    reported_at: datetime
    cell: int
    grid_code: str | None


class Signature(NamedTuple):
    seq: int
    row: BandRow
    keys: tuple[int, ...]


def pack(keys: Iterable[int]) -> bytes:
    values = sorted(set(keys))
    return struct.pack(f"<{len(values)}q", *values)


def unpack(blob: bytes) -> tuple[int, ...]:
    return struct.unpack(f"<{len(blob) // 8}q", blob)


_COLUMNS = (
    SIGNATURES.c.seq,
    SIGNATURES.c.event_id,
    bulk.raw(SIGNATURES.c.reported_at),  # converted by `read`, once per row
    SIGNATURES.c.cell,
    SIGNATURES.c.grid_code,
    SIGNATURES.c["keys"],
)
_NEWER = select(*_COLUMNS).where(SIGNATURES.c.seq > bindparam("last")).order_by(SIGNATURES.c.seq)
_OF_SEQS = select(*_COLUMNS).where(SIGNATURES.c.seq.in_(bindparam("seqs", expanding=True)))
_SINCE = select(*_COLUMNS).where(
    SIGNATURES.c.reported_at >= bindparam("since"), SIGNATURES.c.seq <= bindparam("top")
)
_BETWEEN = select(*_COLUMNS).where(
    SIGNATURES.c.reported_at >= bindparam("since"), SIGNATURES.c.reported_at <= bindparam("until")
)
_TOP = select(func.coalesce(func.max(SIGNATURES.c.seq), 0))


def read(conn: Connection, statement: Any, params: dict[str, Any]) -> list[Signature]:
    stamp = bulk.result_processor(conn, SIGNATURES.c.reported_at)
    return [
        Signature(seq, BandRow(event_id, stamp(at), cell, grid), unpack(keys))
        for seq, event_id, at, cell, grid, keys in conn.execute(statement, params)
    ]


def newer(conn: Connection, last: int, holes: Sequence[int]) -> list[Signature]:
    """The rows after `last`, and those of the `holes` that are there now."""
    found = read(conn, _NEWER, {"last": last})
    if holes:
        found += read(conn, _OF_SEQS, {"seqs": list(holes)})
    return found


def between(conn: Connection, since: datetime, until: datetime) -> list[Signature]:
    """The rows of the events reported in [since, until]."""
    return read(conn, _BETWEEN, {"since": since, "until": until})


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


#: a key held by more events than this shares a boilerplate text with them (one that grid
#: workers report all over the city): its events are filed by place (`Heavy`), so a search
#: reads those near it rather than all of them
HEAVY_KEY_ROWS = 64


class Heavy:
    """A boilerplate key's events by map cell and by grid (None: without a grid)."""

    __slots__ = ("by_cell", "by_grid")

    def __init__(self, rows: Iterable[BandRow]) -> None:
        self.by_cell: dict[int, list[BandRow]] = {}
        self.by_grid: dict[str | None, list[BandRow]] = {}
        for row in rows:
            self.add(row)

    def add(self, row: BandRow) -> None:
        self.by_cell.setdefault(row.cell, []).append(row)
        self.by_grid.setdefault(row.grid_code, []).append(row)

    def all(self) -> list[BandRow]:
        return [row for rows in self.by_cell.values() for row in rows]

    def near(self, cells: Iterable[int] | None, grids: Iterable[str | None]) -> list[BandRow]:
        """The events in `cells` or in `grids` (all of them when `cells` is None and there
        are no grids: the search has no place to filter by)."""
        grids = list(grids)
        if cells is None and not grids:
            return self.all()
        found = [r for c in cells or () for r in self.by_cell.get(c, ())]
        return found + [r for g in grids for r in self.by_grid.get(g, ())]


#: a key's events: one (most keys: a list each would double the index's memory), a list, or
#: a boilerplate key's by place
Held = BandRow | list[BandRow] | Heavy


def _rows(held: Held | None) -> Sequence[BandRow]:
    if held is None:
        return ()
    if type(held) is Heavy:
        return held.all()
    return held if type(held) is list else (held,)  # type: ignore[return-value]


def _held(rows: list[BandRow]) -> Held | None:
    if len(rows) > HEAVY_KEY_ROWS:
        return Heavy(rows)
    return rows if len(rows) > 1 else rows[0] if rows else None


@dataclass
class View:
    """What a search reads from the index, while it holds the index's lock."""

    floor: datetime
    last: int
    holes: list[int]
    postings: dict[int, Held]

    def rows_of(
        self, key: int, cells: Iterable[int] | None, grids: Iterable[str | None]
    ) -> Sequence[BandRow]:
        """The key's events; of a boilerplate key, those in `cells` or `grids` (`Heavy`)."""
        held = self.postings.get(key)
        if type(held) is Heavy:
            return held.near(cells, grids)
        return _rows(held)


@dataclass
class BandIndex:
    """The band keys of the signature rows reported since `floor` (the hour `keep` ago), as
    committed, read through `engine`."""

    engine: Engine
    keep: timedelta
    postings: dict[int, Held] = field(default_factory=dict)
    floor: datetime | None = None  # None until the first search loads the index
    last: int = 0  # the highest seq read
    holes: dict[int, float] = field(default_factory=dict)  # seq → when first missed
    #: the keys added in each hour of report time, to drop them when the hour ages out
    _hours: dict[datetime, list[tuple[tuple[int, ...], BandRow]]] = field(default_factory=dict)
    #: one string per grid code, shared by the rows
    _grids: dict[str | None, str | None] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def view(self) -> Iterator[View]:
        """The index brought up to date, held still while the caller searches it."""
        with self._lock:
            self._refresh()
            assert self.floor is not None
            yield View(self.floor, self.last, list(self.holes), self.postings)

    def _refresh(self) -> None:
        floor = _hour(utcnow() - self.keep)
        with self.engine.connect() as conn:
            if self.floor is None:
                self.floor = floor
                # the highest seq first: a row committed after it is read as newer next time
                top = int(conn.execute(_TOP).scalar_one())
                self.add(read(conn, _SINCE, {"since": floor, "top": top}), top=top)
            else:
                self.add(newer(conn, self.last, list(self.holes)))
                self._age_out(floor)

    def add(self, rows: Sequence[Signature], *, top: int | None = None) -> None:
        """File the rows read (in any order), and note the seq values skipped as holes."""
        assert self.floor is not None
        now = monotonic()
        seen = {r.seq for r in rows}
        high = max(seen, default=self.last) if top is None else top
        if top is None:
            # values between the last read and the highest read that did not come yet (the
            # latest `MAX_HOLES` of them)
            for seq in range(max(self.last + 1, high - MAX_HOLES), high):
                if seq not in seen:
                    self.holes.setdefault(seq, now)
        for seq in seen:
            self.holes.pop(seq, None)
        expired = [s for s, t in self.holes.items() if now - t > HOLE_SECONDS]
        for seq in expired + sorted(self.holes)[: max(len(self.holes) - MAX_HOLES, 0)]:
            self.holes.pop(seq, None)
        self.last = max(self.last, high)
        postings = self.postings
        for r in rows:
            if r.row.reported_at < self.floor:
                continue  # read from the database by the searches that need it (`unread`)
            row = r.row._replace(grid_code=self._grids.setdefault(r.row.grid_code, r.row.grid_code))
            for key in r.keys:
                held = postings.get(key)
                if held is None:
                    postings[key] = row
                elif type(held) is list:
                    held.append(row)
                    if len(held) > HEAVY_KEY_ROWS:
                        postings[key] = Heavy(held)
                elif type(held) is Heavy:
                    held.add(row)
                else:
                    postings[key] = [held, row]  # type: ignore[list-item]
            self._hours.setdefault(_hour(row.reported_at), []).append((r.keys, row))

    def _age_out(self, floor: datetime) -> None:
        assert self.floor is not None
        if floor <= self.floor:
            return
        self.floor = floor
        touched: set[int] = set()
        for hour in [h for h in self._hours if h < floor]:
            for keys, _row in self._hours.pop(hour):
                touched.update(keys)
        for key in touched:
            held = _held([r for r in _rows(self.postings.get(key)) if r.reported_at >= floor])
            if held is None:
                self.postings.pop(key, None)
            else:
                self.postings[key] = held


#: `session.info`'s key for what its transaction read beside its index (`unread`)
_UNREAD = "shiyu_band_unread"


@dataclass
class _Seen:
    """What a session's transaction read beside its index: the rows past it (up to `upto`),
    and those reported before its floor, in [low, high]."""

    upto: int = 0
    low: datetime | None = None
    high: datetime | None = None
    by_key: dict[int, list[BandRow]] = field(default_factory=dict)


def by_key(
    rows: Iterable[Signature], into: dict[int, list[BandRow]] | None = None
) -> dict[int, list[BandRow]]:
    """Signature rows as each key's events (added to `into` when given)."""
    filed: dict[int, list[BandRow]] = {} if into is None else into
    for r in rows:
        for key in r.keys:
            filed.setdefault(key, []).append(r.row)
    return filed


def unread(session: Session, view: View, since: datetime) -> list[dict[int, list[BandRow]]]:
    """The rows a search from `since` on needs beside the index, by key, as the session's
    transaction sees them: those past the index (its own, not committed yet, and any
    committed since the index was brought up to date) and those reported before the index's
    floor. Each is read once per transaction (a backfill that searches 500 events at a time in
    one transaction would otherwise read its earlier ones again each time, and a 12345 import's
    reports of last week their window of the city's); the holes' rows at each search."""
    conn = session.connection()
    seen = session.info.get(_UNREAD)
    if seen is None:
        seen = session.info[_UNREAD] = _Seen()
    rows = read(conn, _NEWER, {"last": max(view.last, seen.upto)})
    seen.upto = max([seen.upto, *(r.seq for r in rows)])
    by_key(rows, seen.by_key)
    if since < view.floor:
        if seen.low is None or seen.high is None:
            by_key(between(conn, since, view.floor), seen.by_key)
            seen.low, seen.high = since, view.floor
        if since < seen.low:
            by_key(between(conn, since, seen.low), seen.by_key)
            seen.low = since
        if view.floor > seen.high:  # an hour aged out of the index meanwhile
            by_key(between(conn, seen.high, view.floor), seen.by_key)
            seen.high = view.floor
    if not view.holes:
        return [seen.by_key]
    return [seen.by_key, by_key(read(conn, _OF_SEQS, {"seqs": view.holes}))]


@event.listens_for(Session, "after_transaction_end")
def _forget_unread(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # committed (then the index reads them) or rolled back
        session.info.pop(_UNREAD, None)


#: each engine's index (None: an in-memory SQLite database, which another connection would
#: not see; its searches read the database by time)
_INDEXES: weakref.WeakKeyDictionary[Engine, BandIndex | None] = weakref.WeakKeyDictionary()
_MAKING = threading.Lock()


def of_session(session: Session, keep: timedelta) -> BandIndex | None:
    """The process's index of the session's database, made by its first search."""
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    try:
        return _INDEXES[engine]
    except KeyError:
        with _MAKING:
            if engine not in _INDEXES:
                _INDEXES[engine] = _new_index(engine, keep)
            return _INDEXES[engine]


def _new_index(engine: Engine, keep: timedelta) -> BandIndex | None:
    url = engine.url
    if url.get_backend_name() != "sqlite":
        return BandIndex(engine, keep)
    if url.database in (None, "", ":memory:") or "mode=memory" in str(url):
        return None
    # an engine of its own: the writer's begins every transaction by taking the write lock
    return BandIndex(make_engine(url.render_as_string(hide_password=False)), keep)
