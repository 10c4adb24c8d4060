"""The command centre's data API over real HTTP: today's figures move when events are
reported, load per child unit, drill-down scope checks, and the change stream."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

from shiyu.db import Database
from tests.conftest import make_settings
from tests.factories.auth import login
from tests.factories.world import World, create_world
from tests.helpers import server_process

SUMMARY = "/api/v1/dashboard/summary"
LOAD = "/api/v1/dashboard/load"
STREAM = "/api/v1/dashboard/stream"


def _get(client: httpx.Client, headers: dict[str, str], url: str, **params: Any) -> Any:
    resp = client.get(url, params=params, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _report(client: httpx.Client, world: World, headers: dict[str, str], **extra: Any) -> Any:
    lng, lat = world.city.centres[world.grid_a]
    body = {"title": "垃圾满溢", "lng": lng, "lat": lat, **extra}
    resp = client.post("/api/v1/events", json=body, headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_today_figures_count_a_new_report(client: httpx.Client, world: World) -> None:
    leader = world.headers(client, "leader")
    before = _get(client, leader, SUMMARY)
    assert before["scope"]["code"] == world.street_a
    assert before["child_level"] == "community"
    # the world's street-A event was reported and dispatched today; street B's is not counted
    assert before["today"]["received"] == 1
    assert before["today"]["dispatched"] == 1
    assert before["today"]["open"] == 1

    _report(client, world, world.headers(client, "grid_worker"))
    after = _get(client, leader, SUMMARY)
    assert after["today"]["received"] == 2
    assert after["today"]["open"] == 2
    assert after["today"]["dispatched"] == 1
    assert len(after["trend"]) == after["period_days"] == 30
    assert after["trend"][-1]["received"] == 2
    assert {c["key"]: c["count"] for c in after["channels"]} == {"grid_patrol": 2}
    assert sum(c["count"] for c in after["categories"]) == 2


def test_rates_match_the_metrics_report(client: httpx.Client, world: World) -> None:
    headers = world.headers(client, "supervisor")
    body = _get(client, headers, SUMMARY)
    assert set(body["rates"]) == {
        "response_rate",
        "resolution_rate",
        "satisfaction_rate",
        "callbacks",
    }
    assert body["rates"]["callbacks"] == 0 and body["rates"]["satisfaction_rate"] is None
    assert {r["code"] for r in body["ranking"]} == {
        c for c in world.city.communities if c.startswith(world.street_a[:9])
    }


def test_load_per_community_and_markers(client: httpx.Client, world: World) -> None:
    headers = world.headers(client, "dispatcher")
    created = _report(client, world, world.headers(client, "grid_worker"))
    body = _get(client, headers, LOAD)
    assert body["level"] == "community"
    assert sum(i["open"] for i in body["items"]) == 2
    assert body["max_open"] == 2  # both lie in grid A's community
    codes = {m["code"] for m in body["markers"]}
    assert codes == {world.event_a.code, created["code"]} if world.event_a else False
    assert world.event_b is not None and world.event_b.code not in codes

    grids = _get(client, headers, LOAD, level="grid")
    assert {i["code"] for i in grids["items"] if i["open"]} == {world.grid_a}
    limited = _get(client, headers, LOAD, limit=1)
    assert len(limited["markers"]) == 1 and limited["markers_truncated"] is True


def test_drill_down_to_a_grid_and_not_beyond_the_scope(client: httpx.Client, world: World) -> None:
    headers = world.headers(client, "leader")
    grid = _get(client, headers, SUMMARY, jurisdiction=world.grid_a)
    assert grid["scope"]["level"] == "grid" and grid["child_level"] is None
    assert grid["today"]["open"] == 1
    assert _get(client, headers, LOAD, jurisdiction=world.grid_a)["level"] == "grid"

    other = client.get(SUMMARY, params={"jurisdiction": world.street_b}, headers=headers)
    assert other.status_code == 404
    too_high = client.get(LOAD, params={"level": "city"}, headers=headers)
    assert too_high.status_code == 422
    assert too_high.json()["error"]["details"][0]["loc"] == ["query", "level"]
    bad_code = client.get(SUMMARY, params={"jurisdiction": "x<script>"}, headers=headers)
    assert bad_code.status_code == 422
    assert bad_code.json()["error"]["details"][0]["loc"] == ["query", "jurisdiction"]


def test_stream_says_ready_and_a_handler_is_refused(client: httpx.Client, world: World) -> None:
    resp = client.get(STREAM, params={"seconds": 0}, headers=world.headers(client, "leader"))
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert "event: ready" in resp.text
    refused = client.get(STREAM, headers=world.headers(client, "department_handler"))
    assert refused.status_code == 403


def test_map_config_is_public(client: httpx.Client) -> None:
    resp = client.get("/api/v1/public/map-config")
    assert resp.status_code == 200
    assert resp.json() == {"tile_url": "", "tile_attribution": "", "centre": None}


# ---------------------------------------------------------------- a live stream


@pytest.fixture
def served(fresh_database: str) -> Any:
    settings = make_settings(fresh_database)
    db = Database(settings)
    with db.session() as session:
        world = create_world(session, settings)
        session.commit()
        session.expunge_all()
    db.dispose()
    with server_process(fresh_database) as base:
        yield base, world


def _read_events(resp: httpx.Response, found: list[str], stop: threading.Event) -> None:
    try:
        for line in resp.iter_lines():
            if line.startswith("event: "):
                found.append(line[7:])
            if stop.is_set():
                return
    except httpx.HTTPError:
        return


def test_stream_reports_a_change_within_five_seconds(served: Any) -> None:
    base, world = served
    with httpx.Client(base_url=base, timeout=30) as http:
        leader = login(http, "leader_a")
        worker = login(http, "grid_worker_a")
        found: list[str] = []
        stop = threading.Event()
        with http.stream("GET", STREAM, headers=leader) as resp:
            assert resp.status_code == 200
            reader = threading.Thread(target=_read_events, args=(resp, found, stop), daemon=True)
            reader.start()
            deadline = time.monotonic() + 5
            while "ready" not in found and time.monotonic() < deadline:
                time.sleep(0.05)
            assert found == ["ready"]
            with httpx.Client(base_url=base, timeout=30) as other:
                _report(other, world, worker)
            started = time.monotonic()  # the report is committed: the page must know in 5 s
            while "changed" not in found and time.monotonic() - started < 5:
                time.sleep(0.05)
            assert "changed" in found, found
            stop.set()


def test_stream_ends_when_the_server_stops(fresh_database: str) -> None:
    settings = make_settings(fresh_database)
    db = Database(settings)
    with db.session() as session:
        create_world(session, settings)
        session.commit()
    db.dispose()
    found: list[str] = []
    stop = threading.Event()
    with server_process(fresh_database) as base, httpx.Client(base_url=base, timeout=30) as http:
        leader = login(http, "leader_a")
        resp_cm = http.stream("GET", STREAM, headers=leader)
        resp = resp_cm.__enter__()
        reader = threading.Thread(target=_read_events, args=(resp, found, stop), daemon=True)
        reader.start()
        time.sleep(0.5)
        stopped_at = time.monotonic()
    # server_process terminated the server (SIGTERM): the open stream must not keep it alive
    took = time.monotonic() - stopped_at
    reader.join(timeout=5)
    resp_cm.__exit__(None, None, None)
    assert found[:1] == ["ready"]
    assert took < 8, f"shutdown took {took:.1f} s with an open stream"
    assert not reader.is_alive()
