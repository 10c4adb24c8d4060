"""The duplicate search's index in memory: what each process holds, with real commits (two
`Database` objects on one database stand for two processes)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.config import Settings
from shiyu.db import Database
from shiyu.duplicates import band_index, repository, similarity
from shiyu.duplicates.band_index import BandIndex, BandRow, Signature, _hour
from shiyu.duplicates.models import DuplicateSignature
from shiyu.events import service as events_service
from shiyu.events.enums import Channel
from shiyu.events.models import Event
from shiyu.events.schemas import IntakeData
from shiyu.kit.clock import utcnow
from tests.conftest import PG_URL, make_settings
from tests.factories.events import create_event
from tests.factories.world import World, create_world

TEXT = "解放路与和平路交叉口东侧人行道井盖缺失，晚上没有路灯，行人很容易跌落，请尽快处理"
WINDOW = timedelta(hours=72)


@pytest.fixture
def two(fresh_database: str) -> Iterator[tuple[Database, Database, World]]:
    """Two processes' databases on one database, and a world committed in it."""
    settings = make_settings(fresh_database)
    a, b = Database(settings), Database(settings)
    with a.session() as session:
        world = create_world(session, settings)
        session.commit()
    try:
        yield a, b, world
    finally:
        a.dispose()
        b.dispose()


def _report(db: Database, world: World, **kw: Any) -> tuple[int, list[int]]:
    """A report committed through `db`: its id and the events it was suggested to repeat."""
    settings = make_settings(str(db.url))
    with db.session() as session:
        event = create_event(session, settings, world, **{"description": TEXT, **kw})
        session.commit()
        found = [c.candidate_id for c in repository.candidates_of(session, event.id)]
        return event.id, found


def _index(db: Database) -> BandIndex:
    with db.session() as session:
        index = band_index.of_session(session, WINDOW + repository.KEEP_MARGIN)
    assert index is not None
    return index


def _in_memory(index: BandIndex) -> set[int]:
    """The events the index holds, as its last search left it."""
    return {row.event_id for key in index.postings for row in band_index._rows(index.postings[key])}


def _held(index: BandIndex) -> set[int]:
    """The events the index holds, brought up to date."""
    with index.view():
        return _in_memory(index)


def test_each_process_reads_the_reports_another_commits(
    two: tuple[Database, Database, World],
) -> None:
    a, b, world = two
    first, _ = _report(a, world)  # a's index is loaded by this search, before b writes
    copy, found = _report(b, world, description=TEXT + "。")
    assert found == [first]  # b's index, loaded by this search, holds a's report
    later, found = _report(a, world, description=TEXT + "！")
    assert sorted(found) == sorted([first, copy])
    # a read b's report into its index when it searched (not only from the table)
    assert {first, copy} <= _in_memory(_index(a))
    assert later not in _in_memory(_index(b))  # b has not searched since
    assert later in _held(_index(b))


def test_a_rolled_back_report_is_never_held(two: tuple[Database, Database, World]) -> None:
    a, _b, world = two
    settings = make_settings(str(a.url))
    _report(a, world)
    with a.session() as session:
        gone = create_event(session, settings, world, description=TEXT + "。").id
        session.rollback()
    assert gone not in _held(_index(a))
    _kept, found = _report(a, world, description=TEXT + "！")
    assert gone not in found and len(found) == 1


