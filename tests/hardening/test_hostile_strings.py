"""Hostile strings (SQL, HTML, script, very long, control characters) in the text fields of
events, users, departments, roles and jurisdictions: stored and returned inertly (as JSON
strings, never interpreted), and never a 500.

What normalising does (shiyu.kit.text.normalise, applied to event titles, descriptions and
addresses): C0 control characters other than tab/newline are removed, runs of spaces collapse,
Traditional characters become Simplified. Names of users, departments and roles are kept
exactly as sent. A NUL character cannot be stored by PostgreSQL: fields that are not
normalised answer 422 for it on PostgreSQL (the database refuses the value) and keep it on
SQLite; either way it is never a 500.
"""

from __future__ import annotations

import httpx
import pytest

from tests.factories.auth import login
from tests.factories.world import World

SQL = "'; DROP TABLE events; -- 1' OR '1'='1"
HTML = '<b>粗体</b><img src=x onerror="alert(1)">'
SCRIPT = "<script>alert('xss')</script>"
UNICODE_TRICKS = "\u202e反转\u200b零宽\ufeff"
CONTROL = "前\x01\x07\x1b[31m后"
HOSTILE = [SQL, HTML, SCRIPT, UNICODE_TRICKS]


def _inert(resp: httpx.Response) -> None:
    assert resp.status_code < 500, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.headers["x-content-type-options"] == "nosniff"


class TestEvents:
    @pytest.mark.parametrize("value", HOSTILE)
    def test_round_trip(self, client: httpx.Client, world: World, value: str) -> None:
        headers = world.headers(client, "dispatcher")
        lng, lat = world.city.centres[world.grid_a]
        body = {
            "title": value[:200],
            "description": value,
            "address": value,
            "lng": lng,
            "lat": lat,
            "reporter_name": value[:50],
        }
        created = client.post("/api/v1/events", json=body, headers=headers)
        _inert(created)
        assert created.status_code == 201, created.text
        got = client.get(f"/api/v1/events/{created.json()['code']}", headers=headers)
        _inert(got)
        event = got.json()
        assert event["title"] == value[:200]
        assert event["description"] == value
        assert event["reporter_name"] == value[:50]
        found = client.get("/api/v1/events", params={"q": value[:40]}, headers=headers)
        _inert(found)

    def test_control_characters_are_stripped(self, client: httpx.Client, world: World) -> None:
        headers = world.headers(client, "dispatcher")
        lng, lat = world.city.centres[world.grid_a]
        created = client.post(
            "/api/v1/events",
            json={"title": CONTROL, "description": "a\x00b", "lng": lng, "lat": lat},
            headers=headers,
        )
        assert created.status_code == 201, created.text
        event = client.get(f"/api/v1/events/{created.json()['code']}", headers=headers).json()
        assert event["title"] == "前[31m后"
        assert event["description"] == "ab"

    def test_very_long_text_names_the_field(self, client: httpx.Client, world: World) -> None:
        headers = world.headers(client, "dispatcher")
        lng, lat = world.city.centres[world.grid_a]
        resp = client.post(
            "/api/v1/events",
            json={"title": "长" * 10_000, "description": "x" * 1_000_000, "lng": lng, "lat": lat},
            headers=headers,
        )
        _inert(resp)
        assert resp.status_code == 422
        fields = {d["loc"][-1] for d in resp.json()["error"]["details"]}
        assert {"title", "description"} <= fields

    def test_public_report(self, client: httpx.Client, world: World) -> None:
        lng, lat = world.city.centres[world.grid_a]
        resp = client.post(
            "/api/v1/public/events",
            json={
                "title": SCRIPT,
                "description": HTML,
                "lng": lng,
                "lat": lat,
                "reporter_phone": "13900000001",
                "reporter_name": SQL[:50],
            },
        )
        _inert(resp)
        assert resp.status_code == 201, resp.text
        code = resp.json()["code"]
        got = client.get(f"/api/v1/public/events/{code}", params={"phone": "13900000001"})
        _inert(got)


class TestAdministration:
    @pytest.mark.parametrize("value", [*HOSTILE, CONTROL])
    def test_names_round_trip(self, client: httpx.Client, world: World, value: str) -> None:
        admin = login(client, "admin_a")
        user = world.users["leader"]
        patched = client.patch(
            f"/api/v1/users/{user.id}", json={"display_name": value[:64]}, headers=admin
        )
        _inert(patched)
        assert patched.status_code == 200, patched.text
        assert (
            client.get(f"/api/v1/users/{user.id}", headers=admin).json()["display_name"]
            == (value[:64])
        )

        dep = client.patch(
            f"/api/v1/departments/{world.dep_a.id}", json={"name": value[:100]}, headers=admin
        )
        _inert(dep)
        assert dep.status_code == 200, dep.text
        assert dep.json()["name"] == value[:100]

        role = client.post(
            "/api/v1/roles",
            json={
                "code": "hostile_role",
                "name": value[:64],
                "permissions": [],
                "description": value,
            },
            headers=login(client, "city_admin"),
        )
        _inert(role)
        assert role.status_code == 201, role.text
        assert role.json()["name"] == value[:64] and role.json()["description"] == value

    def test_nul_is_never_a_server_error(self, client: httpx.Client, world: World) -> None:
        admin = login(client, "admin_a")
        user = world.users["leader"]
        resp = client.patch(
            f"/api/v1/users/{user.id}", json={"display_name": "a\x00b"}, headers=admin
        )
        _inert(resp)
        assert resp.status_code in (200, 422)

    @pytest.mark.parametrize("value", [SQL, SCRIPT, "x" * 5000])
    def test_query_parameters(self, client: httpx.Client, world: World, value: str) -> None:
        admin = login(client, "admin_a")
        for path in ("/api/v1/users", "/api/v1/events", "/api/v1/audit/records"):
            params = {"q": value} if path != "/api/v1/audit/records" else {"object_id": value}
            _inert(client.get(path, params=params, headers=admin))

    def test_jurisdiction_names(self, client: httpx.Client, world: World) -> None:
        admin = login(client, "city_admin")
        features = client.get(f"/api/v1/jurisdictions/{world.grid_a}/features", headers=admin)
        assert features.status_code == 200, features.text
        collection = features.json()
        for feature in collection["features"]:
            if feature["properties"]["code"] == world.grid_a:
                feature["properties"]["name"] = HTML
        imported = client.post("/api/v1/jurisdictions/import", json=collection, headers=admin)
        _inert(imported)
        assert imported.status_code == 200, imported.text
        unit = client.get(f"/api/v1/jurisdictions/{world.grid_a}", headers=admin)
        assert unit.json()["name"] == HTML
