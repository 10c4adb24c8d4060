"""A staff report sent twice with the same client key (the grid worker's offline queue
retrying) makes one event; another key or another user makes another."""

from __future__ import annotations

import httpx

from tests.factories.world import World


def _send(client: httpx.Client, world: World, role: str, key: str | None) -> httpx.Response:
    lng, lat = world.city.centres[world.grid_a]
    body = {"title": "井盖破损", "lng": lng, "lat": lat, "client_key": key}
    return client.post("/api/v1/events", json=body, headers=world.headers(client, role))


def test_same_key_same_event(client: httpx.Client, world: World) -> None:
    first = _send(client, world, "grid_worker", "offline-0001-abcd")
    again = _send(client, world, "grid_worker", "offline-0001-abcd")
    other = _send(client, world, "grid_worker", "offline-0002-abcd")
    assert first.status_code == other.status_code == 201
    assert again.status_code == 200  # a replay answers with the event it made the first time
    assert first.json()["code"] == again.json()["code"] != other.json()["code"]
    no_key = [_send(client, world, "grid_worker", None).json()["code"] for _ in range(2)]
    assert no_key[0] != no_key[1]


def test_key_is_per_user(client: httpx.Client, world: World) -> None:
    mine = _send(client, world, "grid_worker", "shared-key-1234")
    theirs = _send(client, world, "dispatcher", "shared-key-1234")
    assert mine.json()["code"] != theirs.json()["code"]


def test_bad_key_names_the_field(client: httpx.Client, world: World) -> None:
    resp = _send(client, world, "grid_worker", "<bad key>")
    assert resp.status_code == 422
    assert resp.json()["error"]["details"][0]["loc"] == ["body", "client_key"]
