"""The periodic job that gives the reports of a 12345 import what intake gives every other
report (`intake.enrich`): duplicate-search keys and suggestions, and routing suggestions
without automatic dispatch."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shiyu.classify import service as classifier
from shiyu.config import Settings
from shiyu.db import Database
from shiyu.duplicates import repository as duplicates
from shiyu.duplicates.models import DuplicateSignature
from shiyu.events.models import Event
from shiyu.intake import enrich
from shiyu.routing.models import Suggestion
from tests.classify.data import model_bytes
from tests.factories.auth import login
from tests.factories.world import World
from tests.intake.hotline_files import MAPPING, row, to_csv

PIPE = "小区门口下水道堵塞，污水漫到人行道上，气味很大，已经三天了，请尽快疏通"
SCHOOL = "孩子所在的中学强制学生参加周末补课并收取费用，家长负担重，请教育局查处"


def _bands(session: Session, event: Event) -> int:
    stmt = (
        select(func.count())
        .select_from(DuplicateSignature)
        .where(DuplicateSignature.event_id == event.id)
    )
    return session.scalar(stmt) or 0


def test_imported_reports_get_keys_duplicates_and_suggestions(
    client: httpx.Client, session: Session, settings: Settings, db: Database, world: World
) -> None:
    stored = classifier.store(session, None, "sample", model_bytes())
    classifier.activate(session, None, stored["id"])
    session.commit()
    before = _import_rows(client, session, world)
    first, copy, school = before["E1"], before["E2"], before["E3"]
    # the import's bulk path stores neither (that is what keeps it fast)
    assert _bands(session, first) == 0
    assert session.scalar(select(Suggestion).where(Suggestion.event_id == first.id)) is None

    report = enrich.enrich(db, settings)
    assert report.ran and report.indexed >= 3 and report.suggested >= 3
    session.expire_all()
    assert _bands(session, first) > 0 and _bands(session, school) > 0
    # the re-post finds the first call; nothing joins the school fees to the drain
    assert [c.candidate_id for c in duplicates.candidates_of(session, copy.id)] == [first.id]
    assert list(duplicates.candidates_of(session, school.id)) == []
    suggestion = session.scalar(select(Suggestion).where(Suggestion.event_id == school.id))
    assert suggestion is not None and suggestion.suggested_category is not None
    # suggestions only: an import may be a backlog, a dispatcher decides
    assert not suggestion.auto_dispatched
    assert session.get(Event, school.id).status == "reported"  # type: ignore[union-attr]
    # a second run has nothing left to do, and reads only the newest ids
    again = enrich.enrich(db, settings)
    assert (again.indexed, again.suggested) == (0, 0)
    assert enrich._passed == {"index": school.id, "suggest": school.id}


def test_reports_after_a_complete_pass_are_found(
    client: httpx.Client, session: Session, settings: Settings, db: Database, world: World
) -> None:
    """A run starts near where the last complete pass ended: what came after is found."""
    enrich.enrich(db, settings)
    assert enrich._passed["index"] == max(e.id for e in session.scalars(select(Event)))
    events = _import_rows(client, session, world)
    assert enrich.enrich(db, settings).indexed == 3
    assert all(_bands(session, e) > 0 for e in events.values())


def test_without_a_model_only_the_keys(
    client: httpx.Client, session: Session, settings: Settings, db: Database, world: World
) -> None:
    events = _import_rows(client, session, world)
    report = enrich.enrich(db, settings)
    assert report.suggested == 0 and report.indexed >= 3
    assert session.scalar(select(func.count()).select_from(Suggestion)) == 0
    assert all(_bands(session, e) > 0 for e in events.values())
    # a model activated later still finds them: without one the pass did not count as done
    assert enrich._passed["suggest"] == 0
    stored = classifier.store(session, None, "sample", model_bytes())
    classifier.activate(session, None, stored["id"])
    session.commit()
    assert enrich.enrich(db, settings).suggested >= 3


def _import_rows(client: httpx.Client, session: Session, world: World) -> dict[str, Event]:
    admin = login(client, "admin_a")
    mapping = client.post("/api/v1/intake/hotline/mappings", json=MAPPING, headers=admin)
    assert mapping.status_code == 201, mapping.text
    lng, lat = world.city.centres[world.grid_a]
    point = {"经度": str(lng), "纬度": str(lat)}
    data = to_csv(
        [
            row("E1", "下水道堵塞", 内容=PIPE, **point),
            row("E2", "下水道堵了", 内容=PIPE + "。", **point),
            row("E3", "学校乱收补课费", 内容=SCHOOL, **point),
        ]
    )
    resp = client.post(
        "/api/v1/intake/hotline/imports",
        files={"file": ("calls.csv", data, "text/csv")},
        data={"mapping": "city12345"},
        headers=admin,
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["created"] == 3, resp.json()
    session.expire_all()
    rows = session.scalars(select(Event).where(Event.channel == "hotline_12345")).all()
    found = {e.external_id or "": e for e in rows}
    assert set(found) == {"E1", "E2", "E3"}
    return found
