"""Crash safety over real processes. Clients send events with idempotency keys and retry until
acknowledged, as a phone's queue does. When an application process is killed with SIGKILL in
the middle of that load, or the database restarts under it, no acknowledged event is lost, no
key makes two events, the audit chain verifies, and service resumes without manual action."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select

from shiyu.audit import service as audit
from shiyu.db import Database
from shiyu.events.models import Event
from shiyu.migrate import upgrade
from tests.conftest import PG_URL, make_settings
from tests.factories.auth import PASSWORD
from tests.factories.world import World
from tests.helpers import committed_world, free_port, running_server

CLIENTS = 4
PG_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "pg.sh"


def _token(base: str, username: str) -> str:
    resp = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": username, "password": PASSWORD}, timeout=30
    )
    assert resp.status_code == 200, resp.text
    token: str = resp.json()["access_token"]
    return token


class Load:
    """CLIENTS threads reporting events until stopped; each key is retried until answered."""

    def __init__(self, base: str, token: str, point: tuple[float, float]) -> None:
        self.base, self.token, self.point = base, token, point
        self.acknowledged: dict[str, str] = {}  # idempotency key -> event code
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.failures: list[str] = []
        self.threads = [threading.Thread(target=self._client, args=(n,)) for n in range(CLIENTS)]

    def _send(self, key: str, body: dict[str, object]) -> str:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                resp = httpx.post(
                    f"{self.base}/api/v1/events",
                    json=body,
                    headers={"Authorization": f"Bearer {self.token}", "Idempotency-Key": key},
                    timeout=10,
                )
                if resp.status_code in (200, 201):
                    return str(resp.json()["code"])
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{key} was never acknowledged")

    def _client(self, n: int) -> None:
        lng, lat = self.point
        i = 0
        try:
            while not self.stop.is_set():
                key = f"crash-{n}-{i}-{uuid.uuid4().hex[:8]}"
                code = self._send(key, {"title": f"压测上报{n}-{i}", "lng": lng, "lat": lat})
                with self.lock:
                    self.acknowledged[key] = code
                i += 1
        except AssertionError as exc:
            self.failures.append(str(exc))

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def finish(self) -> None:
        """Stop after each client's current key is acknowledged (the server must be up)."""
        self.stop.set()
        for t in self.threads:
            t.join(timeout=200)
        assert not self.failures, self.failures

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + 180
        while len(self.acknowledged) < count:
            assert time.monotonic() < deadline, f"only {len(self.acknowledged)} acknowledged"
            time.sleep(0.05)


def _check(url: str, acknowledged: dict[str, str]) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(
                select(Event.code, Event.external_id).where(Event.source.like("staff:%"))
            ).all()
    finally:
        engine.dispose()
    keys = [external_id for _code, external_id in found]
    # every acknowledged event is there, once; no key made two events; what was written but
    # not acknowledged (the answer died) was found by its retry, not created again
    assert len(keys) == len(set(keys))
    assert set(keys) == set(acknowledged)
    assert {code for code, _ in found} == set(acknowledged.values())
    db = Database(make_settings(url))
    with db.session() as session:
        report = audit.verify(session)
    db.dispose()
    assert report.ok, report


def _grid_worker_load(base: str, world: World) -> Load:
    token = _token(base, world.users["grid_worker"].username)
    return Load(base, token, world.city.centres[world.grid_a])


def test_killed_application_process(fresh_database: str) -> None:
    world = committed_world(fresh_database)
    port = free_port()
    with running_server(fresh_database, port=port) as first:
        load = _grid_worker_load(first.base, world)
        load.start()
        load.wait_for(20)
        os.kill(first.proc.pid, signal.SIGKILL)  # requests are in flight
        first.proc.wait()
        killed_at = len(load.acknowledged)
        # the clients keep retrying on the port; a new process there serves them
        with running_server(fresh_database, port=port):
            load.wait_for(killed_at + 20)
            load.finish()
    _check(fresh_database, load.acknowledged)


@pytest.mark.skipif(not PG_URL, reason="a database server restart is a PostgreSQL matter")
def test_database_restart_under_load() -> None:
    """A PostgreSQL server of its own (the suite's server is shared with other tests)."""
    datadir = tempfile.mkdtemp(prefix="shiyu-pg-restart-")
    pg_port = free_port()
    subprocess.run(["bash", str(PG_SCRIPT), "start", datadir, str(pg_port)], check=True)
    try:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{pg_port}/postgres"
        upgrade(url)
        world = committed_world(url)
        with running_server(url) as server:
            load = _grid_worker_load(server.base, world)
            load.start()
            load.wait_for(20)
            subprocess.run(["bash", str(PG_SCRIPT), "restart", datadir], check=True)
            restarted_at = len(load.acknowledged)
            load.wait_for(restarted_at + 20)
            load.finish()
        _check(url, load.acknowledged)
    finally:
        subprocess.run(["bash", str(PG_SCRIPT), "stop", datadir], check=False)
