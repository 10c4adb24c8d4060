"""Regression tests for what the schemathesis runs found (tests/fuzz, bench/bench_fuzz.py).
Each was a 500 or an answer the OpenAPI document did not describe; see also
test_headers.py (405 Allow, huge ids, documented errors) and test_passwords.py (null in
PATCH bodies)."""

from __future__ import annotations

import httpx

from tests.factories.auth import login
from tests.factories.world import World


def test_unknown_category_in_a_public_report_is_422(client: httpx.Client, world: World) -> None:
    """`category_code: ""` reached the database as a dangling foreign key (500)."""
    lng, lat = world.city.centres[world.grid_a]
    resp = client.post(
        "/api/v1/public/events",
        json={
            "title": "0",
            "category_code": "",
            "lng": lng,
            "lat": lat,
            "reporter_phone": "13900000002",
        },
    )
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["code"] == "validation_error"


def test_unknown_category_from_staff_is_422(client: httpx.Client, world: World) -> None:
    lng, lat = world.city.centres[world.grid_a]
    resp = client.post(
        "/api/v1/events",
        json={"title": "占道", "category_code": "no-such-category", "lng": lng, "lat": lat},
        headers=world.headers(client, "dispatcher"),
    )
    assert resp.status_code == 422, resp.text


def test_ids_beyond_any_integer_column(client: httpx.Client, world: World) -> None:
    admin = login(client, "admin_a")
    huge = "9" * 40
    for method, path in (
        ("GET", f"/api/v1/users/{huge}"),
        ("GET", f"/api/v1/departments/{huge}"),
        ("PATCH", f"/api/v1/departments/{huge}"),
    ):
        resp = client.request(method, path, json={"name": "x"}, headers=admin)
        assert resp.status_code in (404, 422), (method, path, resp.text)
        assert "error" in resp.json()


def test_every_error_body_matches_the_documented_shape(client: httpx.Client, world: World) -> None:
    """422 used to be documented as FastAPI's {"detail": [...]}, but we send {"error": ...}."""
    resp = client.post("/api/v1/users", json={"username": 1}, headers=login(client, "admin_a"))
    assert resp.status_code == 422
    body = resp.json()
    assert set(body) == {"error"}
    assert {"code", "message", "details"} == set(body["error"])


def test_numbers_and_booleans_are_not_read_as_each_other(
    client: httpx.Client, world: World
) -> None:
    """Schema-violating input that lax parsing accepted (schemathesis' negative checks):
    `false` as 0°, `true` as id 1, `0` as false, and `1`/`0`/`yes` in boolean query strings."""
    admin, dispatcher = world.headers(client, "admin"), world.headers(client, "dispatcher")
    refused = [
        client.post(
            "/api/v1/locate/batch", json={"points": [{"lng": False, "lat": 30}]}, headers=admin
        ),
        client.post("/api/v1/notifications/read", json={"ids": [True]}, headers=dispatcher),
        client.patch(f"/api/v1/departments/{world.dep_a.id}", json={"is_active": 0}, headers=admin),
        client.get("/api/v1/events", params={"overdue": "0"}, headers=dispatcher),
        client.get("/api/v1/events", params={"with_total": "yes"}, headers=dispatcher),
        client.get("/api/v1/notifications", params={"unread_only": "1"}, headers=dispatcher),
    ]
    assert [r.status_code for r in refused] == [422] * len(refused), [r.text for r in refused]
    # what the document says still works: JSON numbers (integers too) and true/false
    accepted = [
        client.post(
            "/api/v1/locate/batch", json={"points": [{"lng": 114, "lat": 30.5}]}, headers=admin
        ),
        client.get("/api/v1/events", params={"overdue": "true"}, headers=dispatcher),
        client.get("/api/v1/notifications", params={"unread_only": "False"}, headers=dispatcher),
    ]
    assert [r.status_code for r in accepted] == [200] * len(accepted), [r.text for r in accepted]
