"""Revision 0020bandindex: the band keys' two place indexes become one covering index.
Revision 0021bandkeys: the stored keys computed again with the signature on code points.
Revision 0022bandmemory: an event's band rows become one signature row, and back."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import create_engine, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from shiyu.db import Database
from shiyu.duplicates import band_index, repository, similarity
from shiyu.duplicates.models import DuplicateSignature
from tests.conftest import make_settings
from tests.factories.events import create_event
from tests.factories.world import create_world
from tests.helpers import revision_module, run_cli

#: revision 0021's table (the model is gone since 0022bandmemory)
BANDS = sa.table(
    "duplicate_bands",
    sa.column("event_id", sa.Integer),
    sa.column("key", sa.BigInteger),
    sa.column("reported_at", sa.DateTime(timezone=True)),
    sa.column("cell", sa.Integer),
    sa.column("grid_code", sa.String),
)
TEXT = "解放路与和平路交叉口东侧人行道井盖缺失，晚上没有路灯，行人很容易跌落，请尽快处理"


def _band_indexes(url: str) -> dict[str, list[str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                str(ix["name"]): [str(c) for c in ix["column_names"]]
                for ix in sa_inspect(conn).get_indexes("duplicate_bands")
            }
    finally:
        engine.dispose()


def test_revision_0020_one_index_and_back(fresh_database: str) -> None:
    assert run_cli(fresh_database, "db", "downgrade", "0021bandkeys").returncode == 0
    assert _band_indexes(fresh_database) == {
        "ix_duplicate_bands_key_place": ["key", "cell", "reported_at", "grid_code", "event_id"]
    }
    assert run_cli(fresh_database, "db", "downgrade", "0019searchrowids").returncode == 0
    assert _band_indexes(fresh_database) == {
        "ix_duplicate_bands_key_cell_reported_at": ["key", "cell", "reported_at"],
        "ix_duplicate_bands_key_grid_reported_at": ["key", "grid_code", "reported_at"],
    }
    assert run_cli(fresh_database, "db", "upgrade").returncode == 0
    settings = make_settings(fresh_database)
    db = Database(settings)
    try:
        with db.session() as session:
            world = create_world(session, settings)
            first = create_event(session, settings, world, description=TEXT)
            copy = create_event(session, settings, world, description=TEXT + "。")
            session.commit()
            found = [c.candidate_id for c in repository.candidates_of(session, copy.id)]
            assert found == [first.id]
    finally:
        db.dispose()


def _stored_keys(url: str, events: Iterable[int]) -> dict[int, set[int]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(BANDS.c.event_id, BANDS.c.key).where(BANDS.c.event_id.in_(list(events)))
            ).all()
    finally:
        engine.dispose()
    keys: dict[int, set[int]] = {}
    for event_id, key in rows:
        keys.setdefault(event_id, set()).add(key)
    return keys


def test_revision_0021_computes_the_stored_keys_again_both_ways(fresh_database: str) -> None:
    old_keys = revision_module("0021bandkeys")._keys_until_0020
    # the keys of revision 0020's code (tests/duplicates/test_similarity.py held them)
    sample = similarity.clean("解放路与和平路交叉口东侧人行道井盖缺失，行人易跌落")
    assert old_keys(sample)[:2] == [6327734518791423044, -8153957108697775705]
    settings = make_settings(fresh_database)
    db = Database(settings)
    try:
        with db.session() as session:
            world = create_world(session, settings)
            events = [
                create_event(session, settings, world, description=TEXT),
                create_event(session, settings, world, title="路灯", description="晚上不亮"),
            ]
            session.commit()
            texts = {e.id: similarity.clean(e.title, e.description) for e in events}
            places = _signatures(session)
            assert set(places) >= set(texts)
    finally:
        db.dispose()
    now = {i: set(similarity.keys_for(t)) for i, t in texts.items()}
    before = {i: set(old_keys(t)) for i, t in texts.items()}
    assert {i: set(places[i][3]) for i in texts} == now
    # revision 0022's downgrade: a band row per key, with the event's time and place
    assert run_cli(fresh_database, "db", "downgrade", "0021bandkeys").returncode == 0
    assert _stored_keys(fresh_database, texts) == now
    assert run_cli(fresh_database, "db", "downgrade", "0020bandindex").returncode == 0
    assert _stored_keys(fresh_database, texts) == before
    assert run_cli(fresh_database, "db", "upgrade", "0021bandkeys").returncode == 0
    assert _stored_keys(fresh_database, texts) == now
    assert run_cli(fresh_database, "db", "upgrade").returncode == 0
    db = Database(settings)
    try:
        with db.session() as session:
            # each event's signature kept its keys, time and place, through its band rows
            assert _signatures(session) == places
            copy = create_event(session, settings, world, description=TEXT + "。")
            session.commit()
            found = [c.candidate_id for c in repository.candidates_of(session, copy.id)]
            assert found == [events[0].id]
    finally:
        db.dispose()


def _signatures(session: Session) -> dict[int, tuple[Any, ...]]:
    """Each event's stored time, place and keys."""
    return {
        r.event_id: (r.reported_at, r.cell, r.grid_code, band_index.unpack(r.keys))
        for r in session.scalars(select(DuplicateSignature))
    }