def test_old_reports_are_searched_in_the_database_and_hours_age_out(
    two: tuple[Database, Database, World], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, _b, world = two
    old_at = utcnow() - timedelta(days=10)
    old, _ = _report(a, world, reported_at=old_at)
    recent, _ = _report(a, world, title="路灯不亮", description="和平路口的路灯坏了三天了")
    index = _index(a)
    held = _held(index)
    assert recent in held and old not in held  # before the floor: not loaded
    # a report of that old date reads its window from the database
    _copy, found = _report(a, world, description=TEXT + "。", reported_at=old_at)
    assert found == [old]
    # five days on (the window and a day), the recent report's hour has aged out of memory
    later = utcnow() + timedelta(days=5)
    monkeypatch.setattr(band_index, "utcnow", lambda: later)
    assert recent not in _held(index)
    assert index.floor is not None and index.floor > datetime.now(UTC) + timedelta(hours=23)


def _signature(seq: int, event_id: int | None = None) -> Signature:
    row = BandRow(event_id or seq, utcnow(), 0, None)
    return Signature(seq, row, (seq * 10, seq * 10 + 1))


def test_values_skipped_are_looked_for_until_they_come_or_expire(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index = BandIndex(engine=None, keep=WINDOW)  # type: ignore[arg-type]
    index.floor = utcnow() - WINDOW
    clock = [100.0]
    monkeypatch.setattr(band_index, "monotonic", lambda: clock[0])
    index.add([_signature(1), _signature(2), _signature(5)])
    assert index.last == 5 and sorted(index.holes) == [3, 4]
    index.add([_signature(3)])  # committed late, found by its hole
    assert sorted(index.holes) == [4] and band_index._rows(index.postings[30])[0].event_id == 3
    clock[0] += band_index.HOLE_SECONDS + 1  # never came: a rolled-back insert
    index.add([])
    assert index.holes == {}
    # a long run of values never committed keeps only the latest ones
    index.add([_signature(5 + band_index.MAX_HOLES * 3)])
    assert len(index.holes) == band_index.MAX_HOLES
    assert min(index.holes) == 5 + band_index.MAX_HOLES * 2


@pytest.mark.skipif(not PG_URL, reason="SQLite writes one transaction at a time")
def test_postgresql_a_value_committed_after_a_higher_one_is_read(
    two: tuple[Database, Database, World],
) -> None:
    a, b, world = two
    settings = make_settings(str(a.url))
    _report(a, world)  # loads a's index
    with a.session() as slow:
        late = create_event(slow, settings, world, description=TEXT + "。")  # takes a seq first
        early, _ = _report(b, world, title="路灯不亮", description="和平路口的路灯坏了三天了")
        index = _index(a)
        with index.view() as view:
            seq = slow.scalar(
                select(DuplicateSignature.seq).where(DuplicateSignature.event_id == late.id)
            )
            assert seq in view.holes and view.last > seq
        slow.commit()
        late_id = late.id
    assert late_id in _held(index) and early in _in_memory(index)
    assert seq not in index.holes


def test_every_report_has_one_signature(two: tuple[Database, Database, World]) -> None:
    a, _b, world = two
    ids = [_report(a, world, description=TEXT + "。" * i)[0] for i in range(3)]
    with a.session() as session:
        rows = session.scalars(select(DuplicateSignature).order_by(DuplicateSignature.seq)).all()
        assert [r.event_id for r in rows][-3:] == ids  # after the world's two
        event = session.get(Event, ids[0])
        assert event is not None
        keys = similarity.keys_for(similarity.clean(event.title, event.description))
        assert band_index.unpack(rows[-3].keys) == tuple(sorted(set(keys)))


def test_a_boilerplate_key_is_searched_near_the_report(
    two: tuple[Database, Database, World], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Copies of a text all over the city: their keys are filed by place once they pass
    `HEAVY_KEY_ROWS`, and the copy next door is still found with a hit limit they exceed."""
    a, _b, world = two
    monkeypatch.setattr(band_index, "HEAVY_KEY_ROWS", 3)
    monkeypatch.setattr(repository, "MAX_HITS", 2)
    far_lng, far_lat = world.city.centres[world.grid_b]
    for _ in range(5):
        _report(a, world, lng=far_lng, lat=far_lat)
    near, _ = _report(a, world)
    index = _index(a)
    with index.view() as view:
        key = next(iter(similarity.keys_for(similarity.clean("人行道井盖缺失", TEXT))))
        held = view.postings[key]
        assert isinstance(held, band_index.Heavy)
        assert len(held.near(None, [world.grid_b])) == 5
        assert held.near(None, ["no such grid"]) == []
        assert len(held.near(None, [])) == 6  # no place to filter by: all of them
    _copy, found = _report(a, world, description=TEXT + "。")
    assert found == [near]


def test_an_hour_aging_out_keeps_the_rest_of_a_key() -> None:
    index = BandIndex(engine=None, keep=WINDOW)  # type: ignore[arg-type]
    start = _hour(utcnow() - timedelta(hours=10))
    index.floor = start
    shared = (7, 8)
    old = Signature(1, BandRow(1, start + timedelta(minutes=5), 0, None), shared)
    new = [Signature(i, BandRow(i, start + timedelta(hours=5), 0, "g"), shared) for i in (2, 3)]
    index.add([old, *new])
    assert [r.event_id for r in band_index._rows(index.postings[7])] == [1, 2, 3]
    index._age_out(start + timedelta(hours=1))
    assert [r.event_id for r in band_index._rows(index.postings[7])] == [2, 3]
    index._age_out(start + timedelta(hours=6))
    assert 7 not in index.postings and 8 not in index.postings


def test_a_batch_of_old_reports_reads_each_window_from_the_database(
    two: tuple[Database, Database, World],
) -> None:
    """Reports of last month and of ten days ago in one batch (a 12345 import's, enriched
    later): each window is read from the database, and each finds its own copy only."""
    a, _b, world = two
    settings = make_settings(str(a.url))
    lamp = "和平路口的路灯坏了三天了，晚上一片漆黑，行人和电动车经过很危险，请尽快维修"
    month_ago, ten_days_ago = utcnow() - timedelta(days=30), utcnow() - timedelta(days=10)
    old_cover, _ = _report(a, world, reported_at=month_ago)
    old_lamp, _ = _report(a, world, title="路灯不亮", description=lamp, reported_at=ten_days_ago)
    lng, lat = world.city.centres[world.grid_a]
    reports = [
        IntakeData(
            channel=Channel.hotline_12345,
            title=title,
            description=text + "。",
            lng=lng,
            lat=lat,
            reported_at=at + timedelta(hours=1),
        )
        for title, text, at in (
            ("人行道井盖缺失", TEXT, month_ago),
            ("路灯不亮", lamp, ten_days_ago),
        )
    ]
    with a.session() as session:
        made = events_service.create_many(
            session, settings, [events_service.NewReport(r, None) for r in reports]
        )
        session.commit()
        found = [
            [c.candidate_id for c in repository.candidates_of(session, event.id)]
            for event, _ in made
        ]
    assert found == [[old_cover], [old_lamp]]


def test_a_transaction_reads_its_own_rows_once(
    session: Session, settings: Settings, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backfill flags events in one transaction: each search reads the rows of the ones
    before it (not committed, so not in the index) once, not all of them again; and the rows
    reported before the index's floor once."""
    read: list[Signature] = []
    real = band_index.read

    def counting(conn: Any, statement: Any, params: dict[str, Any]) -> list[Signature]:
        rows = real(conn, statement, params)
        read.extend(rows)
        return rows

    monkeypatch.setattr(band_index, "read", counting)
    ids = [create_event(session, settings, world, description=TEXT + "。" * i).id for i in range(5)]
    assert sorted(r.row.event_id for r in read if r.row.event_id in ids) == ids[:-1]
    assert len(repository.candidates_of(session, ids[-1])) == 4
    # reports of last week: the rows before the index's floor are read once too
    week_ago = utcnow() - timedelta(days=7)
    old = [
        create_event(session, settings, world, description=TEXT + "！" * i, reported_at=week_ago).id
        for i in range(4)
    ]
    times_read = [sum(r.row.event_id == i for r in read) for i in old]
    assert times_read == [1, 1, 1, 0]
    assert len(repository.candidates_of(session, old[-1])) == 3
    assert "shiyu_band_unread" in session.info
    session.rollback()
    assert "shiyu_band_unread" not in session.info
