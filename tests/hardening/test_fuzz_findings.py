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
