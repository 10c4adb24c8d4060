"""Api clients: the admin API, the CLI, and the demo's client whose key is printed."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from shiyu.app import create_app
from shiyu.db import Database
from shiyu.open311.models import Open311Client
from tests.conftest import _free_port, _Server, make_settings
from tests.factories.world import World
from tests.helpers import run_cli
from tests.open311.conftest import BASE

#: the city without its simulated days of events (not needed here, and slow)
DEMO = {"SHIYU_DEMO_DAYS": "0"}


def _post(client: httpx.Client, key: str, world: World) -> httpx.Response:
    lng, lat = world.city.centres[world.grid_a]
    return client.post(
        f"{BASE}/requests.json",
        data={"api_key": key, "service_code": "BJ0101", "lat": str(lat), "long": str(lng)},
    )


class TestAdminApi:
    def test_create_list_deactivate(
        self, client: httpx.Client, session: Session, world: World
    ) -> None:
        headers = world.headers(client, "admin")
        resp = client.post("/api/v1/open311/clients", json={"name": "fms"}, headers=headers)
        assert resp.status_code == 201, resp.text
        created = resp.json()
        key = created["api_key"]
        assert key.startswith("o311_")
        assert len(key) > 40
        assert created["jurisdiction_code"] == world.dep_a.area_code  # the admin's district
        assert created["key_prefix"] == key[:12]

        row = session.get(Open311Client, created["id"])
        assert row is not None
        assert key not in (row.key_hash, row.key_prefix)  # only a hash is stored
        assert len(row.key_hash) == 64

        listed = client.get("/api/v1/open311/clients", headers=headers).json()
        assert [c["name"] for c in listed] == ["fms"]
        assert "api_key" not in listed[0]
        assert _post(client, key, world).status_code == 201

        off = client.post("/api/v1/open311/clients/fms/deactivate", headers=headers)
        assert off.status_code == 200
        assert off.json()["is_active"] is False
        assert _post(client, key, world).status_code == 403

    def test_bad_input(self, client: httpx.Client, world: World) -> None:
        headers = world.headers(client, "admin")
        bad = client.post("/api/v1/open311/clients", json={"name": "<x>"}, headers=headers)
        assert bad.status_code == 422
        assert bad.json()["error"]["details"][0]["loc"] == ["body", "name"]
        assert (
            client.post("/api/v1/open311/clients", json={"name": "a"}, headers=headers).status_code
            == 201
        )
        again = client.post("/api/v1/open311/clients", json={"name": "a"}, headers=headers)
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "open311.client_exists"
        missing = client.post("/api/v1/open311/clients/zzz/deactivate", headers=headers)
        assert missing.status_code == 404

    def test_audited(self, client: httpx.Client, world: World) -> None:
        headers = world.headers(client, "admin")
        client.post("/api/v1/open311/clients", json={"name": "audited"}, headers=headers)
        records = client.get(
            "/api/v1/audit/records?object_type=open311_client", headers=headers
        ).json()
        actions = [r["action"] for r in records["items"]]
        assert "open311.client_create" in actions


def _scalar(url: str, sql: str) -> object:
    engine = create_engine(url)
    with engine.connect() as conn:
        value = conn.execute(text(sql)).scalar_one()
    engine.dispose()
    return value


@contextmanager
def _serving(url: str) -> Iterator[str]:
    """The app on loopback in this process, over the committed database the CLI writes to
    (quicker to start than `shiyu serve`, which tests/demo already covers)."""
    settings = make_settings(url)
    database = Database(settings)
    server = _Server(
        uvicorn.Config(
            create_app(settings, database=database),
            host="127.0.0.1",
            port=_free_port(),
            log_config=None,
            access_log=False,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        database.dispose()


def test_cli_create_and_deactivate(fresh_database: str) -> None:
    # the city must exist: the demo builds one (and its own client "demo")
    built = run_cli(
        fresh_database, "demo", **DEMO, SHIYU_DEMO_OPEN311_KEY="demo-key-for-the-cli-test"
    )
    assert built.returncode == 0, built.stderr
    assert "demo-key-for-the-cli-test" in built.stdout
    assert "/open311/v2/discovery.json" in built.stdout

    made = run_cli(fresh_database, "open311", "create-client", "partner")
    assert made.returncode == 0, made.stderr
    out = json.loads(made.stdout)
    assert out["name"] == "partner"
    key = out["api_key"]
    assert _scalar(fresh_database, "SELECT count(*) FROM open311_clients") == 2

    dup = run_cli(fresh_database, "open311", "create-client", "partner")
    assert dup.returncode == 1
    bad = run_cli(fresh_database, "open311", "create-client", "bad name!")
    assert bad.returncode == 2

    with _serving(fresh_database) as base, httpx.Client(base_url=base, timeout=60) as http:
        services = http.get(f"{BASE}/services.json").json()
        form = {"service_code": services[0]["service_code"], "lat": "30.58", "long": "114.3"}

        def post(api_key: str) -> int:
            return http.post(f"{BASE}/requests.json", data={**form, "api_key": api_key}).status_code

        assert post(key) == 201
        assert post("demo-key-for-the-cli-test") == 201

        off = run_cli(fresh_database, "open311", "deactivate-client", "partner")
        assert off.returncode == 0, off.stderr
        assert post(key) == 403

        # a second demo run with another key re-keys the demo client
        again = run_cli(
            fresh_database, "demo", **DEMO, SHIYU_DEMO_OPEN311_KEY="another-demo-key-0001"
        )
        assert again.returncode == 0, again.stderr
        assert (post("demo-key-for-the-cli-test"), post("another-demo-key-0001")) == (403, 201)
    assert run_cli(fresh_database, "audit", "verify").returncode == 0
