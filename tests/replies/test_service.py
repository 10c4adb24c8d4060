"""Scoring replied events, flagging low scores to supervisors, and the API."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shiyu.config import Settings
from shiyu.db import Database
from shiyu.events.models import Event
from shiyu.notifications.models import Notification
from shiyu.replies import jobs, service
from shiyu.replies.models import ReplyScore
from tests.factories.events import act, actor_of, create_event
from tests.factories.world import World

GOOD = (
    "您好！来信收悉。经区城管局现场核实，解放路与和平路交叉口东侧人行道井盖确实缺失，"
    "已于当天安排维修人员设置围挡并补装井盖，现已恢复通行。下一步将对该路段井盖开展排查。"
    "如有疑问请拨打027-85551234联系。"
)
POOR = "您反映的问题已收悉，已转有关部门处理。"


def _replied(session: Session, settings: Settings, world: World, reply: str) -> Event:
    event = create_event(session, settings, world)
    dispatcher, handler = actor_of(world, "dispatcher"), actor_of(world, "department_handler")
    act(session, settings, event, dispatcher, "accept")
    act(session, settings, event, dispatcher, "dispatch", lead_department_id=world.dep_a.id)
    act(session, settings, event, handler, "sign")
    act(session, settings, event, handler, "reply", reply=reply)
    return event


def _low_quality_notices(session: Session, world: World, event: Event) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(
                Notification.kind == "reply.low_quality",
                Notification.event_id == event.id,
                Notification.user_id == world.users["supervisor"].id,
            )
        )
        or 0
    )


class TestScoring:
    def test_a_poor_reply_is_flagged_to_the_supervisor(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        event = _replied(session, settings, world, POOR)
        [row] = [r for r in service.score_recent(session, settings) if r.event_id == event.id]
        assert row.flagged and row.score < settings.reply_quality_threshold
        assert "未说明处理措施或结果" in row.details["weaknesses"]
        assert _low_quality_notices(session, world, event) == 1

    def test_a_good_reply_is_not(self, session: Session, settings: Settings, world: World) -> None:
        event = _replied(session, settings, world, GOOD)
        [row] = [r for r in service.score_recent(session, settings) if r.event_id == event.id]
        assert not row.flagged and row.score >= 70
        assert _low_quality_notices(session, world, event) == 0

    def test_each_reply_is_scored_once_and_a_new_reply_again(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        event = _replied(session, settings, world, POOR)
        service.score_recent(session, settings)
        assert service.score_recent(session, settings) == []
        act(session, settings, event, actor_of(world, "dispatcher"), "rework", reason="未处理")
        act(session, settings, event, actor_of(world, "department_handler"), "reply", reply=GOOD)
        rows = service.score_recent(session, settings)
        assert [r.event_id for r in rows] == [event.id]
        count = select(func.count()).where(ReplyScore.event_id == event.id)
        assert session.scalar(count) == 2

    def test_self_resolved_events_are_not_scored(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        event = create_event(session, settings, world)
        event.replied_at, event.reply = event.reported_at, "网格员现场自行处置"
        session.flush()
        assert event.id not in [r.event_id for r in service.score_recent(session, settings)]

    def test_the_job_takes_a_lease_and_scores(
        self, session: Session, settings: Settings, world: World, db: Database
    ) -> None:
        event = _replied(session, settings, world, POOR)
        session.commit()
        assert jobs.score_recent(db, settings) >= 1  # type: ignore[operator]
        session.expire_all()
        count = select(func.count()).where(ReplyScore.event_id == event.id)
        assert session.scalar(count) == 1


class TestApi:
    def test_supervisor_lists_flagged_scores(
        self, client: httpx.Client, session: Session, settings: Settings, world: World
    ) -> None:
        poor = _replied(session, settings, world, POOR)
        _replied(session, settings, world, GOOD)
        service.score_recent(session, settings)
        session.commit()
        headers = world.headers(client, "supervisor")
        resp = client.get("/api/v1/replies/scores", params={"flagged": True}, headers=headers)
        assert resp.status_code == 200, resp.text
        items = resp.json()["items"]
        assert [i["event_code"] for i in items] == [poor.code]
        assert items[0]["weaknesses"]
        everything = client.get("/api/v1/replies/scores", headers=headers).json()["items"]
        assert len(everything) == 2

    def test_other_street_sees_nothing_and_bad_limit_is_422(
        self, client: httpx.Client, session: Session, settings: Settings, world: World
    ) -> None:
        _replied(session, settings, world, POOR)
        service.score_recent(session, settings)
        session.commit()
        from tests.factories.auth import login

        assert world.user_b is not None
        headers = login(client, world.user_b.username)
        assert client.get("/api/v1/replies/scores", headers=headers).json()["items"] == []
        bad = client.get("/api/v1/replies/scores", params={"limit": 0}, headers=headers)
        assert bad.status_code == 422
        assert "limit" in str(bad.json()["error"]["details"])
