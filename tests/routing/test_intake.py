"""At intake every event gets a suggestion; confident ones are dispatched automatically,
the others wait in the queue with the suggestion visible; dispatchers' corrections are kept
and the accuracy is reported per week."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.audit.models import AuditRecord
from shiyu.auth import service as auth_service
from shiyu.auth.access import system_actor
from shiyu.auth.models import Department
from shiyu.classify import service as classifier
from shiyu.config import Settings
from shiyu.events import service as events
from shiyu.events.enums import Channel
from shiyu.events.models import Category, Event
from shiyu.events.schemas import ActionIn, IntakeData
from shiyu.kit.clock import utcnow
from shiyu.notifications.models import Notification
from shiyu.routing import service
from shiyu.routing.models import Suggestion
from shiyu.routing.schemas import Basis, RuleIn
from tests.classify.data import model_bytes
from tests.factories.auth import create_department
from tests.factories.world import World

#: a message of the kind the sample model knows well (教育文体 → AP03)
SCHOOL = (
    "学校乱收补课费",
    "孩子所在的中学强制学生参加周末补课并收取费用，家长负担重，请教育局查处",
)


@pytest.fixture
def housing(session: Session, world: World) -> Department:
    """A second department of district A, for dispatchers' corrections."""
    return create_department(
        session, code="ZJA", area_code=world.city.districts[0], name="第1区住建局"
    )


@pytest.fixture
def active_model(session: Session, world: World) -> int:
    """The sample model active, and every message-board class (AP01..AP07) of district A
    listed for district A's 城管局."""
    stored = classifier.store(session, None, "sample", model_bytes())
    classifier.activate(session, None, stored["id"])
    for code in ("AP01", "AP02", "AP03", "AP04", "AP05", "AP06", "AP07"):
        service.create_rule(
            session,
            system_actor(),
            RuleIn(
                category_code=code,
                area_code=world.city.districts[0],
                basis=Basis.territory,
                department_id=world.dep_a.id,
            ),
        )
    model_id: int = stored["id"]
    return model_id


def _report(session: Session, settings: Settings, world: World, threshold: float) -> Event:
    lng, lat = world.city.centres[world.grid_a]
    event, created = events.create(
        session,
        settings.model_copy(update={"auto_dispatch_threshold": threshold}),
        IntakeData(
            channel=Channel.hotline_12345, title=SCHOOL[0], description=SCHOOL[1], lng=lng, lat=lat
        ),
        actor=None,
    )
    assert created
    return event


def _suggestion(session: Session, event: Event) -> Suggestion:
    row = session.scalar(select(Suggestion).where(Suggestion.event_id == event.id))
    assert row is not None
    return row


def test_confident_suggestion_is_dispatched_automatically(
    session: Session, settings: Settings, world: World, active_model: int
) -> None:
    event = _report(session, settings, world, threshold=0.0)
    assert event.status == "dispatched"
    assert event.lead_department_id == world.dep_a.id
    assert event.category_code == "AP03"
    row = _suggestion(session, event)
    assert row.auto_dispatched and row.model_id == active_model
    assert row.suggested_category == "AP03" and row.route_basis == "territory"
    dispatch = session.scalars(
        select(AuditRecord).where(
            AuditRecord.object_id == event.code, AuditRecord.action == "event.dispatch"
        )
    ).one()
    assert dispatch.actor_name == "system" and dispatch.actor_id is None


