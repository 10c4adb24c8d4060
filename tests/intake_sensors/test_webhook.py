"""The signed alarm webhook: events from alarms, deduplication, and requests that must be
refused without storing anything."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.audit.models import AuditRecord
from shiyu.config import Settings
from shiyu.events.models import Action, Event
from shiyu.intake import sensors
from shiyu.jurisdiction.models import Jurisdiction
from tests.factories.world import World
from tests.intake_sensors.conftest import (
    Source,
    counts,
    create_source,
    encode,
    post_alarm,
    signed_headers,
)


def _event(session: Session, code: str) -> Event:
    session.expire_all()
    event = session.scalars(select(Event).where(Event.code == code)).one()
    return event


def _at_grid_a(world: World, **fields: Any) -> dict[str, Any]:
    lng, lat = world.city.centres[world.grid_a]
    return {"alarm_id": "A-0001", "type": "dust", "lng": lng, "lat": lat, **fields}


class TestValidAlarm:
    def test_sensor_alarm_becomes_a_located_event(
        self, client: httpx.Client, session: Session, world: World, dust: Source
    ) -> None:
        payload = _at_grid_a(
            world,
            value=186.5,
            unit="µg/m³",
            level="二级",
            device_name="3号塔吊",
            address="解放路工地",
        )
        resp = post_alarm(client, dust, payload)
        assert resp.status_code == 201, resp.text
        assert resp.json()["duplicate"] is False
        event = _event(session, resp.json()["code"])
        assert (event.channel, event.category_code, event.urgency) == ("sensor", "SJ0302", "normal")
        assert event.grid_code == world.grid_a
        grid = session.get(Jurisdiction, world.grid_a)
        assert grid is not None and event.owner_code == grid.parent_code  # 先属地: the community
        assert (event.source, event.external_id) == ("sensor:dust-net-1", "A-0001")
        assert event.title == "扬尘超标告警：解放路工地"
        assert "监测值：186.5µg/m³" in event.description and "3号塔吊" in event.description
        actions = session.scalars(select(Action).where(Action.event_id == event.id)).all()
        assert [(a.action, a.actor_name) for a in actions] == [("report", "dust-net-1监测网")]
        record = session.scalars(
            select(AuditRecord).where(AuditRecord.object_id == event.code)
        ).one()
        assert (record.action, record.actor_name) == ("event.report", "sensor:dust-net-1")

    @pytest.mark.parametrize(
        ("alarm_type", "category", "urgency"),
        [
            ("smoke", "SJ0405", "emergency"),
            ("fire", "SJ0405", "emergency"),
            ("flood", "SJ0404", "urgent"),
            ("waterlogging", "SJ0404", "urgent"),
            ("crowding", "RX0601", "urgent"),
            ("burning", "SJ0105", "normal"),
            ("DUST", "SJ0302", "normal"),  # vendors' capitals
        ],
    )
    def test_video_alarm_types_map_to_category_and_urgency(
        self,
        client: httpx.Client,
        session: Session,
        world: World,
        video: Source,
        alarm_type: str,
        category: str,
        urgency: str,
    ) -> None:
        resp = post_alarm(client, video, _at_grid_a(world, type=alarm_type))
        assert resp.status_code == 201, resp.text
        event = _event(session, resp.json()["code"])
        assert (event.channel, event.category_code, event.urgency) == ("video", category, urgency)

    def test_unknown_type_still_reaches_the_dispatcher(
        self, client: httpx.Client, session: Session, world: World, dust: Source
    ) -> None:
        resp = post_alarm(client, dust, _at_grid_a(world, type="noise"))
        assert resp.status_code == 201, resp.text
        event = _event(session, resp.json()["code"])
        assert (event.category_code, event.urgency, event.title) == (
            None,
            "normal",
            "noise告警：dust-net-1监测网",
        )

    def test_without_location_the_source_unit_receives_it(
        self, client: httpx.Client, session: Session, world: World, dust: Source
    ) -> None:
        resp = post_alarm(client, dust, {"alarm_id": "n1", "type": "flood", "address": "某桥下"})
        assert resp.status_code == 201, resp.text
        event = _event(session, resp.json()["code"])
        assert event.grid_code is None
        assert event.owner_code == world.street_a

    def test_device_local_time_is_beijing_and_never_in_the_future(
        self, client: httpx.Client, session: Session, world: World, dust: Source
    ) -> None:
        first = post_alarm(client, dust, _at_grid_a(world, occurred_at="2026-11-20T08:30:00"))
        event = _event(session, first.json()["code"])
        assert event.reported_at == datetime(2026, 11, 20, 0, 30, tzinfo=UTC)
        ahead = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        second = post_alarm(client, dust, _at_grid_a(world, alarm_id="A-2", occurred_at=ahead))
        later = _event(session, second.json()["code"])
        assert later.reported_at <= datetime.now(UTC)

    def test_hostile_strings_are_stored_and_returned_verbatim(
        self, client: httpx.Client, session: Session, world: World, dust: Source
    ) -> None:
        hostile = {
            "alarm_id": "x'); DROP TABLE events; --",
            "address": "<script>alert(1)</script>",
            "description": "{{7*7}} ${jndi:ldap://x/a} <img src=x onerror=alert(1)>",
            "device_name": "../../etc/passwd",
            "image_url": "https://example.invalid/a.jpg?<b>",
        }
        resp = post_alarm(client, dust, _at_grid_a(world, **hostile))
        assert resp.status_code == 201, resp.text
        code = resp.json()["code"]
        shown = client.get(f"/api/v1/events/{code}", headers=world.headers(client, "dispatcher"))
        assert shown.status_code == 200
        assert shown.headers["content-type"].startswith("application/json")
        body = shown.json()
        assert body["address"] == hostile["address"]
        assert body["title"] == f"扬尘超标告警：{hostile['address']}"
        for key in ("alarm_id", "description", "device_name", "image_url"):
            assert hostile[key] in body["description"]
        assert _event(session, code).external_id == hostile["alarm_id"]
        assert counts(session)["events"] >= 3  # the table is still there


class TestDuplicates:
    def test_same_alarm_id_returns_the_same_event(
        self, client: httpx.Client, session: Session, world: World, dust: Source
    ) -> None:
        first = post_alarm(client, dust, _at_grid_a(world))
        before = counts(session)
        again = post_alarm(client, dust, _at_grid_a(world, description="第二次推送"))
        assert first.status_code == 201 and again.status_code == 200, again.text
        assert again.json() == {
            "code": first.json()["code"],
            "status": "reported",
            "duplicate": True,
        }
        assert counts(session) == before

    def test_same_alarm_id_from_another_source_is_another_event(
        self, client: httpx.Client, world: World, dust: Source, video: Source
    ) -> None:
        a = post_alarm(client, dust, _at_grid_a(world))
        b = post_alarm(client, video, _at_grid_a(world))
        assert a.status_code == b.status_code == 201
        assert a.json()["code"] != b.json()["code"]

    def test_replayed_request_within_the_window_is_only_a_duplicate(
        self, client: httpx.Client, world: World, dust: Source
    ) -> None:
        body = encode(_at_grid_a(world))
        headers = signed_headers(dust.secret, body)
        url = f"/api/v1/intake/alarms/{dust.code}"
        assert client.post(url, content=body, headers=headers).status_code == 201
        replay = client.post(url, content=body, headers=headers)
        assert replay.status_code == 200 and replay.json()["duplicate"] is True


def _bad_requests(world: World, dust: Source) -> dict[str, tuple[str, bytes, dict[str, str]]]:
    """name -> (source code in the URL, body, headers), each of which must be refused."""
    body = encode(_at_grid_a(world))
    good = signed_headers(dust.secret, body)
    now = int(time.time())
    return {
        "no signature": (dust.code, body, {k: v for k, v in good.items() if "Signature" not in k}),
        "no timestamp": (dust.code, body, {k: v for k, v in good.items() if "Timestamp" not in k}),
        "wrong secret": (dust.code, body, signed_headers("not-the-secret", body)),
        "garbage signature": (dust.code, body, {**good, sensors.SIGNATURE_HEADER: "sha256=zz"}),
        "tampered body": (dust.code, body.replace(b"dust", b"fire"), good),
        "tampered timestamp": (
            dust.code,
            body,
            {**good, sensors.TIMESTAMP_HEADER: str(int(good[sensors.TIMESTAMP_HEADER]) + 1)},
        ),
        "unknown source": ("nobody", body, good),
        "old timestamp": (dust.code, body, signed_headers(dust.secret, body, timestamp=now - 3600)),
        "future timestamp": (
            dust.code,
            body,
            signed_headers(dust.secret, body, timestamp=now + 3600),
        ),
        "timestamp not a number": (
            dust.code,
            body,
            {**good, sensors.TIMESTAMP_HEADER: "1e9"},
        ),
    }


BAD = [
    "no signature",
    "no timestamp",
    "wrong secret",
    "garbage signature",
    "tampered body",
    "tampered timestamp",
    "unknown source",
    "old timestamp",
    "future timestamp",
    "timestamp not a number",
]


class TestRefused:
    @pytest.mark.parametrize("case", BAD)
    def test_401_and_nothing_stored(
        self, client: httpx.Client, session: Session, world: World, dust: Source, case: str
    ) -> None:
        code, body, headers = _bad_requests(world, dust)[case]
        before = counts(session)
        resp = client.post(f"/api/v1/intake/alarms/{code}", content=body, headers=headers)
        assert resp.status_code == 401, resp.text
        assert resp.json()["error"]["code"] in ("sensor.bad_signature", "sensor.stale_timestamp")
        assert "HMAC-SHA256" in resp.headers["www-authenticate"]
        assert counts(session) == before

    def test_unknown_and_disabled_sources_look_like_a_bad_signature(
        self, client: httpx.Client, session: Session, settings: Settings, world: World, dust: Source
    ) -> None:
        off = create_source(
            session, settings, code="off-net", owner=world.street_a, is_active=False
        )
        body = encode(_at_grid_a(world))
        answers = [
            client.post(f"/api/v1/intake/alarms/{code}", content=body, headers=headers).json()
            for code, headers in (
                ("nobody", signed_headers(dust.secret, body)),
                (off.code, signed_headers(off.secret, body)),
                (dust.code, signed_headers("wrong", body)),
                ("x" * 500, signed_headers(dust.secret, body)),
            )
        ]
        assert answers[0] == answers[1] == answers[2] == answers[3]
        assert answers[0]["error"]["code"] == "sensor.bad_signature"

    def test_signature_is_checked_before_the_body(
        self, client: httpx.Client, session: Session, dust: Source
    ) -> None:
        """A stranger learns nothing about the expected fields."""
        before = counts(session)
        resp = client.post(
            f"/api/v1/intake/alarms/{dust.code}",
            content=b"{not json",
            headers=signed_headers("wrong", b"{not json"),
        )
        assert resp.status_code == 401
        assert counts(session) == before

    def test_oversized_body_is_413(
        self, client: httpx.Client, session: Session, world: World, dust: Source
    ) -> None:
        before = counts(session)
        payload = _at_grid_a(world, description="x" * 70_000)
        resp = post_alarm(client, dust, payload)
        assert resp.status_code == 413
        assert resp.json()["error"]["code"] == "sensor.payload_too_large"
        assert counts(session) == before


class TestInvalidBody:
    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"type": "dust"}, "alarm_id"),
            ({"alarm_id": ""}, "alarm_id"),
            ({"alarm_id": "a\u0000b"}, "alarm_id"),
            ({"alarm_id": "x" * 129}, "alarm_id"),
            ({"alarm_id": "a", "lat": 91, "lng": 114}, "lat"),
            ({"alarm_id": "a", "lng": "east", "lat": 30}, "lng"),
            ({"alarm_id": "a", "type": "烟雾 报警"}, "type"),
            ({"alarm_id": "a", "occurred_at": "yesterday"}, "occurred_at"),
            ({"alarm_id": "a", "image_url": "javascript:alert(1)"}, "image_url"),
            ({"alarm_id": "a", "value": "high"}, "value"),
            ({"alarm_id": "a", "address": "x" * 301}, "address"),
        ],
    )
    def test_422_names_the_field(
        self,
        client: httpx.Client,
        session: Session,
        dust: Source,
        payload: dict[str, Any],
        field: str,
    ) -> None:
        before = counts(session)
        resp = post_alarm(client, dust, payload)
        assert resp.status_code == 422, resp.text
        error = resp.json()["error"]
        assert error["code"] == "validation_error"
        assert [d["loc"][:2] for d in error["details"]] == [["body", field]]
        assert counts(session) == before

    def test_lng_without_lat(self, client: httpx.Client, dust: Source) -> None:
        resp = post_alarm(client, dust, {"alarm_id": "a", "lng": 114.0})
        assert resp.status_code == 422
        assert "lng and lat" in resp.json()["error"]["details"][0]["msg"]

    def test_not_json(self, client: httpx.Client, session: Session, dust: Source) -> None:
        before = counts(session)
        body = b"alarm_id=1"
        resp = client.post(
            f"/api/v1/intake/alarms/{dust.code}",
            content=body,
            headers=signed_headers(dust.secret, body),
        )
        assert resp.status_code == 422
        assert resp.json()["error"]["details"][0]["loc"] == ["body"]
        assert counts(session) == before
