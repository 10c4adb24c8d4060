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


def test_dates_in_query_strings_are_iso_text(client: httpx.Client, world: World) -> None:
    """`reported_to=0.5`, `day_to=0`, `start=0.5` were read as Unix times (schemathesis'
    negative checks, 2026-12-06): the document says `format: date-time` / `date`."""
    dispatcher = world.headers(client, "dispatcher")
    refused = [
        client.get("/api/v1/events", params={"reported_from": "0"}, headers=dispatcher),
        client.get("/api/v1/events/todo", params={"reported_to": "0.5"}, headers=dispatcher),
        client.get("/api/v1/warnings", params={"day_to": "0"}, headers=dispatcher),
        client.get("/api/v1/warnings/hot-issues", params={"start": "0.5"}, headers=dispatcher),
        client.get("/api/v1/warnings/repeats", params={"end": "1e9"}, headers=dispatcher),
        client.get("/api/v1/metrics/units", params={"from": "0", "to": "1"}, headers=dispatcher),
    ]
    assert [r.status_code for r in refused] == [422] * len(refused), [r.text for r in refused]
    assert all(r.json()["error"]["code"] == "validation_error" for r in refused)
    accepted = [
        client.get(
            "/api/v1/events", params={"reported_from": "2026-10-01T08:00:00"}, headers=dispatcher
        ),
        client.get("/api/v1/warnings", params={"day_to": "2026-10-01"}, headers=dispatcher),
        client.get(
            "/api/v1/metrics/units",
            params={"from": "2026-09-01", "to": "2026-10-01T00:00:00+08:00"},
            headers=dispatcher,
        ),
    ]
    assert [r.status_code for r in accepted] == [200] * len(accepted), [r.text for r in accepted]


def test_booleans_in_request_bodies_are_json_booleans(client: httpx.Client, world: World) -> None:
    """`{"is_active": 0}` was taken as false by lax parsing (PATCH /routing/rules/{id}; the
    same held for every boolean a client sends)."""
    admin = world.headers(client, "admin")
    rule = client.post(
        "/api/v1/routing/rules",
        json={"area_code": world.dep_a.area_code, "department_id": world.dep_a.id},
        headers=admin,
    )
    assert rule.status_code == 201, rule.text
    user = world.users["mediator"]
    code = world.event_a.code if world.event_a else ""
    refused = [
        client.patch(
            f"/api/v1/routing/rules/{rule.json()['id']}", json={"is_active": 0}, headers=admin
        ),
        client.patch(f"/api/v1/users/{user.id}", json={"is_active": 1}, headers=admin),
        client.post(
            f"/api/v1/events/{code}/actions",
            json={"action": "rate", "rating": "满意", "contacted": 1},
            headers=world.headers(client, "dispatcher"),
        ),
    ]
    assert [r.status_code for r in refused] == [422] * len(refused), [r.text for r in refused]
    kept = client.patch(
        f"/api/v1/routing/rules/{rule.json()['id']}", json={"is_active": False}, headers=admin
    )
    assert kept.status_code == 200 and kept.json()["is_active"] is False


def test_a_blank_title_to_the_classifier_is_refused_by_the_schema(
    client: httpx.Client, world: World
) -> None:
    """The document now says what the service refused (schemathesis: "schema-valid request
    rejected"); and without an active model the answer is 409, not a 5xx (the fuzzer had
    deactivated the model)."""
    dispatcher = world.headers(client, "dispatcher")
    schema = client.get("/openapi.json").json()["components"]["schemas"]["PredictIn"]
    assert schema["properties"]["title"]["pattern"] == "\\S"
    blank = client.post("/api/v1/classifier/predict", json={"title": "  "}, headers=dispatcher)
    assert blank.status_code == 422
    no_model = client.post("/api/v1/classifier/predict", json={"title": "路灯"}, headers=dispatcher)
    assert no_model.status_code == 409 and no_model.json()["error"]["code"] == "classifier.no_model"