def test_a_batch_of_confident_reports_is_dispatched_each_written_once(
    session: Session, settings: Settings, world: World, active_model: int
) -> None:
    """The group commit's batches: every confident report is accepted and dispatched, with
    its timeline, assignment, deadlines and the unit's notice, and its row is inserted as it
    ends up, dispatched: no second version of it (an UPDATE)."""
    from sqlalchemy import event as sa_event

    from shiyu.events.models import Action, Assignment

    lng, lat = world.city.centres[world.grid_a]
    confident = settings.model_copy(update={"auto_dispatch_threshold": 0.0})
    reports = [
        events.NewReport(
            IntakeData(
                channel=Channel.hotline_12345,
                title=SCHOOL[0],
                description=SCHOOL[1] + "。" * i,
                lng=lng,
                lat=lat,
            ),
            None,
        )
        for i in range(3)
    ]
    updates: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.startswith("UPDATE events "):
            updates.append(statement)

    engine = session.get_bind()
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        made = events.create_many(session, confident, reports)
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    assert updates == []
    for event, created in made:
        assert created and event.status == "dispatched"
        # the stored row, not the session's object
        stored = session.execute(
            select(Event.__table__.c.status, Event.__table__.c.lead_department_id).where(
                Event.__table__.c.id == event.id
            )
        ).one()
        assert tuple(stored) == ("dispatched", world.dep_a.id)
        notices = session.scalars(
            select(Notification.kind).where(Notification.event_id == event.id)
        ).all()
        assert "event.dispatched" in notices
        assert event.lead_department_id == world.dep_a.id
        assert event.accepted_at is not None and event.finish_deadline is not None
        actions = session.scalars(
            select(Action.action).where(Action.event_id == event.id).order_by(Action.id)
        ).all()
        assert list(actions) == ["report", "accept", "dispatch"]
        lead = session.scalars(select(Assignment).where(Assignment.event_id == event.id)).one()
        assert lead.department_id == world.dep_a.id and lead.active
        assert _suggestion(session, event).auto_dispatched


def test_predictions_made_before_queueing_are_used_when_their_model_is_still_active(
    session: Session, settings: Settings, world: World, active_model: int
) -> None:
    """A web process classifies the reports it sends to its writer (`predict_ahead`); the
    writer uses those predictions when they come from the active model, and predicts again
    when another model made them (one activated meanwhile)."""
    lng, lat = world.city.centres[world.grid_a]
    data = IntakeData(
        channel=Channel.hotline_12345, title=SCHOOL[0], description=SCHOOL[1], lng=lng, lat=lat
    )
    [ahead] = service.predict_ahead(session, settings, [events.prepare(data)])
    assert ahead.predicted is not None
    token, tops = ahead.predicted
    assert token == classifier.active(session, settings).token  # type: ignore[union-attr]
    assert tops[0][0] == "教育文体"  # what the writer would have predicted (AP03)
    # an ahead prediction the writer could not have made: used as it is, with its model
    planted = replace(ahead, predicted=(token, (("卫生计生", 0.91), ("教育文体", 0.05))))
    # the same from another model: the writer predicts again with the active one
    stale = replace(ahead, predicted=("9:other", (("卫生计生", 0.91),)))
    made = events.create_many(
        session,
        settings,
        [events.NewReport(data, None, prepared=p) for p in (ahead, planted, stale)],
    )
    rows = [_suggestion(session, event) for event, _ in made]
    assert [r.label for r in rows] == ["教育文体", "卫生计生", "教育文体"]
    assert rows[1].confidence == 0.91 and rows[0].confidence == tops[0][1]
    assert all(r.model_id == active_model for r in rows)


def test_unsure_suggestion_waits_in_the_queue_with_the_suggestion_visible(
    client: httpx.Client, session: Session, settings: Settings, world: World, active_model: int
) -> None:
    event = _report(session, settings, world, threshold=1.01)
    assert event.status == "reported" and event.lead_department_id is None
    resp = client.get(f"/api/v1/events/{event.code}", headers=world.headers(client, "dispatcher"))
    assert resp.status_code == 200, resp.text
    suggestion = resp.json()["suggestion"]
    assert suggestion["suggested_category"] == "AP03"
    assert suggestion["suggested_department_id"] == world.dep_a.id
    # names for the dispatcher, from the catalogue and the department list
    category = session.get(Category, "AP03")
    assert category is not None and suggestion["suggested_category_name"] == category.name
    assert suggestion["suggested_department_name"] == world.dep_a.name
    assert 0 < suggestion["confidence"] <= 1 and suggestion["auto_dispatched"] is False
    assert suggestion["top"][0]["category_code"] == "AP03" and len(suggestion["top"]) == 3


