"""Every route × every role × own / other jurisdiction against an expected outcome table.

The table is written by hand (not derived from the code under test) and a route that is not
in it fails the suite, so a new endpoint cannot ship without deciding who may call it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from shiyu.app import create_app
from tests.factories.jurisdiction import feature
from tests.factories.world import ROLES, World

ALL = frozenset(ROLES)
STAFF = ALL - {"resident"}
ADMIN = frozenset({"admin"})
READERS = frozenset({"dispatcher", "supervisor", "leader", "admin"})

PUBLIC_ROUTES = {
    "POST /api/v1/auth/token",
    "GET /healthz",
    "GET /api/v1/ping",
    # Prometheus scrape: no user token; loopback clients or SHIYU_METRICS_TOKEN (403 otherwise,
    # tested in tests/ops/test_metrics.py)
    "GET /metrics",
    # residents without an account: tested in tests/intake (code + phone, rate limits)
    "POST /api/v1/public/events",
    "GET /api/v1/public/events/{code}",
    "POST /api/v1/public/events/{code}/rating",
    "GET /api/v1/public/categories",
    "POST /api/v1/public/events/{code}/photos",
    # the map's tile source (no data); tested in tests/dashboard
    "GET /api/v1/public/map-config",
    # Open311 GeoReport v2: reading is public by the spec, POST checks the client's api_key
    # itself (403 in GeoReport form); tested in tests/open311
    "GET /open311/v2/discovery.{fmt}",
    "GET /open311/v2/services.{fmt}",
    "GET /open311/v2/services/{service_code}.{fmt}",
    "POST /open311/v2/requests.{fmt}",
    "GET /open311/v2/requests.{fmt}",
    "GET /open311/v2/requests/{service_request_id}.{fmt}",
    "GET /open311/v2/request/{service_request_id}.{fmt}",
    "GET /open311/v2/tokens/{token}.{fmt}",
    # sensor/video alarm webhook: no token, each source signs with its HMAC secret (401 on a
    # bad signature, unknown source or stale timestamp); tested in tests/intake_sensors
    "POST /api/v1/intake/alarms/{source_code}",
}
STAFF_READ = STAFF
# admins hold every permission code; the transition table still decides who may take
# which lifecycle action (tests/events)
ACTORS = frozenset({"grid_worker", "dispatcher", "department_handler", "admin"})
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@dataclass(frozen=True)
class Case:
    allowed: frozenset[str]
    #: builds (path, json body) for the caller's own jurisdiction
    own: Callable[[World], tuple[str, Any]]
    #: the same request aimed at street B's records: 404 for everybody in street A
    other: Callable[[World], tuple[str, Any]] | None = None
    #: allowed roles that still get 403 here because of their level (city-wide objects)
    city_only: bool = False
    #: the body is a file upload
    multipart: bool = False


def _code(w: World, which: str) -> str:
    event = w.event_a if which == "a" else w.event_b
    assert event is not None and event.code
    return event.code


def _user_patch(w: World, user_key: str) -> tuple[str, Any]:
    user = w.users[user_key] if user_key != "b" else w.user_b
    assert user is not None
    return f"/api/v1/users/{user.id}", {"display_name": "改名"}


EXPECTED: dict[str, Case] = {
    "GET /api/v1/auth/me": Case(ALL, lambda w: ("/api/v1/auth/me", None)),
    "POST /api/v1/auth/logout": Case(ALL, lambda w: ("/api/v1/auth/logout", None)),
    "POST /api/v1/auth/password": Case(
        ALL,
        lambda w: ("/api/v1/auth/password", {"old_password": "wrong-1", "new_password": "x"}),
    ),
    "GET /api/v1/users": Case(READERS, lambda w: ("/api/v1/users", None)),
    "POST /api/v1/users": Case(
        ADMIN,
        lambda w: (
            "/api/v1/users",
            {
                "username": "newbie",
                "display_name": "新人",
                "password": "Gxq-pass-2041",
                "roles": ["mediator"],
                "jurisdiction_code": w.street_a,
            },
        ),
        lambda w: (
            "/api/v1/users",
            {
                "username": "newbie_b",
                "display_name": "新人",
                "password": "Gxq-pass-2041",
                "roles": ["mediator"],
                "jurisdiction_code": w.street_b,
            },
        ),
    ),
    "GET /api/v1/users/{user_id}": Case(
        READERS,
        lambda w: (f"/api/v1/users/{w.users['mediator'].id}", None),
        lambda w: (f"/api/v1/users/{w.user_b.id}", None),  # type: ignore[union-attr]
    ),
    "PATCH /api/v1/users/{user_id}": Case(
        ADMIN, lambda w: _user_patch(w, "mediator"), lambda w: _user_patch(w, "b")
    ),
    "GET /api/v1/departments": Case(
        READERS | {"department_handler"}, lambda w: ("/api/v1/departments", None)
    ),
    "POST /api/v1/departments": Case(
        ADMIN,
        lambda w: (
            "/api/v1/departments",
            {"code": "NEW1", "name": "新局", "level": "district", "area_code": w.dep_a.area_code},
        ),
    ),
    "GET /api/v1/departments/{department_id}": Case(
        READERS | {"department_handler"},
        lambda w: (f"/api/v1/departments/{w.dep_a.id}", None),
        lambda w: (f"/api/v1/departments/{w.dep_b.id}", None),
    ),
    "PATCH /api/v1/departments/{department_id}": Case(
        ADMIN,
        lambda w: (f"/api/v1/departments/{w.dep_a.id}", {"name": "改名局"}),
        lambda w: (f"/api/v1/departments/{w.dep_b.id}", {"name": "改名局"}),
    ),
    "GET /api/v1/roles": Case(ADMIN, lambda w: ("/api/v1/roles", None)),
    "POST /api/v1/roles": Case(
        ADMIN,
        lambda w: ("/api/v1/roles", {"code": "viewer", "name": "查看", "permissions": []}),
        city_only=True,
    ),
    "PATCH /api/v1/roles/{code}": Case(
        ADMIN,
        lambda w: ("/api/v1/roles/viewer", {"name": "x"}),  # created by the POST above
        city_only=True,
    ),
    "GET /api/v1/permissions": Case(ADMIN, lambda w: ("/api/v1/permissions", None)),
    "GET /api/v1/jurisdictions": Case(STAFF, lambda w: ("/api/v1/jurisdictions", None)),
    "GET /api/v1/jurisdictions/export": Case(
        ADMIN,
        lambda w: (f"/api/v1/jurisdictions/export?root={w.street_a}", None),
        lambda w: (f"/api/v1/jurisdictions/export?root={w.street_b}", None),
    ),
    "POST /api/v1/jurisdictions/import": Case(
        ADMIN,
        lambda w: (
            "/api/v1/jurisdictions/import",
            {
                "type": "FeatureCollection",
                "features": [feature(w.street_a[:9] + "009", "新社区", "community", w.street_a)],
            },
        ),
        lambda w: (
            "/api/v1/jurisdictions/import",
            {
                "type": "FeatureCollection",
                "features": [feature(w.street_b[:9] + "009", "新社区", "community", w.street_b)],
            },
        ),
    ),
    "GET /api/v1/jurisdictions/{code}": Case(
        STAFF,
        lambda w: (f"/api/v1/jurisdictions/{w.grid_a}", None),
        lambda w: (f"/api/v1/jurisdictions/{w.grid_b}", None),
    ),
    "GET /api/v1/jurisdictions/{code}/features": Case(
        STAFF,
        lambda w: (f"/api/v1/jurisdictions/{w.grid_a}/features", None),
        lambda w: (f"/api/v1/jurisdictions/{w.grid_b}/features", None),
    ),
    "GET /api/v1/locate": Case(
        ALL, lambda w: (f"/api/v1/locate?lng={w.city.centres[w.grid_a][0]}&lat=30.005", None)
    ),
    "POST /api/v1/locate/batch": Case(
        ALL, lambda w: ("/api/v1/locate/batch", {"points": [{"lng": 114.005, "lat": 30.005}]})
    ),
    "POST /api/v1/events": Case(
        ACTORS,
        lambda w: ("/api/v1/events", {"title": "路灯不亮", "lng": 114.005, "lat": 30.005}),
    ),
    "GET /api/v1/events": Case(STAFF_READ, lambda w: ("/api/v1/events", None)),
    "GET /api/v1/events/todo": Case(STAFF_READ, lambda w: ("/api/v1/events/todo", None)),
    # event:export — the centre and those who oversee it (dispatcher, supervisor, leader)
    "GET /api/v1/events/export.xlsx": Case(
        frozenset({"dispatcher", "supervisor", "leader", "admin"}),
        lambda w: ("/api/v1/events/export.xlsx", None),
    ),
    "GET /api/v1/events/meta/transitions": Case(
        STAFF_READ, lambda w: ("/api/v1/events/meta/transitions", None)
    ),
    "GET /api/v1/events/meta/categories": Case(
        STAFF_READ, lambda w: ("/api/v1/events/meta/categories", None)
    ),
    "GET /api/v1/events/{code}": Case(
        STAFF_READ,
        lambda w: (f"/api/v1/events/{_code(w, 'a')}", None),
        lambda w: (f"/api/v1/events/{_code(w, 'b')}", None),
    ),
    "POST /api/v1/events/{code}/actions": Case(
        ACTORS,
        # an unknown action: passes the permission and scope checks, then 422
        lambda w: (f"/api/v1/events/{_code(w, 'a')}/actions", {"action": "noop"}),
        lambda w: (f"/api/v1/events/{_code(w, 'b')}/actions", {"action": "noop"}),
    ),
    "POST /api/v1/events/{code}/attachments": Case(
        ACTORS,
        lambda w: (f"/api/v1/events/{_code(w, 'a')}/attachments", None),
        lambda w: (f"/api/v1/events/{_code(w, 'b')}/attachments", None),
        multipart=True,
    ),
    "GET /api/v1/events/{code}/attachments/{attachment_id}": Case(
        STAFF_READ,
        lambda w: (f"/api/v1/events/{_code(w, 'a')}/attachments/{w.photo_id}", None),
        lambda w: (f"/api/v1/events/{_code(w, 'b')}/attachments/{w.photo_b_id}", None),
    ),
    # 工单合并 suggestions (tests/duplicates): reading for the centre, grid and supervision;
    # deciding for dispatchers; a malformed candidate code passes the checks, then 422
    "GET /api/v1/events/{code}/duplicates": Case(
        frozenset({"grid_worker", "dispatcher", "supervisor", "leader", "admin"}),
        lambda w: (f"/api/v1/events/{_code(w, 'a')}/duplicates", None),
        lambda w: (f"/api/v1/events/{_code(w, 'b')}/duplicates", None),
    ),
    "POST /api/v1/events/{code}/duplicates/{candidate_code}/reject": Case(
        frozenset({"dispatcher", "admin"}),
        lambda w: (f"/api/v1/events/{_code(w, 'a')}/duplicates/x/reject", {"reason": ""}),
    ),
    "POST /api/v1/events/{code}/duplicates/{candidate_code}/merge": Case(
        frozenset({"dispatcher", "admin"}),
        lambda w: (f"/api/v1/events/{_code(w, 'a')}/duplicates/x/merge", None),
    ),
    # 答复质量 scores (tests/replies)
    "GET /api/v1/replies/scores": Case(READERS, lambda w: ("/api/v1/replies/scores", None)),
    "GET /api/v1/notifications": Case(ALL, lambda w: ("/api/v1/notifications", None)),
    "POST /api/v1/notifications/read": Case(
        ALL, lambda w: ("/api/v1/notifications/read", {"ids": None})
    ),
    "GET /api/v1/audit/records": Case(
        frozenset({"supervisor", "admin"}), lambda w: ("/api/v1/audit/records", None)
    ),
    # alarm sources: the source created here is read, changed and rotated by the next entries
    "POST /api/v1/intake/alarm-sources": Case(
        ADMIN,
        lambda w: (
            "/api/v1/intake/alarm-sources",
            {"code": "matrix-src", "name": "矩阵", "owner_code": w.street_a},
        ),
        lambda w: (
            "/api/v1/intake/alarm-sources",
            {"code": "matrix-src-b", "name": "矩阵", "owner_code": w.street_b},
        ),
    ),
    "GET /api/v1/intake/alarm-sources": Case(
        ADMIN, lambda w: ("/api/v1/intake/alarm-sources", None)
    ),
    "GET /api/v1/intake/alarm-sources/{code}": Case(
        ADMIN, lambda w: ("/api/v1/intake/alarm-sources/matrix-src", None)
    ),
    "PATCH /api/v1/intake/alarm-sources/{code}": Case(
        ADMIN, lambda w: ("/api/v1/intake/alarm-sources/matrix-src", {"name": "改名"})
    ),
    "POST /api/v1/intake/alarm-sources/{code}/rotate-secret": Case(
        ADMIN, lambda w: ("/api/v1/intake/alarm-sources/matrix-src/rotate-secret", {})
    ),
    # the client created here is deactivated by the entry after the next
    "POST /api/v1/open311/clients": Case(
        ADMIN,
        lambda w: ("/api/v1/open311/clients", {"name": "matrix-client"}),
        lambda w: (
            "/api/v1/open311/clients",
            {"name": "matrix-b", "jurisdiction_code": w.street_b},
        ),
    ),
    "GET /api/v1/open311/clients": Case(ADMIN, lambda w: ("/api/v1/open311/clients", None)),
    "POST /api/v1/open311/clients/{name}/deactivate": Case(
        ADMIN, lambda w: ("/api/v1/open311/clients/matrix-client/deactivate", None)
    ),
    "GET /api/v1/metrics/units": Case(
        READERS,
        lambda w: ("/api/v1/metrics/units?from=2025-03-01&to=2025-04-01", None),
        lambda w: (
            f"/api/v1/metrics/units?from=2025-03-01&to=2025-04-01&jurisdiction_code={w.street_b}",
            None,
        ),
    ),
    "GET /api/v1/metrics/jurisdictions": Case(
        READERS,
        lambda w: ("/api/v1/metrics/jurisdictions?from=2025-03-01&to=2025-04-01", None),
        lambda w: (
            "/api/v1/metrics/jurisdictions?from=2025-03-01&to=2025-04-01"
            f"&jurisdiction_code={w.street_b}",
            None,
        ),
    ),
    # early warning and reports: the command centre (dispatcher) and those overseeing it
    "GET /api/v1/warnings": Case(
        READERS,
        lambda w: ("/api/v1/warnings", None),
        lambda w: (f"/api/v1/warnings?jurisdiction={w.street_b}", None),
    ),
    "GET /api/v1/warnings/hot-issues": Case(
        READERS,
        lambda w: ("/api/v1/warnings/hot-issues?start=2025-03-01&end=2025-04-01", None),
        lambda w: (f"/api/v1/warnings/hot-issues?jurisdiction={w.street_b}", None),
    ),
    "GET /api/v1/warnings/repeats": Case(
        READERS,
        lambda w: ("/api/v1/warnings/repeats", None),
        lambda w: (f"/api/v1/warnings/repeats?jurisdiction={w.street_b}", None),
    ),
    # the first allowed role acknowledges street A's warning (200), the next ones get 409
    "POST /api/v1/warnings/{warning_id}/acknowledge": Case(
        frozenset({"dispatcher", "leader", "admin"}),
        lambda w: (f"/api/v1/warnings/{_warning(w, w.street_a)}/acknowledge", {}),
        lambda w: (f"/api/v1/warnings/{_warning(w, w.street_b)}/acknowledge", {}),
    ),
    "GET /api/v1/reports/analysis": Case(
        READERS,
        lambda w: ("/api/v1/reports/analysis?period=day&date=2025-03-10", None),
        lambda w: (f"/api/v1/reports/analysis?period=day&jurisdiction={w.street_b}", None),
    ),
    "GET /api/v1/dashboard/summary": Case(
        READERS,
        lambda w: ("/api/v1/dashboard/summary", None),
        lambda w: (f"/api/v1/dashboard/summary?jurisdiction={w.street_b}", None),
    ),
    "GET /api/v1/dashboard/load": Case(
        READERS,
        lambda w: ("/api/v1/dashboard/load", None),
        lambda w: (f"/api/v1/dashboard/load?jurisdiction={w.street_b}", None),
    ),
    # seconds=0: the stream says `ready` and ends (tests/dashboard reads a live one)
    "GET /api/v1/dashboard/stream": Case(
        READERS,
        lambda w: ("/api/v1/dashboard/stream?seconds=0", None),
        lambda w: (f"/api/v1/dashboard/stream?seconds=0&jurisdiction={w.street_b}", None),
    ),
    # 12345 imports: dispatchers hold hotline:import, but only city and district centres may
    # use it (street-level dispatchers get 403 hotline.level); tested in tests/intake
    "GET /api/v1/intake/hotline/mappings": Case(
        ADMIN, lambda w: ("/api/v1/intake/hotline/mappings", None)
    ),
    "POST /api/v1/intake/hotline/mappings": Case(
        ADMIN,
        lambda w: (
            "/api/v1/intake/hotline/mappings",
            {"name": "matrix-map", "source": "matrix", "columns": {"title": "标题"}},
        ),
    ),
    "GET /api/v1/intake/hotline/mappings/{name}": Case(
        ADMIN, lambda w: ("/api/v1/intake/hotline/mappings/matrix-map", None)
    ),
    "PATCH /api/v1/intake/hotline/mappings/{name}": Case(
        ADMIN, lambda w: ("/api/v1/intake/hotline/mappings/matrix-map", {"label": "改名"})
    ),
    "DELETE /api/v1/intake/hotline/mappings/{name}": Case(
        ADMIN, lambda w: ("/api/v1/intake/hotline/mappings/matrix-map", None)
    ),
    "POST /api/v1/intake/hotline/imports": Case(
        ADMIN, lambda w: ("/api/v1/intake/hotline/imports", None), multipart=True
    ),
    "GET /api/v1/intake/hotline/imports": Case(
        ADMIN, lambda w: ("/api/v1/intake/hotline/imports", None)
    ),
    "GET /api/v1/intake/hotline/imports/{job_id}": Case(
        ADMIN,
        lambda w: (f"/api/v1/intake/hotline/imports/{_hotline_job(w, w.dep_a.area_code)}", None),
        lambda w: (f"/api/v1/intake/hotline/imports/{_hotline_job(w, w.dep_b.area_code)}", None),
    ),
    # classifier: staff predict (409 without a model); model files are admins' (trusted
    # artefacts); tested in tests/classify
    "POST /api/v1/classifier/predict": Case(
        STAFF, lambda w: ("/api/v1/classifier/predict", {"title": "路灯不亮"})
    ),
    "GET /api/v1/classifier/status": Case(STAFF, lambda w: ("/api/v1/classifier/status", None)),
    "GET /api/v1/classifier/models": Case(ADMIN, lambda w: ("/api/v1/classifier/models", None)),
    "POST /api/v1/classifier/models": Case(
        ADMIN, lambda w: ("/api/v1/classifier/models", None), multipart=True
    ),
    "POST /api/v1/classifier/models/activate": Case(
        ADMIN, lambda w: ("/api/v1/classifier/models/activate", {"model_id": "x"})
    ),
    "POST /api/v1/classifier/models/deactivate": Case(
        ADMIN, lambda w: ("/api/v1/classifier/models/deactivate", None)
    ),
    # routing (权责清单): readers see the list and the accuracy, admins edit their area's
    # lines; tested in tests/routing
    "GET /api/v1/routing/rules": Case(READERS, lambda w: ("/api/v1/routing/rules", None)),
    "POST /api/v1/routing/rules": Case(
        ADMIN,
        lambda w: (
            "/api/v1/routing/rules",
            {
                "category_code": "SJ01",
                "area_code": w.dep_a.area_code,
                "department_id": w.dep_a.id,
            },
        ),
    ),
    "PATCH /api/v1/routing/rules/{rule_id}": Case(
        ADMIN,
        lambda w: (f"/api/v1/routing/rules/{_routing_rule(w, w.dep_a)}", {"note": "改"}),
        lambda w: (f"/api/v1/routing/rules/{_routing_rule(w, w.dep_b)}", {"note": "改"}),
    ),
    "DELETE /api/v1/routing/rules/{rule_id}": Case(
        ADMIN, lambda w: (f"/api/v1/routing/rules/{_routing_rule(w, w.dep_a)}", None)
    ),
    "GET /api/v1/routing/resolve": Case(
        READERS,
        lambda w: (f"/api/v1/routing/resolve?category_code=SJ0101&place_code={w.grid_a}", None),
        lambda w: (f"/api/v1/routing/resolve?category_code=SJ0101&place_code={w.grid_b}", None),
    ),
    "GET /api/v1/routing/accuracy": Case(READERS, lambda w: ("/api/v1/routing/accuracy", None)),
    "GET /api/v1/routing/corrections": Case(
        READERS, lambda w: ("/api/v1/routing/corrections", None)
    ),
    # the dispatcher's final category; other roles holding event:act get 403 from the service
    "POST /api/v1/routing/events/{code}/category": Case(
        frozenset({"dispatcher"}),
        lambda w: (f"/api/v1/routing/events/{_code(w, 'a')}/category", {"category_code": "SJ01"}),
        lambda w: (f"/api/v1/routing/events/{_code(w, 'b')}/category", {"category_code": "SJ01"}),
    ),
}


def _routing_rule(w: World, dep: Any) -> int:
    """A responsibility-list line of `dep`'s district (committed for the server)."""
    from sqlalchemy.orm import object_session

    from shiyu.routing.models import ResponsibilityRule

    session = object_session(w.dep_a)
    assert session is not None
    rule = ResponsibilityRule(
        category_code="SJ01",
        area_code=dep.area_code,
        area_path=dep.area_path,
        level="district",
        basis="territory",
        department_id=dep.id,
    )
    session.add(rule)
    session.commit()
    return rule.id


