"""Api clients: the admin API, the CLI, and the demo's client whose key is printed."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from shiyu.open311.models import Open311Client
from tests.factories.world import World
from tests.helpers import run_cli, server_process
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

    with server_process(fresh_database) as base:
        lng, lat = 114.3, 30.58
        services = httpx.get(f"{base}{BASE}/services.json", timeout=60).json()
        form = {"service_code": services[0]["service_code"], "lat": str(lat), "long": str(lng)}
        for api_key in (key, "demo-key-for-the-cli-test"):
            resp = httpx.post(
                f"{base}{BASE}/requests.json", data={**form, "api_key": api_key}, timeout=60
            )
            assert resp.status_code == 201, resp.text
    off = run_cli(fresh_database, "open311", "deactivate-client", "partner")
    assert off.returncode == 0, off.stderr
    assert _scalar(
        fresh_database, "SELECT is_active FROM open311_clients WHERE name='partner'"
    ) in (
        False,
        0,
    )
    # a second demo run with another key re-keys the demo client
    again = run_cli(fresh_database, "demo", **DEMO, SHIYU_DEMO_OPEN311_KEY="another-demo-key-0001")
    assert again.returncode == 0, again.stderr
    with server_process(fresh_database) as base:
        old = httpx.post(
            f"{base}{BASE}/requests.json",
            data={**form, "api_key": "demo-key-for-the-cli-test"},
            timeout=60,
        )
        new = httpx.post(
            f"{base}{BASE}/requests.json",
            data={**form, "api_key": "another-demo-key-0001"},
            timeout=60,
        )
        assert (old.status_code, new.status_code) == (403, 201)
    assert run_cli(fresh_database, "audit", "verify").returncode == 0
