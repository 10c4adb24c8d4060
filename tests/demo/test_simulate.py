"""The demo's simulated city life: a short run through the real services shows every channel
and every path of the lifecycle, leaves the audit chain intact and the timestamps consistent,
and the same seed gives the same city."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shiyu.audit import service as audit
from shiyu.config import Settings
from shiyu.demo import service as demo_service
from shiyu.demo import simulate
from shiyu.events.enums import OPEN_STATUSES, Channel
from shiyu.events.models import Action, Attachment, Event, Supervision, WhistleCall

#: a fixed "today", so the weekday pattern and the open cases do not depend on the run date
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
SEED = 7

EVERY_PATH = [
    "report",
    "accept",
    "dispatch",
    "sign",
    "start",
    "reply",
    "verify",
    "close",
    "rate",
    "return",
    "rule_final",
    "request_extension",
    "decide_extension",
    "escalate",
    "whistle",
    "checkin",
    "rate_checkin",
    "merge",
    "self_resolve",
    "reject_self_resolution",
    "rework",
    "assist_reply",
    "cancel",
    "reject",
    "suspend",
    "resume",
]


def _city_life(session: Session, settings: Settings) -> tuple[simulate.SimulationReport, Any]:
    """Simulate in a savepoint, read what it left, roll it back."""
    savepoint = session.begin_nested()
    report = simulate.simulate(session, settings, seed=SEED, days=20, per_day=3, now=NOW)
    rows = session.execute(select(Action.action, Action.data, Action.at)).all()
    facts = {
        "actions": Counter(action for action, _, _ in rows),
        "reopened": sum(1 for action, data, _ in rows if action == "rate" and data.get("reopened")),
        "latest_step": max(at for _, _, at in rows),
        "report_at_reported": session.scalar(
            select(func.count())
            .select_from(Action)
            .join(Event, Event.id == Action.event_id)
            .where(Action.action == "report", Action.at == Event.reported_at)
        ),
        "statuses": Counter(session.scalars(select(Event.status))),
        "channels": Counter(session.scalars(select(Event.channel))),
        "photos": Counter(session.scalars(select(Attachment.kind))),
        "supervision_levels": Counter(session.scalars(select(Supervision.level))),
        "checkins": session.scalar(
            select(func.count()).where(WhistleCall.checked_in_at.is_not(None))
        ),
        "chain": audit.verify(session),
    }
    savepoint.rollback()
    return report, facts


@pytest.fixture
def demo_city(session: Session) -> Session:
    demo_service.build(session, seed=2026, password="Demo-pass-2026")
    session.flush()
    return session


def test_city_life(demo_city: Session, settings: Settings) -> None:
    report, facts = _city_life(demo_city, settings)

    assert report.failures == {}
    actions = facts["actions"]
    missing = [a for a in EVERY_PATH if actions[a] == 0]
    assert missing == []
    assert facts["reopened"] >= 1  # a dissatisfied rating sent one back (重办)
    assert report.actions == {**dict(actions), "attach": report.actions["attach"]}
    assert set(facts["channels"]) == {c.value for c in Channel} - {"video"}
    assert report.events == sum(facts["statuses"].values()) > 50
    # still open today at several stages, and finished ones
    open_stages = {s for s in facts["statuses"] if s in OPEN_STATUSES}
    assert len(open_stages) >= 2
    assert facts["statuses"]["rated"] and facts["statuses"]["closed"]
    assert facts["statuses"]["merged"] and facts["statuses"]["rejected"]
    # self-resolved cases carry both photos; whistles were answered; red ones supervised,
    # and a supervision left red for a day rose a level
    assert facts["photos"]["before"] == facts["photos"]["after"] == actions["self_resolve"]
    assert facts["checkins"] == actions["checkin"]
    assert facts["supervision_levels"][1] >= 1
    assert max(facts["supervision_levels"]) >= 2
    # simulated time: nothing after "now"; the report step is dated when it was reported
    assert facts["latest_step"] <= NOW
    assert facts["report_at_reported"] == report.events
    chain = facts["chain"]
    assert chain.ok, chain.reason
    assert chain.checked > sum(actions.values())

    # the same seed gives the same city
    again, again_facts = _city_life(demo_city, settings)
    for key in ("actions", "reopened", "statuses", "channels", "supervision_levels"):
        assert again_facts[key] == facts[key], key
    assert (again.actions, again.by_channel, again.by_status, again.supervisions) == (
        report.actions,
        report.by_channel,
        report.by_status,
        report.supervisions,
    )