def _hotline_job(w: World, unit_code: str) -> int:
    """A finished 12345 import job run by the centre of `unit_code` (committed for the server)."""
    from sqlalchemy.orm import object_session

    from shiyu.intake.hotline_models import HotlineImport
    from shiyu.jurisdiction.models import Jurisdiction

    session = object_session(w.dep_a)
    assert session is not None
    unit = session.get(Jurisdiction, unit_code)
    assert unit is not None
    job = HotlineImport(
        mapping_name="appeals",
        source="hotline:appeals",
        file_sha256="0" * 64,
        status="done",
        scope_path=unit.path,
    )
    session.add(job)
    session.commit()
    return job.id


def _warning(w: World, unit_code: str) -> int:
    """A stored surge warning of `unit_code` (committed for the server); one per unit."""
    from datetime import date

    from sqlalchemy import select
    from sqlalchemy.orm import object_session

    from shiyu.jurisdiction.models import Jurisdiction
    from shiyu.warning.models import EarlyWarning

    session = object_session(w.dep_a)
    assert session is not None
    found = session.scalars(select(EarlyWarning).where(EarlyWarning.unit_code == unit_code)).first()
    if found is not None:
        return found.id
    unit = session.get(Jurisdiction, unit_code)
    assert unit is not None
    warning = EarlyWarning(
        kind="surge",
        unit_code=unit.code,
        unit_path=unit.path,
        unit_level=unit.level,
        category_code="*",
        day=date(2025, 3, 29),
        count=9,
        baseline_mean=1.0,
        baseline_var=0.0,
        baseline_days=28,
        model="poisson",
        p_value=1e-6,
        title="测试预警",
        status="open",
        notified=0,
        ack_note="",
    )
    session.add(warning)
    session.commit()
    return warning.id


