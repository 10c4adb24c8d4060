"""Revision 0020bandindex: the band keys' two place indexes become one covering index."""

from __future__ import annotations

from sqlalchemy import create_engine
from sqlalchemy import inspect as sa_inspect

from shiyu.db import Database
from shiyu.duplicates import repository
from tests.conftest import make_settings
from tests.factories.events import create_event
from tests.factories.world import create_world
from tests.helpers import run_cli

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
