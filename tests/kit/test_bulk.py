"""`kit.bulk`: rows given to the driver as tuples are stored as SQLAlchemy would store them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, insert, select, text
from sqlalchemy.orm import Session

from shiyu.kit import bulk
from shiyu.kit.types import UTCDateTime

_PROBE = Table(
    "bulk_probe",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime),
    # a name that is a keyword in SQL: the statement must quote it
    Column("key", BigInteger),
    Column("note", String(20)),
)
_COLUMNS = ("id", "at", "key", "note")


def test_tuples_are_stored_as_sqlalchemy_stores_the_same_values(session: Session) -> None:
    _PROBE.create(session.connection())  # rolled back with the test's transaction
    beijing = timezone(timedelta(hours=8))
    moments = [
        datetime(2026, 12, 6, 20, 0, tzinfo=beijing),  # no microseconds: still written in full
        datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
    ]
    at = bulk.bind_processor(session, _PROBE.c.at)
    bulk.insert_tuples(
        session,
        _PROBE,
        _COLUMNS,
        [(i, at(m), -(2**63) + i, "井盖") for i, m in enumerate(moments, start=1)],
    )
    session.connection().execute(
        insert(_PROBE),
        [
            {"id": 10 + i, "at": m, "key": -(2**63) + i, "note": "井盖"}
            for i, m in enumerate(moments, start=1)
        ],
    )
    rows = session.execute(select(_PROBE).order_by(_PROBE.c.id)).all()
    assert [tuple(r) for r in rows[:2]] == [
        (i, m.astimezone(UTC), -(2**63) + i, "井盖") for i, m in enumerate(moments, start=1)
    ]
    assert [r[1:] for r in rows[:2]] == [r[1:] for r in rows[2:]]
    # the stored text itself (SQLite keeps datetimes as text): the same as SQLAlchemy's, so
    # the two sort and compare alike in SQL
    stored = session.execute(text("SELECT id, CAST(at AS VARCHAR(40)) FROM bulk_probe")).all()
    by_id = dict(stored)
    assert by_id[1] == by_id[11] and by_id[2] == by_id[12]


def test_nothing_to_insert_runs_no_statement(session: Session) -> None:
    # no table at all: an empty batch must not reach the database
    bulk.insert_tuples(session, _PROBE, _COLUMNS, [])


def test_a_raw_value_converted_by_the_column_type_is_the_value_sqlalchemy_reads(
    session: Session,
) -> None:
    _PROBE.create(session.connection())
    moment = datetime(2026, 12, 6, 20, 0, 1, 234567, tzinfo=timezone(timedelta(hours=8)))
    session.connection().execute(insert(_PROBE), [{"id": 1, "at": moment, "key": 5}])
    raw = session.connection().execute(select(bulk.raw(_PROBE.c.at))).scalar_one()
    read = session.connection().execute(select(_PROBE.c.at)).scalar_one()
    if session.get_bind().dialect.name == "sqlite":
        assert isinstance(raw, str)  # the driver's text, not converted by SQLAlchemy
    converted = bulk.result_processor(session.connection(), _PROBE.c.at)(raw)
    assert converted == read == moment
    assert converted.tzinfo is UTC
    assert bulk.result_processor(session.connection(), _PROBE.c.at)(None) is None
