"""Many writers at once on one process: every request is answered. Before writers were
limited per process, 50 concurrent creations on SQLite took every worker thread, the request
holding the write lock could not get a thread to commit, and the process stopped serving."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.factories.auth import PASSWORD
from tests.helpers import committed_world, running_server

WRITERS = 60  # more than the 40 worker threads of a process


def test_more_writers_than_worker_threads(fresh_database: str) -> None:
    world = committed_world(fresh_database)
    lng, lat = world.city.centres[world.grid_a]
    with running_server(fresh_database) as server:
        token = httpx.post(
            f"{server.base}/api/v1/auth/token",
            data={"username": world.users["grid_worker"].username, "password": PASSWORD},
            timeout=30,
        ).json()["access_token"]

        def create(i: int) -> int:
            with httpx.Client(timeout=120) as http:
                return http.post(
                    f"{server.base}/api/v1/events",
                    json={"title": f"并发上报{i}", "lng": lng, "lat": lat},
                    headers={"Authorization": f"Bearer {token}"},
                ).status_code

        with ThreadPoolExecutor(WRITERS) as pool:
            statuses = list(pool.map(create, range(WRITERS)))
        # the server still answers reads and writes afterwards
        assert httpx.get(f"{server.base}/healthz", timeout=10).status_code == 200
    assert statuses == [201] * WRITERS