def _route_keys() -> set[str]:
    """From the OpenAPI document, which lists every route of every included router."""
    paths = create_app().openapi()["paths"]
    return {f"{method.upper()} {path}" for path, ops in paths.items() for method in ops}


def test_every_route_has_an_expected_outcome() -> None:
    routes = _route_keys()
    missing = routes - EXPECTED.keys() - PUBLIC_ROUTES
    stale = EXPECTED.keys() - routes
    assert not missing, f"routes without an entry in the permission matrix: {sorted(missing)}"
    assert not stale, f"matrix entries for routes that no longer exist: {sorted(stale)}"


def _send(client: httpx.Client, key: str, path: str, body: Any, headers: dict[str, str]) -> int:
    method = key.split()[0]
    if EXPECTED[key].multipart:
        resp = client.post(path, files={"file": ("p.png", PNG, "image/png")}, headers=headers)
    else:
        resp = client.request(method, path, json=body, headers=headers)
    assert "error" in resp.json() if resp.status_code >= 400 else True, resp.text
    return resp.status_code


def test_no_token_is_401_on_every_protected_route(client: httpx.Client, world: World) -> None:
    for key, case in EXPECTED.items():
        path, body = case.own(world)
        assert _send(client, key, path, body, {}) == 401, key


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(client: httpx.Client, world: World, role: str) -> None:
    headers = world.headers(client, role)
    # logging out or changing a password revokes the token: run those last
    ordered = sorted(EXPECTED.items(), key=lambda kv: kv[0] == "POST /api/v1/auth/logout")
    for key, case in ordered:
        path, body = case.own(world)
        status = _send(client, key, path, body, headers)
        if role not in case.allowed or case.city_only:
            assert status == 403, f"{role} {key}: expected 403, got {status}"
            continue
        assert status not in (401, 403, 404, 500), f"{role} {key}: got {status}"
        if case.other is not None:
            other_path, other_body = case.other(world)
            other_status = _send(client, key, other_path, other_body, headers)
            expected = 404
            assert other_status == expected, f"{role} {key} other street: got {other_status}"


def test_city_admin_reaches_other_street(client: httpx.Client, world: World) -> None:
    """The other-street requests are not refused for someone whose scope covers them."""
    assert world.city_admin is not None
    from tests.factories.auth import login

    headers = login(client, world.city_admin.username)
    for key, case in EXPECTED.items():
        if case.city_only:
            path, body = case.own(world)
            status = _send(client, key, path, body, headers)
            assert status in (200, 201), f"city admin {key}: {status}"
        if case.other is None or key.startswith("POST"):
            continue
        path, body = case.other(world)
        status = _send(client, key, path, body, headers)
        assert status == 200, f"city admin {key}: {status}"
