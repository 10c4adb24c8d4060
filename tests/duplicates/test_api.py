"""GET /events/{code}/duplicates and the dispatcher's decisions, through the HTTP server."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.audit.models import AuditRecord
from shiyu.config import Settings
from shiyu.events.models import Event
from tests.factories.events import create_event
from tests.factories.world import World

TEXT = "和平路菜市场门口下水道堵塞，污水漫到路面上，气味很大，已经三天了没人处理"


def _pair(session: Session, settings: Settings, world: World) -> tuple[str, str]:
    first = create_event(session, settings, world, title="下水道堵塞", description=TEXT)
    second = create_event(session, settings, world, title="下水道堵塞", description=TEXT)
    session.commit()
    assert first.code and second.code
    return second.code, first.code


def _url(code: str, tail: str = "") -> str:
    return f"/api/v1/events/{code}/duplicates{tail}"


class TestList:
    def test_dispatcher_sees_candidates_with_scores(
        self, client: httpx.Client, session: Session, settings: Settings, world: World
    ) -> None:
        code, parent = _pair(session, settings, world)
        resp = client.get(_url(code), headers=world.headers(client, "dispatcher"))
        assert resp.status_code == 200, resp.text
        [item] = resp.json()["items"]
        assert item["candidate_code"] == parent
        assert item["score"] == 1.0
        assert item["same_grid"] is True
        assert item["decision"] == "suggested"

    def test_other_street_gets_404(
        self, client: httpx.Client, session: Session, settings: Settings, world: World
    ) -> None:
        code, _ = _pair(session, settings, world)
        from tests.factories.auth import login

        assert world.user_b is not None
        resp = client.get(_url(code), headers=login(client, world.user_b.username))
        assert resp.status_code == 404
        assert resp.json()["error"]["code"] == "event.not_found"


class TestReject:
    def test_reject_is_stored_audited_and_final(
        self, client: httpx.Client, session: Session, settings: Settings, world: World
    ) -> None:
        code, parent = _pair(session, settings, world)
        headers = world.headers(client, "dispatcher")
        resp = client.post(
            _url(code, f"/{parent}/reject"), json={"reason": "不同井盖"}, headers=headers
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["decision"] == "rejected"
        [item] = client.get(_url(code), headers=headers).json()["items"]
        assert item["decision"] == "rejected" and item["reason"] == "不同井盖"
        again = client.post(_url(code, f"/{parent}/reject"), headers=headers)
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "duplicate.already_decided"
        session.expire_all()
        audit = session.scalars(
            select(AuditRecord).where(
                AuditRecord.action == "event.duplicate_reject", AuditRecord.object_id == code
            )
        ).all()
        assert len(audit) == 1

    def test_bad_and_unknown_candidates(
        self, client: httpx.Client, session: Session, settings: Settings, world: World
    ) -> None:
        code, _ = _pair(session, settings, world)
        headers = world.headers(client, "dispatcher")
        bad = client.post(_url(code, "/not-a-code/reject"), headers=headers)
        assert bad.status_code == 422
        assert "candidate_code" in str(bad.json()["error"]["details"])
        unknown = client.post(_url(code, "/SY202601010000000/reject"), headers=headers)
        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == "duplicate.not_found"
        long_reason = client.post(
            _url(code, f"/{_}/reject"), json={"reason": "长" * 501}, headers=headers
        )
        assert long_reason.status_code == 422
        assert "reason" in str(long_reason.json()["error"]["details"])

    def test_grid_worker_may_read_but_not_decide(
        self, client: httpx.Client, session: Session, settings: Settings, world: World
    ) -> None:
        code, parent = _pair(session, settings, world)
        headers = world.headers(client, "grid_worker")
        assert client.get(_url(code), headers=headers).status_code == 200
        assert client.post(_url(code, f"/{parent}/reject"), headers=headers).status_code == 403


class TestMerge:
    def test_merge_makes_a_child_of_the_suggested_parent(
        self, client: httpx.Client, session: Session, settings: Settings, world: World
    ) -> None:
        code, parent = _pair(session, settings, world)
        headers = world.headers(client, "dispatcher")
        resp = client.post(_url(code, f"/{parent}/merge"), headers=headers)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["status"] == "merged"
        assert body["parent_code"] == parent
        [item] = client.get(_url(code), headers=headers).json()["items"]
        assert item["decision"] == "merged"
        detail = client.get(f"/api/v1/events/{parent}", headers=headers).json()
        assert detail["children_codes"] == [code]
        session.expire_all()
        child = session.scalars(select(Event).where(Event.code == code)).one()
        assert child.status == "merged"

    def test_merge_of_a_dispatched_event_is_refused(
        self, client: httpx.Client, session: Session, settings: Settings, world: World
    ) -> None:
        code, parent = _pair(session, settings, world)
        headers = world.headers(client, "dispatcher")
        client.post(f"/api/v1/events/{code}/actions", json={"action": "accept"}, headers=headers)
        dispatched = client.post(
            f"/api/v1/events/{code}/actions",
            json={"action": "dispatch", "lead_department_id": world.dep_a.id},
            headers=headers,
        )
        assert dispatched.status_code == 200, dispatched.text
        resp = client.post(_url(code, f"/{parent}/merge"), headers=headers)
        assert resp.status_code == 409
        assert resp.json()["error"]["code"] == "event.transition_not_allowed"

    def test_merge_through_the_actions_route_shows_as_merged(
        self, client: httpx.Client, session: Session, settings: Settings, world: World
    ) -> None:
        code, parent = _pair(session, settings, world)
        headers = world.headers(client, "dispatcher")
        resp = client.post(
            f"/api/v1/events/{code}/actions",
            json={"action": "merge", "parent_code": parent},
            headers=headers,
        )
        assert resp.status_code == 200, resp.text
        [item] = client.get(_url(code), headers=headers).json()["items"]
        assert item["decision"] == "merged"
