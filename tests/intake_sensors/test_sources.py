"""The admin API of alarm sources: secrets shown once and stored encrypted, scoping by the
receiving unit, mapping checks, switching off and rotating secrets."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.audit.models import AuditRecord
from shiyu.config import Settings
from shiyu.intake.sensor_models import SensorSource
from tests.factories.world import World
from tests.intake_sensors.conftest import Source, counts, create_source, post_alarm

URL = "/api/v1/intake/alarm-sources"


def _alarm(world: World, alarm_id: str = "r-1") -> dict[str, Any]:
    lng, lat = world.city.centres[world.grid_a]
    return {"alarm_id": alarm_id, "type": "smoke", "lng": lng, "lat": lat}


def _create(client: httpx.Client, world: World, **fields: Any) -> httpx.Response:
    body = {"code": "river-level", "name": "河道水位监测", "owner_code": world.street_a, **fields}
    return client.post(URL, json=body, headers=world.headers(client, "admin"))


class TestCreate:
    def test_secret_is_shown_once_and_stored_encrypted(
        self, client: httpx.Client, session: Session, world: World
    ) -> None:
        resp = _create(client, world)
        assert resp.status_code == 201, resp.text
        body = resp.json()
        secret = body["secret"]
        assert len(secret) >= 40
        assert body["webhook_path"] == "/api/v1/intake/alarms/river-level"
        assert body["mapping"]["flood"] == {
            "category_code": "SJ0404",
            "urgency": "urgent",
            "label": "道路积水",
        }
        headers = world.headers(client, "admin")
        shown = client.get(f"{URL}/river-level", headers=headers).json()
        assert "secret" not in shown
        assert all("secret" not in s for s in client.get(URL, headers=headers).json())
        row = session.scalars(select(SensorSource).where(SensorSource.code == "river-level")).one()
        assert secret not in row.secret
        trail = session.scalars(
            select(AuditRecord).where(AuditRecord.object_id == "river-level")
        ).all()
        assert [r.action for r in trail] == ["sensor_source.create"]
        assert secret not in str(trail[0].summary)
        # and the secret works
        ok = post_alarm(client, Source("river-level", secret), _alarm(world))
        assert ok.status_code == 201, ok.text

    def test_own_mapping_replaces_the_defaults(self, client: httpx.Client, world: World) -> None:
        mapping = {"High-Water": {"category_code": "SJ0404", "urgency": "emergency"}}
        resp = _create(client, world, kind="sensor", mapping=mapping)
        assert resp.status_code == 201, resp.text
        assert resp.json()["mapping"] == {
            "high-water": {"category_code": "SJ0404", "urgency": "emergency", "label": ""}
        }

    def test_unknown_category_in_mapping_is_422_naming_it(
        self, client: httpx.Client, session: Session, world: World
    ) -> None:
        resp = _create(client, world, mapping={"dust": {"category_code": "ZZ99"}})
        assert resp.status_code == 422
        assert resp.json()["error"]["details"][0]["loc"] == [
            "body",
            "mapping",
            "dust",
            "category_code",
        ]
        assert session.scalars(select(SensorSource)).all() == []

    def test_bad_fields_are_422(self, client: httpx.Client, world: World) -> None:
        for fields, field in (
            ({"code": "Has Space"}, "code"),
            ({"kind": "drone"}, "kind"),
            ({"owner_code": "abc"}, "owner_code"),
            ({"name": ""}, "name"),
        ):
            resp = _create(client, world, **fields)
            assert resp.status_code == 422, fields
            assert resp.json()["error"]["details"][0]["loc"][:2] == ["body", field]

    def test_code_taken_is_409(self, client: httpx.Client, world: World) -> None:
        assert _create(client, world).status_code == 201
        again = _create(client, world)
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "sensor.code_taken"

    def test_unit_outside_the_admins_district_is_404(
        self, client: httpx.Client, world: World
    ) -> None:
        resp = _create(client, world, owner_code=world.street_b)
        assert resp.status_code == 404

    def test_only_admins(self, client: httpx.Client, world: World) -> None:
        for role in ("dispatcher", "supervisor", "leader"):
            resp = client.get(URL, headers=world.headers(client, role))
            assert resp.status_code == 403, role


class TestScope:
    def test_other_districts_sources_are_invisible(
        self, client: httpx.Client, session: Session, settings: Settings, world: World
    ) -> None:
        create_source(session, settings, code="mine", owner=world.street_a)
        create_source(session, settings, code="theirs", owner=world.street_b)
        headers = world.headers(client, "admin")
        assert [s["code"] for s in client.get(URL, headers=headers).json()] == ["mine"]
        for method, path, body in (
            ("GET", f"{URL}/theirs", None),
            ("PATCH", f"{URL}/theirs", {"is_active": False}),
            ("POST", f"{URL}/theirs/rotate-secret", {}),
        ):
            resp = client.request(method, path, json=body, headers=headers)
            assert resp.status_code == 404, (method, path)
            assert resp.json()["error"]["code"] == "sensor.source_not_found"
        assert world.city_admin is not None
        from tests.factories.auth import login

        city = client.get(URL, headers=login(client, world.city_admin.username)).json()
        assert [s["code"] for s in city] == ["mine", "theirs"]


class TestUpdate:
    def test_switching_off_refuses_its_alarms(
        self, client: httpx.Client, session: Session, world: World, dust: Source
    ) -> None:
        headers = world.headers(client, "admin")
        resp = client.patch(f"{URL}/{dust.code}", json={"is_active": False}, headers=headers)
        assert resp.status_code == 200 and resp.json()["is_active"] is False
        before = counts(session)
        assert post_alarm(client, dust, _alarm(world)).status_code == 401
        assert counts(session) == before
        client.patch(f"{URL}/{dust.code}", json={"is_active": True}, headers=headers)
        assert post_alarm(client, dust, _alarm(world)).status_code == 201

    def test_new_mapping_applies_to_the_next_alarm(
        self, client: httpx.Client, session: Session, world: World, dust: Source
    ) -> None:
        headers = world.headers(client, "admin")
        mapping = {"smoke": {"category_code": "RX0602", "urgency": "urgent", "label": "消防隐患"}}
        resp = client.patch(f"{URL}/{dust.code}", json={"mapping": mapping}, headers=headers)
        assert resp.status_code == 200, resp.text
        alarm = post_alarm(client, dust, _alarm(world))
        shown = client.get(
            f"/api/v1/events/{alarm.json()['code']}", headers=world.headers(client, "dispatcher")
        ).json()
        assert (shown["category_code"], shown["urgency"]) == ("RX0602", "urgent")
        actions = [
            r.action
            for r in session.scalars(
                select(AuditRecord).where(AuditRecord.object_id == dust.code)
            ).all()
        ]
        assert actions == ["sensor_source.create", "sensor_source.update"]

    def test_moving_to_a_unit_outside_scope_is_404(
        self, client: httpx.Client, world: World, dust: Source
    ) -> None:
        resp = client.patch(
            f"{URL}/{dust.code}",
            json={"owner_code": world.street_b},
            headers=world.headers(client, "admin"),
        )
        assert resp.status_code == 404


class TestRotate:
    def test_old_secret_works_during_the_grace_period(
        self, client: httpx.Client, world: World, dust: Source
    ) -> None:
        headers = world.headers(client, "admin")
        resp = client.post(f"{URL}/{dust.code}/rotate-secret", json={}, headers=headers)
        assert resp.status_code == 200, resp.text
        new = resp.json()["secret"]
        assert new != dust.secret and resp.json()["previous_secret_until"] is not None
        assert post_alarm(client, dust, _alarm(world, "g-1")).status_code == 201
        assert post_alarm(client, dust, _alarm(world, "g-2"), secret=new).status_code == 201

    def test_without_grace_the_old_secret_stops_at_once(
        self, client: httpx.Client, session: Session, world: World, dust: Source
    ) -> None:
        headers = world.headers(client, "admin")
        resp = client.post(
            f"{URL}/{dust.code}/rotate-secret", json={"grace_minutes": 0}, headers=headers
        )
        new = resp.json()["secret"]
        before = counts(session)
        assert post_alarm(client, dust, _alarm(world, "o-1")).status_code == 401
        assert counts(session) == before
        assert post_alarm(client, dust, _alarm(world, "o-2"), secret=new).status_code == 201

    def test_rotate_without_a_body_uses_the_default_grace(
        self, client: httpx.Client, world: World, dust: Source
    ) -> None:
        headers = world.headers(client, "admin")
        resp = client.post(f"{URL}/{dust.code}/rotate-secret", headers=headers)
        assert resp.status_code == 200, resp.text
        bad = client.post(
            f"{URL}/{dust.code}/rotate-secret", json={"grace_minutes": -1}, headers=headers
        )
        assert bad.status_code == 422
        assert bad.json()["error"]["details"][0]["loc"] == ["body", "grace_minutes"]