def test_no_model_no_auto_dispatch(session: Session, settings: Settings, world: World) -> None:
    event = _report(session, settings, world, threshold=0.0)
    assert event.status == "reported"
    assert session.scalar(select(Suggestion).where(Suggestion.event_id == event.id)) is None


def test_corrections_are_stored_and_exported(
    client: httpx.Client,
    session: Session,
    settings: Settings,
    world: World,
    active_model: int,
    housing: Department,
) -> None:
    event = _report(session, settings, world, threshold=1.01)
    dispatcher = world.headers(client, "dispatcher")
    # the dispatcher disagrees: another category and another department
    resp = client.post(
        f"/api/v1/routing/events/{event.code}/category",
        json={"category_code": "AP01"},
        headers=dispatcher,
    )
    assert resp.status_code == 200, resp.text
    for action, extra in (("accept", {}), ("dispatch", {"lead_department_id": housing.id})):
        resp = client.post(
            f"/api/v1/events/{event.code}/actions",
            json={"action": action, **extra},
            headers=dispatcher,
        )
        assert resp.status_code == 200, resp.text

    corrections = client.get("/api/v1/routing/corrections", headers=dispatcher).json()
    assert [c["event_id"] for c in corrections] == [event.id]
    assert corrections[0]["category_code"] == "AP01"
    assert corrections[0]["category_name"] == "城乡建设"
    assert corrections[0]["suggested_category"] == "AP03"
    assert corrections[0]["decided_department_id"] == housing.id
    row = _suggestion(session, event)
    session.refresh(row)
    assert row.decided_category == "AP01" and row.decided_department_id == housing.id

    # once dispatched the category is final
    late = client.post(
        f"/api/v1/routing/events/{event.code}/category",
        json={"category_code": "AP02"},
        headers=dispatcher,
    )
    assert late.status_code == 409


def test_accuracy_per_week(
    client: httpx.Client,
    session: Session,
    settings: Settings,
    world: World,
    active_model: int,
    housing: Department,
) -> None:
    user = world.users["dispatcher"]
    actor = replace(auth_service.actor_for(user, "street"), user_id=user.id)
    now = utcnow()
    # two weeks ago: one suggestion confirmed; this week: one confirmed, one corrected
    plan = [(now - timedelta(weeks=2), world.dep_a.id), (now, world.dep_a.id), (now, housing.id)]
    for when, department in plan:
        event = _report(session, settings, world, threshold=1.01)
        events.apply_transition(
            session, settings, event, actor, ActionIn(action="accept"), now=when
        )
        events.apply_transition(
            session,
            settings,
            event,
            actor,
            ActionIn(action="dispatch", lead_department_id=department),
            now=when,
        )
    # an automatic dispatch is the model's own decision: not counted
    _report(session, settings, world, threshold=0.0)

    resp = client.get(
        "/api/v1/routing/accuracy", params={"weeks": 3}, headers=world.headers(client, "leader")
    )
    assert resp.status_code == 200, resp.text
    report = resp.json()
    assert [w["decided"] for w in report["weeks"]] == [1, 0, 2]
    this_week = report["weeks"][-1]
    assert this_week["category_correct"] == 2 and this_week["department_correct"] == 1
    assert this_week["department_accuracy"] == 0.5 and this_week["category_accuracy"] == 1.0
    assert report["weeks"][0]["department_accuracy"] == 1.0
    assert report["weeks"][1]["category_accuracy"] is None
    assert report["decided"] == 3
    assert isinstance(datetime.fromisoformat(this_week["week_start"]), datetime)

    bad = client.get(
        "/api/v1/routing/accuracy", params={"weeks": 0}, headers=world.headers(client, "leader")
    )
    assert bad.status_code == 422 and "weeks" in str(bad.json()["error"]["details"])
