"""The closed loop over real HTTP: a resident reports → the centre accepts and dispatches →
the department signs and replies → the centre verifies and closes → the resident rates."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories.events import PNG
from tests.factories.world import World

PHONE = "13912345678"


def _report(client: httpx.Client, world: World, **overrides: Any) -> str:
    lng, lat = world.city.centres[world.grid_a]
    body = {
        "title": "小区门口垃圾堆积",
        "description": "已经三天没人清运，气味很大",
        "lng": lng,
        "lat": lat,
        "reporter_phone": PHONE,
        "reporter_name": "李四",
        "category_code": "SJ0101",
    }
    body.update(overrides)
    resp = client.post("/api/v1/public/events", json=body)
    assert resp.status_code == 201, resp.text
    code: str = resp.json()["code"]
    return code


def _act(
    client: httpx.Client, headers: dict[str, str], code: str, action: str, **fields: Any
) -> httpx.Response:
    return client.post(
        f"/api/v1/events/{code}/actions", json={"action": action, **fields}, headers=headers
    )


def test_closed_loop(client: httpx.Client, world: World) -> None:
    code = _report(client, world)
    dispatcher = world.headers(client, "dispatcher")
    handler = world.headers(client, "department_handler")

    detail = client.get(f"/api/v1/events/{code}", headers=dispatcher).json()
    assert detail["status"] == "reported"
    assert detail["grid_code"] == world.grid_a
    assert detail["reporter_phone"] == PHONE  # dispatchers call back
    assert "accept" in detail["allowed_actions"]

    assert _act(client, dispatcher, code, "accept").json()["status"] == "accepted"
    resp = _act(client, dispatcher, code, "dispatch", lead_department_id=world.dep_a.id)
    assert resp.status_code == 200, resp.text
    assert resp.json()["finish_deadline"] is not None

    todo = client.get("/api/v1/events/todo", headers=handler).json()
    assert code in [e["code"] for e in todo["items"]]
    assert todo["counts"]["dispatched"] >= 1

    for action, fields in (("sign", {}), ("start", {}), ("reply", {"reply": "已清运完毕"})):
        resp = _act(client, handler, code, action, **fields)
        assert resp.status_code == 200, (action, resp.text)
    assert _act(client, dispatcher, code, "verify").json()["status"] == "verified"
    assert _act(client, dispatcher, code, "close").json()["status"] == "closed"

    public = client.get(f"/api/v1/public/events/{code}", params={"phone": PHONE}).json()
    assert public["status"] == "closed"
    assert public["reply"] == "已清运完毕"
    assert public["can_rate"] is True
    rated = client.post(
        f"/api/v1/public/events/{code}/rating",
        json={"phone": PHONE, "rating": "satisfied", "comment": "很快"},
    )
    assert rated.status_code == 200, rated.text
    assert rated.json()["status"] == "rated"

    timeline = client.get(f"/api/v1/events/{code}", headers=dispatcher).json()["timeline"]
    assert [t["action"] for t in timeline] == [
        "report",
        "accept",
        "dispatch",
        "sign",
        "start",
        "reply",
        "verify",
        "close",
        "rate",
    ]
    assert all(t["at"] for t in timeline)


def test_dissatisfied_rating_reopens(client: httpx.Client, world: World) -> None:
    code = _report(client, world)
    dispatcher = world.headers(client, "dispatcher")
    handler = world.headers(client, "department_handler")
    _act(client, dispatcher, code, "accept")
    _act(client, dispatcher, code, "dispatch", lead_department_id=world.dep_a.id)
    _act(client, handler, code, "sign")
    _act(client, handler, code, "reply", reply="已处理")
    _act(client, dispatcher, code, "verify")
    _act(client, dispatcher, code, "close")
    resp = client.post(
        f"/api/v1/public/events/{code}/rating", json={"phone": PHONE, "rating": "dissatisfied"}
    )
    assert resp.json()["status"] == "dispatched"  # 重办
    event = client.get(f"/api/v1/events/{code}", headers=dispatcher).json()
    assert event["reopen_count"] == 1
    assert event["finish_deadline"] is not None


def test_transition_not_allowed_is_409_with_allowed_actions(
    client: httpx.Client, world: World
) -> None:
    code = _report(client, world)
    resp = _act(client, world.headers(client, "dispatcher"), code, "close")
    assert resp.status_code == 409
    error = resp.json()["error"]
    assert error["code"] == "event.transition_not_allowed"
    assert set(error["details"][0]["allowed_actions"]) == {
        "accept",
        "reject",
        "merge",
        "cancel",
        "escalate",
    }


def test_missing_fields_are_named(client: httpx.Client, world: World) -> None:
    code = _report(client, world)
    dispatcher = world.headers(client, "dispatcher")
    _act(client, dispatcher, code, "accept")
    resp = _act(client, dispatcher, code, "dispatch")
    assert resp.status_code == 422
    assert resp.json()["error"]["details"][0]["loc"] == ["body", "lead_department_id"]
    bad = client.post(
        "/api/v1/events",
        json={"title": "", "lng": 500, "urgency": "whenever"},
        headers=world.headers(client, "grid_worker"),
    )
    assert bad.status_code == 422
    fields = {tuple(d["loc"]) for d in bad.json()["error"]["details"]}
    assert {("body", "title"), ("body", "lng"), ("body", "urgency")} <= fields


def test_return_then_final_ruling(client: httpx.Client, world: World) -> None:
    code = _report(client, world)
    dispatcher = world.headers(client, "dispatcher")
    handler = world.headers(client, "department_handler")
    _act(client, dispatcher, code, "accept")
    _act(client, dispatcher, code, "dispatch", lead_department_id=world.dep_a.id)
    no_reason = _act(client, handler, code, "return")
    assert no_reason.status_code == 422
    assert _act(client, handler, code, "return", reason="非本部门职责").json()["status"] == (
        "returned"
    )
    resp = _act(
        client,
        dispatcher,
        code,
        "rule_final",
        reason="经审定属该部门职责",
        lead_department_id=world.dep_a.id,
    )
    assert resp.json()["status"] == "dispatched"
    again = _act(client, handler, code, "return", reason="仍不同意")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "event.ruled_final"


def test_escalation_moves_ownership_up(client: httpx.Client, world: World) -> None:
    """首接负责 until dispatched: after escalation the street, not the community, acts."""
    code = _report(client, world)
    grid_worker = world.headers(client, "grid_worker")
    resp = _act(client, grid_worker, code, "escalate", reason="社区无法解决")
    assert resp.status_code == 200, resp.text
    assert resp.json()["owner_code"] == world.street_a
    top = _act(client, world.headers(client, "dispatcher"), code, "escalate", reason="街道协调")
    assert top.json()["owner_code"] == world.dep_a.area_code  # the district
    # the street dispatcher can no longer act on it
    refused = _act(client, world.headers(client, "dispatcher"), code, "accept")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "event.not_owner"


def test_whistle_checkin_and_rating(client: httpx.Client, world: World) -> None:
    code = _report(client, world)
    dispatcher = world.headers(client, "dispatcher")
    handler = world.headers(client, "department_handler")
    _act(client, dispatcher, code, "accept")
    resp = _act(
        client,
        dispatcher,
        code,
        "whistle",
        reason="需执法到场",
        whistle_type="tough",
        department_ids=[world.dep_a.id],
    )
    assert resp.status_code == 200, resp.text
    inbox = client.get("/api/v1/notifications", headers=handler).json()
    assert any(n["kind"] == "event.whistle" for n in inbox["items"])
    assert inbox["unread"] >= 1
    assert client.get(f"/api/v1/events/{code}", headers=handler).status_code == 200
    checkin = _act(client, handler, code, "checkin")
    assert checkin.status_code == 200, checkin.text
    twice = _act(client, handler, code, "checkin")
    assert twice.status_code == 409
    rated = _act(client, dispatcher, code, "rate_checkin", department_id=world.dep_a.id, score=4)
    assert rated.status_code == 200
    timeline = client.get(f"/api/v1/events/{code}", headers=dispatcher).json()["timeline"]
    checkin_row = next(t for t in timeline if t["action"] == "checkin")
    assert checkin_row["data"]["on_time"] is True


def test_co_handling_only_lead_replies(client: httpx.Client, world: World) -> None:
    code = _report(client, world)
    dispatcher = world.headers(client, "dispatcher")
    handler = world.headers(client, "department_handler")
    _act(client, dispatcher, code, "accept")
    _act(client, dispatcher, code, "dispatch", lead_department_id=world.dep_a.id)
    _act(client, handler, code, "sign")
    # an assisting unit's feedback does not close anything; the lead's reply does
    not_assisting = _act(client, handler, code, "assist_reply", reply="配合")
    assert not_assisting.status_code == 403
    _act(client, handler, code, "reply", reply="主办单位已办结")
    assert _act(client, dispatcher, code, "verify").json()["status"] == "verified"


def test_self_resolution_needs_before_and_after_photos(client: httpx.Client, world: World) -> None:
    grid_worker = world.headers(client, "grid_worker")
    lng, lat = world.city.centres[world.grid_a]
    created = client.post(
        "/api/v1/events",
        json={"title": "树枝挡路", "lng": lng, "lat": lat, "category_code": "BJ0401"},
        headers=grid_worker,
    )
    assert created.status_code == 201, created.text
    code = created.json()["code"]
    assert created.json()["channel"] == "grid_patrol"
    early = _act(client, grid_worker, code, "self_resolve", reply="已清理")
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "event.photos_required"
    for kind in ("before", "after"):
        up = client.post(
            f"/api/v1/events/{code}/attachments",
            files={"file": (f"{kind}.png", PNG, "image/png")},
            data={"kind": kind},
            headers=grid_worker,
        )
        assert up.status_code == 201, up.text
    done = _act(client, grid_worker, code, "self_resolve", reply="已清理")
    assert done.json()["status"] == "self_resolved"
    assert (
        _act(client, world.headers(client, "dispatcher"), code, "verify").json()["status"]
        == "verified"
    )


def test_merge_into_main_event(client: httpx.Client, world: World) -> None:
    main = _report(client, world)
    child = _report(client, world, reporter_phone="13700000000")
    dispatcher = world.headers(client, "dispatcher")
    resp = _act(client, dispatcher, child, "merge", parent_code=main)
    assert resp.json()["status"] == "merged"
    assert resp.json()["parent_code"] == main
    assert client.get(f"/api/v1/events/{main}", headers=dispatcher).json()["children_codes"] == [
        child
    ]
    # the child's reporter follows the main event
    view = client.get(f"/api/v1/public/events/{child}", params={"phone": "13700000000"}).json()
    assert view["title"] == "小区门口垃圾堆积"
    self_merge = _act(client, dispatcher, main, "merge", parent_code=main)
    assert self_merge.status_code == 409


@pytest.mark.parametrize("role", ["grid_worker", "supervisor"])
def test_reporter_phone_masked_for_other_roles(
    client: httpx.Client, world: World, role: str
) -> None:
    code = _report(client, world)
    body = client.get(f"/api/v1/events/{code}", headers=world.headers(client, role)).json()
    assert body["reporter_phone"] == "139****5678"
    assert body["reporter_name"] == "李*"


def test_other_street_cannot_see_or_act(client: httpx.Client, world: World) -> None:
    code = _report(client, world)
    from tests.factories.auth import login

    other = login(client, "dispatcher_b")
    assert client.get(f"/api/v1/events/{code}", headers=other).status_code == 404
    assert _act(client, other, code, "accept").status_code == 404
    listed = client.get("/api/v1/events", headers=other).json()
    assert code not in [e["code"] for e in listed["items"]]


class TestIdempotencyKey:
    def _post(
        self, client: httpx.Client, world: World, role: str, key: str | None
    ) -> httpx.Response:
        lng, lat = world.city.centres[world.grid_a]
        headers = world.headers(client, role)
        if key is not None:
            headers["Idempotency-Key"] = key
        return client.post(
            "/api/v1/events", json={"title": "离线上报", "lng": lng, "lat": lat}, headers=headers
        )

    def test_same_key_same_user_makes_one_event(self, client: httpx.Client, world: World) -> None:
        first = self._post(client, world, "grid_worker", "phone-queue-0001")
        again = self._post(client, world, "grid_worker", "phone-queue-0001")
        assert first.status_code == 201, first.text
        assert again.status_code == 200, again.text
        assert again.json()["code"] == first.json()["code"]

    def test_keys_belong_to_their_user(self, client: httpx.Client, world: World) -> None:
        mine = self._post(client, world, "grid_worker", "shared-key-0001")
        theirs = self._post(client, world, "dispatcher", "shared-key-0001")
        plain = self._post(client, world, "grid_worker", None)
        assert {mine.status_code, theirs.status_code, plain.status_code} == {201}
        assert len({r.json()["code"] for r in (mine, theirs, plain)}) == 3

    def test_malformed_key_is_named(self, client: httpx.Client, world: World) -> None:
        resp = self._post(client, world, "grid_worker", "short")
        assert resp.status_code == 422
        assert "Idempotency-Key" in str(resp.json()["error"]["details"])
