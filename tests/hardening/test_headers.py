"""Security headers on every answer, strict CORS, and the OpenAPI document's shared errors."""

from __future__ import annotations

import httpx
import pytest

from shiyu.app import create_app
from shiyu.config import Settings
from shiyu.db import Database
from tests.factories.auth import login
from tests.factories.world import World


def _security_headers(resp: httpx.Response) -> None:
    csp = resp.headers["content-security-policy"]
    for part in (
        "default-src 'self'",
        "img-src 'self' data: blob:",
        "style-src 'self' 'unsafe-inline'",
        "frame-ancestors 'none'",
        "script-src 'self'",
    ):
        assert part in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert resp.headers["x-frame-options"] == "DENY"
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["referrer-policy"] == "no-referrer"


class TestHeaders:
    @pytest.mark.parametrize("path", ["/healthz", "/api/v1/auth/me", "/nope", "/openapi.json"])
    def test_every_answer_carries_them(self, client: httpx.Client, path: str) -> None:
        resp = client.get(path)
        _security_headers(resp)
        assert "strict-transport-security" not in resp.headers  # SHIYU_HTTPS is off

    def test_hsts_when_served_over_https(self, settings: Settings, db: Database) -> None:
        from fastapi.testclient import TestClient

        app = create_app(settings.model_copy(update={"https": True}), database=db)
        with TestClient(app) as c:
            resp = c.get("/healthz")
        assert resp.headers["strict-transport-security"].startswith("max-age=31536000")


class TestCors:
    def test_same_origin_only_by_default(self, client: httpx.Client, world: World) -> None:
        headers = {"Origin": "https://evil.example", **login(client, "admin_a")}
        resp = client.get("/api/v1/auth/me", headers=headers)
        assert resp.status_code == 200
        assert "access-control-allow-origin" not in resp.headers
        pre = client.options(
            "/api/v1/auth/me",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert "access-control-allow-origin" not in pre.headers

    def test_configured_origins_only(self, settings: Settings, db: Database) -> None:
        from fastapi.testclient import TestClient

        allowed = "https://screen.city.example"
        app = create_app(settings.model_copy(update={"cors_origins": [allowed]}), database=db)
        with TestClient(app) as c:
            ok = c.options(
                "/api/v1/auth/me",
                headers={"Origin": allowed, "Access-Control-Request-Method": "GET"},
            )
            other = c.options(
                "/api/v1/auth/me",
                headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
            )
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == allowed
        assert other.status_code == 400
        assert "access-control-allow-origin" not in other.headers


class TestOpenApi:
    def test_shared_errors_are_documented(self, client: httpx.Client) -> None:
        doc = client.get("/openapi.json").json()
        me = doc["paths"]["/api/v1/auth/me"]["get"]["responses"]
        assert {"401", "403"} <= me.keys()
        patch = doc["paths"]["/api/v1/users/{user_id}"]["patch"]["responses"]
        assert {"400", "401", "403", "404", "409", "422"} <= patch.keys()
        ref = patch["422"]["content"]["application/json"]["schema"]["$ref"]
        assert ref == "#/components/schemas/ErrorResponse"
        assert "HTTPValidationError" not in doc["components"]["schemas"]
        upload = doc["paths"]["/api/v1/events/{code}/attachments"]["post"]["responses"]
        assert {"413", "415"} <= upload.keys()

    def test_patch_schema_is_not_nullable_where_the_column_is_not(
        self, client: httpx.Client
    ) -> None:
        schemas = client.get("/openapi.json").json()["components"]["schemas"]
        props = schemas["UserUpdate"]["properties"]
        assert props["is_active"] == {"type": "boolean", "title": "Is Active"}
        assert {"type": "null"} in props["phone"]["anyOf"]

    def test_405_names_every_method_of_the_resource(self, client: httpx.Client) -> None:
        """Fuzzing: Starlette named only the first matching route's methods."""
        resp = client.delete("/api/v1/users/1")
        assert resp.status_code == 405
        assert resp.headers["allow"] == "GET, PATCH"
        literal = client.put("/api/v1/jurisdictions/import")
        assert literal.headers["allow"] == "POST"

    def test_a_literal_path_is_not_the_template_beside_it(self, client: httpx.Client) -> None:
        """Fuzzing: GET /jurisdictions/import was routed to GET /jurisdictions/{code}."""
        resp = client.get("/api/v1/jurisdictions/import")
        assert resp.status_code == 405
        assert resp.headers["allow"] == "POST"
        assert resp.json()["error"]["code"] == "method_not_allowed"
        assert client.post("/api/v1/events/todo").headers["allow"] == "GET"


class TestDatabaseRefusals:
    def test_huge_ids_are_422_not_500(self, client: httpx.Client, world: World) -> None:
        """Fuzzing: an id of 40 digits overflowed SQLite's integer (500)."""
        admin = login(client, "admin_a")
        resp = client.get("/api/v1/users/9608663697766936100408130493480960", headers=admin)
        assert resp.status_code in (404, 422)
        assert resp.json()["error"]["code"] in ("validation_error", "not_found")
