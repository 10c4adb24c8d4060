"""Operability: health, OpenAPI, docs, error bodies, request ids, JSON logs."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from shiyu.app import create_app
from shiyu.config import Settings
from shiyu.db import Database
from shiyu.logs import JsonFormatter, request_id_var
from tests.conftest import _free_port, _Server
from tests.factories.world import World


def test_healthz(client: httpx.Client) -> None:
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json()["database"] == "ok"


def test_root_page_in_chinese(client: httpx.Client) -> None:
    # the built web app or, without a build, the landing page (both: tests/web/test_serving.py)
    resp = client.get("/")
    assert resp.status_code == 200
    assert "市域社会治理平台" in resp.text


def test_openapi_and_docs(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/locate" in spec["paths"]
    ids = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/v1/nothing-here", 404, "not_found"),
        ("DELETE", "/api/v1/jurisdictions", 405, "method_not_allowed"),
    ],
)
def test_http_errors_have_the_error_body(
    client: httpx.Client, method: str, path: str, status: int, code: str
) -> None:
    resp = client.request(method, path)
    assert resp.status_code == status
    assert resp.json() == {
        "error": {"code": code, "message": resp.json()["error"]["message"], "details": []}
    }


def test_malformed_json_is_422(client: httpx.Client, world: World) -> None:
    resp = client.post(
        "/api/v1/locate/batch",
        content=b"{not json",
        headers={**world.headers(client, "admin"), "Content-Type": "application/json"},
    )
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "validation_error"


def test_request_id_is_echoed_or_made(client: httpx.Client) -> None:
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"]
        == "abc-123"
    )
    made = client.get("/healthz", headers={"X-Request-ID": "<script>"}).headers["x-request-id"]
    assert made != "<script>"
    assert len(made) == 32


@pytest.fixture
def broken_app(settings: Settings, db: Database) -> Iterator[str]:
    """The real app with one route that fails, served over real HTTP."""
    import threading
    import time

    import uvicorn

    app: FastAPI = create_app(settings, database=db)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    port = _free_port()
    srv = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=5)


def test_unexpected_error_hides_internals(broken_app: str) -> None:
    resp = httpx.get(f"{broken_app}/boom", headers={"X-Request-ID": "rid-500"})
    assert resp.status_code == 500
    body = resp.json()
    assert body["error"]["code"] == "internal_error"
    assert body["error"]["details"] == [{"request_id": "rid-500"}]
    assert "secret" not in resp.text
    assert "Traceback" not in resp.text


def test_json_log_line_carries_request_id() -> None:
    token = request_id_var.set("rid-log")
    try:
        record = logging.LogRecord("shiyu.http", logging.INFO, __file__, 1, "请求", None, None)
        record.status = 200
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["request_id"] == "rid-log"
    assert line["msg"] == "请求"
    assert line["status"] == 200
