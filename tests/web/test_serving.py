"""`shiyu serve` serves the built web app at / with the history fallback of a single-page app,
while the API, Open311, docs and health keep their paths; without a build, a landing page."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from shiyu.app import create_app
from shiyu.config import Settings
from shiyu.db import Database
from tests.conftest import _free_port, _Server
from tests.helpers import run_cli

INDEX = '<!doctype html><html lang="zh-CN"><title>市域社会治理平台</title><div id="app"></div>'


def _serve(settings: Settings, db: Database) -> Iterator[str]:
    app = create_app(settings, database=db)
    port = _free_port()
    srv = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def built(settings: Settings, db: Database, tmp_path: Path) -> Iterator[str]:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX, encoding="utf-8")
    (dist / "assets" / "index-abc123.js").write_text("console.log(1)", encoding="utf-8")
    (dist / "favicon.ico").write_bytes(b"\x00\x00\x01\x00")
    (tmp_path / "secret.txt").write_text("outside the build", encoding="utf-8")
    yield from _serve(settings.model_copy(update={"web_dist": str(dist)}), db)


@pytest.fixture
def unbuilt(settings: Settings, db: Database, tmp_path: Path) -> Iterator[str]:
    yield from _serve(settings.model_copy(update={"web_dist": str(tmp_path / "none")}), db)


@pytest.mark.parametrize(
    "path", ["/", "/workbench", "/events/SY202611220000001", "/intake/hotline"]
)
def test_app_paths_get_the_index(built: str, path: str) -> None:
    resp = httpx.get(built + path)
    assert resp.status_code == 200
    assert resp.text == INDEX
    assert resp.headers["content-type"].startswith("text/html")
    assert resp.headers["cache-control"] == "no-cache"


def test_hashed_assets_are_cached_for_good(built: str) -> None:
    resp = httpx.get(f"{built}/assets/index-abc123.js")
    assert resp.status_code == 200
    assert resp.text == "console.log(1)"
    assert "immutable" in resp.headers["cache-control"]
    assert httpx.get(f"{built}/favicon.ico").content == b"\x00\x00\x01\x00"


def test_a_missing_asset_is_404_not_the_index(built: str) -> None:
    resp = httpx.get(f"{built}/assets/index-old.js")
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing-here", "/api", "/open311", "/docs/x", "/healthz/x"]
)
def test_server_paths_keep_their_json_404(built: str, path: str) -> None:
    resp = httpx.get(built + path)
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "not_found"


def test_api_docs_and_health_keep_priority(built: str) -> None:
    assert httpx.get(f"{built}/healthz").json()["database"] == "ok"
    assert "paths" in httpx.get(f"{built}/openapi.json").json()
    assert "swagger" in httpx.get(f"{built}/docs").text.lower()
    assert httpx.get(f"{built}/api/v1/auth/me").status_code == 401


def test_no_file_outside_the_build(built: str) -> None:
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt"):
        resp = httpx.get(built + path)
        assert "outside the build" not in resp.text


def test_landing_page_without_a_build(unbuilt: str) -> None:
    resp = httpx.get(unbuilt + "/")
    assert resp.status_code == 200
    assert "市域社会治理平台" in resp.text
    assert 'href="/docs"' in resp.text
    assert httpx.get(unbuilt + "/workbench").status_code == 404


def test_openapi_command_writes_the_document(fresh_database: str, tmp_path: Path) -> None:
    out = tmp_path / "api" / "schema.json"
    done = run_cli(fresh_database, "openapi", "--out", str(out))
    assert done.returncode == 0, done.stderr
    spec = json.loads(out.read_text(encoding="utf-8"))
    assert "/api/v1/events/todo" in spec["paths"]
    printed = run_cli(fresh_database, "openapi")
    assert json.loads(printed.stdout) == spec
